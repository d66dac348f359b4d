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

For images hardener knows (`hardener/data/images.json`: nginx, postgres, mysql, mariadb, redis,
mongo, rabbitmq, traefik, caddy, grafana, prometheus, bitnami images...), the fix also adds the
capabilities the image's start-up needs to `cap_add` (for example CHOWN, SETUID and SETGID for an
entrypoint that fixes data ownership and then switches user), and it is *safe*.

When the `cap_drop` list is written in a read-only file, the finding stays there without a fix
and the last file that may be written gets `cap_drop: [ALL]` (or `ALL` appended to its own list):
Compose appends the lists of all files.

**What may break.** For an image hardener does not know, start-up steps that need a capability: an
entrypoint that starts as root and then switches user or changes file ownership needs CHOWN, SETUID,
SETGID, DAC_OVERRIDE or NET_BIND_SERVICE back in `cap_add`. That is why the fix is *unsafe* for
unknown images: it runs with `--unsafe-fixes`.

**References.** OWASP Docker Security Cheat Sheet rule #3 (limit capabilities); CIS Docker Benchmark, "Ensure that Linux kernel capabilities are restricted within containers"; MITRE ATT&CK T1611 (Escape to Host).
"""
from __future__ import annotations

from ..model import Applicability, Confidence, Severity
from ..yamltext import Seq, add_entries, add_items
from .base import IN_READ_ONLY, finding, make_fix

ID = "CAP001"
NAME = "cap-drop-all"
ATTACK_TREE = ("1.1.2", "5.2.1")
SEVERITY = Severity.HIGH
CONFIDENCE = Confidence.HIGH
FIX = Applicability.SAFE  # safe for images with a profile, unsafe otherwise
OPTIONS: dict = {}


def _own_seq(svc, written):
    """The sequence of a layer written in place in this service's mapping (not an alias, not merged)."""
    value = written.value if written is not None and written.editable else None
    return value if isinstance(value, Seq) else None


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
        needed = []
        if known is not None:
            adds = svc.written("cap_add")
            present = svc.capabilities("cap_add")
            needed = [c for c in known.cap_add if c not in present and "ALL" not in present]
            here = svc.written_here("cap_add")
            if needed and not adds:
                edits.append(add_entries(ctx.doc, svc.node, {"cap_add": needed}))
            elif needed:
                edits.append(add_items(ctx.doc, _own_seq(svc, here), needed) if _own_seq(svc, here) else None)
        safety = Applicability.SAFE if known is not None else Applicability.UNSAFE
        description = "add ALL to cap_drop" + (f" and {', '.join(needed)} to cap_add" if needed else "")
        where = mine.key if mine else svc.key
        yield finding(__name__, ctx, where, f"service '{svc.name}' keeps Docker's default capabilities; "
                      "drop them all with cap_drop: [ALL] and add back only what it needs"
                      + (IN_READ_ONLY if locked else ""),
                      service=svc, key_path=("services", svc.name, "cap_drop"),
                      fix=make_fix(safety, description, *edits))
