"""Reading the host: what the checks are judged on, either asked of this machine (`collect_live`:
`docker version`, /etc/docker/daemon.json, the running kernel) or read from files and a kernel release
given on the command line (`load_offline`). Nothing here judges anything: the result is a
`HostInputs`, with errors (an input that could not be read) and notes (what was not checked, and why)
in plain words.

- `docker version --format '{{json .}}'`: Engine, containerd and runc (`Server.Components`) and the
  daemon host's kernel (`Server.KernelVersion`);
- the daemon configuration, `/etc/docker/daemon.json`;
- a kernel release as `uname -r` prints it.
"""
from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
from dataclasses import dataclass

HOST = "host"  # the `file` of findings that come from this machine rather than from a file
DAEMON_JSON = "/etc/docker/daemon.json"
DOCKER_TIMEOUT = 20.0  # seconds for `docker version`; a daemon behind a dead TCP link can hang it


@dataclass(frozen=True)
class HostInputs:
    """What could be read about the host. `*_label` is the `file` of the findings made from each input
    (a path, or "host" for something asked of this machine)."""

    docker: dict | None = None  # parsed `docker version --format '{{json .}}'` with a Server part
    docker_label: str = HOST
    daemon: dict | None = None  # parsed daemon.json ({} when Docker's defaults apply)
    daemon_label: str = DAEMON_JSON
    daemon_text: str = ""
    daemon_defaults: bool = False  # no daemon.json exists: the daemon runs on its defaults
    kernel: str | None = None
    kernel_label: str = HOST
    errors: tuple[tuple[str, str], ...] = ()  # (path, "line:col: message") of inputs that failed
    notes: tuple[str, ...] = ()

    @property
    def read_anything(self) -> bool:
        return self.docker is not None or self.daemon is not None or self.kernel is not None


def _json_object(text: str):
    """The JSON object in `text`; `docker version` output may be followed by an error line. JSON
    nested deeper than Python's stack is no usable capture (None)."""
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        pass
    for line in text.splitlines():
        if line.lstrip().startswith("{"):
            try:
                return json.loads(line)
            except (ValueError, RecursionError):
                continue
    return None


MAX_INPUT_BYTES = 1024 * 1024  # a docker version capture or a daemon.json is a few KB


def _read_text(path: str) -> str:
    """The text of an input file, a pipe (/dev/stdin) included; at most MAX_INPUT_BYTES, so that a
    device such as /dev/zero cannot make the read endless. A folder is refused."""
    if os.path.isdir(path):
        raise IsADirectoryError(21, "a folder, not a file", path)
    with open(path, "rb") as fh:
        data = fh.read(MAX_INPUT_BYTES + 1)
    if len(data) > MAX_INPUT_BYTES:
        raise OSError(27, f"larger than {MAX_INPUT_BYTES // 1024} KB: not a docker version capture or daemon.json")
    return data.decode("utf-8-sig", errors="replace")


def _docker_version_from(text: str, where: str, notes: list) -> tuple[dict | None, str | None]:
    """(data, error) for a docker version capture; a capture without a Server part only adds a note."""
    data = _json_object(text)
    if not isinstance(data, dict) or not ({"Client", "Server"} & data.keys()):
        return None, "1:1: not the output of docker version --format '{{json .}}'"
    if not isinstance(data.get("Server"), dict):
        notes.append(f"{where} has no Server part (the daemon did not answer when it was captured); "
                     "Docker Engine and runc were not checked")
        return None, None
    return data, None


def _daemon_from(text: str) -> tuple[dict | None, str | None]:
    try:
        data = json.loads(text) if text.strip() else {}
    except json.JSONDecodeError as exc:
        return None, f"{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}"
    except RecursionError:
        return None, "1:1: not valid JSON: nested too deep"
    if not isinstance(data, dict):
        return None, "1:1: daemon.json must hold a JSON object"
    return data, None


def load_offline(docker_version: str | None = None, daemon_config: str | None = None,
                 kernel: str | None = None) -> HostInputs:
    """Inputs from files and a kernel release; nothing is asked of this machine."""
    notes: list[str] = []
    errors: list[tuple[str, str]] = []
    docker = daemon = None
    daemon_text = ""
    kernel_label = HOST
    if docker_version is not None:
        try:
            docker, error = _docker_version_from(_read_text(docker_version), docker_version, notes)
        except OSError as exc:
            error = f"1:1: {exc.strerror or exc}"
        if error:
            errors.append((docker_version, error))
    else:
        notes.append("no --docker-version file: Docker Engine and runc were not checked")
    if daemon_config is not None:
        try:
            daemon_text = _read_text(daemon_config)
            daemon, error = _daemon_from(daemon_text)
        except OSError as exc:
            error = f"1:1: {exc.strerror or exc}"
        if error:
            errors.append((daemon_config, error))
    else:
        notes.append("no --daemon-config file: daemon settings were not checked")
    if kernel is None and docker is not None and docker["Server"].get("KernelVersion"):
        kernel, kernel_label = str(docker["Server"]["KernelVersion"]), docker_version
    if kernel is None:
        notes.append("no kernel release (--kernel, or KernelVersion in the docker version file): "
                     "the kernel was not checked")
    return HostInputs(docker, docker_version or HOST, daemon, daemon_config or DAEMON_JSON, daemon_text,
                      False, kernel, kernel_label, tuple(errors), tuple(notes))


def collect_live(*, which=shutil.which, run=subprocess.run, daemon_path: str = DAEMON_JSON,
                 release=platform.release, system=platform.system,
                 timeout: float = DOCKER_TIMEOUT) -> HostInputs:
    """Inputs from this machine: `docker version`, daemon.json and the running kernel. The callables
    are parameters so tests can stand in for a machine."""
    notes: list[str] = []
    errors: list[tuple[str, str]] = []
    docker = _live_docker(which, run, timeout, notes)

    daemon, daemon_text, defaults = None, "", False
    try:
        daemon_text = _read_text(daemon_path)
    except FileNotFoundError:
        if docker is not None:
            daemon, defaults = {}, True
            notes.append(f"no {daemon_path}: checked Docker's default daemon settings (options given to "
                         "dockerd on its command line, for example in its systemd unit, are not seen)")
        else:
            notes.append(f"no {daemon_path} and no Docker daemon answered: daemon settings were not checked")
    except OSError as exc:
        notes.append(f"could not read {daemon_path} ({exc.strerror or exc}): daemon settings were not "
                     "checked; run as root or pass --daemon-config")
    else:
        daemon, error = _daemon_from(daemon_text)
        if error:
            errors.append((daemon_path, error))

    kernel = None
    reported = docker["Server"].get("KernelVersion") if docker is not None else None
    local = release() if system() == "Linux" else None
    if reported:
        kernel = str(reported)
        if local and local != kernel:
            notes.append(f"the Docker daemon reports kernel {kernel} but this machine runs {local} "
                         "(DOCKER_HOST points elsewhere?); checked the daemon's kernel")
    elif local:
        kernel = local
    else:
        notes.append(f"this machine runs {system() or 'an unknown system'}, not Linux, and no Docker daemon "
                     "reported its kernel: the kernel was not checked")
    return HostInputs(docker, HOST, daemon, daemon_path, daemon_text, defaults, kernel, HOST,
                      tuple(errors), tuple(notes))


def _live_docker(which, run, timeout: float, notes: list) -> dict | None:
    exe = which("docker")
    if not exe:
        notes.append("docker not found: no `docker` command on PATH, so Docker Engine and runc were not "
                     "checked (pass --docker-version FILE to check a capture)")
        return None
    try:
        proc = run([exe, "version", "--format", "{{json .}}"], capture_output=True, text=True,
                   errors="replace", timeout=timeout)
    except subprocess.TimeoutExpired:
        notes.append(f"`docker version` did not answer within {timeout:g} s: Docker Engine and runc were "
                     "not checked")
        return None
    except OSError as exc:
        notes.append(f"could not run {exe} ({exc.strerror or exc}): Docker Engine and runc were not checked")
        return None
    data = _json_object(proc.stdout or "")
    if isinstance(data, dict) and isinstance(data.get("Server"), dict):
        return data
    reason = next((line.strip() for line in (proc.stderr or "").splitlines() if line.strip()),
                  f"exit status {proc.returncode}")
    notes.append(f"the Docker daemon did not answer `docker version` ({reason}): Docker Engine and runc "
                 "were not checked")
    return None
