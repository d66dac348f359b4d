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

**Fix.** Adds the missing limits under `deploy.resources.limits` (options `cpus`, default `"1.0"`, and
`memory`, default `1G`; for images with a profile in `hardener/data/images.json` the profile's values,
such as 256M for nginx or 2G for elasticsearch, unless the options are set). Existing values are kept. A service that already uses the legacy keys
(`mem_limit`, `cpus`) gets the missing one as a legacy key too, because Compose refuses two different
values for the same limit.

**What may break.** A service that really needs more than the defaults is throttled (CPU) or killed
when it goes over (memory). The fix is *safe*: it only adds a bound the file did not set, and the
defaults suit most single-purpose services; raise them per service where needed.

**References.** OWASP Docker Security Cheat Sheet rule #7 (limit resources); CIS Docker Benchmark, "Ensure that the memory usage for containers is limited" and "Ensure that CPU priority is set appropriately on containers"; MITRE ATT&CK T1496 (Resource Hijacking).
"""
from __future__ import annotations

from ..model import Applicability, Confidence, Severity
from ..yamltext import add_entries, add_under
from .base import finding, make_fix

ID = "RES001"
NAME = "no-resource-limits"
ATTACK_TREE = ("3.1.1",)
SEVERITY = Severity.MEDIUM
CONFIDENCE = Confidence.HIGH
FIX = Applicability.SAFE
OPTIONS = {"cpus": "1.0", "memory": "1G"}
LIMITS = ("deploy", "resources", "limits")


def _defaults(ctx, svc) -> tuple[str, str]:
    """Configured values win, then the image's profile, then the built-in defaults."""
    configured = ctx.options.get(ID, {})
    known = svc.profile()
    cpus = configured.get("cpus") or (known and known.cpus) or OPTIONS["cpus"]
    memory = configured.get("memory") or (known and known.memory) or OPTIONS["memory"]
    return str(cpus), str(memory)


def check(ctx):
    for svc in ctx.services:
        cpus, memory = _defaults(ctx, svc)
        # Compose merges deploy key by key across files and bases: a limit set in any layer counts
        limits = svc.limits()
        has_memory = "mem_limit" in limits.legacy or limits.memory is not None
        has_cpus = bool({"cpus", "cpu_quota"} & limits.legacy) or limits.cpus is not None
        if has_memory and has_cpus:
            continue
        missing = {}
        if not has_cpus:
            missing["cpus"] = cpus
        if not has_memory:
            missing["memory"] = memory
        # Compose refuses pids_limit beside a deploy limits block, so a service using the legacy keys
        # gets the missing limits as legacy keys too
        if limits.legacy:
            edit = add_entries(ctx.doc, svc.node, {("mem_limit" if k == "memory" else k): v
                                                  for k, v in missing.items()})
        elif limits.deploy_addable:
            edit = add_under(ctx.doc, svc.node, list(LIMITS), missing)  # other files' deploy merges with it
        else:
            edit = None  # deploy comes from a merge key: a new deploy block would hide it
        what = " and ".join(("CPU" if k == "cpus" else "memory") for k in missing)
        yield finding(__name__, ctx, svc.key, f"service '{svc.name}' has no {what} limit", service=svc,
                      key_path=("services", svc.name, "deploy", "resources", "limits"),
                      fix=make_fix(FIX, "add " + ", ".join(f"{k}: {v}" for k, v in missing.items()), edit))
