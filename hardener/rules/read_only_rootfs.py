"""Mount the container's root file system read-only.

**What it finds.** A service without `read_only: true` (missing, or set to a false value).

**Why it matters.** A writable root file system lets a process that has been taken over change the
application itself: replace binaries or scripts, plant a web shell, add a cron job or an `ld.so`
preload, drop tools it downloads; running as root (attack tree 5.1.1) it can rewrite anything in the
image. Everything it writes also lands in the container's layer on the host's Docker disk, which has
no size limit, so a runaway log or an attacker can fill that disk for every other container (attack
tree 3.1.2). With a read-only root only the paths the author declared (volumes, tmpfs) can be written.

**Example.**

    services:
      api:
        image: myorg/api

**Fix.** Adds `read_only: true` and, when the service has no `tmpfs`, a `tmpfs` list: for images
hardener knows (`hardener/data/images.json`) the paths the image must be able to write (for nginx
`/var/cache/nginx`, `/var/run` and `/tmp`), for other images `/tmp` (option `tmpfs`), because most
programs expect a writable temporary folder. Paths a volume already covers are left out. An explicit
false value becomes `true`. A tmpfs lives in memory and counts against the service's memory limit.
The fix is *unsafe*: many images write elsewhere at start-up, and data folders must be volumes.

A `read_only: false` written in a read-only file is overridden with `read_only: true` in the
last file that may be written (a later file's value wins).

An image whose entrypoint renders configuration at start-up gets that folder as tmpfs too when the
file uses the feature: nginx configured through `/etc/nginx/templates` (mounted) or `NGINX_ENVSUBST_*`
variables renders into `/etc/nginx/conf.d` (or into `NGINX_ENVSUBST_OUTPUT_DIR`), and without it
writable starts without the user's configuration while looking alive. The tmpfs hides the image's
own `default.conf` (the templates replace it). Rendering into `/etc/nginx` itself (to template
`nginx.conf`) gets no fix: a tmpfs there would hide `mime.types` and the other files nginx reads.

**What may break.** Images that write outside their volumes. Typical extra paths for `tmpfs`:
`/run` or `/var/run` (pid files and sockets: nginx, php-fpm, supervisord), `/var/cache/nginx`,
`/var/lib/...` when no volume holds the data (databases, caches), `/home/<user>` or `$HOME/.cache`
(language runtimes), `/etc/...` for entrypoints that template their configuration at start, and
package caches for images that install at start. Run the service once with the fix and add a `tmpfs`
or volume for each path that fails with "Read-only file system".

**References.** CIS Docker Benchmark v1.2.0 section 5.12; OWASP Docker Security Cheat Sheet rule #8;
MITRE ATT&CK T1105 (Ingress Tool Transfer) and T1499 (Endpoint Denial of Service) are what it makes
harder.
"""
from __future__ import annotations

from ..compose import volume_target
from ..model import Applicability, Confidence, Severity
from ..syntax import resolve
from ..views import boolean, environment
from ..yamltext import Scalar, Seq, Verbatim, add_entries, deref, flow_text, replace_scalar
from .base import finding, make_fix, option

ID = "FS001"
NAME = "writable-root-filesystem"
ATTACK_TREE = ("5.1.1", "3.1.2")
SEVERITY = Severity.LOW
CONFIDENCE = Confidence.HIGH
FIX = Applicability.UNSAFE
OPTIONS = {"tmpfs": ["/tmp"]}


def mount_targets(svc) -> set[str] | None:
    """Container paths the service's volumes mount on, over every layer that defines it; None when
    one of them cannot be read."""
    targets = set()
    for entry in svc.written("volumes"):
        volumes = deref(entry.value)
        if volumes is None or (isinstance(volumes, Scalar) and volumes.is_null):
            continue
        if not isinstance(volumes, Seq):
            return None
        for item in volumes.items:
            target = volume_target(deref(item))
            if target is None:
                return None
            targets.add(target)
    return targets


def _rendered(svc, targets) -> tuple[list[str], str | None]:
    """(paths the image's entrypoint renders configuration into when the file uses that feature, a
    folder it renders into that holds the image's own files, or None): nginx renders
    /etc/nginx/templates (mounted, or NGINX_ENVSUBST_* variables) into /etc/nginx/conf.d, or into
    NGINX_ENVSUBST_OUTPUT_DIR. Without them writable, it starts without the user's configuration; a
    tmpfs over /etc/nginx would hide nginx.conf and mime.types, so that one gets no fix."""
    known = svc.facts()
    if known is None or not known.renders:
        return [], None
    env = environment(svc)
    out, blocked = [], None
    for render in known.renders:
        mounted = render.mounted is not None and targets is not None and any(
            t == render.mounted or t.startswith(render.mounted + "/") for t in targets)
        by_env = render.env_prefix is not None and any(n.startswith(render.env_prefix) for n in env)
        if not (mounted or by_env):
            continue
        var = env.get(render.writable_env) if render.writable_env else None
        written = resolve(var.raw) if var is not None and var.raw is not None else None
        if var is not None and not written:
            return out, f"{render.writable_env} is set outside the file"
        writable = [written.rstrip("/") or "/"] if written else list(render.writable)
        for path in writable:
            if any(_under(k, path) for k in render.keeps):
                blocked = path
            elif path not in out:
                out.append(path)
    return out, blocked


def _blocked(blocked: str | None) -> str:
    if blocked is None:
        return ""
    if blocked.startswith("/"):
        return (f"; its entrypoint renders its configuration into {blocked}, which also holds the image's own "
                "files: a tmpfs there would hide them and a read-only root would leave the configuration "
                "unrendered, so no fix is offered (render into a folder of its own, such as /etc/nginx/conf.d)")
    return f"; {blocked}, so where its entrypoint renders its configuration is not known and no fix is offered"


def _under(path: str, folder: str) -> bool:
    path, folder = path.rstrip("/") or "/", folder.rstrip("/") or "/"
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def _measured(known, targets, adds_tmpfs: bool) -> str:
    """What the message adds when the paths were measured: the observation the tmpfs list comes from,
    and the image's own data volumes (its VOLUME lines), which Docker mounts as anonymous volumes, so
    they stay writable under a read-only root."""
    if known is None:
        return ""
    out = ""
    why = known.why("writable")
    if why and adds_tmpfs:
        out += f"; tmpfs from the observation: {why}"
    volumes = [v for v in known.volumes if targets is None or v.rstrip("/") not in targets]
    if volumes:
        out += (f"; the image's data volume{'s' if len(volumes) > 1 else ''} {', '.join(volumes)} "
                f"stay{'s' if len(volumes) == 1 else ''} writable (an anonymous volume unless the file mounts one)")
    return out


def check(ctx):
    paths = option(ctx, __name__, "tmpfs")
    paths = [paths] if isinstance(paths, str) else list(paths)
    for svc in ctx.services:
        entry, here = svc.last_value("read_only")
        locked = svc.locked_value("read_only") is not None  # a read-only file's value: a later one wins
        if entry is not None and not here and not locked:
            continue  # written in another file or base, and judged there
        if entry is None and svc.builds_on:
            continue  # missing everywhere: reported where the service is first defined
        if entry is not None and boolean(entry.value) is not False:
            continue  # true, or a variable or spelling this rule does not read
        extra = {}
        targets = mount_targets(svc)
        known = svc.profile()
        candidates = list(known.writable) if known is not None else paths
        rendered, blocked = _rendered(svc, targets)
        candidates += [p for p in rendered if p not in candidates]
        # a tmpfs on the image's own data volume would replace that volume: its data would not survive
        volumes = svc.facts().volumes if svc.facts() is not None else ()
        wanted = [p for p in candidates if targets is not None and (p.split(":")[0].rstrip("/") or "/") not in targets
                  and not any(_under(p.split(":")[0], v) for v in volumes)]
        if svc.entry("tmpfs") is None and wanted and not svc.builds_on:
            extra["tmpfs"] = [flow_text(ctx.doc, p, svc.node.flow) for p in wanted]
        if svc.shared or blocked:
            edits = [None]  # blocked: its entrypoint renders where a tmpfs would hide the image's files
        elif entry is None or not entry.own:
            edits = [add_entries(ctx.doc, svc.node, {"read_only": True, **extra})]
        else:
            value = entry.value
            scalar = value if isinstance(value, Scalar) and not value.anchor else None
            edits = [replace_scalar(ctx.doc, scalar, Verbatim("true")) if scalar else None]
            if extra:
                edits.append(add_entries(ctx.doc, svc.node, extra))
        what = "read_only: true" + (f" with tmpfs {', '.join(wanted)}" if extra else "")
        where = entry.value if entry is not None and not locked else svc.key
        yield finding(__name__, ctx, deref(where), f"service '{svc.name}' can write anywhere in its root file "
                      "system; make it read-only and declare the paths it must write"
                      + _measured(svc.facts(), targets, bool(extra)) + _blocked(blocked), read_only=locked,
                      service=svc, key_path=("services", svc.name, "read_only"), fix=make_fix(FIX, what, *edits))
