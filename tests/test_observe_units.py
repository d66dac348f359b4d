"""From an observation to fixes that say where their values come from, without an engine: the profile
records how each value was measured (knowledge layer), the rules put it in their messages, and the
measured profiles live in the run's Settings, so runs in one process cannot leak into each other."""
from __future__ import annotations

import json
from types import MappingProxyType

from hardener import harden
from hardener.engine import harden_text
from hardener.images import facts, profile
from hardener.runtime.derive import derive, round_pids
from hardener.settings import Settings

from conftest import put, run_cli, service_block, y

DAY = "2026-12-06"


def observation(**services) -> dict:
    return {"version": 1, "kind": "hardener-observed", "observed_at": f"{DAY}T21:00:00Z", "services": services}


def observed(image, peak_bytes, pattern, written=(), ports=(), uids=(), pids=None, cores=None):
    return {"image": image, "memory": {"peak_bytes": peak_bytes}, "pids": {"peak": pids}, "cpu": {"peak_cores": cores},
            "written_paths": [{"path": p, "in_image": True, "image_files": files} for p, files in written],
            "users": {"pattern": pattern, "processes": [{"uid": u, "gid": u, "command": "x"} for u in uids]},
            "listening": [{"port": p, "protocol": "tcp"} for p in ports]}


APP = observed("local/app:1", 1_300_000_000, "root", [("/var/lib/app", False)], [8080], [0], pids=37, cores=0.2)
DB = observed("local/postgres:15-bookworm", 75 << 20, "root-drops", [("/run/postgresql", False),
                                                                      ("/etc/postgresql", True)], [5432], [999], pids=7)
WEB = observed("local/nginx:1.22-bookworm", 6 << 20, "root-drops", [("/var/cache/nginx", False)], [80], [0, 101],
               pids=3, cores=1.1)

STACK = y(
    "services:",
    "  app:",
    "    image: local/app:1",
    "  db:",
    "    image: local/postgres:15-bookworm",
    "    volumes:",
    "      - pg:/var/lib/postgresql/data",
    "  web:",
    "    image: local/nginx:1.22-bookworm",
    "volumes:",
    "  pg:",
)


def test_each_measured_value_records_where_it_comes_from():
    found = derive(observation(app=APP, db=DB, web=WEB))
    app = found.profiles["local/app"]
    assert app.memory == "2G"  # 1.21G x 1.5 = 1.82G, rounded up to a quarter
    assert app.why("memory") == f"observed peak 1.21G on {DAY} x 1.5"
    assert app.pids == 1024 and app.why("pids") == f"observed peak 37 pids (processes and threads) on {DAY} x 4"
    assert app.cpus is None and app.why("cpus") is None  # 0.2 cores x 1.5 stays below the default 1.0
    assert app.why("writable") == f"observed writing /var/lib/app on {DAY}"
    assert app.why("user") == f"observed on {DAY} running as root throughout"
    assert app.why("cap_add") == f"inferred from the observation of {DAY} (runs without dropping privileges)"
    db = found.profiles["local/postgres"]
    assert db.why("user") == f"observed on {DAY} starting as root and running as uid 999"
    assert db.why("cap_add") == f"inferred from the observation of {DAY} (starts as root and drops to uid 999)"
    assert db.why("writable") == (f"observed writing /run/postgresql on {DAY}; /etc/postgresql also written but the "
                                  "image has files there (a tmpfs would hide them): mount a volume there")
    web = found.profiles["local/nginx"]
    assert web.cpus == "2.0" and web.why("cpus") == f"observed peak 1.10 cores on {DAY} x 1.5"
    assert web.why("cap_add").endswith("(starts as root and drops to uid 101; listens on 80)")
    assert [round_pids(n) for n in (1, 256, 257, 300, 5000)] == [1024, 1024, 2048, 2048, 32768]
    # the shipped knowledge has no provenance
    assert profile("postgres").why("memory") is None and profile("postgres").origin == ()


def test_fixes_from_an_observation_say_so_in_their_messages(tmp_path):
    put(tmp_path, "compose.yaml", STACK)
    put(tmp_path, "hardener-observed.json", json.dumps(observation(app=APP, db=DB, web=WEB)))
    proc = run_cli("check", "--format", "json", str(tmp_path))
    messages = {(f["rule_id"], f["service"]): f["message"] for f in json.loads(proc.stdout)["findings"]}
    assert messages[("RES001", "app")] == (f"service 'app' has no CPU and memory limit; observed peak 1.21G on {DAY} "
                                           "x 1.5; limit 2G")
    assert messages[("RES001", "web")].endswith(f"; observed peak 6M on {DAY} x 1.5; limit 128M; observed peak "
                                                f"1.10 cores on {DAY} x 1.5; limit 2.0")
    assert messages[("RES002", "app")].endswith(f"; observed peak 37 pids (processes and threads) on {DAY} x 4; limit 1024")
    assert messages[("FS001", "app")].endswith(f"; tmpfs from the observation: observed writing /var/lib/app on {DAY}")
    assert "mount a volume there" in messages[("FS001", "db")]
    assert messages[("USR001", "db")] == (f"service 'db' runs as root at start-up and its image drops privileges "
                                          f"itself; observed dropping to uid 999 (gid 999) on {DAY}, and it writes "
                                          "only to volumes Docker creates (no bind mount), so it can start as 999:999 "
                                          "(its entrypoint then skips its own chown)")
    assert messages[("USR001", "web")].endswith(f"drops privileges itself, so no user is forced (keep its capabilities "
                                                f"minimal) (observed on {DAY} starting as root and running as uid 101)")
    assert messages[("USR001", "app")].endswith(f"(observed on {DAY} running as root throughout)")
    assert messages[("CAP001", "db")].endswith(f"; cap_add CHOWN, DAC_OVERRIDE, FOWNER, SETGID, SETUID: inferred from "
                                               f"the observation of {DAY} (starts as root and drops to uid 999)")
    assert messages[("CAP001", "app")].endswith("; cap_add nothing: inferred from the observation of "
                                                f"{DAY} (runs without dropping privileges)")
    # and what fix writes is those values
    fixed = run_cli("fix", "--unsafe-fixes", str(tmp_path))
    assert fixed.returncode in (0, 1), fixed.stderr
    text = (tmp_path / "compose.yaml").read_text()
    app = service_block(text, "app")
    assert "memory: 2G" in app and "pids: 1024" in app and "- /var/lib/app" in app, app
    assert 'user: "999:999"' in service_block(text, "db") and "user:" not in service_block(text, "web")
    # a configured value is the user's, not the observation's: no provenance is claimed for it
    put(tmp_path, "compose.yaml", STACK)
    put(tmp_path, "pyproject.toml", y("[tool.hardener.options.RES001]", 'memory = "3G"'))
    proc = run_cli("check", "--format", "json", str(tmp_path))
    messages = {(f["rule_id"], f["service"]): f["message"] for f in json.loads(proc.stdout)["findings"]}
    assert "limit 3G" not in messages[("RES001", "app")] and "observed peak 1.21G" not in messages[("RES001", "app")]


def test_measured_profiles_live_in_the_runs_settings_not_in_the_process():
    """Two runs in one process, the first with an observation, the second without: the second sees none of
    the first's profiles (they were a module-level global once)."""
    profiles = MappingProxyType(dict(derive(observation(app=APP)).profiles))
    with_obs = Settings(unsafe_fixes=True, profiles=profiles)
    _, fixed, text = harden_text(STACK, with_obs, fix=True)
    assert "memory: 2G" in service_block(text, "app")
    assert any("observed peak 1.21G" in f.message for f in fixed)
    _, fixed, plain = harden_text(STACK, Settings(unsafe_fixes=True), fix=True)
    assert "memory: 2G" not in service_block(plain, "app") and "memory: 1G" in service_block(plain, "app")
    assert not any("observed" in f.message for f in fixed)
    assert harden(STACK, unsafe_fixes=True).text == plain
    # the lookups themselves take the run's profiles; nothing is left in the knowledge layer
    assert facts("local/app", profiles).memory == "2G" and facts("local/app") is None


def test_cli_runs_in_one_process_with_and_without_an_observation(tmp_path):
    observed_dir, plain_dir = tmp_path / "observed", tmp_path / "plain"
    put(observed_dir, "compose.yaml", STACK)
    put(observed_dir, "hardener-observed.json", json.dumps(observation(app=APP)))
    put(plain_dir, "compose.yaml", STACK)
    first = run_cli("fix", "--diff", "--unsafe-fixes", str(observed_dir))
    second = run_cli("fix", "--diff", "--unsafe-fixes", str(plain_dir))
    assert "memory: 2G" in first.stdout and "using the observation" in first.stderr
    assert "memory: 2G" not in second.stdout and "using the observation" not in second.stderr
    assert "memory: 1G" in second.stdout


# ---- capabilities probed, not only inferred

def test_the_probe_runs_each_service_with_cap_drop_all_and_the_inferred_set():
    from hardener.runtime.observe import caps_override, denied_lines, inferred_caps

    assert inferred_caps(DB) == ["CHOWN", "DAC_OVERRIDE", "FOWNER", "SETGID", "SETUID"]
    assert inferred_caps(WEB)[-1] == "NET_BIND_SERVICE" and inferred_caps(APP) == []
    override = json.loads(caps_override({"db": inferred_caps(DB), "app": []}))  # JSON is a compose file (YAML)
    assert override == {"services": {"db": {"cap_drop": ["ALL"], "cap_add": list(inferred_caps(DB))},
                                     "app": {"cap_drop": ["ALL"]}}}
    logs = ["starting", "chown: changing ownership of '/tmp/owned': Operation not permitted", "x" * 300,
            "error: cannot set groups: EPERM", "chown: changing ownership of '/tmp/owned': Operation not permitted"]
    assert denied_lines(logs) == ["chown: changing ownership of '/tmp/owned': Operation not permitted",
                                  "error: cannot set groups: EPERM"]


def probed(service, ok, state="healthy", evidence=()):
    from hardener.runtime.observe import inferred_caps

    return {**service, "capabilities": {"method": "probed", "cap_drop": ["ALL"], "cap_add": inferred_caps(service),
                                        "probe": {"state": state, "ok": ok, "evidence": list(evidence)}}}


JOB = observed("local/job:1", 10 << 20, "root", (), (), [0], pids=2)


def test_derive_uses_probed_results_when_present(tmp_path):
    found = derive(observation(db=probed(DB, True), job=probed(JOB, False, "exited(1)", [
        "exit code 1", "chown: changing ownership of '/tmp/owned': Operation not permitted"])))
    db, job = found.profiles["local/postgres"], found.profiles["local/job"]
    assert db.cap_add_works is True and db.why("cap_add") == (
        f"probed on {DAY}: healthy with cap_drop ALL + CHOWN, DAC_OVERRIDE, FOWNER, SETGID, SETUID")
    assert job.cap_add_works is False and job.why("cap_add") == (
        f"probed on {DAY}: with cap_drop ALL job did not work (exited(1): exit code 1; chown: changing ownership of "
        "'/tmp/owned': Operation not permitted)")
    assert any("probe failed" in n for n in found.notes)
    # a service that never started in the probe (its dependency did not work) says nothing: inferred
    assert derive(observation(db=probed(DB, None, "created"))).profiles["local/postgres"].why("cap_add").startswith(
        "inferred from")
    # inferred only (no probe, or an observation from before probes): as before
    assert derive(observation(db=DB)).profiles["local/postgres"].cap_add_works is None
    # the rule: a probed set that kept it working is written; one that did not gets no fix, with the evidence
    put(tmp_path, "compose.yaml", y("services:", "  db:", "    image: local/postgres:15-bookworm",
                                    "  job:", "    image: local/job:1"))
    put(tmp_path, "hardener-observed.json", json.dumps(observation(db=probed(DB, True), job=probed(JOB, False, "exited(1)", [
        "chown: changing ownership of '/tmp/owned': Operation not permitted"]))))
    proc = run_cli("check", "--format", "json", str(tmp_path))
    cap = {f["service"]: f for f in json.loads(proc.stdout)["findings"] if f["rule_id"] == "CAP001"}
    assert cap["db"]["fix"] == "unsafe" and "probed on" in cap["db"]["message"]
    assert cap["job"]["fix"] == "none"
    assert cap["job"]["message"] == (f"service 'job' keeps Docker's default capabilities; probed on {DAY}: with cap_drop "
                                     "ALL job did not work (exited(1): chown: changing ownership of '/tmp/owned': "
                                     "Operation not permitted): add back what it needs by hand")


# ---- image facts: volumes, exposed ports and healthcheck of the image configuration (recorded JSON)

CONFIGS = __import__("pathlib").Path(__file__).parent / "fixtures" / "image-config"


def recorded(name: str) -> dict:
    return json.loads((CONFIGS / f"{name}.json").read_text())


def test_image_configuration_facts_from_recorded_configs():
    from hardener.runtime.facts import config_facts, profile_from_config

    assert config_facts(recorded("postgres")) == {"volumes": ["/var/lib/postgresql/data"], "exposed_ports": [5432],
                                                  "healthcheck": None}
    assert config_facts(recorded("redis-healthcheck")) == {"volumes": ["/data"], "exposed_ports": [6379],
                                                           "healthcheck": ["CMD-SHELL", "redis-cli ping"]}
    assert config_facts(recorded("nginx"))["volumes"] == [] and config_facts(recorded("nginx"))["exposed_ports"] == [80]
    assert config_facts({"Healthcheck": {"Test": ["NONE"]}})["healthcheck"] is None  # turned off
    db, note = profile_from_config("mirror/db", recorded("postgres"))
    assert note == "mirror/db: built like postgres (PG_MAJOR); volumes /var/lib/postgresql/data; ports 5432"
    assert db.volumes == ("/var/lib/postgresql/data",) and db.exposed == (5432,) and db.cap_add == profile("postgres").cap_add
    cache, note = profile_from_config("corp/redis", recorded("redis-healthcheck"))
    assert cache.healthcheck == ("CMD-SHELL", "redis-cli ping") and note.endswith("; its own healthcheck")
    # an image that shows no family and no user, but declares volumes: a profile of those facts only
    bare = {"Env": ["PATH=/bin"], "Volumes": {"/srv/data/": {}}, "ExposedPorts": {"8080/tcp": {}}}
    only, note = profile_from_config("corp/app", bare)
    assert note == "corp/app: declares volumes /srv/data; ports 8080"
    assert only.volumes == ("/srv/data",) and not only.complete  # not a hardening profile


def run_with(text: str, profiles: dict, **settings):
    return harden_text(text, Settings(unsafe_fixes=True, profiles=MappingProxyType(profiles), **settings), fix=True)


def test_data_volumes_of_the_image_stay_writable_under_a_read_only_root_and_get_no_tmpfs():
    from hardener.runtime.facts import profile_from_config

    text = y("services:", "  db:", "    image: mirror/db:15", "    read_only: false")
    found, _ = profile_from_config("mirror/db", recorded("postgres"))
    remaining, fixed, out = run_with(text, {"mirror/db": found})
    fs = next(f for f in fixed if f.rule_id == "FS001")
    assert fs.message.endswith("; the image's data volume /var/lib/postgresql/data stays writable (an anonymous "
                               "volume unless the file mounts one)")
    assert "read_only: true" in out
    # a written path under the image's volume never becomes a tmpfs (it would replace the volume)
    from dataclasses import replace

    greedy = replace(found, writable=("/tmp", "/var/lib/postgresql/data/pg_wal"))
    _, _, out = run_with(text.replace("    read_only: false\n", ""), {"mirror/db": greedy})
    assert "- /tmp" in out and "pg_wal" not in out
    # a volume the file mounts there is not mentioned
    mounted = y("services:", "  db:", "    image: mirror/db:15", "    volumes:", "      - pg:/var/lib/postgresql/data",
                "volumes:", "  pg:")
    _, fixed, _ = run_with(mounted, {"mirror/db": found})
    assert "stays writable" not in next(f for f in fixed if f.rule_id == "FS001").message
    # without image facts (an engine-less run) nothing is said
    _, fixed, _ = harden_text(text, Settings(unsafe_fixes=True), fix=True)
    assert "stays writable" not in next(f for f in fixed if f.rule_id == "FS001").message


def test_an_image_healthcheck_that_runs_redis_cli_keeps_redis_without_a_password():
    from hardener.runtime.facts import profile_from_config

    text = y("services:", "  cache:", "    image: corp/redis:7")
    options = MappingProxyType({"AUTH001": MappingProxyType({"credentials": True})})
    _, fixed, plain = run_with(text, {}, options=options)
    assert "--requirepass" in plain  # no image facts: the password is turned on
    found, _ = profile_from_config("corp/redis", recorded("redis-healthcheck"))
    remaining, _, out = run_with(text, {"corp/redis": found}, options=options)
    assert "--requirepass" not in out  # its own healthcheck (redis-cli ping) would fail with NOAUTH
    auth = next(f for f in remaining if f.rule_id == "AUTH001")
    assert "a healthcheck runs redis-cli without the password" in auth.message


def test_an_observation_with_values_of_the_wrong_shape_is_one_line_and_exit_2(tmp_path):
    put(tmp_path, "compose.yaml", STACK)
    for broken in ({**APP, "pids": [1, 2]}, {**APP, "written_paths": ["/var/lib/app"]},
                   {**APP, "memory": {"peak_bytes": "lots"}}, {**APP, "users": "root"}):
        put(tmp_path, "hardener-observed.json", json.dumps(observation(app=broken)))
        proc = run_cli("fix", "--unsafe-fixes", str(tmp_path))
        assert proc.returncode == 2 and proc.stderr.count("\n") == 1, proc.stderr
        assert proc.stderr.startswith(f"hardener: error: {tmp_path}/hardener-observed.json: not a usable observation"), \
            proc.stderr
        assert (tmp_path / "compose.yaml").read_text() == STACK


def test_the_headroom_over_the_observed_peak_is_configurable_and_never_below_one(tmp_path):
    put(tmp_path, "compose.yaml", STACK)
    put(tmp_path, "hardener-observed.json", json.dumps(observation(app=APP)))
    proc = run_cli("check", "--format", "json", "--headroom", "2", str(tmp_path))
    messages = {(f["rule_id"], f["service"]): f["message"] for f in json.loads(proc.stdout)["findings"]}
    assert messages[("RES001", "app")].endswith(f"; observed peak 1.21G on {DAY} x 2; limit 2.5G")  # 2.42G, rounded up
    assert "local/app (app): memory 2.5G (observed peak 1240M x 2)" in proc.stderr
    for bad in ("0.5", "nan"):
        refused = run_cli("fix", "--headroom", bad, str(tmp_path))
        assert refused.returncode == 2 and refused.stderr.count("\n") == 1, refused.stderr
        assert "a limit below the observed peak would stop the service" in refused.stderr
    assert (tmp_path / "compose.yaml").read_text() == STACK


def test_the_observe_table_says_how_the_capabilities_were_found():
    from hardener.runtime.observe import render_text

    def row(service, caps):
        return {**service, "memory": {"peak_bytes": service["memory"]["peak_bytes"], "steady_bytes": None},
                "cpu": {"average_cores": None}, "capabilities": caps}

    doc = {"services": {"db": row(probed(DB, True), probed(DB, True)["capabilities"]),
                        "job": row(JOB, probed(JOB, False, "exited(1)")["capabilities"]),
                        "app": row(APP, {"method": "inferred", "cap_add": []})}}
    lines = render_text(doc).splitlines()
    assert "CAPS" in lines[0]
    by_name = {line.split()[0]: line.split() for line in lines[1:4]}
    assert "probed:ok" in by_name["db"] and "probed:FAILED" in by_name["job"] and "inferred" in by_name["app"]


# ---- USR001: the uid:gid an image was seen dropping to, as an unsafe fix

DROPS = y(
    "services:",
    "  db:",
    "    image: local/postgres:15-bookworm",
    "    volumes:",
    "      - {mount}",
    "      - ./init.sql:/docker-entrypoint-initdb.d/init.sql:ro",
    "      - type: tmpfs",
    "        target: /run/postgresql",
    "volumes:",
    "  pg:",
    "  ext:",
    "    external: true",
    "  hostdir:",
    "    driver_opts: {{type: none, o: bind, device: /srv/pg}}",
)


def _usr001(tmp_path, compose, obs, *extra):
    put(tmp_path, "compose.yaml", compose)
    if obs is not None:
        put(tmp_path, "hardener-observed.json", json.dumps(obs))
    proc = run_cli("check", "--format", "json", "--unsafe-fixes", "--select", "USR001", *extra, str(tmp_path))
    found = [f for f in json.loads(proc.stdout)["findings"] if f["rule_id"] == "USR001"]
    assert len(found) == 1, proc.stdout
    return found[0]


def _pid1(uid, gid, pattern="root-drops", workers=()):
    s = observed("local/postgres:15-bookworm", 75 << 20, pattern, uids=())
    main = {"pid": 10, "ppid": 0, "uid": uid, "gid": gid, "command": "postgres"}
    s["users"] = {"configured": "", "pid1": main, "pattern": pattern,
                  "processes": [main] + [{"uid": w, "gid": w, "command": "worker"} for w in workers]}
    return s


def test_usr001_runs_as_the_observed_drop_target_when_only_volumes_are_written(tmp_path):
    obs = observation(db=_pid1(999, 998))
    for mount in ("pg:/var/lib/postgresql/data", "/var/lib/postgresql/data",
                  "{type: volume, source: pg, target: /var/lib/postgresql/data}"):
        found = _usr001(tmp_path, DROPS.format(mount=mount), obs)
        assert f"observed dropping to uid 999 (gid 998) on {DAY}" in found["message"], (mount, found)
        assert found["fix"] == "unsafe" and found["fix_description"] == "run as 999:998 (observed)", found
    # fix writes it (only with --unsafe-fixes; never a safe fix), quoted, and the file stays valid
    put(tmp_path, "compose.yaml", DROPS.format(mount="pg:/var/lib/postgresql/data"))
    safe = run_cli("fix", "--select", "USR001", str(tmp_path))
    assert "user:" not in (tmp_path / "compose.yaml").read_text(), safe.stdout
    fixed = run_cli("fix", "--unsafe-fixes", "--select", "USR001", str(tmp_path))
    assert fixed.returncode in (0, 1), fixed.stderr
    text = (tmp_path / "compose.yaml").read_text()
    assert 'user: "999:998"' in service_block(text, "db"), text
    again = run_cli("fix", "--unsafe-fixes", "--select", "USR001", str(tmp_path))
    assert (tmp_path / "compose.yaml").read_text() == text, again.stdout  # idempotent


def test_usr001_keeps_no_user_when_the_observation_does_not_allow_one(tmp_path):
    dropped = observation(db=_pid1(999, 999))
    cases = {
        "bind mount": (DROPS.format(mount="./data:/var/lib/postgresql/data"), dropped),
        "long bind": (DROPS.format(mount="{type: bind, source: ./data, target: /var/lib/postgresql/data}"), dropped),
        "external volume": (DROPS.format(mount="ext:/var/lib/postgresql/data"), dropped),
        "volume bound to a host folder": (DROPS.format(mount="hostdir:/var/lib/postgresql/data"), dropped),
        "undeclared volume": (DROPS.format(mount="other:/var/lib/postgresql/data"), dropped),
        "stays root (a root master, workers as 101)": (DROPS.format(mount="pg:/var/lib/postgresql/data"),
                                                       observation(db=_pid1(0, 0, workers=(101,)))),
        "root throughout": (DROPS.format(mount="pg:/var/lib/postgresql/data"), observation(db=_pid1(0, 0, "root"))),
        "no observation": (DROPS.format(mount="pg:/var/lib/postgresql/data"), None),
    }
    for case, (compose, obs) in cases.items():
        (tmp_path / "hardener-observed.json").unlink(missing_ok=True)
        found = _usr001(tmp_path, compose, obs)
        assert found["fix"] == "none" and "no user is forced" in found["message"], (case, found)
        assert "observed dropping" not in found["message"], case
    # an observation present but not read
    found = _usr001(tmp_path, DROPS.format(mount="pg:/var/lib/postgresql/data"), dropped, "--no-observed")
    assert found["fix"] == "none", found
