"""The container image (Dockerfile): built on the real Docker engine from the locally available
debian:bookworm-slim base, small, running as a non-root user, and `hardener check` works on a mounted
example (exit 1 with findings, the file untouched; `--help` by default). The image is removed after."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid

import pytest

from conftest import REPO

pytestmark = pytest.mark.runtime

ENGINE = os.environ.get("DOCKER_HOST") or "unix:///var/tmp/hardener-engine/docker.sock"


def docker(*args, timeout=900, check=True) -> subprocess.CompletedProcess:
    proc = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "DOCKER_HOST": ENGINE})
    if check:
        assert proc.returncode == 0, f"docker {' '.join(args)}: {proc.stderr[-2000:]}"
    return proc


@pytest.fixture(scope="module")
def image(tmp_path_factory):
    if shutil.which("docker") is None:
        pytest.skip("no docker command-line client")
    try:
        answer = docker("version", "--format", "{{.Server.Version}}", timeout=20, check=False)
    except subprocess.TimeoutExpired:
        pytest.skip(f"no Docker engine answers at {ENGINE}")
    if answer.returncode != 0:
        pytest.skip(f"no Docker engine answers at {ENGINE}: {answer.stderr.strip()[:200]}")
    if docker("image", "inspect", "debian:bookworm-slim", check=False).returncode != 0:
        pytest.skip("the debian:bookworm-slim base is not on the engine (../shared/runtime/build-images.sh)")
    # the documented build: wheels made where pip works, then `docker build` with no package index
    context = tmp_path_factory.mktemp("image")
    for name in ("Dockerfile", ".dockerignore"):
        shutil.copy(REPO / name, context / name)
    wheels = subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--disable-pip-version-check",
                             "--wheel-dir", str(context / "wheels"), str(REPO)], capture_output=True, text=True,
                            timeout=900)
    if wheels.returncode != 0:
        pytest.skip(f"cannot make the wheels here (no package index?): {wheels.stderr[-300:]}")
    tag = f"outputs/hardener-test:{uuid.uuid4().hex[:12]}"  # the lane's name, never a shared tag
    before = set(_build_stages())
    try:
        docker("build", "--network", "host", "--force-rm", "-t", tag, str(context), timeout=1200)
        yield tag
    finally:
        docker("image", "rm", "-f", tag, check=False)
        # the build stage stays behind as an untagged image: remove the one this build made, nothing else
        for stage in set(_build_stages()) - before:
            docker("image", "rm", stage, check=False)


def _build_stages() -> list[str]:
    found = docker("images", "-q", "--no-trunc", "--filter", "dangling=true", "--filter", "label=hardener.stage=build",
                   check=False)
    return found.stdout.split()


def test_image_checks_a_mounted_example(image, tmp_path):
    work = tmp_path / "stack"
    shutil.copytree(REPO / "examples", work, ignore=shutil.ignore_patterns("hardened"))
    work.chmod(0o755)
    before = (work / "compose.yaml").read_bytes()
    proc = docker("run", "--rm", "--network", "none", "-v", f"{work}:/work:ro", image, "check", "--format", "json",
                  "compose.yaml", check=False)
    assert proc.returncode == 1, proc.stderr
    report = json.loads(proc.stdout)
    assert report["summary"]["findings"] > 10 and report["findings"][0]["file"] == "compose.yaml"
    assert (work / "compose.yaml").read_bytes() == before
    plain = docker("run", "--rm", "--network", "none", "-v", f"{work}:/work:ro", image, "check", "compose.yaml",
                   check=False)
    assert plain.returncode == 1 and "CAP001" in plain.stdout
    assert "Usage" in docker("run", "--rm", "--network", "none", image).stdout


def test_image_is_small_and_runs_as_non_root(image):
    info = json.loads(docker("image", "inspect", image).stdout)[0]
    assert info["Config"]["User"] == "10001:10001"
    assert info["Config"]["Entrypoint"] == ["hardener"]
    base = json.loads(docker("image", "inspect", "debian:bookworm-slim").stdout)[0]
    added = info["Size"] - base["Size"]
    assert added < 150 * 1024 * 1024, f"the image adds {added / 2**20:.0f} MiB to its base"
    ids = docker("run", "--rm", "--network", "none", "--entrypoint", "id", image).stdout
    assert ids.startswith("uid=10001(hardener) gid=10001(hardener)")
    version = docker("run", "--rm", "--network", "none", image, "--version").stdout
    assert version.startswith("hardener ")
