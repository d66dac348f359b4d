"""Let only one service write a shared volume.

**What it finds.** A named volume (declared under the top-level `volumes:`, or used by name) that two
or more services mount read-write, counting `volumes_from` without `:ro`. One finding per volume,
naming every service that can write it.

**Why it matters.** A shared writable volume is a path between containers that no network rule
sees. Whoever takes over one of them can change what the others read and run: plant a script in a web
root that the application server executes, rewrite a configuration or a certificate the proxy loads,
corrupt or read the database files behind the database's own access control (attack tree 2.2.1).
A consumer that only reads the volume should mount it `:ro`; then the damage a compromised consumer
can do stays inside it.

**Example.**

    services:
      app:
        image: example/django
        volumes:
          - static:/app/staticfiles
      web:
        image: nginx:1.27
        volumes:
          - static:/usr/share/nginx/html/static
    volumes:
      static:

**Fix.** Only when exactly one service is clearly the writer, the others get `:ro` (`read_only: true`
in long syntax), *unsafe*. A writer is clear when
- every other service is a reader by its nature: a static file server (nginx, httpd, caddy, openresty,
  lighttpd) mounting the volume under its document or configuration root or a static-content folder, or
  any service mounting it at a configuration path (`/etc/...`, a config file, init scripts); or
- exactly one of the services is a datastore or broker image (postgres, mysql, redis, ...): the files
  are its own, and any other process writing them corrupts them.
Consumers that look like one-shot preparation jobs (a command with `chown`, `cp`, `tar`, `rsync`,
`migrate`...) keep write access and the finding gets no fix, as do volumes shared through
`volumes_from`, aliases or merge keys, or mounted `rw` explicitly. When it is unclear who writes, the
finding is reported without a fix: decide, then add `:ro` where it belongs.

**What may break.** A consumer that writes more than it seems to: a web server that keeps a cache or
uploads in the shared folder, a backup tool that also restores. Give such data its own volume.

**References.** OWASP Docker Security Cheat Sheet rule #8.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from .. import knowledge
from ..compose import as_str_list
from ..model import Applicability, Confidence, Severity
from ..yamltext import Map, Node, Scalar, Seq, add_entries, replace_scalar
from .base import finding, make_fix

ID = "VOL003"
NAME = "shared-writable-volume"
ATTACK_TREE = ("2.2.1",)
SEVERITY = Severity.MEDIUM
CONFIDENCE = Confidence.MEDIUM
FIX = Applicability.UNSAFE
OPTIONS: dict = {}

_VOLUME_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")


@dataclass
class VolumeUse:
    node: Node
    target: str
    edit: object  # the edit that makes it read-only, None when there is none


@dataclass
class User:
    svc: object
    mounts: list = field(default_factory=list)
    inherited: bool = False  # through volumes_from


def _named_mounts(ctx, svc):
    """(volume name, VolumeUse, read-only) for every named-volume mount of the service that survives
    Compose's merge of its layers by target (a mount is editable only where this mapping writes it)."""
    for m in svc.mounts():
        if m.spec is not None:
            parts = m.parts
            if len(parts) < 2 or not _VOLUME_NAME.fullmatch(parts[0]) or not parts[1].startswith("/"):
                continue
            new = None
            if "rw" not in m.modes and len(parts) <= 3:
                new = f"{parts[0]}:{parts[1]}:" + ",".join(["ro"] + m.modes)
            edit = replace_scalar(ctx.doc, m.node, new) if m.editable and new else None
        elif (m.kind == "volume" and m.source is not None and m.target is not None
              and _VOLUME_NAME.fullmatch(m.source)):
            edit = add_entries(ctx.doc, m.node, {"read_only": True}) if m.editable and not m.explicit else None
        else:
            continue
        yield m.source, VolumeUse(m.node, m.target, edit), m.read_only


def _is_reader(svc, target: str) -> bool:
    """Whether the service, by its image and where it mounts the volume, only reads it."""
    target = target.rstrip("/") or "/"
    if knowledge.config_mount("", target) is not None:
        return True
    last = svc.image_name().rsplit("/", 1)[-1]
    if last not in knowledge.STATIC_SERVERS:
        return False
    segments = target.lower().split("/")
    return (any(target == r or target.startswith(r + "/") for r in knowledge.STATIC_ROOTS)
            or any(s in knowledge.STATIC_SEGMENTS for s in segments))


def _is_job(svc) -> bool:
    """A service that looks like a one-shot job preparing data (it writes even if it looks like a reader)."""
    words = []
    for key in ("command", "entrypoint"):
        node = svc.get(key)
        words += (as_str_list(node) if isinstance(node, Seq) else
                  [node.value] if isinstance(node, Scalar) and not node.is_null else [])
    text = " ".join(words).lower()
    return any(re.search(rf"(?:^|[\s;&|/]){w}(?:$|[\s;&|])", text) for w in knowledge.WRITING_COMMANDS)


def _users(ctx):
    """volume name -> {service name: User} for read-write mounts, volumes_from included."""
    by_volume: dict[str, dict[str, User]] = {}
    own: dict[str, list[str]] = {}
    for svc in ctx.services:
        for name, mount, ro in _named_mounts(ctx, svc):
            own.setdefault(svc.name, []).append(name)
            if not ro:
                by_volume.setdefault(name, {}).setdefault(svc.name, User(svc)).mounts.append(mount)
    for svc in ctx.services:
        for ref in as_str_list(svc.get("volumes_from")):
            source, _, mode = ref.partition(":")
            if source == "container" or "ro" in mode.split(","):
                continue
            for name in own.get(source, []):
                if svc.name in by_volume.get(name, {}) or source not in by_volume.get(name, {}):
                    continue
                by_volume[name][svc.name] = User(svc, inherited=True)
    return by_volume


def _writer(users: list[User]):
    """The one service that clearly writes, or None when that is not clear."""
    readers = [u for u in users if all(_is_reader(u.svc, m.target) for m in u.mounts) and u.mounts]
    others = [u for u in users if u not in readers]
    if len(others) == 1 and readers:
        return others[0]
    stores = [u for u in users if u.svc.datastore_kind() is not None]
    if len(stores) == 1:
        return stores[0]
    return None


def check(ctx):
    top = ctx.top("volumes")
    declared = {k.value: k for k, _ in top.pairs if isinstance(k, Scalar)} if isinstance(top, Map) else {}
    for name, by_service in _users(ctx).items():
        users = list(by_service.values())
        if len(users) < 2:
            continue
        writer = _writer(users)
        fix = None
        if writer is not None:
            consumers = [u for u in users if u is not writer]
            if all(not u.inherited and not _is_job(u.svc) for u in consumers):
                edits = [m.edit for u in consumers for m in u.mounts]
                fix = make_fix(FIX, f"mount '{name}' read-only outside {writer.svc.name}", *edits)
        names = ", ".join(u.svc.name for u in users)
        where = declared.get(name) or (users[0].mounts[0].node if users[0].mounts else users[0].svc.key)
        hint = (f"only {writer.svc.name} seems to write it; mount it :ro in the others" if writer is not None
                else "mount it :ro in every service that only reads it")
        yield finding(__name__, ctx, where, f"volume '{name}' is writable by {len(users)} services ({names}): "
                      f"one compromised container can change what the others read; {hint}",
                      key_path=("volumes", name), fix=fix)
