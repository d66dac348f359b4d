"""The anchored-stack acceptance test: real-world compose files that share settings through YAML
anchors and merge keys, hardened through the real command line and judged by the real Docker Compose
binary (`config --format json`).

Three stacks under tests/fixtures/stacks/:

- anchored/: the api service's mapping is the anchor (`api: &app`), worker and scheduler merge it;
- anchored-x/: the common settings are a top-level `x-app` block that api, worker and an ignored
  service (`legacy-sync:  # hardener: ignore`) merge;
- anchored-silenced/: the api service's mapping is the anchor and one of its heirs is ignored.

Each stack has a `${VAR}` port and a long-syntax port, a postgres and a redis service.
"""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from deepdiff import DeepDiff

from conftest import compose_config, run_cli as cli, service_block, top_block

STACKS = Path(__file__).resolve().parent / "fixtures" / "stacks"


# --------------------------------------------------------------------------- helpers

def copy_stack(tmp_path: Path, name: str) -> Path:
    """The stack's compose file copied into a fresh folder (fixtures are never written)."""
    folder = tmp_path / name
    shutil.copytree(STACKS / name, folder)
    return folder / "compose.yaml"


def fix_stack(run_cli, tmp_path, name, *args):
    """(file, text before, text after, the CLI run) of `fix --unsafe-fixes` on a copy of the stack."""
    path = copy_stack(tmp_path, name)
    before = path.read_text(encoding="utf-8")
    proc = run_cli("fix", "--unsafe-fixes", "--isolated", *args, path)
    assert proc.returncode in (0, 1), proc.stderr
    after = path.read_text(encoding="utf-8")
    return path, before, after, proc


_MODELS: dict = {}


def model(binary, text):
    """The normalized model from the real compose binary (cached by text: the stacks are fixed once)."""
    if text not in _MODELS:
        code, data, err = compose_config(binary, text)
        assert code == 0, err
        _MODELS[text] = data
    return _MODELS[text]


@pytest.fixture(scope="module")
def fixed(tmp_path_factory):
    """fixed(stack) -> (file, before, after) of one `fix --unsafe-fixes` run per stack and module."""
    done = {}

    def get(name):
        if name not in done:
            done[name] = fix_stack(cli, tmp_path_factory.mktemp("stack"), name)[:3]
        return done[name]
    return get




def registered_rules(run_cli) -> set[str]:
    proc = run_cli("rules", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    return {r["id"] for r in json.loads(proc.stdout)}


def assert_hardened(svc: dict, name: str, *, user: bool, segmented: bool = True):
    """What `fix --unsafe-fixes` must leave in a service's normalized model."""
    assert "ALL" in (svc.get("cap_drop") or []), f"{name}: cap_drop {svc.get('cap_drop')}"
    limits = ((svc.get("deploy") or {}).get("resources") or {}).get("limits") or {}
    assert limits.get("cpus") and limits.get("memory"), f"{name}: limits {limits}"
    logging = svc.get("logging") or {}
    assert logging.get("driver") == "json-file" and (logging.get("options") or {}).get("max-size"), \
        f"{name}: logging {logging}"
    assert re.fullmatch(r"on-failure:\d+", svc.get("restart") or ""), f"{name}: restart {svc.get('restart')}"
    for port in svc.get("ports") or []:
        assert port.get("host_ip") == "127.0.0.1", f"{name}: port {port}"
    if user:
        assert svc.get("user") and svc["user"].split(":")[0] not in ("0", "root"), f"{name}: user {svc.get('user')}"
    if segmented:
        networks = set(svc.get("networks") or {})
        assert networks and networks != {"default"}, f"{name}: networks {networks}"


# --------------------------------------------------------------------------- the anchor inside services

def test_anchor_in_services_every_service_hardened(compose_binary, fixed):
    _, before, after = fixed("anchored")
    services = model(compose_binary, after)["services"]
    assert set(services) == {"api", "worker", "scheduler", "db", "cache"}
    for name in ("api", "worker", "scheduler"):
        assert_hardened(services[name], name, user=True)
    for name in ("db", "cache"):  # images that start as root and drop privileges: no user forced
        assert_hardened(services[name], name, user=False)
        assert "user" not in services[name] or services[name]["user"] in (None, "")
        assert set(services[name]["networks"]) == {"backend"}
    # the ${VAR} port and the long-syntax port are both bound to loopback
    assert services["api"]["ports"][0]["published"] == "8080"
    assert services["worker"]["ports"][0]["published"] == "9090"
    assert "127.0.0.1:${API_PORT:-8080}:8080" in after
    assert model(compose_binary, after)["networks"]["backend"]["internal"] is True


def test_anchor_in_services_keeps_anchor_and_merge_keys(fixed):
    _, before, after = fixed("anchored")
    assert before.count("&app") == after.count("&app") == 1
    assert before.count("<<: *app") == after.count("<<: *app") == 2
    assert re.search(r"^  api: &app\n", after, re.M)
    # every line of the original is still there, in order (fixes only insert or change values)
    kept = [line for line in before.splitlines() if "restart:" not in line and "API_PORT" not in line
            and "host_ip" not in line]
    it = iter(after.splitlines())
    assert all(any(line == other for other in it) for line in kept)


def test_restart_every_heir_needs_is_changed_once_in_the_anchor(compose_binary, fixed):
    """restart: always is written once, in api's mapping, and every heir needs the same fix: the value
    is changed where it is written, and no heir gets its own restart key."""
    _, before, after = fixed("anchored")
    assert before.count("restart:") == 1
    assert after.count("restart: on-failure:5") == 3  # the anchor, db and cache
    assert "restart: always" not in after
    assert "restart:" in service_block(after, "api")
    for heir in ("worker", "scheduler"):
        assert "restart:" not in service_block(after, heir), service_block(after, heir)
    services = model(compose_binary, after)["services"]
    assert {services[n]["restart"] for n in ("api", "worker", "scheduler")} == {"on-failure:5"}


def test_second_fix_changes_nothing(run_cli, tmp_path, fixed):
    _, _, after = fixed("anchored")
    path = tmp_path / "compose.yaml"
    path.write_text(after, encoding="utf-8")
    proc = run_cli("fix", "--unsafe-fixes", "--isolated", path)
    assert proc.returncode in (0, 1), proc.stderr
    assert "Fixed" not in proc.stderr
    assert path.read_text(encoding="utf-8") == after


def test_setting_added_to_the_anchor_is_not_repeated_in_heirs(compose_binary, fixed):
    _, _, after = fixed("anchored")
    for heir in ("worker", "scheduler"):
        block = service_block(after, heir)
        for key in ("cap_drop:", "logging:", "deploy:", "user:"):
            assert key not in block, (heir, key)
    services = model(compose_binary, after)["services"]
    assert all("ALL" in services[n]["cap_drop"] for n in ("api", "worker", "scheduler"))


def test_text_report_names_every_service_a_shared_fix_reaches(run_cli, tmp_path):
    path = copy_stack(tmp_path, "anchored")
    proc = run_cli("check", "--isolated", "--select", "RST001", path)
    assert proc.returncode == 1, proc.stderr
    lines = [line for line in proc.stdout.splitlines() if "RST001" in line]
    api = next(line for line in lines if "service 'api'" in line)
    assert "also changes" in api
    assert "worker" in api.split("also changes", 1)[1] and "scheduler" in api.split("also changes", 1)[1]
    # a fix that reaches only its own service says nothing more
    db = next(line for line in lines if "service 'db'" in line)
    assert "also changes" not in db


# --------------------------------------------------------------------------- the anchor in an x- block

def test_anchor_in_x_block_every_other_service_hardened(compose_binary, fixed):
    _, before, after = fixed("anchored-x")
    services = model(compose_binary, after)["services"]
    for name in ("api", "worker"):
        assert_hardened(services[name], name, user=True)
    for name in ("db", "cache"):
        assert_hardened(services[name], name, user=False)
        assert set(services[name]["networks"]) == {"backend"}
    assert "127.0.0.1:${API_PORT:-8080}:8080" in after
    assert services["worker"]["ports"][0]["host_ip"] == "127.0.0.1"


def test_ignored_service_model_and_text_unchanged(compose_binary, fixed):
    _, before, after = fixed("anchored-x")
    old, new = model(compose_binary, before), model(compose_binary, after)
    assert DeepDiff(old["services"]["legacy-sync"], new["services"]["legacy-sync"]) == {}
    assert service_block(after, "legacy-sync") == service_block(before, "legacy-sync")
    # and it was hardened nowhere: the x- block it merges still says restart: always
    assert new["services"]["legacy-sync"]["restart"] == "always"
    assert new["services"]["legacy-sync"]["ports"][0].get("host_ip") in (None, "")


def test_x_block_is_never_edited_and_heirs_get_own_overrides(compose_binary, fixed):
    _, before, after = fixed("anchored-x")
    assert top_block(after, "x-app") == top_block(before, "x-app")
    assert "  restart: always\n" in top_block(after, "x-app")
    assert before.count("<<: *app") == after.count("<<: *app") == 3
    assert len(re.findall(r"&app\b(?!-)", after)) == 1 and after.count("&app-env") == 1
    for heir in ("api", "worker"):
        assert "    restart: on-failure:5\n" in service_block(after, heir)
    services = model(compose_binary, after)["services"]
    assert services["api"]["restart"] == services["worker"]["restart"] == "on-failure:5"
    # what the heirs take from the anchor is still theirs
    assert services["worker"]["image"] == "ghcr.io/acme/shop:1.4.2"
    assert services["worker"]["environment"]["REDIS_URL"] == "redis://cache:6379/0"


def test_no_new_privileges_reaches_every_heir(run_cli, compose_binary, fixed):
    assert "PRV002" in registered_rules(run_cli)
    for stack, names in (("anchored", ("api", "worker", "scheduler", "db", "cache")),
                         ("anchored-x", ("api", "worker", "db", "cache"))):
        _, _, after = fixed(stack)
        services = model(compose_binary, after)["services"]
        for name in names:
            opts = [o.replace("=", ":") for o in services[name].get("security_opt") or []]
            assert any(o.startswith("no-new-privileges") and not o.endswith("false") for o in opts), (stack, name)


# --------------------------------------------------------------------------- an in-services anchor with a silenced heir

def test_silenced_heir_model_unchanged_and_other_heir_gets_overrides(compose_binary, fixed):
    _, before, after = fixed("anchored-silenced")
    old, new = model(compose_binary, before), model(compose_binary, after)
    assert DeepDiff(old["services"]["scheduler"], new["services"]["scheduler"]) == {}
    assert service_block(after, "scheduler") == service_block(before, "scheduler")
    # the anchor is not edited where that would reach the silenced scheduler; only the port, which
    # the scheduler overrides with its own 'ports: []', is bound to loopback there
    assert service_block(after, "api") == service_block(before, "api").replace(
        '"${API_PORT:-8080}:8080"', '"127.0.0.1:${API_PORT:-8080}:8080"')
    # worker overrides what it needs in its own mapping
    worker = service_block(after, "worker")
    assert "    restart: on-failure:5\n" in worker and "<<: *app" in worker
    assert_hardened(new["services"]["worker"], "worker", user=True, segmented=False)
    assert new["services"]["api"]["restart"] == "always"


def test_unfixable_anchor_owner_stays_reported(run_cli, fixed):
    """A fix of api's own mapping would also change the silenced scheduler: it is not applied, and the
    findings stay in the report (without a fix) rather than disappearing."""
    path, _, _ = fixed("anchored-silenced")
    proc = run_cli("check", "--isolated", "--format", "json", path)
    findings = json.loads(proc.stdout)["findings"]
    api = {f["rule_id"]: f for f in findings if f["service"] == "api"}
    for rule in ("CAP001", "RST001", "LOG001", "RES001"):
        assert rule in api and api[rule]["fix"] == "none", (rule, api.get(rule))
    assert not any(f["service"] == "scheduler" for f in findings)


def test_anchor_key_every_silenced_heir_overrides_is_still_fixed(run_cli, compose_binary, tmp_path):
    _, before, after, _ = fix_stack(run_cli, tmp_path, "anchored-silenced", "--select", "PRT001")
    assert '"127.0.0.1:${API_PORT:-8080}:8080"' in after
    old, new = model(compose_binary, before), model(compose_binary, after)
    assert DeepDiff(old["services"]["scheduler"], new["services"]["scheduler"]) == {}
    assert new["services"]["api"]["ports"][0]["host_ip"] == "127.0.0.1"


def test_rule_silenced_on_one_heir_keeps_other_fixes_through_the_anchor(run_cli, compose_binary, tmp_path):
    """Only unbounded-restart silenced on the scheduler: the anchor's restart value stays, each other
    heir that is not the anchor gets its own override, and the other rules still fix everything."""
    path = copy_stack(tmp_path, "anchored-silenced")
    text = path.read_text(encoding="utf-8").replace("scheduler:  # hardener: ignore\n",
                                                    "scheduler:  # hardener: ignore[unbounded-restart]\n")
    path.write_text(text, encoding="utf-8")
    proc = run_cli("fix", "--unsafe-fixes", "--isolated", "--select", "RST001,CAP001", path)
    assert proc.returncode in (0, 1), proc.stderr
    after = path.read_text(encoding="utf-8")
    assert "    restart: always\n" in service_block(after, "api")
    assert "    restart: on-failure:5\n" in service_block(after, "worker")
    assert "restart:" not in service_block(after, "scheduler")
    services = model(compose_binary, after)["services"]
    assert services["scheduler"]["restart"] == "always"
    assert services["worker"]["restart"] == "on-failure:5"
    # cap_drop added to api's mapping reaches the scheduler too: it is not silenced for CAP001
    assert all("ALL" in services[n]["cap_drop"] for n in ("api", "worker", "scheduler", "db"))


def test_text_report_counts_the_services_beyond_the_first_few_a_shared_fix_reaches(run_cli, tmp_path):
    heirs = [f"worker{i}" for i in range(1, 9)]
    lines = ["services:", "  api: &app", "    image: ghcr.io/acme/shop:1.4.2", "    restart: always"]
    for name in heirs:
        lines += [f"  {name}:", "    <<: *app"]
    path = tmp_path / "compose.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    proc = run_cli("check", "--isolated", "--select", "RST001", path)
    assert proc.returncode == 1, proc.stderr
    api = next(line for line in proc.stdout.splitlines() if "RST001" in line and "service 'api'" in line)
    also = api.split("also changes", 1)[1]
    assert "worker1, worker2, worker3, worker4, worker5 and 3 more services" in also, api
    assert "worker6" not in also
