"""`hardener host` audit logic (hardener/host/): version order, the advisory table, daemon.json checks,
live collection with stand-ins for the machine, and the report's shape and exit codes.

Fixtures in tests/fixtures/host/ are documented in the README there."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from hardener import host
from hardener.attack_tree import NODES
from hardener.formats import json_format, text
from hardener.host import (HOST_BY_KEY, HOST_CHECKS, HostInputs, audit, collect_live, daemon_findings,
                           load_advisories, parse_kernel, parse_version, run_host, upgrade_target,
                           version_finding)
from hardener.model import Applicability, Confidence, Severity, Status

FIXTURES = Path(__file__).parent / "fixtures" / "host"
OLD_VERSION = str(FIXTURES / "docker-version-old.json")
OLD_DAEMON = str(FIXTURES / "daemon-old.json")
CURRENT_VERSION = str(FIXTURES / "docker-version-current.json")
CURRENT_DAEMON = str(FIXTURES / "daemon-current.json")
NO_DAEMON_VERSION = str(FIXTURES / "docker-version-no-daemon.json")

HOST_NODES = {"1.1.1", "1.2.1", "1.2.2", "1.3.2"}


def advisory(cve: str):
    return next(a for a in load_advisories() if a.id == cve)


def by_id(report) -> dict:
    return {f.rule_id: f for f in report.findings}


# --------------------------------------------------------------------------- version order

@pytest.mark.parametrize("low, high", [
    ("1.0.0-rc6", "1.0.0-rc7"),
    ("1.0.0-rc6", "1.0.0"),
    ("1.0.0-rc9", "1.0.0-rc10"),
    ("1.0.0-rc92", "1.0.0-rc93"),
    ("1.0.0-rc95", "1.0.0"),
    ("1.4.0-rc.2", "1.4.0-rc.3"),
    ("1.4.0-rc.3", "1.4.0"),
    ("1.1.9", "1.1.12"),
    ("1.1.12", "1.2.0"),
    ("19.03.0-beta1", "19.03.0-rc1"),
    ("19.03.0-rc1", "19.03.0"),
    ("19.03.15", "20.10.0"),
    ("25.0.0-beta.1", "25.0.0"),
    ("27.1.0", "27.1.1"),
    ("28.5.2", "29.3.1"),
    ("1.0.0~rc7+git20190403", "1.0.0"),
])
def test_version_order(low, high):
    assert parse_version(low) < parse_version(high)
    assert not parse_version(high) < parse_version(low)


@pytest.mark.parametrize("a, b", [
    ("v1.3.3", "1.3.3"),
    ("1.0.0-rc6+dev", "1.0.0-rc6"),  # a build suffix does not take part in the order
    ("20.10.24+dfsg1", "20.10.24"),
    ("1.1.12-0ubuntu3", "1.1.12"),
    ("6.8", "6.8.0"),
])
def test_version_equal(a, b):
    assert parse_version(a) == parse_version(b)


@pytest.mark.parametrize("text, release, pre, suffix", [
    ("1.0.0-rc6", (1, 0, 0), (2, 6), ""),
    ("1.4.0-rc.3", (1, 4, 0), (2, 3), ""),
    ("19.03.0-beta1", (19, 3, 0), (1, 1), ""),
    ("1.0.0-rc6+dev", (1, 0, 0), (2, 6), "+dev"),
    ("1.1.7-0ubuntu1~22.04.2", (1, 1, 7), None, "-0ubuntu1~22.04.2"),
    ("20.10.24+dfsg1", (20, 10, 24), None, "+dfsg1"),
    ("v1.7.29", (1, 7, 29), None, ""),
])
def test_parse_version(text, release, pre, suffix):
    v = parse_version(text)
    assert (v.release, v.pre, v.suffix) == (release, pre, suffix)


@pytest.mark.parametrize("text", ["", "unknown", "dev", None, 28])
def test_parse_version_rejects(text):
    assert parse_version(text) is None


@pytest.mark.parametrize("text, release, pre, suffix", [
    ("5.8.18", (5, 8, 18), None, ""),
    ("6.8", (6, 8), None, ""),
    ("6.8.0-rc1", (6, 8, 0), (2, 1), ""),
    ("5.15.0-91-generic", (5, 15, 0), None, "-91-generic"),
    ("6.1.0-18-amd64", (6, 1, 0), None, "-18-amd64"),
    ("4.18.0-513.el8.x86_64", (4, 18, 0), None, "-513.el8.x86_64"),
    ("6.12.48+deb13-amd64", (6, 12, 48), None, "+deb13-amd64"),
    ("5.15.133.1-microsoft-standard-WSL2", (5, 15, 133), None, ".1-microsoft-standard-WSL2"),
    ("6.10.14-linuxkit", (6, 10, 14), None, "-linuxkit"),
])
def test_parse_kernel(text, release, pre, suffix):
    v = parse_kernel(text)
    assert (v.release, v.pre, v.suffix) == (release, pre, suffix)


def test_kernel_release_candidate_orders_before_release():
    assert parse_kernel("6.8.0-rc7") < parse_kernel("6.8.0") < parse_kernel("6.8.1")


# --------------------------------------------------------------------------- the advisory table

@pytest.mark.parametrize("cve, version, affected", [
    # runc: one fix on the 1.0 branch
    ("CVE-2019-5736", "1.0.0-rc6", True),
    ("CVE-2019-5736", "1.0.0-rc5", True),
    ("CVE-2019-5736", "1.0.0-rc7", False),
    ("CVE-2019-5736", "1.0.0", False),
    ("CVE-2019-5736", "1.1.0", False),
    ("CVE-2024-21626", "1.0.0-rc93", True),
    ("CVE-2024-21626", "1.0.3", True),  # the 1.0 branch ended unfixed
    ("CVE-2024-21626", "1.1.11", True),
    ("CVE-2024-21626", "1.1.12", False),
    ("CVE-2024-21626", "1.2.0", False),
    # runc November 2025: fixes on three branches, one of them a release candidate
    ("CVE-2025-31133", "1.1.15", True),  # older than the oldest listed branch
    ("CVE-2025-31133", "1.2.7", True),
    ("CVE-2025-31133", "1.2.8", False),
    ("CVE-2025-52565", "1.3.2", True),
    ("CVE-2025-52565", "1.3.3", False),
    ("CVE-2025-52881", "1.4.0-rc.2", True),
    ("CVE-2025-52881", "1.4.0-rc.3", False),
    ("CVE-2025-52881", "1.4.0", False),
    ("CVE-2025-52881", "1.5.0", False),
    # Docker Engine
    ("CVE-2019-14271", "18.09.9", False),  # before the bug was introduced
    ("CVE-2019-14271", "19.03.0", True),
    ("CVE-2019-14271", "19.03.1", False),
    ("CVE-2021-41091", "20.10.8", True),
    ("CVE-2021-41091", "20.10.9", False),
    ("CVE-2024-41110", "19.03.15", True),
    ("CVE-2024-41110", "23.0.14", True),
    ("CVE-2024-41110", "23.0.15", False),
    ("CVE-2024-41110", "24.0.9", True),  # branch without a listed release
    ("CVE-2024-41110", "26.0.2", True),
    ("CVE-2024-41110", "26.1.4", True),
    ("CVE-2024-41110", "26.1.5", False),
    ("CVE-2024-41110", "27.1.0", True),
    ("CVE-2024-41110", "27.1.1", False),
    ("CVE-2024-41110", "28.5.2", False),
    ("CVE-2026-34040", "28.5.2", True),
    ("CVE-2026-34040", "29.3.1", False),
])
def test_affects_release(cve, version, affected):
    assert advisory(cve).affects(parse_version(version)) is affected


@pytest.mark.parametrize("cve, release, affected", [
    ("CVE-2022-0847", "5.7.19", False),  # before 5.8
    ("CVE-2022-0847", "5.8.18", True),
    ("CVE-2022-0847", "5.9.16", True),  # end-of-life branch, never fixed
    ("CVE-2022-0847", "5.10.101", True),
    ("CVE-2022-0847", "5.10.102", False),
    ("CVE-2022-0847", "5.15.24", True),
    ("CVE-2022-0847", "5.15.25", False),
    ("CVE-2022-0847", "5.16.10", True),
    ("CVE-2022-0847", "5.16.11", False),
    ("CVE-2022-0847", "5.17", False),
    ("CVE-2022-0847", "5.17.0-rc5", True),
    ("CVE-2022-0847", "6.1.0", False),
    ("CVE-2022-0185", "4.19.300", False),  # before 5.1
    ("CVE-2022-0185", "5.4.172", True),
    ("CVE-2022-0185", "5.4.173", False),
    ("CVE-2022-0185", "5.16.2", False),
    ("CVE-2024-1086", "3.14.79", False),  # before 3.15
    ("CVE-2024-1086", "3.16.85", True),  # older than the oldest listed branch
    ("CVE-2024-1086", "5.15.148", True),
    ("CVE-2024-1086", "5.15.149", False),
    ("CVE-2024-1086", "6.1.75", True),
    ("CVE-2024-1086", "6.1.76", False),
    ("CVE-2024-1086", "6.5.13", True),
    ("CVE-2024-1086", "6.6.15", False),
    ("CVE-2024-1086", "6.8.0", False),
    ("CVE-2024-1086", "6.12.48+deb13-amd64", False),
    ("CVE-2016-5195", "4.4.25", True),
    ("CVE-2016-5195", "4.4.26", False),
    ("CVE-2016-5195", "4.9.0", False),
    ("CVE-2016-5195", "2.6.21", False),
])
def test_affects_kernel(cve, release, affected):
    assert advisory(cve).affects(parse_kernel(release)) is affected


@pytest.mark.parametrize("component, version, target", [
    ("runc", "1.0.0-rc6", "1.2.8"),  # 1.0.0-rc7 and 1.1.12 each leave later flaws open
    ("runc", "1.1.11", "1.2.8"),
    ("runc", "1.3.2", "1.3.3"),
    ("runc", "1.4.0-rc.1", "1.4.0-rc.3"),  # only a release candidate fixes the 1.4 branch
    ("kernel", "5.8.18", "5.10.209"),
    ("kernel", "5.15.0-91-generic", "5.15.149"),
    ("kernel", "6.1.0-18-amd64", "6.1.76"),
    ("engine", "26.1.4", "29.3.1"),  # both AuthZ bypasses
    ("engine", "19.03.5", "29.3.1"),
])
def test_upgrade_target(component, version, target):
    parse = parse_kernel if component == "kernel" else parse_version
    v = parse(version)
    matched = [a for a in load_advisories() if a.component == component and a.affects(v)]
    assert matched
    assert str(upgrade_target(v, matched)) == target


def test_advisory_table_is_well_formed():
    data = json.loads((Path(host.__file__).parents[1] / "data" / "advisories.json").read_text(encoding="utf-8"))
    ids = [entry["id"] for entry in data["advisories"]]
    assert len(ids) == len(set(ids))
    for entry, adv in zip(data["advisories"], load_advisories()):
        assert adv.component in ("kernel", "engine", "runc")
        assert adv.sources and all(s.startswith("https://") for s in adv.sources)
        assert entry["checked"]
        assert len({f.branch for f in adv.fixed}) == len(adv.fixed), adv.id  # one fix per branch
        assert list(adv.fixed) == sorted(adv.fixed)
        assert adv.condition in (None, "authz-plugin")


@pytest.mark.parametrize("cve, fixed", [
    ("CVE-2019-5736", ["1.0.0-rc7"]),
    ("CVE-2024-21626", ["1.1.12"]),
    ("CVE-2025-31133", ["1.2.8", "1.3.3", "1.4.0-rc.3"]),
    ("CVE-2025-52565", ["1.2.8", "1.3.3", "1.4.0-rc.3"]),
    ("CVE-2025-52881", ["1.2.8", "1.3.3", "1.4.0-rc.3"]),
    ("CVE-2024-41110", ["23.0.15", "25.0.6", "26.1.5", "27.1.1"]),
    ("CVE-2022-0847", ["5.10.102", "5.15.25", "5.16.11", "5.17"]),
    ("CVE-2022-0185", ["5.4.173", "5.10.93", "5.15.16", "5.16.2"]),
])
def test_advisory_facts(cve, fixed):
    assert [str(v) for v in advisory(cve).fixed] == fixed


def test_advisories_are_cached_and_shipped_as_package_data():
    assert load_advisories() is load_advisories()
    from importlib import resources
    assert resources.files("hardener.data").joinpath("advisories.json").is_file()


def test_advisory_table_refuses_unreadable_versions():
    entry = {"id": "CVE-0000-0000", "component": "runc", "title": "t", "severity": "high",
             "introduced": None, "fixed": ["not-a-version"], "sources": ["https://example.org"]}
    with pytest.raises(ValueError, match="CVE-0000-0000"):
        host.parse_advisories({"schema": 1, "advisories": [entry]})
    with pytest.raises(ValueError, match="schema"):
        host.parse_advisories({"schema": 2, "advisories": []})


# --------------------------------------------------------------------------- the fixtures

def test_old_exposed_host_reports_every_host_node():
    report = run_host(OLD_VERSION, OLD_DAEMON)
    found = by_id(report)
    assert {n for f in report.findings for n in f.attack_tree} >= HOST_NODES
    assert set(found) == {check.ID for check in HOST_CHECKS}
    assert report.exit_code == 1
    assert report.notes == ()
    assert report.checked == (f"kernel 5.8.18 ({OLD_VERSION})",
                              f"Docker Engine 19.03.5, containerd 1.2.10, runc 1.0.0-rc6 ({OLD_VERSION})",
                              f"daemon settings ({OLD_DAEMON})")

    kernel = found["HOST001"]
    assert kernel.attack_tree == ("1.1.1",) and kernel.confidence is Confidence.HIGH
    assert kernel.severity is Severity.CRITICAL
    for cve in ("CVE-2022-0847", "CVE-2022-0185", "CVE-2024-1086"):
        assert cve in kernel.message
    assert "5.10.209 or later" in kernel.message
    assert kernel.file == OLD_VERSION  # the kernel release came from the docker version capture

    engine = found["HOST002"]
    assert "CVE-2021-41091 (fixed in 20.10.9)" in engine.message
    assert "CVE-2024-41110" not in engine.message  # daemon.json shows no AuthZ plugins

    runc = found["HOST003"]
    assert runc.attack_tree == ("1.3.2",)
    assert "runc 1.0.0-rc6" in runc.message
    assert "CVE-2019-5736 (fixed in 1.0.0-rc7)" in runc.message
    assert "CVE-2024-21626 (fixed in 1.1.12)" in runc.message
    assert "CVE-2025-31133, CVE-2025-52565, CVE-2025-52881 (fixed in 1.2.8)" in runc.message
    assert "to 1.2.8 or later" in runc.message

    api = found["HOST004"]
    assert api.severity is Severity.CRITICAL and api.attack_tree == ("1.2.2",)
    assert "tcp://0.0.0.0:2375" in api.message
    assert (api.file, api.line, api.column) == (OLD_DAEMON, 2, 3)

    assert found["HOST005"].attack_tree == ("2.1.1",)
    assert found["HOST006"].attack_tree == ("5.1.1",)
    assert found["HOST007"].attack_tree == ("3.1.2",)
    assert found["HOST007"].line == 4  # "log-driver": "json-file"
    assert found["HOST008"].severity is Severity.LOW
    assert found["HOST009"].severity is Severity.LOW
    for f in report.findings:
        assert f.fix is None and f.applicability is Applicability.NONE


def test_current_closed_host_reports_nothing():
    report = run_host(CURRENT_VERSION, CURRENT_DAEMON)
    assert report.findings == ()
    assert report.exit_code == 0
    assert [r.status for r in report.results] == [Status.CLEAN, Status.CLEAN]


def test_results_group_findings_by_input():
    report = run_host(OLD_VERSION, OLD_DAEMON)
    assert [r.path for r in report.results] == [OLD_VERSION, OLD_DAEMON]
    assert [r.status for r in report.results] == [Status.FINDINGS, Status.FINDINGS]
    assert {f.rule_id for f in report.results[0].findings} == {"HOST001", "HOST002", "HOST003", "HOST010"}


def test_kernel_option_overrides_the_captured_kernel():
    report = run_host(CURRENT_VERSION, CURRENT_DAEMON, kernel="5.10.101")
    (finding,) = report.findings
    assert finding.rule_id == "HOST001" and finding.file == "host"
    assert "CVE-2022-0847 (fixed in 5.10.102)" in finding.message


def test_capture_without_server_part_is_a_note():
    report = run_host(NO_DAEMON_VERSION)
    assert report.findings == ()
    assert any("no Server part" in n for n in report.notes)
    assert any("kernel was not checked" in n for n in report.notes)
    assert report.exit_code == 2  # nothing at all could be read


# --------------------------------------------------------------------------- confidence

@pytest.mark.parametrize("release", ["5.15.0-91-generic", "6.1.0-18-amd64", "4.18.0-305.el8.x86_64",
                                     "5.15.133.1-microsoft-standard-WSL2"])
def test_distribution_kernel_gives_low_confidence(release):
    f = version_finding("kernel", release, "host", load_advisories())
    assert f is not None
    assert f.confidence is Confidence.LOW
    assert "distribution" in f.message and "backport" in f.message


def test_plain_kernel_gives_high_confidence():
    f = version_finding("kernel", "5.15.24", "host", load_advisories())
    assert f.confidence is Confidence.HIGH
    assert "distribution" not in f.message


@pytest.mark.parametrize("release", ["6.12.48+deb13-amd64", "6.18.44", "6.8.0"])
def test_recent_kernels_are_not_reported(release):
    assert version_finding("kernel", release, "host", load_advisories()) is None


def test_runc_build_suffix_gives_low_confidence():
    f = version_finding("runc", "1.0.0-rc6+dev", "host", load_advisories())
    assert f.confidence is Confidence.LOW
    assert "'+dev' build of 1.0.0-rc6" in f.message


def test_authz_advisories_follow_the_daemon_configuration():
    ads = load_advisories()
    with_plugin = version_finding("engine", "26.1.4", "host", ads, authz=True)
    assert "CVE-2024-41110 (fixed in 26.1.5)" in with_plugin.message
    assert "CVE-2026-34040 (fixed in 29.3.1)" in with_plugin.message
    assert with_plugin.confidence is Confidence.HIGH and with_plugin.severity is Severity.CRITICAL
    assert version_finding("engine", "26.1.4", "host", ads, authz=False) is None
    unknown = version_finding("engine", "26.1.4", "host", ads, authz=None)
    assert unknown.confidence is Confidence.LOW
    assert "only with AuthZ plugins" in unknown.message


def test_authz_plugin_in_daemon_json_reports_the_bypass(tmp_path):
    cfg = tmp_path / "daemon.json"
    cfg.write_text(json.dumps({"authorization-plugins": ["opa-docker-authz"], "icc": False,
                               "userns-remap": "default", "log-driver": "local", "live-restore": True,
                               "no-new-privileges": True}))
    report = run_host(CURRENT_VERSION, str(cfg))
    (finding,) = report.findings
    assert finding.rule_id == "HOST002"
    assert "CVE-2026-34040" in finding.message and "29.3.1 or later" in finding.message


# --------------------------------------------------------------------------- daemon.json checks

def ids(cfg: dict, defaults: bool = False) -> set:
    return {f.rule_id for f in daemon_findings(cfg, json.dumps(cfg, indent=2), "daemon.json", defaults)}


CLOSED = {"icc": False, "userns-remap": "default", "log-driver": "local", "live-restore": True,
          "no-new-privileges": True}


def test_closed_configuration_passes():
    assert ids(CLOSED) == set()


@pytest.mark.parametrize("hosts, severity", [
    (["tcp://0.0.0.0:2375"], Severity.CRITICAL),
    (["tcp://:2375"], Severity.CRITICAL),
    (["tcp://192.168.10.4:2375", "unix:///var/run/docker.sock"], Severity.CRITICAL),
    (["tcp://127.0.0.1:2375"], Severity.HIGH),
    (["tcp://localhost:2375"], Severity.HIGH),
    (["tcp://[::1]:2375"], Severity.HIGH),
    ("tcp://0.0.0.0:2375", Severity.CRITICAL),
])
def test_tcp_api_without_tlsverify(hosts, severity):
    (f,) = [f for f in daemon_findings({**CLOSED, "hosts": hosts}, "", "daemon.json") if f.rule_id == "HOST004"]
    assert f.severity is severity


def test_tls_without_verification_is_still_reported():
    (f,) = daemon_findings({**CLOSED, "hosts": ["tcp://0.0.0.0:2376"], "tls": True}, "", "daemon.json")
    assert f.rule_id == "HOST004" and "tlsverify" in f.message


@pytest.mark.parametrize("hosts", [["unix:///var/run/docker.sock"], ["fd://"], []])
def test_sockets_only_pass(hosts):
    assert "HOST004" not in ids({**CLOSED, "hosts": hosts})


def test_tlsverify_passes():
    assert ids({**CLOSED, "hosts": ["tcp://0.0.0.0:2376"], "tlsverify": True}) == set()


@pytest.mark.parametrize("cfg, expected", [
    ({"log-driver": "json-file"}, True),
    ({"log-driver": "json-file", "log-opts": {"max-file": "3"}}, True),
    ({"log-driver": "json-file", "log-opts": {"max-size": "10m"}}, False),
    ({"log-opts": {"max-size": "10m"}}, False),  # json-file is the default driver
    ({}, True),
    ({"log-driver": "local"}, False),
    ({"log-driver": "journald"}, False),
    ({"log-driver": "syslog"}, False),
])
def test_log_rotation(cfg, expected):
    base = {k: v for k, v in CLOSED.items() if k != "log-driver"}
    assert ("HOST007" in ids({**base, **cfg})) is expected


@pytest.mark.parametrize("key, bad", [
    ("icc", True), ("icc", None),
    ("userns-remap", ""), ("userns-remap", None),
    ("live-restore", False), ("live-restore", None),
    ("no-new-privileges", False), ("no-new-privileges", None),
])
def test_daemon_settings(key, bad):
    cfg = dict(CLOSED)
    if bad is None:
        del cfg[key]
    else:
        cfg[key] = bad
    check = {"icc": "HOST005", "userns-remap": "HOST006", "live-restore": "HOST008",
             "no-new-privileges": "HOST009"}[key]
    (f,) = daemon_findings(cfg, json.dumps(cfg, indent=2), "daemon.json")
    assert f.rule_id == check
    # a value written in the file is certain; a missing key may still come from a dockerd flag
    assert f.confidence is (Confidence.MEDIUM if bad is None else Confidence.HIGH)
    assert f.line == (1 if bad is None else list(cfg).index(key) + 2)


def test_defaults_when_no_daemon_json():
    found = daemon_findings({}, "", "/etc/docker/daemon.json", defaults=True)
    assert [f.rule_id for f in found] == ["HOST005", "HOST006", "HOST007", "HOST008", "HOST009"]
    assert all(f.confidence is Confidence.MEDIUM for f in found)
    assert "no daemon.json" in found[0].message


# --------------------------------------------------------------------------- live mode

class FakeRun:
    """Stands in for subprocess.run: records the command, returns a prepared result or raises."""

    def __init__(self, stdout="", stderr="", returncode=0, raises=None):
        self.result = subprocess.CompletedProcess([], returncode, stdout, stderr)
        self.raises = raises
        self.calls = []

    def __call__(self, cmd, **kw):
        self.calls.append((cmd, kw))
        if self.raises:
            raise self.raises
        return self.result


def live(tmp_path, *, docker=None, run=None, release="5.8.18", system="Linux", daemon=None):
    path = tmp_path / "daemon.json"
    if daemon is not None:
        path.write_text(daemon)
    return collect_live(which=lambda name: docker, run=run or FakeRun(), daemon_path=str(path),
                        release=lambda: release, system=lambda: system)


def test_live_without_docker_notes_it_and_still_audits_the_kernel(tmp_path):
    inputs = live(tmp_path, docker=None, release="5.8.18")
    report = audit(inputs)
    assert any(n.startswith("docker not found") for n in report.notes)
    assert any("daemon settings were not checked" in n for n in report.notes)
    (kernel,) = report.findings
    assert kernel.rule_id == "HOST001" and kernel.file == "host"
    assert report.checked == ("kernel 5.8.18 (host)",)
    assert report.exit_code == 1


def test_live_runs_docker_version_with_a_timeout(tmp_path):
    capture = Path(CURRENT_VERSION).read_text()
    run = FakeRun(stdout=capture)
    inputs = live(tmp_path, docker="/usr/bin/docker", run=run, release="6.12.48+deb13-amd64",
                  daemon=Path(CURRENT_DAEMON).read_text())
    (cmd, kw), = run.calls
    assert cmd == ["/usr/bin/docker", "version", "--format", "{{json .}}"]
    assert kw["timeout"] > 0 and kw["capture_output"]
    report = audit(inputs)
    assert report.findings == () and report.notes == () and report.exit_code == 0


def test_live_daemon_down(tmp_path):
    run = FakeRun(stdout=Path(NO_DAEMON_VERSION).read_text(), returncode=1,
                  stderr="Cannot connect to the Docker daemon at unix:///var/run/docker.sock. "
                         "Is the docker daemon running?\n")
    report = audit(live(tmp_path, docker="/usr/bin/docker", run=run, release="6.18.44"))
    assert any("did not answer" in n and "Cannot connect to the Docker daemon" in n for n in report.notes)
    assert report.findings == () and report.exit_code == 0  # the kernel was read and is recent


def test_live_docker_timeout(tmp_path):
    run = FakeRun(raises=subprocess.TimeoutExpired(["docker"], 20))
    report = audit(live(tmp_path, docker="/usr/bin/docker", run=run))
    assert any("did not answer within" in n for n in report.notes)


def test_live_without_daemon_json_checks_the_defaults(tmp_path):
    run = FakeRun(stdout=Path(CURRENT_VERSION).read_text())
    report = audit(live(tmp_path, docker="/usr/bin/docker", run=run, release="6.12.48+deb13-amd64"))
    assert {f.rule_id for f in report.findings} == {"HOST005", "HOST006", "HOST007", "HOST008", "HOST009"}
    assert all(f.file.endswith("daemon.json") for f in report.findings)
    assert any("default daemon settings" in n for n in report.notes)


def test_live_prefers_the_kernel_the_daemon_reports(tmp_path):
    run = FakeRun(stdout=Path(OLD_VERSION).read_text())
    inputs = live(tmp_path, docker="/usr/bin/docker", run=run, release="6.18.44",
                  daemon=Path(CURRENT_DAEMON).read_text())
    assert inputs.kernel == "5.8.18"
    assert any("reports kernel 5.8.18 but this machine runs 6.18.44" in n for n in inputs.notes)


def test_live_on_a_machine_with_nothing_readable(tmp_path):
    report = audit(live(tmp_path, docker=None, system="Darwin"))
    assert report.results == ()
    assert any("not Linux" in n for n in report.notes)
    assert report.exit_code == 2


def test_live_broken_daemon_json_is_an_error(tmp_path):
    report = audit(live(tmp_path, docker=None, release="6.18.44", daemon='{"icc": false,}'))
    (error,) = [r for r in report.results if r.status is Status.ERROR]
    assert error.path.endswith("daemon.json") and error.error.startswith("1:")
    assert report.exit_code == 0  # the kernel could be read; nothing found


def test_run_host_without_inputs_is_live(monkeypatch):
    seen = {}

    def fake_collect(**kw):
        seen.update(kw)
        return HostInputs(kernel="6.18.44")

    monkeypatch.setattr(host, "collect_live", fake_collect)
    report = run_host(which=lambda name: None)
    assert "which" in seen and report.exit_code == 0


# --------------------------------------------------------------------------- offline inputs

def test_missing_file_is_an_error_but_the_rest_is_audited(tmp_path):
    report = run_host(str(tmp_path / "nope.json"), OLD_DAEMON)
    (error,) = [r for r in report.results if r.status is Status.ERROR]
    assert error.path.endswith("nope.json") and "No such file" in error.error
    assert report.exit_code == 1  # the daemon.json findings
    assert any("kernel was not checked" in n for n in report.notes)


def test_only_unreadable_inputs_exit_2(tmp_path):
    bad = tmp_path / "daemon.json"
    bad.write_text("[1, 2]")
    report = run_host(str(tmp_path / "nope.json"), str(bad))
    assert report.exit_code == 2
    assert [r.status for r in report.results] == [Status.ERROR, Status.ERROR]


def test_docker_version_capture_followed_by_an_error_line(tmp_path):
    capture = tmp_path / "version.txt"
    capture.write_text(Path(OLD_VERSION).read_text() + "Error response from daemon: something\n")
    report = run_host(str(capture), kernel="6.18.44")
    assert {f.rule_id for f in report.findings} == {"HOST002", "HOST003", "HOST010"}


def test_not_a_docker_version_capture(tmp_path):
    capture = tmp_path / "version.txt"
    capture.write_text("Docker version 28.2.2, build e6534b4\n")
    report = run_host(str(capture))
    assert report.results[0].status is Status.ERROR
    assert "docker version --format" in report.results[0].error


def test_unreadable_versions_are_noted(tmp_path):
    data = json.loads(Path(CURRENT_VERSION).read_text())
    data["Server"]["Components"][2]["Version"] = "unknown"
    capture = tmp_path / "version.json"
    capture.write_text(json.dumps(data))
    report = run_host(str(capture))
    assert any("could not read the runc version 'unknown'" in n for n in report.notes)


def test_docker_before_19_03_has_no_runc_component(tmp_path):
    data = json.loads(Path(OLD_VERSION).read_text())
    data["Server"]["Components"] = data["Server"]["Components"][:1]
    capture = tmp_path / "version.json"
    capture.write_text(json.dumps(data))
    report = run_host(str(capture))
    assert any("no runc component" in n for n in report.notes)


# --------------------------------------------------------------------------- output shape

def check_json() -> dict:
    from hardener.engine import process
    from hardener.settings import Settings

    compose = b"services:\n  web:\n    image: nginx\n    ports:\n      - \"80:80\"\n"
    return json.loads(json_format.render([process("compose.yaml", compose, Settings(), False)]))


def test_json_output_has_the_shape_of_check():
    ours = json.loads(json_format.render(list(run_host(OLD_VERSION, OLD_DAEMON).results)))
    theirs = check_json()
    assert theirs["findings"], "the compose sample must give findings to compare with"
    assert ours.keys() == theirs.keys()
    assert ours["summary"].keys() == theirs["summary"].keys()
    assert {tuple(sorted(f)) for f in ours["findings"]} == {tuple(sorted(theirs["findings"][0]))}
    first = ours["findings"][0]
    assert first["rule_id"] == "HOST001" and first["attack_tree"] == ["1.1.1"] and first["fix"] == "none"
    assert ours["summary"]["findings"] == 11 and ours["errors"] == []


def test_json_lists_unreadable_inputs_as_errors(tmp_path):
    report = run_host(str(tmp_path / "nope.json"), kernel="5.8.18")
    doc = json.loads(json_format.render(list(report.results)))
    assert [e["file"] for e in doc["errors"]] == [str(tmp_path / "nope.json")]
    assert doc["findings"][0]["file"] == "host"


def test_text_output_lines():
    out = text.render(list(run_host(OLD_VERSION, OLD_DAEMON).results))
    assert f"{OLD_DAEMON}:2:3: HOST004 daemon-api-without-tls [critical]" in out
    assert out.rstrip().endswith("Found 11 findings in 2 files.")


# --------------------------------------------------------------------------- check metadata

def test_host_checks_look_like_rule_modules():
    from hardener.rules import RULES

    rule_keys = {k for r in RULES for k in (r.ID, r.NAME)}
    assert [c.ID for c in HOST_CHECKS] == [f"HOST{i:03d}" for i in range(1, 11)]
    for check in HOST_CHECKS:
        assert check.FIX is Applicability.NONE and check.OPTIONS == {}
        assert isinstance(check.SEVERITY, Severity) and isinstance(check.CONFIDENCE, Confidence)
        assert check.ATTACK_TREE and all(node in NODES for node in check.ATTACK_TREE)
        assert check.ID not in rule_keys and check.NAME not in rule_keys
        doc = check.__doc__
        assert doc.strip().splitlines()[0].endswith(".")
        for section in ("**What it finds.**", "**Why it matters.**", "**Example.**", "**Fix.**",
                        "**What may break.**"):
            assert section in doc, (check.ID, section)
        assert HOST_BY_KEY[check.ID] is check and HOST_BY_KEY[check.NAME] is check


def test_host_nodes_are_covered():
    covered = {node for check in HOST_CHECKS for node in check.ATTACK_TREE}
    assert covered >= {n.id for n in NODES.values() if n.where == "host"}
    assert covered >= HOST_NODES


# --------------------------------------------------------------------------- the CLI

def test_cli_host_json(run_cli):
    proc = run_cli("host", "--docker-version", OLD_VERSION, "--daemon-config", OLD_DAEMON, "--format", "json")
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    assert {f["rule_id"] for f in doc["findings"]} == {c.ID for c in HOST_CHECKS}
    proc = run_cli("host", "--docker-version", CURRENT_VERSION, "--daemon-config", CURRENT_DAEMON)
    assert proc.returncode == 0, proc.stderr
    proc = run_cli("host", "--docker-version", NO_DAEMON_VERSION)
    assert proc.returncode == 2 and "no Server part" in proc.stderr

