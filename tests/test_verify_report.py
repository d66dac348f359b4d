"""The verification section of the Markdown and HTML reports, through the real CLI: `hardener check
--format markdown|html --verification FILE` with the JSON `hardener verify --format json -o FILE` writes
(the fixtures are real runs on the runtime tier's engine; tests/golden has their reports). Log lines
and service names are untrusted: they are escaped where they land. A file that is not a verification,
and `verify` that could not run, are said in one line."""
from __future__ import annotations

import html
import json
import re
from pathlib import Path

from hardener.formats import render
from hardener.runtime.report import VerificationError, verification

from conftest import REPO, put, run_cli, y

FIXTURES = Path(__file__).parent / "fixtures" / "verification"
REGRESSION = FIXTURES / "nginx-unknown" / "verification.json"
STACK = y("services:", "  web:", "    image: nginx:1.27")

HOSTILE_LINE = ("```\n</pre><script>alert(1)</script> @octo/team \x1b[31mred\x1b[0m \u202eevil | *bold* "
                "[link](http://x) POSTGRES_PASSWORD=***")
HOSTILE_NAME = "w`e<b>@x|y"


def hostile_verification(tmp_path) -> Path:
    """The regression fixture with a hostile service name, and a hostile log line in every evidence
    list: the dropped fixes' and that of a service no dropped fix explains."""
    doc = json.loads(REGRESSION.read_text())
    for s in doc["services"]:
        if s["service"] == "web":
            s["service"] = HOSTILE_NAME
        else:  # cache: a regression no dropped fix explains, shown with its own evidence
            s["verdict"] = "regression"
            s["hardened"].update(state="exited", label="exited(1)", exit_code=1, evidence=["exit code 1", HOSTILE_LINE])
    for d in doc["dropped"]:
        d["evidence"].append(HOSTILE_LINE)
        d["service"] = d["broke"] = HOSTILE_NAME
    path = tmp_path / "hostile.json"
    path.write_text(json.dumps(doc))
    return path


def report(tmp_path, fmt, verification_file, *extra):
    put(tmp_path, "compose.yaml", STACK)
    proc = run_cli("check", "--isolated", "--format", fmt, "--verification", str(verification_file), *extra,
                   str(tmp_path / "compose.yaml"))
    assert proc.returncode == 1, proc.stderr  # the stack has findings
    return proc.stdout


def test_markdown_section_says_how_each_service_ran_and_what_stopped_it(tmp_path):
    out = report(tmp_path, "markdown", REGRESSION, "--patch", "unsafe")
    section = out[out.index("### Verification on a Docker engine"):out.index("### Findings")]
    assert "\u274c **The patch stops `web`: 1 of 2 services work with it.**" in section
    assert "as `hardener fix --unsafe-fixes` writes it (15 fixes)" in section
    assert "| `web` | healthy | restarting(1) | regression |" in section
    assert "**Fixes that stop a service** (3)" in section
    for rule, line in (("CAP001", "Operation not permitted"), ("FS001", "Read-only file system"),
                       ("USR001", "Permission denied")):
        assert f"`{rule}` on `web`: {rule} alone stops it: exited(1)" in section
        assert re.search(r"```\nexit code 1\n[^`]*" + line + r"[^`]*\n```", section), rule
    assert "not the patch proposed below" not in section
    # the safe patch is not the one that was verified: the report says so
    safe = report(tmp_path, "markdown", REGRESSION)
    assert "*This verification started the patch of `hardener fix --unsafe-fixes`, not the patch proposed below.*" in safe


def test_html_section_with_the_same_content(tmp_path):
    out = report(tmp_path, "html", REGRESSION, "--patch", "unsafe")
    assert '<li><a href="#verification">Verification on a Docker engine</a></li>' in out
    section = out[out.index('<section id="verification">'):out.index('<section id="attack-tree">')]
    assert "The patch stops <code>web</code>: 1 of 2 services work with it." in section
    assert section.count('<div class="dropped">') == 3
    assert "failed (30: Read-only file system)" in section
    assert '<tr class="v-regression"><td><code>web</code></td><td>healthy</td><td>restarting(1)</td>' in section


def test_healthy_verification_headline(tmp_path):
    out = report(tmp_path, "markdown", FIXTURES / "example.json", "--patch", "unsafe")
    assert "\u2705 **5 services healthy with this patch.**" in out
    page = report(tmp_path, "html", FIXTURES / "example.json", "--patch", "unsafe")
    assert "5 services healthy with this patch." in page


def test_log_lines_and_names_are_escaped_in_markdown(tmp_path):
    out = report(tmp_path, "markdown", hostile_verification(tmp_path), "--patch", "unsafe")
    section = out[out.index("### Verification"):out.index("### Findings")]
    assert "\x1b" not in section and "\u202e" not in section
    assert "\\x1b[31mred" in section and "\\u202eevil" in section
    # evidence sits in fenced blocks whose fence is longer than the backtick run inside
    assert "````\nexit code 1\n" in section and "\n````" in section
    assert "<script>" not in section.split("````")[0]  # outside the code blocks nothing is raw HTML
    # the service name: a code span with a longer fence, escaped '|' in table cells, no mention
    assert "| ``w`e<b>@x\\|y`` |" in section  # in the table: a code span ('|' escaped), no mention there
    assert "``w`e<b>@x|y`` on ``w`e<b>@x|y``" not in section  # the fix's own service and the one it stops...
    assert "`CAP001` on ``w`e<b>@x|y``: CAP001 alone stops it" in section  # ...are one here: named once
    assert "`cache` exited(1):\n\n````\nexit code 1\n```\n" in section  # the unexplained regression


def test_log_lines_and_names_are_escaped_in_html(tmp_path):
    out = report(tmp_path, "html", hostile_verification(tmp_path), "--patch", "unsafe")
    section = out[out.index('<section id="verification">'):out.index('<section id="attack-tree">')]
    assert "<script>" not in section and "</pre><script>" not in section
    assert html.escape("</pre><script>alert(1)</script>", quote=True) in section
    assert "\x1b" not in section and "\u202e" not in section and "\\x1b[31mred" in section
    assert "<code>w`e&lt;b&gt;@x|y</code>" in section


def test_evidence_goes_first_when_the_comment_is_too_long():
    """A comment over the size limit leaves out the evidence blocks before the effective changes and
    the findings; the table and the dropped fixes stay."""
    v = verification(json.loads(REGRESSION.read_text()))
    full = render("markdown", [], verification=v)
    assert "```\nexit code 1" in full
    brief = render("markdown", [], verification=v, max_chars=len(full) - 1)
    assert "exit code 1" not in brief and "`FS001` on `web`" in brief
    assert "The log lines are left out to keep this comment under GitHub's size limit" in brief


def test_a_verified_patch_of_fix_verify_says_what_it_kept(tmp_path):
    doc = json.loads(REGRESSION.read_text())
    doc["patch"] = {"files": ["compose.yaml"], "services": {"web": "healthy", "cache": "healthy"}}
    for f in doc["fixes"]:
        f["kept"] = not (f["service"] == "web" and f["rule"] in ("CAP001", "FS001", "USR001"))
    path = put(tmp_path, "patch.json", json.dumps(doc))
    out = report(tmp_path, "markdown", path, "--patch", "unsafe")
    assert "\u2705 **2 services healthy with this patch.**" in out
    assert "`hardener fix --verify --unsafe-fixes` kept 12 of 15 fixes" in out
    assert "**Dropped** (3)" in out


def test_verify_that_could_not_run_leaves_a_report_that_says_why(tmp_path):
    put(tmp_path, "compose.yaml", STACK)
    target = tmp_path / "out" / "verification.json"
    proc = run_cli("verify", "--format", "json", "-o", str(target), str(tmp_path),
                   env={"DOCKER_HOST": f"unix://{tmp_path}/no-engine.sock"})
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
    doc = json.loads(target.read_text())
    assert doc["version"] == 1 and doc["result"] == "error"
    assert doc["error"].startswith("no Docker engine answers at unix://") and doc["error"] in proc.stderr
    out = report(tmp_path, "markdown", target)
    assert ("\u26a0\ufe0f **The proposed patch was not started: verification could not run.** no Docker engine "
            "answers at unix://") in out
    page = report(tmp_path, "html", target)
    assert "verification could not run.</strong> no Docker engine answers" in page
    # without -o nothing is written on stdout: the one line on stderr says it all
    proc = run_cli("verify", "--format", "json", str(tmp_path), env={"DOCKER_HOST": f"unix://{tmp_path}/x.sock"})
    assert proc.returncode == 2 and proc.stdout == ""


def test_a_file_that_is_not_a_verification_is_refused_in_one_line(tmp_path):
    put(tmp_path, "compose.yaml", STACK)
    cases = {
        "missing.json": None,
        "text.json": "not json",
        "other.json": json.dumps({"version": 2, "result": "ok"}),
        "list.json": json.dumps([1]),
        "broken.json": json.dumps({"version": 1, "result": "ok", "services": [{"service": "a"}]}),
        "result.json": json.dumps({"version": 1, "result": "maybe"}),
    }
    for name, text in cases.items():
        if text is not None:
            put(tmp_path, name, text)
        proc = run_cli("check", "--format", "markdown", "--verification", str(tmp_path / name), str(tmp_path))
        assert proc.returncode == 2 and proc.stdout == "", (name, proc.stderr)
        assert re.fullmatch(r"hardener: error: .*" + re.escape(name) + r": .+\n", proc.stderr), proc.stderr
        assert "Traceback" not in proc.stderr
    proc = run_cli("check", "--format", "sarif", "--verification", str(REGRESSION), str(tmp_path))
    assert proc.returncode == 2
    assert proc.stderr == "hardener: error: --verification is shown by --format markdown and html, not sarif\n"


def test_fix_diff_reports_carry_the_section_too(tmp_path):
    put(tmp_path, "compose.yaml", STACK)
    proc = run_cli("fix", "--diff", "--unsafe-fixes", "--format", "markdown", "--verification", str(REGRESSION),
                   str(tmp_path / "compose.yaml"))
    assert proc.returncode == 1, proc.stderr
    assert "### Verification on a Docker engine" in proc.stdout
    assert (tmp_path / "compose.yaml").read_text() == STACK


def test_the_model_is_plain_data_read_from_the_json_schema():
    v = verification(json.loads((FIXTURES / "example.json").read_text()))
    assert (v.result, v.working, v.healthy, len(v.services), v.fixes, v.kept) == ("ok", 5, 5, 5, 43, 43)
    assert v.unsafe_fixes and not v.written and v.regressions == []
    r = verification(json.loads(REGRESSION.read_text()))
    assert r.regressions == ["web"] and [d.rule for d in r.dropped] == ["CAP001", "FS001", "USR001"]
    assert r.services[1].evidence[0] == "exit code 1 after 4 restart(s)" and not r.services[0].evidence
    try:
        verification({"version": 1, "result": "ok", "services": "x"})
    except VerificationError as exc:
        assert "not a hardener verify report" in str(exc)
    else:
        raise AssertionError("a broken report must be refused")
    assert REPO.joinpath("docs", "verify.md").read_text().count("--verification") >= 1


def test_fix_verify_saves_its_verification_only_with_verify(tmp_path):
    put(tmp_path, "compose.yaml", STACK)
    target = tmp_path / "saved.json"
    proc = run_cli("fix", "--write-verification", str(target), str(tmp_path))
    assert proc.returncode == 2 and proc.stderr == "hardener: error: --write-verification saves what --verify found: add --verify\n"
    proc = run_cli("fix", "--verify", "--write-verification", str(tmp_path / "compose.yaml"), str(tmp_path / "compose.yaml"))
    assert proc.returncode == 2 and "refusing to overwrite it" in proc.stderr
    proc = run_cli("fix", "--verify", "--write-verification", str(target), str(tmp_path),
                   env={"DOCKER_HOST": f"unix://{tmp_path}/no-engine.sock"})
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
    assert json.loads(target.read_text())["result"] == "error"
    assert (tmp_path / "compose.yaml").read_text() == STACK


def test_a_fix_verify_that_found_no_patch_reports_the_full_patch(tmp_path):
    """fix --verify that could not confirm any patch wrote nothing: the report is that of the full patch."""
    doc = json.loads(REGRESSION.read_text())
    doc["patch"] = {"files": [], "services": {}}
    path = put(tmp_path, "nothing.json", json.dumps(doc))
    out = report(tmp_path, "markdown", path, "--patch", "unsafe")
    assert "The patch stops `web`" in out and "kept" not in out and "**Fixes that stop a service** (3)" in out


def test_the_terminal_table_shows_control_characters_of_log_lines_as_escapes():
    """verify's text output (and fix --verify's) prints evidence from container logs: a colour code, a
    cursor move or a carriage return in a log line must not reach the terminal."""
    from hardener.runtime.report import as_text
    from hardener.runtime.states import State, ServiceRun
    from hardener.runtime.verify import Culprit, Verdict

    ok = State("healthy")
    broken = State("exited", exit_code=1)
    line = "\x1b[31mERROR\x1b[0m: open /data: Read-only file system\r\x1b[2Kall good"
    v = Verdict(files=["compose.yaml"], runtime_files=[], engine={}, unsafe_fixes=True)
    v.services = {"web\x1b]0;title\x07": {"original": ServiceRun("web", ok), "verdict": "regression", "fixes": ["FS001"],
                                          "hardened": ServiceRun("web", broken, [], ["exit code 1", line])}}
    v.culprits = [Culprit("FS001", "web", "web", "FS001 alone stops it: exited(1)", ("exit code 1", line))]
    for written in (False, True):
        text = as_text(v, written)
        assert "\x1b" not in text and "\r" not in text and "\x07" not in text, repr(text)
        assert "\\x1b[31mERROR\\x1b[0m: open /data: Read-only file system\\x0d\\x1b[2Kall good" in text
        assert "web\\x1b]0;title\\x07" in text
