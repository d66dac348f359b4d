"""Do not run a service in privileged mode.

**What it finds.** A service with `privileged: true`, in any spelling Docker Compose reads as true:
`true`, `True`, `yes`, `on`, `y` in any letter case, quoted or not.

**Why it matters.** Privileged mode switches off almost every wall between the container and the host
at once: the container gets every Linux capability, every host device node under `/dev`, no seccomp
filter, no AppArmor or SELinux confinement, and writable `/proc` and `/sys` trees. Root inside such a
container can mount the host's disks, load kernel modules or hijack a cgroup release agent, so getting
out is a matter of a few shell commands rather than an exploit (attack tree 1.2.3).

**Example.**

    services:
      agent:
        image: myorg/agent
        privileged: true

**Fix.** Removes the `privileged` line; an end-of-line comment on it stays behind as a comment line.
When the flag comes from a merged mapping (`<<: *defaults`), the shared mapping is left alone and the
service gets its own `privileged: false`, which overrides it. In a flow mapping
(`{image: x, privileged: true}`) the value is set to `false`. The fix is *unsafe*: it takes away
something the author asked for.

When `privileged: true` is written in a read-only file (`read-only`, `--read-only`), the
finding stays there without a fix and the service's entry in the last file that may be written gets
`privileged: false`, which wins Compose's merge (also *unsafe*).

**What may break.** Whatever the container used privileged mode for: Docker-in-Docker, mounting file
systems, VPN and firewall tooling, hardware access, host monitoring agents. Give back only the piece
that is needed, for example `cap_add: [NET_ADMIN]` and `devices: [/dev/net/tun]` for a VPN client;
the capability and device rules (CAP001, CAP002, ISO003) then judge what was given back.

**References.** CIS Docker Benchmark v1.2.0 section 5.4; OWASP Docker Security Cheat Sheet rule #3;
MITRE ATT&CK T1611 (Escape to Host).
"""
from __future__ import annotations

from ..model import Applicability, Confidence, Severity
from ..views import boolean
from ..yamltext import Verbatim, add_entries, deref, remove_entry, replace_scalar
from .base import finding, make_fix

ID = "PRV001"
NAME = "privileged-container"
ATTACK_TREE = ("1.2.3",)
SEVERITY = Severity.CRITICAL
CONFIDENCE = Confidence.HIGH
FIX = Applicability.UNSAFE
OPTIONS: dict = {}

def check(ctx):
    for svc in ctx.services:
        entry, here = svc.last_value("privileged")
        message = (f"service '{svc.name}' runs privileged: it gets every capability and host device and no "
                   "seccomp/AppArmor confinement")
        path = ("services", svc.name, "privileged")
        locked = svc.locked_value("privileged")
        if locked is not None and boolean(locked.value) is True:
            yield finding(__name__, ctx, svc.key, message, read_only=True, service=svc, key_path=path,
                          fix=make_fix(FIX, "override privileged: true with privileged: false",
                                       add_entries(ctx.doc, svc.node, {"privileged": False})))
            continue
        if entry is None or not here:
            continue  # unset, or written in another file or base and reported there
        value = entry.value
        if boolean(value) is not True:
            continue
        yield finding(__name__, ctx, deref(value), message, service=svc, key_path=path,
                      fix=_fix(ctx, svc, entry))


def _fix(ctx, svc, entry):
    if svc.shared:
        return None  # the whole service is an alias: the service that owns the mapping gets the fix
    if not entry.own:
        return make_fix(FIX, "override the merged privileged: true with privileged: false",
                        add_entries(ctx.doc, svc.node, {"privileged": False}))
    if not entry.removable:
        return None  # other nodes refer to this very scalar
    edit = remove_entry(ctx.doc, svc.node, "privileged")
    if edit is not None:
        return make_fix(FIX, "remove privileged: true", edit)
    if not entry.editable:
        return None  # an alias
    return make_fix(FIX, "set privileged to false", replace_scalar(ctx.doc, entry.value, Verbatim("false")))
