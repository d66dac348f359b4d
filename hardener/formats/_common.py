"""Helpers shared by the output formats: positions in a text, paths as URIs, counts and groupings."""
from __future__ import annotations

import bisect
import os
import urllib.parse
from collections import Counter

from ..model import Severity, Status

SEVERITIES = ("critical", "high", "medium", "low")  # most severe first


class Positions:
    """Offset <-> (line, column) in one text; both 1-based, columns count characters (code points).
    A line ends after its '\\n', so '\\r' of a CRLF file belongs to the line it ends."""

    def __init__(self, text: str):
        self.text = text
        self.starts = [0] + [i + 1 for i, ch in enumerate(text) if ch == "\n"]

    def at(self, offset: int) -> tuple[int, int]:
        index = bisect.bisect_right(self.starts, offset) - 1
        return index + 1, offset - self.starts[index] + 1

    def offset(self, line: int, column: int) -> int:
        return self.starts[line - 1] + column - 1


def display_path(path: str, cwd: str | None = None) -> str:
    """The path relative to the working folder with '/' separators when it lies inside it; else as given."""
    if path == "<stdin>" or not path:
        return path
    cwd = cwd or os.getcwd()
    full = os.path.abspath(path)
    try:
        rel = os.path.relpath(full, cwd)
    except ValueError:  # another drive on Windows
        return path.replace(os.sep, "/")
    if rel == ".." or rel.startswith(".." + os.sep):
        return full.replace(os.sep, "/")
    return rel.replace(os.sep, "/")


def path_uri(path: str, cwd: str | None = None) -> tuple[str, bool]:
    """(URI, relative?) for a file: a relative URI reference inside the working folder, a file: URI
    outside it."""
    shown = display_path(path, cwd)
    if shown == "<stdin>":
        return urllib.parse.quote(shown, safe=""), True
    if os.path.isabs(shown) or shown.startswith("/"):
        return "file://" + urllib.parse.quote(shown if shown.startswith("/") else "/" + shown), False
    return urllib.parse.quote(shown), True


def all_findings(results):
    return [f for r in results for f in r.findings]


def errors(results):
    return [r for r in results if r.status is Status.ERROR]


def severity_counts(findings) -> dict[str, int]:
    counts = Counter(f.severity.value for f in findings)
    return {s: counts.get(s, 0) for s in SEVERITIES}


def worst(findings) -> str | None:
    top = max((f.severity for f in findings), key=lambda s: s.rank, default=None)
    return top.value if top else None


def by_service(findings) -> list[tuple[str | None, list]]:
    """Findings grouped by service in order of first appearance (file-level findings under None)."""
    groups: dict = {}
    for f in findings:
        groups.setdefault(f.service, []).append(f)
    return list(groups.items())


def sorted_findings(results, cwd: str | None = None) -> list[tuple[str, object]]:
    """(shown path, finding) of every result, most severe first, then by file, line, column and rule."""
    located = [(display_path(r.path, cwd), f) for r in results for f in r.findings]
    return sorted(located, key=lambda p: (-p[1].severity.rank, p[0], p[1].line, p[1].column, p[1].rule_id))


def by_file(results) -> list[tuple[str, list]]:
    out = []
    for r in results:
        if r.findings:
            out.append((r.path, list(r.findings)))
    return out


def node_status(findings, rules) -> dict[str, str]:
    """Every attack-tree node's state for this run: 'open' (a finding points at it), 'mitigated' (a rule
    that covers it ran and found nothing), 'host' (only visible on the host, not in compose files) or
    'unchecked' (no rule of this run covers it)."""
    from ..attack_tree import NODES

    hit = {n for f in findings for n in f.attack_tree}
    covered = {n for r in rules for n in r.attack_tree}
    state = {}
    for node_id, node in NODES.items():
        if node_id in hit:
            state[node_id] = "open"
        elif node_id in covered:
            state[node_id] = "mitigated"
        elif node.where == "host":
            state[node_id] = "host"
        else:
            state[node_id] = "unchecked"
    return state


def branches_hit(findings) -> list[dict]:
    """Attack-tree branches with at least one finding: [{id, name, nodes: [{id, name, count}]}]."""
    from ..attack_tree import BRANCHES, NODES

    counts = Counter(n for f in findings for n in f.attack_tree)
    out = []
    for branch_id, branch_name in BRANCHES.items():
        nodes = [{"id": n.id, "name": n.name, "count": counts[n.id]}
                 for n in NODES.values() if n.branch == branch_id and counts.get(n.id)]
        if nodes:
            ids = {n["id"] for n in nodes}
            out.append({"id": branch_id, "name": branch_name, "nodes": nodes,
                        "count": sum(1 for f in findings if ids & set(f.attack_tree))})
    return out


def severity_of(value) -> Severity:
    return value if isinstance(value, Severity) else Severity(value)


def _newline_of(text: str) -> str:
    # the same choice yamltext.parse makes: CRLF when at least half of the line ends are CRLF
    crlf, lf = text.count("\r\n"), text.count("\n")
    return "\r\n" if crlf and crlf * 2 >= lf else "\n"


def _edit_order(edit):
    # yamltext.apply_edits' order: by position; insertions at one point deepest first (stable otherwise)
    depth = len(edit.text) - len(edit.text.lstrip(" ")) if edit.start == edit.end else 0
    return (edit.start, edit.end, -depth)


def applied_edits(original: str, edits) -> list[tuple[int, int, str]]:
    """The edits as (start, end, inserted text) the way yamltext.apply_edits applies them to this text:
    in its order, identical edits once, each with the text it really inserts (the file's newline style,
    a missing final newline kept)."""
    from ..yamltext import Document, apply_edits

    doc = Document(text=original, root=None, newline=_newline_of(original))
    out = []
    for edit in sorted(dict.fromkeys(edits), key=_edit_order):
        result = apply_edits(doc, [edit])
        out.append((edit.start, edit.end, result[edit.start:len(result) - (len(original) - edit.end)]))
    return out


# --------------------------------------------------------------------------- escaping for Markdown

# Characters that start Markdown or GitHub syntax inside a line: emphasis, code, links, HTML, tables,
# headings, strike-through, entities and math (":" stays: emoji short codes are harmless).
_MD_SPECIAL = set("\\`*_[]<>|#!~&$")
_ZWSP = "\u200b"


# Characters a report never passes on raw: C0 and C1 controls (ESC, BEL, ...; tab and line ends are
# handled by each context), DEL, the Unicode line and paragraph separators (U+0085, U+2028, U+2029 end a
# line for some readers) and the bidirectional overrides and isolates that reorder what a reviewer sees
# ("Trojan Source").
_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")


def _hidden(ch: str) -> bool:
    code = ord(ch)
    return code < 0x20 or 0x7f <= code < 0xa0 or ch in "\u2028\u2029" or ch in _BIDI


def visible(text, keep: str = "") -> str:
    """The text with every control, line-separator and bidi character (except those in `keep`) written
    as a visible escape (`\\x1b`, `\\u202e`): a file cannot send a terminal sequence, end a line where a
    reader does not expect it, or reorder the text around it."""
    text = str(text)
    if text.isprintable() and not any(ch in _BIDI for ch in text):
        return text
    return "".join(_escape_char(ch) if _hidden(ch) and ch not in keep else ch for ch in text)


def _escape_char(ch: str) -> str:
    return f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}"


def one_line(text: str) -> str:
    """One line of visible text: line ends become spaces, other control characters escapes."""
    return visible(" ".join(str(text).replace("\r\n", "\n").replace("\r", "\n").split("\n")))


def block(text: str) -> str:
    """A multi-line text (a diff) with LF line ends and every other control character made visible."""
    return visible(str(text).replace("\r\n", "\n").replace("\r", "\n"), keep="\n\t")


def no_mention(text: str) -> str:
    """'@name' would notify a GitHub user or team; a zero-width space after '@' stops that."""
    return text.replace("@", "@" + _ZWSP)


def md_text(text) -> str:
    """Untrusted text as inert Markdown on one line: specials backslash-escaped, no mentions."""
    out = []
    for ch in one_line(text):
        out.append("\\" + ch if ch in _MD_SPECIAL else ch)
    return no_mention("".join(out))


def md_code(text, table: bool = False) -> str:
    """Untrusted text as an inline code span, with a backtick fence longer than any run inside."""
    text = one_line(text)
    run = best = 0
    for ch in text:
        run = run + 1 if ch == "`" else 0
        best = max(best, run)
    fence = "`" * (best + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text.strip(" ") else ""
    if table:
        text = text.replace("|", "\\|")
    return f"{fence}{pad}{text}{pad}{fence}"


def fence_for(text: str, char: str = "`") -> str:
    """A code-fence string longer than any run of the fence character in the text (only runs at the
    start of a line could close the block, but a longer fence everywhere is simpler to trust)."""
    best = run = 0
    for ch in text:
        run = run + 1 if ch == char else 0
        best = max(best, run)
    return char * max(3, best + 1)


def html_text(text) -> str:
    import html

    return no_mention(html.escape(one_line(text), quote=True))


# --------------------------------------------------------------------------- what Docker will run differently

def effective_changes(results, patches, cwd: str | None = None, projects=None) -> list[dict]:
    """Per project file and service, the effective settings the patches change (hardener.effective):
    [{"file", "files", "service", "changes": [{"path", "before"?, "after"?}]}]. `projects` are the
    groups of paths the CLI read together (merge order); without them files are grouped the way a
    folder scan groups them (a base file with the override file beside it)."""
    changed = {p.path: p for p in patches if p.before != p.after}
    if not changed:
        return []
    from .. import effective
    from ..discovery import group_projects

    before = {r.path: r.original for r in results if r.original is not None}
    for path, p in changed.items():
        before.setdefault(path, p.before)
    after = {path: p.after for path, p in changed.items()}
    named = lambda path: "<stdin>" if path == "-" else path  # noqa: E731
    groups = [[named(p) for p in group] for group in projects] if projects else group_projects(list(before))
    out = []
    for group in groups:
        if not any(path in changed for path in group):
            continue
        try:
            found = effective.project_changes(group, before, after)
        except Exception as exc:  # noqa: BLE001 - a model that cannot be built must not cost the report
            out.append({"file": display_path(group[0], cwd), "files": [display_path(p, cwd) for p in group],
                        "service": None, "changes": [], "error": str(exc)})
            continue
        for service, rows in found.items():
            out.append({"file": display_path(group[0], cwd), "files": [display_path(p, cwd) for p in group],
                        "service": service, "changes": [c.as_dict() for c in rows]})
    return out


# --------------------------------------------------------------------------- a verification on an engine

def verification_view(verification, patch_mode: str = "safe") -> dict | None:
    """What the Markdown and HTML reports show of a `Verification`: the counts of the headline, the
    services, the dropped fixes, the regressed services no dropped fix explains (their own evidence),
    and whether the verified patch is another than the one the report proposes."""
    v = verification
    if v is None:
        return None
    blamed = {d.broke for d in v.dropped}
    judged = [s for s in v.services if s.verdict != "not-judged"]
    verified = "unsafe" if v.unsafe_fixes else "safe"
    return {
        "result": v.result,
        "error": v.error,
        "total": len(v.services),
        "working": v.working,
        "healthy": v.healthy,
        "all_healthy": bool(v.services) and v.healthy == len(v.services),
        "regressions": v.regressions,
        "not_judged": [s.name for s in v.services if s.verdict == "not-judged"],
        "judged": len(judged),
        "services": list(v.services),
        "dropped": list(v.dropped),
        "unexplained": [s for s in v.services if s.verdict == "regression" and s.name not in blamed and s.evidence],
        "fixes": v.fixes,
        "kept": v.kept,
        "written": v.written,
        "command": "hardener fix --verify" + (" --unsafe-fixes" if v.unsafe_fixes else "") if v.written
        else "hardener fix" + (" --unsafe-fixes" if v.unsafe_fixes else ""),
        "files": list(v.files),
        "engine": v.engine,
        "seconds": round(v.seconds),
        "other_patch": v.result != "error" and patch_mode != "none" and patch_mode != verified,
        "verified_mode": verified,
    }
