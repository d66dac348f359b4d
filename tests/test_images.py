"""Per-image profiles (hardener/data/images.json) as the rules use them: capabilities added back after
cap_drop ALL (a safe fix for a known image), no forced user for images that drop privileges
themselves, no finding for images that already run as a non-root user, the image's own user, and
the profile's limits. Through the real command line; fixed files are given to the real Compose."""
from __future__ import annotations

import json

import pytest

from conftest import compose_config, y
from hardener.images import profile


def one(image: str, *extra: str) -> str:
    return y("services:", "  svc:", f"    image: {image}", *extra)


def write(tmp_path, text: str):
    path = tmp_path / "compose.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def findings(run_cli, path, *args) -> list[dict]:
    proc = run_cli("check", "--isolated", "--format", "json", *args, path)
    assert proc.returncode in (0, 1), proc.stderr
    return json.loads(proc.stdout)["findings"]


def of_rule(found, rule_id):
    return [f for f in found if f["rule_id"] == rule_id]


def model(binary, text) -> dict:
    code, data, err = compose_config(binary, text)
    assert code == 0, err
    return data


GIB = 1024 ** 3
MIB = 1024 ** 2


# --------------------------------------------------------------------------- postgres

def test_postgres_cap_drop_with_profile_cap_add_is_an_informed_unsafe_fix(run_cli, compose_binary, tmp_path):
    path = write(tmp_path, one("postgres:16.3", "    volumes:", "      - pg:/var/lib/postgresql/data") + y("volumes:", "  pg:"))
    cap = of_rule(findings(run_cli, path), "CAP001")
    assert len(cap) == 1 and cap[0]["fix"] == "unsafe"  # what a service needs depends on the files it is given
    assert cap[0]["fix_description"] == "add ALL to cap_drop and CHOWN, DAC_OVERRIDE, FOWNER, SETGID, SETUID to cap_add"
    run_cli("fix", "--isolated", "--select", "CAP001", path)  # plain fix: safe fixes only
    assert "cap_drop" not in path.read_text(encoding="utf-8")
    proc = run_cli("fix", "--isolated", "--unsafe-fixes", "--select", "CAP001", path)
    assert proc.returncode == 1, proc.stderr
    svc = model(compose_binary, path.read_text(encoding="utf-8"))["services"]["svc"]
    assert svc["cap_drop"] == ["ALL"]
    assert svc["cap_add"] == list(profile("postgres").cap_add) == ["CHOWN", "DAC_OVERRIDE", "FOWNER", "SETGID", "SETUID"]


def test_postgres_gets_no_forced_user(run_cli, tmp_path):
    path = write(tmp_path, one("postgres:16.3"))
    usr = of_rule(findings(run_cli, path), "USR001")
    assert [(f["severity"], f["fix"]) for f in usr] == [("low", "none")]
    assert "drops privileges itself" in usr[0]["message"]
    run_cli("fix", "--isolated", "--unsafe-fixes", path)
    assert "user:" not in path.read_text(encoding="utf-8")


def test_existing_cap_add_is_completed_not_repeated(run_cli, compose_binary, tmp_path):
    path = write(tmp_path, one("docker.io/library/postgres:16.3", "    cap_add:", "      - SYS_NICE", "      - CAP_CHOWN"))
    run_cli("fix", "--isolated", "--unsafe-fixes", "--select", "CAP001", path)
    text = path.read_text(encoding="utf-8")
    assert text.count("CHOWN") == 1
    svc = model(compose_binary, text)["services"]["svc"]
    assert svc["cap_drop"] == ["ALL"]
    assert sorted(svc["cap_add"]) == sorted(["SYS_NICE", "CAP_CHOWN", "DAC_OVERRIDE", "FOWNER", "SETGID", "SETUID"])


@pytest.mark.parametrize("image", ["docker.io/library/postgres:16.3", "postgres@sha256:" + "a" * 64,
                                   "postgres:${PG_VERSION:-16}", "mirror.gcr.io/library/postgres:16"])
def test_postgres_profile_found_through_registry_digest_and_variables(run_cli, tmp_path, image):
    found = findings(run_cli, write(tmp_path, one(f'"{image}"')), "--select", "CAP001,USR001")
    cap = of_rule(found, "CAP001")
    assert [f["fix_description"] for f in cap] == ["add ALL to cap_drop and CHOWN, DAC_OVERRIDE, FOWNER, SETGID, SETUID to cap_add"]
    assert [f["severity"] for f in of_rule(found, "USR001")] == ["low"]


# --------------------------------------------------------------------------- images that run as non-root already

@pytest.mark.parametrize("image", ["grafana/grafana:11.1.0", "grafana/grafana-oss:11.1.0", "prom/prometheus:v2.53.0",
                                   "bitnami/postgresql:16", "ghcr.io/bitnami/redis:7.2", "bitnami/kafka:3.7",
                                   "elasticsearch:8.14.1"])
def test_non_root_images_are_not_reported_without_user(run_cli, tmp_path, image):
    found = findings(run_cli, write(tmp_path, one(image)), "--select", "USR001")
    assert found == []


def test_unknown_image_without_user_is_reported(run_cli, tmp_path):
    found = findings(run_cli, write(tmp_path, one("ghcr.io/acme/grafana-dashboards:1.0")), "--select", "USR001")
    assert [(f["severity"], f["fix"]) for f in found] == [("medium", "unsafe")]


# --------------------------------------------------------------------------- node: the image's own user

def test_node_gets_user_node_as_an_unsafe_fix(run_cli, compose_binary, tmp_path):
    """node is a base image: what its user needs depends on the command and volumes, so the image's
    own user is offered, never as a safe fix."""
    path = write(tmp_path, one("node:20-alpine", '    command: ["node", "server.js"]'))
    usr = of_rule(findings(run_cli, path), "USR001")
    assert [(f["fix"], f["fix_description"]) for f in usr] == [("unsafe", "run as node")]
    run_cli("fix", "--isolated", "--select", "USR001", path)
    assert "user:" not in path.read_text(encoding="utf-8")
    run_cli("fix", "--isolated", "--unsafe-fixes", "--select", "USR001", path)
    text = path.read_text(encoding="utf-8")
    assert text.endswith('    command: ["node", "server.js"]\n    user: node\n')
    assert model(compose_binary, text)["services"]["svc"]["user"] == "node"


def test_node_image_of_another_publisher_gets_no_profile(run_cli, tmp_path):
    usr = of_rule(findings(run_cli, write(tmp_path, one("myorg/node:20"))), "USR001")
    assert [(f["fix"], f["fix_description"]) for f in usr] == [("unsafe", "run as 65534:65534")]


# --------------------------------------------------------------------------- limits from the profile

@pytest.mark.parametrize("image,memory,cpus,safe", [("elasticsearch:8.14.1", 2560 * MIB, 2, False),
                                                     ("nginx:1.27", 256 * MIB, 1, True),
                                                     ("redis:7.2", 512 * MIB, 1, False),
                                                     ("ghcr.io/acme/app:1", GIB, 1, False)])
def test_limits_come_from_the_profile(run_cli, compose_binary, tmp_path, image, memory, cpus, safe):
    """Safe only where the profile's limits are known to be enough (nginx); elasticsearch's default
    1 GiB heap needs more than its profile's 2G (twice the heap plus overhead)."""
    path = write(tmp_path, one(image))
    res = of_rule(findings(run_cli, path), "RES001")
    assert [f["fix"] for f in res] == ["safe" if safe else "unsafe"]
    run_cli("fix", "--isolated", "--unsafe-fixes", "--select", "RES001", path)
    limits = model(compose_binary, path.read_text(encoding="utf-8"))["services"]["svc"]["deploy"]["resources"]["limits"]
    assert int(limits["memory"]) == memory and float(limits["cpus"]) == cpus


def test_configured_limits_win_over_the_profile(run_cli, compose_binary, tmp_path):
    (tmp_path / ".hardener.yaml").write_text("options:\n  RES001:\n    memory: 3G\n", encoding="utf-8")
    path = write(tmp_path, one("elasticsearch:8.14.1"))
    proc = run_cli("fix", "--unsafe-fixes", "--select", "RES001", path)
    assert proc.returncode == 1, proc.stderr
    text = path.read_text(encoding="utf-8")
    assert "          memory: 3G\n" in text
    limits = model(compose_binary, text)["services"]["svc"]["deploy"]["resources"]["limits"]
    assert int(limits["memory"]) == 3 * GIB and float(limits["cpus"]) == 2  # cpus still from the profile


def test_elasticsearch_from_its_own_registry_gets_its_profile(run_cli, compose_binary, tmp_path):
    path = write(tmp_path, one("docker.elastic.co/elasticsearch/elasticsearch:8.14.1"))
    assert findings(run_cli, path, "--select", "USR001") == []
    run_cli("fix", "--isolated", "--unsafe-fixes", "--select", "RES001", path)
    limits = model(compose_binary, path.read_text(encoding="utf-8"))["services"]["svc"]["deploy"]["resources"]["limits"]
    assert int(limits["memory"]) == 2560 * MIB


@pytest.mark.parametrize("image,expected", [("node:20-alpine", "node"), ("postgres:16.3", "root")])
def test_explicit_root_on_a_profiled_image_follows_the_profile(run_cli, tmp_path, image, expected):
    path = write(tmp_path, one(image, "    user: root"))
    run_cli("fix", "--isolated", "--unsafe-fixes", "--select", "USR001", path)
    assert path.read_text(encoding="utf-8").endswith(f"    user: {expected}\n")


# --------------------------------------------------------------------------- Compose accepts the results

STACK = y(
    "name: web",
    "services:",
    "  proxy:",
    "    image: nginx:1.27-alpine",
    "    ports:",
    '      - "8080:80"',
    "    volumes:",
    "      - ./nginx.conf:/etc/nginx/nginx.conf",
    "    depends_on: [app]",
    "  app:",
    "    image: node:20-alpine",
    '    command: ["node", "server.js"]',
    "    environment:",
    "      DATABASE_URL: postgres://app@db:5432/app",
    "      REDIS_URL: redis://cache:6379",
    "  db:",
    "    image: postgres:16.3",
    "    environment:",
    "      POSTGRES_PASSWORD_FILE: /run/secrets/pg",
    "  cache:",
    "    image: redis:7.2-alpine",
)


@pytest.mark.parametrize("unsafe", [False, True], ids=["safe", "unsafe"])
def test_fixed_postgres_nginx_redis_stack_is_accepted_by_compose(run_cli, compose_binary, tmp_path, unsafe):
    path = write(tmp_path, STACK)
    proc = run_cli("fix", "--isolated", *(["--unsafe-fixes"] if unsafe else []), path)
    assert proc.returncode in (0, 1), proc.stderr
    services = model(compose_binary, path.read_text(encoding="utf-8"))["services"]
    for name, image in (("proxy", "nginx"), ("db", "postgres"), ("cache", "redis")):
        svc = services[name]
        # unsafe even for known images; then with the capabilities the image's start-up needs
        assert svc.get("cap_drop") == (["ALL"] if unsafe else None), name
        assert sorted(svc.get("cap_add") or []) == (sorted(profile(image).cap_add) if unsafe else []), name
        assert svc["logging"]["options"]["max-size"] == "10m"
    # node is a base image: dropping its capabilities and choosing its user are unsafe
    assert ("cap_drop" in services["app"]) == unsafe and (services["app"].get("user") == "node") == unsafe
    assert "user" not in services["db"] and "user" not in services["cache"] and "user" not in services["proxy"]
    limits = {n: services[n].get("deploy", {}).get("resources", {}).get("limits", {}) for n in services}
    mem = {n: int(found["memory"]) for n, found in limits.items() if "memory" in found}
    # limits known to be enough (nginx, postgres) are safe; redis grows with its data, node runs anything
    assert mem == ({"proxy": 256 * MIB, "app": GIB, "db": GIB, "cache": 512 * MIB} if unsafe else
                   {"proxy": 256 * MIB, "db": GIB})
    # nginx is meant to serve port 80: it stays public in both modes (reported at low severity)
    assert services["proxy"]["ports"][0].get("host_ip") is None
