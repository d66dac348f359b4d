"""Cap the number of processes a service may start.

**What it finds.** A service with no process limit: neither `pids_limit` nor
`deploy.resources.limits.pids`, or one of them set to `-1` or `0`, which both mean unlimited.

**Why it matters.** Process ids are a host-wide resource: every container draws from the kernel's
single `pid_max` table. A fork bomb, or just a worker pool that grows without bound under load, can
take all of them, and then no process anywhere on the host can start, including the shell an
administrator needs to stop it. CPU and memory limits do not prevent this, since thousands of
sleeping processes use very little of either (attack tree 3.1.1).

**Example.**

    services:
      worker:
        image: myorg/worker

**Fix.** Adds `pids_limit: 512` (option `pids`), or `pids: 512` under `deploy.resources.limits` when
the service already has that mapping: Compose refuses a `pids_limit` next to deploy limits that do not
state the same number. For the same reason a `pids_limit` next to deploy limits without `pids` moves
there (this is also how the limit ends up under `deploy` when `no-resource-limits` creates deploy
limits in the same run). These fixes are *safe*: they only add a limit the file did not set, and
512 is far above what a single-purpose service runs. Replacing an explicit `-1` or `0` is *unsafe*,
as is overriding a value that comes from a merged mapping with an own key.

**What may break.** Services that legitimately run many processes or threads (each thread counts):
build runners, CI agents, process-per-connection servers such as PostgreSQL with a high
`max_connections`, JVMs with large thread pools. Raise the limit for them rather than removing it.

**References.** CIS Docker Benchmark v1.2.0 section 5.28; OWASP Docker Security Cheat Sheet rule #7;
MITRE ATT&CK T1499 (Endpoint Denial of Service).
"""
from __future__ import annotations

from ..compose import has_variable
from ..model import Applicability, Confidence, Severity
from ..yamltext import Alias, Map, Scalar, Verbatim, add_entries, add_under, deref, merged_entry, remove_entry, replace_scalar
from .base import finding, make_fix, option
from .privileged import builds_on, layers, written_here

ID = "RES002"
NAME = "no-pids-limit"
ATTACK_TREE = ("3.1.1",)
SEVERITY = Severity.MEDIUM
CONFIDENCE = Confidence.HIGH
FIX = Applicability.SAFE
OPTIONS = {"pids": 512}

_UNKNOWN = object()


def _number(node):
    """The integer a scalar holds, None when there is no value, _UNKNOWN for variables or text."""
    node = deref(node)
    if node is None or (isinstance(node, Scalar) and node.is_null):
        return None
    if not isinstance(node, Scalar) or has_variable(node.value):
        return _UNKNOWN
    try:
        return int(node.value.strip())
    except ValueError:
        return _UNKNOWN


def _limits(mapping):
    """(deploy.resources.limits of one mapping (through merge keys) or None, whether every level on
    the way is written in the mapping itself)."""
    entry = merged_entry(mapping, "deploy")
    if entry is None:
        return None, True
    own, node = entry[2] and not isinstance(entry[1], Alias), deref(entry[1])
    for key in ("resources", "limits"):
        if not isinstance(node, Map):
            return None, own
        value = node.get(key)
        own = own and not isinstance(value, Alias)
        node = deref(value)
    return (node if isinstance(node, Map) else None), own


def _written(mapping):
    """(pids_limit value, deploy pids value) a mapping writes, as numbers (None, _UNKNOWN)."""
    entry = merged_entry(mapping, "pids_limit")
    limits, _ = _limits(mapping)
    return _number(entry[1]) if entry else None, _number(limits.get("pids")) if limits is not None else None


def check(ctx):
    pids = int(option(ctx, __name__, "pids"))
    for svc in ctx.services:
        everywhere = [n for mapping in layers(svc) for n in _written(mapping) if n is not None]
        if _UNKNOWN in everywhere:
            continue
        entry = written_here(svc, "pids_limit")
        limits, limits_own = _limits(svc.node)
        deploy_value = limits.get("pids") if limits is not None else None
        deploy_own = limits_own and not isinstance(deploy_value, Alias)
        top, deploy = _number(entry[1]) if entry else None, _number(deploy_value)
        if top is not None and top > 0 and limits is not None and deploy_value is None:
            yield _disagree(ctx, svc, entry, limits, limits_own, top)
            continue
        if any(n > 0 for n in everywhere):
            continue
        path = ("services", svc.name, "pids_limit")
        if top is None and deploy is None:
            if everywhere or builds_on(svc):
                continue  # unlimited in another layer, or missing everywhere: judged where first defined
            edit = None
            if entry is None and deploy_value is None and not svc.shared:
                legacy = any(svc.entry(k) is not None for k in ("mem_limit", "cpus", "cpu_quota", "memswap_limit"))
                if limits is None and (legacy or not (svc.entry("deploy") is None or svc.own("deploy"))):
                    edit = add_entries(ctx.doc, svc.node, {"pids_limit": Verbatim(str(pids))})
                elif limits is None:  # where the other limits go, so Compose sees one set of limits
                    edit = add_under(ctx.doc, svc.node, ["deploy", "resources", "limits"], {"pids": Verbatim(str(pids))})
                    path = ("services", svc.name, "deploy", "resources", "limits", "pids")
                elif limits_own:  # next to deploy limits Compose wants the limit there
                    edit = add_entries(ctx.doc, limits, {"pids": Verbatim(str(pids))})
                    path = ("services", svc.name, "deploy", "resources", "limits", "pids")
            # an empty `pids_limit:` is reported without a fix: writing after its colon is too fragile
            where = svc.key if entry is None else entry[0]
            yield finding(__name__, ctx, where, f"service '{svc.name}' has no process limit; a fork bomb can "
                          "exhaust the host's process table", service=svc, key_path=path,
                          fix=make_fix(Applicability.SAFE, f"limit the service to {pids} processes", edit))
            continue
        if deploy is not None:  # -1 or 0 under deploy: change it there, a second key would conflict
            node, own, where = deref(deploy_value), deploy_own, "deploy.resources.limits.pids"
            path = ("services", svc.name, "deploy", "resources", "limits", "pids")
        else:
            node, where = deref(entry[1]), "pids_limit"
            own = entry[2] and entry[1] is node
        if svc.shared or (top is not None and deploy is not None):
            edit = None  # both written: changing only one would make them disagree, which Compose refuses
        elif own:
            edit = replace_scalar(ctx.doc, node, Verbatim(str(pids))) if not node.anchor else None
        elif where == "pids_limit" and limits is None:
            edit = add_entries(ctx.doc, svc.node, {"pids_limit": Verbatim(str(pids))})
        else:
            edit = None
        yield finding(__name__, ctx, node, f"service '{svc.name}' sets {where}: {node.value.strip()}, "
                      "which means no process limit", service=svc, key_path=path,
                      fix=make_fix(Applicability.UNSAFE, f"set {where} to {pids}", edit))


def _disagree(ctx, svc, entry, limits, limits_own, top):
    """pids_limit next to deploy.resources.limits without pids: Compose reads the missing pids as 0
    and refuses the two different values. The number moves under deploy (or, where pids_limit cannot
    be removed cleanly, is repeated there). This also settles a pass in which another rule created
    deploy limits while this one added pids_limit."""
    edits = [None]
    if limits_own and not svc.shared:
        add = add_entries(ctx.doc, limits, {"pids": Verbatim(str(top))})
        value = entry[1]
        movable = entry[2] and not (value.anchor and not isinstance(value, Alias))
        remove = remove_entry(ctx.doc, svc.node, "pids_limit") if movable else None
        edits = [add, remove] if remove is not None else [add]
    how = "move" if len(edits) == 2 else "repeat"
    return finding(__name__, ctx, entry[0], f"service '{svc.name}' sets pids_limit next to deploy.resources.limits "
                   "without pids; Compose refuses the two different values", service=svc,
                   key_path=("services", svc.name, "deploy", "resources", "limits", "pids"),
                   fix=make_fix(Applicability.SAFE, f"{how} pids: {top} under deploy.resources.limits", *edits))
