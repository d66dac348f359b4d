"""The runtime package without an engine: project names, isolating the resolved model (checked by the
real `docker compose config`), container states and verdicts, evidence from logs, the bisect's
bookkeeping, and the CLI's one-line failures when no engine answers or the input is bad."""
from __future__ import annotations

import json
import re
import subprocess
from datetime import datetime, timedelta, UTC

import pytest

from hardener.runtime import project as proj
from hardener.runtime.engine_api import demux
from hardener.runtime.orchestrate import _only
from hardener.runtime.states import (EXITED, HEALTHY, IMPROVED, NOT_JUDGED, OK, OOMKILLED, REGRESSION, RESTARTING,
                                     RUNNING, STARTING, UNHEALTHY, State, at_deadline, classify, compare, evidence,
                                     worst)
from hardener.runtime.verify import (Project, _dependencies, _needs_service_check, AppliedFix, select_project,
                                     settings_without)
from hardener.runtime.project import CannotRun
from hardener.settings import Settings

from conftest import put, run_cli, y

NOW = datetime(2026, 12, 6, 21, 0, 0, tzinfo=UTC)


def stamp(seconds_ago: float) -> str:
    return (NOW - timedelta(seconds=seconds_ago)).strftime("%Y-%m-%dT%H:%M:%S.123456789Z")


# ---- project names

def test_project_names_are_fresh_valid_and_carry_the_label():
    names = {proj.project_name("hardened") for _ in range(50)}
    assert len(names) == 50
    for name in names:
        assert re.fullmatch(r"hardener-verify-[0-9a-f]{8}-hardened", name)


def test_project_name_sanitises_labels_and_prefixes_and_stays_short():
    name = proj.project_name("only-CAP001 on Web/DB!" + "x" * 80, token="abcd", prefix="Runtime")
    assert re.fullmatch(r"[a-z0-9][a-z0-9_-]*", name)
    assert name.startswith("runtime-abcd-only-cap001-on-web-db-")
    assert len(name) <= 63
    assert proj.project_name("", token="t") == "hardener-verify-t-run"


# ---- isolating the resolved model

MODEL = {
    "name": "shop",
    "services": {
        "web": {"image": "nginx:1.27", "container_name": "shop-web",
                "ports": [{"mode": "ingress", "target": 80, "published": "8080", "protocol": "tcp"},
                          {"mode": "ingress", "host_ip": "127.0.0.1", "target": 443, "published": "8443",
                           "protocol": "tcp"},
                          {"mode": "ingress", "target": 9000, "protocol": "tcp"}],
                "networks": {"front": None}},
        "db": {"image": "postgres:16", "volumes": [{"type": "volume", "source": "data", "target": "/var/lib/x"},
                                                   {"type": "volume", "source": "shared", "target": "/s"}],
               "environment": {"POSTGRES_PASSWORD": "s3cret-value", "TZ": "UTC"}, "networks": {"front": None}},
        "job": {"build": {"context": "/tmp/x"}, "image": "shop/job"},
    },
    "volumes": {"data": {"name": "shop_data"}, "shared": {"name": "company-shared", "external": True}},
    "networks": {"front": {"name": "proxy-net", "external": True}, "default": {"name": "shop_default"}},
}


def test_isolate_drops_published_ports_container_names_and_owns_volumes_and_networks():
    before = json.dumps(MODEL, sort_keys=True)
    out = proj.isolate(MODEL, "hardener-verify-1234-original")
    assert json.dumps(MODEL, sort_keys=True) == before  # the argument is left as it was
    assert out["name"] == "hardener-verify-1234-original"
    web = out["services"]["web"]
    assert "container_name" not in web
    assert [p.get("published") for p in web["ports"]] == [None, None, None]
    assert [p["target"] for p in web["ports"]] == [80, 443, 9000]
    assert web["ports"][1]["host_ip"] == "127.0.0.1"  # a loopback port stays on loopback
    assert out["volumes"] == {"data": {"name": "hardener-verify-1234-original_data"},
                              "shared": {"name": "hardener-verify-1234-original_shared"}}
    assert out["networks"]["front"] == {"name": "hardener-verify-1234-original_front"}
    assert out["networks"]["default"] == {"name": "hardener-verify-1234-original_default"}


def test_isolated_model_is_accepted_by_docker_compose(compose_binary, tmp_path):
    """The rewritten model, run through the real Compose: valid, ports without a fixed host port,
    every volume and network the run's own."""
    put(tmp_path, "compose.yaml", y(
        "services:",
        "  web:",
        "    image: nginx:1.27",
        "    container_name: mine",
        "    ports: ['8080:80', '127.0.0.1:5432:5432']",
        "    volumes: [data:/data, ext:/ext]",
        "    networks: [front]",
        "volumes:",
        "  data:",
        "  ext:",
        "    external: true",
        "networks:",
        "  front:",
        "    name: company-proxy",
    ))
    resolved = subprocess.run([compose_binary, "-p", "p1", "-f", "compose.yaml", "config", "--format", "json"],
                              cwd=tmp_path, capture_output=True, text=True, timeout=60, check=True)
    out = proj.isolate(json.loads(resolved.stdout), "hardener-verify-ab12-hardened")
    (tmp_path / "run.json").write_text(json.dumps(out))
    again = subprocess.run([compose_binary, "-f", "run.json", "config", "--format", "json"], cwd=tmp_path,
                           capture_output=True, text=True, timeout=60)
    assert again.returncode == 0, again.stderr
    model = json.loads(again.stdout)
    assert model["name"] == "hardener-verify-ab12-hardened"
    web = model["services"]["web"]
    assert "container_name" not in web
    assert all(not p.get("published") for p in web["ports"])
    assert {p.get("host_ip") for p in web["ports"]} == {None, "127.0.0.1"}
    assert {v["name"] for v in model["volumes"].values()} == {"hardener-verify-ab12-hardened_data",
                                                               "hardener-verify-ab12-hardened_ext"}
    assert not any(v.get("external") for v in model["volumes"].values())
    assert model["networks"]["front"]["name"] == "hardener-verify-ab12-hardened_front"


def test_published_ports_images_and_secret_values():
    assert proj.published_ports(MODEL) == {"web": ["0.0.0.0:8080->80/tcp", "127.0.0.1:8443->443/tcp"]}
    assert proj.images_needed(MODEL) == {"web": "nginx:1.27", "db": "postgres:16"}  # job is built
    assert proj.secret_values(MODEL) == ["s3cret-value"]


def test_only_keeps_services_and_their_dependencies():
    model = {"services": {"a": {"depends_on": {"b": {}}}, "b": {"network_mode": "service:c"}, "c": {}, "d": {}}}
    assert set(_only(model, ("a",))["services"]) == {"a", "b", "c"}
    assert set(_only(model, ("d",))["services"]) == {"d"}
    assert _dependencies(model, "a") == {"b", "c"}
    assert _dependencies(model, "d") == set()


# ---- states

def inspect(status="running", health=None, restarts=0, code=0, oom=False, started=60.0, restarting=False,
            output=""):
    st = {"Status": status, "Running": status == "running", "Restarting": restarting, "OOMKilled": oom,
          "ExitCode": code, "StartedAt": stamp(started)}
    if health:
        st["Health"] = {"Status": health, "Log": [{"ExitCode": 1, "Output": output}] if output else []}
    return {"State": st, "RestartCount": restarts}


@pytest.mark.parametrize("doc,state,final", [
    (inspect(health="healthy"), HEALTHY, True),
    (inspect(health="unhealthy", output="curl: (7) Failed to connect"), UNHEALTHY, True),
    (inspect(health="starting"), STARTING, False),
    (inspect(started=30), RUNNING, True),  # up longer than the settle time, no healthcheck
    (inspect(started=2), STARTING, False),  # not yet settled
    (inspect(status="exited", code=1), EXITED, True),
    (inspect(status="exited", code=0), EXITED, True),
    (inspect(status="exited", code=137, oom=True), OOMKILLED, True),
    (inspect(status="restarting", restarting=True, restarts=1, code=1), RESTARTING, False),
    (inspect(status="restarting", restarting=True, restarts=3, code=1), RESTARTING, True),
    (inspect(status="running", restarts=4, started=1), RESTARTING, True),  # crash loop caught running
    (inspect(status="created"), "created", True),
])
def test_classify(doc, state, final):
    got = classify(doc, settle=10, now=NOW)
    assert (got.state, got.final) == (state, final)


def test_state_labels_ok_and_worst_of_replicas():
    assert State(EXITED, 3).label() == "exited(3)"
    assert State(OOMKILLED, 137, oom_killed=True).label() == "oomkilled(137)"
    assert State(RESTARTING, 1, 2).label() == "restarting(1)"
    assert State(HEALTHY).ok and State(RUNNING).ok and State(EXITED, 0).ok
    assert not State(EXITED, 1).ok and not State(UNHEALTHY).ok and not State(STARTING).ok
    assert worst([State(HEALTHY), State(RESTARTING, 1, 3), State(HEALTHY)]).state == RESTARTING
    assert worst([]).state == "absent"
    late = at_deadline(State(STARTING, final=False))
    assert late.final and not late.ok


@pytest.mark.parametrize("orig,hard,verdict", [
    (State(HEALTHY), State(HEALTHY), OK),
    (State(RUNNING), State(RUNNING), OK),
    (State(EXITED, 0), State(EXITED, 0), OK),
    (State(HEALTHY), State(UNHEALTHY), REGRESSION),
    (State(HEALTHY), State(STARTING), REGRESSION),
    (State(HEALTHY), State(RESTARTING, 1, 3), REGRESSION),
    (State(RUNNING), State(EXITED, 1), REGRESSION),
    (State(EXITED, 0), State(RUNNING), REGRESSION),  # a one-shot job that no longer ends is not the same
    (State(EXITED, 1), State(EXITED, 1), NOT_JUDGED),
    (State(UNHEALTHY), State(HEALTHY), IMPROVED),
])
def test_compare(orig, hard, verdict):
    assert compare(orig, hard) == verdict


# ---- evidence

LOGS = [
    "PostgreSQL init process starting",
    "password is hunter2-secret, connecting",
    "chown: changing ownership of '/var/run/postgresql': Read-only file system",
    "2026/12/06 [emerg] 1#1: chown(\"/var/cache/nginx/client_temp\", 101) failed (1: Operation not permitted)",
    "mkdir() \"/var/cache/nginx\" failed (13: Permission denied)",
    "LOG:  database system is ready",
    "FATAL: could not connect with password hunter2-secret",
]


def test_evidence_picks_the_telling_lines_first_and_masks_secrets():
    lines = evidence(State(EXITED, 1, 2), LOGS, ["hunter2-secret"])
    assert lines[0] == "exit code 1 after 2 restart(s)"
    assert lines[1:4] == [LOGS[2], LOGS[3], LOGS[4]]  # permission, read-only, not-permitted lines first
    assert "FATAL: could not connect with password ***" in lines
    assert not any("hunter2" in line for line in lines)
    assert not any("database system is ready" in line or "init process" in line for line in lines)


def test_evidence_of_oom_kills_and_healthchecks():
    assert evidence(State(OOMKILLED, 137, oom_killed=True), [])[:2] == [
        "OOMKilled: the container was killed by its memory limit", "exit code 137"]
    lines = evidence(State(UNHEALTHY, health_output="curl: (22) The requested URL returned error: 404"), [])
    assert lines == ["healthcheck: curl: (22) The requested URL returned error: 404"]
    long = evidence(State(EXITED, 1), ["error " + "x" * 1000] * 20)
    assert len(long) <= 7 and all(len(line) <= 240 for line in long)


def test_demux_reads_framed_log_streams_and_leaves_tty_output_alone():
    framed = b"\x01\0\0\0\0\0\0\x06hello\n" + b"\x02\0\0\0\0\0\0\x0boops error\n"
    assert demux(framed) == b"hello\noops error\n"
    assert demux(b"plain tty output\n") == b"plain tty output\n"
    assert demux(b"") == b""


# ---- the bisect's bookkeeping

def fix(rule, service, services=None):
    return AppliedFix(rule, rule.lower(), service, tuple(services or (service,)), "compose.yaml", 1, "")


def test_service_check_only_when_a_fix_reaches_beyond_the_service_or_into_a_dependency():
    model = {"services": {"web": {"depends_on": {"db": {}}}, "db": {}, "cache": {}}}
    applied = [fix("CAP001", "web"), fix("CAP001", "db"), fix("CAP001", "cache"), fix("FS001", "cache"),
               fix("LOG001", "web", ("web", "cache"))]
    assert _needs_service_check("CAP001", "web", applied, model)  # CAP001 also changed db, which web needs
    assert not _needs_service_check("CAP001", "cache", applied, model)
    assert not _needs_service_check("FS001", "cache", applied, model)
    assert _needs_service_check("LOG001", "web", applied, model)  # one edit (an anchor) changes two services


def test_settings_without_adds_per_service_ignores():
    base = Settings(service_ignores={"legacy": frozenset(), "db": frozenset({"PRT001"})})
    out = settings_without(base, {("CAP001", "db"), ("FS001", "web"), ("USR001", "legacy")})
    assert out.service_ignores == {"legacy": frozenset(), "db": frozenset({"PRT001", "CAP001"}),
                                   "web": frozenset({"FS001"})}
    assert settings_without(base, set()) is base


STACK = y(
    "services:",
    "  web:",
    "    image: nginx:1.27",
    "  db:",
    "    image: postgres:16",
)


def test_project_variants_apply_one_rule_one_service_or_all_less_the_dropped(tmp_path):
    path = put(tmp_path, "compose.yaml", STACK)
    project = Project([str(path)], lambda _: Settings(unsafe_fixes=True))
    texts, applied = project.variant()
    every = {(f.rule, f.service) for f in applied}
    assert {("CAP001", "web"), ("CAP001", "db"), ("LOG001", "web")} <= every
    _, only = project.variant(only_rule="CAP001")
    assert {(f.rule, f.service) for f in only} == {("CAP001", "web"), ("CAP001", "db")}
    _, one = project.variant(only_rule="CAP001", only_service="db", services=["web", "db"])
    assert {(f.rule, f.service) for f in one} == {("CAP001", "db")}
    dropped_texts, less = project.variant(drop={("CAP001", "db"), ("FS001", "web")})
    assert {(f.rule, f.service) for f in less} == every - {("CAP001", "db"), ("FS001", "web")}
    assert path.read_text() == STACK  # variants are texts in memory; the user's file is never written
    assert project.outputs(texts) == {str(path): texts["compose.yaml"]}
    assert "read_only" not in dropped_texts["compose.yaml"].split("  db:")[0]


def test_select_project():
    assert select_project([["a/compose.yaml"]], None) == ["a/compose.yaml"]
    with pytest.raises(CannotRun, match="2 projects found"):
        select_project([["a/compose.yaml"], ["b/compose.yaml"]], None)
    with pytest.raises(CannotRun, match="no compose file"):
        select_project([], None)


def test_project_refuses_stdin_and_bad_files(tmp_path):
    with pytest.raises(CannotRun, match="standard input"):
        Project(["-"], lambda _: Settings())
    bad = put(tmp_path, "compose.yaml", "services:\n  web: [\n")
    with pytest.raises(CannotRun, match=r"compose.yaml:\d+:\d+: "):
        Project([str(bad)], lambda _: Settings())


# ---- the CLI without an engine

def test_verify_without_an_engine_exits_2_with_one_line(tmp_path):
    put(tmp_path, "compose.yaml", STACK)
    env = {"DOCKER_HOST": f"unix://{tmp_path}/no-engine.sock"}
    for args in (["verify", str(tmp_path)], ["fix", "--verify", "--unsafe-fixes", str(tmp_path)]):
        proc = run_cli(*args, env=env)
        assert proc.returncode == 2, proc.stderr
        assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
        assert proc.stderr.startswith("hardener: error: no Docker engine answers at unix://")
        assert (tmp_path / "compose.yaml").read_text() == STACK


def test_verify_of_an_invalid_file_exits_2_with_its_position(tmp_path):
    put(tmp_path, "compose.yaml", "services:\n  web: [\n")
    proc = run_cli("verify", str(tmp_path / "compose.yaml"), env={"DOCKER_HOST": f"unix://{tmp_path}/x.sock"})
    assert proc.returncode == 2
    assert re.fullmatch(r"hardener: error: .*compose.yaml:\d+:\d+: .*\n", proc.stderr), proc.stderr


def test_verify_refuses_bad_options_in_one_line(tmp_path):
    put(tmp_path, "compose.yaml", STACK)
    proc = run_cli("verify", "--format", "sarif", str(tmp_path))
    assert proc.returncode == 2 and proc.stderr == "hardener: error: unknown format 'sarif' for verify (choose from text, json)\n"
    proc = run_cli("verify", "--runtime-file", str(tmp_path / "missing.yaml"), str(tmp_path))
    assert proc.returncode == 2 and "no such runtime file" in proc.stderr
    put(tmp_path, "b/compose.yaml", STACK)
    proc = run_cli("fix", "--verify", str(tmp_path / "compose.yaml"), str(tmp_path / "b"))
    assert proc.returncode == 2 and "one project" in proc.stderr


def test_copy_project_skips_vcs_folders_refuses_huge_trees_and_is_removed(tmp_path, monkeypatch):
    src = tmp_path / "src"
    put(src, "compose.yaml", STACK)
    put(src, "site/index.html", "hi")
    put(src, ".git/HEAD", "ref")
    (src / "site").chmod(0o555)
    work = proj.make_workdir()
    try:
        proj.copy_project(src, work / "project")
        assert (work / "project" / "site" / "index.html").read_text() == "hi"
        assert not (work / "project" / ".git").exists()
    finally:
        proj.remove_workdir(work)
        (src / "site").chmod(0o755)
    assert not work.exists()
    monkeypatch.setattr(proj, "MAX_COPY_FILES", 1)
    with pytest.raises(CannotRun, match="too big to copy"):
        proj.copy_project(src, tmp_path / "dest")
    assert proj.copy_root([str(src / "compose.yaml"), str(src / "site" / "x.yaml")]) == src
