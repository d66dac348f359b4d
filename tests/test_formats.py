"""Output formats: text (colour, statistics, progress), JSON, SARIF (schema, rules, fingerprints, fixes
that reproduce the engine's edits), GitHub workflow commands (escaping), Markdown (a PR comment that
hostile compose text cannot break), suggestions (hunks that rebuild the fixed file), HTML (escaped,
self-contained, rendered in a real headless browser) and the CLI options that reach them."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from html.parser import HTMLParser
from pathlib import Path

import pytest

from hardener.diff import unified
from hardener.engine import process
from hardener.formats import DEFAULT_RULES_URL, FORMATS, Patch, RuleInfo, render
from hardener.formats import _common, github, sarif, suggestions, text
from hardener.rules import RULES
from hardener.settings import Settings
from hardener.yamltext import apply_edits, parse

from conftest import REPO, SHARED, cli_env, run_cli, y

EXAMPLE = REPO / "examples" / "compose.yaml"
SCHEMA = SHARED / "schemas" / "sarif-schema-2.1.0.json"
CORE_IDS = ("CAP001", "USR001", "VOL001", "PRT001", "RES001", "RST001", "NET001", "LOG001")


HOSTILE = y(
    "# a comment with ``` fences and </details> and <script>alert(1)</script>",
    "services:",
    '  "<script>alert(1)</script>":',
    '    image: "evil/<img src=x onerror=alert(1)>:``latest``"',
    "    ports:",
    '      - "8080:80"   # ``` | </details> @octocat',
    '  "a|b`c`@team</details>":',
    "    image: 'nginx|latest'",
    "    volumes:",
    "      - ./app.conf:/etc/app.conf",
    '  "$x$ **bold** [link](http://evil.example) ~~s~~ &amp; \\\\":',
    "    image: redis",
)


def rule_infos(ids=None) -> list[RuleInfo]:
    return [RuleInfo(r.ID, r.NAME, r.SEVERITY.value, r.CONFIDENCE.value, r.FIX.value, tuple(r.ATTACK_TREE),
                     r.__doc__ or "") for r in RULES if ids is None or r.ID in ids]


def check_result(path: Path, text: str | None = None, select=CORE_IDS):
    data = (text if text is not None else path.read_text(encoding="utf-8")).encode("utf-8")
    return process(str(path), data, Settings(select=frozenset(select)), fix=False)


def patch_for(path: Path, text: str | None = None, unsafe=True, select=CORE_IDS) -> Patch | None:
    data = (text if text is not None else path.read_text(encoding="utf-8")).encode("utf-8")
    r = process(str(path), data, Settings(select=frozenset(select), unsafe_fixes=unsafe), fix=True)
    if r.output is None:
        return None
    return Patch(str(path), r.original, r.output, unified(r.original, r.output, str(path)))


def write(path: Path, content: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def run(*args, cwd=None, env_extra=None, input=None):
    """The real command line, in-process (conftest.run_cli)."""
    return run_cli(*args, cwd=cwd, env=env_extra, input=input)


def corpus_samples(n: int = 6) -> list[Path]:
    folder = SHARED / "corpus" / "files"
    if not folder.is_dir():
        return []
    files = sorted(p for p in folder.iterdir() if p.suffix in (".yml", ".yaml"))
    step = max(1, len(files) // n)
    return files[::step][:n]


# --------------------------------------------------------------------------- shared helpers

def test_positions_round_trip_with_crlf():
    t = "a: 1\r\nbb: 2\r\n\r\nc: 3"
    pos = _common.Positions(t)
    for offset in range(len(t) + 1):
        line, col = pos.at(offset)
        assert pos.offset(line, col) == offset
    assert pos.at(0) == (1, 1) and pos.at(6) == (2, 1) and pos.at(len(t)) == (4, 5)


def test_rule_info_sections_come_from_the_docstring():
    cap = next(r for r in rule_infos() if r.id == "CAP001")
    assert cap.summary.startswith("Drop every Linux capability")
    assert cap.section("What it finds").startswith("A service whose `cap_drop`")
    assert "What may break" not in cap.section("Why it matters")
    assert cap.section("No such section") == ""
    assert cap.url() == DEFAULT_RULES_URL + "CAP001.md"


def test_md_escapes():
    assert _common.md_text("a|b<c>`d`*e*_f_[g](h)") == "a\\|b\\<c\\>\\`d\\`\\*e\\*\\_f\\_\\[g\\](h)"
    assert "\u200b" in _common.md_text("@team") and "\n" not in _common.md_text("a\nb\r\nc")
    assert _common.md_code("x``y") == "```x``y```"
    assert _common.md_code("`a") == "`` `a ``"
    assert _common.md_code("a|b", table=True) == "`a\\|b`"
    assert _common.fence_for("x\n ````\n") == "`````"
    assert _common.fence_for("a ``` b") == "````"
    assert _common.fence_for("no fences") == "```"


# --------------------------------------------------------------------------- text

def _dirty(tmp_path) -> Path:
    return write(tmp_path / "compose.yaml", EXAMPLE.read_text())


def test_text_colour_only_when_asked(tmp_path):
    r = check_result(_dirty(tmp_path))
    plain = text.render([r])
    coloured = text.render([r], color=True)
    assert "\033[" not in plain and "\033[31mhigh\033[0m" in coloured
    assert re.sub(r"\033\[[0-9;]*m", "", coloured) == plain


def test_text_use_color_follows_no_color_and_force_color(monkeypatch):
    class Tty:
        def isatty(self):
            return True

    class Pipe:
        def isatty(self):
            return False

    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    assert text.use_color(Tty())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not text.use_color(Tty())
    monkeypatch.delenv("NO_COLOR")
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert text.use_color(Pipe())
    monkeypatch.delenv("FORCE_COLOR")
    assert not text.use_color(Pipe())


def test_text_escapes_terminal_control_characters(tmp_path):
    f = write(tmp_path / "compose.yaml", y("services:", '  "web\\e[2J\\x07":', "    image: nginx"))
    out = text.render([check_result(f)])
    assert "\x1b" not in out and "\x07" not in out and "\\x1b[2J" in out


def test_statistics_counts_per_rule(tmp_path):
    r = check_result(_dirty(tmp_path))
    rows = text.statistics([r])
    assert sum(row["count"] for row in rows) == len(r.findings)
    assert [row["count"] for row in rows] == sorted((row["count"] for row in rows), reverse=True)
    table = text.render_statistics([r])
    for row in rows:
        assert re.search(rf"^\s*{row['count']}\t{row['rule_id']}\t\[[*\- ]\]", table, re.M) or \
            re.search(rf"^\s*{row['count']}\t{row['rule_id']}\t    ", table, re.M)


def test_cli_statistics(tmp_path):
    _dirty(tmp_path)
    r = run("check", "--select", ",".join(CORE_IDS), "--statistics", "compose.yaml", cwd=tmp_path)
    assert r.returncode == 1
    assert re.search(r"^5\tCAP001\t\[[*-]\] cap-drop-all$", r.stdout, re.M), r.stdout
    assert "compose.yaml:" not in r.stdout
    j = run("check", "--select", ",".join(CORE_IDS), "--statistics", "-f", "json", "compose.yaml", cwd=tmp_path)
    data = json.loads(j.stdout)
    assert {row["rule_id"] for row in data} <= set(CORE_IDS) and sum(row["count"] for row in data) > 20


def test_progress_line():
    assert text.progress_line(0, 40) == "\r[" + "." * 30 + "]  0/40 files"
    assert text.progress_line(20, 40).startswith("\r[" + "#" * 15 + "." * 15 + "]")
    assert text.progress_line(40, 40).count("#") == 30
    assert text.progress_clear(total=40).startswith("\r") and text.progress_clear(total=40).endswith("\r")


def test_no_progress_when_stderr_is_not_a_terminal(tmp_path):
    for i in range(text.PROGRESS_MIN_FILES + 2):
        write(tmp_path / f"s{i}" / "compose.yaml", y("services:", "  a:", "    image: nginx"))
    r = run("check", ".", cwd=tmp_path)
    assert r.returncode == 1 and "\r" not in r.stderr and "files" not in r.stderr


def test_progress_on_a_terminal(tmp_path):
    pytest.importorskip("pty")
    for i in range(text.PROGRESS_MIN_FILES + 2):
        write(tmp_path / f"s{i}" / "compose.yaml", y("services:", "  a:", "    image: nginx"))
    script = ("import os, pty, sys\n"
              "master, slave = pty.openpty()\n"
              "import subprocess\n"
              "p = subprocess.run([sys.executable, '-m', 'hardener', 'check', '-o', 'report.txt', '.'], "
              "stderr=slave, stdout=subprocess.DEVNULL)\n"
              "os.close(slave)\n"
              "data = b''\n"
              "while True:\n"
              "    try:\n"
              "        chunk = os.read(master, 65536)\n"
              "    except OSError:\n"
              "        break\n"
              "    if not chunk:\n"
              "        break\n"
              "    data += chunk\n"
              "sys.stdout.write(repr(data))\n")
    proc = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=cli_env(), capture_output=True,
                          text=True, timeout=120)
    n = text.PROGRESS_MIN_FILES + 2
    assert f"{n}/{n} files" in proc.stdout, proc.stdout + proc.stderr


# --------------------------------------------------------------------------- json

def test_json_version_and_documented_keys(tmp_path):
    r = check_result(_dirty(tmp_path))
    data = json.loads(render("json", [r]))
    assert data["version"] == 1 and data["tool"] == "hardener"
    assert set(data) == {"version", "tool", "findings", "fixed", "errors", "summary"}
    assert set(data["findings"][0]) == {"rule_id", "rule_name", "file", "service", "line", "column", "severity",
                                        "confidence", "message", "attack_tree", "key_path", "fix", "fix_description",
                                        "fix_reach"}
    assert set(data["summary"]) == {"files", "findings", "fixed", "fixable_safe", "fixable_unsafe", "errors"}
    doc = (REPO / "docs" / "outputs.md").read_text()
    for key in list(data["findings"][0]) + list(data["summary"]):
        assert f"`{key}`" in doc, f"docs/outputs.md does not document JSON key {key}"


# --------------------------------------------------------------------------- SARIF

@pytest.fixture(scope="module")
def sarif_validator():
    jsonschema = pytest.importorskip("jsonschema")
    if not SCHEMA.exists():
        pytest.skip(f"SARIF schema not found at {SCHEMA}")
    schema = json.loads(SCHEMA.read_text())
    assert schema["$schema"].startswith("http://json-schema.org/draft-04/")
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def _sarif(results, **kw) -> dict:
    return json.loads(render("sarif", results, rules=kw.pop("rules", rule_infos()), **kw))


def test_sarif_is_valid_against_the_schema(tmp_path, sarif_validator):
    results = [check_result(_dirty(tmp_path)), check_result(write(tmp_path / "h" / "compose.yaml", HOSTILE))]
    bad = write(tmp_path / "bad" / "compose.yaml", "services:\n  a: [\n")
    results.append(process(str(bad), bad.read_bytes(), Settings(), fix=False))
    with_cwd = _sarif(results, cwd=str(tmp_path))
    errors = sorted(sarif_validator.iter_errors(with_cwd), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:5])
    run_ = with_cwd["runs"][0]
    assert with_cwd["version"] == "2.1.0"
    assert run_["invocations"][0]["executionSuccessful"] is False
    note = run_["invocations"][0]["toolExecutionNotifications"][0]
    assert note["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "bad/compose.yaml"
    line = int(results[2].error.split(":")[0])
    assert note["locations"][0]["physicalLocation"]["region"]["startLine"] == line
    assert note["message"]["text"] == results[2].error.split(": ", 1)[1]


def test_sarif_empty_run_is_valid(sarif_validator):
    doc = _sarif([])
    assert not list(sarif_validator.iter_errors(doc)) and doc["runs"][0]["results"] == []


def test_sarif_rules_metadata(tmp_path):
    doc = _sarif([check_result(_dirty(tmp_path))], cwd=str(tmp_path))
    rules = doc["runs"][0]["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == [r.ID for r in RULES]
    for rule, module in zip(rules, RULES):
        assert rule["name"] == module.NAME
        assert rule["shortDescription"]["text"] == module.__doc__.strip().splitlines()[0]
        assert rule["fullDescription"]["text"] and rule["help"]["markdown"] == module.__doc__.strip()
        assert rule["helpUri"] == f"https://github.com/hardener-dev/hardener/blob/main/docs/rules/{module.ID}.md"
        assert rule["properties"]["tags"] == ["security", *module.ATTACK_TREE]
        float(rule["properties"]["security-severity"])
        assert rule["defaultConfiguration"]["level"] == sarif.LEVELS[module.SEVERITY.value]
    assert sarif.LEVELS == {"critical": "error", "high": "error", "medium": "warning", "low": "note"}
    custom = _sarif([], rules_url="https://docs.example.org/rules")
    assert custom["runs"][0]["tool"]["driver"]["rules"][0]["helpUri"] == "https://docs.example.org/rules/CAP001.md"


def test_sarif_results_locations_and_levels(tmp_path):
    r = check_result(_dirty(tmp_path))
    doc = _sarif([r], cwd=str(tmp_path))
    results = doc["runs"][0]["results"]
    rules = doc["runs"][0]["tool"]["driver"]["rules"]
    assert len(results) == len(r.findings)
    for res, f in zip(results, r.findings):
        assert res["ruleId"] == f.rule_id and rules[res["ruleIndex"]]["id"] == f.rule_id
        assert res["level"] == sarif.LEVELS[f.severity.value]
        loc = res["locations"][0]["physicalLocation"]
        assert loc["artifactLocation"] == {"uri": "compose.yaml", "uriBaseId": "%SRCROOT%"}
        assert loc["region"] == {"startLine": f.line, "startColumn": f.column}
        assert res["properties"]["security-severity"] == sarif.SECURITY_SEVERITY[f.severity.value]
    base = doc["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"]
    assert base.startswith("file:///") and base.endswith("/")


def test_sarif_fingerprints_ignore_line_numbers(tmp_path):
    f = _dirty(tmp_path)
    before = _sarif([check_result(f)], cwd=str(tmp_path))["runs"][0]["results"]
    moved = "# a new header\n# pushes every line down\n\n" + f.read_text()
    after = _sarif([check_result(f, moved)], cwd=str(tmp_path))["runs"][0]["results"]
    prints = [r["partialFingerprints"][sarif.FINGERPRINT_KEY] for r in before]
    assert len(set(prints)) == len(prints), "fingerprints must be unique within a run"
    assert prints == [r["partialFingerprints"][sarif.FINGERPRINT_KEY] for r in after]
    assert [r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in after] == \
        [r["locations"][0]["physicalLocation"]["region"]["startLine"] + 3 for r in before]


def _apply_replacements(original: str, replacements, by_lines: bool = False) -> str:
    """A SARIF consumer as docs/outputs.md describes one: replacements are relative to the original;
    identical ones count once; insertions at one offset go most indented first, else in the order given."""
    pos = _common.Positions(original)
    spans = []
    for rep in replacements:
        region = rep["deletedRegion"]
        if by_lines:
            start = pos.offset(region["startLine"], region["startColumn"])
            end = pos.offset(region["endLine"], region["endColumn"])
        else:
            start, end = region["charOffset"], region["charOffset"] + region["charLength"]
        item = (start, end, rep["insertedContent"]["text"])
        if item not in spans:
            spans.append(item)
    def indent(item):
        start, end, new = item
        return len(new) - len(new.lstrip(" ")) if start == end else 0

    spans = sorted(enumerate(spans), key=lambda p: (p[1][0], p[1][1], -indent(p[1]), p[0]))
    out, last = [], 0
    for _, (start, end, new) in spans:
        assert start >= last, "replacements overlap"
        out.append(original[last:start])
        out.append(new)
        last = end
    out.append(original[last:])
    return "".join(out)


def _single_pass(findings):
    """The fixes one engine pass applies together: in order, skipping any that overlaps one taken."""
    chosen, taken = [], []
    for f in findings:
        if f.fix is None:
            continue
        if any(e.start < o.end and o.start < e.end or (e.start == e.end and o.start < e.start < o.end)
               or (o.start == o.end and e.start < o.start < e.end) for e in f.fix.edits for o in taken if e != o):
            continue
        chosen.append(f)
        taken.extend(f.fix.edits)
    return chosen, taken


SARIF_CASES = {
    "example": lambda: EXAMPLE.read_text(),
    "crlf": lambda: EXAMPLE.read_text().replace("\n", "\r\n"),
    "no-final-newline": lambda: y("services:", "  web:", "    image: nginx", "    ports:", '      - "80:80"').rstrip("\n"),
    "flow-style": lambda: y("services:", "  web: {image: nginx, ports: ['80:80'], user: root}"),
    "hostile": lambda: HOSTILE,
}


@pytest.mark.parametrize("case", sorted(SARIF_CASES))
def test_sarif_fixes_reproduce_the_engine_edits(tmp_path, case):
    content = SARIF_CASES[case]()
    f = write(tmp_path / "compose.yaml", content)
    r = process(str(f), f.read_bytes(), Settings(select=frozenset(CORE_IDS)), fix=False)
    assert r.original == content
    doc = _sarif([r], cwd=str(tmp_path))
    results = doc["runs"][0]["results"]
    by_finding = dict(zip(r.findings, results))
    fixable = [x for x in r.findings if x.fix is not None]
    assert fixable, "the case must have fixable findings"
    parsed = parse(r.original)
    # every fix on its own
    for finding in fixable:
        res = by_finding[finding]
        (fix,) = res["fixes"]
        (change,) = fix["artifactChanges"]
        assert change["artifactLocation"]["uri"] == "compose.yaml"
        expected = apply_edits(parsed, list(finding.fix.edits))
        assert _apply_replacements(r.original, change["replacements"]) == expected
        assert _apply_replacements(r.original, change["replacements"], by_lines=True) == expected
        if parsed.newline == "\n" and r.original.endswith("\n"):  # no newline conversion: the edits' own texts
            assert sorted(rep["insertedContent"]["text"] for rep in change["replacements"]) == \
                sorted(e.text for e in set(finding.fix.edits))
    # all the fixes one engine pass applies, together
    chosen, taken = _single_pass(r.findings)
    combined = [rep for x in chosen for rep in by_finding[x]["fixes"][0]["artifactChanges"][0]["replacements"]]
    assert _apply_replacements(r.original, combined) == apply_edits(parsed, taken)
    assert all("fixes" not in by_finding[x] for x in r.findings if x.fix is None)


@pytest.mark.parametrize("path", corpus_samples(), ids=lambda p: p.name[:40])
def test_sarif_fixes_on_corpus_files(path):
    r = process(str(path), path.read_bytes(), Settings(), fix=False)
    if r.original is None:
        pytest.skip(f"not processed: {r.error}")
    doc = json.loads(render("sarif", [r], rules=rule_infos()))
    parsed = parse(r.original)
    for finding, res in zip(r.findings, doc["runs"][0]["results"]):
        if finding.fix is None:
            continue
        reps = res["fixes"][0]["artifactChanges"][0]["replacements"]
        assert _apply_replacements(r.original, reps) == apply_edits(parsed, list(finding.fix.edits))


def test_sarif_after_fix_carries_no_stale_fixes(tmp_path):
    f = _dirty(tmp_path)
    r = process(str(f), f.read_bytes(), Settings(), fix=True)
    doc = _sarif([r], cwd=str(tmp_path))
    assert all("fixes" not in res for res in doc["runs"][0]["results"])


def test_cli_sarif_to_file(tmp_path, sarif_validator):
    _dirty(tmp_path)
    r = run("check", "--format", "sarif", "-o", "out.sarif", "--rules-url", "https://x.example/r/", "compose.yaml",
            cwd=tmp_path)
    assert r.returncode == 1 and r.stdout == ""
    doc = json.loads((tmp_path / "out.sarif").read_text())
    assert not list(sarif_validator.iter_errors(doc))
    assert doc["runs"][0]["tool"]["driver"]["rules"][0]["helpUri"] == "https://x.example/r/CAP001.md"
    env = run("check", "-f", "sarif", "--exit-zero", "compose.yaml", cwd=tmp_path,
              env_extra={"HARDENER_RULES_URL": "https://env.example/docs"})
    assert env.returncode == 0
    assert json.loads(env.stdout)["runs"][0]["tool"]["driver"]["rules"][0]["helpUri"] == "https://env.example/docs/CAP001.md"


# --------------------------------------------------------------------------- github

def test_github_escaping():
    assert github.escape_data("50% a\r\nb") == "50%25 a%0D%0Ab"
    assert github.escape_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"
    assert github.command("error", "m::x", file="a,b:c.yaml", line=3) == "::error file=a%2Cb%3Ac.yaml,line=3::m::x"


def test_github_annotations(tmp_path):
    results = [check_result(_dirty(tmp_path)), check_result(write(tmp_path / "h" / "compose.yaml", HOSTILE))]
    out = github.render(results, cwd=str(tmp_path))
    lines = out.splitlines()
    assert len(lines) == sum(len(r.findings) for r in results)
    for line, f in zip(lines, [f for r in results for f in r.findings]):
        level = {"critical": "error", "high": "error", "medium": "warning", "low": "notice"}[f.severity.value]
        assert line.startswith(f"::{level} file=")
        head, _, message = line[2:].partition("::")
        props = dict(p.split("=", 1) for p in head.split(" ", 1)[1].split(","))
        assert props["line"] == str(f.line) and props["col"] == str(f.column)
        assert ":" not in props["title"] and "\n" not in message
    assert "file=compose.yaml," in out and "file=h/compose.yaml," in out


def test_github_reports_unreadable_files(tmp_path):
    bad = write(tmp_path / "compose.yaml", "services:\n  a: [\n")
    r = process(str(bad), bad.read_bytes(), Settings(), fix=False)
    out = github.render([r], cwd=str(tmp_path))
    assert out.startswith("::error file=compose.yaml,line=") and out.count("\n") == 1


# --------------------------------------------------------------------------- markdown

def _markdown_html(md: str) -> str:
    markdown_it = pytest.importorskip("markdown_it")
    return markdown_it.MarkdownIt("commonmark", {"html": True}).enable("table").render(md)


def _hostile_results(tmp_path):
    f = write(tmp_path / "compose.yaml", HOSTILE)
    r = check_result(f)
    return r, patch_for(f)


def test_markdown_hostile_text_stays_inert(tmp_path):
    r, patch = _hostile_results(tmp_path)
    assert r.findings and patch is not None and "```" in patch.diff
    md = render("markdown", [r], rules=rule_infos(), patches=[patch], patch_mode="unsafe", cwd=str(tmp_path))
    html = _markdown_html(md)
    # no markup from the file survives as markup
    assert "<script" not in html and "<img" not in html and "onerror=alert" not in html.replace("onerror=alert(1)&gt;", "")
    rules_hit = {f.rule_id for f in r.findings}
    assert html.count("<details>") == html.count("</details>") == len(rules_hit)  # one explanation per rule
    assert md.count("<details>") == len(rules_hit)
    # the diff block is fenced longer than any backtick run in it and holds the whole diff
    fence = re.search(r"^(`{3,})diff$", md, re.M).group(1)
    assert len(fence) > 3
    block = md.split(fence + "diff\n", 1)[1].split("\n" + fence + "\n", 1)[0]
    assert block + "\n" == patch.diff
    assert html.count("<pre><code") == 1
    # tables keep their column count though names contain '|'
    for row in re.findall(r"^\|.*\|$", md, re.M):
        cells = re.split(r"(?<!\\)\|", row)
        assert len(cells) in (4, 5, 8), row
    findings_part = html.split("What Docker will run differently")[0]
    assert findings_part.count("<tr>") == len(r.findings) + 6 + 1 + len(_common.branches_hit(r.findings)) + 1
    # no mention pings, no live links from the file
    outside_code = re.sub(r"<code>.*?</code>|<pre>.*?</pre>", "", html, flags=re.S)
    assert "a|b`c`@\u200bteam" in outside_code and "@team" not in outside_code and "@octocat" not in outside_code
    assert 'href="http://evil.example"' not in html


def test_markdown_summary_and_branches(tmp_path):
    r = check_result(_dirty(tmp_path))
    md = render("markdown", [r], rules=rule_infos())
    assert md.startswith("<!-- hardener-report -->\n")
    total = len(r.findings)
    assert f"| **total** | **{total}** |" in md
    for sev in ("critical", "high", "medium", "low"):
        n = sum(f.severity.value == sev for f in r.findings)
        assert re.search(rf"^\| \S+ {sev} \| {n} \|$", md, re.M)
    assert "| 1 Escape container (breakout) |" in md and "1.1.2 Misconfigured capabilities" in md
    assert "```diff" not in md  # no patch given
    html = _markdown_html(md)
    assert "<table>" in html and "Why it matters." in md


def test_markdown_clean_and_too_long(tmp_path):
    clean = render("markdown", [])
    assert "No risky settings found." in clean
    r = check_result(_dirty(tmp_path))
    patch = patch_for(tmp_path / "compose.yaml")
    full = render("markdown", [r], rules=rule_infos(), patches=[patch])
    limit = len(full) - 100
    md = render("markdown", [r], rules=rule_infos(), patches=[patch], max_chars=limit)
    assert len(md) <= limit and "```diff" in md and "<details>" not in md and "**Rules:**" in md
    tiny = render("markdown", [r], rules=rule_infos(), patches=[patch], max_chars=2500)
    assert len(tiny) <= 2500 and "too long for a comment" in tiny


# --------------------------------------------------------------------------- suggestions

def test_suggestion_hunks_anchor_insertions():
    before = y("a: 1", "b: 2", "c: 3")
    after = y("x: 0", "a: 1", "b: 2", "b2: 2", "c: 3", "d: 4")
    hs = suggestions.hunks(before, after)
    assert hs == [
        {"start_line": 1, "end_line": 1, "original": "a: 1\n", "replacement": "x: 0\na: 1\n"},
        {"start_line": 2, "end_line": 2, "original": "b: 2\n", "replacement": "b: 2\nb2: 2\n"},
        {"start_line": 3, "end_line": 3, "original": "c: 3\n", "replacement": "c: 3\nd: 4\n"},
    ]
    assert suggestions.apply(before, hs) == after
    deleted = suggestions.hunks(before, y("a: 1", "c: 3"))
    assert deleted == [{"start_line": 2, "end_line": 2, "original": "b: 2\n", "replacement": ""}]
    nofinal = suggestions.hunks("a: 1\nb: 2", "a: 1\nb: 3")
    assert suggestions.apply("a: 1\nb: 2", nofinal) == "a: 1\nb: 3"


@pytest.mark.parametrize("case", sorted(SARIF_CASES))
def test_suggestions_rebuild_the_fixed_file(tmp_path, case):
    f = write(tmp_path / "compose.yaml", SARIF_CASES[case]())
    r, patch = check_result(f), patch_for(f)
    data = json.loads(render("suggestions", [r], patches=[patch], patch_mode="unsafe", cwd=str(tmp_path)))
    items = data["suggestions"]
    assert data["version"] == 1 and items
    lines = patch.before.splitlines(True)
    last = 0
    for s in sorted(items, key=lambda s: s["start_line"]):
        assert s["file"] == "compose.yaml"
        assert 1 <= s["start_line"] <= s["end_line"] <= len(lines)
        assert s["start_line"] > last, "suggestions overlap"
        last = s["end_line"]
        assert s["original"] == "".join(lines[s["start_line"] - 1:s["end_line"]])
        fence = re.search(r"^(`{3,})suggestion$", s["body"], re.M).group(1)
        assert s["body"].endswith(fence + "\n")
    assert suggestions.apply(patch.before, items) == patch.after
    assert any(s["rules"] for s in items)


@pytest.mark.parametrize("path", corpus_samples(), ids=lambda p: p.name[:40])
def test_suggestions_on_corpus_files(path):
    data = path.read_bytes()
    fixed = process(str(path), data, Settings(unsafe_fixes=True), fix=True)
    if fixed.output is None:
        pytest.skip("nothing to fix" if fixed.error is None else fixed.error)
    patch = Patch(str(path), fixed.original, fixed.output, "")
    items = suggestions.build([], [patch])["suggestions"]
    assert suggestions.apply(fixed.original, items) == fixed.output


# --------------------------------------------------------------------------- html

def _html(tmp_path, text=None):
    f = write(tmp_path / "compose.yaml", text if text is not None else HOSTILE)
    r = check_result(f)
    return render("html", [r], rules=rule_infos(), patches=[patch_for(f)], patch_mode="unsafe", cwd=str(tmp_path)), r


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.attrs, self.style = [], [], ""
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs.extend(attrs)
        self._in_style = tag == "style"

    def handle_endtag(self, tag):
        self._in_style = False

    def handle_data(self, data):
        if self._in_style:
            self.style += data


def test_html_escapes_and_is_self_contained(tmp_path):
    page, r = _html(tmp_path)
    assert page.startswith("<!DOCTYPE html>")
    parser = _Tags()
    parser.feed(page)
    assert not {"img", "link", "iframe", "object", "embed", "base"} & set(parser.tags)
    # one script: ours (the filters), allowed by its hash and nothing else; the filter form submits nowhere
    assert parser.tags.count("script") == 1 and parser.tags.count("form") == 1
    from hardener.formats.templating import read

    script = read("report.js")
    assert f"<script>{script}</script>" in page
    import base64
    import hashlib

    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in page and "'unsafe-inline'" not in page.split("script-src")[1][:80]
    names = {name for name, _ in parser.attrs}
    assert not {"src", "srcset", "style", "action"} & names and not any(n.startswith("on") for n in names)
    assert "url(" not in parser.style and "@import" not in parser.style
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert parser.tags.count("details") == len(r.findings)
    assert "default-src 'none'" in page
    # links only go to the rule documentation and to the page's own sections
    hrefs = {value for name, value in parser.attrs if name == "href"}
    assert {h for h in hrefs if not h.startswith("#")} <= {DEFAULT_RULES_URL + f"{i}.md" for i in CORE_IDS}
    ids = {value for name, value in parser.attrs if name == "id"}
    assert {h[1:] for h in hrefs if h.startswith("#")} <= ids


def test_html_attack_tree_states(tmp_path):
    page, r = _html(tmp_path, EXAMPLE.read_text())
    from hardener.attack_tree import NODES

    for node in NODES.values():
        assert f'<span class="nid">{node.id}</span>' in page
    hit = {n for f in r.findings for n in f.attack_tree}
    states = _common.node_status(r.findings, rule_infos(CORE_IDS))
    assert {n for n, s in states.items() if s == "open"} == hit
    assert states["1.1.1"] == "host"
    assert page.count('<li class="node open">') == len(hit)
    for kind in ("add", "del", "hunk", "meta"):
        assert f'<span class="{kind}">' in page


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


@pytest.mark.skipif(CHROMIUM is None, reason="no headless browser: install Debian's `chromium` package "
                                             "(apt-get install -y chromium) to render the HTML report")
def test_html_renders_in_headless_chromium(tmp_path):
    page, _ = _html(tmp_path, EXAMPLE.read_text())
    html_file = write(tmp_path / "report.html", page)
    shot = tmp_path / "report.png"
    profile = tempfile.mkdtemp(prefix="hardener-chromium-")
    try:
        proc = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                               "--disable-component-update", "--disable-sync", "--no-first-run",
                               f"--user-data-dir={profile}", f"--screenshot={shot}", "--window-size=1280,2000",
                               html_file.as_uri()], capture_output=True, timeout=120)
        assert shot.exists(), proc.stderr.decode("utf-8", "replace")[-2000:]
        data = shot.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000  # a blank page compresses far smaller
        width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
        assert (width, height) == (1280, 2000)
        dump = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                               "--disable-component-update", "--disable-sync", "--no-first-run",
                               f"--user-data-dir={profile}", "--dump-dom", html_file.as_uri()],
                              capture_output=True, timeout=120)
        dom = dump.stdout.decode("utf-8", "replace")
        assert "hardener review" in dom and "Attack tree" in dom and "Proposed patch" in dom
        assert "Findings by service" in dom and 'id="contents"' in dom
    finally:
        shutil.rmtree(profile, ignore_errors=True)


# --------------------------------------------------------------------------- CLI

@pytest.mark.parametrize("fmt", FORMATS)
def test_cli_check_every_format(tmp_path, fmt):
    _dirty(tmp_path)
    r = run("check", "-f", fmt, "-o", f"out.{fmt}", "compose.yaml", cwd=tmp_path)
    assert r.returncode == 1, r.stderr
    assert r.stdout == "" and (tmp_path / f"out.{fmt}").stat().st_size > 500
    zero = run("check", "-f", fmt, "--exit-zero", "compose.yaml", cwd=tmp_path)
    assert zero.returncode == 0 and zero.stdout


def test_cli_patch_option(tmp_path):
    _dirty(tmp_path)
    safe = run("check", "-f", "markdown", "compose.yaml", cwd=tmp_path).stdout
    unsafe = run("check", "-f", "markdown", "--patch", "unsafe", "compose.yaml", cwd=tmp_path).stdout
    none = run("check", "-f", "markdown", "--patch", "none", "compose.yaml", cwd=tmp_path).stdout
    assert "```diff" in safe and "safe fixes only" in safe
    assert "```diff" in unsafe and "--unsafe-fixes` would change" in unsafe
    assert "127.0.0.1:8000:8000" in unsafe and "127.0.0.1:8000:8000" not in safe
    assert "```diff" not in none
    bad = run("check", "-f", "markdown", "--patch", "all", "compose.yaml", cwd=tmp_path)
    assert bad.returncode == 2 and "unknown --patch" in bad.stderr


def test_cli_fix_diff_formats(tmp_path):
    f = _dirty(tmp_path)
    before = f.read_text()
    md = run("fix", "--diff", "--unsafe-fixes", "-f", "markdown", "compose.yaml", cwd=tmp_path)
    assert md.returncode == 1 and "```diff" in md.stdout and "<details>" in md.stdout
    sug = run("fix", "--diff", "-f", "suggestions", "compose.yaml", cwd=tmp_path)
    data = json.loads(sug.stdout)
    fixed = process(str(f), before.encode(), Settings(), fix=True).output
    assert suggestions.apply(before, data["suggestions"]) == fixed and data["patch"] == "safe"
    html = run("fix", "--diff", "-f", "html", "-o", "r.html", "compose.yaml", cwd=tmp_path)
    assert html.returncode == 1 and (tmp_path / "r.html").read_text().startswith("<!DOCTYPE html>")
    plain = run("fix", "--diff", "-o", "fix.diff", "compose.yaml", cwd=tmp_path)
    assert plain.returncode == 1 and (tmp_path / "fix.diff").read_text().startswith("--- a/compose.yaml")
    assert f.read_text() == before, "--diff writes nothing"
    nodiff = run("fix", "-f", "markdown", "compose.yaml", cwd=tmp_path)
    assert nodiff.returncode == 2 and "add --diff" in nodiff.stderr and f.read_text() == before
    sarif_fix = run("fix", "--diff", "-f", "sarif", "compose.yaml", cwd=tmp_path)
    assert sarif_fix.returncode == 2 and "unknown format 'sarif' for fix" in sarif_fix.stderr


def test_cli_patch_formats_read_standard_input_once():
    text_in = EXAMPLE.read_text()
    md = run("check", "-f", "markdown", "-", input=text_in)
    assert md.returncode == 1 and "```diff" in md.stdout and "`<stdin>`" in md.stdout
    sug = run("fix", "--diff", "-f", "suggestions", "-", input=text_in)
    data = json.loads(sug.stdout)
    fixed = process("<stdin>", text_in.encode(), Settings(), fix=True).output
    assert data["suggestions"] and suggestions.apply(text_in, data["suggestions"]) == fixed
    assert {s["file"] for s in data["suggestions"]} == {"<stdin>"} and any(s["rules"] for s in data["suggestions"])


def test_cli_github_format_on_stdin():
    r = run("check", "-f", "github", "-", input=y("services:", "  web:", "    image: nginx"))
    assert r.returncode == 1 and r.stdout.startswith("::") and "file=<stdin>" in r.stdout


def test_jinja2_is_imported_only_for_markdown_and_html(tmp_path):
    _dirty(tmp_path)
    probe = ("import sys\nfrom hardener import cli\nsys.argv = ['hardener', 'check', '-f', sys.argv[1], '-o', 'o', "
             "'compose.yaml']\ntry:\n    cli.main()\nexcept SystemExit:\n    pass\n"
             "print('jinja2' in sys.modules, file=sys.stderr)\n")
    for fmt, expected in (("text", "False"), ("json", "False"), ("sarif", "False"), ("github", "False"),
                          ("markdown", "True"), ("html", "True")):
        proc = subprocess.run([sys.executable, "-c", probe, fmt], cwd=tmp_path, env=cli_env(), capture_output=True,
                              text=True, timeout=60)
        assert proc.stderr.strip().splitlines()[-1] == expected, (fmt, proc.stderr)


def test_templates_are_package_data():
    import tomllib

    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    data = project["tool"]["setuptools"]["package-data"]["hardener.templates"]
    assert "*.j2" in data and "*.css" in data
    from hardener.formats.templating import read

    assert "*.js" in data
    for name in ("comment.md.j2", "report.html.j2", "report.css", "report.js"):
        assert (REPO / "templates" / name).exists() and read(name)


def test_docs_outputs_cover_every_format():
    doc = (REPO / "docs" / "outputs.md").read_text()
    for fmt in FORMATS:
        assert f"`--format {fmt}`" in doc or f"`-f {fmt}`" in doc, fmt
    assert "images/html-report.png" in doc and (REPO / "docs" / "images" / "html-report.png").exists()
    action = (REPO / "action.yml").read_text()
    for name in re.findall(r"^  ([a-z][a-z0-9-]+):\n    description:", action, re.M):
        assert f"`{name}`" in doc, f"action input {name} is not documented"


# --------------------------------------------------------------------------- the GitHub Action

ACTION_SCRIPT = REPO / "scripts" / "hardener-action.sh"


def _action():
    from ruamel.yaml import YAML

    return YAML(typ="safe").load((REPO / "action.yml").read_text())


def test_action_yml_is_a_composite_action_that_uses_its_inputs_safely():
    action = _action()
    assert action["runs"]["using"] == "composite"
    steps = action["runs"]["steps"]
    uses = [s["uses"] for s in steps if "uses" in s]
    assert any(u.startswith("github/codeql-action/upload-sarif@") for u in uses)
    scripted = [s for s in steps if "run" in s]
    for step in scripted:
        assert step["shell"] == "bash"
        assert "${{" not in step["run"], "inputs must reach scripts through env, not the script text"
        sub = re.fullmatch(r'bash "\$GITHUB_ACTION_PATH/scripts/hardener-action\.sh" (\w+)', step["run"]).group(1)
        assert re.search(rf"^    {sub}\) cmd_{sub} ;;$", ACTION_SCRIPT.read_text(), re.M)
    text = (REPO / "action.yml").read_text()
    for name in action["inputs"]:
        assert f"inputs.{name}" in text, f"input {name} is never used"
    upload = next(s for s in steps if s.get("uses", "").startswith("github/codeql-action/upload-sarif@"))
    assert upload["with"]["sarif_file"] == "${{ steps.check.outputs.sarif-file }}"


@pytest.fixture()
def action_env(tmp_path):
    """A fake runner: a `hardener` wrapper that runs this checkout, a `gh` that records its calls, the
    GITHUB_OUTPUT / GITHUB_STEP_SUMMARY files."""
    if shutil.which("bash") is None:
        pytest.skip("bash is not installed")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    wrapper = bin_dir / "hardener-under-test"
    wrapper.write_text(f"#!/bin/sh\nPYTHONPATH={REPO} exec {sys.executable} -m hardener \"$@\"\n")
    gh = bin_dir / "gh"
    gh.write_text("#!/bin/sh\nprintf '%s\\n' \"$*\" >> \"$GH_LOG\"\n"
                  "case \"$*\" in *--paginate*) printf '%s\\n' \"$GH_EXISTING\" ;; esac\n")
    for f in (wrapper, gh):
        f.chmod(0o755)
    work = tmp_path / "work"
    work.mkdir()
    env = cli_env()
    env.update({"PATH": f"{bin_dir}{os.pathsep}{env['PATH']}", "HARDENER": str(wrapper), "PYTHON": sys.executable,
                "GITHUB_OUTPUT": str(tmp_path / "output"), "GITHUB_STEP_SUMMARY": str(tmp_path / "summary"),
                "RUNNER_TEMP": str(tmp_path), "GH_LOG": str(tmp_path / "gh.log"), "GH_EXISTING": "",
                "GITHUB_REPOSITORY": "octo/shop"})
    return env, work, tmp_path


def _step(env, work, sub, **extra):
    e = dict(env)
    e.update({k: str(v) for k, v in extra.items()})
    return subprocess.run(["bash", str(ACTION_SCRIPT), sub], cwd=work, env=e, capture_output=True, text=True,
                          timeout=300)


def _outputs(tmp):
    path = tmp / "output"
    return dict(line.split("=", 1) for line in path.read_text().splitlines()) if path.exists() else {}


def test_action_check_writes_sarif_outputs_and_summary(action_env, sarif_validator):
    env, work, tmp = action_env
    write(work / "deploy" / "compose.yaml", EXAMPLE.read_text())
    write(work / "other" / "docker-compose.yml", y("services:", "  a:", "    image: nginx"))
    step = _step(env, work, "check", INPUT_PATHS="deploy", INPUT_ARGS="--select CAP001,PRT001", INPUT_PATCH="unsafe",  # CAP001, PRT001: unsafe fixes
                 INPUT_SARIF_FILE="out/h.sarif", INPUT_COMMENT="true")
    assert step.returncode == 0, step.stderr
    out = _outputs(tmp)
    assert out["sarif-file"] == "out/h.sarif" and out["exit-code"] == "1"
    doc = json.loads((work / "out" / "h.sarif").read_text())
    assert not list(sarif_validator.iter_errors(doc))
    results = doc["runs"][0]["results"]
    assert int(out["findings"]) == len(results) > 0
    assert {r["ruleId"] for r in results} == {"CAP001", "PRT001"}
    assert {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results} == {"deploy/compose.yaml"}
    md = Path(out["markdown-file"]).read_text()
    assert md.startswith("<!-- hardener-report -->") and "```diff" in md
    assert (tmp / "summary").read_text() == md


def test_action_check_clean_and_broken_files(action_env):
    env, work, tmp = action_env
    write(work / "compose.yaml", y("services:", "  a:", "    image: nginx"))
    clean = _step(env, work, "check", INPUT_ARGS="--select HRD001", INPUT_SUMMARY="false")
    assert clean.returncode == 0, clean.stderr
    out = _outputs(tmp)
    assert out["exit-code"] == "0" and out["findings"] == "0" and "markdown-file" not in out
    (tmp / "output").unlink()
    write(work / "compose.yaml", "services:\n  a: [\n")
    broken = _step(env, work, "check", INPUT_SUMMARY="false")
    assert broken.returncode == 0 and _outputs(tmp)["exit-code"] == "2"


def test_action_verdict(action_env):
    env, work, _ = action_env
    assert _step(env, work, "verdict", HARDENER_EXIT=0).returncode == 0
    failed = _step(env, work, "verdict", HARDENER_EXIT=1)
    assert failed.returncode == 1 and "::error::" in failed.stderr
    assert _step(env, work, "verdict", HARDENER_EXIT=1, FAIL_ON_FINDINGS="false").returncode == 0
    assert _step(env, work, "verdict", HARDENER_EXIT=2, FAIL_ON_FINDINGS="false").returncode == 2
    assert _step(env, work, "nonsense").returncode == 64


@pytest.mark.skipif(shutil.which("shellcheck") is None, reason="shellcheck is not installed")
def test_action_script_passes_shellcheck():
    proc = subprocess.run(["shellcheck", str(ACTION_SCRIPT)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout
