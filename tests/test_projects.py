"""Files Compose reads together: a base with its override in one folder, `--file a --file b` for any
names, `extends` (same file and another file of the folder), `include`, profiles and `x-` blocks.
Everything runs through the real command line on copies of tests/fixtures/stacks/, and the fixed
files are given to the real Docker Compose binary together (`-f base -f override config`)."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import service_block, top_block, y

STACKS = Path(__file__).resolve().parent / "fixtures" / "stacks"


def copy(tmp_path: Path, name: str) -> Path:
    folder = tmp_path / name
    shutil.copytree(STACKS / name, folder)
    return folder


def check(run_cli, *args, cwd=None) -> list[dict]:
    proc = run_cli("check", "--isolated", "--format", "json", *args, cwd=cwd)
    assert proc.returncode in (0, 1), proc.stderr
    return json.loads(proc.stdout)["findings"]


def fix(run_cli, *args, cwd=None):
    proc = run_cli("fix", "--isolated", "--unsafe-fixes", *args, cwd=cwd)
    assert proc.returncode in (0, 1), proc.stdout + proc.stderr
    return proc


def compose(binary, folder: Path, *files: str, profiles=()) -> dict:
    """`docker compose -f F1 -f F2 ... [--profile P] config --format json` in the folder, clean
    environment; fails the test when Compose refuses the files."""
    args = [binary]
    for f in files:
        args += ["-f", f]
    for p in profiles:
        args += ["--profile", p]
    proc = subprocess.run(args + ["config", "--format", "json"], cwd=folder, capture_output=True, timeout=60,
                          env={"PATH": "/usr/bin:/bin", "HOME": str(folder)})
    assert proc.returncode == 0, proc.stderr.decode("utf-8", "replace")
    return json.loads(proc.stdout)


def by(findings, file_end: str) -> set[tuple[str, str]]:
    """(service, rule id) of the findings reported in the file whose path ends with file_end."""
    return {(f["service"], f["rule_id"]) for f in findings if f["file"].endswith(file_end)}




def assert_hardened(svc: dict, name: str):
    assert "ALL" in (svc.get("cap_drop") or []), (name, svc.get("cap_drop"))
    limits = ((svc.get("deploy") or {}).get("resources") or {}).get("limits") or {}
    assert limits.get("cpus") and limits.get("memory"), (name, limits)
    logging = svc.get("logging") or {}
    assert logging.get("driver") in ("json-file", "local"), (name, logging)
    if logging.get("driver") == "json-file":
        assert (logging.get("options") or {}).get("max-size"), (name, logging)
    assert re.fullmatch(r"on-failure:\d+", svc.get("restart") or ""), (name, svc.get("restart"))
    for port in svc.get("ports") or []:
        assert port.get("host_ip") == "127.0.0.1", (name, port)


# --------------------------------------------------------------------------- base + override in one folder

@pytest.fixture(scope="module")
def project_check(tmp_path_factory):
    from conftest import run_cli

    folder = copy(tmp_path_factory.mktemp("check"), "project")
    return check(run_cli, folder)


def test_settings_made_in_the_override_are_not_missing_in_the_base(project_check):
    base = by(project_check, "/compose.yaml")
    assert ("web", "CAP001") not in base  # cap_drop: [ALL] is in the override
    assert ("api", "LOG001") not in base  # logging with max-size is in the override
    assert {("web", "LOG001"), ("api", "CAP001"), ("db", "CAP001")} <= base


def test_override_services_without_image_are_not_reported_missing_everything(project_check):
    override = by(project_check, "/compose.override.yaml")
    partial = {pair for pair in override if pair[0] in ("web", "api")}
    assert partial == {("web", "PRT001"), ("api", "RST001")}
    # a complete service of the override is judged there in full
    assert {("adminer", r) for r in ("CAP001", "LOG001", "RES001", "RST001", "USR001", "PRT001")} <= override


def test_bad_values_of_the_override_are_reported_in_the_override(project_check):
    override = [f for f in project_check if f["file"].endswith("compose.override.yaml")]
    where = {(f["rule_id"], f["line"], f["column"]) for f in override if f["service"] in ("web", "api")}
    assert where == {("PRT001", 5, 9), ("RST001", 10, 14)}


def test_bad_values_of_the_override_are_reported_once(project_check):
    messages = [(f["file"].rsplit("/", 1)[1], f["message"]) for f in project_check
                if f["rule_id"] in ("PRT001", "RST001") and f["service"] in ("web", "api")
                and "has no restart policy" not in f["message"]]  # web's missing policy is the base's
    assert sorted(messages) == [
        ("compose.override.yaml", "service 'api' restarts without limit (restart: always)"),
        ("compose.override.yaml", "service 'web' publishes port 8080:8080 on every host interface"),
    ]


def test_ignore_in_the_override_silences_its_own_values(run_cli, tmp_path):
    folder = write_pair(tmp_path / "p",
                        y("services:", "  web:", "    image: ghcr.io/acme/web:1", "    cap_drop: [ALL]"),
                        y("services:", "  web:  # hardener: ignore", "    ports:", '      - "8080:8080"'))
    assert check(run_cli, folder, "--select", "PRT001,HRD001") == []


@pytest.fixture(scope="module")
def project_fixed(tmp_path_factory):
    from conftest import run_cli

    folder = copy(tmp_path_factory.mktemp("fix"), "project")
    before = {p.name: p.read_text(encoding="utf-8") for p in folder.iterdir()}
    fix(run_cli, folder)
    after = {p.name: p.read_text(encoding="utf-8") for p in folder.iterdir()}
    return folder, before, after


def test_fixes_of_bad_values_go_into_the_override(project_fixed):
    _, before, after = project_fixed
    override = after["compose.override.yaml"]
    assert '      - "127.0.0.1:8080:8080"\n' in override
    assert "    restart: on-failure:5\n" in service_block(override, "api")
    assert '"8080:8080"' not in after["compose.yaml"] and "restart: always" not in after["compose.yaml"]
    # the partial services of the override get nothing else
    for name in ("web", "api"):
        old, new = service_block(before["compose.override.yaml"], name), service_block(override, name)
        assert set(new.splitlines()) - set(old.splitlines()) <= {'      - "127.0.0.1:8080:8080"', "    restart: on-failure:5"}
    # the override's own complete service is fixed where it is written
    assert "cap_drop" in service_block(override, "adminer") and "deploy:" in service_block(override, "adminer")


def test_fixes_of_missing_settings_go_into_the_base(project_fixed):
    _, before, after = project_fixed
    base = after["compose.yaml"]
    web, api = service_block(base, "web"), service_block(base, "api")
    assert "logging:" in web and "deploy:" in web and "restart: on-failure:5" in web
    assert "cap_drop" not in web  # the override drops the capabilities already
    assert "cap_drop:" in api and "deploy:" in api and "user:" in api
    assert "logging" not in api and "restart" not in api  # both come from the override


def test_compose_accepts_the_fixed_pair_and_the_merged_model_is_hardened(project_fixed, compose_binary):
    folder, before, after = project_fixed
    merged = compose(compose_binary, folder, "compose.yaml", "compose.override.yaml", profiles=["debug"])
    services = merged["services"]
    assert set(services) == {"web", "api", "db", "mailcatcher", "adminer"}
    for name, svc in services.items():
        assert_hardened(svc, name)
    assert services["api"]["logging"]["options"]["max-size"] == "5m"  # the override's own value stays
    assert services["web"]["ports"][0]["host_ip"] == "127.0.0.1"
    assert set(services["db"]["networks"]) == {"backend"} and merged["networks"]["backend"]["internal"] is True
    # each file still reads on its own as Compose reads a base
    compose(compose_binary, folder, "compose.yaml")


def test_profiles_and_x_blocks_are_not_rewritten(project_fixed, compose_binary):
    folder, before, after = project_fixed
    assert top_block(after["compose.yaml"], "x-labels") == top_block(before["compose.yaml"], "x-labels")
    assert "    profiles: [debug]\n" in service_block(after["compose.yaml"], "mailcatcher")
    merged = compose(compose_binary, folder, "compose.yaml", "compose.override.yaml")
    assert "mailcatcher" not in merged["services"]  # still only in the debug profile
    assert merged["services"]["web"]["labels"] == {"com.example.team": "blog", "com.example.tier": "web"}


def test_second_fix_of_the_project_changes_nothing(project_fixed, run_cli, tmp_path):
    _, _, after = project_fixed
    for name, text in after.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    proc = fix(run_cli, tmp_path)
    assert "Fixed" not in proc.stderr
    assert {p.name: p.read_text(encoding="utf-8") for p in tmp_path.iterdir()} == after


# --------------------------------------------------------------------------- --file for any names

def test_file_options_form_one_project(run_cli, tmp_path):
    folder = copy(tmp_path, "named")
    found = check(run_cli, "--file", folder / "base.yml", "--file", folder / "prod.yml")
    base = by(found, "base.yml")
    assert ("web", "LOG001") not in base and ("worker", "CAP001") not in base
    assert {("web", "RES001"), ("worker", "LOG001")} <= base
    prod = [f for f in found if f["file"].endswith("prod.yml")]
    assert {(f["service"], f["rule_id"], f["line"]) for f in prod} == {("web", "PRT001", 4), ("worker", "RST001", 12)}


def test_named_files_without_file_options_are_judged_alone(run_cli, tmp_path):
    folder = copy(tmp_path, "named")
    base = by(check(run_cli, folder / "base.yml", folder / "prod.yml"), "base.yml")
    assert {("web", "LOG001"), ("worker", "CAP001")} <= base


def test_file_options_fix_and_compose_accepts_the_pair(run_cli, compose_binary, tmp_path):
    folder = copy(tmp_path, "named")
    fix(run_cli, "--file", "base.yml", "--file", "prod.yml", cwd=folder)
    base, prod = (folder / "base.yml").read_text(encoding="utf-8"), (folder / "prod.yml").read_text(encoding="utf-8")
    assert "logging" not in service_block(base, "web") and "cap_drop" not in service_block(base, "worker")
    assert '"127.0.0.1:8443:8443"' in prod and "restart: on-failure:5" in service_block(prod, "worker")
    services = compose(compose_binary, folder, "base.yml", "prod.yml")["services"]
    for name, svc in services.items():
        assert_hardened(svc, name)
    assert services["web"]["logging"]["options"] == {"max-size": "20m", "max-file": "5"}


# --------------------------------------------------------------------------- extends

def test_extends_in_the_same_file_and_from_another_file(run_cli, compose_binary, tmp_path):
    folder = copy(tmp_path, "extends")
    found = check(run_cli, folder / "compose.yaml", "--select", "CAP001,USR001,RES001,RST001,LOG001")
    assert found == []  # web and jobs inherit base's settings; importer inherits common.yaml's
    before = (folder / "compose.yaml").read_bytes()
    proc = fix(run_cli, folder / "compose.yaml", "--select", "CAP001,USR001,RES001,RST001,LOG001")
    assert proc.returncode == 0 and (folder / "compose.yaml").read_bytes() == before
    services = compose(compose_binary, folder, "compose.yaml")["services"]
    for name in ("web", "jobs", "importer"):
        assert_hardened(services[name], name)
        assert services[name]["user"] == "10001:10001"


def test_extending_service_is_judged_with_its_base(run_cli, compose_binary, tmp_path):
    folder = copy(tmp_path, "extends")
    path = folder / "compose.yaml"
    text = path.read_text(encoding="utf-8").replace("    restart: on-failure:3\n", "    restart: always\n", 1)
    path.write_text(text, encoding="utf-8")
    found = check(run_cli, path, "--select", "RST001")
    assert {f["service"] for f in found} == {"base", "web", "jobs"}
    assert {f["line"] for f in found} == {text.splitlines().index("    restart: always") + 1}
    fix(run_cli, path, "--select", "RST001")
    services = compose(compose_binary, folder, "compose.yaml")["services"]
    assert {services[n]["restart"] for n in ("base", "web", "jobs")} == {"on-failure:5"}
    assert services["importer"]["restart"] == "on-failure:3"


def test_extends_file_missing_settings_are_reported(run_cli, tmp_path):
    folder = copy(tmp_path, "extends")
    common = folder / "common.yaml"
    common.write_text(common.read_text(encoding="utf-8").replace("    cap_drop: [ALL]\n", ""), encoding="utf-8")
    found = check(run_cli, folder / "compose.yaml", "--select", "CAP001")
    assert [f["service"] for f in found] == ["importer"]


# --------------------------------------------------------------------------- include

def test_included_file_is_processed_on_its_own_when_named(run_cli, compose_binary, tmp_path):
    folder = copy(tmp_path, "include")
    scanned = check(run_cli, folder)
    assert {f["file"] for f in scanned} == {str(folder / "compose.yaml")}  # not a compose file name
    named = check(run_cli, folder / "infra" / "db.yaml")
    assert ("db", "PRT001") in {(f["service"], f["rule_id"]) for f in named}
    before = (folder / "compose.yaml").read_text(encoding="utf-8")
    fix(run_cli, folder / "compose.yaml", folder / "infra" / "db.yaml")
    after = (folder / "compose.yaml").read_text(encoding="utf-8")
    assert top_block(after, "include") == top_block(before, "include")
    assert '"127.0.0.1:5432:5432"' in (folder / "infra" / "db.yaml").read_text(encoding="utf-8")
    services = compose(compose_binary, folder, "compose.yaml")["services"]
    for name in ("app", "db"):
        assert_hardened(services[name], name)


# --------------------------------------------------------------------------- merge rules of Compose

def write_pair(folder: Path, base: str, override: str) -> Path:
    folder.mkdir(exist_ok=True)
    (folder / "compose.yaml").write_text(base, encoding="utf-8")
    (folder / "compose.override.yaml").write_text(override, encoding="utf-8")
    return folder


def test_base_port_is_reported_when_the_override_adds_ports(run_cli, compose_binary, tmp_path):
    folder = write_pair(tmp_path / "p",
                        y("services:", "  db:", "    image: ghcr.io/acme/db:1", "    ports:", '      - "5432:5432"'),
                        y("services:", "  db:", "    ports:", '      - "127.0.0.1:8080:8080"'))
    merged = compose(compose_binary, folder, "compose.yaml", "compose.override.yaml")["services"]["db"]
    assert any(p.get("host_ip") in (None, "") for p in merged["ports"])  # Compose publishes 5432 to all
    found = check(run_cli, folder, "--select", "PRT001")
    assert [(Path(f["file"]).name, f["line"]) for f in found] == [("compose.yaml", 5)]


def test_cap_drop_all_in_the_base_counts_when_the_override_adds_entries(run_cli, compose_binary, tmp_path):
    folder = write_pair(tmp_path / "p",
                        y("services:", "  app:", "    image: ghcr.io/acme/app:1", "    cap_drop: [ALL]"),
                        y("services:", "  app:", "    cap_drop: [NET_RAW]"))
    merged = compose(compose_binary, folder, "compose.yaml", "compose.override.yaml")["services"]["app"]
    assert "ALL" in merged["cap_drop"]
    assert check(run_cli, folder, "--select", "CAP001") == []


def test_limits_split_between_base_and_override_are_merged(run_cli, compose_binary, tmp_path):
    limits = ("    deploy:", "      resources:", "        limits:")
    folder = write_pair(tmp_path / "p",
                        y("services:", "  app:", "    image: ghcr.io/acme/app:1", *limits, '          cpus: "0.5"'),
                        y("services:", "  app:", *limits, "          memory: 256M"))
    merged = compose(compose_binary, folder, "compose.yaml", "compose.override.yaml")["services"]["app"]
    assert set(merged["deploy"]["resources"]["limits"]) == {"cpus", "memory"}
    assert check(run_cli, folder, "--select", "RES001") == []


def read(folder: Path, name: str) -> str:
    return (folder / name).read_text(encoding="utf-8")


def test_ports_of_both_files_are_each_fixed_where_written(run_cli, compose_binary, tmp_path):
    folder = write_pair(tmp_path / "p",
                        y("services:", "  web:", "    image: ghcr.io/acme/web:1", "    ports:", '      - "8080:80"'),
                        y("services:", "  web:", "    ports:", '      - "9090:90"'))
    before = compose(compose_binary, folder, "compose.yaml", "compose.override.yaml")["services"]["web"]
    assert [p.get("host_ip") for p in before["ports"]] == [None, None]
    found = check(run_cli, folder, "--select", "PRT001")
    assert sorted((Path(f["file"]).name, f["line"]) for f in found) == [("compose.override.yaml", 4),
                                                                         ("compose.yaml", 5)]
    fix(run_cli, folder, "--select", "PRT001")
    assert '      - "127.0.0.1:8080:80"\n' in read(folder, "compose.yaml")
    assert '      - "127.0.0.1:9090:90"\n' in read(folder, "compose.override.yaml")
    after = compose(compose_binary, folder, "compose.yaml", "compose.override.yaml")["services"]["web"]
    assert sorted((p["published"], p["host_ip"]) for p in after["ports"]) == [("8080", "127.0.0.1"),
                                                                               ("9090", "127.0.0.1")]


def test_ports_an_override_replaces_with_override_tag_are_not_reported(run_cli, compose_binary, tmp_path):
    folder = write_pair(tmp_path / "p",
                        y("services:", "  db:", "    image: ghcr.io/acme/db:1", "    ports:", '      - "5432:5432"'),
                        y("services:", "  db:", '    ports: !override ["127.0.0.1:5432:5432"]'))
    merged = compose(compose_binary, folder, "compose.yaml", "compose.override.yaml")["services"]["db"]
    assert [p["host_ip"] for p in merged["ports"]] == ["127.0.0.1"]  # the base's port is gone
    assert check(run_cli, folder, "--select", "PRT001") == []


def test_cap_add_in_the_base_and_cap_drop_all_in_the_override(run_cli, compose_binary, tmp_path):
    folder = write_pair(tmp_path / "p",
                        y("services:", "  vpn:", "    image: ghcr.io/acme/vpn:1", "    cap_add: [NET_ADMIN]"),
                        y("services:", "  vpn:", "    cap_drop: [ALL]"))
    merged = compose(compose_binary, folder, "compose.yaml", "compose.override.yaml")["services"]["vpn"]
    assert merged["cap_add"] == ["NET_ADMIN"] and merged["cap_drop"] == ["ALL"]
    found = check(run_cli, folder, "--select", "CAP001,CAP002")
    assert [(f["rule_id"], Path(f["file"]).name, f["line"]) for f in found] == [("CAP002", "compose.yaml", 4)]


def test_cap_add_of_both_files_counts_for_a_known_image(run_cli, compose_binary, tmp_path):
    """nginx needs CHOWN, DAC_OVERRIDE, SETGID, SETUID and NET_BIND_SERVICE after cap_drop ALL: the
    base adds two, the override two more; the fix adds only the missing one, next to the override's."""
    folder = write_pair(tmp_path / "p",
                        y("services:", "  web:", "    image: nginx:1.27", "    cap_add: [CHOWN, SETUID]"),
                        y("services:", "  web:", "    cap_add: [SETGID, DAC_OVERRIDE]", "    cap_drop: [NET_RAW]"))
    found = check(run_cli, folder, "--select", "CAP001")
    assert [(Path(f["file"]).name, f["line"], f["fix"]) for f in found] == [("compose.override.yaml", 4, "unsafe")]
    fix(run_cli, folder, "--select", "CAP001")
    assert read(folder, "compose.override.yaml") == y(
        "services:", "  web:", "    cap_add: [SETGID, DAC_OVERRIDE, NET_BIND_SERVICE]", "    cap_drop: [NET_RAW, ALL]")
    merged = compose(compose_binary, folder, "compose.yaml", "compose.override.yaml")["services"]["web"]
    assert sorted(merged["cap_add"]) == ["CHOWN", "DAC_OVERRIDE", "NET_BIND_SERVICE", "SETGID", "SETUID"]
    assert "ALL" in merged["cap_drop"]


def test_cap_drop_lists_of_both_files_get_all_once_in_the_base(run_cli, compose_binary, tmp_path):
    folder = write_pair(tmp_path / "p",
                        y("services:", "  app:", "    image: ghcr.io/acme/app:1", "    cap_drop: [NET_RAW]"),
                        y("services:", "  app:", "    cap_drop: [MKNOD]"))
    found = check(run_cli, folder, "--select", "CAP001")
    assert [(Path(f["file"]).name, f["line"]) for f in found] == [("compose.yaml", 4)]
    fix(run_cli, folder, "--select", "CAP001")
    assert "    cap_drop: [NET_RAW, ALL]\n" in read(folder, "compose.yaml")
    assert "ALL" not in read(folder, "compose.override.yaml")
    merged = compose(compose_binary, folder, "compose.yaml", "compose.override.yaml")["services"]["app"]
    assert sorted(merged["cap_drop"]) == ["ALL", "MKNOD", "NET_RAW"]


def test_logging_options_of_both_files_are_merged(run_cli, compose_binary, tmp_path):
    logging = ("    logging:", "      driver: json-file", "      options:")
    folder = write_pair(tmp_path / "p",
                        y("services:", "  app:", "    image: ghcr.io/acme/app:1", *logging, "        max-size: 10m"),
                        y("services:", "  app:", "    logging:", "      options:", '        max-file: "5"'))
    merged = compose(compose_binary, folder, "compose.yaml", "compose.override.yaml")["services"]["app"]
    assert merged["logging"] == {"driver": "json-file", "options": {"max-size": "10m", "max-file": "5"}}
    assert check(run_cli, folder, "--select", "LOG001") == []


def test_missing_max_size_is_added_where_the_logging_block_is_first_written(run_cli, compose_binary, tmp_path):
    folder = write_pair(tmp_path / "p",
                        y("services:", "  app:", "    image: ghcr.io/acme/app:1", "    logging:",
                          "      driver: json-file"),
                        y("services:", "  app:", "    logging:", "      options:", '        max-file: "5"'))
    found = check(run_cli, folder, "--select", "LOG001")
    assert [(Path(f["file"]).name, f["line"]) for f in found] == [("compose.yaml", 4)]
    override = read(folder, "compose.override.yaml")
    fix(run_cli, folder, "--select", "LOG001")
    assert read(folder, "compose.override.yaml") == override
    assert read(folder, "compose.yaml").endswith(y("      driver: json-file", "      options:",
                                                   "        max-size: 10m"))
    merged = compose(compose_binary, folder, "compose.yaml", "compose.override.yaml")["services"]["app"]
    assert merged["logging"] == {"driver": "json-file", "options": {"max-size": "10m", "max-file": "5"}}


def test_logging_driver_changed_by_the_override_drops_the_base_options(run_cli, compose_binary, tmp_path):
    folder = write_pair(tmp_path / "p",
                        y("services:", "  app:", "    image: ghcr.io/acme/app:1", "    logging:", "      driver: syslog",
                          "      options:", "        max-size: 10m"),
                        y("services:", "  app:", "    logging:", "      driver: json-file"))
    merged = compose(compose_binary, folder, "compose.yaml", "compose.override.yaml")["services"]["app"]
    assert merged["logging"] == {"driver": "json-file"}  # Compose keeps no option of another driver
    found = check(run_cli, folder, "--select", "LOG001")
    assert [(Path(f["file"]).name, f["line"]) for f in found] == [("compose.override.yaml", 3)]
    fix(run_cli, folder, "--select", "LOG001")
    merged = compose(compose_binary, folder, "compose.yaml", "compose.override.yaml")["services"]["app"]
    assert merged["logging"]["options"]["max-size"] == "10m"


def test_memory_limit_is_added_to_the_base_next_to_the_override_cpu_limit(run_cli, compose_binary, tmp_path):
    folder = write_pair(tmp_path / "p",
                        y("services:", "  app:", "    image: nginx:1.27"),  # limits known to be enough
                        y("services:", "  app:", "    deploy:", "      resources:", "        limits:",
                          '          cpus: "0.5"'))
    found = check(run_cli, folder, "--select", "RES001")
    assert [(Path(f["file"]).name, f["message"]) for f in found] == [("compose.yaml", "service 'app' has no memory limit")]
    override = read(folder, "compose.override.yaml")
    fix(run_cli, folder, "--select", "RES001")
    assert read(folder, "compose.override.yaml") == override
    assert "memory: 256M" in read(folder, "compose.yaml") and "cpus" not in read(folder, "compose.yaml")
    merged = compose(compose_binary, folder, "compose.yaml", "compose.override.yaml")["services"]["app"]
    assert set(merged["deploy"]["resources"]["limits"]) == {"cpus", "memory"}
    assert check(run_cli, folder, "--select", "RES001") == []


def test_restart_policy_of_the_base_counts_when_the_override_adds_deploy_keys(run_cli, compose_binary, tmp_path):
    folder = write_pair(tmp_path / "p",
                        y("services:", "  app:", "    image: ghcr.io/acme/app:1", "    deploy:", "      restart_policy:",
                          "        condition: on-failure", "        max_attempts: 3"),
                        y("services:", "  app:", "    deploy:", "      resources:", "        limits:",
                          "          memory: 256M"))
    merged = compose(compose_binary, folder, "compose.yaml", "compose.override.yaml")["services"]["app"]
    assert merged["deploy"]["restart_policy"]["max_attempts"] == 3
    assert check(run_cli, folder, "--select", "RST001") == []


def test_secret_in_the_base_environment_is_reported_when_the_override_adds_variables(run_cli, compose_binary, tmp_path):
    folder = write_pair(tmp_path / "p",
                        y("services:", "  app:", "    image: ghcr.io/acme/app:1", "    environment:",
                          "      DB_PASSWORD: hunter2hunter2"),
                        y("services:", "  app:", "    environment:", "      LOG_LEVEL: debug"))
    merged = compose(compose_binary, folder, "compose.yaml", "compose.override.yaml")["services"]["app"]
    assert set(merged["environment"]) == {"DB_PASSWORD", "LOG_LEVEL"}
    found = check(run_cli, folder, "--select", "SEC001")
    assert [(Path(f["file"]).name, f["line"]) for f in found] == [("compose.yaml", 5)]


# --------------------------------------------------------------------------- mounts and devices merge by target

def targets(svc: dict, key: str) -> dict:
    """container target -> (source, read_only) of the merged mounts or devices Compose reports."""
    return {item["target"]: (item.get("source"), item.get("read_only", False)) for item in svc.get(key) or []}


def test_base_mounts_an_override_replaces_at_the_same_target_are_not_judged(run_cli, compose_binary, tmp_path):
    base = y("services:", "  web:", "    image: ghcr.io/acme/web:1", "    volumes:",
             "      - ./nginx.conf:/etc/nginx/nginx.conf",
             "      - /etc:/host/etc",
             "      - /var/run/docker.sock:/var/run/docker.sock",
             "      - ~/.ssh:/root/.ssh")
    override = y("services:", "  web:", "    volumes:",
                 "      - ./nginx.conf:/etc/nginx/nginx.conf:ro",
                 "      - type: bind", "        source: ./etc", "        target: /host/etc",
                 "      - ./agent.sock:/var/run/docker.sock/")
    folder = write_pair(tmp_path / "p", base, override)
    before = compose(compose_binary, folder, "compose.yaml", "compose.override.yaml")["services"]["web"]
    mounts = targets(before, "volumes")
    assert mounts["/etc/nginx/nginx.conf"][1] is True
    assert mounts["/host/etc"][0] == str(folder / "etc")
    assert mounts["/var/run/docker.sock"][0] == str(folder / "agent.sock")
    found = check(run_cli, folder, "--select", "VOL001,VOL002,DKR001")
    # only ~/.ssh survives from the base; the override's mounts are harmless
    assert [(f["rule_id"], Path(f["file"]).name, f["line"]) for f in found] == [("VOL002", "compose.yaml", 8)]
    fix(run_cli, folder, "--select", "VOL001,VOL002,DKR001")
    assert read(folder, "compose.override.yaml") == override
    assert read(folder, "compose.yaml") == base.replace("~/.ssh:/root/.ssh", "~/.ssh:/root/.ssh:ro")
    after = compose(compose_binary, folder, "compose.yaml", "compose.override.yaml")["services"]["web"]
    assert {t: ro for t, (_, ro) in targets(after, "volumes").items()} == {
        "/etc/nginx/nginx.conf": True, "/host/etc": False, "/var/run/docker.sock": False, "/root/.ssh": True}


def test_a_mount_replaced_in_the_override_is_judged_and_fixed_there(run_cli, compose_binary, tmp_path):
    folder = write_pair(tmp_path / "p",
                        y("services:", "  proxy:", "    image: ghcr.io/acme/proxy:1", "    volumes:",
                          "      - ./base.conf:/etc/proxy/proxy.conf:ro"),
                        y("services:", "  proxy:", "    volumes:", "      - type: bind",
                          "        source: ./dev.conf", "        target: /etc/proxy/proxy.conf"))
    before = compose(compose_binary, folder, "compose.yaml", "compose.override.yaml")["services"]["proxy"]
    assert targets(before, "volumes")["/etc/proxy/proxy.conf"] == (str(folder / "dev.conf"), False)
    found = check(run_cli, folder, "--select", "VOL001")
    assert [(Path(f["file"]).name, f["line"], f["fix"]) for f in found] == [("compose.override.yaml", 4, "safe")]
    fix(run_cli, folder, "--select", "VOL001")
    assert read(folder, "compose.override.yaml").endswith("        read_only: true\n")
    after = compose(compose_binary, folder, "compose.yaml", "compose.override.yaml")["services"]["proxy"]
    assert targets(after, "volumes")["/etc/proxy/proxy.conf"] == (str(folder / "dev.conf"), True)
    assert check(run_cli, folder, "--select", "VOL001") == []


def test_a_shared_volume_the_override_remounts_read_only_has_one_writer(run_cli, compose_binary, tmp_path):
    folder = write_pair(tmp_path / "p",
                        y("services:", "  app:", "    image: ghcr.io/acme/app:1", "    volumes:", "      - media:/srv/media",
                          "  worker:", "    image: ghcr.io/acme/worker:1", "    volumes:", "      - media:/srv/media",
                          "volumes:", "  media:"),
                        y("services:", "  worker:", "    volumes:", "      - media:/srv/media:ro"))
    merged = compose(compose_binary, folder, "compose.yaml", "compose.override.yaml")["services"]
    assert targets(merged["worker"], "volumes") == {"/srv/media": ("media", True)}
    assert check(run_cli, folder, "--select", "VOL003") == []
    alone = check(run_cli, folder / "compose.yaml", "--no-override", "--select", "VOL003")  # without the override
    assert [f["rule_id"] for f in alone] == ["VOL003"]


def test_base_devices_an_override_maps_to_the_same_target_are_not_judged(run_cli, compose_binary, tmp_path):
    base = y("services:", "  app:", "    image: ghcr.io/acme/app:1", "    devices:",
             "      - /dev/sda:/dev/sda", "      - /dev/kvm", "      - source: /dev/fuse", "        target: /dev/fuse",
             "      - /dev/mem:/dev/mem")
    override = y("services:", "  app:", "    devices:", "      - /dev/null:/dev/sda", "      - /dev/dri/renderD128:/dev/kvm",
                 "      - /dev/zero:/dev/fuse/")
    folder = write_pair(tmp_path / "p", base, override)
    merged = compose(compose_binary, folder, "compose.yaml", "compose.override.yaml")["services"]["app"]
    # Compose merges devices by target as written: /dev/fuse/ is another target than /dev/fuse
    assert targets(merged, "devices") == {"/dev/sda": ("/dev/null", False), "/dev/kvm": ("/dev/dri/renderD128", False),
                                          "/dev/fuse": ("/dev/fuse", False), "/dev/fuse/": ("/dev/zero", False),
                                          "/dev/mem": ("/dev/mem", False)}
    found = check(run_cli, folder, "--select", "ISO003")
    assert sorted((Path(f["file"]).name, f["line"]) for f in found) == [
        ("compose.override.yaml", 4), ("compose.override.yaml", 5), ("compose.override.yaml", 6),
        ("compose.yaml", 7), ("compose.yaml", 9)]


# --------------------------------------------------------------------------- deploy.restart_policy key by key

POLICY = ("    deploy:", "      restart_policy:")


def test_restart_policy_keys_of_both_files_are_merged(run_cli, compose_binary, tmp_path):
    folder = write_pair(tmp_path / "p",
                        y("services:", "  app:", "    image: ghcr.io/acme/app:1", *POLICY, "        condition: on-failure"),
                        y("services:", "  app:", *POLICY, "        max_attempts: 3"))
    merged = compose(compose_binary, folder, "compose.yaml", "compose.override.yaml")["services"]["app"]
    assert merged["deploy"]["restart_policy"] == {"condition": "on-failure", "max_attempts": 3}
    assert check(run_cli, folder, "--select", "RST001") == []


def test_missing_max_attempts_is_added_where_the_policy_is_first_written(run_cli, compose_binary, tmp_path):
    base = y("services:", "  app:", "    image: ghcr.io/acme/app:1", *POLICY, "        condition: on-failure")
    override = y("services:", "  app:", *POLICY, "        delay: 5s")
    folder = write_pair(tmp_path / "p", base, override)
    found = check(run_cli, folder, "--select", "RST001")
    assert [(Path(f["file"]).name, f["line"], f["fix"]) for f in found] == [("compose.yaml", 6, "unsafe")]  # the author wrote the policy
    fix(run_cli, folder, "--select", "RST001")
    assert read(folder, "compose.override.yaml") == override
    assert read(folder, "compose.yaml") == base + "        max_attempts: 5\n"
    merged = compose(compose_binary, folder, "compose.yaml", "compose.override.yaml")["services"]["app"]
    assert merged["deploy"]["restart_policy"] == {"condition": "on-failure", "delay": "5s", "max_attempts": 5}
    assert check(run_cli, folder, "--select", "RST001") == []


def test_condition_any_of_the_override_is_replaced_there(run_cli, compose_binary, tmp_path):
    base = y("services:", "  app:", "    image: ghcr.io/acme/app:1", *POLICY, "        condition: on-failure",
             "        max_attempts: 3")
    override = y("services:", "  app:", *POLICY, "        condition: any")
    folder = write_pair(tmp_path / "p", base, override)
    before = compose(compose_binary, folder, "compose.yaml", "compose.override.yaml")["services"]["app"]
    assert before["deploy"]["restart_policy"] == {"condition": "any", "max_attempts": 3}
    found = check(run_cli, folder, "--select", "RST001")
    assert [(Path(f["file"]).name, f["fix"]) for f in found] == [("compose.override.yaml", "unsafe")]
    fix(run_cli, folder, "--select", "RST001")
    assert read(folder, "compose.yaml") == base
    assert read(folder, "compose.override.yaml") == override.replace("any", "on-failure")
    after = compose(compose_binary, folder, "compose.yaml", "compose.override.yaml")["services"]["app"]
    assert after["deploy"]["restart_policy"] == {"condition": "on-failure", "max_attempts": 3}


# --------------------------------------------------------------------------- pids limits across files

LIMITS = ("    deploy:", "      resources:", "        limits:")


def compose_refuses(binary, folder: Path, *files: str) -> str:
    args = [binary] + [a for f in files for a in ("-f", f)] + ["config", "--format", "json"]
    proc = subprocess.run(args, cwd=folder, capture_output=True, timeout=60,
                          env={"PATH": "/usr/bin:/bin", "HOME": str(folder)})
    assert proc.returncode != 0
    return proc.stderr.decode("utf-8", "replace")


def test_pids_limit_of_the_base_moves_under_the_deploy_limits_an_override_adds(run_cli, compose_binary, tmp_path):
    base = y("services:", "  app:", "    image: ghcr.io/acme/app:1", "    pids_limit: 100")
    override = y("services:", "  app:", *LIMITS, "          memory: 256M")
    folder = write_pair(tmp_path / "p", base, override)
    assert "can't set distinct values" in compose_refuses(compose_binary, folder, "compose.yaml", "compose.override.yaml")
    found = check(run_cli, folder, "--select", "RES002")
    assert [(Path(f["file"]).name, f["line"], f["fix"]) for f in found] == [("compose.yaml", 4, "safe")]
    fix(run_cli, folder, "--select", "RES002")
    assert read(folder, "compose.override.yaml") == override
    assert read(folder, "compose.yaml") == y("services:", "  app:", "    image: ghcr.io/acme/app:1", *LIMITS,
                                             "          pids: 100")
    merged = compose(compose_binary, folder, "compose.yaml", "compose.override.yaml")["services"]["app"]
    assert merged["deploy"]["resources"]["limits"]["pids"] == 100
    assert check(run_cli, folder, "--select", "RES002") == []


def test_unlimited_pids_of_the_override_wins_and_is_fixed_there(run_cli, compose_binary, tmp_path):
    base = y("services:", "  app:", "    image: ghcr.io/acme/app:1", "    pids_limit: 200")
    override = y("services:", "  app:", "    pids_limit: -1")
    folder = write_pair(tmp_path / "p", base, override)
    before = compose(compose_binary, folder, "compose.yaml", "compose.override.yaml")["services"]["app"]
    assert before["pids_limit"] == -1
    found = check(run_cli, folder, "--select", "RES002")
    assert [(Path(f["file"]).name, f["line"], f["fix"]) for f in found] == [("compose.override.yaml", 3, "unsafe")]
    fix(run_cli, folder, "--select", "RES002")
    assert read(folder, "compose.yaml") == base
    after = compose(compose_binary, folder, "compose.yaml", "compose.override.yaml")["services"]["app"]
    assert after["pids_limit"] == 4096


def test_missing_pids_limit_goes_under_deploy_when_the_override_has_limits(run_cli, compose_binary, tmp_path):
    base = y("services:", "  app:", "    image: nginx:1.27")  # a limit known to be enough
    override = y("services:", "  app:", *LIMITS, '          cpus: "0.5"')
    folder = write_pair(tmp_path / "p", base, override)
    found = check(run_cli, folder, "--select", "RES002")
    assert [(Path(f["file"]).name, f["fix"]) for f in found] == [("compose.yaml", "safe")]
    fix(run_cli, folder, "--select", "RES002")
    assert read(folder, "compose.override.yaml") == override
    assert "pids_limit" not in read(folder, "compose.yaml")
    merged = compose(compose_binary, folder, "compose.yaml", "compose.override.yaml")["services"]["app"]
    assert merged["deploy"]["resources"]["limits"] == {"cpus": 0.5, "pids": 4096}
