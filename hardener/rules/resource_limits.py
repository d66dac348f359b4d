"""Cap the CPU and memory a service may use.

**What it finds.** A service with no memory limit (`deploy.resources.limits.memory` or `mem_limit`) or
no CPU limit (`deploy.resources.limits.cpus`, `cpus` or `cpu_quota`).

**Why it matters.** Without limits one container can take every CPU cycle and all the memory of the
host: a traffic spike, a leak or an attacker's resource-hungry request starves every other service
and can push the kernel's OOM killer onto unrelated processes (attack tree 3.1.1).

**Example.**

    services:
      worker:
        image: myorg/worker

**Fix.** Adds the missing limits under `deploy.resources.limits`. Existing values are kept. A service
that already uses the legacy keys (`mem_limit`, `cpus`) gets the missing one as a legacy key too,
because Compose refuses two different values for the same limit.

The values: the options `cpus` and `memory` when set, else the image's profile in
`hardener/data/images.json` (256M for nginx, 1G for postgres, 2G for elasticsearch, 8G for
GitLab...), else `cpus: "1.0"` and `memory: 1G`. The memory limit is never below what the service
itself declares it uses: twice a JVM heap plus 512M (`-Xmx`/`-Xms` in `JAVA_OPTS`, `ES_JAVA_OPTS`,
`OPENSEARCH_JAVA_OPTS`, `JAVA_TOOL_OPTIONS`, `KAFKA_HEAP_OPTS`, `SONAR_*_JAVAOPTS` added up...;
heap-size variables such as `MAX_HEAP_SIZE`; Node's `--max-old-space-size`), twice a cache the
command sizes (Redis `--maxmemory`, memcached `-m`, PostgreSQL `shared_buffers`, the InnoDB buffer
pool, the WiredTiger cache), `shm_size` plus 512M, and a memory reservation (`mem_reservation`,
`deploy.resources.reservations.memory`) plus 512M. A CPU reservation raises the CPU limit to it.

**Safety.** A limit that is too low kills the service (memory) or starves it (CPU), so the fix is
*safe* only where the limits are known to be enough: the image has a profile whose limits suit its
documented default configuration (nginx, httpd, traefik, caddy, haproxy, postgres and the
derivatives that keep its configuration, mysql, mariadb, memcached, rabbitmq, grafana,
node-exporter, alertmanager), the service runs that default configuration (no command or entrypoint
of its own, no configuration mounted where the image reads one, such as `/etc/postgresql` or
`/etc/mysql`), and the file declares no need above them. A name matched only by a pattern or
publisher prefix (`*/postgres`, `bitnami/`), derivatives that size themselves (Immich's postgres
with its 512 MB shared buffers, TimescaleDB tuned to the host's memory at its first start) and an
image written as a variable's default (`${IMAGE:-nginx}`: the project's variables may name another
image) do not count. Everywhere else it is *unsafe*: unknown images, base images whose
needs depend on their command, datastores whose memory grows with their data (redis, mongo,
elasticsearch, opensearch, prometheus) and heavy applications (ClickHouse, GitLab, SonarQube, Zulip,
Graylog, Keycloak, Kafka, Immich, Nextcloud, Mastodon, Sentry...). When the file pins memory without
saying how much (`bootstrap.memory_lock=true` without a heap size) or takes a heap setting from
outside the file, no memory limit is offered at all. In both cases the message says what to measure:
run the service under real load, read its peak with `docker stats`, and set the limit above it.

**What may break.** With `--unsafe-fixes`, a service that needs more than the value written is
throttled (CPU) or killed when it goes over (memory); raise the limit for it.

**References.** OWASP Docker Security Cheat Sheet rule #7 (limit resources); CIS Docker Benchmark, "Ensure that the memory usage for containers is limited" and "Ensure that CPU priority is set appropriately on containers"; MITRE ATT&CK T1496 (Resource Hijacking).
"""
from __future__ import annotations

from .. import knowledge
from ..images import own_configuration
from ..memory import declared_need, format_size, parse_size
from ..model import Applicability, Confidence, Severity
from ..syntax import resolve
from ..views import environment
from ..yamltext import Scalar, Seq, add_entries, add_under, deref
from .base import finding, make_fix

ID = "RES001"
NAME = "no-resource-limits"
ATTACK_TREE = ("3.1.1",)
SEVERITY = Severity.MEDIUM
CONFIDENCE = Confidence.HIGH
FIX = Applicability.SAFE  # safe only for images whose profile limits are known to be enough
OPTIONS = {"cpus": knowledge.DEFAULT_CPUS, "memory": knowledge.DEFAULT_MEMORY}
LIMITS = ("deploy", "resources", "limits")
MEASURE = ("measure its peak under real load (docker stats) and set the limit above it")


def _scalar(written) -> str | None:
    value = deref(written.value) if written is not None else None
    return value.value.strip() if isinstance(value, Scalar) and not value.is_null else None


def _words(svc) -> str:
    """The service's entrypoint and command as one string."""
    out = []
    for key in ("entrypoint", "command"):
        node = deref(svc.get(key))
        if isinstance(node, Seq):
            out += [deref(i).value for i in node.items if isinstance(deref(i), Scalar)]
        elif isinstance(node, Scalar) and not node.is_null:
            out.append(node.value)
    return " ".join(out)


def service_need(svc):
    """What the service's own settings say it needs (memory.Need)."""
    env = {name: (resolve(var.raw) if var.raw is not None else None) for name, var in environment(svc).items()}
    reservation = svc.value("mem_reservation") or _scalar(svc.merged("deploy", "resources", "reservations", "memory"))
    known = svc.facts()
    return declared_need(env, _words(svc), shm_size=svc.value("shm_size"), reservation=reservation,
                         image_heap=known.heap if known is not None else None,
                         env_file=svc.get("env_file") is not None)


def tuned_by(svc, known) -> str | None:
    """What gives the service a configuration other than its image's default (images.own_configuration)."""
    keys = [k for k in ("entrypoint", "command") if svc.get(k) is not None
            and not (isinstance(svc.get(k), Scalar) and svc.get(k).is_null)]
    return own_configuration(known, keys, [m.target for m in svc.mounts()])


def _values(ctx, svc):
    """(cpus, memory or None when no memory limit can be offered, safe?, what the message adds)."""
    configured = ctx.options.get(ID, {})
    known = svc.facts()
    cpus = str(configured.get("cpus") or (known and known.cpus) or OPTIONS["cpus"])
    reserved_cpus = _scalar(svc.merged("deploy", "resources", "reservations", "cpus"))
    try:
        if reserved_cpus and float(reserved_cpus) > float(cpus):
            cpus = reserved_cpus
    except ValueError:
        pass
    memory = str(configured.get("memory") or (known and known.memory) or OPTIONS["memory"])
    need = service_need(svc)
    heavier = need.least is not None and need.least > (parse_size(memory) or 0)
    if heavier:
        memory = format_size(need.least)
    tuned = tuned_by(svc, known)
    safe = known is not None and known.limits_known and not heavier and not need.unknown and not tuned
    if need.unknown:
        return cpus, None, False, f"; {'; '.join(need.why)}, so no memory limit is known to be enough: {MEASURE}"
    if safe:
        return cpus, memory, True, _measured(known, configured, cpus, memory)
    if heavier:
        why = f"; {need.why[0]}: the limit leaves room for it"
    elif tuned:
        why = f"; {tuned}, which can size it beyond its default configuration"
    elif known is not None and known.assumed:
        why = f"; the image is {known.name} only if the project's variables keep the default the file writes"
    elif known is not None and known.base:
        why = f"; what {svc.image_name()} needs depends on its command"
    elif known is not None and known.memory:
        why = f"; {known.name}'s needs grow with its data and load"
    else:
        why = "; nothing shows what this image needs"
    return cpus, memory, False, why + f", so the values are a guess to check: {MEASURE}"


def _measured(known, configured, cpus: str, memory: str) -> str:
    """What the message adds when the values were measured (an observation): where they come from."""
    out = []
    for key, value in (("memory", memory), ("cpus", cpus)):
        why = known.why(key) if not configured.get(key) else None
        if why and value == getattr(known, key):
            out.append(f"{why}; limit {value}")
    return "".join(f"; {text}" for text in out)


def check(ctx):
    for svc in ctx.services:
        # Compose merges deploy key by key across files and bases: a limit set in any layer counts
        limits = svc.limits()
        has_memory = "mem_limit" in limits.legacy or limits.memory is not None
        has_cpus = bool({"cpus", "cpu_quota"} & limits.legacy) or limits.cpus is not None
        if has_memory and has_cpus:
            continue
        cpus, memory, safe, why = _values(ctx, svc)
        missing = {}
        if not has_cpus:
            missing["cpus"] = cpus
        if not has_memory and memory is not None:
            missing["memory"] = memory
        what = " and ".join(k for k, lacking in (("CPU", not has_cpus), ("memory", not has_memory)) if lacking)
        message = f"service '{svc.name}' has no {what} limit" + why
        path = ("services", svc.name, "deploy", "resources", "limits")
        if not missing:
            yield finding(__name__, ctx, svc.key, message, service=svc, key_path=path)
            continue
        safe = safe and (has_memory or "memory" in missing)
        # Compose refuses pids_limit beside a deploy limits block, so a service using the legacy keys
        # gets the missing limits as legacy keys too
        if limits.legacy:
            edit = add_entries(ctx.doc, svc.node, {("mem_limit" if k == "memory" else k): v
                                                  for k, v in missing.items()})
        elif limits.deploy_addable:
            edit = add_under(ctx.doc, svc.node, list(LIMITS), missing)  # other files' deploy merges with it
        else:
            edit = None  # deploy comes from a merge key: a new deploy block would hide it
        yield finding(__name__, ctx, svc.key, message, service=svc, key_path=path,
                      fix=make_fix(Applicability.SAFE if safe else Applicability.UNSAFE,
                                   "add " + ", ".join(f"{k}: {v}" for k, v in missing.items()), edit))
