"""Run settings: which rules, which fixes, and per-rule options (frozen; built once by the CLI)."""
from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Mapping


@dataclass(frozen=True)
class Settings:
    select: frozenset[str] = frozenset()  # rule ids, names or id prefixes; empty means all
    ignore: frozenset[str] = frozenset()
    unsafe_fixes: bool = False
    options: Mapping[str, Mapping[str, Any]] = field(default_factory=lambda: MappingProxyType({}))
    extend_safe_fixes: frozenset[str] = frozenset()  # rules whose unsafe fixes are applied as safe
    service_ignores: Mapping[str, frozenset] = field(default_factory=lambda: MappingProxyType({}))
    baseline: Any = None  # for `fix`: the file's findings a baseline records (baseline.Recorded), left alone
    read_only: bool = False  # the file is not the user's (a vendor's): read and judged, never written
    env_files: tuple[str, ...] = ()  # --env-file: what Compose interpolates with instead of the project's .env
    env: Any = None  # the project's variables (interpolation.ProjectEnv); None: engine.process_project reads them
    # image profiles measured for this run (repository name -> images.ImageProfile): from an observation
    # (`hardener observe`) or the images' configuration on the engine (--image-facts); they win over the
    # shipped knowledge for their images and carry where each value came from
    profiles: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    # the results carry each fix's edits (what the formats that show a patch need). False: every fix
    # comes back without its edits, and the engine lets them go as soon as it no longer needs them
    # (`check` right after judging each finding), which on a big file is most of what findings hold
    keep_edits: bool = True

    def wants(self, rule) -> bool:
        if self.select and not matches(rule, self.select):
            return False
        return not matches(rule, self.ignore)

    def ignores_service(self, rule, service: str | None) -> bool:
        patterns = self.service_ignores.get(service) if service is not None else None
        return patterns is not None and (not patterns or matches(rule, patterns))


def matches(rule, patterns) -> bool:
    """A rule matches a pattern by id, name or id prefix ("CAP" matches CAP001 and CAP002)."""
    return any(rule.ID == p or rule.NAME == p or (p.isupper() and rule.ID.startswith(p)) for p in patterns)
