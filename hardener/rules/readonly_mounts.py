"""Mount configuration read-only.

**What it finds.** A bind mount that the service very likely only reads but that is mounted
read-write: configuration files and certificates (`.conf`, `.yml`, `.json`, `.ini`, `.toml`, `.pem`,
`.crt`, `.key`...), `/etc/localtime` and `/etc/timezone`, database init scripts
(`/docker-entrypoint-initdb.d`), and configuration or static-content folders (`/etc/...`,
`/usr/local/etc/...`, `/usr/share/nginx/html`).

**Why it matters.** A writable mount lets a compromised container change files on the host, and
through them other containers that mount the same path: rewrite a proxy's config, plant a script that
a database runs at its next start, replace a certificate (attack tree 2.2.1).

**Heuristic.** The decision is conservative and looks only at paths: a file target with a
configuration or certificate extension, or one of the well-known read-only locations above. Data
folders, sockets, logs, databases (`.db`, `.sqlite`), `acme.json` and anything mounted with an explicit
`rw` are not reported. Docker sockets are the concern of the daemon-socket rule, where `:ro` does not
help. A mount that a later file (an override, an `extends`) replaces at the same container path is
not judged: Compose keeps only the later one.

**Example.**

    services:
      proxy:
        image: nginx
        volumes:
          - ./nginx.conf:/etc/nginx/nginx.conf

**Fix.** Appends `:ro` (merged into an existing mode list: `:z` becomes `:ro,z`) in short syntax; sets
`read_only: true` in long syntax. *Safe* for single configuration files, time-zone files and init
scripts; *unsafe* for whole folders under `/etc` or static content, which some images write to at
start (templating a config, fixing permissions).

**What may break.** Images that edit their own configuration at start-up (templating entrypoints,
settings pages that save to the mounted file).

**References.** OWASP Docker Security Cheat Sheet rule #8 (set filesystem and volumes to read-only).
"""
from __future__ import annotations

import posixpath
import re

from ..compose import has_variable
from ..model import Applicability, Confidence, Severity
from ..yamltext import Alias, Map, Scalar, add_entries, deref, replace_scalar
from .base import finding, make_fix
from .ports_loopback import split_colons

ID = "VOL001"
NAME = "writable-config-mount"
ATTACK_TREE = ("2.2.1",)
SEVERITY = Severity.LOW
CONFIDENCE = Confidence.MEDIUM
FIX = Applicability.SAFE
OPTIONS: dict = {}

CONFIG_EXT = {".conf", ".cnf", ".cfg", ".ini", ".toml", ".yaml", ".yml", ".json", ".xml", ".properties",
              ".pem", ".crt", ".cert", ".key", ".pub", ".htpasswd", ".lua", ".rules", ".tmpl", ".template",
              ".caddyfile", ".vcl", ".sql", ".env"}
CONFIG_NAMES = {"caddyfile", "nginx.conf", "my.cnf", "haproxy.cfg", "htpasswd", "localtime", "timezone"}
WRITABLE_NAMES = {"acme.json", "docker.sock", "podman.sock"}
SAFE_DIRS = ("/docker-entrypoint-initdb.d",)
UNSAFE_DIRS = ("/etc/", "/usr/local/etc/", "/usr/share/nginx/html")
WRITABLE_DIRS = ("/etc/letsencrypt", "/etc/gitlab", "/etc/traefik/acme", "/etc/pihole", "/etc/dnsmasq.d",
                 "/etc/wireguard", "/etc/openvpn", "/etc/ssh", "/etc/webmin", "/etc/ipsec")


def classify(source: str, target: str) -> Applicability | None:
    """SAFE or UNSAFE when the mount should be read-only, None when it should be left alone."""
    target = target.rstrip("/") or "/"
    name = posixpath.basename(target).lower()
    if name in WRITABLE_NAMES or posixpath.basename(source).lower() in WRITABLE_NAMES:
        return None
    if any(target == d or target.startswith(d + "/") for d in WRITABLE_DIRS) or target in ("/etc", "/"):
        return None
    ext = posixpath.splitext(name)[1]
    if name in CONFIG_NAMES or ext in CONFIG_EXT:
        return Applicability.SAFE
    if any(target == d or target.startswith(d + "/") for d in SAFE_DIRS):
        return Applicability.SAFE
    if any(target.startswith(d) or target == d.rstrip("/") for d in UNSAFE_DIRS):
        return Applicability.UNSAFE
    return None


def is_bind_source(source: str) -> bool:
    return source.startswith(("/", ".", "~")) or ("/" in source and source.startswith("$"))


def add_ro(spec: str) -> str | None:
    """Short-syntax volume with ro added, or None when it is not a bind mount we should touch."""
    if re.match(r"^[A-Za-z]:[\\/]", spec):
        return None  # a Windows path
    parts = split_colons(spec)
    if len(parts) not in (2, 3) or not is_bind_source(parts[0]) or not parts[1].startswith("/"):
        return None
    modes = parts[2].split(",") if len(parts) == 3 else []
    if "ro" in modes or "rw" in modes:
        return None
    return f"{parts[0]}:{parts[1]}:" + ",".join(["ro"] + modes)


def check(ctx):
    for svc in ctx.services:
        # only mounts that survive Compose's merge by target, judged where they are written
        for entry, item in svc.surviving("volumes"):
            if not entry.here:
                continue
            node = deref(item)
            fixable = entry.own and not isinstance(entry.value, Alias) and not isinstance(item, Alias)
            if isinstance(node, Scalar):
                spec = node.value.strip()
                new = add_ro(spec)
                if new is None or has_variable(split_colons(spec)[1]):
                    continue
                source, target = split_colons(spec)[:2]
                safety = classify(source, target)
                edit = replace_scalar(ctx.doc, node, new) if fixable else None
            elif isinstance(node, Map):
                kind = deref(node.get("type"))
                source, target = deref(node.get("source")), deref(node.get("target"))
                if not (isinstance(kind, Scalar) and kind.value == "bind" and isinstance(target, Scalar)):
                    continue
                if node.get("read_only") is not None:
                    continue
                src = source.value if isinstance(source, Scalar) else ""
                safety = classify(src, target.value)
                edit = add_entries(ctx.doc, node, {"read_only": True}) if fixable else None
            else:
                continue
            if safety is None:
                continue
            label = f"{source}:{target}" if isinstance(source, str) else f"{src} -> {target.value}"
            yield finding(__name__, ctx, node, f"service '{svc.name}' mounts {label} writable although it "
                          "only needs to read it", service=svc, key_path=("services", svc.name, "volumes"),
                          fix=make_fix(safety, "mount read-only", edit))
