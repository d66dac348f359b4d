"""`hardener observe` without an engine: memory as `docker stats` counts it, listening sockets from
/proc/net tables, the folders a container writes outside its volumes, whether the image had files
there, the users' pattern, and the CLI's one-line refusals."""
from __future__ import annotations

import io
import json
import re
import tarfile

import pytest

from hardener.runtime.observe import (image_files, listening, memory_bytes, processes, service_tree, user_pattern,
                                      written_paths, _Samples)

from hardener.runtime.derive import DROP_CAPS, ObservationError, derive, load, round_memory

from conftest import put, run_cli, y

TCP = """  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:1538 00000000:0000 0A 00000000:00000000 00:00000000 00000000   999        0 1 1 0 100 0 0 10 0
   1: 0B00007F:B4A5 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2 1 0 100 0 0 10 0
   2: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 3 1 0 100 0 0 10 0
   3: 0200000A:1538 0300000A:D431 01 00000000:00000000 00:00000000 00000000   999        0 4 1 0 100 0 0 10 0
"""
TCP6 = """  sl  local_address                         remote_address                        st tx_queue rx_queue
   0: 00000000000000000000000000000000:1538 00000000000000000000000000000000:0000 0A 00000000:00000000
"""
UDP = """  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
  10: 0B00007F:D5E2 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 5 2 0 0
  11: 00000000:14E9 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 6 2 0 0
"""


def test_listening_sockets_leave_out_connections_and_the_engines_dns():
    assert listening({"tcp": TCP, "tcp6": TCP6, "udp": UDP}) == [
        {"port": 5353, "protocol": "udp", "address": "0.0.0.0"},
        {"port": 5432, "protocol": "tcp", "address": "0.0.0.0"},
        {"port": 5432, "protocol": "tcp", "address": "::"},
        {"port": 8080, "protocol": "tcp", "address": "127.0.0.1"},
    ]


def test_memory_as_docker_stats_counts_it():
    v1 = {"memory_stats": {"usage": 100_000, "max_usage": 150_000, "stats": {"total_inactive_file": 30_000, "cache": 50_000}}}
    v2 = {"memory_stats": {"usage": 100_000, "stats": {"inactive_file": 10_000}}}
    assert memory_bytes(v1) == 70_000
    assert memory_bytes(v2) == 90_000
    assert memory_bytes({"memory_stats": {"usage": 5, "stats": {"cache": 9}}}) == 0
    assert memory_bytes({}) is None
    samples = _Samples()
    for usage in (10, 50, 40, 30):
        samples.add({"memory_stats": {"usage": usage << 20, "max_usage": 80 << 20, "stats": {}},
                     "pids_stats": {"current": usage // 10}, "cpu_stats": {"cpu_usage": {"total_usage": usage * 10**9}}})
    summary = samples.summary()
    assert summary["memory"]["peak_bytes"] == 80 << 20  # the cgroup's own peak beats the samples
    assert summary["memory"]["steady_bytes"] == 35 << 20  # median of the second half
    assert summary["pids"]["peak"] == 5
    assert _Samples().summary()["memory"]["peak_bytes"] is None


CHANGES = [
    {"Path": "/run", "Kind": 0}, {"Path": "/run/nginx.pid", "Kind": 1},
    {"Path": "/var", "Kind": 0}, {"Path": "/var/cache", "Kind": 0}, {"Path": "/var/cache/nginx", "Kind": 0},
    {"Path": "/var/cache/nginx/client_temp", "Kind": 1}, {"Path": "/var/cache/nginx/proxy_temp", "Kind": 1},
    {"Path": "/var/cache/nginx/proxy_temp/1", "Kind": 1},
    {"Path": "/etc", "Kind": 0}, {"Path": "/etc/nginx", "Kind": 0}, {"Path": "/etc/nginx/conf.d", "Kind": 0},
    {"Path": "/etc/nginx/conf.d/default.conf", "Kind": 0},
    {"Path": "/tmp", "Kind": 0}, {"Path": "/tmp/x", "Kind": 1},
    {"Path": "/var/lib", "Kind": 0}, {"Path": "/var/lib/app", "Kind": 0}, {"Path": "/var/lib/app/db", "Kind": 1},
    {"Path": "/opt", "Kind": 0}, {"Path": "/opt/new", "Kind": 1}, {"Path": "/opt/new/deep", "Kind": 1},
    {"Path": "/usr", "Kind": 0}, {"Path": "/usr/share", "Kind": 0}, {"Path": "/usr/share/doc", "Kind": 2},
]


def test_written_paths_are_the_image_folders_written_into_outside_volumes_and_tmpfs():
    found = written_paths(CHANGES, ["/tmp", "/var/lib/app"])
    assert found == [
        {"path": "/etc/nginx/conf.d", "in_image": True, "entries": 1},  # a file changed in place
        {"path": "/opt/new", "in_image": False, "entries": 2},  # one new tree: its own mount point
        {"path": "/run", "in_image": True, "entries": 1},
        {"path": "/usr/share", "in_image": True, "entries": 1},  # a deletion writes too
        {"path": "/var/cache/nginx", "in_image": True, "entries": 3},  # several new folders in an image folder
    ]
    assert written_paths([], []) == []


def tar_of(entries: dict) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, data in entries.items():
            info = tarfile.TarInfo(name)
            if data is None:
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            else:
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def test_image_files_tell_whether_a_tmpfs_would_hide_something():
    changes = [{"Path": "/var/cache/nginx/client_temp", "Kind": 1}, {"Path": "/var/cache/nginx/pid", "Kind": 1}]
    only_new = tar_of({"nginx": None, "nginx/client_temp": None, "nginx/pid": b"1"})
    assert image_files(only_new, "/var/cache/nginx", changes) is False
    with_image_file = tar_of({"conf.d": None, "conf.d/default.conf": b"server {}", "conf.d/new.conf": b""})
    assert image_files(with_image_file, "/etc/nginx/conf.d", [{"Path": "/etc/nginx/conf.d/new.conf", "Kind": 1}]) is True
    assert image_files(None, "/x", []) is None
    assert image_files(b"not a tar", "/x", []) is None


def test_user_patterns_and_processes():
    top = {"Titles": ["PID", "PPID", "UID", "GID", "COMMAND"],
           "Processes": [["10", "1", "0", "0", "nginx"], ["11", "10", "101", "101", "nginx"], ["x", "", "", "", ""]]}
    procs = processes(top)
    assert [(p["pid"], p["uid"], p["command"]) for p in procs] == [(10, 0, "nginx"), (11, 101, "nginx")]
    assert user_pattern("", procs) == "root-drops"  # a root master with workers under another uid
    assert user_pattern("", [{"uid": 999}]) == "root-drops"  # gosu: everything runs as 999
    assert user_pattern("root", [{"uid": 0}]) == "root"
    assert user_pattern("1000:1000", [{"uid": 1000}]) == "non-root"
    assert user_pattern("0:0", [{"uid": 0}]) == "root"
    probe = [{"pid": 5, "ppid": 1, "uid": 999, "gid": 999, "command": "postgres"},
             {"pid": 6, "ppid": 5, "uid": 999, "gid": 999, "command": "postgres"},
             {"pid": 9, "ppid": 2, "uid": 0, "gid": 0, "command": "pg_isready"}]  # a healthcheck beside it
    assert [p["pid"] for p in service_tree(probe, 5)] == [5, 6]
    assert service_tree(probe, 77) == probe


def test_observe_refuses_a_too_short_duration_and_a_missing_engine(tmp_path):
    put(tmp_path, "compose.yaml", y("services:", "  web:", "    image: nginx:1.27"))
    proc = run_cli("observe", "--duration", "1", str(tmp_path), env={"DOCKER_HOST": f"unix://{tmp_path}/x.sock"})
    assert proc.returncode == 2
    assert proc.stderr == "hardener: error: --duration 1 is too short to observe anything: at least 5 s\n"
    proc = run_cli("observe", "--duration", "10", str(tmp_path), env={"DOCKER_HOST": f"unix://{tmp_path}/x.sock"})
    assert proc.returncode == 2 and proc.stderr.startswith("hardener: error: no Docker engine answers at unix://")
    assert proc.stderr.count("\n") == 1
    assert not (tmp_path / "hardener-observed.json").exists()


# ---- from an observation to image profiles (no engine)

def observation(**services) -> dict:
    return {"version": 1, "kind": "hardener-observed", "observed_at": "2026-12-06T21:00:00Z", "services": services}


def observed_service(image, peak_mb, pattern, written=(), ports=()):
    return {"image": image, "memory": {"peak_bytes": int(peak_mb * (1 << 20))},
            "written_paths": [{"path": p, "in_image": True, "image_files": files} for p, files in written],
            "users": {"pattern": pattern}, "listening": [{"port": p, "protocol": "tcp"} for p in ports]}


def test_round_memory():
    assert [round_memory(n << 20) for n in (1, 64, 65, 200, 1000, 1024, 1100, 1229, 3000)] == [
        "64M", "64M", "128M", "256M", "1024M", "1G", "1.25G", "1.25G", "3G"]


def test_derive_profiles_from_an_observation():
    doc = observation(
        web=observed_service("registry.example/mirror/nginx:1.22", 6, "root-drops",
                             [("/var/cache/nginx", False), ("/etc/nginx/conf.d", True)], [80]),
        db=observed_service("local/postgres:15-bookworm", 75, "root-drops", [("/run/postgresql", False)], [5432]),
        app=observed_service("local/app:2", 820, "root", [("/var/lib/app", False)], [8080]),
        api=observed_service("local/api:1", 1229, "non-root"),
        api2=observed_service("local/api:1", 300, "non-root"),
    )
    found = derive(doc, "x.json")
    web = found.profiles["mirror/nginx"]
    assert web.cap_add == DROP_CAPS + ("NET_BIND_SERVICE",) and web.user is None and not web.default_non_root
    assert web.writable == ("/tmp", "/var/cache/nginx")  # conf.d holds the image's files: never a tmpfs
    assert web.memory == "128M"  # the floor
    db = found.profiles["local/postgres"]
    assert db.cap_add == DROP_CAPS and db.writable == ("/tmp", "/run/postgresql") and db.memory == "128M"
    app = found.profiles["local/app"]
    assert app.cap_add == () and app.memory == "1.25G"  # 820M x 1.5 = 1230M
    api = found.profiles["local/api"]
    assert api.default_non_root and api.memory == "2G"  # the highest peak of its services: 1229M x 1.5 = 1844M
    assert any("not as tmpfs (the image has files there): /etc/nginx/conf.d" in n for n in found.notes)
    assert any(n.startswith("local/app (app): memory 1.25G (observed peak 820M x 1.5)") for n in found.notes)


def test_load_refuses_foreign_corrupt_and_future_files(tmp_path):
    good = put(tmp_path, "good.json", json.dumps(observation()))
    assert load(str(good))["kind"] == "hardener-observed"
    for name, text, message in (
            ("bad.json", "{not json", "not an observation file (invalid JSON"),
            ("other.json", '{"version": 1, "runs": []}', "not an observation file (no kind"),
            ("future.json", json.dumps({**observation(), "version": 9}), "observation version 9 is not supported")):
        with pytest.raises(ObservationError, match=re.escape(message)):
            load(str(put(tmp_path, name, text)))
    with pytest.raises(ObservationError, match="cannot read the observation"):
        load(str(tmp_path / "missing.json"))


UNKNOWN = y(
    "services:",
    "  web:",
    "    image: local/nginx:1.22-bookworm",
)


def test_check_and_fix_use_the_observation_beside_the_file(tmp_path):
    put(tmp_path, "compose.yaml", UNKNOWN)
    plain = run_cli("fix", "--diff", "--unsafe-fixes", str(tmp_path))
    assert "cap_add" not in plain.stdout and "using the observation" not in plain.stderr
    put(tmp_path, "hardener-observed.json", json.dumps(observation(
        web=observed_service("local/nginx:1.22-bookworm", 300, "root-drops", [("/var/cache/nginx", False)], [80]))))
    proc = run_cli("fix", "--diff", "--unsafe-fixes", str(tmp_path))
    assert f"hardener: using the observation {tmp_path}/hardener-observed.json (2026-12-06T21:00:00Z):" in proc.stderr
    assert "      - NET_BIND_SERVICE\n" in proc.stdout and "      - /var/cache/nginx\n" in proc.stdout
    assert "memory: 512M" in proc.stdout  # 300M x 1.5 = 450M, rounded up
    ignored = run_cli("fix", "--diff", "--unsafe-fixes", "--no-observed", str(tmp_path))
    assert ignored.stdout == plain.stdout
    assert (tmp_path / "compose.yaml").read_text() == UNKNOWN


def test_a_corrupt_observation_is_one_line_and_nothing_is_written(tmp_path):
    put(tmp_path, "compose.yaml", UNKNOWN)
    bad = put(tmp_path, "elsewhere.json", "[1, 2]")
    proc = run_cli("fix", "--unsafe-fixes", "--observed", str(bad), str(tmp_path))
    assert proc.returncode == 2
    assert proc.stderr == f"hardener: error: {bad}: not an observation file (no kind 'hardener-observed' with services)\n"
    assert (tmp_path / "compose.yaml").read_text() == UNKNOWN


def test_an_observation_of_another_image_id_is_stale_and_left_out():
    doc = observation(db={**observed_service("local/postgres:15", 75, "root-drops"), "image_id": "sha256:" + "a" * 64},
                      web={**observed_service("local/nginx:1", 6, "root-drops"), "image_id": "sha256:" + "b" * 64})
    found = derive(doc, current={"local/postgres:15": "sha256:" + "c" * 64, "local/nginx:1": "sha256:" + "b" * 64})
    assert set(found.profiles) == {"local/nginx"}
    assert found.notes[0] == ("local/postgres (db): stale, observed on image sha256:aaaaaaaaaaaa, the engine now "
                              "has sha256:cccccccccccc: not used (observe again)")
    assert set(derive(doc, current={"local/postgres:15": None}).profiles) == {"local/nginx", "local/postgres"}
    assert set(derive(doc).profiles) == {"local/nginx", "local/postgres"}  # no engine: nothing to compare


# ---- image facts (no engine: the image configuration as the engine returns it)

def test_families_are_recognised_by_the_official_images_variables():
    from hardener.images import profile
    from hardener.runtime.facts import family, profile_from_config

    pg = {"Env": ["PATH=/usr/bin", "PG_MAJOR=15", "PGDATA=/var/lib/postgresql/data"], "User": ""}
    assert family(pg) == "postgres"
    found, note = profile_from_config("mirror/db", pg)
    assert found.cap_add == profile("postgres").cap_add and found.writable == profile("postgres").writable
    assert note == "mirror/db: built like postgres (PG_MAJOR)"
    assert family({"Env": ["NGINX_VERSION=1.22"]}) == "nginx"
    assert family({"Env": ["MARIADB_MAJOR=10.11"]}) == "mariadb"
    assert family({"Env": ["REDIS_VERSION=7.0"]}) == "redis"
    app, note = profile_from_config("corp/api", {"Env": ["PATH=/bin"], "User": "10001:10001"})
    assert app.default_non_root and note == "corp/api: runs as user 10001:10001 by default"
    assert profile_from_config("corp/tool", {"Env": ["PATH=/bin"], "User": "root"}) == (None, None)
    assert profile_from_config("corp/tool", {}) == (None, None)


def test_image_facts_without_an_engine_change_nothing(tmp_path):
    put(tmp_path, "compose.yaml", UNKNOWN)
    env = {"DOCKER_HOST": f"unix://{tmp_path}/none.sock"}
    plain = run_cli("fix", "--diff", "--unsafe-fixes", str(tmp_path), env=env)
    facts = run_cli("fix", "--diff", "--unsafe-fixes", "--image-facts", str(tmp_path), env=env)
    assert facts.stdout == plain.stdout
    assert facts.stderr.startswith("hardener: image facts: image facts not read: no Docker engine answers at unix://")
