"""The pre-commit hooks in .pre-commit-hooks.yaml, run by the real pre-commit through `try-repo`.

`pre-commit try-repo PATH` clones PATH at HEAD and adds the *tracked* files' uncommitted changes, but not
untracked files. So that the test sees exactly this working tree (committed or not, and whatever other
work is in progress in it), it copies the tree's tracked and untracked, non-ignored files into a fresh
git repository, commits that snapshot, and points try-repo at it.

pre-commit comes from the environment when it is installed; otherwise it is installed into a temporary
virtual environment from the package index. The test is skipped, saying why, when neither works.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from hardener.discovery import is_compose_name

REPO = Path(__file__).resolve().parents[1]
HOOKS = REPO / ".pre-commit-hooks.yaml"

COMPOSE = """\
# a small stack
services:
  web:
    image: nginx:1.27
    volumes:
      - ./nginx.conf:/etc/nginx/nginx.conf   # read only
"""


def _git(*args, cwd):
    env = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.invalid", GIT_COMMITTER_NAME="t",
               GIT_COMMITTER_EMAIL="t@example.invalid", GIT_CONFIG_NOSYSTEM="1", HOME=str(cwd))
    return subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, timeout=120)


def _hook_regexes() -> dict[str, str]:
    from ruamel.yaml import YAML

    hooks = YAML(typ="safe").load(HOOKS.read_text())
    return {h["id"]: h["files"] for h in hooks}


@pytest.fixture(scope="module")
def pre_commit(tmp_path_factory) -> list[str]:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    found = shutil.which("pre-commit")
    if found:
        return [found]
    probe = subprocess.run([sys.executable, "-c", "import pre_commit"], capture_output=True)
    if probe.returncode == 0:
        return [sys.executable, "-m", "pre_commit"]
    venv = tmp_path_factory.mktemp("pre-commit-venv")
    try:
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True, timeout=300)
        python = venv / "bin" / "python"
        proc = subprocess.run([str(python), "-m", "pip", "install", "-q", "pre-commit"], capture_output=True,
                              timeout=600)
    except (subprocess.SubprocessError, OSError) as exc:
        pytest.skip(f"pre-commit is not installed and could not be installed: {exc}")
    if proc.returncode != 0:
        pytest.skip("pre-commit is not installed and `pip install pre-commit` failed: "
                    + proc.stderr.decode("utf-8", "replace")[-500:])
    return [str(python), "-m", "pre_commit"]


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory) -> Path:
    """This working tree (tracked and untracked files, minus ignored ones) as a one-commit repository."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO,
                            capture_output=True, timeout=60)
    if listed.returncode != 0:
        pytest.skip("the source tree is not a git checkout")
    dest = tmp_path_factory.mktemp("hardener-snapshot")
    for name in sorted(set(listed.stdout.decode().split("\0")) - {""}):
        src = REPO / name
        if src.is_file() and not name.startswith("tests/"):
            target = dest / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, target)
    _git("init", "-q", cwd=dest)
    _git("add", "-A", cwd=dest)
    _git("commit", "-q", "-m", "snapshot", cwd=dest)
    return dest


def _project(tmp_path: Path) -> Path:
    project = tmp_path / "project"
    (project / "deploy").mkdir(parents=True)
    (project / "deploy" / "compose.yaml").write_text(COMPOSE)
    (project / "notes.yaml").write_text("not: a compose file\n")
    _git("init", "-q", cwd=project)
    _git("add", "-A", cwd=project)
    _git("commit", "-q", "-m", "init", cwd=project)
    return project


def _try_repo(pre_commit, snapshot: Path, hook: str, project: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, PRE_COMMIT_HOME=str(project.parent / "pre-commit-home"), NO_COLOR="1",
               PRE_COMMIT_COLOR="never", HOME=str(project.parent), GIT_AUTHOR_NAME="t",
               GIT_AUTHOR_EMAIL="t@example.invalid", GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.invalid")
    env.pop("PYTHONPATH", None)
    proc = subprocess.run([*pre_commit, "try-repo", str(snapshot), hook, "--all-files"], cwd=project, env=env,
                          capture_output=True, timeout=900)
    return subprocess.CompletedProcess(proc.args, proc.returncode, proc.stdout.decode("utf-8", "replace"),
                                       proc.stderr.decode("utf-8", "replace"))


def test_hook_file_regex_matches_compose_names():
    regexes = _hook_regexes()
    assert set(regexes) == {"hardener", "hardener-fix"}
    names = ["compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.prod.yaml", "Compose.YAML",
             "compose.override.yml", "app.compose.yaml", "stack.docker-compose.yml",
             "values.yaml", "composer.yaml", "compose.json", "docker-compose.yml.bak", "my-compose.yaml",
             "docker-stack.yml", "docker-stack.prod.yaml", "app.compose.yml"]
    for regex in regexes.values():
        for name in names:
            for path in (name, f"deploy/{name}"):
                assert bool(re.search(regex, path)) == is_compose_name(name), (regex, path)
        assert not re.search(regex, "compose.yaml/other.txt")


@pytest.mark.slow
@pytest.mark.network
def test_manifest_is_valid(pre_commit):
    proc = subprocess.run([*pre_commit, "validate-manifest", str(HOOKS)], capture_output=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.slow
@pytest.mark.network
def test_fix_hook_rewrites_then_passes(pre_commit, snapshot, tmp_path):
    from hardener import harden

    project = _project(tmp_path)
    target = project / "deploy" / "compose.yaml"
    first = _try_repo(pre_commit, snapshot, "hardener-fix", project)
    assert first.returncode == 1, first.stdout + first.stderr
    assert "files were modified by this hook" in first.stdout, first.stdout
    expected = harden(COMPOSE)[2]
    assert expected != COMPOSE and target.read_text() == expected
    assert (project / "notes.yaml").read_text() == "not: a compose file\n"
    second = _try_repo(pre_commit, snapshot, "hardener-fix", project)
    assert second.returncode == 0, second.stdout + second.stderr
    assert target.read_text() == expected
    check = _try_repo(pre_commit, snapshot, "hardener", project)
    # the check hook still fails on what only --unsafe-fixes (or a person) can fix, and names it
    assert check.returncode == 1 and "deploy/compose.yaml" in check.stdout, check.stdout + check.stderr
