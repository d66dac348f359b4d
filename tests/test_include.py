"""Compose's top-level `include:` through the real command line: included files are read for context
(their services are known to the project: segmentation, shared volumes), never reported or fixed
unless they are inputs themselves; what is not read (outside the including file's folder, remote,
written with a variable, missing, unreadable) is said on stderr as a note; cycles end. Each test builds
its folder tree under tmp_path and runs with --isolated."""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from conftest import y, put


def check(run_cli, *args):
    proc = run_cli("check", "--isolated", "--format", "json", *args)
    assert proc.returncode in (0, 1), proc.stderr
    return json.loads(proc.stdout)["findings"], proc.stderr


def notes(stderr: str) -> list[str]:
    return [line.split(": note: ", 1)[1] for line in stderr.splitlines() if ": note: " in line]


def compose_config(binary: str, folder: Path) -> dict:
    proc = subprocess.run([binary, "-f", "compose.yaml", "config", "--format", "json"], cwd=folder, timeout=60,
                          capture_output=True, env={"PATH": "/usr/bin:/bin", "HOME": str(folder)})
    assert proc.returncode == 0, proc.stderr.decode("utf-8", "replace")
    return json.loads(proc.stdout)


APP_DB = y(
    "services:",
    "  app:",
    "    image: ghcr.io/acme/app:1.0",
    "    environment:",
    "      DATABASE_URL: postgres://app@db:5432/app",
    "    depends_on: [db]",
    "  db:",
    "    image: postgres:16.3",
)

WORKER = y(
    "services:",
    "  worker:",
    "    image: ghcr.io/acme/worker:1.0",
    "    depends_on: [db]",
)


# --------------------------------------------------------------------------- services of included files

@pytest.mark.parametrize("include", [
    "include:\n  - jobs/worker.yaml\n",
    "include:\n  - path: ./jobs/worker.yaml\n",
    "include:\n  - path: [jobs/worker.yaml]\n    project_directory: jobs\n    env_file: jobs/.env\n",
])
def test_segmentation_sees_a_client_from_an_included_file(run_cli, compose_binary, tmp_path, include):
    """db's clients are app (here) and worker (included): moving db to an internal network would cut
    worker off, and worker's file is not ours to edit, so the fix is not applied."""
    put(tmp_path, "compose.yaml", include + APP_DB)
    worker = put(tmp_path, "jobs/worker.yaml", WORKER)
    put(tmp_path, "jobs/.env", "DB_PASSWORD=do-not-read-me\n")
    found, stderr = check(run_cli, "--select", "NET001", tmp_path / "compose.yaml")
    assert [f["message"] for f in found] == [
        "service 'db' sits on the flat default network with 2 other services; only app, worker talk to it "
        "(seen in depends_on, links or the settings that name it)"]
    assert notes(stderr) == []
    proc = run_cli("fix", "--isolated", "--unsafe-fixes", tmp_path / "compose.yaml")
    assert proc.returncode == 1, proc.stderr
    assert "do-not-read-me" not in proc.stdout + proc.stderr
    assert worker.read_text(encoding="utf-8") == WORKER  # read for context only
    services = compose_config(compose_binary, tmp_path)["services"]
    for client in ("app", "worker"):
        assert set(services[client].get("networks") or {"default"}) & set(services["db"].get("networks") or {"default"})


def test_without_included_clients_the_back_end_is_moved(run_cli, compose_binary, tmp_path):
    """The same stack when worker is not a client: the segmentation fix applies as usual."""
    put(tmp_path, "compose.yaml", "include:\n  - jobs/worker.yaml\n" + APP_DB)
    put(tmp_path, "jobs/worker.yaml", WORKER.replace("    depends_on: [db]\n", ""))
    proc = run_cli("fix", "--isolated", "--unsafe-fixes", "--select", "NET001", tmp_path / "compose.yaml")
    assert proc.returncode == 1, proc.stderr
    services = compose_config(compose_binary, tmp_path)["services"]
    assert set(services["db"]["networks"]) == {"backend"}
    assert set(services["worker"].get("networks") or {"default"}) == {"default"}


def test_shared_volume_with_an_included_service_is_reported_here(run_cli, tmp_path):
    put(tmp_path, "compose.yaml", y(
        "include:",
        "  - backup/compose.backup.yaml",
        "services:",
        "  app:",
        "    image: ghcr.io/acme/app:1.0",
        "    volumes:",
        "      - data:/srv/data",
        "volumes:",
        "  data:",
    ))
    backup = put(tmp_path, "backup/compose.backup.yaml", y(
        "services:",
        "  backup:",
        "    image: ghcr.io/acme/backup:1.0",
        "    volumes:",
        "      - data:/backup",
    ))
    found, _ = check(run_cli, "--select", "VOL003", tmp_path / "compose.yaml")
    assert [(f["file"], f["rule_id"]) for f in found] == [(str(tmp_path / "compose.yaml"), "VOL003")]
    assert "app, backup" in found[0]["message"]
    run_cli("fix", "--isolated", "--unsafe-fixes", tmp_path / "compose.yaml")
    assert "- data:/backup\n" in backup.read_text(encoding="utf-8")


def test_included_services_are_not_reported_in_the_including_file(run_cli, tmp_path):
    put(tmp_path, "compose.yaml", "include:\n  - jobs/worker.yaml\n" + APP_DB)
    put(tmp_path, "jobs/worker.yaml", WORKER + y("    privileged: true", "    ports:", '      - "9000:9000"'))
    found, _ = check(run_cli, tmp_path / "compose.yaml")
    assert "worker" not in {f["service"] for f in found}
    assert {f["file"] for f in found} == {str(tmp_path / "compose.yaml")}
    named, _ = check(run_cli, tmp_path / "jobs" / "worker.yaml")  # an input itself: reported and fixed
    assert {"PRV001", "PRT001"} <= {f["rule_id"] for f in named if f["service"] == "worker"}


def test_an_override_of_an_included_service_knows_its_image(run_cli, tmp_path):
    """compose.override.yaml publishes the included database's port: the datastore rule knows it is
    postgres from the included file."""
    put(tmp_path, "compose.yaml", "include:\n  - infra/db.yaml\n" + y(
        "services:", "  app:", "    image: ghcr.io/acme/app:1.0", "    depends_on: [db]"))
    put(tmp_path, "infra/db.yaml", y("services:", "  db:", "    image: postgres:16.3"))
    put(tmp_path, "compose.override.yaml", y("services:", "  db:", "    ports:", '      - "5432:5432"'))
    found, _ = check(run_cli, tmp_path)
    assert ("db", "PRT002") in {(f["service"], f["rule_id"]) for f in found if f["file"].endswith("override.yaml")}


# --------------------------------------------------------------------------- what is not read

def test_include_outside_the_folder_is_not_read_and_says_so(run_cli, tmp_path):
    project = tmp_path / "project"
    put(tmp_path, "outside.yaml", "services: [not: valid: yaml\n")  # reading it would give another note
    put(project, "compose.yaml", "include:\n  - ../outside.yaml\n  - /etc/hostname\n" + APP_DB)
    proc = run_cli("check", "--isolated", project / "compose.yaml")
    assert proc.returncode == 1, proc.stderr
    assert f"{project / 'compose.yaml'}: note: include '../outside.yaml' resolves outside this file's folder: " \
           "not read" in proc.stderr.splitlines()
    assert "include '/etc/hostname' resolves outside this file's folder: not read" in notes(proc.stderr)
    assert len(notes(proc.stderr)) == 2


def test_symlink_pointing_outside_is_not_followed(run_cli, tmp_path):
    put(tmp_path, "secret/compose.yaml", WORKER)
    project = tmp_path / "project"
    put(project, "compose.yaml", "include:\n  - linked.yaml\n" + APP_DB)
    os.symlink(tmp_path / "secret" / "compose.yaml", project / "linked.yaml")
    found, stderr = check(run_cli, "--select", "NET001", project / "compose.yaml")
    assert notes(stderr) == ["include 'linked.yaml' resolves outside this file's folder: not read"]
    assert "worker" not in found[0]["message"]


@pytest.mark.parametrize("ref, note", [
    ("oci://docker.io/acme/stack:1.0", "include 'oci://docker.io/acme/stack:1.0' is a remote reference: not fetched"),
    ("git@github.com:acme/stack.git", "include 'git@github.com:acme/stack.git' is a remote reference: not fetched"),
    ("https://github.com/acme/stack.git#main:compose.yaml",
     "include 'https://github.com/acme/stack.git#main:compose.yaml' is a remote reference: not fetched"),
    ("${STACK_DIR}/db.yaml", "include '${STACK_DIR}/db.yaml' uses a variable: not read"),
    ("missing/db.yaml", "include 'missing/db.yaml' does not exist"),
    ("~/db.yaml", "include '~/db.yaml' is in a home folder, outside this file's folder: not read"),
])
def test_unfollowed_references_are_notes_not_errors(run_cli, tmp_path, ref, note):
    put(tmp_path, "compose.yaml", f'include:\n  - path: "{ref}"\n' + APP_DB)
    proc = run_cli("check", "--isolated", tmp_path / "compose.yaml")
    assert proc.returncode == 1, proc.stderr  # findings, never exit 2
    assert notes(proc.stderr) == [note], proc.stderr
    # fix reports notes with its findings: on stdout when it writes the files, on stderr with --diff
    proc = run_cli("fix", "--isolated", "--diff", tmp_path / "compose.yaml")
    assert proc.returncode == 1, proc.stderr
    assert notes(proc.stderr) == [note] and notes(proc.stdout) == []
    proc = run_cli("fix", "--isolated", tmp_path / "compose.yaml")
    assert proc.returncode == 1, proc.stderr
    assert notes(proc.stdout) == [note] and notes(proc.stderr) == []


def test_notes_reach_stderr_in_every_format(run_cli, tmp_path):
    put(tmp_path, "compose.yaml", "include:\n  - missing.yaml\n" + APP_DB)
    for fmt in ("text", "json", "sarif"):
        proc = run_cli("check", "--isolated", "--format", fmt, tmp_path / "compose.yaml")
        assert notes(proc.stderr) == ["include 'missing.yaml' does not exist"], fmt
        assert "missing.yaml" not in proc.stdout


def test_broken_included_file_is_a_note(run_cli, tmp_path):
    put(tmp_path, "compose.yaml", "include:\n  - bad.yaml\n" + APP_DB)
    put(tmp_path, "bad.yaml", "services:\n  a: 1\n  a: 2\n")
    proc = run_cli("check", "--isolated", tmp_path / "compose.yaml")
    assert proc.returncode == 1, proc.stderr
    assert [n.split(":")[0] for n in notes(proc.stderr)] == ["include 'bad.yaml' is not a usable compose file"]


def test_cycles_and_nested_includes_end(run_cli, tmp_path):
    put(tmp_path, "compose.yaml", "include:\n  - a/one.yaml\n  - compose.yaml\n" + APP_DB)
    put(tmp_path, "a/one.yaml", "include:\n  - b/two.yaml\n  - ../compose.yaml\n" + WORKER)
    put(tmp_path, "a/b/two.yaml", "include:\n  - ../one.yaml\n  - ../../compose.yaml\n" + y(
        "services:", "  reporter:", "    image: ghcr.io/acme/reporter:1.0", "    depends_on: [db]"))
    found, stderr = check(run_cli, "--select", "NET001", tmp_path / "compose.yaml")
    assert "with 3 other services; only app, worker, reporter talk to it" in found[0]["message"]
    # each file's references resolve in its own folder and must stay inside that folder's tree
    assert notes(stderr) == [
        "include '../compose.yaml' resolves outside this file's folder: not read (included from a/one.yaml)",
        "include '../one.yaml' resolves outside this file's folder: not read (included from a/b/two.yaml)",
        "include '../../compose.yaml' resolves outside this file's folder: not read (included from a/b/two.yaml)",
    ]


def test_extends_file_outside_the_folder_is_a_note(run_cli, tmp_path):
    put(tmp_path, "common.yaml", y("services:", "  base:", "    image: ghcr.io/acme/base:1.0"))
    project = tmp_path / "project"
    put(project, "compose.yaml", y(
        "services:",
        "  app:",
        "    extends:",
        "      file: ../common.yaml",
        "      service: base",
        "    image: ghcr.io/acme/app:1.0",
    ))
    proc = run_cli("check", "--isolated", project / "compose.yaml")
    assert proc.returncode == 1, proc.stderr
    assert notes(proc.stderr) == ["extends file of service 'app' '../common.yaml' resolves outside this file's "
                                  "folder: not read"]


def test_the_number_of_included_files_is_bounded(run_cli, tmp_path):
    put(tmp_path, "compose.yaml", "include:\n" + "".join(f"  - part{i}.yaml\n" for i in range(80)) + APP_DB)
    for i in range(80):
        put(tmp_path, f"part{i}.yaml", y("services:", f"  s{i}:", "    image: ghcr.io/acme/s:1.0"))
    proc = run_cli("check", "--isolated", tmp_path / "compose.yaml")
    assert proc.returncode == 1, proc.stderr
    assert notes(proc.stderr) == ["more than 64 files included: include 'part64.yaml' and the rest are not read"]
