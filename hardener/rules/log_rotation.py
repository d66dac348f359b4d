"""Rotate container logs so they cannot fill the disk.

**What it finds.** A service with no `logging` block (Docker's default `json-file` driver keeps every
line forever), or a `json-file` logging block without `max-size` / `max-file`.

**Why it matters.** A chatty or attacked service writes logs without bound into
`/var/lib/docker/containers`; when that disk fills, every container on the host and often the host
itself stop working (attack tree 3.1.2).

**Example.**

    services:
      api:
        image: myorg/api

**Fix.** Adds

    logging:
      driver: json-file
      options:
        max-size: "10m"
        max-file: "3"

(options `max_size`, `max_file`), or only the missing options to an existing `json-file` block. Blocks
with another driver (`local` rotates by itself; `syslog`, `journald`, `fluentd`, `gelf`... ship logs
off the container's disk) are left alone. The fix is *safe*.

**What may break.** Only old log lines: `docker compose logs` shows at most the retained files.

**References.** MITRE ATT&CK T1499 (Endpoint Denial of Service); the Docker documentation of the json-file driver's max-size and max-file options.
"""
from __future__ import annotations

from ..compose import has_variable
from ..model import Applicability, Confidence, Severity
from ..yamltext import Alias, Map, Scalar, add_entries, add_under, deref
from .base import finding, make_fix, option

ID = "LOG001"
NAME = "no-log-rotation"
ATTACK_TREE = ("3.1.2",)
SEVERITY = Severity.MEDIUM
CONFIDENCE = Confidence.HIGH
FIX = Applicability.SAFE
OPTIONS = {"max_size": "10m", "max_file": "3"}


def check(ctx):
    size, files = str(option(ctx, __name__, "max_size")), str(option(ctx, __name__, "max_file"))
    for svc in ctx.services:
        entry = svc.entry("logging")
        path = ("services", svc.name, "logging")
        if entry is None:
            block = {"driver": "json-file", "options": {"max-size": size, "max-file": files}}
            yield finding(__name__, ctx, svc.key, f"service '{svc.name}' keeps its logs without limit",
                          service=svc, key_path=path,
                          fix=make_fix(FIX, "rotate json-file logs", add_entries(ctx.doc, svc.node, {"logging": block})))
            continue
        key, value, own = entry
        logging = deref(value)
        if not isinstance(logging, Map):
            continue
        driver = logging.get("driver")
        name = deref(driver).value.strip() if isinstance(deref(driver), Scalar) else "json-file"
        if name != "json-file" or has_variable(name):
            continue
        options = deref(logging.get("options"))
        present = set()
        if isinstance(options, Map):
            present = {k.value for k, _ in options.pairs if isinstance(k, Scalar)}
        if "max-size" in present:
            continue
        missing = {"max-size": size}
        if "max-file" not in present:
            missing["max-file"] = files
        # a block shared through an anchor is edited once, where it is written, for every user
        editable = own and not isinstance(logging.get("options"), Alias)
        edit = add_under(ctx.doc, logging, ["options"], missing) if editable else None
        yield finding(__name__, ctx, key, f"service '{svc.name}' logs with json-file but no max-size",
                      service=svc, key_path=path, fix=make_fix(FIX, "add " + ", ".join(missing), edit))
