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

from .. import knowledge
from ..model import Applicability, Confidence, Severity
from ..syntax import add_ro, has_variable
from ..yamltext import add_entries, replace_scalar
from .base import finding, make_fix

ID = "VOL001"
NAME = "writable-config-mount"
ATTACK_TREE = ("2.2.1",)
SEVERITY = Severity.LOW
CONFIDENCE = Confidence.MEDIUM
FIX = Applicability.SAFE
OPTIONS: dict = {}

def check(ctx):
    for svc in ctx.services:
        # only mounts that survive Compose's merge by target, judged where they are written
        for m in svc.mounts():
            if not m.here:
                continue
            if m.spec is not None:
                new = add_ro(m.spec)
                if new is None or has_variable(m.target):
                    continue
                source, label = m.source, f"{m.source}:{m.target}"
                edit = replace_scalar(ctx.doc, m.node, new) if m.editable else None
            elif m.kind == "bind" and m.target is not None and not m.explicit:
                source = m.source if m.source is not None else ""
                label = f"{source} -> {m.target}"
                edit = add_entries(ctx.doc, m.node, {"read_only": True}) if m.editable else None
            else:
                continue
            safety = knowledge.config_mount(source, m.target)
            if safety is None:
                continue
            yield finding(__name__, ctx, m.node, f"service '{svc.name}' mounts {label} writable although it "
                          "only needs to read it", service=svc, key_path=("services", svc.name, "volumes"),
                          fix=make_fix(safety, "mount read-only", edit))
