"""Issue 14 through the real command line (`python -m hardener` in a subprocess): no data loss, no
traceback, exit codes CI can trust, nothing from a file talks to the terminal, output at the right
lines."""
from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO, cli_env, y

# a file every run fixes (LOG001, RES001, RES002, RST001, PRV002, CAP001 are safe fixes)
FIXABLE = y("services:", "  web:", "    image: myorg/web:1.0")


def no_traceback(run):
    assert "Traceback" not in run.stderr + run.stdout, run.stderr[-3000:]


def in_process(args, cwd: Path, setup: str) -> subprocess.CompletedProcess:
    """The real entry point (hardener.cli.main) in a fresh interpreter, after `setup` ran in it: how a
    test reaches the moment between reading and writing a file deterministically, without sleeps."""
    code = f"import sys\n{setup}\nfrom hardener.cli import main\nsys.argv = ['hardener', *{list(map(str, args))!r}]\nmain()\n"
    proc = subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, env=cli_env(), timeout=60)
    return subprocess.CompletedProcess(proc.args, proc.returncode, proc.stdout.decode(), proc.stderr.decode())


# --------------------------------------------------------------------------- data loss

EDIT_MEANWHILE = """
import hardener.writing as writing
def edit(path):  # another writer (an editor, a second hardener fix) saves the file at this moment
    with open(path, "ab") as fh:
        fh.write(b"# saved by someone else\\n")
writing._before_replace = edit
"""


@pytest.mark.parametrize("hard_link", [False, True], ids=["renamed", "hard-linked"])
def test_a_file_changed_while_hardener_ran_is_not_written(tmp_path, hard_link):
    path = tmp_path / "compose.yaml"
    path.write_text(FIXABLE)
    if hard_link:
        os.link(path, tmp_path / "other-name.yaml")
    run = in_process(["fix", "compose.yaml"], tmp_path, EDIT_MEANWHILE)
    no_traceback(run)
    assert run.returncode == 2, run.stderr
    assert "compose.yaml: changed while hardener ran; not written" in run.stderr.splitlines()
    assert "Fixed" not in run.stderr
    assert path.read_text() == FIXABLE + "# saved by someone else\n"  # the other writer's text survives
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".hardener-")) == []


def test_an_unchanged_file_is_written_through_the_same_check(tmp_path):
    path = tmp_path / "compose.yaml"
    path.write_text(FIXABLE)
    run = in_process(["fix", "compose.yaml"], tmp_path, "import hardener.writing")
    assert run.returncode == 1, run.stderr
    assert "Fixed compose.yaml" in run.stderr and "max-size" in path.read_text()


@pytest.mark.parametrize("option", ["-o", "--write-baseline"])
@pytest.mark.parametrize("how", ["same name", "symlink", "hard link", "in a folder scan"])
def test_an_output_that_is_an_input_is_refused(tmp_path, run_cli, option, how):
    path = tmp_path / "compose.yaml"
    path.write_text(FIXABLE)
    target = {"same name": "compose.yaml", "symlink": "report.txt", "hard link": "report.txt",
              "in a folder scan": "compose.yaml"}[how]
    if how == "symlink":
        (tmp_path / "report.txt").symlink_to("compose.yaml")
    if how == "hard link":
        os.link(path, tmp_path / "report.txt")
    run = run_cli("check", option, target, "." if how == "in a folder scan" else "compose.yaml", cwd=tmp_path)
    no_traceback(run)
    assert run.returncode == 2
    assert "refusing to overwrite it with a report" in run.stderr
    assert path.read_text() == FIXABLE


def test_fix_output_that_is_an_input_is_refused(tmp_path, run_cli):
    path = tmp_path / "compose.yaml"
    path.write_text(FIXABLE)
    run = run_cli("fix", "-o", "compose.yaml", "compose.yaml", cwd=tmp_path)
    assert run.returncode == 2 and "refusing" in run.stderr
    assert path.read_text() == FIXABLE


@pytest.mark.parametrize("how", ["--file twice", "override is a symlink to the base", "named twice via a link"])
def test_the_same_file_twice_is_read_once(tmp_path, run_cli, how):
    path = tmp_path / "compose.yaml"
    path.write_text(FIXABLE)
    if how == "--file twice":
        args = ["--file", "compose.yaml", "--file", "compose.yaml"]
    elif how == "override is a symlink to the base":
        (tmp_path / "compose.override.yaml").symlink_to("compose.yaml")
        args = ["."]
    else:
        (tmp_path / "again.yaml").symlink_to("compose.yaml")
        args = ["compose.yaml", "again.yaml"]
    alone = run_cli("check", "--format", "json", "compose.yaml", cwd=tmp_path)
    run = run_cli("check", "--format", "json", *args, cwd=tmp_path)
    assert run.returncode == 1, run.stderr
    results = json.loads(run.stdout)
    expected = json.loads(alone.stdout)
    assert {os.path.normpath(f["file"]) for f in results["findings"]} == {"compose.yaml"}
    assert len(results["findings"]) == len(expected["findings"]) > 0
    fixed = run_cli("fix", *args, cwd=tmp_path)
    assert fixed.returncode == 1, fixed.stderr
    assert fixed.stderr.count("Fixed ") == 1
    assert "max-size" in path.read_text()
    assert run_cli("check", "--select", "LOG001,RES001,RST001", *args, cwd=tmp_path).returncode == 0


def _acl(uid: int) -> bytes:
    """A POSIX access ACL as Linux stores it in system.posix_acl_access: user::rw- user:uid:r--
    group::r-- mask::r-- other::r--."""
    entries = [(0x01, 6, 0xFFFFFFFF), (0x02, 4, uid), (0x04, 4, 0xFFFFFFFF), (0x10, 4, 0xFFFFFFFF),
               (0x20, 4, 0xFFFFFFFF)]
    return struct.pack("<I", 2) + b"".join(struct.pack("<HHI", *e) for e in entries)


def test_fix_keeps_xattrs_acls_owner_and_mode(tmp_path, run_cli):
    path = tmp_path / "compose.yaml"
    path.write_text(FIXABLE)
    path.chmod(0o640)
    try:
        os.setxattr(path, "user.origin", b"vendor")
    except OSError as exc:
        pytest.skip(f"no user xattrs on this file system: {exc}")
    acl = True
    try:
        os.setxattr(path, "system.posix_acl_access", _acl(4321))
    except OSError:
        acl = False  # a file system without ACLs: the user xattr still tells
    if os.geteuid() == 0:
        os.chown(path, 4321, 4322)
    before = path.stat()
    run = run_cli("fix", "compose.yaml", cwd=tmp_path)
    assert run.returncode == 1, run.stderr
    assert "max-size" in path.read_text()
    after = path.stat()
    assert os.getxattr(path, "user.origin") == b"vendor"
    if acl:
        assert os.getxattr(path, "system.posix_acl_access") == _acl(4321)
    assert (after.st_uid, after.st_gid, after.st_mode) == (before.st_uid, before.st_gid, before.st_mode)


def test_hard_linked_file_is_written_in_place(tmp_path, run_cli):
    path = tmp_path / "compose.yaml"
    path.write_text(FIXABLE)
    other = tmp_path / "deploy.yml"
    os.link(path, other)
    inode = path.stat().st_ino
    run = run_cli("fix", "compose.yaml", cwd=tmp_path)
    assert run.returncode == 1, run.stderr
    assert path.stat().st_ino == inode and path.stat().st_nlink == 2
    assert other.read_text() == path.read_text() != FIXABLE  # both names see the fixed text


def test_symlink_out_of_the_scanned_tree_is_not_written(tmp_path, run_cli):
    outside = tmp_path / "elsewhere" / "target.yaml"
    outside.parent.mkdir()
    outside.write_text(FIXABLE)
    project = tmp_path / "project"
    project.mkdir()
    (project / "compose.yaml").symlink_to(outside)
    for args in (["fix", "."], ["fix", "compose.yaml"]):
        run = run_cli(*args, cwd=project)
        no_traceback(run)
        assert outside.read_text() == FIXABLE
        assert "compose.yaml: note: a symlink to" in run.stderr and "not written" in run.stderr
        assert "Fixed" not in run.stderr
    inside = project / "real" / "compose.yml"
    inside.parent.mkdir()
    inside.write_text(FIXABLE)
    (project / "compose.yaml").unlink()
    (project / "compose.yaml").symlink_to(Path("real") / "compose.yml")
    assert run_cli("fix", "compose.yaml", cwd=project).returncode == 1
    assert inside.read_text() != FIXABLE  # a link inside the tree is written (its target)
