"""The engine's partial-service policy (engine._where_defined) is keyed on what a finding is about,
not on where it points: a rule marks a finding about a setting the service lacks (`Finding.missing`,
through rules.base.finding), and only those leave a partial service's mapping. An override of a
read-only file's value reported at the same service name stays, with its fix. Real parser, real
rules, the real command line and the real Compose binary."""
from __future__ import annotations

import json
from pathlib import Path

from hardener.compose import Project
from hardener.engine import _prepare, _where_defined, run_rules
from hardener.rules import BY_KEY
from hardener.rules.base import IN_READ_ONLY, finding
from hardener.settings import Settings
from hardener.yamltext import parse

from conftest import y
from test_projects import compose

BASE = y("services:", "  worker:", "    image: myorg/worker:2.1")
VENDOR = y("services:", "  worker:", "    privileged: true", "    restart: always")  # not the user's
MINE = y("services:", "  worker:", "    environment:", "      MODE: prod")
FILES = ("base.yaml", "vendor.yaml", "mine.yaml")


def project(tmp_path: Path) -> Path:
    for name, text in zip(FILES, (BASE, VENDOR, MINE)):
        (tmp_path / name).write_text(text)
    return tmp_path


def cli(run_cli, folder, command, *args):
    files = [a for f in FILES for a in ("--file", f)]
    return run_cli(command, "--isolated", "--read-only", "vendor.yaml", *args, *files, cwd=folder)


def found_in(findings, file_end):
    return {(f["rule_id"], f["message"].endswith(IN_READ_ONLY)) for f in findings if f["file"].endswith(file_end)}


def test_an_override_at_a_partial_services_name_is_kept(run_cli, tmp_path):
    """mine.yaml's worker is partial (base.yaml defines it and may be written): what the service
    lacks is reported in base.yaml. vendor.yaml (read-only) writes privileged and restart: mine.yaml
    is where they are overridden, and those findings point at the same name as the dropped missing
    settings. Keyed on line and column they were dropped with them and nothing fixed the service."""
    folder = project(tmp_path)
    proc = cli(run_cli, folder, "check", "--format", "json")
    assert proc.returncode == 1, proc.stderr
    findings = json.loads(proc.stdout)["findings"]
    mine = found_in(findings, "mine.yaml")
    assert mine == {("PRV001", True), ("RST001", True)}
    positions = {(f["line"], f["column"]) for f in findings if f["file"].endswith("mine.yaml")}
    assert positions == {(2, 3)}  # the service's name, where missing settings are reported too
    base = found_in(findings, "base.yaml")
    assert {("CAP001", False), ("PRV002", False), ("RES001", False), ("USR001", False)} <= base
    assert not any(rule in ("CAP001", "PRV002", "RES001") for rule, _ in mine)  # missing: not here


def test_fix_overrides_the_read_only_value_in_the_users_file(run_cli, compose_binary, tmp_path):
    folder = project(tmp_path)
    proc = cli(run_cli, folder, "fix", "--unsafe-fixes")
    assert proc.returncode in (0, 1), proc.stdout + proc.stderr
    assert (folder / "vendor.yaml").read_text() == VENDOR
    mine = (folder / "mine.yaml").read_text()
    assert "privileged: false" in mine and "restart: on-failure" in mine
    assert "cap_drop" not in mine  # the missing settings went into base.yaml
    assert "cap_drop" in (folder / "base.yaml").read_text()
    merged = compose(compose_binary, folder, *FILES)["services"]["worker"]
    assert merged.get("privileged") is not True and merged["restart"].startswith("on-failure")
    assert "ALL" in merged["cap_drop"]
    again = cli(run_cli, folder, "fix", "--unsafe-fixes", "--diff")
    assert again.stdout == ""


def run_for(index: int):
    docs = tuple(parse(t) for t in (BASE, VENDOR, MINE))
    return docs[index], Project(docs, index, read_only=frozenset({1}))


def test_the_policy_reads_the_mark_not_the_position():
    """Two findings at the same place, the name of a partial service: only the one marked missing
    is dropped."""
    doc, proj = run_for(2)
    run = _prepare(doc, Settings(), proj, None)
    svc = next(s for s in run.view.services if s.name == "worker")
    assert svc.partial and run.partial == {"worker"}
    rule = BY_KEY["PRV001"]
    lacks = finding(rule.__name__, run.view, svc.key, "m", service=svc)
    override = finding(rule.__name__, run.view, svc.key, "m", service=svc, read_only=True)
    said = finding(rule.__name__, run.view, svc.key, "m", service=svc, missing=False)
    assert (lacks.line, lacks.column) == (override.line, override.column) == (said.line, said.column)
    assert lacks.missing and not override.missing and not said.missing
    assert override.message == "m" + IN_READ_ONLY
    assert _where_defined(lacks, rule, run) is None
    assert _where_defined(override, rule, run) is override and _where_defined(said, rule, run) is said


def test_a_missing_setting_is_kept_where_the_service_is_defined():
    doc, proj = run_for(0)
    run = _prepare(doc, Settings(), proj, None)
    svc = next(s for s in run.view.services if s.name == "worker")
    assert not svc.partial
    lacks = finding(BY_KEY["CAP001"].__name__, run.view, svc.key, "m", service=svc)
    assert lacks.missing and _where_defined(lacks, BY_KEY["CAP001"], run) is lacks
    assert {f.rule_id for f in run_rules(doc, Settings(), proj) if f.missing} >= {"CAP001", "PRV002", "USR001"}


def test_a_value_finding_is_not_missing():
    doc = parse(y("services:", "  app:", "    image: a", "    privileged: true"))
    (f,) = [f for f in run_rules(doc, Settings()) if f.rule_id == "PRV001"]
    assert not f.missing and (f.line, f.column) == (4, 17)
