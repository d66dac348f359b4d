"""Do not mount the host's system folders into a container.

**What it finds.** A bind mount whose host side is a sensitive part of the host:
- the path itself or anything under it: `/proc`, `/sys`, `/boot`, `/var/lib/docker` (also containerd's
  and the kubelet's state), `/lib/modules`, `/run/containerd`, the system D-Bus folder;
- the folder itself only: `/`, `/etc`, `/home`, `/root`, `/dev`, `/var/run`, `/run`, `/usr`, `/usr/bin`,
  `/usr/lib`, `/bin`, `/sbin`, `/lib`;
- under `/etc`, the files that matter on their own: `shadow`, `gshadow`, `passwd`, `group`, `sudoers`,
  `ssh/`, `docker/`, `kubernetes/`, `systemd/`, `cron.d/`, `crontab`, `pam.d/`, `ld.so.preload`;
- credential folders and files of a home directory: `~/.ssh`, `~/.aws`, `~/.kube`, `~/.docker`,
  `~/.gnupg`, `~/.azure`, `~/.config/gcloud`, `.netrc`, `.git-credentials`, `.pgpass`.

`/etc`, `/home`, `/root`, `/dev` and `/usr` are matched exactly on purpose: their children are
commonly and harmlessly mounted (`/etc/localtime`, `/etc/ssl/certs`, `/home/me/project`,
`/usr/share/zoneinfo`, `/dev/dri` for a GPU, which the device cgroup governs anyway), while the whole
folder hands over everything in it. The sensitive children are listed by name instead. The Docker
socket is the `docker-daemon-access` rule's (DKR001) finding, not this one's. A mount that a later
file (an override, an `extends`) replaces at the same container path is not judged: Compose keeps
only the later one.

Read-write mounts are reported at the path's full severity; read-only mounts at a lower one, or not at
all where reading is harmless (`/etc/passwd`, `/etc/sudoers`, `systemd`, `cron`). A read-only `/run` or
`/var/run` stays critical: the Docker socket inside works the same when mounted read-only.

**Why it matters.** A writable host folder lets the container change the host directly: add a user
to `/etc/passwd`, a key to `/root/.ssh`, a job to `/etc/cron.d`, a kernel setting under `/proc/sys`, a
module to `/lib/modules`, or another container's files under `/var/lib/docker` (attack tree 2.2.1).
The most sensitive of these give a container as much reach into the host as `privileged: true` does,
without the flag that reviewers look for (attack tree 1.2.3). Read-only still leaks: password hashes,
SSH and cloud keys, other containers' volumes, and every process's command line.

**Example.**

    services:
      agent:
        image: example/agent
        volumes:
          - /:/host
          - /proc:/host/proc
          - ~/.aws:/root/.aws

**Fix.** Adds `:ro` (`ro` joins existing options: `:z` becomes `:ro,z`) or `read_only: true` in long
syntax, *unsafe*: the read-only finding remains where reading is still sensitive. Mounts marked `rw`
explicitly are left as the author wrote them. Better still, mount only the file or folder the
service needs.

**What may break.** Agents that really write to the host (log shippers keeping their position in a
host folder, tools that install kernel modules, backup restores). Monitoring agents such as
node-exporter and cAdvisor only read.

**References.** CIS Docker Benchmark v1.2.0 5.5; OWASP Docker Security Cheat Sheet rule #8; MITRE
ATT&CK T1611 (Escape to Host), T1552.001 (Credentials In Files).
"""
from __future__ import annotations

import posixpath
import re

from .. import knowledge
from ..model import Applicability, Confidence, Severity
from ..syntax import add_ro, resolve
from ..yamltext import add_entries, replace_scalar
from .base import finding, make_fix

ID = "VOL002"
NAME = "sensitive-host-path"
ATTACK_TREE = ("2.2.1", "1.2.3")
SEVERITY = Severity.HIGH
CONFIDENCE = Confidence.HIGH
FIX = Applicability.UNSAFE
OPTIONS: dict = {}


def normalize(source: str) -> str | None:
    """The absolute host path a mount source names ('~' kept), or None when it is relative, a
    volume name, a Windows path or depends on a variable without a default."""
    path = resolve(source.strip())
    if not path or not path.startswith(("/", "~")) or "$" in path:
        return None
    path = re.sub(r"/+", "/", path)
    if path.startswith("/"):
        path = posixpath.normpath(path)
    return path.rstrip("/") or "/"


def classify(path: str):
    """(severity read-write, severity read-only or None, why) for a sensitive host path, or None."""
    if path.startswith("/"):
        best = None
        for root, (subtree, rw, ro, why) in knowledge.SENSITIVE_HOST_PATHS.items():
            if path == root or (subtree and path.startswith(root + "/")):
                if best is None or len(root) > len(best[0]):
                    best = (root, rw, ro, why)
        if best:
            return Severity(best[1]), Severity(best[2]) if best[2] else None, best[3]
    for name, what in knowledge.HOME_CREDENTIALS.items():
        if f"/{name}/" in path + "/":
            return Severity.HIGH, Severity.MEDIUM, what
    return None


def check(ctx):
    for svc in ctx.services:
        # only mounts that survive Compose's merge by target, judged where they are written
        for m in svc.mounts():
            if not m.here:
                continue
            if m.spec is not None:
                if m.windows or len(m.parts) < 2:
                    continue
                new = add_ro(m.spec) if m.editable and not m.explicit else None
                edit = replace_scalar(ctx.doc, m.node, new) if new else None
            elif m.kind == "bind" and m.source is not None and m.target is not None:
                edit = add_entries(ctx.doc, m.node, {"read_only": True}) if m.editable and not m.explicit else None
            else:
                continue
            node, source, target, ro = m.node, m.source, m.target, m.read_only
            path = normalize(source)
            if path is None or knowledge.socket_name(source, target):
                continue
            found = classify(path)
            if found is None:
                continue
            rw_severity, ro_severity, why = found
            label = f"service '{svc.name}' mounts the host's {path} ({why})"
            key_path = ("services", svc.name, "volumes")
            if ro:
                if ro_severity is None:
                    continue
                why_ro = ("read-only does not protect the sockets in it" if ro_severity is rw_severity
                          else "reading it is still sensitive, mount only what the service needs")
                yield finding(__name__, ctx, node, f"{label} read-only; {why_ro}", service=svc, key_path=key_path,
                              severity=ro_severity)
            else:
                yield finding(__name__, ctx, node, f"{label} read-write: the container can change the host "
                              "through it", service=svc, key_path=key_path, severity=rw_severity,
                              fix=make_fix(FIX, "mount read-only", edit))
