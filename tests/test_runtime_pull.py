"""`hardener verify --pull` against a real registry (runtime tier). No image registry is reachable from
the test machines, so the test builds one: Debian's docker-registry package (the CNCF distribution
registry) in an image built FROM the local debian base (tests/fixtures/runtime/registry), run on the
engine with a loopback port the engine picks (no fixed port, nothing to lock). A stand-in image is pushed
to it under a fresh name and its local tag removed; then `verify` without `--pull` refuses in one line
(exit 2) and asks the registry for nothing, and `verify --pull` pulls it and runs. Everything the test
creates (the registry image and container, the pushed and pulled tags) is removed afterwards."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from hardener.runtime.engine_api import Engine, EngineError

from conftest import cli_env, put, run_cli_subprocess as run_cli, y

pytestmark = pytest.mark.runtime

REGISTRY_IMAGE_DIR = Path(__file__).parent / "fixtures" / "runtime" / "registry"
ENGINE_SOCKET = "/var/tmp/hardener-engine/docker.sock"
FAST = ["--timeout", "90", "--settle", "3"]
TOKEN = f"{os.getpid()}-{int(time.time())}"


def docker(host: str, *args, timeout=300, check=True) -> subprocess.CompletedProcess:
    proc = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout,
                          env={**cli_env(), "DOCKER_HOST": host})
    if check:
        assert proc.returncode == 0, f"docker {' '.join(args)}: {proc.stderr}"
    return proc


@pytest.fixture(scope="module")
def registry():
    """(DOCKER_HOST, 'host:port' of a registry on the engine, the registry container's id)."""
    host = os.environ.get("DOCKER_HOST") or f"unix://{ENGINE_SOCKET}"
    give_up = pytest.fail if os.environ.get("HARDENER_REQUIRE_ENGINE") else pytest.skip
    try:
        engine = Engine(host, timeout=5)
        engine.ping()
    except EngineError as exc:
        give_up(f"no Docker engine answers ({exc}); start one with ../shared/runtime/start-engine")
    if shutil.which("docker") is None:
        give_up("the docker CLI is not installed (Debian's docker.io has it)")
    if not engine.image_present("debian:bookworm-slim") or not engine.image_present("local/sleeper:latest"):
        give_up("stand-in images missing: run ../shared/runtime/build-images.sh")
    image = f"hardener-test/registry:{TOKEN}"
    name = f"hardener-test-registry-{TOKEN}"
    started = time.monotonic()
    built = docker(host, "build", "-q", "--network", "host", "-t", image, str(REGISTRY_IMAGE_DIR), timeout=600,
                   check=False)
    if built.returncode != 0:  # apt inside the build needs Debian's mirror
        give_up(f"the registry image did not build (is a Debian mirror reachable?): {built.stderr.strip()[-300:]}")
    try:
        docker(host, "run", "-d", "--name", name, "-p", "127.0.0.1::5000", image)
        port = docker(host, "port", name, "5000/tcp").stdout.split()[0].rsplit(":", 1)[1]
        address = f"127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://{address}/v2/", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)
        print(f"registry at {address}, ready in {time.monotonic() - started:.1f}s")
        yield host, address, name
    finally:
        docker(host, "rm", "-f", "-v", name, check=False)
        docker(host, "rmi", image, check=False)


def registry_requests(host: str, container: str, repository: str) -> list[str]:
    """The registry's log lines about one repository (each request it answered is logged)."""
    logs = docker(host, "logs", container)
    return [line for line in (logs.stdout + logs.stderr).splitlines() if f"/v2/{repository}/" in line]


def test_verify_pulls_only_with_pull(registry, tmp_path):
    host, address, container = registry
    repository = f"hardener-test/app-{TOKEN}"
    ref = f"{address}/{repository}:1.0"
    engine = Engine(host)
    docker(host, "tag", "local/sleeper:latest", ref)
    try:
        docker(host, "push", ref)
        docker(host, "rmi", ref)
        assert not engine.image_present(ref), "the pushed tag must be gone from the engine"
        pushed = len(registry_requests(host, container, repository))
        put(tmp_path, "compose.yaml", y(
            "services:",
            "  app:",
            f"    image: {ref}",
        ))
        env = {"DOCKER_HOST": host, "HARDENER_VERIFY_PREFIX": f"pull-test-{TOKEN}"}

        # without --pull: one line, exit 2, and the registry was not asked for anything
        proc = run_cli("verify", *FAST, tmp_path, env=env, timeout=120)
        assert proc.returncode == 2, proc.stderr
        assert proc.stderr == (f"hardener: error: image {ref} (service app) is not on the engine; "
                               "give --pull to let verify pull it\n")
        assert not engine.image_present(ref)
        assert len(registry_requests(host, container, repository)) == pushed, "verify asked the registry"

        # with --pull: compose pulls it (up --pull missing) and both runs start
        started = time.monotonic()
        proc = run_cli("verify", "--pull", "--format", "json", *FAST, tmp_path, env=env, timeout=300)
        seconds = time.monotonic() - started
        assert proc.returncode == 0, proc.stderr
        report = json.loads(proc.stdout)
        (app,) = report["services"]
        assert app["original"]["state"] == "running" and app["hardened"]["state"] == "running", app
        assert engine.image_present(ref), "verify --pull should have pulled the image"
        asked = registry_requests(host, container, repository)[pushed:]
        assert any("/manifests/1.0" in line for line in asked), asked
        print(f"verify --pull: {seconds:.1f}s")
    finally:
        docker(host, "rmi", ref, check=False)
