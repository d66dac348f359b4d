"""What Docker will run differently: each service's effective settings before and after a fix.

A reviewer of a patch sees the lines that change; Docker runs the merged model. One edit to an anchor
changes every service that merges it, an override file changes the base it is read with, a base
reached through `extends` changes its extenders. This module builds that merged model the way
`docker compose config` does and compares the two models with deepdiff:

- YAML anchors, aliases and merge keys (`<<`) resolved by the YAML loader;
- `extends` (same file, or `file:` in the project's tree), recursively;
- override files merged in order, by the Compose merge rules: mappings merged key by key; `command`,
  `entrypoint` and `healthcheck.test` replaced; `ports`, `volumes`, `secrets`, `configs` and `devices`
  merged by their unique key; `environment`, `labels`, `sysctls`, `annotations`, `extra_hosts` and
  `build.args` merged as mappings; other sequences appended (and `cap_add`, `cap_drop`, `dns`,
  `security_opt`, ... without duplicates); the `!reset` and `!override` tags honoured;
- `include` (strings or `path:` entries, inside the project's tree): the included services join the
  model unless the project defines them itself.

Values are kept as written (short port and volume syntax stays a string, so a change reads
`"8080:80"` -> `"127.0.0.1:8080:80"`); lists of `KEY=VALUE` become mappings, as Compose makes them,
so a change to one variable is one row. Variables (`${X}`) are not interpolated: both sides carry the
same text, so they never show as a change. Nothing here reads outside the folder tree of the file
that names a reference, as for the rules' own `include` handling.

    changes(before, after) -> {service: [Change(path, before, after)]}
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any, Callable

ABSENT: Any = type("Absent", (), {"__repr__": lambda self: "ABSENT", "__bool__": lambda self: False})()

REPLACED = {"command", "entrypoint"}
KEYED = {"ports", "volumes", "secrets", "configs", "devices"}
MAPPINGS = {"environment", "labels", "sysctls", "annotations", "extra_hosts"}
UNIQUE = {"cap_add", "cap_drop", "dns", "dns_search", "dns_opt", "security_opt", "group_add", "expose",
          "external_links", "links", "volumes_from", "profiles", "env_file", "tmpfs", "device_cgroup_rules"}
MAX_FILES = 64  # files read for one project (includes and extends bases); a real stack has a handful


@dataclass(frozen=True)
class Change:
    path: str  # e.g. `restart`, `deploy.resources.limits.memory`, `ports[0]`, `environment.TOKEN`
    before: Any = ABSENT
    after: Any = ABSENT

    def as_dict(self) -> dict:
        out: dict = {"path": self.path}
        if self.before is not ABSENT:
            out["before"] = self.before
        if self.after is not ABSENT:
            out["after"] = self.after
        return out


class Reset:
    """`!reset`: the key is removed from what came before."""


@dataclass
class Override:
    """`!override value`: replaces what came before instead of merging with it."""

    value: Any


class ModelError(ValueError):
    pass


# --------------------------------------------------------------------------- loading

def _loader():
    from ruamel.yaml import YAML

    yaml = YAML(typ="safe", pure=True)
    yaml.allow_duplicate_keys = True

    def reset(constructor, node):
        return Reset()

    def override(constructor, node):
        from ruamel.yaml.nodes import MappingNode, SequenceNode

        if isinstance(node, MappingNode):
            return Override(constructor.construct_mapping(node, deep=True))
        if isinstance(node, SequenceNode):
            return Override(constructor.construct_sequence(node, deep=True))
        return Override(constructor.construct_scalar(node))

    yaml.constructor.add_constructor("!reset", reset)
    yaml.constructor.add_constructor("!override", override)
    return yaml


def load(text: str):
    """The plain data of a compose text (anchors, aliases and merge keys resolved)."""
    return _loader().load(text)


# --------------------------------------------------------------------------- merging

def _kv_mapping(value) -> dict:
    """`environment`-like values as a mapping: ['A=1', 'B'] -> {'A': '1', 'B': None}."""
    if isinstance(value, dict):
        return dict(value)
    out: dict = {}
    for item in value or ():
        text = str(item)
        key, sep, val = text.partition("=") if "=" in text else text.partition(":")
        out[key.strip() if sep == ":" else key] = (val.strip() if sep == ":" else val) if sep else None
    return out


def _unique_key(key: str, item):
    """The unique key Compose merges `ports`, `volumes`, `secrets`, `configs`, `devices` entries by."""
    if key == "ports":
        if isinstance(item, dict):
            return ("port", str(item.get("host_ip", "")), str(item.get("target", "")),
                    str(item.get("published", "")), str(item.get("protocol", "tcp")))
        text = str(item)
        proto = "tcp"
        if "/" in text:
            text, proto = text.rsplit("/", 1)
        parts = text.rsplit(":", 2) if not text.startswith("[") else re.split(r"(?<=\]):", text)
        target = parts[-1]
        published = parts[-2] if len(parts) >= 2 else ""
        host_ip = parts[-3] if len(parts) >= 3 else ""
        return ("port", host_ip.strip("[]"), target, published, proto)
    if key in ("volumes", "devices"):
        if isinstance(item, dict):
            return ("target", str(item.get("target", "")))
        parts = str(item).split(":")
        if key == "volumes" and len(parts) >= 2 and len(parts[0]) == 1 and parts[0].isalpha():  # C:\...
            parts = [parts[0] + ":" + parts[1]] + parts[2:]
        return ("target", parts[1] if len(parts) >= 2 else parts[0])
    if isinstance(item, dict):  # secrets, configs: long syntax
        return ("target", str(item.get("target") or item.get("source", "")))
    return ("target", str(item))


def _merge_keyed(key, base: list, over: list) -> list:
    out, index = list(base), {}
    for i, item in enumerate(out):
        index[_unique_key(key, item)] = i
    for item in over:
        k = _unique_key(key, item)
        if k in index:
            old = out[index[k]]
            out[index[k]] = _merge(old, item, key) if isinstance(old, dict) and isinstance(item, dict) else item
        else:
            index[k] = len(out)
            out.append(item)
    return out


def _dedupe(items: list) -> list:
    seen, out = [], []
    for item in items:
        if item not in seen:
            seen.append(item)
            out.append(item)
    return out


def _merge(base, over, path: str = ""):
    """`over` merged onto `base` by the Compose merge rules; `path` is the dotted key path of the value
    below `services.<name>` ('' for the service itself)."""
    if isinstance(over, Override):
        return _strip(over.value)
    if isinstance(over, Reset):
        return ABSENT
    if base is ABSENT or base is None:
        return _strip(over)
    leaf = path.rsplit(".", 1)[-1]
    if path in REPLACED or path == "healthcheck.test":
        return _strip(over)
    if leaf in MAPPINGS and path.count(".") <= 1 or path == "build.args":
        if isinstance(base, (dict, list)) and isinstance(over, (dict, list)):
            return _merge_dicts(_kv_mapping(base), _kv_mapping(over), path)
    if isinstance(base, dict) and isinstance(over, dict):
        return _merge_dicts(base, over, path)
    if isinstance(base, list) and isinstance(over, list):
        if path in KEYED:
            return _merge_keyed(path, base, _strip(over))
        if path == "networks" or path == "depends_on":
            return _dedupe(base + _strip(over))
        merged = base + _strip(over)
        return _dedupe(merged) if path in UNIQUE else merged
    if path in ("networks", "depends_on") and isinstance(base, (list, dict)) and isinstance(over, (list, dict)):
        return _merge_dicts(_as_map(base), _as_map(over), path)
    return _strip(over)


def _merge_dicts(base: dict, over: dict, path: str) -> dict:
    out = dict(base)
    for key, value in over.items():
        sub = f"{path}.{key}" if path else str(key)
        merged = _merge(out.get(key, ABSENT), value, sub)
        if merged is ABSENT:
            out.pop(key, None)
        else:
            out[key] = merged
    return out


def _as_map(value) -> dict:
    return dict(value) if isinstance(value, dict) else {str(v): None for v in value}


def _strip(value):
    """The value without !reset/!override markers (what they mean when nothing came before)."""
    if isinstance(value, Override):
        return _strip(value.value)
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if not isinstance(v, Reset)}
    if isinstance(value, list):
        return [_strip(v) for v in value if not isinstance(v, Reset)]
    return value


def _normalise(service: dict) -> dict:
    """The service as Compose models it where the written form varies without changing the meaning."""
    out = dict(service)
    out.pop("extends", None)
    for key in MAPPINGS:
        if isinstance(out.get(key), list):
            out[key] = _kv_mapping(out[key])
    build = out.get("build")
    if isinstance(build, dict) and isinstance(build.get("args"), list):
        out["build"] = {**build, "args": _kv_mapping(build["args"])}
    for key in ("networks", "depends_on"):
        if isinstance(out.get(key), list):
            out[key] = {str(v): None for v in out[key]}
    for key in UNIQUE:
        if isinstance(out.get(key), list):
            out[key] = _dedupe(out[key])
    return out


# --------------------------------------------------------------------------- a project

class _Reader:
    """Texts by path: the ones given (the project's files, before or after the fix), else from disk;
    references are resolved like Compose does and must stay in the referring file's folder tree."""

    def __init__(self, texts: dict[str, str], read_disk: Callable[[str], str | None] | None = None):
        self.texts = {os.path.abspath(p): t for p, t in texts.items() if not p.startswith("<")}
        self.raw = dict(texts)
        self.read_disk = read_disk or _read_disk
        self.cache: dict = {}
        self.count = 0

    def doc(self, path: str):
        key = path if path.startswith("<") else os.path.abspath(path)
        if key not in self.cache:
            self.count += 1
            if self.count > MAX_FILES:
                raise ModelError(f"more than {MAX_FILES} files in one project")
            text = self.raw.get(path) if path.startswith("<") else self.texts.get(key)
            if text is None:
                text = self.read_disk(key)
            data = load(text) if text is not None else None
            self.cache[key] = data if isinstance(data, dict) else {}
        return self.cache[key]

    def reference(self, ref: str, referrer: str, what: str) -> str | None:
        from .discovery import local_reference

        if referrer.startswith("<"):
            folder = os.getcwd()
        else:
            folder = os.path.dirname(os.path.abspath(referrer))
        candidate = os.path.abspath(os.path.join(folder, ref))
        if candidate in self.texts:
            return candidate
        target, _ = local_reference(ref, folder, what)
        return target


def _read_disk(path: str) -> str | None:
    from .inputs import MAX_BYTES

    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_BYTES + 1)
    except OSError:
        return None
    if len(data) > MAX_BYTES:
        return None
    return data.decode("utf-8-sig", "replace")


def _services(doc) -> dict:
    services = doc.get("services") if isinstance(doc, dict) else None
    return {str(k): (v if isinstance(v, dict) else {}) for k, v in services.items()} \
        if isinstance(services, dict) else {}


def _resolve_extends(reader: _Reader, path: str, name: str, stack: tuple = ()) -> dict:
    services = _services(reader.doc(path))
    service = services.get(name, {})
    ext = service.get("extends")
    if ext is None or (path, name) in stack or len(stack) > 32:
        return {k: v for k, v in service.items() if k != "extends"}
    if isinstance(ext, str):
        base_file, base_name = path, ext
    elif isinstance(ext, dict) and ext.get("service"):
        base_name = str(ext["service"])
        base_file = path
        if ext.get("file"):
            base_file = reader.reference(str(ext["file"]), path, "extends file") or ""
    else:
        return {k: v for k, v in service.items() if k != "extends"}
    base = _resolve_extends(reader, base_file, base_name, stack + ((path, name),)) if base_file else {}
    own = {k: v for k, v in service.items() if k != "extends"}
    return _merge(base, own) if base else _strip(own)


def _file_services(reader: _Reader, path: str, seen: set) -> dict:
    """The services one file defines (extends resolved) plus those its includes bring in."""
    doc = reader.doc(path)
    out = {name: _resolve_extends(reader, path, name) for name in _services(doc)}
    for ref_paths in _include_refs(doc):
        targets = [reader.reference(ref, path, "include") for ref in ref_paths]
        targets = [t for t in targets if t and t not in seen]
        if not targets:
            continue
        seen.update(targets)
        included = _project(reader, targets, seen)
        for name, service in included.items():
            out.setdefault(name, service)
    return out


def _include_refs(doc) -> list[list[str]]:
    include = doc.get("include") if isinstance(doc, dict) else None
    out = []
    for entry in include if isinstance(include, list) else ():
        if isinstance(entry, str):
            out.append([entry])
        elif isinstance(entry, dict):
            paths = entry.get("path")
            if isinstance(paths, str):
                out.append([paths])
            elif isinstance(paths, list):
                out.append([str(p) for p in paths])
    return out


def _project(reader: _Reader, files: list[str], seen: set) -> dict:
    merged: dict = {}
    for path in files:
        for name, service in _file_services(reader, path, seen).items():
            merged[name] = _merge(merged[name], service) if name in merged else _strip(service)
    return merged


def model(files: list[str], texts: dict[str, str], read_disk=None) -> dict[str, dict]:
    """The effective services of the project made of `files` (in merge order): name -> settings.
    `texts` gives the text of any file by path (the project's files at least); other files named by
    `extends` or `include` are read from disk."""
    reader = _Reader(texts, read_disk)
    seen = {f if f.startswith("<") else os.path.abspath(f) for f in files}
    return {name: _normalise(service) for name, service in _project(reader, list(files), seen).items()}


# --------------------------------------------------------------------------- comparing

_PLAIN_KEY = re.compile(r"^[A-Za-z_][\w-]*$")


def path_text(parts) -> str:
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _PLAIN_KEY.match(str(part)):
            out += ("." if out else "") + str(part)
        else:
            import json

            out += f"[{json.dumps(str(part), ensure_ascii=False)}]"
    return out


def diff_service(before: dict, after: dict) -> list[Change]:
    """Every setting that differs between two effective models of one service, with deepdiff."""
    from deepdiff import DeepDiff
    from deepdiff.helper import NotPresent

    try:  # deepdiff >= 8.1 reports a mapping whose keys mostly differ as one change: ask for each key
        diff = DeepDiff(before, after, view="tree", verbose_level=2, threshold_to_diff_deeper=0)
    except TypeError:
        diff = DeepDiff(before, after, view="tree", verbose_level=2)
    out = []
    for levels in diff.values():
        for level in levels:
            t1 = ABSENT if isinstance(level.t1, NotPresent) else level.t1
            t2 = ABSENT if isinstance(level.t2, NotPresent) else level.t2
            out.append(Change(path_text(level.path(output_format="list")), t1, t2))
    return sorted(out, key=lambda c: _sort_key(c.path))


def _sort_key(path: str):
    return [(0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.split(r"[.\[\]]+", path) if p]


def changes(before: dict[str, dict], after: dict[str, dict]) -> dict[str, list[Change]]:
    """Per service (in the order of the model after the fix, then removed ones): what changes."""
    out = {}
    for name in list(after) + [n for n in before if n not in after]:
        found = diff_service(before.get(name, {}), after.get(name, {}))
        if found:
            out[name] = found
    return out


def project_changes(files: list[str], before: dict[str, str], after: dict[str, str],
                    read_disk=None) -> dict[str, list[Change]]:
    """What changes for each service of the project made of `files` when the texts in `before` become
    those in `after` (both map path -> text; files missing from `after` are unchanged)."""
    return changes(model(files, before, read_disk), model(files, {**before, **after}, read_disk))
