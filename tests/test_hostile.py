"""Hostile inputs through the real command line (`python -m hardener check|fix` in a subprocess).

For every input that hardener cannot work on, the contract is the same: exit code 2, exactly one line
on standard error that names the file (and `line:col` where the position is known), no traceback,
nothing written (bytes, mtime and mode of every entry in the folder are compared, which also catches a
leftover `.hardener-*` temp file), all within a generous time bound and under a 2 GiB address-space
limit set in the child. Inputs with nothing to do exit 0 and stay untouched; inputs with unusual but
valid layout (BOM, CRLF, merge tags, symlinks, file modes) are fixed with that layout kept.

Permission tests need permission bits to be enforced. Under root they are not, so the child drops the
two capabilities that bypass them (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH) from its bounding set before
exec; the tests skip when neither works.
"""
from __future__ import annotations

import ctypes
import functools
import os
import re
import resource
import shutil
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import cli_env

DEADLINE = 15.0  # seconds: a hang guard, not a speed claim (speed lives in bench/)
MEMORY_LIMIT = 2 * 1024 ** 3  # RLIMIT_AS of the child

CHECK = ("check",)
FIX = ("fix", "--unsafe-fixes")
COMMANDS = [pytest.param(CHECK, id="check"), pytest.param(FIX, id="fix")]

_LIBC = ctypes.CDLL(None, use_errno=True)
_PR_CAPBSET_DROP = 24
_CAP_DAC_OVERRIDE, _CAP_DAC_READ_SEARCH = 1, 2


def _child_setup(drop_dac: bool):
    def setup():
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
        if drop_dac and os.geteuid() == 0:
            for cap in (_CAP_DAC_OVERRIDE, _CAP_DAC_READ_SEARCH):
                if _LIBC.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
                    os._exit(97)  # cannot drop: the caller sees 97 and skips
    return setup


class Run:
    def __init__(self, proc: subprocess.CompletedProcess, seconds: float):
        self.returncode = proc.returncode
        self.stdout = proc.stdout.decode("utf-8", "replace")
        self.stderr = proc.stderr.decode("utf-8", "replace")
        self.seconds = seconds

    def __repr__(self):
        return f"<exit {self.returncode} after {self.seconds:.1f}s\nstderr: {self.stderr[-2000:]}\nstdout: {self.stdout[-1000:]}>"


def hardener(*args, cwd: Path, drop_dac: bool = False, stdin: bytes = b"", deadline: float = DEADLINE) -> Run:
    """Run the real entry point with the memory limit; fail the test when it outlives the deadline."""
    start = time.monotonic()
    try:
        proc = subprocess.run([sys.executable, "-m", "hardener", *map(str, args)], cwd=cwd, input=stdin,
                              capture_output=True, env=cli_env(), timeout=deadline,
                              preexec_fn=_child_setup(drop_dac))
    except subprocess.TimeoutExpired:
        pytest.fail(f"hardener {' '.join(map(str, args))} did not finish within {deadline:.0f} s")
    run = Run(proc, time.monotonic() - start)
    if drop_dac and run.returncode == 97:
        pytest.skip("cannot drop CAP_DAC_OVERRIDE in the child: permission bits are not enforced")
    return run


def snapshot(folder: Path) -> dict:
    """Every entry under folder (hidden ones too): kind, bytes, mtime and mode; links are not followed."""
    out = {}
    for root, dirs, files in os.walk(folder):
        for name in sorted(dirs + files):
            p = Path(root, name)
            st = p.lstat()
            if stat.S_ISLNK(st.st_mode):
                out[str(p.relative_to(folder))] = ("link", os.readlink(p))
            elif stat.S_ISDIR(st.st_mode):
                out[str(p.relative_to(folder))] = ("dir", stat.S_IMODE(st.st_mode))
            else:
                out[str(p.relative_to(folder))] = ("file", p.read_bytes(), st.st_mtime_ns, stat.S_IMODE(st.st_mode))
    return out


def temp_files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob(".hardener-*"))


SUMMARY = re.compile(r"Found \d+ findings? in \d+ files?")


def error_line(run: Run, name: str) -> re.Match:
    """The one line on stderr; it must name the file and a position, and there is no traceback. (The
    summary line goes to stderr too when standard output carries the fixed text.)"""
    assert "Traceback" not in run.stderr + run.stdout, run
    lines = [line for line in run.stderr.splitlines() if line.strip() and not SUMMARY.match(line)]
    assert len(lines) == 1, run
    m = re.fullmatch(re.escape(name) + r":(\d+):(\d+): (\S.*)", lines[0])
    assert m, f"error line does not name {name}:line:col: {lines[0]!r}"
    return m


def assert_rejected(run: Run, name: str, where=None, message: str | None = None):
    assert run.returncode == 2, run
    m = error_line(run, name)
    if where is not None:
        line, col = where
        assert int(m[1]) == line, (m[0], where)
        if col is not None:
            assert int(m[2]) == col, (m[0], where)
    if message is not None:
        assert re.search(message, m[3], re.I), m[0]


# --------------------------------------------------------------------------- inputs hardener refuses

def services(n: int) -> bytes:
    """A valid compose file with n services, each with findings and fixes."""
    parts = ["services:\n"]
    for i in range(n):
        parts.append(f"  svc{i}:\n    image: myorg/app{i % 7}:1.{i % 10}  # service {i}\n    ports:\n"
                     f"      - \"{8000 + i % 1000}:80\"\n    volumes:\n      - ./data{i}:/data\n"
                     f"    environment:\n      KEY: value{i}\n")
    return "".join(parts).encode()


@functools.cache
def fifty_megabytes() -> bytes:
    one = services(1)[len(b"services:\n"):]
    count = 50 * 1024 * 1024 // len(one) + 1
    return b"services:\n" + b"".join(one.replace(b"svc0", b"svc%d" % i) for i in range(count))


def alias_bomb(levels: int = 10, width: int = 10) -> bytes:
    lines = ["x-l0: &l0 [" + ", ".join(["lol"] * width) + "]"]
    for i in range(1, levels):
        lines.append(f"x-l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * width) + "]")
    lines += ["services:", "  web:", "    image: myorg/web:1", f"    command: *l{levels - 1}"]
    return ("\n".join(lines) + "\n").encode()


def wide_alias_bomb() -> bytes:
    """One big anchor referenced from thousands of places: no depth, a lot of expansion."""
    lines = ["x-big: &big [" + ", ".join(f"v{i}" for i in range(1000)) + "]", "x-wide:"]
    lines += ["  - *big"] * 5000
    lines += ["services:", "  web:", "    image: myorg/web:1"]
    return ("\n".join(lines) + "\n").encode()


def wrapped_alias_bomb() -> bytes:
    """Like the wide bomb, but each alias sits in its own small list: 5,000,000 nodes once expanded."""
    lines = ["x-big: &big [" + ", ".join(f"v{i}" for i in range(1000)) + "]", "x-wide:"]
    lines += ["  - [*big]"] * 5000
    lines += ["services:", "  web:", "    image: myorg/web:1"]
    return ("\n".join(lines) + "\n").encode()


def merge_bomb(services_count: int = 300) -> bytes:
    """Merge keys nested five levels deep, ten sources per level (~350,000 nodes per use), merged into
    hundreds of services: every lookup of a missing key walks all of it."""
    lines = ["x-m0: &m0 {a0: 1}"]
    for i in range(1, 6):
        lines += [f"x-m{i}: &m{i}", "  <<: [" + ", ".join([f"*m{i - 1}"] * 10) + "]", f"  k{i}: 1"]
    lines.append("services:")
    for s in range(services_count):
        lines += [f"  s{s}:", "    <<: *m5", "    image: myorg/web:1"]
    return ("\n".join(lines) + "\n").encode()


DEPTH = 50_000

REFUSED = [
    # invalid YAML, each with the position libyaml reports
    pytest.param(b"services:\n  web:\n    image: [nginx\n    ports: []\n", (4, 10), "invalid YAML", id="unclosed-flow"),
    pytest.param(b"services:\n  web:\n    image: nginx\n   ports: []\n", (4, 4), "invalid YAML", id="bad-indent"),
    pytest.param(b'services:\n  web:\n    image: "nginx\n', (4, 1), "invalid YAML", id="unclosed-quote"),
    pytest.param(b"services:\n  web:\n    image: nginx: latest\n", (3, 17), "invalid YAML", id="colon-in-plain"),
    pytest.param(b'services:\n  web:\n    image: "\\ud800"\n', (3, 15), "invalid YAML", id="bad-escape"),
    pytest.param(b"services:\n  web:\n    image: a\n---\nservices: {}\n", (4, 1), "more than one", id="two-documents"),
    pytest.param(b"services:\n  web:\n    image: nginx\n    environment: *env\n", (4, 18), "undefined alias",
                 id="undefined-alias"),
    # duplicate keys at every level and in flow style
    pytest.param(b"services:\n  web:\n    image: a\nservices:\n  db:\n    image: b\n", (4, 1), "duplicate key",
                 id="duplicate-top"),
    pytest.param(b"services:\n  web:\n    image: a\n  web:\n    image: b\n", (4, 3), "duplicate key 'web'",
                 id="duplicate-service"),
    pytest.param(b"services:\n  web:\n    image: a\n    environment:\n      A: 1\n      A: 2\n", (6, 7),
                 "duplicate key 'A'", id="duplicate-nested"),
    pytest.param(b"services:\n  web: {image: a, image: b}\n", (2, 19), "duplicate key", id="duplicate-flow"),
    # not text
    pytest.param(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10" + bytes(range(256)) * 4, (1, 1), "binary",
                 id="png"),
    pytest.param(b"services:\n  web:\n    image: ng\x00inx\n", (1, 1), "binary", id="nul-byte"),
    pytest.param("services:\n  web:\n    image: nginx\n".encode("utf-16"), (1, 1), "binary", id="utf-16"),
    # invalid UTF-8, at the offending byte
    pytest.param(b"services:\n  web:\n    image: \xff\xfe\n", (3, 12), "UTF-8", id="utf8-ff"),
    pytest.param("services:\n  web:\n    image: nginx\n    environment:\n      NAME: café\n".encode("latin-1"),
                 (5, 16), "UTF-8", id="latin-1"),
    pytest.param(b"services:\n  web:\n    image: \xc0\xafx\n", (3, 12), "UTF-8", id="utf8-overlong"),
    pytest.param(b"services:\n  web:\n    image: ng\xc3", (3, 14), "UTF-8", id="utf8-truncated"),
    # a root that is not a mapping
    pytest.param(b"- services\n- web\n", (1, 1), "mapping", id="root-list"),
    pytest.param(b"just a string\n", (1, 1), "mapping", id="root-scalar"),
    pytest.param(b"42\n", (1, 1), "mapping", id="root-number"),
    pytest.param(b"[a, b]\n", (1, 1), "mapping", id="root-flow-list"),
    # tabs as indentation
    pytest.param(b"services:\n\tweb:\n\t\timage: nginx\n", (2, 1), "invalid YAML", id="tabs"),
    pytest.param(b"services:\n  web:\n  \timage: nginx\n", (3, 3), "invalid YAML", id="tab-after-spaces"),
    # resource exhaustion
    pytest.param(alias_bomb(10, 10), None, "alias", id="billion-laughs-10x10"),
    pytest.param(alias_bomb(9, 9), None, "alias", id="billion-laughs-9x9"),
    pytest.param(wide_alias_bomb(), None, "alias", id="wide-alias-bomb"),
    pytest.param(b"services: " + b"[" * DEPTH + b"]" * DEPTH + b"\n", (1, None), "nesting", id="deep-flow-seq"),
    pytest.param(b"x: " + b"{a: " * DEPTH + b"1" + b"}" * DEPTH + b"\nservices: {}\n", (1, None), "nesting",
                 id="deep-flow-map"),
    pytest.param(b"services:\n  web:\n    image: x\nx-deep:\n  " + b"- " * DEPTH + b"x\n", (5, None), "nesting",
                 id="deep-block-seq"),
    pytest.param(b"x-deep:\n" + b"".join(b" " * (i + 1) + b"k%d:\n" % i for i in range(2000))
                 + b"services:\n  web:\n    image: x\n", None, "nesting", id="deep-block-map"),
    pytest.param(fifty_megabytes, (1, 1), "larger than", id="50MB", marks=pytest.mark.slow),
    # known bugs: each stays here until the engine is fixed (strict: the mark must come off then)
    # control characters past the first 8 KiB (libyaml's reader error, at its line and column)
    pytest.param(b"services:\n  web:\n    image: nginx\n# " + b"x" * 9000 + b"\n    command: a\x00b\n", (5, 15),
                 "invalid YAML", id="nul-after-8k"),
    pytest.param(b"services:\n  web:\n    image: ng\x07inx\n", (3, 14), "invalid YAML", id="control-char"),
    # aliases: a bomb hidden one level down (each alias in its own list), and cycles
    pytest.param(wrapped_alias_bomb(), None, "alias", id="wrapped-alias-bomb"),
    pytest.param(b"x-a: &a [1, *a]\nservices:\n  web:\n    image: myorg/web:1\n", (1, 13), "alias",
                 id="recursive-alias"),
    pytest.param(b"services:\n  web: &w\n    <<: *w\n    image: myorg/web:1\n", (3, 9), "alias",
                 id="recursive-merge"),
]


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("content, where, message", REFUSED)
def test_refused_input(tmp_path, command, content, where, message):
    data = content() if callable(content) else content
    (tmp_path / "compose.yaml").write_bytes(data)
    before = snapshot(tmp_path)
    run = hardener(*command, "compose.yaml", cwd=tmp_path)
    assert_rejected(run, "compose.yaml", where, message)
    assert snapshot(tmp_path) == before


def test_merge_bomb_is_refused_in_time(tmp_path):
    (tmp_path / "compose.yaml").write_bytes(merge_bomb())
    run = hardener("check", "compose.yaml", cwd=tmp_path, deadline=DEADLINE)
    assert_rejected(run, "compose.yaml", None, "alias")


@pytest.mark.slow
def test_large_file_is_fixed_in_bounded_time(tmp_path):
    """A big but legitimate file (2000 services, ~0.5 MB, far below the 20 MB limit): a hang guard only."""
    (tmp_path / "compose.yaml").write_bytes(services(2000))
    run = hardener("fix", "--diff", "--unsafe-fixes", "compose.yaml", cwd=tmp_path, deadline=30)
    assert run.returncode == 1, run
    assert run.stdout.count("\n+") > 2000


@pytest.mark.parametrize("content, message", [
    pytest.param(b"\x89PNG\r\n\x1a\n\x00\x00", "binary", id="png"),
    pytest.param(b"services:\n  web:\n    image: \xff\n", "UTF-8", id="utf8"),
    pytest.param(alias_bomb(), "alias", id="alias-bomb"),
    pytest.param(b"- a\n", "mapping", id="root-list"),
])
@pytest.mark.parametrize("command", [pytest.param(("check", "-"), id="check"), pytest.param(("fix", "-"), id="fix")])
def test_refused_standard_input(tmp_path, command, content, message):
    run = hardener(*command, cwd=tmp_path, stdin=content)
    assert_rejected(run, "<stdin>", None, message)
    if command[0] == "fix":
        assert run.stdout == ""  # nothing that could be mistaken for the fixed file


@pytest.mark.parametrize("command", COMMANDS)
def test_missing_file(tmp_path, command):
    run = hardener(*command, "nowhere.yaml", cwd=tmp_path)
    assert_rejected(run, "nowhere.yaml", None, "no such file")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", COMMANDS)
def test_device_is_refused(tmp_path, command):
    run = hardener(*command, "/dev/zero", cwd=tmp_path)
    assert_rejected(run, "/dev/zero")


@pytest.mark.parametrize("command", COMMANDS)
def test_unwritable_report_path(tmp_path, command):
    """--output below a regular file cannot be created: one line, exit 2, the compose file untouched."""
    (tmp_path / "compose.yaml").write_bytes(services(1))
    before = snapshot(tmp_path)
    extra = ("--diff",) if command == FIX else ()
    run = hardener(*command, *extra, "compose.yaml", "--output", "compose.yaml/sub/report.txt", cwd=tmp_path)
    assert run.returncode == 2, run
    assert "Traceback" not in run.stderr, run
    lines = [line for line in run.stderr.splitlines() if line.strip() and not SUMMARY.match(line)]
    assert len(lines) == 1 and "compose.yaml/sub/report.txt" in lines[0], run
    assert snapshot(tmp_path) == before


# --------------------------------------------------------------------------- inputs with nothing to do

NOTHING = [
    pytest.param(b"", id="empty"),
    pytest.param(b"# only a comment\n# and another\n", id="comments"),
    pytest.param(b"# no final newline", id="comment-no-newline"),
    pytest.param(b"# crlf comment\r\n\r\n# more\r\n", id="comments-crlf"),
    pytest.param(b"\n\n   \n", id="blank-lines"),
    pytest.param(b"---\n# a document marker and a comment\n", id="document-marker"),
    pytest.param(b"\xef\xbb\xbf", id="bom-only"),
    pytest.param(b"\xef\xbb\xbf# bom and a comment\n", id="bom-comment"),
]


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("content", NOTHING)
def test_nothing_to_do(tmp_path, command, content):
    (tmp_path / "compose.yaml").write_bytes(content)
    before = snapshot(tmp_path)
    run = hardener(*command, "compose.yaml", cwd=tmp_path)
    assert run.returncode == 0, run
    assert run.stderr.strip() == "", run
    assert snapshot(tmp_path) == before


# --------------------------------------------------------------------------- layout and metadata kept

FIXABLE = (b"# front\n"
           b"services:\n"
           b"  web:\n"
           b"    image: myorg/web:1.0  # the app\n"
           b"    ports:\n"
           b"      - \"8080:80\"\n"
           b"    volumes:\n"
           b"      - ./conf:/etc/app\n")


def fixed_alone(tmp_path: Path, data: bytes, name: str = "compose.yaml") -> bytes:
    """What `fix --unsafe-fixes` makes of these bytes in a folder of their own."""
    folder = tmp_path / ".expected"
    folder.mkdir(exist_ok=True)
    (folder / name).write_bytes(data)
    run = hardener(*FIX, name, cwd=folder)
    assert run.returncode in (0, 1), run
    out = (folder / name).read_bytes()
    shutil.rmtree(folder)
    return out


def test_bom_is_kept(tmp_path):
    (tmp_path / "compose.yaml").write_bytes(b"\xef\xbb\xbf" + FIXABLE)
    run = hardener(*FIX, "compose.yaml", cwd=tmp_path)
    assert run.returncode == 1, run
    out = (tmp_path / "compose.yaml").read_bytes()
    assert out != b"\xef\xbb\xbf" + FIXABLE
    assert out.startswith(b"\xef\xbb\xbf# front\n") and out.count(b"\xef\xbb\xbf") == 1
    assert out[3:] == fixed_alone(tmp_path, FIXABLE)


@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"], ids=["plain", "bom"])
def test_crlf_is_kept_on_every_line(tmp_path, bom):
    data = bom + FIXABLE.replace(b"\n", b"\r\n")
    (tmp_path / "compose.yaml").write_bytes(data)
    run = hardener(*FIX, "compose.yaml", cwd=tmp_path)
    assert run.returncode == 1, run
    out = (tmp_path / "compose.yaml").read_bytes()
    assert out != data and out.startswith(bom + b"# front\r\n")
    assert out.count(b"\n") == out.count(b"\r\n") > FIXABLE.count(b"\n")
    assert b"\r\r" not in out
    assert out[len(bom):].replace(b"\r\n", b"\n") == fixed_alone(tmp_path, FIXABLE)


def test_lf_file_gets_no_carriage_return(tmp_path):
    (tmp_path / "compose.yaml").write_bytes(FIXABLE)
    hardener(*FIX, "compose.yaml", cwd=tmp_path)
    out = (tmp_path / "compose.yaml").read_bytes()
    assert out != FIXABLE and b"\r" not in out


MERGE_TAGS = (b"services:\n"
              b"  web:\n"
              b"    image: myorg/web:1.0\n"
              b"    ports: !override\n"
              b"      - \"8080:80\"\n"
              b"    volumes: !reset []\n"
              b"    environment: !reset\n"
              b"  old: !reset\n"
              b"  other: !reset null\n")


def test_reset_and_override_tags_are_kept(tmp_path, compose_check):
    (tmp_path / "compose.yaml").write_bytes(MERGE_TAGS)
    run = hardener(*FIX, "compose.yaml", cwd=tmp_path)
    assert run.returncode in (0, 1), run
    out = (tmp_path / "compose.yaml").read_bytes()
    assert out != MERGE_TAGS  # the web service gets fixes
    out_lines = out.splitlines()
    for line in MERGE_TAGS.splitlines():
        if b"!" in line:
            assert out_lines.count(line) == 1, line
    assert out.count(b"!reset") == 4 and out.count(b"!override") == 1
    old_tail = out[out.index(b"  old: !reset"):]
    assert old_tail == b"  old: !reset\n  other: !reset null\n"  # services that are reset get nothing
    code, _, err = compose_check(MERGE_TAGS)
    if code == 0:
        code_after, _, err_after = compose_check(out)
        assert code_after == 0, err_after


@pytest.mark.parametrize("mode", [0o600, 0o640, 0o664, 0o755])
def test_file_mode_is_kept(tmp_path, mode):
    path = tmp_path / "compose.yaml"
    path.write_bytes(FIXABLE)
    path.chmod(mode)
    run = hardener(*FIX, "compose.yaml", cwd=tmp_path)
    assert run.returncode == 1, run
    assert path.read_bytes() != FIXABLE
    assert stat.S_IMODE(path.stat().st_mode) == mode
    assert temp_files(tmp_path) == []


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can give a file to another owner")
def test_file_owner_is_kept(tmp_path):
    path = tmp_path / "compose.yaml"
    path.write_bytes(FIXABLE)
    os.chown(path, 4321, 4321)
    hardener(*FIX, "compose.yaml", cwd=tmp_path)
    assert path.read_bytes() != FIXABLE
    assert (path.stat().st_uid, path.stat().st_gid) == (4321, 4321)


def test_symlink_stays_a_link_and_its_target_is_fixed(tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    target = real / "target.yml"
    target.write_bytes(FIXABLE)
    target.chmod(0o640)
    link = tmp_path / "compose.yaml"
    link.symlink_to(Path("real") / "target.yml")
    run = hardener(*FIX, "compose.yaml", cwd=tmp_path)
    assert run.returncode == 1, run
    assert link.is_symlink() and os.readlink(link) == os.path.join("real", "target.yml")
    assert target.read_bytes() == fixed_alone(tmp_path, FIXABLE)
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert temp_files(tmp_path) == []


def test_symlink_to_a_bad_file_is_left_alone(tmp_path):
    (tmp_path / "target.yml").write_bytes(b"services: [\n")
    (tmp_path / "compose.yaml").symlink_to("target.yml")
    before = snapshot(tmp_path)
    run = hardener(*FIX, "compose.yaml", cwd=tmp_path)
    assert_rejected(run, "compose.yaml", None, "invalid YAML")
    assert snapshot(tmp_path) == before


# --------------------------------------------------------------------------- one bad file among good ones

def test_one_bad_file_among_good_ones_named(tmp_path):
    good = {"a.yml": FIXABLE, "c.yml": services(3)}
    for name, data in good.items():
        (tmp_path / name).write_bytes(data)
    (tmp_path / "b.yml").write_bytes(b"services:\n  web:\n    image: a\n  web:\n    image: b\n")
    expected = {name: fixed_alone(tmp_path, data) for name, data in good.items()}
    bad_before = (tmp_path / "b.yml").stat().st_mtime_ns
    run = hardener(*FIX, "a.yml", "b.yml", "c.yml", cwd=tmp_path)
    assert run.returncode == 2, run
    assert "Traceback" not in run.stderr
    errors = [line for line in run.stderr.splitlines() if line.startswith("b.yml:")]
    assert errors == ["b.yml:4:3: duplicate key 'web' (first defined on line 2)"], run
    for name, data in expected.items():
        assert (tmp_path / name).read_bytes() == data != good[name]
    assert (tmp_path / "b.yml").stat().st_mtime_ns == bad_before
    assert temp_files(tmp_path) == []


def test_one_bad_file_among_good_ones_in_a_folder(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "compose.yaml").write_bytes(FIXABLE)
    (tmp_path / "sub" / "docker-compose.yml").write_bytes(services(2))
    (tmp_path / "sub" / "compose.yml").write_bytes(b"\x00\x01\x02")
    run = hardener(*FIX, ".", cwd=tmp_path)
    assert run.returncode == 2, run
    errors = [line for line in run.stderr.splitlines() if ":1:1: binary" in line]
    assert len(errors) == 1 and "compose.yml" in errors[0], run
    assert (tmp_path / "compose.yaml").read_bytes() != FIXABLE
    assert (tmp_path / "sub" / "docker-compose.yml").read_bytes() != services(2)
    assert (tmp_path / "sub" / "compose.yml").read_bytes() == b"\x00\x01\x02"


# --------------------------------------------------------------------------- permissions

def test_unreadable_file(tmp_path):
    path = tmp_path / "compose.yaml"
    path.write_bytes(FIXABLE)
    path.chmod(0)
    before = snapshot(tmp_path)
    run = hardener(*FIX, "compose.yaml", cwd=tmp_path, drop_dac=True)
    assert_rejected(run, "compose.yaml", None, "permission denied")
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("command", [
    pytest.param(CHECK, id="check"),
    pytest.param(FIX, id="fix")])
def test_file_in_unsearchable_folder(tmp_path, command):
    locked = tmp_path / "locked"
    locked.mkdir()
    (locked / "compose.yaml").write_bytes(FIXABLE)
    locked.chmod(0o600)  # readable names, but no search (x) permission: nothing inside can be opened
    try:
        run = hardener(*command, "locked/compose.yaml", cwd=tmp_path, drop_dac=True)
    finally:
        locked.chmod(0o755)
    assert_rejected(run, "locked/compose.yaml", None, "permission denied")
    assert (locked / "compose.yaml").read_bytes() == FIXABLE


def test_read_only_file_is_not_rewritten(tmp_path):
    path = tmp_path / "compose.yaml"
    path.write_bytes(FIXABLE)
    path.chmod(0o444)
    before = snapshot(tmp_path)
    run = hardener(*FIX, "compose.yaml", cwd=tmp_path, drop_dac=True)
    assert_rejected(run, "compose.yaml", None, "permission denied|read-only|cannot write")
    assert snapshot(tmp_path) == before


def test_read_only_folder_is_a_write_error(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    (folder / "compose.yaml").write_bytes(FIXABLE)
    (tmp_path / "good.yaml").write_bytes(FIXABLE)
    folder.chmod(0o555)
    before = snapshot(folder)
    try:
        run = hardener(*FIX, "ro/compose.yaml", "good.yaml", cwd=tmp_path, drop_dac=True)
    finally:
        folder.chmod(0o755)
    assert run.returncode == 2, run
    assert "Traceback" not in run.stderr, run
    assert [line for line in run.stderr.splitlines() if line.startswith("ro/compose.yaml:")], run
    assert snapshot(folder) == before
    assert (tmp_path / "good.yaml").read_bytes() != FIXABLE  # the other file is still fixed


@pytest.mark.parametrize("command", COMMANDS)
def test_unreadable_folder_is_an_error(tmp_path, command):
    top = tmp_path / "project"
    (top / "locked").mkdir(parents=True)
    (top / "compose.yaml").write_bytes(FIXABLE)
    (top / "locked" / "compose.yaml").write_bytes(FIXABLE)
    (top / "locked").chmod(0)
    try:
        run = hardener(*command, "project", cwd=tmp_path, drop_dac=True)
    finally:
        (top / "locked").chmod(0o755)
    assert run.returncode == 2, run
    assert "Traceback" not in run.stderr, run
    assert [line for line in run.stderr.splitlines() if "locked" in line], run
    assert (top / "locked" / "compose.yaml").read_bytes() == FIXABLE
    if command == FIX:
        assert (top / "compose.yaml").read_bytes() != FIXABLE  # the readable file is still fixed


# --------------------------------------------------------------------------- Ctrl-C

def _interrupted_fix(folder: Path, names: list[str], delay: float) -> tuple[int, str]:
    """Start `fix` on many files, wait until it reports its first write, then press Ctrl-C (SIGINT)."""
    proc = subprocess.Popen([sys.executable, "-m", "hardener", *FIX, *names], cwd=folder, env=cli_env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, preexec_fn=_child_setup(False))
    try:
        first = proc.stderr.readline()
        time.sleep(delay)
        proc.send_signal(signal.SIGINT)
        rest = proc.stderr.read()
        proc.wait(timeout=DEADLINE)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return proc.returncode, (first + rest).decode("utf-8", "replace")


COPIES = 150


def _many_files(folder: Path) -> list[str]:
    folder.mkdir()
    names = [f"f{i:03}.yml" for i in range(COPIES)]
    for name in names:
        (folder / name).write_bytes(FIXABLE)
    return names


@pytest.mark.parametrize("delay", [0.0, 0.02, 0.1])
def test_ctrl_c_leaves_every_file_whole(tmp_path, delay):
    fixed = fixed_alone(tmp_path, FIXABLE)
    folder = tmp_path / "many"
    names = _many_files(folder)
    code, stderr = _interrupted_fix(folder, names, delay)
    assert "Traceback" not in stderr, stderr
    reported = {line.split(" ", 1)[1] for line in stderr.splitlines() if line.startswith("Fixed ")}
    contents = {name: (folder / name).read_bytes() for name in names}
    assert set(contents.values()) <= {FIXABLE, fixed}  # each file is old or new, never half written
    assert {n for n, data in contents.items() if data == fixed} >= reported  # what it says it wrote is written
    if code == 1:  # finished before the signal arrived
        assert set(contents.values()) == {fixed}
    else:  # 130 from the CLI, or death by the signal itself when it lands during interpreter shutdown
        assert code in (130, -signal.SIGINT), (code, stderr)


def test_ctrl_c_leaves_no_temp_files(tmp_path):
    for trial, delay in enumerate((0.0, 0.005, 0.01, 0.02, 0.03, 0.05)):
        folder = tmp_path / f"trial{trial}"
        names = _many_files(folder)
        _interrupted_fix(folder, names, delay)
        assert temp_files(folder) == [], f"interrupt after {delay} s left {temp_files(folder)}"


def test_completed_runs_leave_no_temp_files(tmp_path):
    (tmp_path / "a.yml").write_bytes(FIXABLE)
    (tmp_path / "b.yml").write_bytes(b"services: [\n")
    (tmp_path / "c.yml").write_bytes(services(5))
    for args in (FIX, ("fix",), ("fix", "--diff"), CHECK):
        hardener(*args, "a.yml", "b.yml", "c.yml", cwd=tmp_path)
        assert temp_files(tmp_path) == [], args
