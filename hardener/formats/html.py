"""One self-contained HTML review page: summary, the attack tree with the nodes this stack leaves open
or mitigates, the findings per file and service (explanations in <details>), and the proposed patch as
a diff coloured by line. Inline CSS only: no scripts, fonts, images or other external resources.

The template runs with jinja2 autoescape on, so every value from the compose file is escaped; the only
Markup built here is the rule documentation, which is escaped first and then given <code>/<strong>.
"""
from __future__ import annotations

import re

from .. import __version__
from . import DEFAULT_RULES_URL, rule_url
from ._common import (all_findings, by_service, display_path, effective_changes, errors, no_mention,
                      node_status, severity_counts, visible)

STATE_LABELS = {"open": "open", "mitigated": "mitigated", "host": "host only", "unchecked": "not checked"}


def doc_html(text: str):
    """Rule documentation (a small Markdown subset) as Markup: paragraphs, `code`, **strong**, *em*."""
    from markupsafe import Markup, escape

    paragraphs = [p for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]
    out = []
    for p in paragraphs:
        if all(line.startswith("    ") or not line.strip() for line in p.splitlines()):
            out.append(Markup("<pre>{}</pre>").format("\n".join(line[4:] for line in p.splitlines())))
            continue
        html = str(escape(" ".join(p.split())))
        html = re.sub(r"`([^`]+)`", r"<code>\1</code>", html)
        html = re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", html)
        html = re.sub(r"(?<![\w*])\*([^*\s][^*]*)\*(?![\w*])", r"<em>\1</em>", html)
        out.append(Markup("<p>") + Markup(html) + Markup("</p>"))
    return Markup("").join(out)


def diff_lines(diff: str) -> list[tuple[str, str]]:
    """(css class, line) for each line of a unified diff."""
    out = []
    for line in diff.replace("\r\n", "\n").split("\n"):
        if line.startswith(("+++", "---")):
            kind = "meta"
        elif line.startswith("@@"):
            kind = "hunk"
        elif line.startswith("+"):
            kind = "add"
        elif line.startswith("-"):
            kind = "del"
        elif line.startswith("\\"):
            kind = "note"
        else:
            kind = "ctx"
        out.append((kind, line))
    while out and out[-1] == ("ctx", ""):
        out.pop()
    return out


def _effective_view(changes) -> list[dict]:
    import json

    def show(change, key):
        if key not in change:
            return None
        value = change[key]
        return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)

    return [{"file": item["file"], "service": item["service"],
             "rows": [{"path": c["path"], "before": show(c, "before"), "after": show(c, "after")}
                      for c in item["changes"]]}
            for item in changes if item["changes"]]


def context(results, rules=(), patches=(), rules_url=DEFAULT_RULES_URL, patch_mode="safe", cwd=None,
            projects=None) -> dict:
    from ..attack_tree import BRANCHES, NODES

    info = {r.id: r for r in rules}
    findings = all_findings(results)
    state = node_status(findings, rules)
    hits: dict = {}
    for f in findings:
        for n in f.attack_tree:
            hits[n] = hits.get(n, 0) + 1
    tree = []
    for branch_id, branch_name in BRANCHES.items():
        nodes = [{"node": n, "state": state[n.id], "label": STATE_LABELS[state[n.id]], "count": hits.get(n.id, 0),
                  "rules": [r.id for r in rules if n.id in r.attack_tree]}
                 for n in NODES.values() if n.branch == branch_id]
        open_count = sum(n["state"] == "open" for n in nodes)
        tree.append({"id": branch_id, "name": branch_name, "nodes": nodes, "open": open_count})

    files = []
    for r in results:
        if not r.findings:
            continue
        services = []
        for service, group in by_service(r.findings):
            items = []
            for f in group:
                rule = info.get(f.rule_id)
                items.append({
                    "f": f,
                    "message": no_mention(f.message),
                    "why": doc_html(rule.section("Why it matters")) if rule else "",
                    "breaks": doc_html(rule.section("What may break")) if rule else "",
                    "url": rule_url(rules_url, f.rule_id),
                    "nodes": [(n, NODES[n].name if n in NODES else n) for n in f.attack_tree],
                })
            services.append({"name": service, "findings": items})
        files.append({"path": display_path(r.path, cwd), "services": services, "count": len(r.findings)})

    shown_patches = []
    for p in patches:
        if not p.diff:
            continue
        lines = diff_lines(p.diff)
        shown_patches.append({"path": display_path(p.path, cwd), "lines": lines,
                              "added": sum(k == "add" for k, _ in lines),
                              "removed": sum(k == "del" for k, _ in lines)})
    return {
        "version": __version__,
        "total": len(findings),
        "counts": severity_counts(findings),
        "safe": sum(f.fix is not None and f.fix.applicability.value == "safe" for f in findings),
        "unsafe": sum(f.fix is not None and f.fix.applicability.value == "unsafe" for f in findings),
        "files_scanned": len(results),
        "files": files,
        "tree": tree,
        "open_nodes": sum(s == "open" for s in state.values()),
        "mitigated_nodes": sum(s == "mitigated" for s in state.values()),
        "errors": [{"path": display_path(r.path, cwd), "message": r.error} for r in errors(results)],
        "patches": shown_patches,
        "effective": _effective_view(effective_changes(results, patches, cwd, projects)) if patches else [],
        "patch_mode": patch_mode,
    }


def environment():
    import jinja2

    from .templating import loader

    return jinja2.Environment(loader=loader(), autoescape=True, trim_blocks=True, lstrip_blocks=True,
                              undefined=jinja2.StrictUndefined, finalize=_finalize)


def _finalize(value):
    """Every string from the compose file gets its control characters made visible before jinja2
    escapes it (autoescape handles <, >, &, quotes; an ESC or a bidi override would pass through)."""
    from markupsafe import Markup

    if isinstance(value, str) and not isinstance(value, Markup):
        return visible(value, keep="\t")
    return value


def render(results, rules=(), patches=(), rules_url=DEFAULT_RULES_URL, patch_mode="safe", cwd=None, projects=None,
           **_) -> str:
    from .templating import read

    env = environment()
    ctx = context(results, rules, patches, rules_url, patch_mode, cwd, projects)
    css = read("report.css")
    if "</" in css:  # the stylesheet is ours, but it must not be able to close the <style> element
        raise ValueError("report.css must not contain '</'")
    from markupsafe import Markup

    return env.get_template("report.html.j2").render(css=Markup(css), **ctx)
