"""Plain text, one line per finding (file:line:col: ID [severity] message), then a summary."""
from __future__ import annotations

import os
import sys

from ..model import Applicability, Status

_COLORS = {"critical": "\033[1;31m", "high": "\033[31m", "medium": "\033[33m", "low": "\033[36m"}
_RESET = "\033[0m"


def use_color(stream=sys.stdout) -> bool:
    return stream.isatty() and not os.environ.get("NO_COLOR")


def finding_line(f, color: bool = False) -> str:
    sev = f.severity.value
    if color:
        sev = _COLORS.get(sev, "") + sev + _RESET
    fix = {Applicability.SAFE: " [fix]", Applicability.UNSAFE: " [unsafe fix]"}.get(f.applicability, "")
    nodes = ",".join(f.attack_tree)
    return f"{f.file}:{f.line}:{f.column}: {f.rule_id} {f.rule_name} [{sev}] {f.message} (attack tree {nodes}){fix}"


def summary(results) -> str:
    findings = [f for r in results for f in r.findings]
    fixed = sum(len(r.fixed) for r in results)
    safe = sum(f.applicability is Applicability.SAFE for f in findings)
    unsafe = sum(f.applicability is Applicability.UNSAFE for f in findings)
    files = len({f.file for f in findings})
    errors = sum(r.status is Status.ERROR for r in results)
    parts = [f"Found {len(findings)} finding{'s' * (len(findings) != 1)} in {files} file{'s' * (files != 1)}"]
    if fixed:
        parts.append(f"fixed {fixed}")
    if safe or unsafe:
        parts.append(f"{safe} fixable with `hardener fix`, {unsafe} more with --unsafe-fixes")
    if errors:
        parts.append(f"{errors} file{'s' * (errors != 1)} could not be processed")
    return "; ".join(parts) + "."


def render(results, color: bool = False, quiet: bool = False) -> str:
    lines = [finding_line(f, color) for r in results for f in r.findings]
    if not quiet:
        lines.append(summary(results))
    return "\n".join(lines) + ("\n" if lines else "")
