"""Project configuration (`[tool.hardener]` in pyproject.toml, `.hardener.yaml`), found upward from
each file, with --config / --isolated and the command line's --select / --ignore; invalid
configuration; baselines. Everything runs through the real command line in a fresh folder tree (the
test folders live under the system's temporary folder, where no configuration file is above them)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import compose_config, put, y


# One service where the eight core rules but NET001 fire (an image without a per-image profile).
APP = y(
    "services:",
    "  app:",
    "    image: ghcr.io/acme/app:3.0",
    "    restart: always",
    "    ports:",
    '      - "8080:8080"',
)

TWO = APP + y(
    "  legacy:",
    "    image: ghcr.io/acme/legacy:1.0",
    "    ports:",
    '      - "9000:9000"',
)


def found(run_cli, *args, cwd=None) -> list[dict]:
    proc = run_cli("check", "--format", "json", *args, cwd=cwd)
    assert proc.returncode in (0, 1), proc.stderr
    return json.loads(proc.stdout)["findings"]


def rules(run_cli, *args, service=None, cwd=None) -> set[str]:
    return {f["rule_id"] for f in found(run_cli, *args, cwd=cwd) if service is None or f["service"] == service}


# --------------------------------------------------------------------------- finding the configuration

def test_pyproject_found_upward(run_cli, tmp_path):
    put(tmp_path, "pyproject.toml", '[project]\nname = "x"\n\n[tool.hardener]\nselect = ["CAP001", "no-log-rotation"]\n')
    file = put(tmp_path, "deploy/prod/compose.yaml", APP)
    assert rules(run_cli, file) == {"CAP001", "LOG001"}
    assert rules(run_cli, "compose.yaml", cwd=file.parent) == {"CAP001", "LOG001"}


def test_hardener_yaml_found_upward(run_cli, tmp_path):
    put(tmp_path, ".hardener.yaml", "select: [RST001]\n")
    file = put(tmp_path, "a/b/compose.yaml", APP)
    assert rules(run_cli, file) == {"RST001"}
    put(tmp_path, ".hardener.yaml", "")  # an empty file: every rule
    assert {"CAP001", "RST001", "PRT001"} <= rules(run_cli, file)


def test_hardener_yml_is_found_too(run_cli, tmp_path):
    put(tmp_path, ".hardener.yml", "ignore: [CAP001]\n")
    file = put(tmp_path, "compose.yaml", APP)
    assert "CAP001" not in rules(run_cli, file) and "LOG001" in rules(run_cli, file)


def test_nearest_configuration_wins_and_is_not_merged(run_cli, tmp_path):
    put(tmp_path, "pyproject.toml", '[tool.hardener]\nselect = ["LOG001"]\nignore = ["CAP001"]\n')
    put(tmp_path, "team/.hardener.yaml", "select: [CAP001, RST001]\n")
    top = put(tmp_path, "compose.yaml", APP)
    inner = put(tmp_path, "team/svc/compose.yaml", APP)
    assert rules(run_cli, top) == {"LOG001"}
    assert rules(run_cli, inner) == {"CAP001", "RST001"}  # the outer ignore of CAP001 does not apply
    # one run over the whole tree: each file with its own configuration
    by_file = {}
    for f in found(run_cli, tmp_path):
        by_file.setdefault(Path(f["file"]).resolve(), set()).add(f["rule_id"])
    assert by_file == {top.resolve(): {"LOG001"}, inner.resolve(): {"CAP001", "RST001"}}


def test_hardener_yaml_wins_over_pyproject_in_the_same_folder(run_cli, tmp_path):
    put(tmp_path, "pyproject.toml", '[tool.hardener]\nselect = ["LOG001"]\n')
    put(tmp_path, ".hardener.yaml", "select: [PRT001]\n")
    assert rules(run_cli, put(tmp_path, "compose.yaml", APP)) == {"PRT001"}


def test_pyproject_without_a_hardener_table_is_passed_over(run_cli, tmp_path):
    put(tmp_path, ".hardener.yaml", "select: [RES001]\n")
    put(tmp_path, "svc/pyproject.toml", '[project]\nname = "svc"\n[tool.ruff]\nline-length = 100\n')
    assert rules(run_cli, put(tmp_path, "svc/compose.yaml", APP)) == {"RES001"}


# --------------------------------------------------------------------------- what the configuration says

def test_select_and_ignore_with_prefixes_and_names(run_cli, tmp_path):
    put(tmp_path, "pyproject.toml", '[tool.hardener]\nselect = ["RST", "PRT", "no-log-rotation"]\nignore = ["PRT002"]\n')
    assert rules(run_cli, put(tmp_path, "compose.yaml", APP)) == {"RST001", "PRT001", "LOG001"}


def test_per_file_ignores_glob(run_cli, tmp_path):
    put(tmp_path, "pyproject.toml", y(
        "[tool.hardener]",
        'select = ["PRT001", "RST001"]',
        "[tool.hardener.per-file-ignores]",
        '"deploy/dev-*.yaml" = ["PRT001"]',
        '"*.local.yaml" = ["unbounded-restart"]',
    ))
    dev = put(tmp_path, "deploy/dev-web.yaml", APP)
    prod = put(tmp_path, "deploy/prod-web.yaml", APP)
    local = put(tmp_path, "deploy/nested/web.local.yaml", APP)
    assert rules(run_cli, dev) == {"RST001"}
    assert rules(run_cli, prod) == {"PRT001", "RST001"}
    assert rules(run_cli, local) == {"PRT001"}
    # relative to the configuration's folder, whatever the working folder is
    assert rules(run_cli, "dev-web.yaml", cwd=dev.parent) == {"RST001"}


def test_per_service_ignores(run_cli, compose_binary, tmp_path):
    put(tmp_path, ".hardener.yaml", y(
        "per-service-ignores:",
        "  legacy: []",
        "  app: [PRT001, unbounded-restart]",
    ))
    file = put(tmp_path, "compose.yaml", TWO)
    assert rules(run_cli, file, service="legacy") == set()
    app = rules(run_cli, file, service="app")
    assert not app & {"PRT001", "RST001"} and {"CAP001", "LOG001", "RES001"} <= app
    proc = run_cli("fix", "--unsafe-fixes", file)
    assert proc.returncode in (0, 1), proc.stderr
    after = file.read_text(encoding="utf-8")
    assert after.endswith(y("  legacy:", "    image: ghcr.io/acme/legacy:1.0", "    ports:", '      - "9000:9000"'))
    _, model, err = compose_config(compose_binary, after)
    assert model is not None, err
    assert model["services"]["app"]["restart"] == "always"
    assert model["services"]["app"]["cap_drop"] == ["ALL"]
    assert "cap_drop" not in model["services"]["legacy"]


@pytest.mark.parametrize("table", ["RES001", "no-resource-limits"])
def test_resource_limit_option_by_id_and_name(run_cli, compose_binary, tmp_path, table):
    put(tmp_path, "pyproject.toml",
        f'[tool.hardener]\nselect = ["RES001"]\n[tool.hardener.options.{table}]\nmemory = "2G"\n')
    file = put(tmp_path, "compose.yaml", APP)
    proc = run_cli("fix", "--unsafe-fixes", file)  # an unknown image: its limits are an unsafe fix
    assert proc.returncode == 1, proc.stderr
    after = file.read_text(encoding="utf-8")
    assert "          memory: 2G\n" in after
    _, model, err = compose_config(compose_binary, after)
    assert model is not None, err
    assert model["services"]["app"]["deploy"]["resources"]["limits"]["memory"] == str(2 * 1024 ** 3)


def test_user_option(run_cli, tmp_path):
    put(tmp_path, ".hardener.yaml", "select: [USR001]\noptions:\n  non-root-user:\n    user: \"1000:1000\"\n")
    file = put(tmp_path, "compose.yaml", APP)
    proc = run_cli("fix", "--unsafe-fixes", file)
    assert proc.returncode == 1, proc.stderr
    assert file.read_text(encoding="utf-8") == APP + "    user: 1000:1000\n"


def test_unsafe_fixes_in_configuration(run_cli, tmp_path):
    put(tmp_path, "pyproject.toml", '[tool.hardener]\nselect = ["PRT001"]\nunsafe-fixes = true\n')
    file = put(tmp_path, "compose.yaml", APP)
    proc = run_cli("fix", file)
    assert proc.returncode == 1, proc.stderr
    assert '"127.0.0.1:8080:8080"' in file.read_text(encoding="utf-8")


def test_plain_fix_without_configuration_leaves_unsafe_fixes(run_cli, tmp_path):
    file = put(tmp_path, "compose.yaml", APP)
    run_cli("fix", "--select", "PRT001", file)
    assert file.read_text(encoding="utf-8") == APP


def test_extend_safe_fixes(run_cli, tmp_path):
    put(tmp_path, "pyproject.toml",
        '[tool.hardener]\nselect = ["PRT001", "USR001"]\nextend-safe-fixes = ["port-all-interfaces"]\n')
    file = put(tmp_path, "compose.yaml", APP)
    run_cli("fix", file)
    after = file.read_text(encoding="utf-8")
    assert '"127.0.0.1:8080:8080"' in after
    assert "user:" not in after  # USR001's fix is still unsafe


def test_config_option_and_isolated(run_cli, tmp_path):
    put(tmp_path, "pyproject.toml", '[tool.hardener]\nselect = ["LOG001"]\n')
    other = put(tmp_path, "elsewhere/custom.yaml", "select: [CAP001]\n")
    file = put(tmp_path, "compose.yaml", APP)
    assert rules(run_cli, file) == {"LOG001"}
    assert rules(run_cli, "--config", other, file) == {"CAP001"}
    assert {"LOG001", "CAP001", "PRT001", "RST001"} <= rules(run_cli, "--isolated", file)
    # --isolated also skips a broken configuration
    put(tmp_path, "pyproject.toml", "[tool.hardener]\nselect = [\n")
    assert run_cli("check", file).returncode == 2
    assert run_cli("check", "--isolated", file).returncode == 1


def test_config_option_with_a_pyproject(run_cli, tmp_path):
    cfg = put(tmp_path, "cfg/pyproject.toml", '[tool.hardener]\nignore = ["CAP001", "USR001"]\n')
    file = put(tmp_path, "compose.yaml", APP)
    got = rules(run_cli, "--config", cfg, file)
    assert "LOG001" in got and not got & {"CAP001", "USR001"}


def test_command_line_select_starts_afresh_and_ignore_applies_on_top(run_cli, tmp_path):
    put(tmp_path, "pyproject.toml", '[tool.hardener]\nselect = ["LOG001", "CAP001", "RST001"]\nignore = ["CAP001"]\n')
    file = put(tmp_path, "compose.yaml", APP)
    assert rules(run_cli, file) == {"LOG001", "RST001"}
    assert rules(run_cli, "--select", "RST001,RES001", file) == {"RST001", "RES001"}
    assert rules(run_cli, "--ignore", "LOG001", file) == {"RST001"}  # the configured select and ignore stay


def test_command_line_select_runs_a_rule_the_configuration_ignores(run_cli, tmp_path):
    put(tmp_path, "pyproject.toml", '[tool.hardener]\nignore = ["PRT001", "CAP"]\n')
    file = put(tmp_path, "compose.yaml", APP)
    assert not rules(run_cli, file) & {"PRT001", "CAP001"}
    assert rules(run_cli, "--select", "PRT001", file) == {"PRT001"}
    assert rules(run_cli, "--select", "port-all-interfaces,CAP001", file) == {"PRT001", "CAP001"}
    proc = run_cli("fix", "--unsafe-fixes", "--select", "PRT001", file)
    assert proc.returncode == 1, proc.stderr
    assert '"127.0.0.1:8080:8080"' in file.read_text(encoding="utf-8")


def test_the_most_specific_pattern_decides_within_the_command_line(run_cli, tmp_path):
    file = put(tmp_path, "compose.yaml", APP)
    assert rules(run_cli, "--isolated", "--select", "CAP001", "--ignore", "CAP", file) == {"CAP001"}
    assert rules(run_cli, "--isolated", "--select", "RST,LOG", "--ignore", "LOG001", file) == {"RST001"}
    assert rules(run_cli, "--isolated", "--select", "LOG001", "--ignore", "LOG001", file) == set()


def test_per_file_ignores_still_apply_to_a_rule_selected_on_the_command_line(run_cli, tmp_path):
    put(tmp_path, "pyproject.toml", y(
        "[tool.hardener]",
        'ignore = ["PRT001"]',
        "[tool.hardener.per-file-ignores]",
        '"dev-*.yaml" = ["PRT001"]',
    ))
    dev = put(tmp_path, "dev-web.yaml", APP)
    prod = put(tmp_path, "prod-web.yaml", APP)
    assert rules(run_cli, "--select", "PRT001,RST001", dev) == {"RST001"}
    assert rules(run_cli, "--select", "PRT001,RST001", prod) == {"PRT001", "RST001"}


# --------------------------------------------------------------------------- invalid configuration

INVALID = [
    ("pyproject.toml", '[tool.hardener]\nselekt = ["CAP001"]\n', "selekt"),
    ("pyproject.toml", '[tool.hardener]\nselect = ["CAP999"]\n', "select"),
    ("pyproject.toml", '[tool.hardener]\nignore = ["no-such-rule"]\n', "ignore"),
    ("pyproject.toml", '[tool.hardener.per-file-ignores]\n"*.yaml" = ["XYZ001"]\n', "per-file-ignores"),
    ("pyproject.toml", '[tool.hardener.options.FOO001]\nx = 1\n', "options.FOO001"),
    ("pyproject.toml", '[tool.hardener.options.RES001]\nmem = "2G"\n', "options.RES001.mem"),
    ("pyproject.toml", '[tool.hardener.options.RES001]\nmemory = 2\n', "options.RES001.memory"),
    ("pyproject.toml", '[tool.hardener]\nunsafe-fixes = "yes"\n', "unsafe-fixes"),
    ("pyproject.toml", '[tool.hardener]\nselect = "CAP001"\n', "select"),
    ("pyproject.toml", '[tool.hardener]\nbaseline = 3\n', "baseline"),
    ("pyproject.toml", '[tool.hardener.per-service-ignores]\nweb = "all"\n', "per-service-ignores.web"),
    ("pyproject.toml", '[tool.hardener]\nselect = [\n', "invalid TOML"),
    (".hardener.yaml", "select: [CAP001\n", "invalid YAML"),
    (".hardener.yaml", "- CAP001\n", "(file)"),
    (".hardener.yaml", "options:\n  USR001:\n    uid: 1000\n", "options.USR001.uid"),
    (".hardener.yaml", "per-file-ignores: [a]\n", "per-file-ignores"),
]


@pytest.mark.parametrize("name,text,key", INVALID, ids=[f"{n}-{k}" for n, _, k in INVALID])
def test_invalid_configuration_is_exit_2_naming_file_and_key(run_cli, tmp_path, name, text, key):
    cfg = put(tmp_path, name, text)
    file = put(tmp_path, "compose.yaml", APP)
    proc = run_cli("check", file)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert str(cfg) in proc.stderr and key in proc.stderr, proc.stderr
    assert proc.stderr.startswith("hardener: error: ")
    assert proc.stdout == ""


def test_invalid_configuration_stops_fix_before_writing(run_cli, tmp_path):
    cfg = put(tmp_path, "pyproject.toml", '[tool.hardener]\nunsafe-fixes = 1\n')
    file = put(tmp_path, "compose.yaml", APP)
    proc = run_cli("fix", "--unsafe-fixes", file)
    assert proc.returncode == 2 and str(cfg) in proc.stderr and "unsafe-fixes" in proc.stderr
    assert file.read_text(encoding="utf-8") == APP


def test_invalid_config_named_with_config_option(run_cli, tmp_path):
    cfg = put(tmp_path, "x/custom.yaml", "unsafe-fixes: maybe\n")
    proc = run_cli("check", "--config", cfg, put(tmp_path, "compose.yaml", APP))
    assert proc.returncode == 2 and str(cfg) in proc.stderr and "unsafe-fixes" in proc.stderr


def test_missing_config_file_named_with_config_option(run_cli, tmp_path):
    proc = run_cli("check", "--config", tmp_path / "nope.toml", put(tmp_path, "compose.yaml", APP))
    assert proc.returncode == 2 and "nope.toml" in proc.stderr


def test_boolean_for_an_integer_option_is_a_wrong_type(run_cli, tmp_path):
    cfg = put(tmp_path, "pyproject.toml", "[tool.hardener.options.RST001]\nmax_attempts = true\n")
    proc = run_cli("check", put(tmp_path, "compose.yaml", APP))
    assert proc.returncode == 2 and str(cfg) in proc.stderr and "options.RST001.max_attempts" in proc.stderr


def test_per_file_ignores_apply_to_an_override_file(run_cli, tmp_path):
    put(tmp_path, "pyproject.toml", y(
        "[tool.hardener]",
        'select = ["PRT001"]',
        "[tool.hardener.per-file-ignores]",
        '"compose.override.yaml" = ["PRT001"]',
    ))
    put(tmp_path, "compose.yaml", y("services:", "  app:", "    image: ghcr.io/acme/app:3.0"))
    override = put(tmp_path, "compose.override.yaml", y("services:", "  app:", "    ports:", '      - "8080:8080"'))
    assert rules(run_cli, override) == set()  # alone, the override's ignore applies
    # read with its base, it must apply to the override too
    assert [f for f in found(run_cli, tmp_path) if f["file"].endswith("compose.override.yaml")] == []


# --------------------------------------------------------------------------- baselines

def test_baseline_hides_recorded_findings(run_cli, tmp_path):
    file = put(tmp_path, "compose.yaml", APP)
    proc = run_cli("check", "--isolated", "--write-baseline", tmp_path / "b.json", file)
    assert proc.returncode in (0, 1), proc.stderr
    data = json.loads((tmp_path / "b.json").read_text(encoding="utf-8"))
    assert len(data["findings"]) == len(found(run_cli, "--isolated", file)) > 3
    proc = run_cli("check", "--isolated", "--baseline", tmp_path / "b.json", file)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "All checks passed (1 file)" in proc.stdout


def test_baseline_reports_only_a_new_problem(run_cli, tmp_path):
    file = put(tmp_path, "compose.yaml", APP)
    run_cli("check", "--isolated", "--write-baseline", tmp_path / "b.json", file)
    file.write_text(APP + y("    volumes:", "      - ./app.conf:/etc/app/app.conf"), encoding="utf-8")
    got = found(run_cli, "--isolated", "--baseline", tmp_path / "b.json", file)
    assert [(f["rule_id"], f["line"]) for f in got] == [("VOL001", 8)]
    proc = run_cli("check", "--isolated", "--baseline", tmp_path / "b.json", file)
    assert proc.returncode == 1


def test_baseline_survives_moved_lines(run_cli, tmp_path):
    file = put(tmp_path, "compose.yaml", APP)
    run_cli("check", "--isolated", "--write-baseline", tmp_path / "b.json", file)
    moved = "# Production stack.\n# Owner: platform team.\n\n" + APP.replace("services:\n", "services:\n\n  # the app\n")
    file.write_text(moved, encoding="utf-8")
    proc = run_cli("check", "--isolated", "--baseline", tmp_path / "b.json", file)
    assert proc.returncode == 0, proc.stdout


def test_baseline_from_another_working_folder(run_cli, tmp_path):
    file = put(tmp_path, "deploy/compose.yaml", APP)
    run_cli("check", "--isolated", "--write-baseline", "b.json", "deploy/compose.yaml", cwd=tmp_path)
    proc = run_cli("check", "--isolated", "--baseline", tmp_path / "b.json", "compose.yaml", cwd=file.parent)
    assert proc.returncode == 0, proc.stdout


def test_baseline_in_configuration(run_cli, tmp_path):
    file = put(tmp_path, "svc/compose.yaml", APP)
    (tmp_path / "ci").mkdir()
    run_cli("check", "--isolated", "--write-baseline", tmp_path / "ci" / "baseline.json", file)
    put(tmp_path, "pyproject.toml", '[tool.hardener]\nbaseline = "ci/baseline.json"\n')
    proc = run_cli("check", file)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    file.write_text(APP.replace('"8080:8080"', '"8080:8080"\n      - "9090:9090"'), encoding="utf-8")
    got = found(run_cli, file)
    assert [(f["rule_id"], f["message"]) for f in got] == [
        ("PRT001", "service 'app' publishes port 9090:9090 on every host interface")]


def test_each_file_is_matched_against_its_own_configured_baseline(run_cli, tmp_path):
    for team in ("a", "b"):
        file = put(tmp_path, f"{team}/compose.yaml", APP)
        run_cli("check", "--isolated", "--write-baseline", tmp_path / team / "baseline.json", file)
        put(tmp_path, f"{team}/pyproject.toml", '[tool.hardener]\nbaseline = "baseline.json"\n')
    put(tmp_path, "c/compose.yaml", APP)  # no configuration: nothing recorded, everything reported
    got = found(run_cli, tmp_path / "a" / "compose.yaml", tmp_path / "b" / "compose.yaml", tmp_path / "c" / "compose.yaml")
    assert {Path(f["file"]).parent.name for f in got} == {"c"}
    assert len(got) == len(found(run_cli, "--isolated", tmp_path / "c" / "compose.yaml")) > 3


def test_unreadable_baseline_is_exit_2(run_cli, tmp_path):
    bad = put(tmp_path, "b.json", "{not json")
    proc = run_cli("check", "--isolated", "--baseline", bad, put(tmp_path, "compose.yaml", APP))
    assert proc.returncode == 2 and "b.json" in proc.stderr


def test_baseline_reports_the_new_port_not_the_recorded_one(run_cli, tmp_path):
    file = put(tmp_path, "compose.yaml", APP)
    run_cli("check", "--isolated", "--select", "PRT001", "--write-baseline", tmp_path / "b.json", file)
    file.write_text(APP.replace('      - "8080:8080"', '      - "9090:9090"\n      - "8080:8080"'), encoding="utf-8")
    got = found(run_cli, "--isolated", "--select", "PRT001", "--baseline", tmp_path / "b.json", file)
    assert [f["message"] for f in got] == ["service 'app' publishes port 9090:9090 on every host interface"]
