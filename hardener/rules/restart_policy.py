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

**Fix.** Where no restart policy is written at all, adds `restart: on-failure:5` (option
`max_attempts`, default 5). That is *safe*: without a policy Docker never restarts the container, and
a bounded retry only restarts what has already stopped with an error, a few times.

A policy the author wrote is never rewritten by a safe fix. Replacing `always`, `unless-stopped` or
a plain `on-failure` with `on-failure:5`, and setting `condition: on-failure` or adding
`max_attempts: 5` to a written `deploy.restart_policy`, are *unsafe*: the author chose to restart
without limit (`always` and `unless-stopped` also come back after a daemon restart or reboot,
`on-failure` ones that exited cleanly do not), and a service that takes a while to reach its
dependencies can need more than five attempts.

Compose merges `deploy.restart_policy` key by key across files (base and override, `extends`): the
policy is judged as merged, a `condition: any` is replaced where it is written, and a missing
`max_attempts` is added where the policy is first written.

When the policy comes from an anchor merged into several services (`<<: *app`), the value is
changed once in the anchored block if every service that inherits it gets the same fix, and in each
service (an own `restart:` key overriding the anchor) otherwise.

A value written in a read-only file is overridden in the last file that may be written: an own
`restart:` there (a later file's scalar wins), or the missing `deploy.restart_policy` keys
(merged key by key); the finding in the read-only file stays without a fix.

**What may break.** Long-running services that must survive host reboots: keep `unless-stopped` for
them and suppress the finding, or rely on an orchestrator.

**References.** CIS Docker Benchmark, "Ensure that the 'on-failure' container restart policy is set to '5'".
"""
from __future__ import annotations


from ..compose import has_variable
from ..model import Applicability, Confidence, Severity
from ..yamltext import Map, Scalar, Verbatim, add_entries, add_under, deref, merged_entry, replace_scalar
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
        # Compose merges deploy.restart_policy key by key across files and bases
        restart = svc.restart()
        if restart.policies:
            yield from _deploy_policy(ctx, svc, restart, attempts)
            continue
        entry = restart.restart
        if entry is None:
            yield finding(__name__, ctx, svc.key, f"service '{svc.name}' has no restart policy; a bounded "
                          f"'{policy}' recovers from crashes without looping forever", service=svc,
                          key_path=("services", svc.name, "restart"),
                          fix=make_fix(Applicability.SAFE, f"restart: {policy}",
                                       add_entries(ctx.doc, svc.node, {"restart": policy})))
            continue
        value, own = entry.value, entry.own
        text = value.value.strip() if isinstance(value, Scalar) else ""
        if has_variable(text) or not (text in ("always", "unless-stopped") or text == "on-failure"):
            continue
        safety = Applicability.UNSAFE  # the author wrote this policy: bounding it overrides them
        if svc.locked_value("restart") is not None:  # a read-only file's value: a later one wins
            yield finding(__name__, ctx, svc.key, f"service '{svc.name}' restarts without limit (restart: {text})",
                          read_only=True, service=svc, key_path=("services", svc.name, "restart"),
                          fix=make_fix(safety, f"restart: {policy}", add_entries(ctx.doc, svc.node, {"restart": policy})))
            continue
        edit = replace_scalar(ctx.doc, value, policy) if own or _whole_anchor(ctx, value) else \
            add_entries(ctx.doc, svc.node, {"restart": policy})
        yield finding(__name__, ctx, value, f"service '{svc.name}' restarts without limit (restart: {text})",
                      service=svc, key_path=("services", svc.name, "restart"),
                      fix=make_fix(safety, f"restart: {policy}", edit))


def _whole_anchor(ctx, value) -> bool:
    """True when every service inheriting this restart value from an anchor gets the same fix, so
    the value is best changed once where it is written."""
    return isinstance(value, Scalar) and ctx.anchor_editable(ID, "restart", value) and all(
        not isinstance(deref(h.get("deploy")), Map) or not isinstance(deref(deref(h.get("deploy")).get("restart_policy")), Map)
        for h in ctx.inheritors("restart", value))


def _deploy_policy(ctx, svc, restart, attempts: int):
    """Judge the merged deploy.restart_policy. An explicit `condition: any` is reported and replaced
    where it is written (a missing max_attempts joins it there); otherwise missing keys are added
    where the policy is first written. Each is reported only in that layer."""
    condition, policies = restart.condition, restart.policies
    has_max = restart.max_attempts is not None
    value = deref(condition.value) if condition else None
    cond = value.value.strip() if isinstance(value, Scalar) else "any" if condition is None else ""
    if cond == "none" or has_variable(cond) or (cond == "on-failure" and has_max):
        return
    replace = condition is not None and cond == "any"
    where = condition if replace else policies[0]
    missing = {"condition": "on-failure"} if condition is None else {}
    if not has_max:
        missing["max_attempts"] = Verbatim(str(attempts))
    if svc.overrides(where):
        yield _over_read_only(ctx, svc, {**missing, "condition": "on-failure"} if replace else missing, replace,
                              attempts)
        return
    if not where.here:
        return  # judged in the file or base that writes it
    policy = where.parent if replace else deref(where.value)
    edits = [add_entries(ctx.doc, policy, missing)] if missing else []
    if replace:
        edits.append(replace_scalar(ctx.doc, value, "on-failure"))
    if not where.editable:
        edits = [None]  # reached through a merge key or alias
    # a written policy block is the author's choice: completing or replacing it overrides them
    yield finding(__name__, ctx, policy, f"service '{svc.name}' deploy.restart_policy retries without limit",
                  service=svc, key_path=("services", svc.name, "deploy", "restart_policy"),
                  fix=make_fix(Applicability.UNSAFE, f"condition: on-failure, max_attempts: {attempts}", *edits))


def _over_read_only(ctx, svc, missing: dict, replace: bool, attempts: int):
    """The policy a read-only file writes, bounded in this mapping: Compose merges
    deploy.restart_policy key by key, so the keys written here win."""
    node = svc.node
    # an own deploy key beside a merged one would hide the merged deploy block
    mergeable = merged_entry(node, "deploy") is None or node.entry("deploy") is not None
    edit = add_under(ctx.doc, node, ["deploy", "restart_policy"], missing) if mergeable else None
    return finding(__name__, ctx, svc.key, f"service '{svc.name}' deploy.restart_policy retries without limit",
                   read_only=True, service=svc, key_path=("services", svc.name, "deploy", "restart_policy"),
                   fix=make_fix(Applicability.UNSAFE, f"condition: on-failure, max_attempts: {attempts}", edit))
