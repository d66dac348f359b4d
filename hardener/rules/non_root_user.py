"""Run the service as an unprivileged user.

**What it finds.** A service with no `user:` (most images then run as root), or with `user` set to
root explicitly (`root`, `0`, `0:0`, `root:root`, `0:<gid>`).

**Why it matters.** Root inside the container is the same uid 0 as on the host unless user namespaces
are on. A process that breaks out through a kernel or runtime bug, or that reaches a mounted host path,
acts as root there. Inside the container, root can also rewrite the application itself (attack tree
5.1.1).

**Example.**

    services:
      api:
        image: python:3.12
        user: root

**Fix.** Adds `user: "<uid>:<gid>"` (option `user`, default `65534:65534`, the conventional `nobody`),
or replaces an explicit root user with it. For images hardener knows: an image that already runs as
a non-root user (grafana, prometheus, elasticsearch, bitnami images...) is not reported when `user` is
absent; an image with a known working user (`node` for node) gets that user as a *safe* fix; an image
that must start as root and drops privileges itself (postgres, mysql, redis, nginx) is reported at low
severity with no fix, because forcing a user breaks its start-up.

A `user: root` written in a read-only file is overridden with the chosen user in the last file that
may be written (a later file's value wins).

**What may break.** Images that need root at start-up (to bind ports below 1024, chown a data
directory or drop privileges themselves), and bind mounts whose files only root can write. The fix is
*unsafe* for that reason; prefer the image's own non-root user (for example `node`, `nginx` in the
unprivileged variants, `999` for postgres data directories you own).

**References.** OWASP Docker Security Cheat Sheet rule #2 (set a user); CIS Docker Benchmark, "Ensure that a user for the container has been created"; MITRE ATT&CK T1611 (Escape to Host).
"""
from __future__ import annotations

from ..compose import has_variable
from ..model import Applicability, Confidence, Severity
from ..yamltext import Scalar, add_entries, replace_scalar
from .base import IN_READ_ONLY, finding, make_fix, option

ID = "USR001"
NAME = "non-root-user"
ATTACK_TREE = ("5.1.1",)
SEVERITY = Severity.HIGH
CONFIDENCE = Confidence.MEDIUM
FIX = Applicability.UNSAFE
OPTIONS = {"user": "65534:65534"}


def is_root(user: str) -> bool:
    name = user.split(":", 1)[0].strip()
    return name in ("root", "0")


def _missing_user(ctx, svc, user):
    known = svc.profile()
    path = ("services", svc.name, "user")
    if known is not None and known.default_non_root:
        return None
    if known is not None and known.user is None:
        return finding(__name__, ctx, svc.key, f"service '{svc.name}' runs as root at start-up; its image "
                       "drops privileges itself, so no user is forced (keep its capabilities minimal)",
                       service=svc, key_path=path, severity=Severity.LOW)
    chosen, safety = (known.user, Applicability.SAFE) if known is not None else (user, FIX)
    return finding(__name__, ctx, svc.key, f"service '{svc.name}' sets no user, so it runs as the image's "
                   "default user, usually root", service=svc, key_path=path, severity=Severity.MEDIUM,
                   fix=make_fix(safety, f"run as {chosen}", add_entries(ctx.doc, svc.node, {"user": chosen})))


def check(ctx):
    user = str(option(ctx, __name__, "user"))
    for svc in ctx.services:
        entry = svc.entry("user")
        if entry is None:
            found = _missing_user(ctx, svc, user)
            if found is not None:
                yield found
            continue
        value, own = entry.value, entry.own
        text = value.value if isinstance(value, Scalar) else None
        if text is None or has_variable(text) or not is_root(text):
            continue
        known = svc.profile()
        message = f"service '{svc.name}' runs as root explicitly (user: {text})"
        path = ("services", svc.name, "user")
        if known is not None and known.user is None and not known.default_non_root:
            yield finding(__name__, ctx, value, message + "; its image starts as root and drops privileges "
                          "itself, so no other user is forced", service=svc, key_path=path, severity=Severity.LOW)
            continue
        chosen = known.user if known is not None and known.user else user
        if svc.locked_value("user") is not None:  # a read-only file's value: a later one wins
            yield finding(__name__, ctx, svc.key, message + IN_READ_ONLY, service=svc, key_path=path,
                          fix=make_fix(FIX, f"run as {chosen} instead of root",
                                       add_entries(ctx.doc, svc.node, {"user": chosen})))
            continue
        shared_ok = not own and ctx.anchor_editable(ID, "user", value) and all(
            h.profile() is None for h in ctx.inheritors("user", value))
        edit = replace_scalar(ctx.doc, value, chosen) if own or shared_ok else \
            add_entries(ctx.doc, svc.node, {"user": chosen})
        yield finding(__name__, ctx, value, message, service=svc, key_path=path,
                      fix=make_fix(FIX, f"run as {chosen} instead of root", edit))
