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

When the `json-file` block is written in a read-only file, the last file that may be written gets
`logging: {options: {max-size, max-file}}` (or the options added to its own block) without a
driver: Compose merges the options with the read-only file's block, whose driver stays.

**What may break.** Only old log lines: `docker compose logs` shows at most the retained files. The
service itself keeps running, but on a host whose daemon sets another default driver in
`daemon.json` (`"log-driver": "journald"`, `gelf`, a Loki plugin...), a written `json-file` block
overrides that default for this service, so its logs stay on the host instead of being shipped. On
such hosts, write the driver the host uses in the file (LOG001 then leaves the block alone) or ignore
LOG001 in the configuration.

**References.** MITRE ATT&CK T1499 (Endpoint Denial of Service); the Docker documentation of the json-file driver's max-size and max-file options.
"""
from __future__ import annotations

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


def _options(blocks) -> set[str]:
    out = set()
    for written in blocks:
        options = deref(deref(written.value).get("options"))
        if isinstance(options, Map):
            out |= {k.value for k, _ in options.pairs if isinstance(k, Scalar)}
    return out


def check(ctx):
    size, files = str(option(ctx, __name__, "max_size")), str(option(ctx, __name__, "max_file"))
    for svc in ctx.services:
        blocks, driver = svc.logging()
        path = ("services", svc.name, "logging")
        if not blocks:
            block = {"driver": "json-file", "options": {"max-size": size, "max-file": files}}
            yield finding(__name__, ctx, svc.key, f"service '{svc.name}' keeps its logs without limit",
                          service=svc, key_path=path,
                          fix=make_fix(FIX, "rotate json-file logs", add_entries(ctx.doc, svc.node, {"logging": block})))
            continue
        if driver != "json-file":
            continue  # another driver (rotating or shipping logs away), or one we cannot read
        present = _options(blocks)
        if "max-size" in present:
            continue
        first = blocks[0]
        # over a read-only file's block, this mapping's logging gets the options: Compose merges them
        locked = svc.overrides(first)
        if not first.here and not locked:
            continue  # reported and fixed where the logging block is first written (a base, an earlier file)
        missing = {"max-size": size}
        if "max-file" not in present:
            missing["max-file"] = files
        mine = next((w for w in blocks if w.here), None)
        message = f"service '{svc.name}' logs with json-file but no max-size"
        yield finding(__name__, ctx, mine.key if mine else svc.key, message, read_only=locked, service=svc,
                      key_path=path,
                      fix=make_fix(FIX, "add " + ", ".join(missing), _add_options(ctx, svc, mine, missing)))


def _add_options(ctx, svc, mine, missing):
    """The edit adding the missing options to this mapping's logging block (a new block without a
    driver, which keeps the driver of the block it merges with, when it writes none)."""
    if mine is None:
        return add_entries(ctx.doc, svc.node, {"logging": {"options": missing}})
    # a block shared through an anchor is edited once, where it is written, for every user
    logging = deref(mine.value)
    editable = mine.own and not isinstance(logging.get("options"), Alias)
    return add_under(ctx.doc, logging, ["options"], missing) if editable else None
