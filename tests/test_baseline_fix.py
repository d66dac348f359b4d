"""`fix` honours baselines: findings a baseline records (given with --baseline or configured) are left
alone, neither fixed nor reported; only new findings are fixed. Through the real command line, in
fresh folders, with --isolated unless the test is about a configured baseline."""
from __future__ import annotations

import json
from pathlib import Path

from conftest import compose_config, y


WEB = y(
    "services:",
    "  web:",
    "    image: ghcr.io/acme/web:2.1",
    "    ports:",
    '      - "8080:8080"',
)
API = y(
    "  api:",
    "    image: ghcr.io/acme/api:1.4",
    "    ports:",
    '      - "9000:9000"',
)


def write_baseline(run_cli, file: Path, baseline: Path, *args):
    proc = run_cli("check", "--isolated", "--write-baseline", baseline, *args, file)
    assert proc.returncode in (0, 1), proc.stderr
    assert json.loads(baseline.read_text(encoding="utf-8"))["findings"]


def test_fix_leaves_the_recorded_finding_alone_and_fixes_the_new_one(run_cli, tmp_path):
    file = tmp_path / "compose.yaml"
    file.write_text(WEB, encoding="utf-8")
    write_baseline(run_cli, file, tmp_path / "b.json", "--select", "PRT001")
    file.write_text(WEB + API, encoding="utf-8")
    proc = run_cli("fix", "--isolated", "--unsafe-fixes", "--select", "PRT001", "--baseline", tmp_path / "b.json", file)
    assert proc.returncode == 1, proc.stderr  # a file was rewritten
    after = file.read_text(encoding="utf-8")
    assert after == WEB + API.replace('"9000:9000"', '"127.0.0.1:9000:9000"')  # web byte-identical
    assert "8080" not in proc.stdout  # the recorded finding is not reported either
    again = run_cli("check", "--isolated", "--select", "PRT001", "--baseline", tmp_path / "b.json", file)
    assert again.returncode == 0, again.stdout
    without = run_cli("check", "--isolated", "--select", "PRT001", file)
    assert without.returncode == 1 and "8080:8080" in without.stdout  # still there, only accepted


def test_fix_with_every_rule_changes_only_the_new_service(run_cli, compose_binary, tmp_path):
    file = tmp_path / "compose.yaml"
    file.write_text(WEB, encoding="utf-8")
    write_baseline(run_cli, file, tmp_path / "b.json")
    file.write_text(WEB + API, encoding="utf-8")
    proc = run_cli("fix", "--isolated", "--unsafe-fixes", "--format", "concise", "--baseline", tmp_path / "b.json", file)
    assert proc.returncode == 1, proc.stderr
    after = file.read_text(encoding="utf-8")
    assert after.startswith(WEB)  # the recorded service is byte-identical
    assert "web" not in proc.stdout
    code, model, err = compose_config(compose_binary, after)
    assert code == 0, err
    assert "ALL" in model["services"]["api"]["cap_drop"] and "cap_drop" not in model["services"]["web"]
    second = run_cli("fix", "--isolated", "--unsafe-fixes", "--format", "concise", "--baseline", tmp_path / "b.json", file)
    assert file.read_text(encoding="utf-8") == after  # idempotent
    # what is left is new and has no fix: two services now share the flat default network
    assert [line.split()[1] for line in second.stdout.splitlines() if ": " in line] == ["NET001"]


def test_fix_honours_a_configured_baseline(run_cli, tmp_path):
    file = tmp_path / "deploy" / "compose.yaml"
    file.parent.mkdir()
    file.write_text(WEB, encoding="utf-8")
    (tmp_path / "ci").mkdir()
    write_baseline(run_cli, file, tmp_path / "ci" / "baseline.json", "--select", "PRT001")
    (tmp_path / "pyproject.toml").write_text('[tool.hardener]\nselect = ["PRT001"]\nbaseline = "ci/baseline.json"\n',
                                             encoding="utf-8")
    file.write_text(WEB + API, encoding="utf-8")
    proc = run_cli("fix", "--unsafe-fixes", file)
    assert proc.returncode == 1, proc.stderr
    assert file.read_text(encoding="utf-8") == WEB + API.replace('"9000:9000"', '"127.0.0.1:9000:9000"')


def test_a_new_port_beside_a_recorded_one_is_fixed_alone(run_cli, tmp_path):
    file = tmp_path / "compose.yaml"
    file.write_text(WEB, encoding="utf-8")
    write_baseline(run_cli, file, tmp_path / "b.json", "--select", "PRT001")
    file.write_text(WEB.replace('      - "8080:8080"\n', '      - "8443:8443"\n      - "8080:8080"\n'), encoding="utf-8")
    proc = run_cli("fix", "--isolated", "--unsafe-fixes", "--select", "PRT001", "--baseline", tmp_path / "b.json", file)
    assert proc.returncode == 1, proc.stderr
    assert '      - "127.0.0.1:8443:8443"\n      - "8080:8080"\n' in file.read_text(encoding="utf-8")


def test_diff_review_formats_leave_out_recorded_findings(run_cli, tmp_path):
    file = tmp_path / "compose.yaml"
    file.write_text(WEB, encoding="utf-8")
    write_baseline(run_cli, file, tmp_path / "b.json", "--select", "PRT001")
    file.write_text(WEB + API, encoding="utf-8")
    proc = run_cli("fix", "--isolated", "--unsafe-fixes", "--select", "PRT001", "--baseline", tmp_path / "b.json",
                   "--diff", file)
    assert proc.returncode == 1, proc.stderr
    assert '+      - "127.0.0.1:9000:9000"' in proc.stdout and "127.0.0.1:8080" not in proc.stdout
    assert "8080" not in proc.stderr
    assert file.read_text(encoding="utf-8") == WEB + API  # --diff writes nothing


def test_unreadable_baseline_for_fix_is_exit_2_and_nothing_is_written(run_cli, tmp_path):
    file = tmp_path / "compose.yaml"
    file.write_text(WEB, encoding="utf-8")
    bad = tmp_path / "b.json"
    bad.write_text("[1, 2]", encoding="utf-8")
    proc = run_cli("fix", "--isolated", "--unsafe-fixes", "--baseline", bad, file)
    assert proc.returncode == 2 and "cannot read baseline" in proc.stderr
    assert file.read_text(encoding="utf-8") == WEB


def test_check_patch_formats_leave_the_recorded_finding_out_of_the_patch(run_cli, tmp_path):
    file = tmp_path / "compose.yaml"
    file.write_text(WEB, encoding="utf-8")
    write_baseline(run_cli, file, tmp_path / "b.json", "--select", "PRT001")
    file.write_text(WEB + API, encoding="utf-8")
    args = ("check", "--isolated", "--unsafe-fixes", "--select", "PRT001", "--format", "markdown", file)
    with_baseline = run_cli(*args[:-1], "--baseline", tmp_path / "b.json", file)
    without = run_cli(*args)
    assert "127.0.0.1:9000:9000" in with_baseline.stdout  # the new finding's fix is proposed
    assert "127.0.0.1:8080:8080" not in with_baseline.stdout  # the recorded one's is not
    assert "127.0.0.1:8080:8080" in without.stdout
