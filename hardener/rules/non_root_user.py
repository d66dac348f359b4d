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
or replaces an explicit root user with it. The fix is never *safe*: which user works depends on who
owns the files the service reads and writes (its volumes, bind mounts, the paths its entrypoint
prepares), and nothing in the file says that. What hardener knows about images
(`hardener/data/images.json`, each entry with its source) decides what is offered:

- an image that already runs as a dedicated non-root user (grafana 472, loki and tempo 10001,
  sonarqube and zammad 1000, mongodb-community-server, chainguard images 65532, elasticsearch,
  opensearch and its dashboards, bitnami images 1001...) is not reported when `user` is absent; an
  explicit root user on it is replaced by the image's own user, never 65534, which would not own its
  volumes;
- an image that must start as root and drops privileges itself (postgres and its derivatives,
  mysql, mariadb, redis, nginx) is reported at low severity with no fix: forcing a user breaks its
  start-up. An observation (`hardener observe`, docs/observe.md) that saw the service's main process
  drop from root to a uid:gid (gosu, su-exec; not a root master with workers, like nginx) makes it an
  *unsafe* fix, `user: "<uid>:<gid>"`, saying so ("observed dropping to uid 999 (gid 999) on
  2026-12-06"), but only when every mount the service may write is a named or anonymous volume
  declared in the file: the entrypoint's chown is skipped then, which a fresh volume (owned as in the
  image) does not need, but a bind mount, an external volume or one with driver options, whose owner
  on the host is unknown, may;
- a container that exists to change ownership or modes (its command or entrypoint runs `chown`,
  `chmod`, `chgrp` or `setfacl`: an init or permission container) is reported at low severity with no
  fix: it needs root for exactly that;
- a base image (alpine, busybox, debian, ubuntu, python, node...) does what its command does: the
  fix (`node` for node, 65534 otherwise) is *unsafe*, and an explicit root user on a base image that
  runs a command of its own is left to the author (no fix);
- a base image, an unknown image or one whose user hardener does not know that writes to a volume or
  bind mount (not configuration it only reads) gets no fix: a named volume belongs to root or to the
  user the image runs as, and 65534 would own neither, so an init script writing there would fail.
  The message says how to find the user (`docker image inspect`) and the owner of the volumes.

A `user: root` written in a read-only file is overridden with the chosen user in the last file that
may be written (a later file's value wins).

**What may break.** Images that need root at start-up (to bind ports below 1024, chown a data
directory or drop privileges themselves), and bind mounts whose files only root can write. Prefer
the image's own non-root user (for example `node`, `nginx` in the unprivileged variants, `999` for
postgres data directories you own).

**References.** OWASP Docker Security Cheat Sheet rule #2 (set a user); CIS Docker Benchmark, "Ensure that a user for the container has been created"; MITRE ATT&CK T1611 (Escape to Host).
"""
from __future__ import annotations

import re

from .. import knowledge
from ..compose import as_str_list
from ..model import Applicability, Confidence, Severity
from ..syntax import is_bind_source
from ..yamltext import Map, Scalar, Seq, Verbatim, add_entries, deref, quoted, replace_scalar
from .base import finding, make_fix, option

ID = "USR001"
NAME = "non-root-user"
ATTACK_TREE = ("5.1.1",)
SEVERITY = Severity.HIGH
CONFIDENCE = Confidence.MEDIUM
FIX = Applicability.UNSAFE
OPTIONS = {"user": "65534:65534"}


def _permission_work(svc) -> bool:
    """Whether the service's command or entrypoint changes file ownership or modes (an init or
    permission container)."""
    words = re.findall(r"[A-Za-z0-9_./-]+", " ".join(_command_words(svc)))
    return any(w.rsplit("/", 1)[-1] in knowledge.PERMISSION_COMMANDS for w in words)


def _command_words(svc) -> list[str]:
    out = []
    for key in ("entrypoint", "command"):
        node = svc.get(key)
        if isinstance(node, Seq):
            out += as_str_list(node)
        elif isinstance(node, Scalar) and not node.is_null:
            out.append(node.value)
    return out


_NO_OWNER = ("it writes to {} and nothing shows which user owns them, so no user is forced: find the user the image "
             "runs as (docker image inspect -f '{{{{.Config.User}}}}' IMAGE) and the owner of its volumes, then set "
             "user: to them")


def _written_mounts(svc) -> list[str]:
    """Container paths of the volumes and bind mounts the service may write (sockets and configuration
    aside)."""
    out = []
    for mount in svc.mounts():
        source = mount.source or ""
        if mount.read_only or mount.kind == "tmpfs" or source.rstrip("/").endswith(".sock"):
            continue
        if mount.target and knowledge.config_mount(source, mount.target) is not None:
            continue  # configuration it reads (VOL001 mounts it :ro), not data it writes
        if mount.target and mount.target not in out:
            out.append(mount.target)
    return out


def _only_volumes(ctx, svc) -> bool:
    """Whether every mount the service may write is a named or anonymous volume Docker creates (so the
    files in it belong to the image's users): no bind mount, whose owner on the host is unknown, no
    volume declared elsewhere, external or with driver options (a bind in disguise), no volumes_from."""
    if svc.get("volumes_from") is not None:
        return False
    top = ctx.top("volumes")
    for mount in svc.mounts():
        if mount.read_only or mount.kind == "tmpfs":
            continue
        if mount.spec is None and mount.kind != "volume":
            return False
        source = mount.source or ""
        if not source:
            if mount.spec is not None and len(mount.parts) > 1:
                return False
            continue  # an anonymous volume
        if "$" in source or is_bind_source(source):
            return False
        declared = deref(top.get(source)) if isinstance(top, Map) else None
        if isinstance(declared, Map):
            if any(declared.get(k) is not None for k in ("external", "driver_opts")):
                return False
            driver = deref(declared.get("driver"))
            if driver is not None and not (isinstance(driver, Scalar) and driver.value in ("", "local")):
                return False
        elif not (isinstance(declared, Scalar) and declared.is_null):
            return False  # not declared in this file: nothing says what it is
    return True


def _no_user_known(known) -> bool:
    """Whether nothing tells which user other than root the image works with: an unknown image, a base
    image (what it needs is what its command does) or facts that say nothing about its user."""
    return known is None or known.base or not (known.user or known.runs_as)


def _facts(svc):
    return svc.facts()


def _measured(known) -> str:
    """How the image was seen to run, when it was observed (the drop target's uid...), for the message."""
    why = known.why("user") if known is not None else None
    return f" ({why})" if why else ""


def _missing_user(ctx, svc, user):
    known = _facts(svc)
    path = ("services", svc.name, "user")
    if known is not None and known.default_non_root:
        return None
    if known is not None and known.drops_privileges:
        target = known.drops_to
        if target and _only_volumes(ctx, svc):
            return finding(__name__, ctx, svc.key, f"service '{svc.name}' runs as root at start-up and its image "
                           f"drops privileges itself; {known.why('drops_to')}, and it writes only to volumes "
                           f"Docker creates (no bind mount), so it can start as {target} (its entrypoint then "
                           "skips its own chown)", service=svc, key_path=path, severity=Severity.LOW,
                           fix=make_fix(FIX, f"run as {target} (observed)",
                                        add_entries(ctx.doc, svc.node,
                                                    {"user": Verbatim(quoted(target, ctx.doc.quote))})))
        return finding(__name__, ctx, svc.key, f"service '{svc.name}' runs as root at start-up; its image "
                       "drops privileges itself, so no user is forced (keep its capabilities minimal)"
                       + _measured(known),
                       service=svc, key_path=path, severity=Severity.LOW)
    if _permission_work(svc):
        return finding(__name__, ctx, svc.key, f"service '{svc.name}' runs as root to change file ownership or "
                       "modes (an init container); no user is forced: keep it one-shot and give it nothing else",
                       service=svc, key_path=path, severity=Severity.LOW)
    what = "its base image runs as root and what it needs depends on its command and volumes" if \
        known is not None and known.base else "it runs as the image's default user, usually root"
    owned = _written_mounts(svc)
    if owned and _no_user_known(known):
        return finding(__name__, ctx, svc.key, f"service '{svc.name}' sets no user, so {what}; "
                       + _NO_OWNER.format(", ".join(owned)) + _measured(known), service=svc, key_path=path,
                       severity=Severity.MEDIUM)
    chosen = known.user if known is not None and known.base and known.user else user
    return finding(__name__, ctx, svc.key, f"service '{svc.name}' sets no user, so {what}" + _measured(known),
                   service=svc,
                   key_path=path, severity=Severity.MEDIUM,
                   fix=make_fix(FIX, f"run as {chosen}", add_entries(ctx.doc, svc.node, {"user": chosen})))


def check(ctx):
    user = str(option(ctx, __name__, "user"))
    for svc in ctx.services:
        run_as = svc.user()
        if run_as.written is None:
            found = _missing_user(ctx, svc, user)
            if found is not None:
                yield found
            continue
        value, text = run_as.scalar, run_as.text
        if value is None or not run_as.root:  # written through an alias, with a variable, or not root
            continue
        known = _facts(svc)
        message = f"service '{svc.name}' runs as root explicitly (user: {text})"
        path = ("services", svc.name, "user")
        if known is not None and known.drops_privileges:
            yield finding(__name__, ctx, value, message + "; its image starts as root and drops privileges "
                          "itself, so no other user is forced" + _measured(known), service=svc, key_path=path,
                          severity=Severity.LOW)
            continue
        if _permission_work(svc) or (known is not None and known.base and _command_words(svc)):
            why = "to change file ownership or modes (an init container)" if _permission_work(svc) else \
                "to run its own command on a base image"
            yield finding(__name__, ctx, value, message + f" {why}; no other user is forced: keep it one-shot "
                          "and give it nothing else", service=svc, key_path=path, severity=Severity.LOW)
            continue
        owned = _written_mounts(svc)
        if owned and _no_user_known(known):
            yield finding(__name__, ctx, value, message + "; " + _NO_OWNER.format(", ".join(owned)), service=svc,
                          key_path=path)
            continue
        chosen = _chosen(known, user)
        if svc.locked_value("user") is not None:  # a read-only file's value: a later one wins
            yield finding(__name__, ctx, svc.key, message, read_only=True, service=svc, key_path=path,
                          fix=make_fix(FIX, f"run as {chosen} instead of root",
                                       add_entries(ctx.doc, svc.node, {"user": chosen})))
            continue
        own = run_as.written.own
        shared_ok = not own and ctx.anchor_editable(ID, "user", value) and all(
            _chosen(_facts(h), user) == chosen for h in ctx.inheritors("user", value))
        edit = replace_scalar(ctx.doc, value, chosen) if own or shared_ok else \
            add_entries(ctx.doc, svc.node, {"user": chosen})
        yield finding(__name__, ctx, value, message, service=svc, key_path=path,
                      fix=make_fix(FIX, f"run as {chosen} instead of root", edit))


def _chosen(known, user: str) -> str:
    """The user to run as instead of root: the image's own non-root user, a base image's usual
    user, else the option."""
    if known is not None and known.runs_as:
        return known.runs_as
    if known is not None and known.user:
        return known.user
    return user
