"""`hardener observe` on a real Docker engine (the runtime tier, `pytest -m runtime`): the stand-ins of
../shared/runtime under names no knowledge base knows, an application that holds ~1.2 GB and writes
under /var/lib/app, and a job that needs a capability nothing shows at run time. Observed (with the
capabilities probed), then fixed with --unsafe-fixes: the written stack starts healthy, the four
servers with cap_drop ALL and a read-only root, no memory limit below what was observed. Skipped, with
the reason, when no engine answers; .ci/run starts one."""
from __future__ import annotations

import json
import os
import re
import shutil
import stat
import time
from pathlib import Path

import pytest

from hardener.runtime.engine_api import Engine, EngineError

from conftest import run_cli_subprocess as run_cli, service_block

pytestmark = pytest.mark.runtime

ENGINE_SOCKET = "/var/tmp/hardener-engine/docker.sock"
FIXTURES = Path(__file__).parent / "fixtures" / "runtime"
FAST = ["--timeout", "90", "--settle", "3"]
PREFIX = f"observe-tier-{os.getpid()}"  # project names unique to this test session (a shared engine)
SERVERS = ("web", "db", "cache", "mariadb")


@pytest.fixture(scope="module")
def engine_env():
    host = os.environ.get("DOCKER_HOST") or f"unix://{ENGINE_SOCKET}"
    give_up = pytest.fail if os.environ.get("HARDENER_REQUIRE_ENGINE") else pytest.skip
    try:
        Engine(host, timeout=5).ping()
    except EngineError as exc:
        give_up(f"no Docker engine answers ({exc}); start one with ../shared/runtime/start-engine")
    engine = Engine(host)
    for image in ("local/postgres:15-bookworm", "local/redis:7.0-bookworm", "local/nginx:1.22-bookworm",
                  "local/mariadb:10.11-bookworm", "local/sleeper:latest"):
        if not engine.image_present(image):
            give_up(f"stand-in image {image} missing: run ../shared/runtime/build-images.sh")
    return {"DOCKER_HOST": host, "HARDENER_VERIFY_PREFIX": PREFIX}


def writable_copy(src: Path, dest: Path) -> Path:
    shutil.copytree(src, dest)
    for folder, dirs, files in os.walk(dest):
        for name in dirs + files:
            p = os.path.join(folder, name)
            os.chmod(p, os.stat(p).st_mode | stat.S_IWUSR)
    return dest


def test_observe_then_fix_gives_a_stack_that_starts_hardened_with_limits_above_the_peaks(engine_env, tmp_path):
    stack = writable_copy(FIXTURES / "observe-app", tmp_path / "observe-app")
    before = (stack / "compose.yaml").read_bytes()
    started = time.monotonic()
    proc = run_cli("observe", "--duration", "6", "--probe-caps", *FAST, stack, env=engine_env, timeout=400)
    observed_in = time.monotonic() - started
    assert proc.returncode == 0, proc.stderr
    assert (stack / "compose.yaml").read_bytes() == before
    saved = stack / "hardener-observed.json"
    doc = json.loads(saved.read_text())
    services = doc["services"]
    assert set(services) == {"app", "web", "db", "cache", "mariadb", "perms"}
    for name, s in services.items():
        assert s["image_id"].startswith("sha256:") and s["state"] == "healthy", name
        assert s["pids"]["peak"] >= 1 and s["memory"]["peak_bytes"] > 0, name
    app = services["app"]
    assert app["memory"]["peak_bytes"] >= 1_200_000_000  # the 1.2 GB it holds
    assert {"path": "/var/lib/app", "in_image": False, "entries": 3, "image_files": False} in app["written_paths"]
    assert app["users"]["pattern"] == "root"
    ports = {name: {(p["port"], p["protocol"]) for p in s["listening"]} for name, s in services.items()}
    assert (80, "tcp") in ports["web"] and (5432, "tcp") in ports["db"]
    assert (6379, "tcp") in ports["cache"] and (3306, "tcp") in ports["mariadb"]
    for name in ("db", "cache", "mariadb"):
        assert services[name]["users"]["pattern"] == "root-drops", name
        assert {p["uid"] for p in services[name]["users"]["processes"]} == {999}, name
    assert {p["uid"] for p in services["web"]["users"]["processes"]} == {0, 101}  # root master, workers as nginx
    written = {name: [w["path"] for w in s["written_paths"]] for name, s in services.items()}
    assert "/var/cache/nginx" in written["web"] and "/run/postgresql" in written["db"]
    assert not any(p.startswith("/var/lib/postgresql/data") for p in written["db"])  # a volume
    assert "/run/mysqld" in written["mariadb"]
    # the capabilities were probed: each service started once more with cap_drop ALL and the set inferred
    caps = {name: s["capabilities"] for name, s in services.items()}
    assert all(c["method"] == "probed" and c["cap_drop"] == ["ALL"] for c in caps.values()), caps
    for name in SERVERS + ("app",):
        assert caps[name]["probe"]["ok"] and caps[name]["probe"]["state"] == "healthy", (name, caps[name])
    assert caps["db"]["cap_add"] == ["CHOWN", "DAC_OVERRIDE", "FOWNER", "SETGID", "SETUID"]
    assert caps["app"]["cap_add"] == [] and caps["perms"]["cap_add"] == []
    perms = caps["perms"]["probe"]
    assert not perms["ok"] and perms["state"].startswith(("exited", "restarting")), perms
    assert any("Operation not permitted" in line for line in perms["evidence"]), perms
    assert "CAPS" in proc.stdout and "probed:FAILED" in proc.stdout

    # the findings say which values come from the observation
    proc = run_cli("check", "--format", "json", stack, env=engine_env, timeout=120)
    messages = {(f["rule_id"], f["service"]): f["message"] for f in json.loads(proc.stdout)["findings"]}
    assert re.search(r"; observed peak 1\.1\dG on \d{4}-\d\d-\d\d x 1\.5; limit 1\.75G$",
                     messages[("RES001", "app")]), messages[("RES001", "app")]
    assert "probed on " in messages[("CAP001", "db")] and "healthy with cap_drop ALL + CHOWN" in messages[("CAP001", "db")]
    assert "did not work" in messages[("CAP001", "perms")] and "Operation not permitted" in messages[("CAP001", "perms")]
    assert "tmpfs from the observation: observed writing /var/lib/app on" in messages[("FS001", "app")]

    # then `fix --unsafe-fixes` reads the observation
    proc = run_cli("fix", "--unsafe-fixes", stack, env=engine_env, timeout=120)
    assert proc.returncode in (0, 1), proc.stderr
    assert f"hardener: using the observation {saved}" in proc.stderr
    text = (stack / "compose.yaml").read_text()
    for name in SERVERS:
        block = service_block(text, name)
        assert "cap_drop:\n      - ALL" in block and "read_only: true" in block, block
    # no memory limit below what was observed (limits in M or G, as round_memory writes them)
    for name, s in services.items():
        found = re.search(r"memory: ([\d.]+)([MG])", service_block(text, name))
        limit = float(found.group(1)) * (1 << (30 if found.group(2) == "G" else 20))
        assert limit >= s["memory"]["peak_bytes"], (name, found.group(0), s["memory"]["peak_bytes"])
    assert "memory: 1.75G" in service_block(text, "app")  # 1.2 GB x 1.5, rounded up to a quarter
    # USR001 (unsafe): the servers whose main process was seen dropping to 999:999 and that write only named
    # volumes start as that user; nginx's master stays root (its workers run as 101), so it gets none
    for name in ("db", "cache", "mariadb"):
        assert 'user: "999:999"' in service_block(text, name), service_block(text, name)
    assert "user:" not in service_block(text, "web")
    # the probe showed that perms needs more than inferred: it keeps its capabilities, and says why
    assert "cap_drop" not in service_block(text, "perms")
    assert "perms" in proc.stdout and "did not work" in proc.stdout

    # ...and the stack as written now starts healthy
    started = time.monotonic()
    proc = run_cli("verify", "--format", "json", *FAST, "--select", "LOG001", stack, env=engine_env, timeout=600)
    assert proc.returncode in (0, 1), proc.stderr
    report = json.loads(proc.stdout)
    assert {s["service"]: s["original"]["state"] for s in report["services"]} == dict.fromkeys(services, "healthy")
    print(f"observe --probe-caps {observed_in:.0f}s, verify {time.monotonic() - started:.0f}s, "
          f"app peak {app['memory']['peak_bytes']} bytes")


def test_image_facts_read_volumes_and_healthchecks_without_running_anything(engine_env, tmp_path):
    """--image-facts on the engine: the postgres stand-in under an unknown name declares its data volume,
    so a read-only root keeps it writable (said in FS001's message, and the fixed stack starts healthy with
    no volume written in the file); a redis image built with its own `redis-cli ping` healthcheck keeps
    running without a password (AUTH001 would break its healthcheck)."""
    import subprocess

    tag = f"{PREFIX}/redis:hc"
    env = {**os.environ, "DOCKER_HOST": engine_env["DOCKER_HOST"]}
    if shutil.which("docker") is None:
        pytest.skip("the docker CLI is needed to build the test image")
    built = subprocess.run(["docker", "build", "-q", "-t", tag, "-"], env=env, capture_output=True, text=True,
                           input="FROM local/redis:7.0-bookworm\nHEALTHCHECK --interval=2s --timeout=5s --retries=10 "
                                 "CMD redis-cli ping\n", timeout=120)
    assert built.returncode == 0, built.stderr
    try:
        (tmp_path / "compose.yaml").write_text(
            "services:\n"
            "  db:\n"
            "    image: local/postgres:15-bookworm\n"
            "    environment:\n"
            "      POSTGRES_PASSWORD: example-only\n"
            "    healthcheck:\n"
            "      test: [\"CMD\", \"pg_isready\", \"-h\", \"127.0.0.1\", \"-U\", \"postgres\"]\n"
            "      interval: 2s\n"
            "      retries: 15\n"
            "  cache:\n"
            f"    image: {tag}\n")
        (tmp_path / "pyproject.toml").write_text("[tool.hardener.options.AUTH001]\ncredentials = true\n")
        plain = run_cli("fix", "--diff", "--unsafe-fixes", tmp_path, env=engine_env, timeout=120)
        assert "--requirepass" in plain.stdout  # without image facts AUTH001 turns the password on
        check = run_cli("check", "--format", "json", "--image-facts", tmp_path, env=engine_env, timeout=120)
        assert re.search(r"local/postgres: (built like postgres \(PG_MAJOR\)|known as postgres); volumes "
                         "/var/lib/postgresql/data; ports 5432\n", check.stderr), check.stderr
        assert f"{PREFIX}/redis: built like redis (REDIS_VERSION); volumes /data; ports 6379; its own healthcheck" \
            in check.stderr
        messages = {(f["rule_id"], f["service"]): f["message"] for f in json.loads(check.stdout)["findings"]}
        assert messages[("FS001", "db")].endswith("; the image's data volume /var/lib/postgresql/data stays writable "
                                                  "(an anonymous volume unless the file mounts one)")
        proc = run_cli("fix", "--unsafe-fixes", "--image-facts", tmp_path, env=engine_env, timeout=120)
        assert proc.returncode in (0, 1), proc.stderr
        text = (tmp_path / "compose.yaml").read_text()
        assert "--requirepass" not in text and "a healthcheck runs redis-cli without the password" in proc.stdout
        assert "read_only: true" in service_block(text, "db") and "volumes" not in service_block(text, "db")
        proc = run_cli("verify", "--format", "json", *FAST, "--select", "LOG001", tmp_path, env=engine_env, timeout=600)
        assert proc.returncode in (0, 1), proc.stderr
        report = json.loads(proc.stdout)
        assert {s["service"]: s["original"]["state"] for s in report["services"]} == {"db": "healthy", "cache": "healthy"}
    finally:
        subprocess.run(["docker", "rmi", "-f", tag], env=env, capture_output=True, timeout=60)
