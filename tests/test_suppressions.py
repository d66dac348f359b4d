"""Inline suppression comments (`# hardener: ignore`, `ignore[...]`, `ignore-file`, `ignore-file[...]`)
and the unused-suppression report (HRD001), through the real command line. Every file is written to a
fresh folder and run with --isolated, so no configuration file around the test changes the outcome."""
from __future__ import annotations

import json
import re

from conftest import compose_config, y


def write(tmp_path, text: str, name: str = "compose.yaml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def findings(run_cli, path, *args) -> list[dict]:
    proc = run_cli("check", "--isolated", "--format", "json", *args, path)
    assert proc.returncode in (0, 1), proc.stderr
    return json.loads(proc.stdout)["findings"]


def rules_of(found, service=None) -> set[str]:
    return {f["rule_id"] for f in found if service is None or f["service"] == service}


def fix(run_cli, path, *args) -> str:
    proc = run_cli("fix", "--isolated", "--unsafe-fixes", *args, path)
    assert proc.returncode in (0, 1), proc.stderr
    return path.read_text(encoding="utf-8")


def block(text: str, name: str) -> str:
    """One service's lines as written (name line to the line before the next service)."""
    lines = text.splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if re.match(rf"  {re.escape(name)}:", line))
    end = start + 1
    while end < len(lines) and not re.match(r"(  )?[A-Za-z_]", lines[end]):
        end += 1
    return "".join(lines[start:end])


# A small stack where every core rule fires: an app that talks to a database and a cache.
STACK = y(
    "services:",
    "  app:",
    "    image: ghcr.io/acme/app:3.0",
    "    restart: always",
    "    environment:",
    "      DATABASE_URL: postgres://app@db:5432/app",
    "      REDIS_HOST: cache",
    "    ports:",
    '      - "8080:8080"',
    "  db:",
    "    image: postgres:16",
    "  cache:",
    "    image: redis:7",
)


# --------------------------------------------------------------------------- a service's name line

def test_ignore_on_service_line_silences_every_rule(run_cli, tmp_path):
    path = write(tmp_path, STACK.replace("  app:\n", "  app:  # hardener: ignore\n"))
    found = findings(run_cli, path)
    assert rules_of(found, "app") == set()
    assert {"CAP001", "LOG001", "RES001"} <= rules_of(found, "db")  # the others are still judged
    assert "HRD001" not in rules_of(found)  # it silenced something: not reported unused


def test_ignored_service_text_is_byte_identical_after_unsafe_fix(run_cli, compose_binary, tmp_path):
    text = STACK.replace("  app:\n", "  app:  # hardener: ignore\n")
    path = write(tmp_path, text)
    after = fix(run_cli, path)
    assert after != text  # the other services were fixed
    assert block(after, "app") == block(text, "app")
    code, before_model, err = compose_config(compose_binary, text)
    code2, after_model, err2 = compose_config(compose_binary, after)
    assert code == code2 == 0, err + err2
    assert after_model["services"]["app"] == before_model["services"]["app"]
    assert "ALL" in after_model["services"]["db"]["cap_drop"]


def test_ignored_back_end_is_not_moved_to_another_network(run_cli, compose_binary, tmp_path):
    """The segmentation fix would move the ignored cache to an internal network: it is not applied."""
    text = STACK.replace("  cache:\n", "  cache:  # hardener: ignore\n")
    path = write(tmp_path, text)
    after = fix(run_cli, path)
    assert block(after, "cache") == block(text, "cache")
    _, model, err = compose_config(compose_binary, after)
    assert model is not None, err
    assert set(model["services"]["cache"]["networks"]) == {"default"}


def test_ignored_back_end_does_not_keep_the_others_on_the_flat_network(run_cli, compose_binary, tmp_path):
    text = STACK.replace("  cache:\n", "  cache:  # hardener: ignore\n")
    path = write(tmp_path, text)
    after = fix(run_cli, path, "--select", "NET001")
    assert block(after, "cache") == block(text, "cache")
    _, model, err = compose_config(compose_binary, after)
    assert model is not None, err
    assert set(model["services"]["db"]["networks"]) == {"backend"}
    assert "backend" in model["services"]["app"]["networks"]


def test_ignore_with_rules_on_service_line_silences_only_those(run_cli, compose_binary, tmp_path):
    text = STACK.replace("  app:\n", "  app:  # hardener: ignore[CAP001,no-log-rotation]\n")
    path = write(tmp_path, text)
    found = rules_of(findings(run_cli, path), "app")
    assert not found & {"CAP001", "LOG001"}
    assert {"RES001", "RST001", "USR001", "PRT001"} <= found
    after = fix(run_cli, path)
    app = block(after, "app")
    assert "cap_drop" not in app and "logging" not in app
    assert "deploy:" in app and "127.0.0.1:8080:8080" in app
    _, model, err = compose_config(compose_binary, after)
    assert model is not None, err
    assert "cap_drop" not in model["services"]["app"] and "logging" not in model["services"]["app"]
    assert model["services"]["app"]["restart"].startswith("on-failure")


def test_rule_names_and_ids_spacing_and_case(run_cli, tmp_path):
    path = write(tmp_path, STACK.replace("  app:\n", "  app:  #HARDENER:ignore[ cap-drop-all , RES001 ]\n"))
    found = rules_of(findings(run_cli, path), "app")
    assert not found & {"CAP001", "RES001"}
    assert "LOG001" in found


# --------------------------------------------------------------------------- a key's line

def test_ignore_on_restart_line(run_cli, tmp_path):
    text = STACK.replace("    restart: always\n", "    restart: always  # hardener: ignore[unbounded-restart]\n")
    path = write(tmp_path, text)
    found = findings(run_cli, path)
    assert not any(f["rule_id"] == "RST001" and f["service"] == "app" for f in found)
    assert any(f["rule_id"] == "RST001" and f["service"] == "db" for f in found)
    after = fix(run_cli, path)
    assert "    restart: always  # hardener: ignore[unbounded-restart]\n" in after
    assert "cap_drop" in block(after, "app")  # other rules still fix the service


def test_ignore_on_ports_line_covers_every_port_under_it(run_cli, tmp_path):
    text = STACK.replace('    ports:\n      - "8080:8080"\n',
                         '    ports:  # hardener: ignore[PRT001]\n      - "8080:8080"\n      - "9090:9090"\n')
    text += y("    ports:", '      - "6379:6379"')  # the cache's own port is not covered
    path = write(tmp_path, text)
    found = findings(run_cli, path)
    prt = [(f["service"], f["line"]) for f in found if f["rule_id"] == "PRT001"]
    assert prt == [("cache", text.splitlines().index('      - "6379:6379"') + 1)]
    after = fix(run_cli, path)
    assert '      - "8080:8080"\n      - "9090:9090"\n' in after
    assert '"127.0.0.1:6379:6379"' in after


def test_bare_ignore_on_key_line_covers_only_that_key(run_cli, tmp_path):
    text = STACK.replace("    ports:\n", "    ports:  # hardener: ignore\n")
    path = write(tmp_path, text)
    found = rules_of(findings(run_cli, path), "app")
    assert "PRT001" not in found
    assert {"CAP001", "LOG001", "RES001", "RST001"} <= found


def test_ignore_at_end_of_value_line(run_cli, tmp_path):
    text = STACK.replace('      - "8080:8080"\n', '      - "8080:8080"  # hardener: ignore[PRT001]\n      - "8443:8443"\n')
    path = write(tmp_path, text)
    found = [f for f in findings(run_cli, path) if f["rule_id"] == "PRT001"]
    assert [f["message"] for f in found] == ["service 'app' publishes port 8443:8443 on every host interface"]


def test_hash_inside_a_quoted_value_is_not_a_suppression(run_cli, tmp_path):
    command = '    command: ["sh", "-c", "run # hardener: ignore"]\n'
    text = STACK.replace("    restart: always\n", "    restart: always\n" + command)
    path = write(tmp_path, text)
    found = findings(run_cli, path)
    assert "RST001" in rules_of(found, "app")
    assert "HRD001" not in rules_of(found)


# --------------------------------------------------------------------------- the whole file

def test_ignore_file_silences_everything_and_fix_writes_nothing(run_cli, tmp_path):
    text = "# hardener: ignore-file\n" + STACK
    path = write(tmp_path, text)
    assert findings(run_cli, path) == []
    proc = run_cli("fix", "--isolated", "--unsafe-fixes", path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert path.read_bytes() == text.encode("utf-8")


def test_ignore_file_with_rules_silences_only_those(run_cli, tmp_path):
    text = STACK.replace("services:\n", "services:\n  # hardener: ignore-file[CAP001, no-resource-limits]\n", 1)
    path = write(tmp_path, text)
    found = findings(run_cli, path)
    assert not rules_of(found) & {"CAP001", "RES001"}
    assert {"LOG001", "RST001"} <= rules_of(found)
    after = fix(run_cli, path)
    assert "cap_drop" not in after and "cpus:" not in after and "memory:" not in after
    assert "max-size" in after


# --------------------------------------------------------------------------- unused suppressions

def test_unused_suppression_is_reported(run_cli, tmp_path):
    text = y(
        "services:",
        "  web:",
        "    image: ghcr.io/acme/web:2.1",
        "    restart: on-failure:3  # hardener: ignore[unbounded-restart]",
        "    cap_drop: [ALL]",
    )
    path = write(tmp_path, text)
    found = [f for f in findings(run_cli, path) if f["rule_id"] == "HRD001"]
    assert len(found) == 1
    assert found[0]["rule_name"] == "unused-suppression"
    assert found[0]["line"] == 4 and found[0]["column"] == text.splitlines()[3].index("#") + 1
    assert "ignore[unbounded-restart]" in found[0]["message"]
    proc = run_cli("check", "--isolated", "--select", "RST001,HRD001", path)
    assert proc.returncode == 1
    assert "HRD001 unused-suppression" in proc.stdout


def test_unused_service_and_file_suppressions_are_reported(run_cli, tmp_path):
    text = y(
        "# hardener: ignore-file[IMG001]",
        "services:",
        "  web:  # hardener: ignore[CAP001]",
        "    image: ghcr.io/acme/web:2.1",
        "    cap_drop: [ALL]",
    )
    found = [(f["line"], f["rule_id"]) for f in findings(run_cli, write(tmp_path, text)) if f["rule_id"] == "HRD001"]
    assert found == [(1, "HRD001"), (3, "HRD001")]


def test_suppression_of_a_deselected_rule_is_not_reported_unused(run_cli, tmp_path):
    text = y(
        "services:",
        "  web:  # hardener: ignore[CAP001]",
        "    image: ghcr.io/acme/web:2.1",
        "    cap_drop: [ALL]",
        "    restart: on-failure:3  # hardener: ignore[RST001]",
    )
    path = write(tmp_path, text)
    both = [f["line"] for f in findings(run_cli, path, "--select", "CAP001,RST001,HRD001") if f["rule_id"] == "HRD001"]
    assert both == [2, 5]
    only_cap = [f["line"] for f in findings(run_cli, path, "--select", "CAP001,HRD001") if f["rule_id"] == "HRD001"]
    assert only_cap == [2]
    ignored = [f["line"] for f in findings(run_cli, path, "--ignore", "CAP001") if f["rule_id"] == "HRD001"]
    assert ignored == [5]
    assert not any(f["rule_id"] == "HRD001" for f in findings(run_cli, path, "--select", "LOG001,HRD001"))


def test_used_suppression_is_not_reported(run_cli, tmp_path):
    text = STACK.replace("    restart: always\n", "    restart: always  # hardener: ignore[RST001]\n")
    assert "HRD001" not in rules_of(findings(run_cli, write(tmp_path, text)))


def test_suppression_naming_an_unknown_rule_is_reported(run_cli, tmp_path):
    text = STACK.replace("  app:\n", "  app:  # hardener: ignore[CAP01]\n")
    found = findings(run_cli, write(tmp_path, text))
    assert "CAP001" in rules_of(found, "app")  # the typo silences nothing...
    assert any(f["rule_id"] == "HRD001" and f["line"] == 2 for f in found)  # ...and says so


# --------------------------------------------------------------------------- across the files of a project

BASE = y(
    "services:",
    "  app:",
    "    image: ghcr.io/acme/app:3.0",
    "    restart: always",
    "    ports:",
    '      - "8080:8080"',
    "  db:",
    "    image: postgres:16",
)

OVERRIDE = y(
    "services:",
    "  app:",
    "    environment:",
    '      DEBUG: "1"',
    "    ports:",
    '      - "9000:9000"',
    "    privileged: true",
    "  db:",
    "    restart: always",
)


def pair(tmp_path, base: str, override: str):
    return write(tmp_path, base), write(tmp_path, override, "compose.override.yaml")


def project_findings(run_cli, *args) -> list[dict]:
    proc = run_cli("check", "--isolated", "--format", "json", *args)
    assert proc.returncode in (0, 1), proc.stderr
    return json.loads(proc.stdout)["findings"]


def test_ignore_in_the_base_silences_the_service_in_the_override(run_cli, compose_binary, tmp_path):
    base, override = pair(tmp_path, BASE, OVERRIDE)
    unmarked = {f["file"].rsplit("/", 1)[-1] for f in project_findings(run_cli, tmp_path) if f["service"] == "app"}
    assert unmarked == {"compose.yaml", "compose.override.yaml"}  # without the mark both files report app
    base.write_text(BASE.replace("  app:\n", "  app:  # hardener: ignore\n"), encoding="utf-8")
    found = project_findings(run_cli, tmp_path)
    assert not [f for f in found if f["service"] == "app"]
    assert "HRD001" not in rules_of(found)  # it silences the service in the other file
    assert any(f["service"] == "db" for f in found)
    before = (base.read_text(encoding="utf-8"), override.read_text(encoding="utf-8"))
    proc = run_cli("fix", "--isolated", "--unsafe-fixes", tmp_path)
    assert proc.returncode in (0, 1), proc.stderr
    after = (base.read_text(encoding="utf-8"), override.read_text(encoding="utf-8"))
    assert after != before  # db was fixed
    assert block(after[0], "app") == block(before[0], "app")
    assert block(after[1], "app") == block(before[1], "app")


def test_ignore_in_the_override_silences_the_service_in_the_base(run_cli, tmp_path):
    base, override = pair(tmp_path, BASE, OVERRIDE.replace("  app:\n", "  app:  # hardener: ignore\n"))
    found = project_findings(run_cli, "--file", base, "--file", override)
    assert not [f for f in found if f["service"] == "app"]
    assert "HRD001" not in rules_of(found)
    text = base.read_text(encoding="utf-8")
    proc = run_cli("fix", "--isolated", "--unsafe-fixes", "--file", base, "--file", override)
    assert proc.returncode in (0, 1), proc.stderr
    assert block(base.read_text(encoding="utf-8"), "app") == block(text, "app")
    assert "cap_drop" in block(base.read_text(encoding="utf-8"), "db")


def test_ignore_with_rules_in_one_file_silences_those_rules_in_the_other(run_cli, tmp_path):
    base, override = pair(tmp_path, BASE, OVERRIDE.replace("  app:\n", "  app:  # hardener: ignore[PRT001,CAP001]\n"))
    found = project_findings(run_cli, tmp_path)
    app = {(f["file"].rsplit("/", 1)[-1], f["rule_id"]) for f in found if f["service"] == "app"}
    assert not {rule for _, rule in app} & {"PRT001", "CAP001"}
    assert ("compose.yaml", "RST001") in app and ("compose.override.yaml", "PRV001") in app
    proc = run_cli("fix", "--isolated", "--unsafe-fixes", tmp_path)
    assert proc.returncode in (0, 1), proc.stderr
    fixed = base.read_text(encoding="utf-8")
    assert '"8080:8080"' in fixed and "cap_drop" not in block(fixed, "app")
    assert "restart: on-failure" in block(fixed, "app")
