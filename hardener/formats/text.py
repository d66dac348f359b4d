"""Plain text: findings grouped by file and service with a source excerpt and each rule's fix hint
once (the default), or one line per finding (`--format concise`: file:line:col: ID name [severity]
message), then a summary.
With colour (a terminal without NO_COLOR, or FORCE_COLOR set) the path, the rule and the severity are
highlighted. Also the `--statistics` table and the progress line the CLI shows on long scans."""
from __future__ import annotations

import os
import sys
from collections import Counter
from itertools import islice

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


ALSO_SHOWN = 5  # services named in "the fix also changes ..."; a shared fix can reach thousands


def _also_changes(f) -> str:
    """Which other services the finding's fix edits too, the first few by name and the rest counted."""
    fix = f.fix
    if fix is None or not fix.reach:  # most findings
        return ""
    reach, service = fix.reach, f.service
    count = len(reach) - reach.count(service)  # a shared fix may reach thousands: counted, not listed
    if not count:
        return ""
    names = ", ".join(map(_clean, islice((s for s in reach if s != service), ALSO_SHOWN)))
    rest = count - ALSO_SHOWN
    more = f" and {rest} more service{'s' if rest != 1 else ''}" if rest > 0 else ""
    return f" (the fix also changes {names}{more})"


def finding_line(f, color: bool = False) -> str:
    sev = _paint(f.severity.value, _COLORS.get(f.severity.value, ""), color)
    fix = {Applicability.SAFE: _paint(" [fix]", _GREEN, color),
           Applicability.UNSAFE: _paint(" [unsafe fix]", _YELLOW, color)}.get(f.applicability, "")
    nodes = ",".join(f.attack_tree)
    tree = f" (attack tree {nodes})" if nodes else ""
    where = _paint(f"{_clean(f.file)}:{f.line}:{f.column}:", _BOLD, color)
    rule = _paint(f.rule_id, _BOLD, color)
    also = _also_changes(f)
    return f"{where} {rule} {f.rule_name} [{sev}] {_clean(f.message)}{tree}{fix}{also}"


def summary(results, dry_run: bool = False) -> str:
    findings = [f for r in results for f in r.findings]
    fixed = sum(len(r.fixed) for r in results)
    fixes = Counter(f.fix.applicability for f in findings if f.fix is not None)
    safe, unsafe = fixes[Applicability.SAFE], fixes[Applicability.UNSAFE]
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


def render(results, color: bool = False, quiet: bool = False, concise: bool = True, rules=(), blocks=None,
           **_) -> str:
    """The report: one line per finding (`concise`, for host audits and callers that parse lines), or
    grouped by file and service with the source line of each finding and each rule's fix hint once at
    the end (concise=False: what `hardener check` prints by default). `blocks`: file_block of each
    result made beforehand (None where it was not), see full_lines."""
    if concise:
        lines = [finding_line(f, color) for r in results for f in r.findings]
    else:
        lines = full_lines(results, color, rules, blocks=blocks)
    if not quiet:
        lines.append(summary(results))
    if lines:
        lines.append("")  # the final newline, without a second copy of a report that may be megabytes
    return "\n".join(lines)


EXCERPT_WIDTH = 120  # characters of a source line shown under a finding


def full_lines(results, color: bool = False, rules=(), source=None, blocks=None) -> list[str]:
    """Findings grouped by file, then by service (findings about the whole file or project first),
    each with its source line and a caret under its column; then each rule's fix hint once (from
    `rules`, the RuleInfo records the CLI hands in). `source(result)` is the text the positions refer
    to (default: the file as read). `blocks[i]`, when given and not None, is results[i]'s part made
    beforehand by file_block (the CLI has it made where the file was checked); an element of the list
    is then that part, several lines joined by newlines, which reads the same once the report's lines
    are joined."""
    out, seen_rules = [], {}  # rule ids in the order they are first seen (a dict: ordered, quick to ask)
    parts: dict = {}  # what findings of one rule, severity and fix share (see _finding_body)
    for index, r in enumerate(results):
        if not r.findings:
            continue
        block = blocks[index] if blocks is not None else None
        if block is None:
            out += _file_lines(r, color, source, parts)
        else:
            out.append(block)
        for _, found in _by_service(r.findings):  # the order the report shows them in
            for f in found:
                seen_rules[f.rule_id] = None
    hints = {info.id: info for info in rules or ()}
    shown = [hints[rule] for rule in seen_rules if rule in hints]
    if shown:
        out.append(_paint("Fix hints:", _BOLD, color))
        for info in shown:
            out.append(f"  {_paint(info.id, _BOLD, color)} {info.name}: {_clean(info.summary)} "
                       f"(hardener explain {info.id})")
        out.append("")
    return out


def file_block(result, color: bool = False) -> str:
    """One file's part of the grouped report (its path, its findings by service with their source
    lines, and the empty line after them) as one string; '' for a file without findings."""
    return "\n".join(_file_lines(result, color, None, {})) if result.findings else ""


def _file_lines(r, color: bool, source, parts: dict) -> list[str]:
    import re

    text = (source(r) if source else r.original) or ""
    # as diff and git count lines (not at U+2028); a text without \r splits the same at \n alone
    lines = [] if not text else text.split("\n") if "\r" not in text else re.split(r"\r\n|\r|\n", text)
    out = [_paint(_clean(r.path), _BOLD, color)]
    for service, found in _by_service(r.findings):
        out.append(f"  {'service ' + _clean(service) if service is not None else '(file)'}:")
        last = len(found) - 1
        for i, f in enumerate(found):
            out.append("    " + _finding_body(f, color, parts))
            if i == last or found[i + 1].line != f.line or found[i + 1].column != f.column:
                out += _excerpt(lines, f.line, f.column)  # once under the findings at one place
    out.append("")
    return out


def _by_service(findings) -> list[tuple]:
    """(service, its findings) in the report's order: findings about the whole file or project first,
    then each service in the order of its first finding."""
    groups: dict = {}
    for f in findings:
        groups.setdefault(f.service, []).append(f)
    return [(service, groups[service]) for service in ([None] if None in groups else [])
            + [s for s in groups if s is not None]]


def _finding_body(f, color: bool, parts: dict | None = None) -> str:
    """`line:col ID name [severity] message ...`: a finding line without the file. `parts` keeps what
    the findings of one rule with the same severity, attack tree and fix safety share, built once (a
    report of thousands of findings has a few dozen of them)."""
    fix = f.fix
    key = (f.rule_id, f.rule_name, f.severity, f.attack_tree, fix.applicability if fix is not None else None)
    shared = parts.get(key) if parts is not None else None
    if shared is None:
        shared = _shared_parts(f, color)
        if parts is not None:
            parts[key] = shared
    where = f"{f.line}:{f.column}"
    return f"{_paint(where, _BOLD, color) if color else where} {shared[0]}{_clean(f.message)}{shared[1]}{_also_changes(f)}"


def _shared_parts(f, color: bool) -> tuple[str, str]:
    """What comes before a finding's message (`ID name [severity] `) and after it (attack tree, fix)."""
    sev = _paint(f.severity.value, _COLORS.get(f.severity.value, ""), color)
    fix = {Applicability.SAFE: _paint(" [fix]", _GREEN, color),
           Applicability.UNSAFE: _paint(" [unsafe fix]", _YELLOW, color)}.get(f.applicability, "")
    nodes = ",".join(f.attack_tree)
    tree = f" (attack tree {nodes})" if nodes else ""
    return f"{_paint(f.rule_id, _BOLD, color)} {f.rule_name} [{sev}] ", f"{tree}{fix}"


def _excerpt(lines: list[str], line: int, column: int) -> list[str]:
    """The finding's source line (escaped, cut to EXCERPT_WIDTH) and a caret under its column."""
    if not 1 <= line <= len(lines):
        return []
    raw = lines[line - 1]
    start = max(0, column - 1 - EXCERPT_WIDTH // 2) if column > EXCERPT_WIDTH else 0
    shown = raw[start:start + EXCERPT_WIDTH]
    before = _clean(shown[:max(column - 1 - start, 0)])
    number = str(line)
    return [f"      {number} | {_clean(shown)}{'…' if len(raw) > start + EXCERPT_WIDTH else ''}",
            f"      {' ' * len(number)} | {' ' * len(before)}^"]


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
