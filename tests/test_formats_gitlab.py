"""--format gitlab: a GitLab Code Quality report, valid against the schema written from GitLab's
documented fields (tests/schemas/gitlab-code-quality.schema.json), with fingerprints that are unique
in a report and stable across runs and line moves, GitLab's severities, paths relative to the
working folder, and the `.gitlab-ci.yml` snippet documented where users look."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from conftest import REPO, put, run_cli, y

SCHEMA = Path(__file__).parent / "schemas" / "gitlab-code-quality.schema.json"
EXAMPLE = REPO / "examples" / "compose.yaml"


@pytest.fixture(scope="module")
def validator():
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(SCHEMA.read_text())
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def report(cwd, *args) -> list:
    proc = run_cli("check", "-f", "gitlab", *args, cwd=cwd)
    assert proc.returncode in (1, 2), proc.stderr
    return json.loads(proc.stdout)


def test_report_is_valid_and_complete(tmp_path, validator):
    put(tmp_path, "deploy/compose.yaml", EXAMPLE.read_text())
    put(tmp_path, "broken/compose.yaml", "services:\n  a: [\n")
    issues = report(tmp_path, ".")
    errors = list(validator.iter_errors(issues))
    assert not errors, errors[:3]
    text = json.loads(run_cli("check", "-f", "json", "deploy", cwd=tmp_path).stdout)
    findings = [i for i in issues if i["check_name"] != "hardener/unprocessed-file"]
    assert len(findings) == len(text["findings"])
    for issue, f in zip(findings, text["findings"]):
        assert issue["check_name"] == f["rule_id"] and f["message"] in issue["description"]
        assert issue["location"] == {"path": "deploy/compose.yaml", "lines": {"begin": f["line"]}}
        assert issue["severity"] == {"low": "minor", "medium": "major", "high": "critical",
                                     "critical": "blocker"}[f["severity"]]
    broken = [i for i in issues if i["check_name"] == "hardener/unprocessed-file"]
    assert len(broken) == 1 and broken[0]["location"]["path"] == "broken/compose.yaml"
    assert len({i["fingerprint"] for i in issues}) == len(issues), "GitLab needs unique fingerprints"
    assert all(re.fullmatch(r"[0-9a-f]{64}", i["fingerprint"]) for i in issues)


def test_fingerprints_survive_line_moves_and_reruns(tmp_path, validator):
    f = put(tmp_path, "compose.yaml", y("services:", "  web:", "    image: nginx:1.27", "    ports:",
                                        '      - "8080:8080"', '      - "9090:9090"'))
    first = report(tmp_path, "compose.yaml")
    again = report(tmp_path, "compose.yaml")
    assert first == again
    f.write_text("# a comment\n# and another\n" + f.read_text())
    moved = report(tmp_path, "compose.yaml")
    assert [i["fingerprint"] for i in moved] == [i["fingerprint"] for i in first]
    assert [i["location"]["lines"]["begin"] for i in moved] == [i["location"]["lines"]["begin"] + 2 for i in first]
    ports = [i for i in first if i["check_name"] == "PRT001"]
    assert len(ports) == 2 and ports[0]["fingerprint"] != ports[1]["fingerprint"]
    assert not list(validator.iter_errors(moved))


def test_clean_report_is_an_empty_array(tmp_path, validator):
    put(tmp_path, "compose.yaml", y("services:", "  a:", "    image: nginx:1.27"))
    proc = run_cli("check", "-f", "gitlab", "--select", "IMG001", "compose.yaml", cwd=tmp_path)
    assert proc.returncode == 0 and json.loads(proc.stdout) == []


def test_hostile_values_stay_json_text(tmp_path, validator):
    put(tmp_path, "compose.yaml", y("services:", '  "w\\e[2J\\u202e":', "    image: nginx"))
    issues = report(tmp_path, "compose.yaml")
    assert not list(validator.iter_errors(issues))
    assert all("\x1b" not in i["description"] and "\u202e" not in i["description"] for i in issues)
    assert any("w\\x1b[2J\\u202e" in i["description"] for i in issues)


def test_gitlab_ci_snippet_is_documented():
    for doc in (REPO / "docs" / "outputs.md", REPO / "README.md"):
        text = doc.read_text()
        assert "hardener check --format gitlab" in text and "codequality:" in text, doc
    snippet = re.search(r"```yaml\n(# \.gitlab-ci\.yml\n.*?)```", (REPO / "docs" / "outputs.md").read_text(), re.S)
    from ruamel.yaml import YAML

    job = YAML(typ="safe").load(snippet.group(1))["hardener"]
    assert job["artifacts"]["reports"]["codequality"] == "gl-code-quality-report.json"
    assert any("--format gitlab" in line and "gl-code-quality-report.json" in line for line in job["script"])
    assert job["artifacts"]["when"] == "always"
