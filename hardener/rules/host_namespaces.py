"""Keep the container in its own namespaces.

**What it finds.** A service that joins one of the host's namespaces: `pid: host` (high),
`ipc: host`, `userns_mode: host`, `cgroup: host` (medium) or `uts: host` (low).
`network_mode: host` is the network-segmentation rule's concern (NET001) and is not repeated here.

**Why it matters.** Namespaces are what make a container see only itself. With the host's PID
namespace it sees every process on the machine, their command lines and environments under `/proc`,
and can signal them (or, with `SYS_PTRACE`, take them over); the host's IPC namespace exposes shared
memory and semaphores of host processes; `userns_mode: host` turns off user-namespace remapping on a
daemon that uses it, so root in the container is root on the host again; the host's cgroup namespace
shows the whole cgroup tree; the host's UTS namespace lets a container with `SYS_ADMIN` rename the
host. Like privileged mode, each of these removes a boundary the runtime puts up by default instead
of granting a kernel capability, which is why they are filed under attack tree 1.2.3 (privileged
execution) rather than 1.1.2; the dangerous mix of `pid: host` with `SYS_PTRACE` is also raised by
CAP002.

**Example.**

    services:
      exporter:
        image: myorg/exporter
        pid: host
        ipc: host

**Fix.** Removes the key (an end-of-line comment is kept as a comment line), so the service gets a
private namespace again. *Unsafe*. `cgroup: host` is reported only: the few images that ask for it
are monitoring agents that read the host's cgroup tree and are useless without it. Values that come
from a merged mapping or an alias are reported only.

**What may break.** Host monitoring agents (node exporters, cAdvisor, Zabbix or Datadog agents) that
list host processes, software that shares memory with a host process through `ipc: host`, and
containers that must run without user-namespace remapping. Keep the setting for such a service,
give it nothing else (no added capabilities, no writable host mounts) and suppress the finding there.

**References.** CIS Docker Benchmark v1.2.0 sections 5.15 (PID), 5.16 (IPC), 5.20 (UTS), 5.30 (user
namespace); MITRE ATT&CK T1611 (Escape to Host).
"""
from __future__ import annotations

from ..model import Applicability, Confidence, Severity
from ..yamltext import Scalar, deref, remove_entry
from .base import finding, make_fix

ID = "ISO001"
NAME = "host-namespace"
ATTACK_TREE = ("1.2.3",)
SEVERITY = Severity.HIGH
CONFIDENCE = Confidence.HIGH
FIX = Applicability.UNSAFE
OPTIONS: dict = {}

# key -> (severity, what sharing it exposes, whether the fix removes it)
NAMESPACES = {
    "pid": (Severity.HIGH, "process", "every host process becomes visible and can be signalled", True),
    "ipc": (Severity.MEDIUM, "IPC", "host shared memory and semaphores become reachable", True),
    "userns_mode": (Severity.MEDIUM, "user", "user-namespace remapping is off, so container root is host root",
                    True),
    "cgroup": (Severity.MEDIUM, "cgroup", "the host's whole cgroup tree becomes visible", False),
    "uts": (Severity.LOW, "UTS", "the container shares, and may rename, the host's hostname", True),
}


def check(ctx):
    for svc in ctx.services:
        for key, (severity, label, what, fixable) in NAMESPACES.items():
            entry, here = svc.last_value(key)
            if entry is None or not here:
                continue
            node = deref(entry.value)
            if not isinstance(node, Scalar) or node.value.strip() != "host":
                continue
            edit = None
            if fixable and entry.removable:
                edit = remove_entry(ctx.doc, svc.node, key)
            yield finding(__name__, ctx, node, f"service '{svc.name}' shares the host's {label} namespace "
                          f"({key}: host): {what}", service=svc, key_path=("services", svc.name, key),
                          severity=severity, fix=make_fix(FIX, f"remove {key}: host", edit))
