"""Markdown for a pull-request comment: a summary table (severity x count, attack-tree branches hit),
the findings per file and service with each explanation folded in a <details>, and the proposed patch
as a ```diff block per file.

Everything that comes from a compose file (paths, service names, images, messages, diff lines) is
hostile: the template's `finalize` hook escapes every value as inline Markdown unless it was built by
one of the filters below, which escape for their own context (code span, HTML, fenced block).
"""
from __future__ import annotations

from . import DEFAULT_RULES_URL, rule_url
from ._common import (all_findings, branches_hit, by_service, display_path, errors, fence_for, html_text,
                      md_code, md_text, severity_counts)

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
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    fence = fence_for(text)
    return Md(f"{fence}{info}\n{text}{'' if text.endswith(chr(10)) else chr(10)}{fence}")


def environment():
    import jinja2

    from .templating import loader

    env = jinja2.Environment(loader=loader(), autoescape=False, finalize=_finalize, trim_blocks=True,
                             lstrip_blocks=True, keep_trailing_newline=True, undefined=jinja2.StrictUndefined)
    env.filters["code"] = lambda v: Md(md_code(v))
    env.filters["cellcode"] = lambda v: Md(md_code(v, table=True))
    env.filters["html"] = lambda v: Md(html_text(v))
    env.filters["fenced"] = _fenced
    env.filters["trusted"] = Md  # our own rule documentation, already Markdown
    return env


def _rule_view(info, rules_url):
    if info is None:
        return None
    return {"why": info.section("Why it matters"), "breaks": info.section("What may break"),
            "fix": info.section("Fix"), "url": rule_url(rules_url, info.id)}


def context(results, rules=(), patches=(), rules_url=DEFAULT_RULES_URL, patch_mode="safe", cwd=None,
            title="hardener") -> dict:
    from ..attack_tree import NODES

    info = {r.id: r for r in rules}
    findings = all_findings(results)
    files = []
    for r in results:
        if not r.findings:
            continue
        services = []
        for service, group in by_service(r.findings):
            services.append({"name": service, "findings": [{
                "f": f,
                "icon": ICONS.get(f.severity.value, ""),
                "nodes": [(n, NODES[n].name if n in NODES else n) for n in f.attack_tree],
                "rule": _rule_view(info.get(f.rule_id), rules_url),
                "url": rule_url(rules_url, f.rule_id),
            } for f in group]})
        files.append({"path": display_path(r.path, cwd), "services": services})
    counts = severity_counts(findings)
    return {
        "title": title,
        "marker": MARKER,
        "total": len(findings),
        "files_with_findings": len(files),
        "files_scanned": len(results),
        "counts": [(sev, ICONS[sev], n) for sev, n in counts.items()],
        "safe": sum(f.fix is not None and f.fix.applicability.value == "safe" for f in findings),
        "unsafe": sum(f.fix is not None and f.fix.applicability.value == "unsafe" for f in findings),
        "branches": branches_hit(findings),
        "files": files,
        "errors": [{"path": display_path(r.path, cwd), "message": r.error} for r in errors(results)],
        "patches": [{"path": display_path(p.path, cwd), "diff": p.diff} for p in patches if p.diff],
        "patch_mode": patch_mode,
        "patch_note": "",
        "brief": False,
        "omitted_files": 0,
    }


def render(results, rules=(), patches=(), rules_url=DEFAULT_RULES_URL, patch_mode="safe", cwd=None,
           max_chars: int = MAX_CHARS, **_) -> str:
    env = environment()
    template = env.get_template("comment.md.j2")
    ctx = context(results, rules, patches, rules_url, patch_mode, cwd)
    text = template.render(**ctx)
    # too long for a comment: drop the patch, then the explanations, then whole files from the end
    if len(text) > max_chars and ctx["patches"]:
        ctx["patches"], ctx["patch_note"] = [], "too-large"
        text = template.render(**ctx)
    if len(text) > max_chars:
        ctx["brief"] = True
        text = template.render(**ctx)
    while len(text) > max_chars and ctx["files"]:
        ctx["files"].pop()
        ctx["omitted_files"] += 1
        text = template.render(**ctx)
    if len(text) > max_chars:  # only the summary is left and it is still too long: cut at a line
        text = text[:text.rfind("\n", 0, max_chars - 200) + 1] + "\n*(cut: too long for a comment)*\n"
    return text
