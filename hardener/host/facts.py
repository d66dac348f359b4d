"""What the host checks read: the inputs (`inputs.HostInputs`) parsed once into facts, beside the
tables they are judged against. A check takes a `HostFacts` and asks it; it never reads a file or runs
a command, and never parses the docker version capture or daemon.json itself.

- `kernel`, `kernel_label`: the kernel release and the `file` its findings name;
- `versions`: {"engine", "containerd", "runc": version text} from the docker version capture,
  `docker_label`; `authz`: whether the daemon runs authorization plugins (None when unknown);
- `daemon`: a `Daemon` view of daemon.json (`state`, `sure`, `at` for the messages and positions);
- `advisories`, `branches`, `today`: the advisory table, the branch support table and the day the
  branches are judged on.
"""
from __future__ import annotations

import datetime
import json
import re
from dataclasses import dataclass, field

from ..model import Confidence
from .advisories import Advisory, Branches
from .inputs import HostInputs
from .versions import parse_kernel, parse_version

COMPONENT_LABEL = {"kernel": "kernel", "engine": "Docker Engine", "runc": "runc", "containerd": "containerd"}


def component_versions(docker: dict) -> dict[str, str]:
    """{"engine": ..., "containerd": ..., "runc": ...} from a docker version capture."""
    server = docker.get("Server") or {}
    found = {}
    components = server.get("Components")
    for comp in components if isinstance(components, list) else ():
        if isinstance(comp, dict) and isinstance(comp.get("Version"), str):
            name = str(comp.get("Name", "")).lower()
            if name in ("engine", "containerd", "runc"):
                found.setdefault(name, comp["Version"])
    if "engine" not in found and isinstance(server.get("Version"), str):
        found["engine"] = server["Version"]
    return found


def uses_authz(daemon: dict | None) -> bool | None:
    """True/False when the daemon configuration is known, None when it is not."""
    if daemon is None:
        return None
    return bool(daemon.get("authorization-plugins"))


_KEY_AT = "\"{}\"\\s*:"


def _position(text: str, key: str) -> tuple[int, int]:
    """1-based line and column of `"key":` in a daemon.json text, or 1:1 when it is not written."""
    m = re.search(_KEY_AT.format(re.escape(key)), text)
    if not m:
        return 1, 1
    line = text.count("\n", 0, m.start()) + 1
    return line, m.start() - (text.rfind("\n", 0, m.start()) + 1) + 1


@dataclass(frozen=True)
class Daemon:
    """The daemon configuration: `cfg` as parsed (`{}` with `defaults` when no daemon.json exists),
    its `text` and `label` (the `file` of its findings)."""

    cfg: dict
    text: str = ""
    label: str = ""
    defaults: bool = False

    def state(self, key: str) -> str:
        """How a message says what `key` is."""
        if key in self.cfg:
            return f"{key} is {json.dumps(self.cfg[key])}"
        return f"{key} is not set (there is no daemon.json)" if self.defaults else f"{key} is not set in daemon.json"

    def sure(self, key: str) -> Confidence:
        """A key that is not written may still be set by a dockerd command-line flag."""
        return Confidence.HIGH if key in self.cfg else Confidence.MEDIUM

    def at(self, *keys: str) -> dict:
        """`line` and `column` of the first of `keys` daemon.json writes ({} when none is written)."""
        for key in keys:
            if key in self.cfg:
                line, column = _position(self.text, key)
                return {"line": line, "column": column}
        return {}


@dataclass(frozen=True)
class HostFacts:
    inputs: HostInputs
    advisories: tuple[Advisory, ...] = ()
    branches: Branches | None = None
    today: datetime.date | None = None
    versions: dict = field(init=False, compare=False)  # component -> version text ({} without docker)
    daemon: Daemon | None = field(init=False, compare=False)

    def __post_init__(self):
        inputs = self.inputs
        object.__setattr__(self, "versions", component_versions(inputs.docker) if inputs.docker is not None else {})
        object.__setattr__(self, "daemon", None if inputs.daemon is None else
                           Daemon(inputs.daemon, inputs.daemon_text, inputs.daemon_label, inputs.daemon_defaults))

    @property
    def kernel(self) -> str | None:
        return self.inputs.kernel

    @property
    def kernel_label(self) -> str:
        return self.inputs.kernel_label

    @property
    def has_docker(self) -> bool:
        return self.inputs.docker is not None

    @property
    def docker_label(self) -> str:
        return self.inputs.docker_label

    @property
    def authz(self) -> bool | None:
        return uses_authz(self.inputs.daemon)

    # ------------------------------------------------------------------ what the report says was read

    def read(self) -> list[str]:
        """The labels of the inputs that were read, in order (a label once)."""
        inputs = self.inputs
        labels = []
        if inputs.kernel is not None:
            labels.append(inputs.kernel_label)
        if inputs.docker is not None:
            labels.append(inputs.docker_label)
        if inputs.daemon is not None:
            labels.append(inputs.daemon_label)
        return list(dict.fromkeys(labels))

    def checked(self) -> list[str]:
        """What was checked, e.g. "kernel 6.1.0-18-amd64 (host)"."""
        inputs = self.inputs
        out = []
        if inputs.kernel is not None:
            out.append(f"kernel {inputs.kernel} ({inputs.kernel_label})")
        if inputs.docker is not None:
            out.append(", ".join(f"{COMPONENT_LABEL[c]} {self.versions[c]}" for c in ("engine", "containerd", "runc")
                                 if c in self.versions) + f" ({inputs.docker_label})")
        if inputs.daemon is not None:
            out.append(f"daemon settings ({'Docker defaults, ' if inputs.daemon_defaults else ''}"
                       f"{inputs.daemon_label})")
        return out

    def notes(self) -> list[str]:
        """The inputs' notes, then what was read but could not be understood."""
        notes = list(self.inputs.notes)
        if self.inputs.docker is not None:
            if "runc" not in self.versions:
                notes.append("the docker version data lists no runc component (Docker before 19.03?): runc was "
                             "not checked")
            for component, text in self.versions.items():
                if parse_version(text) is None:
                    notes.append(f"could not read the {COMPONENT_LABEL[component]} version {text!r}")
        if self.inputs.kernel is not None and parse_kernel(self.inputs.kernel) is None:
            notes.append(f"could not read the kernel release {self.inputs.kernel!r}: the kernel was not checked")
        return notes
