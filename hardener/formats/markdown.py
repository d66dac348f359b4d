"""Markdown for a pull-request comment: a summary (severity x count, attack-tree branches hit), every
finding on one table row sorted by severity (critical first), then file and line; each rule's
explanation once, folded in a <details>; what Docker will run differently per service; and the
proposed patch as a ```diff block per file. With a verification (`hardener verify` started the project as
written and as patched on a Docker engine), a section after the summary says how each service fared,
which fixes were dropped and the log lines that show why.

GitHub refuses a comment over 65,536 characters. When the full comment is longer, it shrinks in this
order, each step only when the previous one was not enough, and says what it left out:

1. the rule explanations (a line of links to the rule pages stays);
2. the verification's evidence blocks (the table of services and the dropped fixes stay);
3. the table of effective changes (a count per service stays);
4. findings of the lowest severities, from the end of the sorted list (counted per severity, with a
   link to the full report when the caller gives one);
5. the patch, file by file from the end; it is the last thing to go, since it is what a reviewer
   applies.

Everything that comes from a compose file (paths, service names, images, messages, diff lines) is
hostile: the template's `finalize` hook escapes every value as inline Markdown unless it was built by
one of the filters below, which escape for their own context (code span, HTML, fenced block). Control
characters become visible escapes everywhere (`\\x1b`).
"""
from __future__ import annotations

from . import DEFAULT_RULES_URL, rule_url
from ._common import (SEVERITIES, block, branches_hit, display_path, errors, fence_for,
                      html_text, md_code, md_text, severity_counts, sorted_findings, verification_view)

MARKER = "<!-- hardener-report -->"  # lets a bot find and update its previous comment
MAX_CHARS = 65_000  # GitHub refuses comments longer than 65,536 characters
ICONS = {"critical": "\U0001f7e5", "high": "\U0001f534", "medium": "\U0001f7e0", "low": "\U0001f535"}


class Md(str):
    """Text that is already safe Markdown for where it goes."""


def _finalize(value):
    if isinstance(value, Md):
        return value
    if value is None:
        return ""
    if isinstance(value, (int, float)):
        return value
    return md_text(value)


def _fenced(text: str, info: str = "") -> Md:
    text = block(text)
    fence = fence_for(text)
    return Md(f"{fence}{info}\n{text}{'' if text.endswith(chr(10)) else chr(10)}{fence}")


def environment():
    import jinja2

    from .templating import loader

    env = jinja2.Environment(loader=loader(), autoescape=False, finalize=_finalize, trim_blocks=True,
                             lstrip_blocks=True, keep_trailing_newline=True, undefined=jinja2.StrictUndefined)
    env.filters["code"] = lambda v: Md(md_code(v))
    env.filters["cellcode"] = lambda v: Md(md_code(v, table=True))
    env.filters["cell"] = lambda v: Md(md_text(v))  # md_text escapes '|' too
    env.filters["html"] = lambda v: Md(html_text(v))
    env.filters["fenced"] = _fenced
    env.filters["trusted"] = Md  # our own rule documentation, already Markdown
    env.filters["value"] = lambda v: Md(md_code(_show(v), table=True)) if v is not _ABSENT else Md("\u2013")
    return env


_ABSENT = object()


def _show(value) -> str:
    """An effective value on one line, the way Compose writes it in YAML flow style."""
    import json

    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


def _rules_view(findings, info, rules_url) -> list[dict]:
    """One entry per rule with findings, in the order of the findings (most severe rule first)."""
    from ..attack_tree import NODES

    out: dict = {}
    for f in findings:
        entry = out.get(f.rule_id)
        if entry is None:
            rule = info.get(f.rule_id)
            entry = out[f.rule_id] = {
                "id": f.rule_id, "name": f.rule_name, "severity": f.severity.value, "count": 0,
                "url": rule_url(rules_url, f.rule_id),
                "why": rule.section("Why it matters") if rule else "",
                "breaks": rule.section("What may break") if rule else "",
                "nodes": [(n, NODES[n].name if n in NODES else n) for n in f.attack_tree],
            }
        entry["count"] += 1
    return list(out.values())


def _effective_view(changes) -> list[dict]:
    """Per file and service, the (path, before, after) rows of what Docker will run differently."""
    out = []
    for item in changes or ():
        rows = [{"path": c["path"], "before": c.get("before", _ABSENT), "after": c.get("after", _ABSENT)}
                for c in item["changes"]]
        if rows:
            out.append({"file": item["file"], "service": item["service"], "rows": rows})
    return out


def context(results, rules=(), patches=(), rules_url=DEFAULT_RULES_URL, patch_mode="safe", cwd=None,
            title="hardener", effective=None, report_url=None, verification=None) -> dict:
    info = {r.id: r for r in rules}
    located = sorted_findings(results, cwd)
    findings = [f for _, f in located]
    rows = [{
        "f": f,
        "icon": ICONS.get(f.severity.value, ""),
        "path": path,
        "url": rule_url(rules_url, f.rule_id),
    } for path, f in located]
    files_with = {r.path for r in results if r.findings}
    counts = severity_counts(findings)
    return {
        "title": title,
        "marker": MARKER,
        "total": len(findings),
        "files_with_findings": len(files_with),
        "files_scanned": len(results),
        "counts": [(sev, ICONS[sev], n) for sev, n in counts.items()],
        "safe": sum(f.fix is not None and f.fix.applicability.value == "safe" for f in findings),
        "unsafe": sum(f.fix is not None and f.fix.applicability.value == "unsafe" for f in findings),
        "branches": branches_hit(findings),
        "rows": rows,
        "one_file": rows[0]["path"] if rows and len({row["path"] for row in rows}) == 1 else None,
        "hidden": [],  # (severity, count) of findings left out
        "rules": _rules_view(findings, info, rules_url),
        "explain": True,
        "effective": _effective_view(effective),
        "effective_brief": False,
        "errors": [{"path": display_path(r.path, cwd), "message": r.error} for r in errors(results)],
        "patches": [{"path": display_path(p.path, cwd), "diff": p.diff} for p in patches if p.diff],
        "patch_mode": patch_mode,
        "omitted_patches": 0,
        "report_url": report_url,
        "verification": verification_view(verification, patch_mode),
        "verification_brief": False,
        "icons": {"ok": "\u2705", "regression": "\u274c", "error": "\u26a0\ufe0f"},
    }


def _hidden(rows) -> list[tuple[str, int]]:
    counts = severity_counts([row["f"] for row in rows])
    return [(sev, counts[sev]) for sev in SEVERITIES if counts[sev]]


def render(results, rules=(), patches=(), rules_url=DEFAULT_RULES_URL, patch_mode="safe", cwd=None,
           max_chars: int = MAX_CHARS, effective=None, report_url=None, projects=None, verification=None,
           **_) -> str:
    if effective is None and patches:
        from ._common import effective_changes

        effective = effective_changes(results, patches, cwd, projects)
    env = environment()
    template = env.get_template("comment.md.j2")
    ctx = context(results, rules, patches, rules_url, patch_mode, cwd, effective=effective, report_url=report_url,
                  verification=verification)
    text = template.render(**ctx)
    if len(text) <= max_chars:
        return text
    # 1. the explanations, 2. the verification's evidence, 3. the effective-change rows
    for key, value in (("explain", False), ("verification_brief", True), ("effective_brief", True)):
        ctx[key] = value
        text = template.render(**ctx)
        if len(text) <= max_chars:
            return text
    # 4. findings from the end of the sorted list (lowest severity first): the most that still fit
    rows = ctx["rows"]

    def fits(keep: int) -> str | None:
        ctx["rows"], ctx["hidden"] = rows[:keep], _hidden(rows[keep:])
        out = template.render(**ctx)
        return out if len(out) <= max_chars else None

    lo, hi, best = 0, len(rows) - 1, None
    while lo <= hi:  # the largest number of rows that fits (fewer rows never make it longer)
        mid = (lo + hi) // 2
        out = fits(mid)
        if out is not None:
            best, lo = out, mid + 1
        else:
            hi = mid - 1
    if best is not None:
        return best
    fits(0)
    # 5. the patch, file by file from the end
    while ctx["patches"]:
        ctx["patches"].pop()
        ctx["omitted_patches"] += 1
        text = template.render(**ctx)
        if len(text) <= max_chars:
            return text
    text = template.render(**ctx)
    if len(text) > max_chars:  # only the summary is left and it is still too long: cut at a line
        text = text[:text.rfind("\n", 0, max_chars - 200) + 1] + "\n*(cut: too long for a comment)*\n"
    return text
