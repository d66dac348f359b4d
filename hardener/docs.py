"""Documentation built from the rules themselves: one Markdown page per rule or host check
(docs/rules/<ID>.md, the pages SARIF's helpUri points at), the README's rules table and the
attack-tree map (docs/attack-tree.md). `python -m hardener.docs` rewrites them; a test fails when
they are out of date."""
from __future__ import annotations

import re
import sys
from pathlib import Path

from .attack_tree import BRANCHES, NODES

ROOT = Path(__file__).resolve().parents[1]
TABLE_START, TABLE_END = "<!-- rules-table:start -->", "<!-- rules-table:end -->"


def all_checks():
    from .host import HOST_CHECKS
    from .rules import RULES

    return tuple(RULES) + tuple(HOST_CHECKS)


def _fix_label(rule) -> str:
    return rule.FIX.value


def rule_page(rule) -> str:
    lines = [f"# {rule.ID} {rule.NAME}", ""]
    lines.append(f"- Severity: {rule.SEVERITY.value}; confidence: {rule.CONFIDENCE.value}; fix: {_fix_label(rule)}")
    for node_id in rule.ATTACK_TREE:
        n = NODES[node_id]
        lines.append(f"- Attack tree {n.id} *{n.name}* (likelihood {n.likelihood}; impact {n.impact}; effort "
                     f"{n.effort}; skill {n.skill}; detection {n.detection})")
    if rule.OPTIONS:
        lines.append("- Options: " + ", ".join(f"`{k}` (default `{v}`)" for k, v in rule.OPTIONS.items()))
    doc = (rule.__doc__ or "").strip()
    lines += ["", _dedent_doc(doc), ""]
    return "\n".join(lines)


def _dedent_doc(doc: str) -> str:
    first, _, rest = doc.partition("\n")
    import textwrap

    return first.strip() + ("\n" + textwrap.dedent(rest) if rest else "")


def rules_table() -> str:
    rows = ["| id | name | attack tree | severity | fix |", "| --- | --- | --- | --- | --- |"]
    for r in all_checks():
        nodes = ", ".join(r.ATTACK_TREE) or "(tool hygiene)"
        rows.append(f"| [{r.ID}](docs/rules/{r.ID}.md) | {r.NAME} | {nodes} | {r.SEVERITY.value} | {_fix_label(r)} |")
    return "\n".join(rows)


def attack_tree_page() -> str:
    checks = all_checks()
    lines = ["# The attack tree and the rules that answer it", "",
             "hardener's threat model is the seed attack tree. Every node maps to at least one rule "
             "(compose files) or host check (`hardener host`); `hardener explain ID` tells the attack, "
             "its ratings, the mitigation and what the fix changes. Nodes marked *(added)* are not in the "
             "seed tree: hardener adds them for risks the seed tree has no place for.", ""]
    for branch, title in BRANCHES.items():
        lines += [f"## {branch}. {title}", "", "| node | name | where | rules |", "| --- | --- | --- | --- |"]
        for node in NODES.values():
            if node.branch != branch:
                continue
            ids = ", ".join(f"[{r.ID}](rules/{r.ID}.md) {r.NAME}" for r in checks if node.id in r.ATTACK_TREE)
            name = node.name if node.seed else f"{node.name} *(added)*"
            lines.append(f"| {node.id} | {name} | {node.where} | {ids} |")
        lines.append("")
    return "\n".join(lines)


def outputs() -> dict[Path, str]:
    pages = {ROOT / "docs" / "rules" / f"{r.ID}.md": rule_page(r) for r in all_checks()}
    pages[ROOT / "docs" / "attack-tree.md"] = attack_tree_page()
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    pattern = re.compile(re.escape(TABLE_START) + ".*?" + re.escape(TABLE_END), re.S)
    pages[ROOT / "README.md"] = pattern.sub(lambda _: f"{TABLE_START}\n{rules_table()}\n{TABLE_END}", readme)
    return pages


def main() -> int:
    for path, text in outputs().items():
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
