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

    def wants(self, rule) -> bool:
        def hit(patterns):
            return any(rule.ID == p or rule.NAME == p or rule.ID.startswith(p) for p in patterns)
        if self.select and not hit(self.select):
            return False
        return not hit(self.ignore)
