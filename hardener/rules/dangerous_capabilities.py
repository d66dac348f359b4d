"""Do not add the Linux capabilities that open the way out of a container.

**What it finds.** `cap_add` entries that give a container powers over the kernel or the host:
`ALL`, `SYS_ADMIN`, `SYS_MODULE` (critical); `SYS_PTRACE`, `DAC_READ_SEARCH`, `SYS_RAWIO`, `BPF`,
`MAC_ADMIN`, `MAC_OVERRIDE` (high); `NET_ADMIN`, `PERFMON`, `SYS_BOOT`, `SYS_TIME` (medium). Names
are matched in any letter case, with or without the `CAP_` prefix. `SYS_PTRACE` next to `pid: host`
and `NET_ADMIN` next to `network_mode: host` count one level higher, because they then reach the
host's own processes or network stack.

**Why it matters.** Docker's default capability set is chosen so that root in a container cannot
administer the machine. Each capability above hands back a piece of that: `SYS_ADMIN` allows mounts
and many namespace operations (the well-known cgroup release-agent escape relies on it), `SYS_MODULE`
loads code into the host kernel, `DAC_READ_SEARCH` lets `open_by_handle_at` open host files by handle
(the "Shocker" escape), `SYS_PTRACE` attaches to other processes, `SYS_RAWIO` and `BPF` touch kernel memory and
tracing, `MAC_ADMIN`/`MAC_OVERRIDE` bypass AppArmor or SELinux, `NET_ADMIN` reconfigures interfaces
and firewall rules, `SYS_TIME` changes the host clock for everyone (attack tree 1.1.2, 5.2.1).

**Example.**

    services:
      tools:
        image: myorg/tools
        cap_add:
          - SYS_ADMIN
          - NET_BIND_SERVICE

**Fix.** Removes the entry from the list: its whole line in a block list (an end-of-line comment is
kept as a comment line at the same indentation), or the item and one comma in a flow list
(`[SYS_ADMIN, CHOWN]` becomes `[CHOWN]`). A list is never emptied: when every entry of `cap_add` is
one of the capabilities above, nothing is removed (once `cap-drop-all` has added the capabilities a
known image needs, a later pass can remove the others). Lists that come from a merged mapping or an
alias, and items written through an alias, are reported without a fix. The fix is *unsafe*.

**Images whose root entrypoint needs to look into a private data folder.** The entrypoints of
postgres (and its derivatives), mysql and mariadb start as root and hand their data folder to the
database's own user (`find "$PGDATA" ! -user postgres -exec chown ...`). That folder is private to
that user (PGDATA is 0700), so after `cap_drop: [ALL]` root can only look inside with
`DAC_READ_SEARCH` or `DAC_OVERRIDE`: a hand-picked `cap_add` with `DAC_READ_SEARCH` is how such a file
often makes the database start, and removing it stops the database at its next start. For these
images (`root_chowns` in `hardener/data/images.json`, with the entrypoint as source) the fix replaces
`DAC_READ_SEARCH` by `DAC_OVERRIDE` instead (*unsafe*, like every change here): `DAC_OVERRIDE` lets
root open the folder too, is in Docker's default set, and does not allow `open_by_handle_at`, the call
behind the escape. When the service keeps `DAC_OVERRIDE` anyway (listed in `cap_add`, or not dropped
by `cap_drop`), `DAC_READ_SEARCH` is only removed, and the message says why that is enough.

**What may break.** Tools that really need the capability: VPN clients and routers (`NET_ADMIN`),
WireGuard on old kernels (`SYS_MODULE`), debuggers and profilers (`SYS_PTRACE`, `PERFMON`, `BPF`),
FUSE file systems (`SYS_ADMIN`), NTP daemons (`SYS_TIME`). Where the need is real, keep the entry and
suppress the finding for that service; run such a service as an unprivileged user with no other
added capability, and never combine it with host namespaces.

**References.** CIS Docker Benchmark v1.2.0 section 5.3; OWASP Docker Security Cheat Sheet rule #3;
MITRE ATT&CK T1611 (Escape to Host), T1068 (Exploitation for Privilege Escalation).
"""
from __future__ import annotations

from ..model import Applicability, Confidence, Severity
from ..images import facts
from ..views import flagged_items
from ..yamltext import Alias, deref, replace_scalar
from .base import finding, make_fix

ID = "CAP002"
NAME = "dangerous-capability"
ATTACK_TREE = ("1.1.2", "5.2.1")
SEVERITY = Severity.CRITICAL
CONFIDENCE = Confidence.HIGH
FIX = Applicability.UNSAFE
OPTIONS: dict = {}

# capability -> (severity, what it lets a compromised container do)
DANGEROUS = {
    "ALL": (Severity.CRITICAL, "every capability, as good as privileged mode"),
    "SYS_ADMIN": (Severity.CRITICAL, "mounts and namespace operations, the usual way out of a container"),
    "SYS_MODULE": (Severity.CRITICAL, "loading modules into the host kernel"),
    "SYS_PTRACE": (Severity.HIGH, "attaching to and injecting code into other processes"),
    "DAC_READ_SEARCH": (Severity.HIGH, "reading any host file through open_by_handle_at"),
    "SYS_RAWIO": (Severity.HIGH, "raw I/O ports and kernel memory access"),
    "BPF": (Severity.HIGH, "loading BPF programs into the kernel"),
    "MAC_ADMIN": (Severity.HIGH, "changing the AppArmor/SELinux policy"),
    "MAC_OVERRIDE": (Severity.HIGH, "bypassing the AppArmor/SELinux policy"),
    "NET_ADMIN": (Severity.MEDIUM, "reconfiguring interfaces, routes and firewall rules"),
    "PERFMON": (Severity.MEDIUM, "kernel performance monitoring that leaks host activity"),
    "SYS_BOOT": (Severity.MEDIUM, "rebooting or loading a new kernel"),
    "SYS_TIME": (Severity.MEDIUM, "setting the host's clock"),
}
_ORDER = (Severity.LOW, Severity.MEDIUM, Severity.HIGH, Severity.CRITICAL)


def capability_name(text: str) -> str:
    """A capability as Docker understands it: upper case, without the CAP_ prefix."""
    name = text.strip().upper()
    return name[4:] if name.startswith("CAP_") else name


def _raise(severity: Severity) -> Severity:
    return _ORDER[min(_ORDER.index(severity) + 1, len(_ORDER) - 1)]


def check(ctx):
    for svc in ctx.services:
        for item, cap, edit in flagged_items(ctx.doc, svc, "cap_add", _dangerous):
            severity, what = DANGEROUS[cap]
            if (cap == "SYS_PTRACE" and svc.value("pid") == "host") or \
                    (cap == "NET_ADMIN" and svc.value("network_mode") == "host"):
                severity = _raise(severity)
            written = deref(item).value.strip()
            message, description = f"service '{svc.name}' adds capability {cap}: {what}", f"remove {cap} from cap_add"
            private = _private_data(svc) if cap == "DAC_READ_SEARCH" else None
            if private is not None:
                message += (f"; the entrypoint of {svc.image_name()} starts as root and changes the owner of what is in "
                            f"its data folder ({private}), which only the database's user may open: root needs "
                            "DAC_READ_SEARCH or DAC_OVERRIDE to look inside")
                if _keeps_dac_override(svc):
                    message += ": the service keeps DAC_OVERRIDE, which is enough"
                else:
                    message += (": swap it for DAC_OVERRIDE, in Docker's default set and without open_by_handle_at "
                                "(removing it would stop the database at its next start)")
                    edit, description = _swap(ctx, svc, item), f"replace {cap} by DAC_OVERRIDE in cap_add"
            yield finding(__name__, ctx, deref(item), message,
                          service=svc, key_path=("services", svc.name, "cap_add", written), severity=severity,
                          fix=make_fix(FIX, description, edit))


def _private_data(svc) -> str | None:
    """The private data folder the image's root entrypoint hands to its user (images.json
    `root_chowns`), when the service starts as root the way the image does; else None."""
    known = facts(svc.image_name())
    if known is None or known.root_chowns is None or known.default_non_root:
        return None
    user = svc.value("user")
    if user is not None and user.strip().split(":")[0] not in ("", "0", "root"):
        return None  # started as another user, the entrypoint does not change owners
    return known.root_chowns


def _keeps_dac_override(svc) -> bool:
    dropped = svc.capabilities("cap_drop")
    return "DAC_OVERRIDE" in svc.capabilities("cap_add") or not ({"ALL", "DAC_OVERRIDE"} & dropped)


def _swap(ctx, svc, item):
    """The edit writing DAC_OVERRIDE in place of the item (in the writer's spelling: CAP_ prefix, case)."""
    entry = svc.written_here("cap_add")
    if entry is None or not entry.editable or isinstance(item, Alias):
        return None
    node = deref(item)
    text = node.value.strip()
    new = (text[:4] if text.upper().startswith("CAP_") else "") + "DAC_OVERRIDE"
    return replace_scalar(ctx.doc, node, new.lower() if text.islower() else new)


def _dangerous(text: str) -> str | None:
    cap = capability_name(text)
    return cap if cap in DANGEROUS else None
