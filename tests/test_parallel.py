"""Folder scans on several cores: the pool gives the same reports, diffs and written files as one
process, in the same order, and it is used only when asked or when the input is big enough."""
from __future__ import annotations

import os
import shutil
import time

import pytest

from hardener import parallel

pytestmark = pytest.mark.skipif(not parallel.can_fork(), reason="the process pool needs fork (Linux)")


@pytest.fixture(scope="module")
def many_files(corpus_dir, tmp_path_factory):
    """60 real compose files (every fourth of the sorted corpus), with their original names."""
    folder = tmp_path_factory.mktemp("many")
    for path in sorted(corpus_dir.iterdir())[::4][:60]:
        shutil.copyfile(path, folder / path.name)
    return folder


def _names(folder):
    return sorted(str(p) for p in folder.iterdir())


@pytest.mark.parametrize("command", [
    ["check"],
    ["check", "--format", "json"],
    ["check", "--format", "sarif"],
    ["check", "--format", "suggestions"],
    ["fix", "--diff", "--unsafe-fixes"],
    ["fix", "--diff", "--format", "markdown"],
])
def test_pool_reports_exactly_what_one_process_reports(run_cli, many_files, command):
    files = _names(many_files)
    one = run_cli(*command, "--jobs", "1", *files, timeout=120)
    two = run_cli(*command, "--jobs", "2", *files, timeout=120)
    assert one.returncode == two.returncode == 1
    assert len(one.stdout) > 1000
    assert two.stdout == one.stdout
    assert two.stderr == one.stderr


def test_report_parts_made_by_the_helpers_read_as_the_report_made_at_the_end(run_cli, many_files, tmp_path):
    """check's grouped text report is made file by file in the helpers; with --baseline (a baseline that
    records nothing) the whole report is made at the end, as before: the two read the same, coloured too."""
    files = _names(many_files)
    (tmp_path / "clean.yaml").write_text("services:\n  app:\n    image: scratch\n    read_only: true\n")
    empty = tmp_path / "empty.json"
    run_cli("check", "--select", "LOG001", "--write-baseline", str(empty), str(tmp_path / "clean.yaml"))
    assert empty.is_file()
    for env in ({}, {"FORCE_COLOR": "1", "NO_COLOR": ""}):
        made_in_helpers = run_cli("check", "--jobs", "2", *files, timeout=120, env=env)
        made_at_the_end = run_cli("check", "--jobs", "2", "--baseline", str(empty), *files, timeout=120, env=env)
        assert made_in_helpers.returncode == made_at_the_end.returncode == 1
        assert len(made_in_helpers.stdout) > 1000
        assert made_in_helpers.stdout == made_at_the_end.stdout


def test_pool_writes_the_same_files(run_cli, many_files, tmp_path):
    serial, pooled = tmp_path / "serial", tmp_path / "pooled"
    shutil.copytree(many_files, serial)
    shutil.copytree(many_files, pooled)
    assert run_cli("fix", "--unsafe-fixes", "-j", "1", *_names(serial), timeout=120).returncode == 1
    result = run_cli("fix", "--unsafe-fixes", "-j", "2", *_names(pooled), timeout=120)
    assert result.returncode == 1
    changed = 0
    for path in serial.iterdir():
        assert (pooled / path.name).read_bytes() == path.read_bytes(), path.name
        changed += path.read_bytes() != (many_files / path.name).read_bytes()
    assert changed > 40
    assert not [p for p in pooled.iterdir() if p.name.startswith(".")]  # no temp files left


def test_jobs_from_the_environment(run_cli, many_files):
    files = _names(many_files)
    env_run = run_cli("check", *files, env={"HARDENER_JOBS": "2"}, timeout=120)
    assert env_run.stdout == run_cli("check", "-j", "1", *files, timeout=120).stdout


def test_a_bad_file_among_many_is_reported_and_the_others_are_processed(run_cli, many_files, tmp_path):
    folder = tmp_path / "mixed"
    shutil.copytree(many_files, folder)
    (folder / "broken.yaml").write_text("services:\n  web: [\n")
    result = run_cli("check", "-j", "2", *_names(folder), timeout=120)
    assert result.returncode == 2
    assert "broken.yaml:3:1:" in result.stderr
    assert result.stdout.count(": ") > 100


def test_a_bad_configuration_stops_before_any_worker(run_cli, many_files, tmp_path):
    folder = tmp_path / "configured"
    shutil.copytree(many_files, folder)
    (folder / ".hardener.yaml").write_text("select: [NOPE999]\n")
    result = run_cli("check", "-j", "2", *_names(folder), timeout=120)
    assert result.returncode == 2
    assert result.stderr.count("NOPE999") == 1  # reported once, by the parent


def _slow_pid(index):
    time.sleep(0.02)  # long enough that every process gets a share
    return index, os.getpid()


def test_work_is_shared_with_a_helper_process_and_every_index_comes_back_once():
    sizes = [1, 50, 3, 20, 8, 2, 9, 4]
    pairs = list(parallel.run_all(_slow_pid, sizes, workers=2))
    assert sorted(index for index, _ in pairs) == list(range(len(sizes)))
    assert all(value[0] == index for index, value in pairs)
    assert len({pid for _, (_, pid) in pairs}) == 2  # the parent and one helper
    assert os.getpid() in {pid for _, (_, pid) in pairs}


def test_more_projects_than_tokens_in_the_queue():
    count = 3 * parallel._MAX_TOKENS + 5  # each token stands for several projects
    pairs = list(parallel.run_all(lambda i: i * 2, [1] * count, workers=3))
    assert sorted(pairs) == [(i, 2 * i) for i in range(count)]


def _fails_on_three(index):
    if index == 3:
        raise ValueError("boom")
    time.sleep(0.01)
    return index


def test_an_error_in_any_process_reaches_the_caller_and_no_helper_is_left():
    with pytest.raises(ValueError, match="boom"):
        list(parallel.run_all(_fails_on_three, [1] * 12, workers=2))
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)  # no child of this process is left running or unreaped


def _big_or_dying(index):
    """Results bigger than a pipe holds (several reads make one message); the helper that takes
    project 5 dies after it has sent what it did before."""
    if index == 5 and os.getpid() != PARENT:
        os.kill(os.getpid(), 9)
    time.sleep(0.01)
    return str(index) * (300_000 if index % 3 == 0 else 10)


PARENT = os.getpid()


def test_results_are_streamed_whole_and_a_dead_helpers_share_is_done_here():
    problems = []
    pairs = dict(parallel.run_all(_big_or_dying, [1] * 16, workers=2, problems=problems))
    assert pairs == {i: str(i) * (300_000 if i % 3 == 0 else 10) for i in range(16)}
    assert problems in ([], ["a helper process was killed by signal 9: its projects were checked again in "
                             "the main process"])  # [] when the parent took project 5 itself
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)


def test_results_travel_unchanged_by_constructor_or_as_usual():
    """What a helper sends equals what it computed: frozen dataclasses with slots (Finding, Fix) go as
    constructor calls, the rest as pickle does it (a dataclass whose __init__ leaves a field out,
    enums, Edit with its own __reduce__)."""
    import dataclasses
    import pickle

    from hardener.model import Applicability, Confidence, FileResult, Finding, Fix, Severity, Status
    from hardener.yamltext import Edit

    fix = Fix(Applicability.UNSAFE, (Edit(3, 5, "x: 1\n", (("services", "a"),)),), "set x", ("a", "b"))
    finding = Finding("CAP001", "cap-drop-all", Severity.HIGH, Confidence.MEDIUM, ("A1",), "m", 3, 5,
                      service="a", key_path=("services", "a"), fix=fix, file="c.yaml", missing=True)
    result = FileResult("c.yaml", Status.FINDINGS, findings=(finding, finding), original="a: 1\n", notes=("n",))
    assert parallel._REDUCERS[Finding](finding)[0] is Finding  # sent as a constructor call
    assert pickle.loads(parallel._dumps(result)) == result

    @dataclasses.dataclass(frozen=True)
    class Derived:
        a: int
        b: int = dataclasses.field(init=False, default=0)

    assert parallel._by_constructor(Derived) is None  # its __init__ cannot set b: pickled as usual

    @dataclasses.dataclass(frozen=True, kw_only=True)
    class ByKeyword:
        a: int

    assert parallel._by_constructor(ByKeyword) is None  # cannot be called with a by position


@pytest.mark.parametrize("requested, sizes, expected", [
    (0, [10_000] * 40, min(parallel.cores(), 40)),  # big enough: one per core
    (0, [100] * 40, 1),  # 4 KB in all: a pool would cost more than it saves
    (0, [100_000] * 3, 1),  # too few projects
    (3, [1, 1], 2),  # asked for: never more workers than projects
    (1, [100_000] * 40, 1),
    (0, [], 1),
])
def test_workers_for(requested, sizes, expected):
    assert parallel.workers_for(requested, sizes) == expected


def test_ctrl_c_during_a_pooled_scan_stops_every_process(many_files, tmp_path):
    """SIGINT reaches the parent (helpers ignore it); the parent stops its helpers and exits 130 with
    no traceback, and no process of the run is left behind."""
    import signal
    import subprocess
    import sys

    from conftest import cli_env

    folder = tmp_path / "big"
    folder.mkdir()
    for copy in range(30):  # enough work (~2 s) that the signal lands mid-scan
        for path in many_files.iterdir():
            shutil.copyfile(path, folder / f"{copy}-{path.name}")
    names = sorted(p.name for p in folder.iterdir())
    proc = subprocess.Popen([sys.executable, "-m", "hardener", "check", "-j", "2", *names], cwd=folder,
                            env=cli_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    time.sleep(0.8)  # past the imports and the fork: the helpers are running
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode in (130, -signal.SIGINT), (proc.returncode, stderr[-2000:])
    assert b"Traceback" not in stderr
    time.sleep(0.2)
    with pytest.raises(ProcessLookupError):
        os.killpg(proc.pid, 0)  # nobody left in the run's process group
