"""The command line through its real entry point (`python -m hardener` in a subprocess): exit codes,
what is written and what is not, output formats, rule selection, file discovery and file metadata."""
from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from hardener import harden

from conftest import y


# A file that every core rule accepts: one service (so NET001 has no flat network to report), every
# restriction in place.
CLEAN = y(
    "services:",
    "  app:",
    "    image: myorg/app:1.0",
    '    user: "10001:10001"',
    "    cap_drop: [ALL]",
    '    security_opt: ["no-new-privileges:true"]',
    "    read_only: true",
    "    tmpfs: [/tmp]",
    "    restart: on-failure:3",
    "    ports:",
    '      - "127.0.0.1:8080:8080"',
    "    volumes:",
    "      - ./app.toml:/app/app.toml:ro",
    "    deploy:",
    "      resources:",
    "        limits:",
    '          cpus: "0.5"',
    "          memory: 256M",
    "          pids: 256",
    "    logging:",
    "      driver: json-file",
    "      options:",
    "        max-size: 10m",
    '        max-file: "3"',
)

# Findings of every kind: safe ones (LOG001, RES001, RST001, VOL001) and unsafe ones (CAP001, USR001,
# PRT001).
DIRTY = y(
    "# demo",
    "services:",
    "  web:",
    "    image: myorg/web  # front (an image hardener has no profile for: generic fixes)",
    "    ports:",
    '      - "8080:80"',
    "    volumes:",
    "      - ./nginx.conf:/etc/nginx/nginx.conf",
)

# the eight core rules: tests that compare exact outputs select them, so that rules added later do not change
# what these tests expect
CORE_IDS = ("CAP001", "USR001", "VOL001", "PRT001", "RES001", "RST001", "NET001", "LOG001")
CORE = ("--select", ",".join(CORE_IDS))


def hardened(text: str, unsafe: bool = False) -> str:
    return harden(text, unsafe_fixes=unsafe, select=CORE_IDS)[2]


OLD = 1_000_000_000  # an mtime far in the past, to see whether a file was rewritten


def write(path: Path, text: str | bytes, old: bool = True) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    if old:
        os.utime(path, (OLD, OLD))
    return path


def untouched(path: Path, content: str | bytes) -> bool:
    data = content.encode() if isinstance(content, str) else content
    return path.read_bytes() == data and path.stat().st_mtime == OLD


# --------------------------------------------------------------------------- check

def test_check_clean_file_exits_0(tmp_path, run_cli):
    f = write(tmp_path / "compose.yaml", CLEAN)
    r = run_cli("check", f)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.strip() == "All checks passed (1 file)."
    assert untouched(f, CLEAN)


def test_check_reports_findings_exits_1_and_writes_nothing(tmp_path, run_cli):
    f = write(tmp_path / "compose.yaml", DIRTY)
    r = run_cli("check", "--format", "concise", *CORE, "compose.yaml", cwd=tmp_path)
    assert r.returncode == 1
    lines = r.stdout.splitlines()
    assert "compose.yaml:6:9: PRT001 port-all-interfaces [medium] service 'web' publishes port 8080:80 on every " \
           "host interface (attack tree 4.1.1) [unsafe fix]" in lines
    assert any(line.startswith("compose.yaml:3:3: CAP001 cap-drop-all [high]") for line in lines)
    assert any(line.startswith("compose.yaml:8:9: VOL001 writable-config-mount [low]") and line.endswith("[fix]")
               for line in lines)
    assert lines[-1] == "Found 7 findings in 1 file; 3 fixable with `hardener fix`, 4 more with --unsafe-fixes."
    assert untouched(f, DIRTY)


def test_check_missing_file_exits_2(tmp_path, run_cli):
    r = run_cli("check", "missing.yaml", cwd=tmp_path)
    assert r.returncode == 2
    assert r.stderr.startswith("missing.yaml:1:1: ")


def test_check_invalid_yaml_exits_2_with_position(tmp_path, run_cli):
    bad = y("services:", "  web:", "    image: nginx", "   ports: []")
    f = write(tmp_path / "compose.yaml", bad)
    r = run_cli("check", "compose.yaml", cwd=tmp_path)
    assert r.returncode == 2
    assert "compose.yaml:4:4: invalid YAML" in r.stderr
    assert untouched(f, bad)


def test_check_invalid_utf8_exits_2_with_position(tmp_path, run_cli):
    data = b"services:\n  web:\n    image: ngi\xffnx\n"
    f = write(tmp_path / "compose.yaml", data)
    r = run_cli("check", "compose.yaml", cwd=tmp_path)
    assert r.returncode == 2
    assert "compose.yaml:3:15: invalid UTF-8" in r.stderr
    assert untouched(f, data)


def test_check_json_has_documented_keys(tmp_path, run_cli):
    write(tmp_path / "compose.yaml", DIRTY)
    r = run_cli("check", "--format", "json", *CORE, "compose.yaml", cwd=tmp_path)
    assert r.returncode == 1
    report = json.loads(r.stdout)
    assert report["tool"] == "hardener" and report["version"] == 1
    findings = report["findings"]
    assert len(findings) == 7 == report["summary"]["findings"]
    assert {f["rule_id"] for f in findings} == set(CORE_IDS) - {"NET001"}
    documented = {"rule_id", "rule_name", "file", "service", "line", "column", "severity", "message",
                  "attack_tree", "fix"}
    for f in findings:
        assert documented <= f.keys()
        assert f["file"] == "compose.yaml" and f["service"] == "web"
        assert f["fix"] in ("safe", "unsafe", "none")
        assert f["severity"] in ("low", "medium", "high", "critical")
        assert isinstance(f["line"], int) and isinstance(f["column"], int) and f["attack_tree"]
    prt = next(f for f in findings if f["rule_id"] == "PRT001")
    assert (prt["rule_name"], prt["line"], prt["column"], prt["attack_tree"], prt["fix"]) == \
        ("port-all-interfaces", 6, 9, ["4.1.1"], "unsafe")
    assert report["summary"]["fixable_safe"] == 3 and report["summary"]["fixable_unsafe"] == 4


def test_check_json_lists_errors(tmp_path, run_cli):
    write(tmp_path / "compose.yaml", "- not a mapping\n")
    r = run_cli("check", "-f", "json", "compose.yaml", cwd=tmp_path)
    assert r.returncode == 2
    report = json.loads(r.stdout)
    assert report["errors"] == [{"file": "compose.yaml", "message": "1:1: the top level of a compose file must be a mapping"}]


def test_check_exit_zero_and_output_file(tmp_path, run_cli):
    write(tmp_path / "compose.yaml", DIRTY)
    r = run_cli("check", "--exit-zero", "-o", "report.txt", "compose.yaml", cwd=tmp_path)
    assert r.returncode == 0 and r.stdout == ""
    assert "PRT001" in (tmp_path / "report.txt").read_text()


def test_check_stdin(run_cli):
    r = run_cli("check", "--format", "concise", "-", input=DIRTY)
    assert r.returncode == 1
    assert "<stdin>:6:9: PRT001" in r.stdout


def test_unknown_format_exits_2(tmp_path, run_cli):
    write(tmp_path / "compose.yaml", CLEAN)
    r = run_cli("check", "--format", "xml", "compose.yaml", cwd=tmp_path)
    assert r.returncode == 2 and "unknown format 'xml'" in r.stderr


# --------------------------------------------------------------------------- fix

def test_fix_rewrites_safe_fixes_in_place_and_is_stable(tmp_path, run_cli):
    f = write(tmp_path / "compose.yaml", DIRTY)
    r = run_cli("fix", "--format", "concise", *CORE, "compose.yaml", cwd=tmp_path)
    assert r.returncode == 1  # the file was rewritten and unsafe findings remain
    assert "Fixed compose.yaml" in r.stderr.splitlines()
    expected = hardened(DIRTY)
    assert f.read_text() == expected
    assert "logging:" in expected and "cap_drop" not in expected and "nginx.conf:ro" in expected
    assert "compose.yaml:6:9: PRT001" in r.stdout  # what remains is reported

    os.utime(f, (OLD, OLD))
    again = run_cli("fix", *CORE, "compose.yaml", cwd=tmp_path)
    assert again.returncode == 1  # unsafe findings remain, but nothing to write
    assert "Fixed" not in again.stderr
    assert untouched(f, expected)


def test_fix_unsafe_then_check_is_clean(tmp_path, run_cli):
    f = write(tmp_path / "compose.yaml", DIRTY)
    r = run_cli("fix", "--unsafe-fixes", *CORE, "compose.yaml", cwd=tmp_path)
    assert r.returncode == 1 and "Fixed compose.yaml" in r.stderr
    fixed = f.read_text()
    assert fixed == hardened(DIRTY, unsafe=True)
    assert fixed.startswith(DIRTY.split("    ports:")[0])
    os.utime(f, (OLD, OLD))
    assert run_cli("check", *CORE, "compose.yaml", cwd=tmp_path).returncode == 0
    again = run_cli("fix", "--unsafe-fixes", *CORE, "compose.yaml", cwd=tmp_path)
    assert again.returncode == 0
    assert untouched(f, fixed)


def test_fix_with_nothing_to_fix_does_not_rewrite(tmp_path, run_cli):
    f = write(tmp_path / "compose.yaml", CLEAN)
    inode = f.stat().st_ino
    r = run_cli("fix", "--unsafe-fixes", "compose.yaml", cwd=tmp_path)
    assert r.returncode == 0 and "Fixed" not in r.stderr
    assert untouched(f, CLEAN) and f.stat().st_ino == inode


def test_fix_only_unsafe_findings_without_flag_does_not_rewrite(tmp_path, run_cli):
    text = CLEAN.replace('    user: "10001:10001"\n', "")
    f = write(tmp_path / "compose.yaml", text)
    r = run_cli("fix", *CORE, "compose.yaml", cwd=tmp_path)
    assert r.returncode == 1 and "USR001" in r.stdout and "Fixed" not in r.stderr
    assert untouched(f, text)


def test_fix_diff_prints_unified_diff_and_writes_nothing(tmp_path, run_cli):
    f = write(tmp_path / "compose.yaml", DIRTY)
    r = run_cli("fix", "--diff", "--select", "PRT001,VOL001", "--unsafe-fixes", "compose.yaml", cwd=tmp_path)
    assert r.returncode == 1
    assert untouched(f, DIRTY)
    assert r.stdout == (
        "--- a/compose.yaml\n"
        "+++ b/compose.yaml\n"
        "@@ -3,6 +3,6 @@\n"
        "   web:\n"
        "     image: myorg/web  # front (an image hardener has no profile for: generic fixes)\n"
        "     ports:\n"
        '-      - "8080:80"\n'
        '+      - "127.0.0.1:8080:80"\n'
        "     volumes:\n"
        "-      - ./nginx.conf:/etc/nginx/nginx.conf\n"
        "+      - ./nginx.conf:/etc/nginx/nginx.conf:ro\n"
    )
    assert "Fixed" not in r.stderr


def test_fix_stdin_writes_fixed_text_to_stdout(tmp_path, run_cli):
    r = run_cli("fix", "--format", "concise", *CORE, "-", input=DIRTY, cwd=tmp_path)
    assert r.returncode == 1
    assert r.stdout == hardened(DIRTY)
    assert "<stdin>:6:9: PRT001" in r.stderr  # the report goes to stderr, the text to stdout
    assert list(tmp_path.iterdir()) == []


def test_fix_stdin_clean_input_is_echoed(run_cli):
    r = run_cli("fix", "-", "--unsafe-fixes", input=CLEAN)
    assert r.returncode == 0 and r.stdout == CLEAN


def test_fix_keeps_crlf_and_bom(tmp_path, run_cli):
    data = b"\xef\xbb\xbf" + DIRTY.replace("\n", "\r\n").encode()
    f = write(tmp_path / "compose.yaml", data)
    assert run_cli("fix", "--select", "LOG001", "compose.yaml", cwd=tmp_path).returncode == 1
    out = f.read_bytes()
    assert out.startswith(b"\xef\xbb\xbf" + DIRTY.replace("\n", "\r\n").encode())
    assert b"max-size: 10m\r\n" in out and out.count(b"\n") == out.count(b"\r\n")


def test_fix_keeps_file_mode(tmp_path, run_cli):
    f = write(tmp_path / "compose.yaml", DIRTY)
    f.chmod(0o640)
    assert run_cli("fix", "compose.yaml", cwd=tmp_path).returncode == 1
    assert stat.S_IMODE(f.stat().st_mode) == 0o640
    assert "logging:" in f.read_text()


def test_fix_through_symlink_keeps_the_link(tmp_path, run_cli):
    target = write(tmp_path / "real" / "base.yaml", DIRTY)
    link = tmp_path / "compose.yaml"
    link.symlink_to(Path("real") / "base.yaml")
    assert run_cli("fix", *CORE, "compose.yaml", cwd=tmp_path).returncode == 1
    assert link.is_symlink() and os.readlink(link) == os.path.join("real", "base.yaml")
    assert target.read_text() == hardened(DIRTY)
    assert sorted(p.name for p in target.parent.iterdir()) == ["base.yaml"]  # no temporary file left


def test_one_bad_file_does_not_stop_the_others(tmp_path, run_cli):
    good1 = write(tmp_path / "a" / "compose.yaml", DIRTY)
    bad = write(tmp_path / "b" / "compose.yaml", y("services:", "  web:", "    image: a", "    image: b"))
    good2 = write(tmp_path / "c" / "compose.yaml", DIRTY)
    r = run_cli("fix", *CORE, "a/compose.yaml", "b/compose.yaml", "c/compose.yaml", cwd=tmp_path)
    assert r.returncode == 2
    assert "b/compose.yaml:4:5: duplicate key 'image'" in r.stderr
    assert "Fixed a/compose.yaml" in r.stderr and "Fixed c/compose.yaml" in r.stderr
    assert good1.read_text() == good2.read_text() == hardened(DIRTY)
    assert untouched(bad, y("services:", "  web:", "    image: a", "    image: b"))


# --------------------------------------------------------------------------- rule selection

@pytest.mark.parametrize("args,expected", [
    pytest.param(["--select", "PRT001"], {"PRT001"}, id="select-id"),
    pytest.param(["--select", "port-all-interfaces"], {"PRT001"}, id="select-name"),
    pytest.param(["--select", "CAP001,no-log-rotation"], {"CAP001", "LOG001"}, id="select-comma"),
    pytest.param(["--select", "RES001", "--select", "RST001"], {"RES001", "RST001"}, id="select-repeated"),
    pytest.param(["--select", "R"], {"RES001", "RES002", "RST001"}, id="select-prefix"),
    pytest.param([*CORE, "--ignore", "CAP001", "--ignore", "writable-config-mount"],
                 {"USR001", "PRT001", "RES001", "RST001", "LOG001"}, id="ignore-id-and-name"),
])
def test_select_and_ignore(tmp_path, run_cli, args, expected):
    write(tmp_path / "compose.yaml", DIRTY)
    r = run_cli("check", "-f", "json", *args, "compose.yaml", cwd=tmp_path)
    assert r.returncode == 1
    assert {f["rule_id"] for f in json.loads(r.stdout)["findings"]} == expected


@pytest.mark.parametrize("command", ["check", "fix"])
@pytest.mark.parametrize("option", ["--select", "--ignore"])
def test_unknown_rule_exits_2(tmp_path, run_cli, command, option):
    f = write(tmp_path / "compose.yaml", DIRTY)
    r = run_cli(command, option, "NOPE001", "compose.yaml", cwd=tmp_path)
    assert r.returncode == 2
    assert "unknown rule 'NOPE001'" in r.stderr
    assert untouched(f, DIRTY)


# --------------------------------------------------------------------------- which files

def test_folder_finds_compose_files_only(tmp_path, run_cli):
    for name in ["compose.yaml", "docker-compose.yml", "compose.prod.yaml", "sub/compose.yml",
                 "other.yaml", "config.yml", "compose.yaml.bak", "node_modules/compose.yaml", ".hidden/compose.yaml"]:
        write(tmp_path / "proj" / name, DIRTY)
    r = run_cli("check", "-f", "json", "--select", "PRT001", "proj", cwd=tmp_path)
    assert r.returncode == 1
    files = sorted({f["file"] for f in json.loads(r.stdout)["findings"]})
    assert files == ["proj/compose.prod.yaml", "proj/compose.yaml", "proj/docker-compose.yml", "proj/sub/compose.yml"]


def test_named_file_with_any_name_is_processed(tmp_path, run_cli):
    f = write(tmp_path / "stack.conf", DIRTY)
    r = run_cli("fix", *CORE, "stack.conf", cwd=tmp_path)
    assert r.returncode == 1 and "Fixed stack.conf" in r.stderr
    assert f.read_text() == hardened(DIRTY)


def test_folder_without_compose_files_is_an_error_naming_the_patterns(tmp_path, run_cli):
    write(tmp_path / "proj" / "values.yaml", DIRTY)
    r = run_cli("check", "proj", cwd=tmp_path)
    assert r.returncode == 2
    assert r.stderr.startswith("hardener: error: proj: no compose file found (searched for compose.yaml, ")
    assert "docker-stack.yml" in r.stderr and "*.compose.yml" in r.stderr


# --------------------------------------------------------------------------- rules, explain, version

def test_rules_lists_all_eight(run_cli):
    r = run_cli("rules")
    assert r.returncode == 0
    ids = [line.split()[0] for line in r.stdout.splitlines() if line.strip()]
    assert [i for i in ids if i in CORE_IDS] == list(CORE_IDS)
    assert "CAP001   cap-drop-all             1.1.2,5.2.1" in r.stdout
    data = json.loads(run_cli("rules", "--format", "json").stdout)
    assert {d["id"]: d["name"] for d in data}["CAP001"] == "cap-drop-all"
    assert all(d["fix"] in ("safe", "unsafe", "none") and d["attack_tree"] for d in data if d["id"] in CORE_IDS)
    assert {d["id"]: d["attack_tree"] for d in data}["PRT001"] == ["4.1.1"]


@pytest.mark.parametrize("key", ["CAP001", "cap-drop-all", "cap001"])
def test_explain_prints_the_rule_doc(run_cli, key):
    r = run_cli("explain", key)
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert out.startswith("CAP001 cap-drop-all\n")
    assert "Attack tree 1.1.2 " in out and "Attack tree 5.2.1 " in out
    assert "**What it finds.**" in out and "**What may break.**" in out


def test_explain_unknown_rule_exits_2(run_cli):
    r = run_cli("explain", "NOPE")
    assert r.returncode == 2 and "unknown rule 'NOPE'" in r.stderr


def test_version(run_cli):
    import hardener

    r = run_cli("--version")
    assert r.returncode == 0 and r.stdout.strip() == f"hardener {hardener.__version__}"


def test_fixed_file_is_accepted_by_compose(tmp_path, run_cli, compose_check):
    write(tmp_path / "compose.yaml", DIRTY)
    assert run_cli("fix", "--unsafe-fixes", "compose.yaml", cwd=tmp_path).returncode == 1
    code, model, err = compose_check((tmp_path / "compose.yaml").read_text())
    assert code == 0, err
    assert model["services"]["web"]["cap_drop"] == ["ALL"]
