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

**What may break.** For an image hardener does not know, start-up steps that need a capability: an
entrypoint that starts as root and then switches user or changes file ownership needs CHOWN, SETUID,
SETGID, DAC_OVERRIDE or NET_BIND_SERVICE back in `cap_add`. That is why the fix is *unsafe* for
unknown images: it runs with `--unsafe-fixes`.

**References.** OWASP Docker Security Cheat Sheet rule #3 (limit capabilities); CIS Docker Benchmark, "Ensure that Linux kernel capabilities are restricted within containers"; MITRE ATT&CK T1611 (Escape to Host).
"""
from __future__ import annotations

from ..compose import as_str_list
from ..model import Applicability, Confidence, Severity
from ..yamltext import Seq, add_entries, add_items
from .base import finding, make_fix

ID = "CAP001"
NAME = "cap-drop-all"
ATTACK_TREE = ("1.1.2", "5.2.1")
SEVERITY = Severity.HIGH
CONFIDENCE = Confidence.HIGH
FIX = Applicability.SAFE  # safe for images with a profile, unsafe otherwise
OPTIONS: dict = {}


def _own_seq(entry):
    """The sequence of an own key written in place (not an alias, not merged), or None."""
    return entry[1] if entry and entry[2] and isinstance(entry[1], Seq) else None


def check(ctx):
    for svc in ctx.services:
        entry = svc.entry("cap_drop")
        if entry and any(c.upper() in ("ALL", "CAP_ALL") for c in as_str_list(entry[1])):
            continue
        edits = []
        if entry is None:
            edits.append(add_entries(ctx.doc, svc.node, {"cap_drop": ["ALL"]}))
        else:
            edits.append(add_items(ctx.doc, _own_seq(entry), ["ALL"]) if _own_seq(entry) else None)
        known = svc.profile()
        needed = []
        if known is not None:
            cap_add = svc.entry("cap_add")
            present = {c.upper().removeprefix("CAP_") for c in as_str_list(cap_add[1])} if cap_add else set()
            needed = [c for c in known.cap_add if c not in present and "ALL" not in present]
            if needed and cap_add is None:
                edits.append(add_entries(ctx.doc, svc.node, {"cap_add": needed}))
            elif needed:
                edits.append(add_items(ctx.doc, _own_seq(cap_add), needed) if _own_seq(cap_add) else None)
        safety = Applicability.SAFE if known is not None else Applicability.UNSAFE
        description = "add ALL to cap_drop" + (f" and {', '.join(needed)} to cap_add" if needed else "")
        where = entry[0] if entry else svc.key
        yield finding(__name__, ctx, where, f"service '{svc.name}' keeps Docker's default capabilities; "
                      "drop them all with cap_drop: [ALL] and add back only what it needs",
                      service=svc, key_path=("services", svc.name, "cap_drop"),
                      fix=make_fix(safety, description, *edits))
