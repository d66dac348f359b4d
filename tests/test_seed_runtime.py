"""Fixes of issue 13 proven on the real engine (`pytest -m runtime`; skipped with the reason when no
engine answers, failed when CI asks for one with HARDENER_REQUIRE_ENGINE):

- DKR001's socket proxy: the file `fix --unsafe-fixes` writes (socket_proxy on) runs with a stand-in of
  the proxy built from Debian's haproxy (tests/fixtures/seed/README.md) and the Docker CLI as client:
  reads of the enabled sections go through, writes and other sections are refused with 403;
- AUTH001's credentials: Postgres that was `trust`, Redis without requirepass and MariaDB with an empty
  root password allowed, after the fix, refuse a client without the password and let the client whose
  connection string the fix rewired in.

Projects are named seed-..., publish no host port, and are always taken down with their volumes."""
from __future__ import annotations

import os
import shutil
import subprocess
import textwrap
import time
import uuid
from pathlib import Path

import pytest

from conftest import find_compose_binary, run_cli_subprocess as run_cli

pytestmark = pytest.mark.runtime

ENGINE_SOCKET = "/var/tmp/hardener-engine/docker.sock"
STANDIN = Path(__file__).parent / "fixtures" / "seed" / "socket-proxy-standin"
PROXY_IMAGE = "seed/socket-proxy-standin:test"
CLI_IMAGE = "seed/docker-cli:test"


def _give_up(reason: str):
    (pytest.fail if os.environ.get("HARDENER_REQUIRE_ENGINE") else pytest.skip)(reason)


@pytest.fixture(scope="module")
def engine():
    """The environment that reaches the engine (DOCKER_HOST), with the images these tests need."""
    docker = shutil.which("docker")
    compose = find_compose_binary()
    if not docker or not compose:
        _give_up("no docker CLI or compose binary here")
    host = os.environ.get("DOCKER_HOST") or f"unix://{ENGINE_SOCKET}"
    env = {**os.environ, "DOCKER_HOST": host}
    try:
        ok = subprocess.run([docker, "version"], env=env, capture_output=True, timeout=20).returncode == 0
    except subprocess.TimeoutExpired:
        ok = False
    if not ok:
        _give_up(f"no Docker engine answers at {host}; start one with ../shared/runtime/start-engine")
    for image in ("debian:bookworm-slim", "postgres:16", "redis:7"):
        if subprocess.run([docker, "image", "inspect", image], env=env, capture_output=True, timeout=30).returncode:
            _give_up(f"stand-in image {image} missing: run ../shared/runtime/build-images.sh")
    return {"env": env, "docker": docker, "compose": compose, "socket": host[len("unix://"):]
            if host.startswith("unix://") else None}


@pytest.fixture(scope="module")
def standins(engine, tmp_path_factory):
    """Build the socket-proxy stand-in (Debian's haproxy, apt inside the build) and the CLI client."""
    docker, env = engine["docker"], engine["env"]
    build = subprocess.run([docker, "build", "-q", "--network", "host", "-t", PROXY_IMAGE, str(STANDIN)],
                           env=env, capture_output=True, text=True, timeout=900)
    if build.returncode:
        _give_up(f"could not build the proxy stand-in (apt inside docker build): {build.stderr[-400:]}")
    ctx = tmp_path_factory.mktemp("cli")
    shutil.copy(docker, ctx / "docker")
    (ctx / "Dockerfile").write_text("FROM debian:bookworm-slim\nCOPY docker /usr/local/bin/docker\n")
    build = subprocess.run([docker, "build", "-q", "-t", CLI_IMAGE, str(ctx)], env=env, capture_output=True,
                           text=True, timeout=300)
    assert build.returncode == 0, build.stderr
    return PROXY_IMAGE, CLI_IMAGE


class Stack:
    def __init__(self, engine, folder: Path, files):
        self.engine, self.folder, self.files = engine, folder, files
        self.name = f"seed-{uuid.uuid4().hex[:8]}"

    def compose(self, *args, timeout=300, env=None):
        cmd = [self.engine["compose"], "-p", self.name]
        for f in self.files:
            cmd += ["-f", f]
        return subprocess.run(cmd + list(args), cwd=self.folder, env={**self.engine["env"], **(env or {})},
                              capture_output=True, text=True, timeout=timeout)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.compose("down", "-v", "--remove-orphans", "--timeout", "2", timeout=180)


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def harden(folder: Path, options: str, env=None):
    write(folder, ".hardener.yaml", options)
    proc = run_cli("fix", "--unsafe-fixes", "compose.yaml", cwd=folder, env=env)
    assert proc.returncode in (0, 1), proc.stderr
    return (folder / "compose.yaml").read_text(encoding="utf-8")


# --------------------------------------------------------------------------- the socket proxy

def test_socket_proxy_lets_reads_through_and_refuses_writes(engine, standins, tmp_path):
    if engine["socket"] is None:
        pytest.skip("the engine is not reached through a unix socket, so there is no socket to mount")
    write(tmp_path, "compose.yaml", f"""\
        services:
          traefik:
            image: traefik:v3.1
            command:
              - --providers.docker=true
              - --providers.docker.exposedbydefault=false
            volumes:
              - {engine["socket"]}:/var/run/docker.sock:ro
        """)
    out = harden(tmp_path, "options:\n  DKR001:\n    socket_proxy: true\n")
    assert f"{engine['socket']}:/var/run/docker.sock:ro" in out.split("\n  docker-socket-proxy:\n")[1]
    assert "--providers.docker.endpoint=tcp://docker-socket-proxy:2375" in out
    # run time only: images that exist here stand in for the real ones; the client just waits
    write(tmp_path, "runtime.yaml", f"""\
        services:
          traefik:
            image: {standins[1]}
            command: ["sleep", "infinity"]
          docker-socket-proxy:
            image: {standins[0]}
        """)
    with Stack(engine, tmp_path, ["compose.yaml", "runtime.yaml"]) as stack:
        up = stack.compose("up", "-d")
        assert up.returncode == 0, up.stderr

        def client(*args):
            return stack.compose("exec", "-T", "traefik", "docker", "-H", "tcp://docker-socket-proxy:2375", *args,
                                 timeout=60)

        deadline = time.monotonic() + 30
        while client("version").returncode and time.monotonic() < deadline:
            time.sleep(1)
        listed = client("ps", "--format", "{{.Names}}")
        assert listed.returncode == 0, listed.stderr
        assert f"{stack.name}-docker-socket-proxy-1" in listed.stdout  # containers: a read Traefik needs
        assert client("network", "ls").returncode == 0  # networks: read too
        images = client("images")
        assert images.returncode and "403" in images.stderr  # a section Traefik does not need
        create = client("network", "create", f"{stack.name}-not-allowed")
        assert create.returncode and "403" in create.stderr  # a write: POST is off
        run = client("run", "--rm", "debian:bookworm-slim", "true")
        assert run.returncode and "403" in run.stderr
        # the client has no socket of its own any more
        probe = stack.compose("exec", "-T", "traefik", "test", "-e", "/var/run/docker.sock", timeout=60)
        assert probe.returncode == 1


# --------------------------------------------------------------------------- authentication

CREDENTIALS = "options:\n  AUTH001:\n    credentials: true\n"


def wait_for(probe, seconds=90) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if probe():
            return True
        time.sleep(2)
    return False


def test_postgres_trust_becomes_a_password(engine, tmp_path):
    write(tmp_path, "compose.yaml", """\
        services:
          db:
            image: postgres:16
            environment:
              POSTGRES_USER: app
              POSTGRES_HOST_AUTH_METHOD: trust
          client:
            image: postgres:16
            command: ["sleep", "infinity"]
            depends_on: [db]
            environment:
              DATABASE_URL: postgres://app@db:5432/postgres
        """)
    out = harden(tmp_path, CREDENTIALS)
    assert "trust" not in out and "${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD}" in out
    write(tmp_path, ".env", "POSTGRES_PASSWORD=Seed-test-Pw-41\n")  # what the operator does next
    with Stack(engine, tmp_path, ["compose.yaml"]) as stack:
        up = stack.compose("up", "-d")
        assert up.returncode == 0, up.stderr

        def sql(*args, env=()):
            cmd = ["exec", "-T", *[f"-e{e}" for e in env], "client", *args]
            return stack.compose(*cmd, timeout=60)

        assert wait_for(lambda: sql("pg_isready", "-h", "db", "-U", "app").returncode == 0), \
            stack.compose("logs", "db").stdout[-2000:]
        with_url = sql("sh", "-c", 'psql "$DATABASE_URL" -tAc "select 1"')
        assert with_url.returncode == 0 and with_url.stdout.strip() == "1", with_url.stderr
        without = sql("psql", "-h", "db", "-U", "app", "-d", "postgres", "-w", "-tAc", "select 1")
        assert without.returncode != 0 and "password" in without.stderr.lower()
        wrong = sql("psql", "-h", "db", "-U", "app", "-d", "postgres", "-w", "-tAc", "select 1", env=("PGPASSWORD=nope",))
        assert wrong.returncode != 0 and "password authentication failed" in wrong.stderr


def test_redis_requires_its_password(engine, tmp_path):
    write(tmp_path, "compose.yaml", """\
        services:
          cache:
            image: redis:7
          client:
            image: redis:7
            command: ["sleep", "infinity"]
            depends_on: [cache]
            environment:
              REDIS_URL: redis://cache:6379/0
        """)
    out = harden(tmp_path, CREDENTIALS)
    assert "${REDIS_PASSWORD:?set REDIS_PASSWORD}" in out
    write(tmp_path, ".env", "REDIS_PASSWORD=Seed-test-Redis-42\n")
    with Stack(engine, tmp_path, ["compose.yaml"]) as stack:
        up = stack.compose("up", "-d")
        assert up.returncode == 0, up.stderr

        def cli(*args):
            return stack.compose("exec", "-T", "client", *args, timeout=60)

        assert wait_for(lambda: "NOAUTH" in (cli("redis-cli", "-h", "cache", "ping").stdout
                                              + cli("redis-cli", "-h", "cache", "ping").stderr)), \
            stack.compose("logs", "cache").stdout[-2000:]
        anonymous = cli("redis-cli", "-h", "cache", "ping")
        assert "PONG" not in anonymous.stdout and "NOAUTH" in anonymous.stdout + anonymous.stderr
        with_url = cli("sh", "-c", 'redis-cli -u "$REDIS_URL" ping')
        assert with_url.stdout.strip() == "PONG", with_url.stdout + with_url.stderr


def test_mariadb_root_gets_its_password_from_the_variable(engine, tmp_path):
    """MariaDB with an empty root password allowed: after the fix, root needs the password from the
    required variable, and the client whose connection string the fix rewired gets in. (The stand-in
    always wants a root password, so only the fixed file is started.)"""
    for image in ("mariadb:11",):
        if subprocess.run([engine["docker"], "image", "inspect", image], env=engine["env"], capture_output=True,
                          timeout=30).returncode:
            _give_up(f"stand-in image {image} missing: run ../shared/runtime/build-images.sh")
    write(tmp_path, "compose.yaml", """\
        services:
          db:
            image: mariadb:11
            environment:
              MARIADB_ALLOW_EMPTY_ROOT_PASSWORD: "yes"
          client:
            image: mariadb:11
            entrypoint: ["sleep", "infinity"]
            depends_on: [db]
            environment:
              DB_URL: mysql://root@db:3306/mysql
        """)
    out = harden(tmp_path, CREDENTIALS)
    assert "${MARIADB_ROOT_PASSWORD:?set MARIADB_ROOT_PASSWORD}" in out
    assert "mysql://root:${MARIADB_ROOT_PASSWORD}@db:3306/mysql" in out
    write(tmp_path, ".env", "MARIADB_ROOT_PASSWORD=Seed-test-Maria-43\n")
    with Stack(engine, tmp_path, ["compose.yaml"]) as stack:
        up = stack.compose("up", "-d")
        assert up.returncode == 0, up.stderr

        def sql(*args):
            return stack.compose("exec", "-T", "client", *args, timeout=60)

        # the password the client reads from its rewired connection string
        from_url = ["sh", "-c", 'p="${DB_URL#mysql://root:}"; p="${p%%@*}"; '
                    'mariadb -h db -u root -p"$p" -N -e "select 1"']
        assert wait_for(lambda: sql(*from_url).returncode == 0), stack.compose("logs", "db").stdout[-2000:]
        assert sql(*from_url).stdout.strip() == "1"
        without = sql("mariadb", "-h", "db", "-u", "root", "-N", "-e", "select 1")
        assert without.returncode != 0 and "Access denied" in without.stderr
