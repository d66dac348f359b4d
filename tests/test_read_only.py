"""Files that are not the user's (a vendor's compose file), marked with the `read-only` configuration
key or `--read-only`: they are read and judged but never written. A setting missing from every layer
of a service goes into the first file that may be written (the override), a value written in the
read-only file is reported there without a fix, and Docker Compose sees the hardened merged model.
Everything runs through the real command line; the merged result is read by the real Compose binary."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from conftest import put
from test_projects import by, compose, y

VENDOR = y(
    "services:",
    "  web:",
    "    image: nginx:1.27",
    "    ports:",
    '      - "127.0.0.1:8080:80"',
    "  worker:",
    "    image: myorg/worker:2.1",
    "    privileged: true",
    "  solo:",
    "    image: myorg/solo:1.0",
)
# the user's override: web is partial (ports only), worker only adds an environment variable
OVERRIDE = y(
    "services:",
    "  web:",
    "    ports:",
    '      - "127.0.0.1:9090:90"',
    "  worker:",
    "    environment:",
    "      MODE: prod",
)
HARDENING = ("cap_drop", "no-new-privileges:true", "limits:", "max-size", "restart:")


def project(tmp_path: Path, config: str | None = None) -> Path:
    (tmp_path / "compose.yaml").write_text(VENDOR)
    (tmp_path / "compose.override.yaml").write_text(OVERRIDE)
    if config is not None:
        (tmp_path / ".hardener.yaml").write_text(config)
    return tmp_path


def run(run_cli, folder: Path, command: str, *args, flag: bool = True):
    """`hardener COMMAND` in the folder, the base marked read-only on the command line (flag) or by
    the folder's configuration."""
    marks = ("--isolated", "--read-only", "compose.yaml") if flag else ()
    return run_cli(command, *marks, *args, ".", cwd=folder)


def findings(run_cli, folder: Path, flag: bool = True) -> list[dict]:
    proc = run(run_cli, folder, "check", "--format", "json", flag=flag)
    assert proc.returncode == 1, proc.stderr
    return json.loads(proc.stdout)["findings"]


def service_text(text: str, name: str) -> str:
    match = re.search(rf"^  {name}:\n((?:    .*\n|\s*\n)*)", text, re.M)
    return match.group(1) if match else ""


@pytest.fixture(params=["option", "config"])
def marked(request, tmp_path):
    """(folder, whether --read-only marks the base): the same project, marked both ways."""
    if request.param == "option":
        return project(tmp_path), True
    return project(tmp_path, y("read-only:", "  - compose.yaml")), False


# --------------------------------------------------------------------------- fixing

def test_fix_hardens_the_override_and_leaves_the_read_only_base_alone(run_cli, compose_binary, marked):
    folder, flag = marked
    proc = run(run_cli, folder, "fix", "--unsafe-fixes", flag=flag)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert (folder / "compose.yaml").read_text() == VENDOR
    assert "Fixed ./compose.override.yaml" in proc.stderr
    assert "Fixed ./compose.yaml" not in proc.stderr
    override = (folder / "compose.override.yaml").read_text()
    for name in ("web", "worker"):
        block = service_text(override, name)
        assert all(setting in block for setting in HARDENING), (name, block)
    assert '      - "127.0.0.1:9090:90"\n' in override and "      MODE: prod\n" in override
    assert "solo" not in override  # defined only in the read-only file: nowhere to write

    merged = compose(compose_binary, folder, "compose.yaml", "compose.override.yaml")["services"]
    for name in ("web", "worker"):
        svc = merged[name]
        assert "ALL" in svc["cap_drop"], name
        assert "no-new-privileges:true" in svc["security_opt"], name
        limits = svc["deploy"]["resources"]["limits"]
        assert limits.get("cpus") and limits.get("memory") and limits.get("pids"), name
        assert svc["logging"]["options"]["max-size"], name
        assert re.fullmatch(r"on-failure:\d+", svc["restart"]), name
    assert merged["web"]["image"] == "nginx:1.27" and len(merged["web"]["ports"]) == 2


def test_second_fix_changes_nothing(run_cli, marked):
    folder, flag = marked
    first = run(run_cli, folder, "fix", "--unsafe-fixes", flag=flag)
    assert "Fixed ./compose.override.yaml" in first.stderr, first.stderr
    before = {p.name: p.read_bytes() for p in folder.glob("compose*.yaml")}
    again = run(run_cli, folder, "fix", "--unsafe-fixes", flag=flag)
    assert again.returncode == 1 and "Fixed" not in again.stderr, again.stderr
    assert {p.name: p.read_bytes() for p in folder.glob("compose*.yaml")} == before
    diff = run(run_cli, folder, "fix", "--unsafe-fixes", "--diff", flag=flag)
    assert diff.stdout == ""


def test_diff_shows_no_hunk_for_the_read_only_file(run_cli, tmp_path):
    folder = project(tmp_path)
    proc = run(run_cli, folder, "fix", "--unsafe-fixes", "--diff")
    files = re.findall(r"^\+\+\+ (.*)$", proc.stdout, re.M)
    assert files == ["b/compose.override.yaml"], proc.stdout
    assert (folder / "compose.yaml").read_text() == VENDOR


# --------------------------------------------------------------------------- where findings go

def test_missing_settings_are_reported_in_the_override_not_in_the_read_only_base(run_cli, marked):
    folder, flag = marked
    found = findings(run_cli, folder, flag)
    base, override = by(found, "/compose.yaml"), by(found, "/compose.override.yaml")
    for rule in ("CAP001", "PRV002", "RES001", "RES002", "LOG001", "RST001"):
        for name in ("web", "worker"):
            assert (name, rule) in override and (name, rule) not in base, (name, rule)
        assert ("solo", rule) in base  # every layer of solo is read-only: reported as before


def test_without_the_mark_the_base_gets_them_as_before(run_cli, tmp_path):
    folder = project(tmp_path)
    found = json.loads(run_cli("check", "--isolated", "--format", "json", ".", cwd=folder).stdout)["findings"]
    assert ("web", "CAP001") in by(found, "/compose.yaml")
    assert ("web", "CAP001") not in by(found, "/compose.override.yaml")


def test_findings_in_the_read_only_file_have_no_fix(run_cli, tmp_path):
    found = findings(run_cli, project(tmp_path))
    in_base = [f for f in found if f["file"].endswith("/compose.yaml")]
    assert in_base and all(f["fix"] == "none" for f in in_base)
    privileged = [f for f in in_base if f["rule_id"] == "PRV001"]
    assert [(f["service"], f["line"]) for f in privileged] == [("worker", 8)]  # where it is written
    assert all(f["fix"] != "none" for f in found if f["file"].endswith("override.yaml")
               and f["rule_id"] in ("CAP001", "RES001"))


def test_files_given_with_file_options(run_cli, compose_binary, tmp_path):
    """`--file vendor.yml --file mine.yml`: no override in the names, the same placement."""
    (tmp_path / "vendor.yml").write_text(VENDOR)
    (tmp_path / "mine.yml").write_text(OVERRIDE)
    proc = run_cli("fix", "--isolated", "--unsafe-fixes", "--read-only", "vendor.yml",
                   "--file", "vendor.yml", "--file", "mine.yml", cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    assert (tmp_path / "vendor.yml").read_text() == VENDOR
    assert "cap_drop" in service_text((tmp_path / "mine.yml").read_text(), "web")
    merged = compose(compose_binary, tmp_path, "vendor.yml", "mine.yml")["services"]
    assert "ALL" in merged["web"]["cap_drop"] and "ALL" in merged["worker"]["cap_drop"]


def test_patterns_are_relative_to_the_configuration(run_cli, tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.hardener]\nread-only = ["vendor/compose.y*ml"]\n')
    vendor = tmp_path / "vendor"
    vendor.mkdir()
    project(vendor)
    proc = run_cli("fix", "--unsafe-fixes", "vendor", cwd=tmp_path)
    assert (vendor / "compose.yaml").read_text() == VENDOR
    assert "Fixed vendor/compose.override.yaml" in proc.stderr, proc.stderr


# --------------------------------------------------------------------------- a lone read-only file

def test_a_lone_read_only_file_is_reported_and_never_written(run_cli, tmp_path):
    (tmp_path / "compose.yaml").write_text(VENDOR)
    proc = run_cli("fix", "--isolated", "--unsafe-fixes", "--read-only", "*.yaml", "compose.yaml", cwd=tmp_path)
    assert proc.returncode == 1
    assert "Fixed" not in proc.stderr and "CAP001" in proc.stdout
    assert (tmp_path / "compose.yaml").read_text() == VENDOR
    diff = run_cli("fix", "--isolated", "--unsafe-fixes", "--diff", "--read-only", "compose.yaml", "compose.yaml",
                   cwd=tmp_path)
    assert diff.stdout == ""
    found = json.loads(run_cli("check", "--isolated", "--format", "json", "--read-only", "compose.yaml",
                               "compose.yaml", cwd=tmp_path).stdout)["findings"]
    assert {("solo", "CAP001"), ("worker", "PRV001")} <= by(found, "compose.yaml")
    assert all(f["fix"] == "none" for f in found)


def test_read_only_needs_no_write_permission(run_cli, tmp_path):
    folder = project(tmp_path)
    (folder / "compose.yaml").chmod(0o444)
    proc = run(run_cli, folder, "fix", "--unsafe-fixes")
    assert proc.returncode == 1 and "cannot write" not in proc.stderr, proc.stderr


# --------------------------------------------------------------------------- configuration errors

@pytest.mark.parametrize("name, text", [
    (".hardener.yaml", "read-only: compose.yaml\n"),
    (".hardener.yaml", "read-only: [1, 2]\n"),
    ("pyproject.toml", '[tool.hardener]\nread-only = "compose.yaml"\n'),
])
def test_invalid_read_only_is_an_error_naming_file_and_key(run_cli, tmp_path, name, text):
    (tmp_path / "compose.yaml").write_text(VENDOR)
    (tmp_path / name).write_text(text)
    proc = run_cli("check", "compose.yaml", cwd=tmp_path)
    assert proc.returncode == 2
    assert name in proc.stderr and "read-only" in proc.stderr, proc.stderr


# --------------------------------------------------------------------------- values written in the read-only file
# Each case: a read-only base that writes a risky value, the user's override, and what the merged
# model must hold after `fix`. The fix goes into the override, where Compose lets a later file win:
# scalars are replaced, logging options and deploy keys merge key by key, cap_drop and security_opt
# are appended.

def _svc(*lines: str) -> str:
    return y("services:", "  app:", "    image: myorg/app:1.0", *lines)


OVERRIDE_ONLY_ENV = y("services:", "  app:", "    environment:", "      MODE: prod")

LOCKED_VALUES = {
    "CAP001": (_svc("    cap_drop: [NET_RAW]"), lambda s: "ALL" in s["cap_drop"] and "NET_RAW" in s["cap_drop"]),
    "PRV002": (_svc('    security_opt: ["no-new-privileges:false"]'),
               lambda s: s["security_opt"][-1] == "no-new-privileges:true"),
    "PRV001": (_svc("    privileged: true"), lambda s: not s.get("privileged")),
    "LOG001": (_svc("    logging:", "      driver: json-file", "      options:", '        max-file: "2"'),
               lambda s: s["logging"] == {"driver": "json-file", "options": {"max-file": "2", "max-size": "10m"}}),
    "RST001": (_svc("    restart: always"), lambda s: s["restart"] == "on-failure:5"),
    "FS001": (_svc("    read_only: false"), lambda s: s["read_only"] is True),
    "USR001": (_svc("    user: root"), lambda s: s["user"] == "65534:65534"),
}
DEPLOY_POLICY = _svc("    deploy:", "      restart_policy:", "        condition: any", "        delay: 5s")


def _locked_project(folder: Path, base: str, override: str = OVERRIDE_ONLY_ENV) -> Path:
    put(folder, "compose.yaml", base)
    put(folder, "compose.override.yaml", override)
    return folder


def _fix_twice(run_cli, folder: Path, base: str) -> str:
    """`fix --unsafe-fixes` with the base read-only: the base stays byte-identical, the override is
    written, and a second run changes nothing. Returns the override's new text."""
    first = run(run_cli, folder, "fix", "--unsafe-fixes")
    assert "Fixed ./compose.override.yaml" in first.stderr, first.stdout + first.stderr
    assert (folder / "compose.yaml").read_text() == base
    fixed = (folder / "compose.override.yaml").read_text()
    again = run(run_cli, folder, "fix", "--unsafe-fixes")
    assert "Fixed" not in again.stderr, again.stderr
    assert (folder / "compose.override.yaml").read_text() == fixed and (folder / "compose.yaml").read_text() == base
    return fixed


@pytest.mark.parametrize("rule", sorted(LOCKED_VALUES))
def test_a_value_written_in_the_read_only_file_is_overridden(run_cli, compose_binary, tmp_path, rule):
    base, safe = LOCKED_VALUES[rule]
    folder = _locked_project(tmp_path, base)
    before = findings(run_cli, folder)
    in_base = [f for f in before if f["rule_id"] == rule and f["file"].endswith("/compose.yaml")]
    in_override = [f for f in before if f["rule_id"] == rule and f["file"].endswith("override.yaml")]
    assert in_base and all(f["fix"] == "none" for f in in_base), before  # where it is written, not fixable
    assert in_override and in_override[0]["fix"] != "none", before  # the override offers the fix
    assert in_base[0]["line"] > 3  # the value's line, not the service's name
    fixed = _fix_twice(run_cli, folder, base)
    assert "      MODE: prod\n" in fixed
    merged = compose(compose_binary, folder, "compose.yaml", "compose.override.yaml")["services"]["app"]
    assert safe(merged), merged
    after = json.loads(run(run_cli, folder, "check", "--format", "json").stdout)["findings"]
    assert not [f for f in after if f["rule_id"] == rule], after


def test_cap_drop_is_appended_to_the_overrides_own_list(run_cli, compose_binary, tmp_path):
    base = _svc("    cap_drop: [NET_RAW]")
    folder = _locked_project(tmp_path, base, y("services:", "  app:", "    cap_drop:", "      - MKNOD"))
    fixed = _fix_twice(run_cli, folder, base)
    assert "      - MKNOD\n      - ALL\n" in fixed, fixed
    merged = compose(compose_binary, folder, "compose.yaml", "compose.override.yaml")["services"]["app"]
    assert set(merged["cap_drop"]) == {"NET_RAW", "MKNOD", "ALL"}


def test_logging_options_join_the_overrides_own_block(run_cli, compose_binary, tmp_path):
    base = _svc("    logging:", "      driver: json-file")
    folder = _locked_project(tmp_path, base, y("services:", "  app:", "    logging:", "      options:",
                                               "        compress: \"true\""))
    _fix_twice(run_cli, folder, base)
    merged = compose(compose_binary, folder, "compose.yaml", "compose.override.yaml")["services"]["app"]
    assert merged["logging"]["driver"] == "json-file"
    assert merged["logging"]["options"] == {"compress": "true", "max-size": "10m", "max-file": "3"}


def test_a_deploy_restart_policy_is_bounded_key_by_key(run_cli, compose_binary, tmp_path):
    folder = _locked_project(tmp_path, DEPLOY_POLICY)
    _fix_twice(run_cli, folder, DEPLOY_POLICY)
    merged = compose(compose_binary, folder, "compose.yaml", "compose.override.yaml")["services"]["app"]
    policy = merged["deploy"]["restart_policy"]
    assert policy["condition"] == "on-failure" and policy["max_attempts"] == 5 and policy["delay"] == "5s"


def test_a_replacing_fix_stays_unsafe(run_cli, tmp_path):
    """Overriding what the vendor wrote takes something away: without --unsafe-fixes it is not applied."""
    base = _svc("    privileged: true", "    restart: always")
    folder = _locked_project(tmp_path, base)
    run(run_cli, folder, "fix")
    override = (folder / "compose.override.yaml").read_text()
    assert "privileged" not in override and "restart: on-failure" not in override, override
    assert (folder / "compose.yaml").read_text() == base


def test_a_published_port_in_the_read_only_file_stays_unfixed(run_cli, tmp_path):
    """Compose appends ports: no later file can take one away without !override, so nothing is fixed."""
    base = _svc('    ports: ["8080:80"]')
    folder = _locked_project(tmp_path, base)
    run(run_cli, folder, "fix", "--unsafe-fixes")
    assert (folder / "compose.yaml").read_text() == base
    ports = [f for f in findings(run_cli, folder) if f["rule_id"] == "PRT001"]
    assert ports and all(f["fix"] == "none" and f["file"].endswith("/compose.yaml") for f in ports), ports


def test_the_flat_network_is_reported_once_per_project(run_cli, tmp_path):
    found = findings(run_cli, project(tmp_path))
    assert len([f for f in found if f["rule_id"] == "NET001"]) == 1, found
