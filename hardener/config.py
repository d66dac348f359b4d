"""Project configuration: `[tool.hardener]` in pyproject.toml, or `.hardener.yaml` / `.hardener.yml`,
found upward from each input file (the nearest folder with one wins; in one folder `.hardener.yaml`
wins over pyproject.toml). Keys (all optional):

    select = ["CAP", "no-log-rotation"]      # rule ids, names or id prefixes
    ignore = ["USR001"]
    unsafe-fixes = true
    extend-safe-fixes = ["PRT001"]           # apply these rules' unsafe fixes as safe
    baseline = "hardener-baseline.json"      # relative to the config file
    read-only = ["vendor/*.yaml"]            # files judged but never written (relative to the config file)
    fail-on = "medium"                       # exit 1 only for findings of this severity or above
    [tool.hardener.per-file-ignores]
    "deploy/dev-*.yaml" = ["PRT001"]
    [tool.hardener.per-service-ignores]
    legacy = []                              # empty list: every rule
    [tool.hardener.options.USR001]           # per-rule options (id or name)
    user = "1000:1000"

The command line's --select / --ignore apply on top of the configuration (ruff's layering, see
enabled_rules); per-file ignores still apply to a rule the command line selects. --read-only patterns
(relative to the current folder) add to the configured ones.

Invalid configuration raises ConfigError naming the file and the key.
"""
from __future__ import annotations

import fnmatch
import functools
import os
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

from .settings import Settings

KEYS = {"select", "ignore", "unsafe-fixes", "extend-safe-fixes", "baseline", "per-file-ignores",
        "per-service-ignores", "options", "read-only", "fail-on"}
SEVERITIES = ("low", "medium", "high", "critical")


class ConfigError(Exception):
    def __init__(self, path, key: str, message: str):
        super().__init__(f"{path}: {key}: {message}")


@dataclass(frozen=True)
class Config:
    path: Path | None = None
    select: frozenset = frozenset()
    ignore: frozenset = frozenset()
    unsafe_fixes: bool = False
    extend_safe_fixes: frozenset = frozenset()
    baseline: Path | None = None
    per_file_ignores: tuple = ()  # (glob, frozenset of rules)
    per_service_ignores: Mapping[str, frozenset] = field(default_factory=lambda: MappingProxyType({}))
    options: Mapping[str, Mapping[str, Any]] = field(default_factory=lambda: MappingProxyType({}))
    read_only: tuple = ()  # globs of the files that are not the user's: judged, never written
    fail_on: str | None = None  # the lowest severity whose findings fail the run (None: any)

    def settings_for(self, file: str, select=frozenset(), ignore=frozenset(), unsafe_fixes=False,
                     read_only=()) -> Settings:
        """Settings for one file. The command line's select/ignore apply on top of the configured ones
        (see enabled_rules); the file's per-file ignores apply last, even to a rule the command line
        selects: they are exceptions the project wrote down for that file. The file is read-only when
        a configured pattern or one of the command line's (relative to the current folder) matches."""
        off = _rules_off(((frozenset(self.select), frozenset(self.ignore)), (frozenset(select), frozenset(ignore))))
        return Settings(ignore=off | self._file_ignores(file),
                        unsafe_fixes=unsafe_fixes or self.unsafe_fixes, options=self.options,
                        extend_safe_fixes=self.extend_safe_fixes, service_ignores=self.per_service_ignores,
                        read_only=self._matches(file, self.read_only) or matches_path(file, read_only, os.getcwd()))

    def _file_ignores(self, file: str) -> frozenset:
        out = set()
        for pattern, rules in self.per_file_ignores:
            if self._matches(file, (pattern,)):
                out |= rules
        return frozenset(out)

    def _matches(self, file: str, patterns) -> bool:
        return matches_path(file, patterns, self.path.parent if self.path is not None else None)


def matches_path(file: str, patterns, folder) -> bool:
    """Whether a glob matches the file's path relative to folder (as written when there is none) or
    its bare name."""
    if not patterns:
        return False
    rel = _relative(file, folder)
    return any(fnmatch.fnmatch(rel, p) or fnmatch.fnmatch(os.path.basename(file), p) for p in patterns)


def _relative(file: str, folder) -> str:
    if folder is None:
        return file
    try:
        return os.path.relpath(os.path.abspath(file), folder).replace(os.sep, "/")
    except ValueError:
        return file


@functools.lru_cache(maxsize=256)
def _rules_off(layers) -> frozenset:
    """Ids of the rules the (select, ignore) layers leave out: the same for every file of one
    configuration, so a folder scan computes it once, not once per file."""
    from .rules import RULES

    enabled = enabled_rules(layers)
    return frozenset(r.ID for r in RULES if r.ID not in enabled)


def enabled_rules(layers) -> set[str]:
    """Ids of the rules that run after applying (select, ignore) layers in order, as ruff does: a layer
    with a select starts afresh from it (so `--select X` runs X even when the configuration ignores
    it), a layer with only an ignore takes rules away from what the layers before chose. Within one
    layer the most specific pattern decides (an id or name beats a prefix, a longer prefix a shorter
    one; at equal specificity ignore wins): `--select CAP --ignore CAP002` and
    `--select CAP001 --ignore CAP` both run CAP001."""
    from .rules import RULES

    enabled = {r.ID for r in RULES}
    for select, ignore in layers:
        if select:
            enabled = set()
        for rule in RULES:
            chosen, dropped = _specificity(rule, select), _specificity(rule, ignore)
            if dropped is not None and (chosen is None or dropped >= chosen):
                enabled.discard(rule.ID)
            elif chosen is not None:
                enabled.add(rule.ID)
    return enabled


def _specificity(rule, patterns) -> int | None:
    """How closely the best of the patterns names the rule (None: none matches)."""
    best = None
    for p in patterns:
        score = 1000 if p in (rule.ID, rule.NAME) else len(p) if p.isupper() and rule.ID.startswith(p) else None
        if score is not None and (best is None or score > best):
            best = score
    return best


def find(start: str) -> Path | None:
    try:
        folder = Path(start if os.path.isdir(start) else os.path.dirname(os.path.abspath(start)) or ".").resolve()
    except OSError:
        return None
    return _find_in(folder)


@functools.lru_cache(maxsize=1024)
def _find_in(folder: Path) -> Path | None:
    """The nearest configuration at or above folder; cached, so a scan looks once per folder, not per file."""
    for d in (folder, *folder.parents):
        try:
            for name in (".hardener.yaml", ".hardener.yml"):
                if (d / name).is_file():
                    return d / name
            pyproject = d / "pyproject.toml"
            if pyproject.is_file() and _has_tool_table(pyproject):
                return pyproject
        except OSError:
            continue  # a folder we may not look into holds no configuration for us
    return None


def _has_tool_table(path: Path) -> bool:
    try:
        tool = _read_toml(path).get("tool", {})
    except ConfigError:
        return True  # report the broken file rather than skip it
    return not isinstance(tool, dict) or "hardener" in tool  # a `tool` that is not a table is reported too


def _tool_table(path: Path) -> dict:
    """[tool.hardener] of a pyproject.toml ({} when there is none)."""
    tool = _read_toml(path).get("tool", {})
    if not isinstance(tool, dict):
        raise ConfigError(path, "tool", "expected a table ([tool.hardener])")
    return tool.get("hardener", {})


def _read_toml(path: Path) -> dict:
    import tomllib

    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(path, "(file)", f"invalid TOML: {exc}") from None


def load(path: Path) -> Config:
    """The configuration in a file: pyproject.toml (its [tool.hardener]), any other *.toml file (the
    keys at its top level, or under [tool.hardener] when it has one), else YAML (.hardener.yaml).
    Only regular files are read (a FIFO or a device given as --config would block or never end)."""
    import stat

    if not stat.S_ISREG(path.stat().st_mode):
        raise ConfigError(path, "(file)", "not a regular file")
    if path.name == "pyproject.toml":
        data = _tool_table(path)
    elif path.suffix.lower() == ".toml":
        data = _read_toml(path)
        if isinstance(data.get("tool"), dict) and "hardener" in data["tool"]:
            data = data["tool"]["hardener"]
    else:
        from ruamel.yaml import YAML, YAMLError

        try:
            data = YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8")) or {}
        except (YAMLError, UnicodeDecodeError) as exc:
            raise ConfigError(path, "(file)", f"invalid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(path, "(file)", "expected a table of settings")
    return _build(path, data)


_MEMORY = r"[0-9]+(\.[0-9]+)?\s*([bkmg]b?)?"  # Compose's byte values: 512M, 1g, 1.5GB, 1048576
_SIZE = r"[0-9]+[kmg]?"  # json-file's max-size
_USER = r"[A-Za-z0-9_.-]+(:[A-Za-z0-9_.-]+)?"  # user[:group] or uid[:gid]


def option_problem(name: str, value) -> str:
    """What is wrong with a rule option's value against the Compose specification's format for the
    setting it becomes ('' when nothing is): a value written into a compose file must be one Compose
    accepts and one that keeps the hardening (no zero limit, no address with a line break in it)."""
    import math
    import re

    if name == "secrets":  # AUTH001: how a password reaches the server
        return "" if value in ("variable", "file") else "expected 'variable' or 'file'"
    if name == "memory":
        ok = isinstance(value, str) and re.fullmatch(_MEMORY, value.strip(), re.I) and float(
            re.match(r"[0-9.]+", value.strip()).group()) > 0
        return "" if ok else "expected a byte value such as 512M or 1G"
    if name == "cpus":
        try:
            number = float(value)
        except (TypeError, ValueError):
            number = math.nan
        ok = not isinstance(value, bool) and math.isfinite(number) and number > 0 and (
            not isinstance(value, str) or re.fullmatch(r"[0-9]+(\.[0-9]+)?", value.strip()))
        return "" if ok else "expected a positive number of CPUs such as 0.5 or 2"
    if name in ("pids", "max_attempts"):
        ok = isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2 ** 63
        return "" if ok else "expected a positive whole number"
    if name in ("host_ip", "host_ip6"):
        import ipaddress

        try:
            address = ipaddress.ip_address(value) if isinstance(value, str) else None
        except ValueError:
            address = None
        want = 4 if name == "host_ip" else 6
        return "" if address is not None and address.version == want else f"expected an IPv{want} address"
    if name == "max_size":
        return "" if isinstance(value, str) and re.fullmatch(_SIZE, value) else "expected a size such as 10m"
    if name == "max_file":
        ok = isinstance(value, str) and value.isascii() and value.isdigit() and int(value) > 0
        return "" if ok else "expected a positive whole number as a string, such as \"3\""
    if name == "user":
        return "" if isinstance(value, str) and re.fullmatch(_USER, value) else "expected user[:group] or uid[:gid]"
    if name == "public_ports":
        ok = all(isinstance(p, int) and not isinstance(p, bool) and 0 < p < 65536 for p in value)
        return "" if ok else "expected a list of port numbers (1-65535)"
    if name == "tmpfs":
        ok = all(isinstance(p, str) and p.startswith("/") and p.isprintable() and " " not in p for p in value)
        return "" if ok else "expected a list of absolute container paths"
    if name == "floating_tags":
        ok = all(isinstance(t, str) and re.fullmatch(r"[\w][\w.-]{0,127}", t) for t in value)
        return "" if ok else "expected a list of image tags"
    return ""


def _rules_list(path, key, value) -> frozenset:
    from .rules import BY_KEY, RULES

    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(path, key, "expected a list of rule ids or names")
    for name in value:
        if name not in BY_KEY and not any(r.ID.startswith(name) for r in RULES if name.isupper()):
            raise ConfigError(path, key, f"unknown rule '{name}'")
    return frozenset(value)


def _build(path: Path, data: dict) -> Config:
    from .rules import BY_KEY

    unknown = set(data) - KEYS
    if unknown:
        raise ConfigError(path, sorted(unknown)[0], f"unknown setting (known: {', '.join(sorted(KEYS))})")
    unsafe = data.get("unsafe-fixes", False)
    if not isinstance(unsafe, bool):
        raise ConfigError(path, "unsafe-fixes", "expected true or false")
    per_file = data.get("per-file-ignores", {})
    per_service = data.get("per-service-ignores", {})
    options = data.get("options", {})
    for key, value in (("per-file-ignores", per_file), ("per-service-ignores", per_service), ("options", options)):
        if not isinstance(value, dict):
            raise ConfigError(path, key, "expected a table")
    resolved_options = {}
    for rule_key, values in options.items():
        rule = BY_KEY.get(rule_key)
        if rule is None:
            raise ConfigError(path, f"options.{rule_key}", "unknown rule")
        if not isinstance(values, dict):
            raise ConfigError(path, f"options.{rule_key}", "expected a table of options")
        for name, value in values.items():
            if name not in rule.OPTIONS:
                known = ", ".join(rule.OPTIONS) or "none"
                raise ConfigError(path, f"options.{rule_key}.{name}", f"unknown option (known: {known})")
            default = rule.OPTIONS[name]
            numbers = isinstance(default, (int, float)) and isinstance(value, (int, float))
            if isinstance(value, bool) is not isinstance(default, bool) or (type(default) is not type(value) and not numbers):
                raise ConfigError(path, f"options.{rule_key}.{name}", f"expected {type(default).__name__}")
            problem = option_problem(name, value)
            if problem:
                raise ConfigError(path, f"options.{rule_key}.{name}", f"{problem} (got {value!r})")
        resolved_options[rule.ID] = MappingProxyType(dict(values))
    baseline = data.get("baseline")
    if baseline is not None and not isinstance(baseline, str):
        raise ConfigError(path, "baseline", "expected a path")
    read_only = data.get("read-only", [])
    if not isinstance(read_only, list) or not all(isinstance(p, str) and p for p in read_only):
        raise ConfigError(path, "read-only", "expected a list of file patterns (globs relative to this file)")
    fail_on = data.get("fail-on")
    if fail_on is not None and (not isinstance(fail_on, str) or fail_on.lower() not in SEVERITIES):
        raise ConfigError(path, "fail-on", f"expected one of {', '.join(SEVERITIES)}")
    return Config(
        fail_on=fail_on.lower() if fail_on else None,
        path=path,
        select=_rules_list(path, "select", data.get("select", [])),
        ignore=_rules_list(path, "ignore", data.get("ignore", [])),
        unsafe_fixes=unsafe,
        extend_safe_fixes=_rules_list(path, "extend-safe-fixes", data.get("extend-safe-fixes", [])),
        baseline=(path.parent / baseline) if baseline else None,
        per_file_ignores=tuple((str(glob), _rules_list(path, f"per-file-ignores.{glob}", rules))
                               for glob, rules in per_file.items()),
        per_service_ignores=MappingProxyType({str(name): _rules_list(path, f"per-service-ignores.{name}", rules)
                                              for name, rules in per_service.items()}),
        options=MappingProxyType(resolved_options),
        read_only=tuple(read_only),
    )
