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

**What may break.** Images whose entrypoint starts as root and then switches user or changes file
ownership (official postgres, nginx, redis, mysql images) need CHOWN, SETUID, SETGID, DAC_OVERRIDE or
NET_BIND_SERVICE back in `cap_add`. That is why the fix is *unsafe*: it runs with `--unsafe-fixes`.
"""
from __future__ import annotations

from ..compose import as_str_list
from ..model import Applicability, Confidence, Severity
from ..yamltext import Seq, add_entries, add_items, deref
from .base import finding, make_fix

ID = "CAP001"
NAME = "cap-drop-all"
ATTACK_TREE = ("1.1.2", "5.2.1")
SEVERITY = Severity.HIGH
CONFIDENCE = Confidence.HIGH
FIX = Applicability.UNSAFE
OPTIONS: dict = {}


def check(ctx):
    for svc in ctx.services:
        entry = svc.entry("cap_drop")
        if entry and any(c.upper() in ("ALL", "CAP_ALL") for c in as_str_list(entry[1])):
            continue
        if entry is None:
            edit = add_entries(ctx.doc, svc.node, {"cap_drop": ["ALL"]})
        elif entry[2] and isinstance(deref(entry[1]), Seq) and entry[1] is deref(entry[1]):
            edit = add_items(ctx.doc, entry[1], ["ALL"])
        else:
            edit = None  # inherited through a merge key or an alias: editing it would reach others
        where = entry[0] if entry else svc.key
        yield finding(__name__, ctx, where, f"service '{svc.name}' keeps Docker's default capabilities; "
                      "drop them all with cap_drop: [ALL] and add back only what it needs",
                      service=svc, key_path=("services", svc.name, "cap_drop"),
                      fix=make_fix(FIX, "add ALL to cap_drop", edit))
