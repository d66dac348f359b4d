"""The real process: `python -m hardener` and the installed `hardener` script exit 0, 1 and 2 as
documented and read standard input from a real pipe; and conftest's in-process `run_cli`, which most
CLI tests use, gives the same stdout, stderr and exit code as the process for the same commands."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import cli_env, run_cli, run_cli_subprocess, y

DIRTY = y("services:", "  web:", "    image: myorg/web", "    restart: always")
CLEAN_CHECK = ("check", "--isolated", "--select", "RST001")


def _files(tmp_path: Path) -> Path:
    (tmp_path / "dirty.yaml").write_text(DIRTY, encoding="utf-8")
    (tmp_path / "clean.yaml").write_text(y("services:", "  web:", "    image: myorg/web",
                                           "    restart: on-failure:5"), encoding="utf-8")
    (tmp_path / "broken.yaml").write_text("services:\n  web: [\n", encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize("name, code", [("clean.yaml", 0), ("dirty.yaml", 1), ("broken.yaml", 2),
                                        ("missing.yaml", 2)])
def test_module_exit_codes(tmp_path, name, code):
    proc = run_cli_subprocess(*CLEAN_CHECK, name, cwd=_files(tmp_path))
    assert proc.returncode == code, proc.stderr
    assert "Traceback" not in proc.stderr


def test_installed_script_exit_code_and_pipe(tmp_path):
    script = shutil.which("hardener", path=os.path.dirname(sys.executable))
    if script is None:
        pytest.skip(f"no `hardener` script beside {sys.executable} (install the project: pip install -e .)")
    _files(tmp_path)
    proc = subprocess.run([script, *CLEAN_CHECK, "dirty.yaml"], cwd=tmp_path, env=cli_env(), capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 1 and "RST001" in proc.stdout, proc.stderr
    # `fix -` with standard input as a real pipe: the fixed text on stdout, exit 1 (fixes applied)
    proc = subprocess.run([script, "fix", "--isolated", "--select", "RST001", "--unsafe-fixes", "-"], cwd=tmp_path,
                          env=cli_env(), input=DIRTY, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout == DIRTY.replace("restart: always", "restart: on-failure:5")


@pytest.mark.parametrize("args, stdin", [
    (("check", "--isolated", "dirty.yaml", "clean.yaml"), None),
    (("check", "--isolated", "--format", "json", "dirty.yaml", "broken.yaml"), None),
    (("fix", "--isolated", "--diff", "--unsafe-fixes", "dirty.yaml"), None),
    (("fix", "--isolated", "--unsafe-fixes", "-"), DIRTY.replace("\n", "\r\n")),
    (("check", "--isolated", "--select", "NOPE999", "dirty.yaml"), None),
    (("explain", "RST001"), None),
    (("--version",), None),
], ids=["check", "json-with-error", "diff", "stdin-crlf", "bad-option", "explain", "version"])
def test_in_process_run_matches_the_process(tmp_path, args, stdin):
    folder = _files(tmp_path)
    inside = run_cli(*args, cwd=folder, input=stdin)
    outside = run_cli_subprocess(*args, cwd=folder, input=stdin)
    assert (inside.returncode, inside.stdout, inside.stderr) == (outside.returncode, outside.stdout, outside.stderr)
