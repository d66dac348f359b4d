"""One self-contained HTML review page: a contents list, the summary, the attack tree with the nodes
this stack leaves open or mitigates, the findings per file and service (explanations in <details>)
with, beside them, the hunks of the patch that fix them and what Docker will run differently for that
service, and the whole proposed patch coloured by line. With a verification (`hardener verify` started the
project as written and as patched on a Docker engine), a section after the summary shows each service's
two states, the dropped fixes and the log lines that show why. Inline CSS, and one small inline script for
the severity and rule filters, allowed by its hash in the page's Content-Security-Policy (everything
is readable without it); no fonts, images or other external resources.

The template runs with jinja2 autoescape on, so every value from the compose file is escaped; the only
Markup built here is the rule documentation, which is escaped first and then given <code>/<strong>.
"""
from __future__ import annotations

import re

from .. import __version__
from . import DEFAULT_RULES_URL, rule_url
from ._common import (all_findings, by_service, display_path, effective_changes, errors, no_mention,
                      node_status, severity_counts, verification_view, visible)

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


def _hunk_lines(hunk) -> list[tuple[str, str]]:
    """A suggestion hunk as diff lines: context kept where the replacement repeats the original."""
    import difflib

    old = hunk["original"].replace("\r\n", "\n").splitlines()
    new = hunk["replacement"].replace("\r\n", "\n").splitlines()
    out = [("hunk", f"@@ line {hunk['start_line']}" + (f"-{hunk['end_line']}" if hunk["end_line"] > hunk["start_line"]
                                                     else "") + " @@")]
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if tag == "equal":
            out += [("ctx", " " + line) for line in old[i1:i2]]
            continue
        out += [("del", "-" + line) for line in old[i1:i2]]
        out += [("add", "+" + line) for line in new[j1:j2]]
    return out


def _hunks_by_service(result, patch, patch_mode) -> tuple[dict, list]:
    """The patch of one file in hunks, each placed beside the findings it fixes: {service: [hunk]} and
    the hunks no finding of this report explains (a later fix pass, another file's anchor)."""
    from .suggestions import _attribute, _line_spans, hunks

    findings = [f for f in result.findings if f.fix is not None and f.fix.edits
                and (patch_mode == "unsafe" or f.fix.applicability.value == "safe")]
    spans = _line_spans(patch.before)
    by_service: dict = {}
    other = []
    for h in hunks(patch.before, patch.after):
        fixes = _attribute(h, spans, findings)
        view = {"lines": _hunk_lines(h), "rules": sorted({f.rule_id for f in fixes}),
                "also": sorted({s for f in fixes for s in f.fix.reach} - {fixes[0].service} if fixes else set())}
        if fixes:
            by_service.setdefault(fixes[0].service, []).append(view)
        else:
            other.append(view)
    return by_service, other


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
            projects=None, verification=None) -> dict:
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

    effective = _effective_view(effective_changes(results, patches, cwd, projects)) if patches else []
    effective_by = {(e["file"], e["service"]): e["rows"] for e in effective}
    patch_by_path = {p.path: p for p in patches if p.before != p.after}
    files, counter = [], 0
    for r in results:
        shown = display_path(r.path, cwd)
        groups = dict(by_service(sorted(r.findings, key=lambda f: (-f.severity.rank, f.line, f.column))))
        for file, service in effective_by:
            if file == shown and service not in groups:
                groups[service] = []
        if not groups:
            continue
        patch = patch_by_path.get(r.path)
        hunks, other = _hunks_by_service(r, patch, patch_mode) if patch else ({}, [])
        services = []
        for service, group in groups.items():
            counter += 1
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
            services.append({"name": service, "anchor": f"svc-{counter}", "findings": items,
                             "hunks": hunks.get(service, []), "effective": effective_by.get((shown, service), []),
                             "worst": group[0].severity.value if group else None})
        files.append({"path": shown, "services": services, "count": len(r.findings), "other_hunks": other})

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
        "effective": effective,
        "rule_filter": sorted({(f.rule_id, f.rule_name) for f in findings}),
        "patch_mode": patch_mode,
        "verification": verification_view(verification, patch_mode),
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
           verification=None, **_) -> str:
    import base64
    import hashlib

    from markupsafe import Markup

    from .templating import read

    env = environment()
    ctx = context(results, rules, patches, rules_url, patch_mode, cwd, projects, verification)
    css, script = read("report.css"), read("report.js")
    for name, text in (("report.css", css), ("report.js", script)):
        if "</" in text:  # ours, but it must not be able to close its element
            raise ValueError(f"{name} must not contain '</'")
    # the page's Content-Security-Policy allows this one inline script by its hash, and nothing else
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")
    return env.get_template("report.html.j2").render(css=Markup(css), script=Markup(script),
                                                     script_hash=f"sha256-{digest}", **ctx)
