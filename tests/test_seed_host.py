"""HOST010 end-of-life-branch: the upstream support table of Docker Engine and containerd branches
(`branches` in hardener/data/advisories.json), judged on fixture captures and on the real engine."""
from __future__ import annotations

import datetime
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from hardener import host
from hardener.host import branch_finding, load_branches, run_host
from hardener.model import Confidence, Severity

FIXTURES = Path(__file__).parent / "fixtures" / "host"
BOOKWORM = str(FIXTURES / "docker-version-debian-bookworm.json")
CURRENT = str(FIXTURES / "docker-version-current.json")
TABLE = Path(host.__file__).parents[1] / "data" / "advisories.json"
ENGINE_SOCKET = "unix:///var/tmp/hardener-engine/docker.sock"
DAY = datetime.date(2026, 12, 6)  # the day the table was reviewed


def eol(component, text, today=DAY):
    return branch_finding(component, text, "host", load_branches(), today, key_path=("Server",))


# --------------------------------------------------------------------------- the table

def test_branch_table_is_well_formed():
    data = json.loads(TABLE.read_text(encoding="utf-8"))["branches"]
    assert datetime.date.fromisoformat(data["reviewed"])
    for component in ("engine", "containerd"):
        names = [row["branch"] for row in data[component]]
        assert len(names) == len(set(names)), component
        for row in data[component]:
            assert row["status"] in ("end-of-life", "maintained"), row
            assert row["sources"] and all(s.startswith("https://") for s in row["sources"]), row
            if row["status"] == "maintained":
                assert "eol" not in row, row
            else:
                assert "expected_end" not in row, row
    table = load_branches()
    assert table.reviewed == datetime.date.fromisoformat(data["reviewed"])
    assert [b.name for b in table.of("engine")][:3] == ["18.09", "19.03", "20.10"]
    assert load_branches() is table


def test_branch_table_refuses_an_unknown_status():
    with pytest.raises(ValueError, match="unknown status"):
        host.parse_branches({"branches": {"engine": [{"branch": "20.10", "status": "retired"}]}})


# --------------------------------------------------------------------------- one version

@pytest.mark.parametrize("component, version, ended", [
    ("engine", "20.10.27", "2023-12-10"),
    ("engine", "19.03.5", "2021-01-08"),
    ("engine", "24.0.9", "2024-06-08"),
    ("engine", "26.1.5", "2025-02-17"),
    ("engine", "26.0.2", "2024-06-08"),
    ("engine", "23.0.16", "2025-05-19"),
    ("containerd", "1.6.39", "2025-08-23"),
    ("containerd", "v1.5.18", "2023-02-28"),
    ("containerd", "2.1.4", "2026-05-05"),
])
def test_end_of_life_branch_with_its_date(component, version, ended):
    f = eol(component, version)
    assert f is not None and f.rule_id == "HOST010" and f.rule_name == "end-of-life-branch"
    assert f"stopped maintaining on {ended}" in f.message
    assert f.severity is Severity.HIGH and f.confidence is Confidence.HIGH
    assert f.attack_tree == (("1.2.1",) if component == "engine" else ("1.3.2",))
    assert f.key_path == ("Server",)


def test_end_of_life_without_a_date():
    f = eol("engine", "27.5.1")
    assert "from the 27 branch, which upstream stopped maintaining (source:" in f.message
    assert f.confidence is Confidence.HIGH


def test_older_than_every_listed_branch():
    f = eol("engine", "17.06.2-ce")
    assert "older than the 18.09 branch" in f.message
    assert f.confidence is Confidence.HIGH  # -ce is Docker's own packaging, not a distribution build


@pytest.mark.parametrize("component, version", [
    ("engine", "28.5.2"), ("engine", "29.1.2"), ("engine", "30.0.0"),  # maintained, or newer than the table
    ("containerd", "v2.3.2"), ("containerd", "2.0.7"), ("containerd", "3.0.0"),
    ("engine", "not a version"),
])
def test_maintained_and_newer_branches_are_not_reported(component, version):
    assert eol(component, version) is None


def test_announced_end_passing_lowers_the_confidence():
    assert eol("containerd", "1.7.29", today=datetime.date(2026, 9, 30)) is None
    f = eol("containerd", "1.7.29", today=datetime.date(2026, 10, 1))
    assert f.severity is Severity.MEDIUM and f.confidence is Confidence.LOW
    assert "announced to end on 2026-09-30" in f.message and "check the branch's current status" in f.message
    assert eol("engine", "25.0.8", today=datetime.date(2026, 12, 4)) is None
    assert eol("engine", "25.0.8", today=datetime.date(2026, 12, 5)).confidence is Confidence.LOW


def test_the_upgrade_names_the_maintained_branches_of_the_day():
    f = eol("engine", "20.10.27")
    assert f.message.endswith("move to a maintained branch (Docker Engine 28 or 29)")
    early = eol("engine", "20.10.27", today=datetime.date(2026, 1, 1))
    assert "(Docker Engine 25.0 or 28 or 29)" in early.message


@pytest.mark.parametrize("component, version, command", [
    ("engine", "20.10.24+dfsg1", "apt changelog docker.io"),
    ("containerd", "1.6.20~ds1", "apt changelog containerd"),
    ("containerd", "1.6.12-0ubuntu1~22.04.3", "apt changelog containerd"),
    ("containerd", "1.6.19-1.amzn2023.0.1", "rpm -q --changelog containerd"),
])
def test_distribution_builds_get_low_confidence_and_the_changelog_command(component, version, command):
    f = eol(component, version)
    assert f.confidence is Confidence.LOW and f.severity is Severity.HIGH
    assert "is a distribution build" in f.message and command in f.message
    assert "treat it as unpatched" in f.message


# --------------------------------------------------------------------------- captures and the real engine

def test_debian_bookworm_capture():
    report = run_host(BOOKWORM, kernel="6.1.0-41-amd64")
    found = [f for f in report.findings if f.rule_id == "HOST010"]
    assert [f.key_path[-1] for f in found] == ["engine", "containerd"]
    engine, containerd = found
    assert engine.message.startswith("Docker Engine 20.10.24+dfsg1 is from the 20.10 branch, which upstream "
                                     "stopped maintaining on 2023-12-10")
    assert containerd.message.startswith("containerd 1.6.20~ds1 is from the 1.6 branch")
    assert {f.confidence for f in found} == {Confidence.LOW}
    assert "Docker Engine 20.10.24+dfsg1, containerd 1.6.20~ds1, runc 1.1.5+ds1" in report.checked[1]


def test_current_capture_has_no_end_of_life_branch():
    assert not [f for f in run_host(CURRENT).findings if f.rule_id == "HOST010"]


def test_cli_reports_the_branch(run_cli):
    proc = run_cli("host", "--docker-version", BOOKWORM, "--kernel", "6.1.0-41-amd64", "--format", "json")
    assert proc.returncode == 1, proc.stderr
    ids = [f["rule_id"] for f in json.loads(proc.stdout)["findings"]]
    assert ids.count("HOST010") == 2


def _engine_host() -> str | None:
    """DOCKER_HOST of an engine that answers, or None."""
    if not shutil.which("docker"):
        return None
    for address in dict.fromkeys(filter(None, (os.environ.get("DOCKER_HOST"), ENGINE_SOCKET))):
        try:
            proc = subprocess.run(["docker", "version", "--format", "{{json .}}"], capture_output=True, text=True,
                                  timeout=20, env={**os.environ, "DOCKER_HOST": address})
        except (OSError, subprocess.TimeoutExpired):
            continue
        if proc.returncode == 0 and '"Server":{' in proc.stdout:
            return address
    return None


@pytest.mark.runtime
def test_live_engine_branch_is_judged(run_cli):
    address = _engine_host()
    if address is None:
        pytest.skip("no Docker engine answers (start one with shared/runtime/start-engine)")
    proc = subprocess.run(["docker", "version", "--format", "{{json .}}"], capture_output=True, text=True,
                          timeout=20, env={**os.environ, "DOCKER_HOST": address})
    components = {c["Name"].lower(): c["Version"] for c in json.loads(proc.stdout)["Server"]["Components"]}
    table = json.loads(TABLE.read_text(encoding="utf-8"))["branches"]

    def ended(component, version):  # read from the data, independently of host.py's matching
        numbers = [int(x) for x in version.lstrip("v").split("+")[0].split("~")[0].split("-")[0].split(".")]
        for row in table[component]:
            want = [int(x) for x in row["branch"].split(".")]
            if numbers[:len(want)] == want:
                return row["status"] == "end-of-life"
        return False

    out = run_cli("host", "--format", "json", env={"DOCKER_HOST": address})
    assert out.returncode in (0, 1), out.stderr
    findings = [f for f in json.loads(out.stdout)["findings"] if f["rule_id"] == "HOST010"]
    expected = [c for c in ("engine", "containerd") if c in components and ended(c, components[c])]
    assert [f["key_path"][-1] for f in findings] == expected
    for f in findings:
        component = f["key_path"][-1]
        assert components[component] in f["message"]
        if "dfsg" in components[component] or "~ds" in components[component]:
            assert f["confidence"] == "low" and "apt changelog" in f["message"]
    if components.get("engine", "").startswith("20.10."):  # Debian bookworm's docker.io, as here
        assert expected[0] == "engine"
