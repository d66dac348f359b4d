"""Drop every Linux capability, then add back only what the service needs.

**What it finds.** A service whose `cap_drop` does not contain `ALL`.

**Why it matters.** Docker starts containers with a default set of about fourteen capabilities
(CHOWN, DAC_OVERRIDE, FOWNER, SETUID, SETGID, NET_RAW, MKNOD, ...). A process that gets code execution
inside the container can use them: NET_RAW for spoofing on the network, DAC_OVERRIDE to read files it
does not own, MKNOD and the others to widen a kernel exploit's reach. Dropping all of them shrinks
what a compromised process can do to what the application really needs (attack tree 1.1.2, 5.2.1).

**Example.**

    services:
      web:
        image: nginx

**Fix.** Adds `cap_drop: [ALL]` (or appends `ALL` to an existing `cap_drop` list). Entries in
`cap_add` are kept, so capabilities the author added on purpose stay.

For images hardener knows (`hardener/data/images.json`: nginx, postgres and its derivatives, mysql,
mariadb, redis, mongo, rabbitmq, traefik, caddy, grafana, prometheus, bitnami images...), the fix also
adds the capabilities the image's start-up needs to `cap_add` (for example CHOWN, SETUID and SETGID
for an entrypoint that fixes data ownership and then switches user). An image that starts as root
and bind-mounts files from the host also keeps DAC_OVERRIDE: root without it cannot open a host
file it does not own, such as Traefik's `acme.json` created with mode 600 as its documentation
says (sockets such as `docker.sock` do not count: root owns them).

The fix is *unsafe*, also for known images: what a service needs depends on the files it is given
(their owners and modes) and on its configuration, which the image's profile cannot know. Base
images (alpine, busybox, debian, python, node...) get no capabilities back: what they need is what
their command does.

When the `cap_drop` list is written in a read-only file, the finding stays there without a fix
and the last file that may be written gets `cap_drop: [ALL]` (or `ALL` appended to its own list):
Compose appends the lists of all files.

**What may break.** Start-up steps that need a capability: an entrypoint that starts as root and
then switches user or changes file ownership needs CHOWN, SETUID, SETGID, DAC_OVERRIDE or
NET_BIND_SERVICE back in `cap_add`; an init container that runs `chown` needs CHOWN.

**References.** OWASP Docker Security Cheat Sheet rule #3 (limit capabilities); CIS Docker Benchmark, "Ensure that Linux kernel capabilities are restricted within containers"; MITRE ATT&CK T1611 (Escape to Host).
"""
from __future__ import annotations

from ..model import Applicability, Confidence, Severity
from ..syntax import is_bind_source
from ..yamltext import Seq, add_entries, add_items
from .base import finding, make_fix

ID = "CAP001"
NAME = "cap-drop-all"
ATTACK_TREE = ("1.1.2", "5.2.1")
SEVERITY = Severity.HIGH
CONFIDENCE = Confidence.HIGH
FIX = Applicability.UNSAFE
OPTIONS: dict = {}


def _own_seq(svc, written):
    """The sequence of a layer written in place in this service's mapping (not an alias, not merged)."""
    value = written.value if written is not None and written.editable else None
    return value if isinstance(value, Seq) else None


def _host_files(svc) -> bool:
    """Whether the service bind-mounts files or folders from the host (sockets aside)."""
    for mount in svc.mounts():
        source = mount.source or ""
        bind = mount.kind == "bind" if mount.kind is not None else is_bind_source(source)
        if bind and not source.rstrip("/").endswith(".sock"):
            return True
    return False


def _wanted(known, svc) -> tuple[list[str], str]:
    """(capabilities the image's start-up needs, why DAC_OVERRIDE was added or '')."""
    wanted = list(known.cap_add)
    runs_as_root = known.drops_privileges or not known.default_non_root
    if runs_as_root and svc.user().name in ("", "0", "root") and "DAC_OVERRIDE" not in wanted and _host_files(svc):
        return wanted + ["DAC_OVERRIDE"], (" (DAC_OVERRIDE: root opens bind-mounted host files it does not own, "
                                          "such as an acme.json of mode 600)")
    return wanted, ""


def check(ctx):
    for svc in ctx.services:
        # Compose appends cap_drop and cap_add across files and bases: ALL anywhere counts
        drops = svc.written("cap_drop")
        if "ALL" in svc.capabilities("cap_drop"):
            continue
        locked = bool(drops) and svc.overrides(drops[0])
        if drops and not drops[0].here and not locked:
            continue  # reported and fixed where the first list is written (the base, an earlier file)
        # over a read-only file's list, this mapping's own list gets ALL: Compose appends the lists
        mine = svc.written_here("cap_drop")
        edits = []
        if mine is None:
            edits.append(add_entries(ctx.doc, svc.node, {"cap_drop": ["ALL"]}))
        else:
            edits.append(add_items(ctx.doc, _own_seq(svc, mine), ["ALL"]) if _own_seq(svc, mine) else None)
        known = svc.profile()
        needed, why = [], ""
        if known is not None:
            adds = svc.written("cap_add")
            present = svc.capabilities("cap_add")
            wanted, why = _wanted(known, svc)
            needed = [c for c in wanted if c not in present and "ALL" not in present]
            why = why if "DAC_OVERRIDE" in needed else ""
            here = svc.written_here("cap_add")
            if needed and not adds:
                edits.append(add_entries(ctx.doc, svc.node, {"cap_add": needed}))
            elif needed:
                edits.append(add_items(ctx.doc, _own_seq(svc, here), needed) if _own_seq(svc, here) else None)
        description = "add ALL to cap_drop" + (f" and {', '.join(needed)} to cap_add" if needed else "") + why
        measured = known.why("cap_add") if known is not None else None
        if known is not None and known.cap_add_works is False:
            # probed: the service did not work with these: no fix, what it showed instead
            yield finding(__name__, ctx, mine.key if mine else svc.key, f"service '{svc.name}' keeps Docker's "
                          f"default capabilities; {measured}: add back what it needs by hand",
                          service=svc, key_path=("services", svc.name, "cap_drop"))
            continue
        where = mine.key if mine else svc.key
        yield finding(__name__, ctx, where, f"service '{svc.name}' keeps Docker's default capabilities; "
                      "drop them all with cap_drop: [ALL] and add back only what it needs"
                      + (f"; cap_add {', '.join(known.cap_add) or 'nothing'}: {measured}" if measured else ""),
                      read_only=locked, service=svc, key_path=("services", svc.name, "cap_drop"),
                      fix=make_fix(FIX, description, *edits))
