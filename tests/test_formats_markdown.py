"""The Markdown pull-request comment: each rule explained once, findings sorted by severity then file
and line, and a comment over GitHub's limit that shrinks in the documented order (explanations, then
effective-change rows, then the lowest-severity findings, counted, then the patch) and keeps the patch.
Run through the real CLI on the insecure example stacks and on generated projects too big for a
comment."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from hardener.formats import markdown
from hardener.model import Severity

from conftest import REPO, put, run_cli, y

GITHUB_LIMIT = 65_536
RANK = {s.value: s.rank for s in Severity}
EXAMPLE_STACKS = [REPO / "examples" / "compose.yaml", REPO / "tests" / "fixtures" / "insecure-stack" / "compose.yaml",
                  REPO / "tests" / "fixtures" / "stacks" / "anchored" / "compose.yaml",
                  REPO / "tests" / "fixtures" / "stacks" / "project"]


def finding_rows(md: str) -> list[list[str]]:
    """The cells of the findings table's rows (severity, rule, where, service, finding, fix)."""
    section = md.split("### Findings", 1)[1] if "### Findings" in md else ""
    rows = []
    for line in section.splitlines():
        if line.startswith("| ") and not line.startswith(("| Severity", "| :--")):
            rows.append([c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]])
        elif rows and not line.startswith("|"):
            break
    return rows


def hidden_counts(md: str) -> dict[str, int]:
    note = re.search(r"^\*Not shown, to keep this comment under GitHub's size limit: (.*?) findings?\.", md, re.M)
    if not note:
        return {}
    return {sev: int(n) for n, sev in re.findall(r"(\d+) (critical|high|medium|low)", note.group(1))}


def summary_counts(md: str) -> dict[str, int]:
    return {sev: int(n) for sev, n in re.findall(r"^\| \S+ (critical|high|medium|low) \| (\d+) \|$", md, re.M)}


def diff_blocks(md: str) -> list[str]:
    return re.findall(r"^(`{3,})diff\n(.*?)\n\1$", md, re.M | re.S)


def cli_diff(*args, cwd) -> str:
    proc = run_cli("fix", "--diff", *args, cwd=cwd)
    assert proc.returncode in (0, 1), proc.stderr
    return proc.stdout


# --------------------------------------------------------------------------- the example stacks

@pytest.mark.parametrize("stack", EXAMPLE_STACKS, ids=lambda p: str(p.relative_to(REPO)))
def test_example_stacks_keep_the_patch_and_explain_each_rule_once(stack):
    cwd = stack if stack.is_dir() else stack.parent
    target = "." if stack.is_dir() else stack.name
    proc = run_cli("check", "--unsafe-fixes", "--format", "markdown", target, cwd=cwd)
    assert proc.returncode == 1, proc.stderr
    md = proc.stdout
    assert len(md) <= markdown.MAX_CHARS < GITHUB_LIMIT
    # nothing left out: every finding on a row, every rule explained once
    rows = finding_rows(md)
    assert len(rows) == sum(summary_counts(md).values()) > 0 and not hidden_counts(md)
    rule_ids = [re.match(r"\[(\w+)\]", row[1]).group(1) for row in rows]
    summaries = re.findall(r"^<details><summary><code>(\w+)</code>", md, re.M)
    assert sorted(summaries) == sorted(set(rule_ids)), "one explanation per rule that has findings"
    assert md.count("**Why it matters.**") <= len(set(rule_ids))
    for rule in set(rule_ids):
        assert re.search(rf"^\[{rule}\]: https://\S+/{rule}\.md$", md, re.M), f"no link definition for {rule}"
        assert md.count(f"<code>{rule}</code>") == 1
    # the patch is the one `fix --diff --unsafe-fixes` prints
    expected = cli_diff("--unsafe-fixes", target, cwd=cwd)
    assert "\n".join(block for _, block in diff_blocks(md)) + "\n" == expected
    # sorted: severity, then file, then line
    keys = []
    for row in rows:
        severity = row[0].split()[-1]
        where = row[2].strip("`")
        path, _, line = where.rpartition(":") if ":" in where else ("", "", where)
        keys.append((-RANK[severity], path, int(line)))
    assert keys == sorted(keys)


def test_insecure_stack_numbers():
    """The comment for the insecure stack with unsafe fixes: under the limit with its patch (it used to
    be cut to a summary without the patch)."""
    stack = REPO / "tests" / "fixtures" / "insecure-stack"
    md = run_cli("check", "--unsafe-fixes", "-f", "markdown", "compose.yaml", cwd=stack).stdout
    assert 10_000 < len(md) < 50_000 and diff_blocks(md) and "<details>" in md


# --------------------------------------------------------------------------- a project too big for one comment

def big_project(root: Path, files: int = 4, services: int = 30, env: bool = False) -> Path:
    """Files of many services, each with findings of several severities and fixes."""
    images = ["redis:7", "postgres:16", "nginx:1.27", "mariadb:11", "ghcr.io/acme/app"]
    for i in range(files):
        lines = ["services:"]
        for j in range(services):
            lines += [f"  svc{i}x{j}:", f"    image: {images[j % len(images)]}", "    privileged: true",
                      "    restart: always", "    user: root", "    ports:", f'      - "{10000 + j}:8080"']
            if env:
                lines += ["    environment:", f"      API_TOKEN: tok{i}x{j}secretvalue"]
        put(root, f"app{i}/compose.yaml", y(*lines))
    return root


SMALL_PATCH = ("--select", "PRV001,PRT001,IMG001,SEC001")  # many findings, a patch of a few lines each


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    root = big_project(tmp_path_factory.mktemp("big"), env=True)
    proc = run_cli("check", *SMALL_PATCH, "--unsafe-fixes", "-f", "markdown", "--exit-zero", ".", cwd=root,
                   timeout=300)
    assert proc.returncode == 0, proc.stderr
    return root, proc.stdout


def test_big_project_stays_under_the_limit_and_keeps_the_patch(big):
    root, md = big
    assert len(md) <= markdown.MAX_CHARS
    assert "<details>" not in md and "**Rules:**" in md, "explanations go first"
    # the patch survives whole: every file's diff as `fix --diff --unsafe-fixes` prints it
    expected = cli_diff(*SMALL_PATCH, "--unsafe-fixes", ".", cwd=root)
    assert "\n".join(block for _, block in diff_blocks(md)) + "\n" == expected
    assert "too long for a comment" not in md
    # findings of the lowest severities left out, counted; what is shown is at least as severe
    rows, hidden, total = finding_rows(md), hidden_counts(md), summary_counts(md)
    # PRV001 per service, PRT001 and SEC001 per service, IMG001 for the untagged image (6 per file)
    assert hidden and rows and total == {"critical": 120, "high": 0, "medium": 240, "low": 24}
    assert len(rows) + sum(hidden.values()) == sum(total.values())
    shown = [RANK[row[0].split()[-1]] for row in rows]
    assert min(shown) >= max(RANK[s] for s in hidden)
    for sev, n in total.items():
        assert sum(1 for row in rows if row[0].endswith(sev)) + hidden.get(sev, 0) == n
    assert "`hardener check` lists them all" in md
    assert md.rstrip("\n").splitlines()[-1].startswith("[")  # the link definitions close the comment


def test_a_patch_too_big_for_a_comment_goes_last_file_by_file(tmp_path):
    root = big_project(tmp_path, files=4, services=30)
    md = run_cli("check", "--unsafe-fixes", "-f", "markdown", "--exit-zero", ".", cwd=root, timeout=300).stdout
    assert len(md) <= markdown.MAX_CHARS
    assert not finding_rows(md) and sum(hidden_counts(md).values()) == sum(summary_counts(md).values())
    kept = diff_blocks(md)
    assert 0 < len(kept) < 4, "whole files' diffs, as many as fit"
    expected = cli_diff("--unsafe-fixes", ".", cwd=root)
    assert expected.startswith("\n".join(block for _, block in kept) + "\n")
    assert re.search(r"The patch of \d+ files? is too long for a comment", md)


def test_shrinking_order(tmp_path):
    """Each step is taken only when the one before was not enough."""
    from hardener.diff import unified
    from hardener.engine import process
    from hardener.formats import Patch, render
    from hardener.settings import Settings

    from test_formats import rule_infos

    root = big_project(tmp_path, files=1, services=6)
    path = root / "app0" / "compose.yaml"
    data = path.read_bytes()
    r = process(str(path), data, Settings(), fix=False)
    fixed = process(str(path), data, Settings(unsafe_fixes=True), fix=True)
    patch = Patch(str(path), fixed.original, fixed.output, unified(fixed.original, fixed.output, str(path)))

    def md(limit, **kw):
        out = render("markdown", [r], rules=rule_infos(), patches=[patch], max_chars=limit, cwd=str(root), **kw)
        assert len(out) <= limit
        return out

    full = md(10**6)
    assert "<details>" in full and not hidden_counts(full) and diff_blocks(full)
    no_explanations = md(len(full) - 1)
    assert "<details>" not in no_explanations and not hidden_counts(no_explanations) and diff_blocks(no_explanations)
    brief_effective = md(len(no_explanations) - 1)
    assert "| Setting | Before | After |" in no_explanations and "| Setting | Before | After |" not in brief_effective
    assert re.search(r"^- `app0/compose\.yaml`, service `svc0x0`: \d+ settings?$", brief_effective, re.M)
    assert not hidden_counts(brief_effective) and diff_blocks(brief_effective)
    no_explanations = brief_effective
    fewer = md(len(no_explanations) - 1)
    hidden = hidden_counts(fewer)
    assert list(hidden) == ["low"] or set(hidden) <= {"low", "medium"} and diff_blocks(fewer)
    assert len(finding_rows(fewer)) == len(finding_rows(no_explanations)) - sum(hidden.values())
    linked = md(len(no_explanations) - 1, report_url="https://ci.example/run/1")
    assert "[The full report](https://ci.example/run/1) lists them" in linked
    no_patch = md(4000)
    assert not diff_blocks(no_patch) and "run `hardener fix --diff` to see it" in no_patch
    assert not finding_rows(no_patch) and sum(hidden_counts(no_patch).values()) == len(r.findings)
    patch_only = md(len(no_patch) + len(diff_blocks(full)[0][1]) + 100)
    assert diff_blocks(patch_only) == diff_blocks(full), "every finding goes before the patch does"
    assert not finding_rows(patch_only) and sum(hidden_counts(patch_only).values()) == len(r.findings)
