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

from conftest import cli_env, y

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
    assert "Fixed" not in run.stderr and "fixed " not in run.stdout  # the summary claims no fix
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
    assert run_cli("check", "--select", "LOG001,RST001", *args, cwd=tmp_path).returncode == 0


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
        assert "Fixed" not in run.stderr and "fixed " not in run.stdout  # the summary claims no fix
    inside = project / "real" / "compose.yml"
    inside.parent.mkdir()
    inside.write_text(FIXABLE)
    (project / "compose.yaml").unlink()
    (project / "compose.yaml").symlink_to(Path("real") / "compose.yml")
    assert run_cli("fix", "compose.yaml", cwd=project).returncode == 1
    assert inside.read_text() != FIXABLE  # a link inside the tree is written (its target)


# --------------------------------------------------------------------------- no traceback, exit 2, the others still processed

def one_error_line(run, name: str) -> str:
    """The one stderr line naming `name` (file:line:col: message or hardener: error: ...)."""
    no_traceback(run)
    lines = [line for line in run.stderr.splitlines() if name in line]
    assert len(lines) == 1, run.stderr
    return lines[0]


def merge_chain(length: int) -> str:
    lines = ['x0: &a0 {image: "nginx:1.27"}']
    lines += [f"x{i}: &a{i}\n  <<: *a{i - 1}" for i in range(1, length)]
    return "\n".join(lines) + f"\nservices:\n  web:\n    <<: *a{length - 1}\n"


@pytest.mark.parametrize("command", ["check", "fix"])
def test_long_merge_key_chain_is_an_error_and_the_others_go_on(tmp_path, run_cli, command):
    (tmp_path / "chain.yaml").write_text(merge_chain(990))
    (tmp_path / "good.yaml").write_text(FIXABLE)
    run = run_cli(command, "chain.yaml", "good.yaml", cwd=tmp_path)
    assert run.returncode == 2
    assert one_error_line(run, "chain.yaml").startswith("chain.yaml:1:1: nesting too deep")
    assert (tmp_path / "chain.yaml").read_text() == merge_chain(990)
    assert ("good.yaml" in run.stdout) if command == "check" else ("Fixed good.yaml" in run.stderr)


@pytest.mark.parametrize("content", ['{"findings":[5]}', "[{}]", '{"findings":[{}]}', '{"findings":[{"rule_id":1,"file":"x"}]}',
                                     "[" * 100000 + "]" * 100000])
@pytest.mark.parametrize("command", ["check", "fix"])
def test_malformed_baseline_is_one_line(tmp_path, run_cli, content, command):
    (tmp_path / "compose.yaml").write_text(FIXABLE)
    (tmp_path / "b.json").write_text(content)
    run = run_cli(command, "--baseline", "b.json", "compose.yaml", cwd=tmp_path)
    assert run.returncode == 2
    assert one_error_line(run, "b.json").startswith("hardener: error: b.json: cannot read baseline")
    assert (tmp_path / "compose.yaml").read_text() == FIXABLE


def test_write_baseline_into_a_missing_folder_creates_it_and_says_so(tmp_path, run_cli):
    (tmp_path / "compose.yaml").write_text(FIXABLE)
    run = run_cli("check", "--write-baseline", "ci/new/b.json", "compose.yaml", cwd=tmp_path)
    no_traceback(run)
    assert run.returncode == 0, run.stderr
    data = json.loads((tmp_path / "ci" / "new" / "b.json").read_text())
    assert f"Wrote {len(data['findings'])} findings of 1 file to the baseline ci/new/b.json" in run.stderr
    assert run_cli("check", "--baseline", "ci/new/b.json", "compose.yaml", cwd=tmp_path).returncode == 0


def test_write_baseline_onto_a_folder_is_one_line(tmp_path, run_cli):
    (tmp_path / "compose.yaml").write_text(FIXABLE)
    (tmp_path / "b.json").mkdir()
    run = run_cli("check", "--write-baseline", "b.json", "compose.yaml", cwd=tmp_path)
    assert run.returncode == 2
    assert one_error_line(run, "b.json").startswith("hardener: error: b.json: cannot write the baseline")


@pytest.mark.parametrize("content, message", [
    ("tool = 5\n", "tool: expected a table"),
    ('[tool]\nhardener = "x"\n', "expected a table of settings"),
    ("[tool.hardener.options.RES002]\npids = 1e400\n", "options.RES002.pids: expected a positive whole number"),
    ("[tool.hardener.options.RES001]\ncpus = 1e400\n", "expected str"),
    ("[tool.hardener]\nselect = [1e400]\n", "select: expected a list"),
])
def test_broken_pyproject_is_one_line(tmp_path, run_cli, content, message):
    (tmp_path / "pyproject.toml").write_text(content)
    (tmp_path / "compose.yaml").write_text(FIXABLE)
    run = run_cli("check", "compose.yaml", cwd=tmp_path)
    assert run.returncode == 2
    line = one_error_line(run, "pyproject.toml")
    assert line.startswith("hardener: error: ") and message in line, line


@pytest.mark.parametrize("option, content", [
    ("--daemon-config", '{"hosts": 5}'),
    ("--docker-version", '{"Server": {"Components": 5}}'),
    ("--docker-version", "[" * 100000 + "]" * 100000),
    ("--daemon-config", "[" * 100000 + "]" * 100000),
])
def test_host_inputs_of_the_wrong_shape(tmp_path, run_cli, option, content):
    (tmp_path / "input.json").write_text(content)
    run = run_cli("host", option, "input.json", cwd=tmp_path)
    no_traceback(run)
    assert run.returncode in (0, 1, 2)
    if content.startswith("["):
        assert run.returncode == 2 and "input.json:1:1: " in run.stderr


@pytest.mark.parametrize("option", ["--daemon-config", "--docker-version"])
def test_host_reads_dev_zero_to_a_cap(tmp_path, run_cli, option):
    run = run_cli("host", option, "/dev/zero", cwd=tmp_path, timeout=30)
    assert run.returncode == 2
    assert one_error_line(run, "/dev/zero").startswith("/dev/zero:1:1: larger than")


@pytest.mark.parametrize("kernel", ["garbage", "", "6", "x6.1.0"])
def test_host_rejects_a_kernel_that_is_no_release(run_cli, kernel):
    run = run_cli("host", "--kernel", kernel)
    assert run.returncode == 2
    assert one_error_line(run, "--kernel").startswith("hardener: error: --kernel")


def test_folder_tree_1000_levels_deep(tmp_path, run_cli):
    here = os.open(tmp_path, os.O_RDONLY)
    for _ in range(1000):  # os.makedirs recurses: one level at a time, each relative to the last
        os.mkdir("d" if _ else "deep", dir_fd=here)
        here, parent = os.open("d" if _ else "deep", os.O_RDONLY, dir_fd=here), here
        os.close(parent)
    fd = os.open("compose.yaml", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=here)
    os.write(fd, FIXABLE.encode())
    os.close(fd)
    os.close(here)
    try:
        run = run_cli("check", "--format", "json", "deep", cwd=tmp_path)
    finally:  # Python's rmtree (and so pytest's clean-up) recurses; rm walks any depth
        subprocess.run(["rm", "-rf", str(tmp_path / "deep")], check=False, timeout=60)
    no_traceback(run)
    assert run.returncode == 1
    assert len({f["file"] for f in json.loads(run.stdout)["findings"]}) == 1


@pytest.mark.parametrize("args", [["check", "compose.yaml"], ["check", "--format", "json", "compose.yaml"],
                                  ["fix", "-", "<"], ["rules"], ["explain", "CAP001"]])
def test_stdout_on_a_full_device(tmp_path, args):
    (tmp_path / "compose.yaml").write_text(FIXABLE)
    stdin = open(tmp_path / "compose.yaml", "rb") if "<" in args else subprocess.DEVNULL
    args = [a for a in args if a != "<"]
    with open("/dev/full", "wb") as full:
        proc = subprocess.run([sys.executable, "-m", "hardener", *args], cwd=tmp_path, stdin=stdin, stdout=full,
                              stderr=subprocess.PIPE, env=cli_env(), timeout=60)
    stderr = proc.stderr.decode()
    assert proc.returncode == 2, stderr
    assert "Traceback" not in stderr and "Exception ignored" not in stderr, stderr
    assert stderr.strip().splitlines()[-1] == "hardener: error: cannot write the output: No space left on device"


def many_projects(folder: Path, count: int = 24) -> None:
    for i in range(count):
        (folder / f"p{i:02}").mkdir()
        (folder / f"p{i:02}" / "compose.yaml").write_text(FIXABLE + "    # " + "x" * 4000 + "\n")


FORK_FAILS = """
import os
def fork():
    raise OSError(11, "Resource temporarily unavailable")
os.fork = fork
"""

HELPER_KILLED = """
import os, signal
import hardener.engine as engine
parent, real = os.getpid(), engine.process_project
def process_project(*args, **kwargs):
    if os.getpid() != parent:  # in a helper process: the OOM killer, or someone's kill -9
        os.kill(os.getpid(), signal.SIGKILL)
    return real(*args, **kwargs)
engine.process_project = process_project
"""


@pytest.mark.parametrize("setup, message", [(FORK_FAILS, "could not start a helper process"),
                                            (HELPER_KILLED, "a helper process was killed by signal 9")],
                         ids=["fork fails", "helper killed"])
def test_helper_trouble_is_said_and_no_project_is_lost(tmp_path, run_cli, setup, message):
    many_projects(tmp_path)
    expected = json.loads(run_cli("check", "--format", "json", "-j", "1", ".", cwd=tmp_path).stdout)
    run = in_process(["check", "--format", "json", "-j", "2", "."], tmp_path, setup)
    no_traceback(run)
    assert run.returncode == 2
    assert message in run.stderr
    assert len(json.loads(run.stdout)["findings"]) == len(expected["findings"]) > 24


def test_jobs_is_capped(tmp_path, run_cli):
    many_projects(tmp_path, 12)
    run = run_cli("check", "-j", "100000", ".", cwd=tmp_path)
    no_traceback(run)
    assert run.returncode == 1
    from hardener import parallel
    assert parallel.workers_for(100000, [100_000] * 1000) == parallel.MAX_PER_CORE * parallel.cores()


@pytest.mark.parametrize("command", ["check", "fix"])
def test_a_file_that_only_includes_another(tmp_path, run_cli, command):
    (tmp_path / "base.yaml").write_text(FIXABLE)
    (tmp_path / "compose.yaml").write_text("include:\n  - base.yaml\n")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "compose.yaml").write_text(FIXABLE)
    run = run_cli(command, ".", cwd=tmp_path)
    no_traceback(run)
    assert run.returncode == 1, run.stderr
    assert (tmp_path / "compose.yaml").read_text() == "include:\n  - base.yaml\n"
    assert "other/compose.yaml" in run.stdout + run.stderr
    assert (tmp_path / "base.yaml").read_text() == FIXABLE  # an included file is never written


def test_config_that_is_a_fifo_is_refused_without_blocking(tmp_path, run_cli):
    os.mkfifo(tmp_path / "hardener.toml")
    (tmp_path / "compose.yaml").write_text(FIXABLE)
    run = run_cli("check", "--config", "hardener.toml", "compose.yaml", cwd=tmp_path, timeout=20)
    assert run.returncode == 2
    assert one_error_line(run, "hardener.toml").endswith("not a regular file")


CTRL_C = """
import os, signal
import hardener.engine as engine
parent, real = os.getpid(), engine.process_project
def process_project(*args, **kwargs):
    if os.getpid() == parent:  # the user presses Ctrl-C while the main process works
        os.kill(parent, signal.SIGINT)
    return real(*args, **kwargs)
engine.process_project = process_project
real_fork = os.fork
def fork():  # the parent writes down each helper's pid, for the test to see that none outlives the run
    pid = real_fork()
    if pid:
        with open("helpers.txt", "a") as fh:
            fh.write(f"{pid}\\n")
    return pid
os.fork = fork
"""


@pytest.mark.parametrize("jobs", ["1", "2"])
@pytest.mark.parametrize("command", ["check", "fix"])
def test_ctrl_c_exits_130_without_traceback(tmp_path, command, jobs):
    many_projects(tmp_path)
    run = in_process([command, "-j", jobs, "."], tmp_path, CTRL_C)
    no_traceback(run)
    assert run.returncode == 130, run.stderr
    assert "Aborted" not in run.stderr and "Fixed" not in run.stderr
    leftovers = [p for p in tmp_path.rglob(".hardener-*")]
    assert leftovers == []
    helpers = (tmp_path / "helpers.txt").read_text().split() if jobs == "2" else []
    assert len(helpers) == (1 if jobs == "2" else 0)
    for pid in helpers:  # no helper process outlives the run
        with pytest.raises(ProcessLookupError):
            os.kill(int(pid), 0)


# --------------------------------------------------------------------------- wrong output

ODD_BREAKS = y("services:", "  web:", '    image: "myorg/web:1.0"', "    labels:",
               '      a: "x\u2028y\u2029z\u0085w"', "    ports:", '      - "8080:80"')


def test_unicode_line_separators_do_not_shift_lines(tmp_path, run_cli):
    path = tmp_path / "compose.yaml"
    path.write_text(ODD_BREAKS)
    run = run_cli("check", "--format", "json", "--select", "PRT001", "compose.yaml", cwd=tmp_path)
    assert [f["line"] for f in json.loads(run.stdout)["findings"]] == [7]
    diff = run_cli("fix", "--diff", "--unsafe-fixes", "compose.yaml", cwd=tmp_path).stdout
    patched = subprocess.run(["patch", "-o", "-", "compose.yaml"], input=diff.encode(), cwd=tmp_path,
                             capture_output=True, timeout=30)
    assert patched.returncode == 0, patched.stderr
    run_cli("fix", "--unsafe-fixes", "compose.yaml", cwd=tmp_path)
    assert patched.stdout == path.read_bytes() != ODD_BREAKS.encode()


def test_fix_diff_reports_lines_of_the_original_and_would_fix(tmp_path, run_cli):
    text = y("services:", "  web:", '    image: "myorg/web:1.0"', "    ports:", '      - "8080:80"',
             "  db:", '    image: "postgres:16"', "    ports:", '      - "5432:5432"')
    (tmp_path / "compose.yaml").write_text(text)
    check = run_cli("check", "--format", "concise", "compose.yaml", cwd=tmp_path).stdout.splitlines()
    run = run_cli("fix", "--diff", "--format", "concise", "compose.yaml", cwd=tmp_path)
    reported = [line for line in run.stderr.splitlines() if line.startswith("compose.yaml:")]
    assert reported and set(reported) <= set(check)  # the same positions check reports
    assert "compose.yaml:9:9: PRT002" in run.stderr
    assert "would fix " in run.stderr and "; fixed " not in run.stderr
    assert (tmp_path / "compose.yaml").read_text() == text


def test_extend_safe_fixes_count_in_check_as_fix_applies_them(tmp_path, run_cli):
    (tmp_path / "pyproject.toml").write_text('[tool.hardener]\nextend-safe-fixes = ["PRT001"]\n')
    (tmp_path / "compose.yaml").write_text(y("services:", "  web:", '    image: "myorg/web:1.0"', "    ports:",
                                             '      - "8080:80"'))
    check = run_cli("check", "--format", "json", "compose.yaml", cwd=tmp_path)
    prt = [f for f in json.loads(check.stdout)["findings"] if f["rule_id"] == "PRT001"]
    assert [f["fix"] for f in prt] == ["safe"]
    safe = sum(f["fix"] == "safe" for f in json.loads(check.stdout)["findings"])
    diff = run_cli("fix", "--diff", "compose.yaml", cwd=tmp_path)
    assert '127.0.0.1:8080:80' in diff.stdout
    text = run_cli("check", "compose.yaml", cwd=tmp_path).stdout
    assert f"{safe} fixable with `hardener fix`" in text
    assert f"would fix {safe}" in diff.stderr


@pytest.mark.parametrize("setting, value, message", [
    ("RES001", 'memory = "lots"', "expected a byte value"),
    ("RES001", 'memory = "0M"', "expected a byte value"),
    ("RES001", 'cpus = "abc"', "expected a positive number"),
    ("RES001", 'cpus = "-1"', "expected a positive number"),
    ("RES002", "pids = -5", "expected a positive whole number"),
    ("RES002", "pids = 0", "expected a positive whole number"),
    ("PRT001", 'host_ip = "127.0.0.1\\nx"', "expected an IPv4 address"),
    ("PRT001", 'host_ip = "::1"', "expected an IPv4 address"),
    ("PRT001", 'host_ip6 = "127.0.0.1"', "expected an IPv6 address"),
    ("USR001", 'user = "root\\n"', "expected user[:group]"),
    ("LOG001", 'max_size = "big"', "expected a size"),
])
def test_option_values_are_validated(tmp_path, run_cli, setting, value, message):
    (tmp_path / "pyproject.toml").write_text(f"[tool.hardener.options.{setting}]\n{value}\n")
    (tmp_path / "compose.yaml").write_text(FIXABLE)
    run = run_cli("fix", "compose.yaml", cwd=tmp_path)
    assert run.returncode == 2
    line = one_error_line(run, "pyproject.toml")
    assert f"options.{setting}." in line and message in line, line
    assert (tmp_path / "compose.yaml").read_text() == FIXABLE


@pytest.mark.parametrize("setting, value", [("RES001", 'memory = "512M"'), ("RES001", 'cpus = "0.5"'),
                                            ("RES002", "pids = 100"), ("PRT001", 'host_ip = "10.0.0.1"')])
def test_good_option_values_are_used(tmp_path, run_cli, compose_check, setting, value):
    (tmp_path / "pyproject.toml").write_text(f"[tool.hardener.options.{setting}]\n{value}\n")
    (tmp_path / "compose.yaml").write_text(y("services:", "  web:", '    image: "myorg/web:1.0"', "    ports:",
                                             '      - "8080:80"'))
    run = run_cli("fix", "--unsafe-fixes", "compose.yaml", cwd=tmp_path)
    assert run.returncode == 1, run.stderr
    text = (tmp_path / "compose.yaml").read_text()
    assert value.split(" = ")[1].strip('"') in text
    assert compose_check(text)[0] == 0


def test_config_toml_by_extension(tmp_path, run_cli):
    (tmp_path / "compose.yaml").write_text(FIXABLE)
    (tmp_path / "ci.toml").write_text('select = ["LOG001"]\n')
    run = run_cli("check", "--format", "json", "--config", "ci.toml", "compose.yaml", cwd=tmp_path)
    assert run.returncode == 1, run.stderr
    assert {f["rule_id"] for f in json.loads(run.stdout)["findings"]} == {"LOG001"}
    (tmp_path / "tool.toml").write_text('[tool.hardener]\nselect = ["RES002"]\n')
    run = run_cli("check", "--format", "json", "--config", "tool.toml", "compose.yaml", cwd=tmp_path)
    assert {f["rule_id"] for f in json.loads(run.stdout)["findings"]} == {"RES002"}


@pytest.mark.parametrize("comment", ["# hardener: ignroe[CAP001]", "# hardener: ignore-file[CAP001",
                                     "# hardener: ignored"])
def test_misspelled_directive_is_reported(tmp_path, run_cli, comment):
    (tmp_path / "compose.yaml").write_text(y("services:", f"  web:  {comment}", '    image: "myorg/web:1.0"'))
    run = run_cli("check", "--format", "concise", "--select", "CAP001", "compose.yaml", cwd=tmp_path)
    assert run.returncode == 1
    assert "compose.yaml:2:3: CAP001" in run.stdout  # nothing was silenced
    assert f"compose.yaml: note: line 2:9: '{comment}' is not a hardener directive" in run.stderr


@pytest.mark.parametrize("fmt", ["sarif", "github", "markdown", "html", "suggestions"])
def test_statistics_with_a_format_that_has_no_table_is_refused(tmp_path, run_cli, fmt):
    (tmp_path / "compose.yaml").write_text(FIXABLE)
    run = run_cli("check", "--statistics", "--format", fmt, "compose.yaml", cwd=tmp_path)
    assert run.returncode == 2 and run.stdout == ""
    assert one_error_line(run, "--statistics").startswith("hardener: error: --statistics")


def test_python_api_select_string_and_unknown_rules():
    from hardener import harden

    result = harden(FIXABLE, select="CAP001", unsafe_fixes=True)
    assert {f.rule_id for f in result.fixed + result.remaining} == {"CAP001"}
    result = harden(FIXABLE, select="LOG001,RES002")
    assert {f.rule_id for f in result.fixed + result.remaining} == {"LOG001", "RES002"}
    for bad in (dict(select=["NOPE"]), dict(ignore="CAP01x"), dict(select="cap-drop-al")):
        with pytest.raises(ValueError, match="unknown rule"):
            harden(FIXABLE, **bad)


# --------------------------------------------------------------------------- exit codes and summaries

MIXED = y("services:", "  web:", '    image: "myorg/web:1.0"', "    cap_drop: [ALL]", "    read_only: true",
          '    user: "1000:1000"', '    security_opt: ["no-new-privileges:true"]', "    restart: on-failure:3",
          "    deploy:", "      resources:", "        limits:", '          cpus: "0.5"', "          memory: 256M",
          "          pids: 100", "    logging:", "      options:", "        max-size: 10m", '        max-file: "3"',
          "    ports:", '      - "8080:80"')


@pytest.mark.parametrize("where", ["cli", "config"])
def test_fail_on(tmp_path, run_cli, where):
    (tmp_path / "compose.yaml").write_text(MIXED)  # one medium finding (PRT001)
    assert run_cli("check", "compose.yaml", cwd=tmp_path).returncode == 1
    if where == "config":
        (tmp_path / "pyproject.toml").write_text('[tool.hardener]\nfail-on = "high"\n')
        args = []
    else:
        args = ["--fail-on", "high"]
    run = run_cli("check", *args, "compose.yaml", cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "PRT001" in run.stdout  # reported, but not failing
    assert run_cli("check", "--fail-on", "medium", "compose.yaml", cwd=tmp_path).returncode == 1
    fixed = run_cli("fix", *args, "compose.yaml", cwd=tmp_path)  # nothing safe to fix: only the medium one left
    assert fixed.returncode == 0, fixed.stderr
    assert run_cli("check", "--fail-on", "severe", "compose.yaml", cwd=tmp_path).returncode == 2


def test_fail_on_in_configuration_is_validated(tmp_path, run_cli):
    (tmp_path / "pyproject.toml").write_text('[tool.hardener]\nfail-on = "severe"\n')
    (tmp_path / "compose.yaml").write_text(MIXED)
    run = run_cli("check", "compose.yaml", cwd=tmp_path)
    assert run.returncode == 2 and "fail-on: expected one of low, medium, high, critical" in run.stderr


@pytest.mark.parametrize("name", ["docker-stack.yml", "docker-stack.prod.yaml", "app.compose.yml"])
def test_more_compose_names_are_found(tmp_path, run_cli, name):
    (tmp_path / name).write_text(FIXABLE)
    run = run_cli("check", ".", cwd=tmp_path)
    assert run.returncode == 1 and name in run.stdout


def test_clean_run_says_all_checks_passed(tmp_path, run_cli):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "compose.yaml").write_text(MIXED)
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "compose.yaml").write_text(MIXED)
    run = run_cli("check", "--ignore", "PRT001", ".", cwd=tmp_path)
    assert run.returncode == 0
    assert run.stdout == "All checks passed (2 files).\n"


def test_named_compose_yaml_reads_its_override(tmp_path, run_cli):
    (tmp_path / "compose.yaml").write_text(FIXABLE)
    (tmp_path / "compose.override.yaml").write_text(y("services:", "  web:", "    logging:", "      options:",
                                                      "        max-size: 10m", '        max-file: "3"'))
    folder = json.loads(run_cli("check", "--format", "json", ".", cwd=tmp_path).stdout)["findings"]
    named = json.loads(run_cli("check", "--format", "json", "compose.yaml", cwd=tmp_path).stdout)["findings"]
    assert "LOG001" not in {f["rule_id"] for f in named}
    assert sorted((os.path.basename(f["file"]), f["rule_id"]) for f in folder) == \
        sorted((os.path.basename(f["file"]), f["rule_id"]) for f in named)
    alone = json.loads(run_cli("check", "--format", "json", "--no-override", "compose.yaml", cwd=tmp_path).stdout)
    assert "LOG001" in {f["rule_id"] for f in alone["findings"]}


def test_write_baseline_confirms_and_exits_0(tmp_path, run_cli):
    (tmp_path / "compose.yaml").write_text(FIXABLE)
    run = run_cli("check", "--write-baseline", "b.json", "compose.yaml", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    count = len(json.loads((tmp_path / "b.json").read_text())["findings"])
    assert run.stderr.strip() == f"Wrote {count} findings of 1 file to the baseline b.json"


# --------------------------------------------------------------------------- nothing from a file talks to the terminal

CONTROL = "\x1b[2J\x07\r\x9b"


def test_control_characters_from_files_and_paths_are_escaped(tmp_path, run_cli):
    folder = tmp_path / f"evil{CONTROL}dir"
    folder.mkdir()
    (folder / "compose.yaml").write_text(y(f"# {CONTROL}", "include:", f"  - ../missing{CONTROL}.yaml",
                                           "services:", f"  web{CONTROL}x:", '    image: "myorg/web:1.0"'))
    (folder / "bad.yaml").write_text(f"services: [\n{CONTROL}")
    for args in (["check", "."], ["fix", "."], ["fix", "--diff", "."]):
        run = run_cli(*args, cwd=tmp_path)
        out = run.stdout + run.stderr
        assert not any(c in out for c in "\x1b\x07\r\x9b"), (args, out)
        assert "\\x1b" in out
    run = run_cli("check", os.path.join(folder.name, "bad.yaml"), cwd=tmp_path)
    assert run.returncode == 2 and "\x1b" not in run.stderr and "\\x1b" in run.stderr


def test_default_text_report_is_grouped_with_source_and_hints(tmp_path, run_cli):
    text = y("services:", "  web:", '    image: "myorg/web:1.0"', "    ports:", '      - "8080:80"',
             "  db:", '    image: "postgres:16"', "    ports:", '      - "5432:5432"')
    (tmp_path / "compose.yaml").write_text(text)
    run = run_cli("check", "--select", "PRT001,PRT002,LOG001", "compose.yaml", cwd=tmp_path)
    assert run.returncode == 1
    out = run.stdout.splitlines()
    assert out[0] == "compose.yaml"
    assert out.index("  service web:") < out.index("  service db:")
    assert '      9 |       - "5432:5432"' in out and "        |         ^" in out
    assert out.count('      9 |       - "5432:5432"') == 1  # one excerpt under the two findings at 9:9
    assert sum(line.startswith("    9:9 ") for line in out) == 2
    hints = out[out.index("Fix hints:") + 1:]
    assert [h.split()[0] for h in hints if h.startswith("  ")] == ["LOG001", "PRT001", "PRT002"]  # each once
    concise = run_cli("check", "--format", "concise", "--select", "PRT001,PRT002,LOG001", "compose.yaml",
                      cwd=tmp_path).stdout.splitlines()
    assert "compose.yaml:9:9: PRT002" in concise[-2] and len(concise) == 6
