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

from ..compose import has_variable
from ..model import Applicability, Confidence, Severity
from ..yamltext import (Alias, Scalar, Seq, Verbatim, add_entries, deref, merged_entry, remove_entry, remove_item,
                       replace_scalar)
from .base import IN_READ_ONLY, finding, make_fix

ID = "PRV001"
NAME = "privileged-container"
ATTACK_TREE = ("1.2.3",)
SEVERITY = Severity.CRITICAL
CONFIDENCE = Confidence.HIGH
FIX = Applicability.UNSAFE
OPTIONS: dict = {}

# The spellings Docker Compose turns into a boolean (YAML 1.1 words, also when written as strings);
# compared in lower case. Anything else is refused by Compose, so it is left alone here.
TRUE_WORDS = frozenset({"true", "yes", "on", "y"})
FALSE_WORDS = frozenset({"false", "no", "off", "n"})


def boolean(node) -> bool | None:
    """True or False for a scalar Compose reads as a boolean; None for anything else (null, a
    variable, a number, a mapping...)."""
    node = deref(node)
    if not isinstance(node, Scalar) or node.is_null or has_variable(node.value):
        return None
    word = node.value.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    return None


# --------------------------------------------------------------------------- where a setting is written
# Helpers the isolation rules share (candidates for compose.Service). A service may be defined in
# layers: later files of the project, its own mapping (with `<<` merge keys), earlier files and an
# `extends` base. A value is reported and fixed in the layer that writes it, a missing setting once,
# in the layer everything else builds on.

def written_here(svc, key):
    """(key node, value node, own) for a key written in this service's mapping, directly (own) or
    through a merge key; None when this mapping does not write it or a later layer resets it
    (`!reset`, `!override`). For list settings, which Compose merges across layers, this is the part
    the mapping contributes."""
    entry = svc.written_here(key)
    return (entry.key, entry.value, entry.own) if entry else None


def written_list(svc, key):
    """(value, own, [(item, scalar)]) for a list setting written in this mapping: its items that are
    plain scalars without variables; None when the mapping writes no list under key."""
    entry = written_here(svc, key)
    if entry is None or not isinstance(deref(entry[1]), Seq):
        return None
    items = []
    for item in deref(entry[1]).items:
        node = deref(item)
        if isinstance(node, Scalar) and not node.is_null and not has_variable(node.value):
            items.append((item, node))
    return entry[1], entry[2], items


def flagged_items(ctx, svc, key, classify) -> list:
    """(item, what classify said, removal edit or None) for each item of a list setting written in this
    mapping that classify(text) flags. The list is never emptied: an empty block list reads as null,
    and other rules append to it; lists from a merged mapping or an alias, and items written through
    an alias, get no edit."""
    written = written_list(svc, key)
    if written is None:
        return []
    value, own, items = written
    flagged = [(item, hit) for item, node in items if (hit := classify(node.value))]
    seq = deref(value)
    editable = own and not svc.shared and not isinstance(value, Alias) and len(flagged) < len(seq.items)
    return [(item, hit, remove_item(ctx.doc, seq, item) if editable and not isinstance(item, Alias) else None)
            for item, hit in flagged]


def last_value(svc, key):
    """(entry, here) for a setting whose last definition wins: Compose's effective entry (None when no
    layer sets it) and whether that entry is the one written in this mapping."""
    entry = svc.entry(key)
    local = merged_entry(svc.node, key)
    return entry, entry is not None and local is not None and local[1] is entry[1]


def layers(svc) -> tuple:
    """Every mapping that defines this service, in Compose's merge order (see Service.layers)."""
    return svc.layers


def builds_on(svc) -> bool:
    """Whether the service extends a base or overrides an earlier file that hardener could read and
    may write: a setting no layer has is then reported where the service is first defined, not again
    here. When the base cannot be read (its file is missing or outside the folder) or is read-only (a
    vendor's file), the service is fixed where it is."""
    return svc.builds_on


def check(ctx):
    for svc in ctx.services:
        entry, here = last_value(svc, "privileged")
        message = (f"service '{svc.name}' runs privileged: it gets every capability and host device and no "
                   "seccomp/AppArmor confinement")
        path = ("services", svc.name, "privileged")
        locked = svc.locked_value("privileged")
        if locked is not None and boolean(locked.value) is True:
            yield finding(__name__, ctx, svc.key, message + IN_READ_ONLY, service=svc, key_path=path,
                          fix=make_fix(FIX, "override privileged: true with privileged: false",
                                       add_entries(ctx.doc, svc.node, {"privileged": False})))
            continue
        if entry is None or not here:
            continue  # unset, or written in another file or base and reported there
        key, value, own = entry
        if boolean(value) is not True:
            continue
        yield finding(__name__, ctx, deref(value), message, service=svc, key_path=path,
                      fix=_fix(ctx, svc, value, own))


def _fix(ctx, svc, value, own):
    if svc.shared:
        return None  # the whole service is an alias: the service that owns the mapping gets the fix
    if not own:
        return make_fix(FIX, "override the merged privileged: true with privileged: false",
                        add_entries(ctx.doc, svc.node, {"privileged": False}))
    if value.anchor and not isinstance(value, Alias):
        return None  # other nodes refer to this very scalar
    edit = remove_entry(ctx.doc, svc.node, "privileged")
    if edit is not None:
        return make_fix(FIX, "remove privileged: true", edit)
    if isinstance(value, Alias):
        return None
    return make_fix(FIX, "set privileged to false", replace_scalar(ctx.doc, value, Verbatim("false")))
