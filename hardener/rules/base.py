"""Helpers every rule module uses to report a finding; rules know nothing about output formats.

A rule is a module with ID, NAME, ATTACK_TREE, SEVERITY, CONFIDENCE, FIX (the best applicability its
fixes reach), OPTIONS (defaults) and ``check(ctx) -> iterable of Finding``. Its docstring is its doc page.
"""
from __future__ import annotations

import sys

from .. import knowledge
from ..model import Applicability, Finding, Fix
from ..yamltext import Edit


def finding(rule_name: str, ctx, node, message: str, *, service=None, key_path=(), fix=None, severity=None,
            missing: bool | None = None, read_only: bool = False):
    """A finding of the rule module `rule_name` at `node`.

    `missing`: the finding is about a setting `service` lacks. Such a finding belongs in the first
    layer hardener may write: the engine drops it from a partial service's mapping, where another
    layer reports it. By default a finding reported at its service's name is one (the rules' habit).
    `read_only`: the finding reports a value a read-only file writes, overridden in this mapping by
    the fix (the message gets IN_READ_ONLY). It belongs in this mapping wherever it points, so it is
    never `missing`."""
    rule = sys.modules[rule_name]
    if read_only:
        message, missing = message + IN_READ_ONLY, False
    elif missing is None:
        missing = service is not None and node is service.key
    return Finding(
        rule_id=rule.ID,
        rule_name=rule.NAME,
        severity=severity or rule.SEVERITY,
        confidence=rule.CONFIDENCE,
        attack_tree=tuple(rule.ATTACK_TREE),
        message=message,
        line=node.line + 1 if node is not None else 1,
        column=node.col + 1 if node is not None else 1,
        service=service.name if service is not None else None,
        key_path=tuple(key_path),
        fix=fix,
        elsewhere=node is not None and id(node) in getattr(ctx, "foreign", ()),
        missing=missing,
    )


# added to the message of a finding reported in the layer that overrides a read-only file's value
# (finding(..., read_only=True))
IN_READ_ONLY = " (written in a read-only file; overridden here)"


def make_fix(applicability: Applicability, description: str, *edits: Edit | None) -> Fix | None:
    """A fix from edits, or None when any edit could not be built (the text was too unusual)."""
    if not edits or any(e is None for e in edits):
        return None
    return Fix(applicability, tuple(edits), description)


def option(ctx, rule_name: str, name: str):
    rule = sys.modules[rule_name]
    return ctx.options.get(rule.ID, {}).get(name, rule.OPTIONS[name])


def loopback(ctx) -> tuple[str, str]:
    """(IPv4, IPv6) loopback addresses a fix binds published ports to: PRT001's `host_ip` and
    `host_ip6` options, which every rule that binds a port follows."""
    configured = ctx.options.get("PRT001", {})
    return (configured.get("host_ip", knowledge.LOOPBACK_IP), configured.get("host_ip6", knowledge.LOOPBACK_IP6))
