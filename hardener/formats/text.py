"""Plain text, one line per finding (file:line:col: ID name [severity] message), then a summary.
With colour (a terminal without NO_COLOR, or FORCE_COLOR set) the path, the rule and the severity are
highlighted. Also the `--statistics` table and the progress line the CLI shows on long scans."""
from __future__ import annotations

import os
import sys
from collections import Counter

from ..escape import terminal as _clean
from ..model import Applicability, Status

_COLORS = {"critical": "\033[1;31m", "high": "\033[31m", "medium": "\033[33m", "low": "\033[36m"}
_BOLD, _DIM, _GREEN, _YELLOW, _RESET = "\033[1m", "\033[2m", "\033[32m", "\033[33m", "\033[0m"


def use_color(stream=sys.stdout) -> bool:
    """NO_COLOR (any value) turns colour off, FORCE_COLOR (non-empty) turns it on; else only on a
    terminal that is not 'dumb'."""
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty()) and os.environ.get("TERM") != "dumb"


def _paint(text: str, code: str, color: bool) -> str:
    return f"{code}{text}{_RESET}" if color and code else text


def finding_line(f, color: bool = False) -> str:
    sev = _paint(f.severity.value, _COLORS.get(f.severity.value, ""), color)
    fix = {Applicability.SAFE: _paint(" [fix]", _GREEN, color),
           Applicability.UNSAFE: _paint(" [unsafe fix]", _YELLOW, color)}.get(f.applicability, "")
    nodes = ",".join(f.attack_tree)
    tree = f" (attack tree {nodes})" if nodes else ""
    where = _paint(f"{_clean(f.file)}:{f.line}:{f.column}:", _BOLD, color)
    rule = _paint(f.rule_id, _BOLD, color)
    others = [s for s in (f.fix.reach if f.fix else ()) if s != f.service]
    also = f" (the fix also changes {', '.join(map(_clean, others))})" if others else ""
    return f"{where} {rule} {f.rule_name} [{sev}] {_clean(f.message)}{tree}{fix}{also}"


def summary(results, dry_run: bool = False) -> str:
    findings = [f for r in results for f in r.findings]
    fixed = sum(len(r.fixed) for r in results)
    safe = sum(f.applicability is Applicability.SAFE for f in findings)
    unsafe = sum(f.applicability is Applicability.UNSAFE for f in findings)
    files = len({f.file for f in findings})
    errors = sum(r.status is Status.ERROR for r in results)
    checked = sum(r.status is not Status.ERROR for r in results)
    if not findings and not fixed and checked:
        parts = [f"All checks passed ({checked} file{'s' * (checked != 1)})"]
    else:
        parts = [f"Found {len(findings)} finding{'s' * (len(findings) != 1)} in {files} file{'s' * (files != 1)}"]
    if fixed:
        parts.append(f"would fix {fixed}" if dry_run else f"fixed {fixed}")
    if safe or unsafe:
        parts.append(f"{safe} fixable with `hardener fix`, {unsafe} more with --unsafe-fixes")
    if errors:
        parts.append(f"{errors} file{'s' * (errors != 1)} could not be processed")
    return "; ".join(parts) + "."


def render(results, color: bool = False, quiet: bool = False, **_) -> str:
    lines = [finding_line(f, color) for r in results for f in r.findings]
    if not quiet:
        lines.append(summary(results))
    return "\n".join(lines) + ("\n" if lines else "")


# --------------------------------------------------------------------------- --statistics

def statistics(results) -> list[dict]:
    """Per rule: {rule_id, rule_name, count, safe, unsafe}, most frequent first (ties by rule id)."""
    counts: Counter = Counter()
    names, safe, unsafe = {}, Counter(), Counter()
    for r in results:
        for f in r.findings:
            counts[f.rule_id] += 1
            names[f.rule_id] = f.rule_name
            safe[f.rule_id] += f.applicability is Applicability.SAFE
            unsafe[f.rule_id] += f.applicability is Applicability.UNSAFE
    order = sorted(counts, key=lambda k: (-counts[k], k))
    return [{"rule_id": k, "rule_name": names[k], "count": counts[k], "safe": safe[k], "unsafe": unsafe[k]}
            for k in order]


def render_statistics(results, color: bool = False, quiet: bool = False, **_) -> str:
    """Like ruff's: count, rule id, a marker ([*] some safe fixes, [-] unsafe fixes only), rule name."""
    rows = statistics(results)
    width = max((len(str(r["count"])) for r in rows), default=1)
    lines = []
    for row in rows:
        marker = "[*]" if row["safe"] else "[-]" if row["unsafe"] else "   "
        rule = _paint(row["rule_id"], _BOLD, color)
        lines.append(f"{row['count']:>{width}}\t{rule}\t{marker} {row['rule_name']}")
    if not quiet:
        lines.append(summary(results))
        if any(r["safe"] or r["unsafe"] for r in rows):
            lines.append("[*] fixable with `hardener fix`; [-] fixable with --unsafe-fixes")
    return "\n".join(lines) + ("\n" if lines else "")


# --------------------------------------------------------------------------- progress

PROGRESS_MIN_FILES = 20  # fewer files finish before a bar is worth drawing


def progress_line(done: int, total: int, width: int = 30) -> str:
    """'\\r[#####.....]  12/40 files' without a newline; the CLI writes it to a terminal's stderr."""
    total = max(total, 1)
    filled = width * done // total
    return f"\r[{'#' * filled}{'.' * (width - filled)}] {done:>{len(str(total))}}/{total} files"


def progress_clear(width: int = 30, total: int = 0) -> str:
    return "\r" + " " * (width + 2 * len(str(max(total, 1))) + 10) + "\r"
