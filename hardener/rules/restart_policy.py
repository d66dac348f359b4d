"""Bound the number of restarts.

**What it finds.** `restart: always`, `restart: unless-stopped`, `restart: on-failure` without a count,
or no restart policy at all; under `deploy.restart_policy`, a condition of `any` or no `max_attempts`.

**Why it matters.** A container that crashes at start-up and is restarted forever burns CPU, fills the
logs and hides the failure; a crash an attacker can trigger becomes a cheap, endless load on the host
(attack tree 3.2.1). A bounded `on-failure` policy still recovers from transient faults, then stops
and leaves the failure visible.

**Example.**

    services:
      app:
        image: myorg/app
        restart: always

**Fix.** Sets `restart: on-failure:5` (option `max_attempts`, default 5). Under `deploy.restart_policy`
it sets `condition: on-failure` and adds `max_attempts: 5`. Adding a policy where none was written is
*safe* (the default `no` never restarts; a bounded retry only adds resilience). Replacing `always` or
`unless-stopped` is *unsafe*: those containers also come back after a daemon restart or reboot, and
`on-failure` ones that exited cleanly do not.

When the policy comes from an anchor merged into several services (`<<: *app`), the value is
changed once in the anchored block if every service that inherits it gets the same fix, and in each
service (an own `restart:` key overriding the anchor) otherwise.

**What may break.** Long-running services that must survive host reboots: keep `unless-stopped` for
them and suppress the finding, or rely on an orchestrator.

**References.** CIS Docker Benchmark, "Ensure that the 'on-failure' container restart policy is set to '5'".
"""
from __future__ import annotations


from ..compose import has_variable
from ..model import Applicability, Confidence, Severity
from ..yamltext import Alias, Map, Scalar, Verbatim, add_entries, deref, replace_scalar
from .base import finding, make_fix, option

ID = "RST001"
NAME = "unbounded-restart"
ATTACK_TREE = ("3.2.1",)
SEVERITY = Severity.LOW
CONFIDENCE = Confidence.HIGH
FIX = Applicability.SAFE
OPTIONS = {"max_attempts": 5}


def check(ctx):
    attempts = int(option(ctx, __name__, "max_attempts"))
    policy = f"on-failure:{attempts}"
    for svc in ctx.services:
        # Compose merges deploy key by key across files and bases: a restart_policy in any layer counts
        written = svc.merged("deploy", "restart_policy")
        if written is not None and isinstance(deref(written.value), Map):
            if written.here:  # otherwise judged in the file or base that writes it
                own = written.own and not isinstance(written.value, Alias)
                yield from _deploy_policy(ctx, svc, deref(written.value), attempts, own=own)
            continue
        entry = svc.entry("restart")
        if entry is None:
            yield finding(__name__, ctx, svc.key, f"service '{svc.name}' has no restart policy; a bounded "
                          f"'{policy}' recovers from crashes without looping forever", service=svc,
                          key_path=("services", svc.name, "restart"),
                          fix=make_fix(Applicability.SAFE, f"restart: {policy}",
                                       add_entries(ctx.doc, svc.node, {"restart": policy})))
            continue
        key, value, own = entry
        text = value.value.strip() if isinstance(value, Scalar) else ""
        if has_variable(text) or not (text in ("always", "unless-stopped") or text == "on-failure"):
            continue
        edit = replace_scalar(ctx.doc, value, policy) if own or _whole_anchor(ctx, value) else \
            add_entries(ctx.doc, svc.node, {"restart": policy})
        safety = Applicability.SAFE if text == "on-failure" else Applicability.UNSAFE
        yield finding(__name__, ctx, value, f"service '{svc.name}' restarts without limit (restart: {text})",
                      service=svc, key_path=("services", svc.name, "restart"),
                      fix=make_fix(safety, f"restart: {policy}", edit))


def _whole_anchor(ctx, value) -> bool:
    """True when every service inheriting this restart value from an anchor gets the same fix, so
    the value is best changed once where it is written."""
    return isinstance(value, Scalar) and ctx.anchor_editable(ID, "restart", value) and all(
        not isinstance(deref(h.get("deploy")), Map) or not isinstance(deref(deref(h.get("deploy")).get("restart_policy")), Map)
        for h in ctx.inheritors("restart", value))


def _deploy_policy(ctx, svc, policy: Map, attempts: int, own: bool):
    path = ("services", svc.name, "deploy", "restart_policy")
    condition = policy.entry("condition")
    cond = condition[1].value.strip() if condition and isinstance(condition[1], Scalar) else "any"
    has_max = policy.get("max_attempts") is not None
    if (cond in ("on-failure", "none") and has_max) or cond == "none" or has_variable(cond):
        return
    edits, unsafe = [], False
    if cond == "any":
        if condition:
            edits.append(replace_scalar(ctx.doc, condition[1], "on-failure"))
            unsafe = True
    missing = {}
    if condition is None:
        missing["condition"] = "on-failure"
    if not has_max:
        missing["max_attempts"] = Verbatim(str(attempts))
    if missing:
        edits.append(add_entries(ctx.doc, policy, missing))
    if not own:
        edits = [None]  # reached through a merge key or alias
    safety = Applicability.UNSAFE if unsafe else Applicability.SAFE
    yield finding(__name__, ctx, policy, f"service '{svc.name}' deploy.restart_policy retries without limit",
                  service=svc, key_path=path,
                  fix=make_fix(safety, f"condition: on-failure, max_attempts: {attempts}", *edits))


