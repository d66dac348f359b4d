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

**Fix.** Adds `pids_limit: 4096` (option `pids`; for images with a profile in
`hardener/data/images.json` the profile's value: 16384 for ClickHouse, whose thread pool grows to
10000 threads, 8192 for JVM servers such as Elasticsearch, SonarQube or Kafka), or `pids: 4096` under
`deploy.resources.limits` when the service already has that mapping: Compose refuses a `pids_limit`
next to deploy limits that do not state the same number. For the same reason a `pids_limit` next to
deploy limits without `pids` moves there (this is also how the limit ends up under `deploy` when
`no-resource-limits` creates deploy limits in the same run; moving it is *safe*, the number stays).

4096 leaves room for thread-heavy runtimes (each thread counts: a JVM or ClickHouse runs hundreds to
thousands) and still stops a fork bomb far below the kernel's process table (32768 ids at least).
Adding the limit is *safe* only for images whose profile gives a process count known to be enough
(nginx, postgres, mysql, mariadb, memcached, ClickHouse, the JVM servers...) running their default
configuration (no command or entrypoint of its own, no configuration mounted where the image reads
one). It is *unsafe* for other images, since nothing shows how many threads they run, for images
that start a thread per client connection (MongoDB), for a name matched only by a pattern or prefix,
and for an image written as a variable's default: measure it (`docker stats` shows PIDS) under real
load. Replacing an explicit
`-1` or `0` is *unsafe*, as is overriding a value that comes from a merged mapping with an own key.
Across files (base and override, `extends`) the value Compose keeps is judged and changed where it
is written, and deploy limits written in any of the files count.

**What may break.** Services that legitimately run more processes or threads than the limit: build
runners, CI agents, process-per-connection servers such as PostgreSQL with a very high
`max_connections`, JVMs with very large thread pools. Raise the limit for them rather than removing
it.

**References.** CIS Docker Benchmark v1.2.0 section 5.28; OWASP Docker Security Cheat Sheet rule #7;
MITRE ATT&CK T1499 (Endpoint Denial of Service).
"""
from __future__ import annotations

from .. import knowledge
from ..compose import has_variable
from ..images import own_configuration
from ..model import Applicability, Confidence, Severity
from ..yamltext import Scalar, Verbatim, add_entries, add_under, deref, remove_entry, replace_scalar
from .base import finding, make_fix

ID = "RES002"
NAME = "no-pids-limit"
ATTACK_TREE = ("3.1.1",)
SEVERITY = Severity.MEDIUM
CONFIDENCE = Confidence.HIGH
FIX = Applicability.SAFE  # safe only for images whose profile limits are known to be enough
OPTIONS = {"pids": knowledge.DEFAULT_PIDS}

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


def _pids(ctx, svc) -> tuple[int, bool]:
    """(the number to write, whether it is known to be enough): the option when set, else the image
    profile's value (known to be enough for the image), else the default (a guess)."""
    known = svc.facts()
    configured = ctx.options.get(ID, {}).get("pids")
    pids = int(configured or (known and known.pids) or OPTIONS["pids"])
    enough = known is not None and known.pids_known and pids >= known.pids
    keys = [k for k in ("entrypoint", "command") if svc.get(k) is not None
            and not (isinstance(svc.get(k), Scalar) and svc.get(k).is_null)]
    return pids, enough and not own_configuration(known, keys, [m.target for m in svc.mounts()])


def _measured(ctx, svc, pids: int) -> str:
    """Where the number comes from when it was measured (an observation), for the message."""
    known = svc.facts()
    why = known.why("pids") if known is not None and not ctx.options.get(ID, {}).get("pids") else None
    return f"; {why}; limit {pids}" if why and known.pids == pids else ""


def check(ctx):
    for svc in ctx.services:
        pids = _pids(ctx, svc)
        limits = svc.limits()
        top, deploy, limits_any = limits.pids_limit, limits.pids, limits.block
        top_n, deploy_n = (_number(w.value) if w else None for w in (top, deploy))
        if _UNKNOWN in (top_n, deploy_n):
            continue
        if top_n is not None and top_n > 0 and limits_any is not None and deploy is None:
            if top.here:  # Compose refuses it; fixed where pids_limit is written
                yield _disagree(ctx, svc, top, top_n)
            continue
        if any(n is not None and n > 0 for n in (top_n, deploy_n)):
            continue
        if top is None and deploy is None:
            if not svc.builds_on:  # missing everywhere: reported where the service is first defined
                yield _missing(ctx, svc, *pids, limits_any is not None)
            continue
        unlimited = _unlimited(ctx, svc, pids[0], top, deploy, limits_any is not None)
        if unlimited is not None:
            yield unlimited


def _missing(ctx, svc, pids: int, known: bool, limits_elsewhere: bool):
    """No layer limits the processes: add the limit where Compose wants it beside the other limits,
    safely only where the image's profile says the number is enough."""
    limits, limits_own = svc.limits().here, svc.limits().here_own
    path = ("services", svc.name, "pids_limit")
    under = ("services", svc.name, "deploy", "resources", "limits", "pids")
    number = {"pids": Verbatim(str(pids))}
    edit = None
    if not svc.shared:
        legacy = bool(svc.limits().legacy - {"pids_limit"})
        deploy_merged_in = not (svc.entry("deploy") is None or svc.own("deploy"))
        if limits is None and not limits_elsewhere and (legacy or deploy_merged_in):
            edit = add_entries(ctx.doc, svc.node, {"pids_limit": Verbatim(str(pids))})
        elif limits is None and svc.limits().deploy_addable:
            edit, path = add_under(ctx.doc, svc.node, ["deploy", "resources", "limits"], number), under
        elif limits is not None and limits_own:  # next to deploy limits Compose wants the limit there
            edit, path = add_entries(ctx.doc, limits, number), under
    about = svc.facts()
    if about is not None and about.assumed:
        runs = f"the image is {about.name} only if the project's variables keep the default the file writes"
    elif about is not None and about.pids is not None and not about.pids_known:
        runs = f"the threads {about.name} runs grow with its connections"
    else:
        runs = f"nothing shows how many threads {svc.image_name() or 'its image'} runs"
    why = _measured(ctx, svc, pids) if known else (
        f"; {runs}, so {pids} is a guess to check: measure its PIDS under real load (docker stats)")
    return finding(__name__, ctx, svc.key, f"service '{svc.name}' has no process limit; a fork bomb can "
                   "exhaust the host's process table" + why, service=svc, key_path=path,
                   fix=make_fix(Applicability.SAFE if known else Applicability.UNSAFE,
                                f"limit the service to {pids} processes", edit))


def _unlimited(ctx, svc, pids: int, top, deploy, limits_elsewhere: bool):
    """The value that wins is -1 or 0 (no limit): changed where it is written. Under deploy when
    that is written: a second key would conflict."""
    written = deploy if deploy is not None else top
    if not written.here:
        return None  # reported in the file or base that writes it
    node = deref(written.value)
    where = "deploy.resources.limits.pids" if deploy is not None else "pids_limit"
    own = written.own and written.value is node
    if node.is_null:  # an empty `pids_limit:` has no fix: writing after its colon is too fragile
        return finding(__name__, ctx, written.key, f"service '{svc.name}' has no process limit; a fork bomb "
                       "can exhaust the host's process table", service=svc, key_path=("services", svc.name, where))
    if svc.shared or (top is not None and deploy is not None):
        edit = None  # both written: changing only one would make them disagree, which Compose refuses
    elif own:
        edit = replace_scalar(ctx.doc, node, Verbatim(str(pids))) if not node.anchor else None
    elif deploy is None and not limits_elsewhere:  # through a merge key: an own key overrides it
        edit = add_entries(ctx.doc, svc.node, {"pids_limit": Verbatim(str(pids))})
    else:
        edit = None
    return finding(__name__, ctx, node, f"service '{svc.name}' sets {where}: {node.value.strip()}, "
                   "which means no process limit", service=svc, key_path=("services", svc.name, *where.split(".")),
                   fix=make_fix(Applicability.UNSAFE, f"set {where} to {pids}", edit))


def _disagree(ctx, svc, top, number: int):
    """pids_limit next to deploy.resources.limits without pids (in any layer): Compose reads the
    missing pids as 0 and refuses the two different values. The number moves under this mapping's
    deploy limits (or, where pids_limit cannot be removed cleanly, is repeated there). This also
    settles a pass in which another rule created deploy limits while this one added pids_limit."""
    limits, limits_own = svc.limits().here, svc.limits().here_own
    entry = {"pids": Verbatim(str(number))}
    add = None
    if svc.shared:
        pass
    elif limits is not None:
        add = add_entries(ctx.doc, limits, entry) if limits_own else None
    elif svc.limits().deploy_addable:  # the limits are in another layer
        add = add_under(ctx.doc, svc.node, ["deploy", "resources", "limits"], entry)
    movable = add is not None and top.removable
    remove = remove_entry(ctx.doc, svc.node, "pids_limit") if movable else None
    edits = [add, remove] if remove is not None else [add]
    how = "move" if len(edits) == 2 else "repeat"
    return finding(__name__, ctx, top.key, f"service '{svc.name}' sets pids_limit next to deploy.resources.limits "
                   "without pids; Compose refuses the two different values", service=svc,
                   key_path=("services", svc.name, "deploy", "resources", "limits", "pids"),
                   fix=make_fix(Applicability.SAFE, f"{how} pids: {number} under deploy.resources.limits", *edits))
