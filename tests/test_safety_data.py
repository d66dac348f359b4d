"""The knowledge the safety of fixes rests on: image families (mirrors, registries, derivatives,
tags), where each fact comes from, the memory a service declares, and the project's env files.
These read the shipped data files and the real parser of each format; the rules' use of them is
tested through the command line in test_safety_rules.py."""
from __future__ import annotations

import json
from importlib import resources

import pytest

from hardener import knowledge
from hardener.compose import repository_name
from hardener.images import facts, profile
from hardener.interpolation import interpolate, parse_env, possible_values, project_env
from hardener.memory import GIB, MIB, declared_need, format_size, java_heap, parse_size


def _of(image: str):
    return facts(repository_name(image))


# --------------------------------------------------------------------------- families

@pytest.mark.parametrize("image", [
    "postgres:16", "postgres:16-alpine", "docker.io/library/postgres:15", "mirror.gcr.io/library/postgres:16",
    "pgvector/pgvector:pg16", "timescale/timescaledb:2.14.2-pg16", "ghcr.io/immich-app/postgres:14-vectorchord0.3.0",
    "zulip/zulip-postgresql:14", "kkimurak/sameersbn-postgresql:16", "postgis/postgis:16-3.4",
    "registry.example.com/acme/postgres:16", "example/custom-postgresql:1",
])
def test_postgres_derivatives_and_mirrors_get_the_postgres_profile(image):
    found = profile(repository_name(image))
    assert found is not None and found.name == "postgres", image
    assert found.user is None and "CHOWN" in found.cap_add and "/var/run/postgresql" in found.writable


@pytest.mark.parametrize("image", ["prometheuscommunity/postgres-exporter", "wrouesnel/postgres_exporter:latest",
                                   "dpage/pgadmin4", "example/postgres-backup:1", "myorg/app"])
def test_tools_around_postgres_are_not_postgres(image):
    found = _of(image)
    assert found is None or found.name != "postgres", image


def test_bitnami_keeps_its_own_user_and_takes_the_family_limits():
    pg = _of("bitnami/postgresql:16")
    assert pg.complete and pg.default_non_root and pg.runs_as == "1001" and pg.cap_add == ()
    kafka = _of("bitnami/kafka:3.7")
    assert kafka.runs_as == "1001" and kafka.memory == "2G" and not kafka.limits_known


@pytest.mark.parametrize("image, uid", [
    ("grafana/loki:3.0.0", "10001"), ("grafana/tempo:latest", "10001"), ("sonarqube:community", "1000"),
    ("zammad/zammad-docker-compose:6.3", "1000"), ("cgr.dev/chainguard/nginx:latest", "65532"),
    ("opensearchproject/opensearch-dashboards:2", "1000"), ("mongodb/mongodb-community-server:7.0-ubi8", "mongodb"),
    ("quay.io/keycloak/keycloak:26.0", "1000"), ("docker.elastic.co/elasticsearch/elasticsearch:8.15.0", "1000"),
    ("ghcr.io/mastodon/mastodon:v4.3", "991"), ("sonatype/nexus3", "200"), ("grafana/grafana-oss:11", "472"),
])
def test_images_that_run_as_their_own_user(image, uid):
    found = _of(image)
    assert found is not None and found.default_non_root and found.runs_as == uid


@pytest.mark.parametrize("image", ["alpine:3.20", "busybox", "debian:bookworm-slim", "ubuntu:24.04", "python:3.12",
                                   "node:20-alpine", "golang:1.22", "eclipse-temurin:21"])
def test_base_images_are_known_as_base_images_without_a_full_profile(image):
    found = _of(image)
    assert found is not None and found.base and not found.complete  # what they need depends on the command


@pytest.mark.parametrize("image", ["jwilder/nginx-proxy", "nginxproxy/nginx-proxy:1.6", "jc21/nginx-proxy-manager:2",
                                   "envoyproxy/envoy:v1.31-latest", "kong:3.7", "haproxytech/haproxy-alpine:3.0",
                                   "haproxy:2.9", "traefik:v3", "caddy:2"])
def test_proxies_are_known(image):
    found = _of(image)
    assert found is not None and found.proxy and {80, 443} & set(found.public_ports) | {8000} & set(found.public_ports)


@pytest.mark.parametrize("image", ["clickhouse/clickhouse-server:25.3", "gitlab/gitlab-ce:17.0", "sonarqube",
                                   "zulip/docker-zulip:9.0", "graylog/graylog:6.0", "graylog/graylog-datanode:6.0",
                                   "quay.io/keycloak/keycloak", "apache/kafka:3.8", "confluentinc/cp-kafka:7.6",
                                   "docker.elastic.co/elasticsearch/elasticsearch:8.15.0",
                                   "opensearchproject/opensearch:2", "wazuh/wazuh-indexer:4.9.0",
                                   "ghcr.io/immich-app/immich-machine-learning:release", "nextcloud:29",
                                   "ghcr.io/mastodon/mastodon", "getsentry/sentry:24.8.0"])
def test_heavy_images_have_no_limits_known_to_be_enough(image):
    found = _of(image)
    assert found is not None and found.memory and not found.limits_known, image
    assert parse_size(found.memory) >= GIB


def test_thread_heavy_images_get_thousands_of_pids():
    assert _of("clickhouse/clickhouse-server").pids >= 10000  # max_thread_pool_size is 10000
    assert knowledge.DEFAULT_PIDS >= 4096
    assert all(_of(i).pids >= 8192 for i in ("elasticsearch:8.15.0", "sonarqube", "apache/kafka"))


def test_every_entry_says_where_its_facts_come_from():
    for name in ("images.json", "ports.json"):
        raw = json.loads(resources.files("hardener.data").joinpath(name).read_text(encoding="utf-8"))
        for key, entry in raw.items():
            if key.startswith("_"):
                continue
            source = entry.get("source") if isinstance(entry, dict) else entry[1]
            assert source and ("http" in source or "Dockerfile" in source), (name, key)
    raw = json.loads(resources.files("hardener.data").joinpath("images.json").read_text(encoding="utf-8"))
    assert all(p.get("source") for p in raw["_prefixes"].values())


def test_ports_that_receive_from_other_machines():
    for port in (514, 162, 1514, 1515, 25, 465, 587, 53, 51820, 1194, 500, 4500):
        assert port in knowledge.REMOTE_PORTS
    for port in (80, 443, 5432, 6379, 8080, 3000, 9200):
        assert port not in knowledge.REMOTE_PORTS


# --------------------------------------------------------------------------- declared memory

def test_sizes_as_docker_and_the_jvm_write_them():
    assert parse_size("512m") == 512 * MIB and parse_size("1g") == GIB and parse_size("1.5GB") == 1536 * MIB
    assert parse_size("2GiB") == 2 * GIB and parse_size("1073741824") == GIB and parse_size("lots") is None
    assert java_heap("-Xms1g -Xmx2g -XX:+UseG1GC") == 2 * GIB and java_heap("-server") is None
    assert format_size(2 * GIB + 512 * MIB) == "2560M" and format_size(3 * GIB) == "3G" and format_size(1) == "256M"


def test_a_declared_heap_needs_twice_the_heap_plus_overhead():
    need = declared_need({"OPENSEARCH_JAVA_OPTS": "-Xms1g -Xmx1g", "bootstrap.memory_lock": "true"})
    assert need.least >= 2 * GIB + 256 * MIB and not need.unknown
    assert "OPENSEARCH_JAVA_OPTS" in need.why[0]


@pytest.mark.parametrize("env, command, least", [
    ({"ES_JAVA_OPTS": "-Xms2g -Xmx2g"}, "", 4 * GIB),
    ({"JAVA_TOOL_OPTIONS": "-Xmx1500m"}, "", 3 * GIB),
    ({"GRAYLOG_SERVER_JAVA_OPTS": "-Xms1g -Xmx1g"}, "", 2 * GIB),
    ({"KAFKA_HEAP_OPTS": "-Xmx1G -Xms1G"}, "", 2 * GIB),
    ({"MAX_HEAP_SIZE": "2G", "HEAP_NEWSIZE": "400M"}, "", 4 * GIB),
    ({"SONAR_WEB_JAVAOPTS": "-Xmx1g", "SONAR_CE_JAVAOPTS": "-Xmx1g", "SONAR_SEARCH_JAVAOPTS": "-Xmx1g"}, "", 6 * GIB),
    ({"NODE_OPTIONS": "--max-old-space-size=2048"}, "", 4 * GIB),
    ({}, "redis-server --maxmemory 2gb", 4 * GIB),
    ({}, "java -Xmx3g -jar app.jar", 6 * GIB),
    ({}, "postgres -c shared_buffers=2GB", 4 * GIB),
])
def test_heaps_and_caches_the_file_declares(env, command, least):
    need = declared_need(env, command)
    assert need.least is not None and need.least >= least and need.why


def test_memory_locking_without_a_heap_size_and_variables_from_outside_leave_the_need_unknown():
    assert declared_need({"bootstrap.memory_lock": "true"}).unknown
    assert declared_need({"ES_JAVA_OPTS": None}).unknown  # set from the shell or an env_file
    assert not declared_need({"TZ": "UTC"}).unknown and declared_need({"TZ": "UTC"}).least is None


def test_shared_memory_reservations_and_the_image_default_heap_count():
    assert declared_need({}, shm_size="2gb").least >= 2 * GIB
    assert declared_need({}, reservation="1536M").least >= 1536 * MIB
    assert declared_need({}, image_heap="1g").least >= 2 * GIB
    assert declared_need({"ES_JAVA_OPTS": "-Xmx4g"}, image_heap="1g").least >= 8 * GIB  # the file's heap wins


# --------------------------------------------------------------------------- env files

def test_env_files_in_compose_syntax():
    text = "# comment\nexport A=1\nPORT=\"127.0.0.1:8080\"\nQ='a #b'\nU=8080 # note\nEMPTY=\n"
    assert parse_env(text) == {"A": "1", "PORT": "127.0.0.1:8080", "Q": "a #b", "U": "8080", "EMPTY": ""}


def test_project_env_reads_env_and_documented_examples(tmp_path):
    (tmp_path / ".env").write_text("PORT=8080\n", encoding="utf-8")
    (tmp_path / ".env.example").write_text("PORT=127.0.0.1:8080\nOTHER=x\n", encoding="utf-8")
    found = project_env(str(tmp_path / "compose.yaml"))
    assert found.dotenv == {"PORT": "8080"} and found.documented == {"PORT": ("127.0.0.1:8080",), "OTHER": ("x",)}
    empty = project_env("-")
    assert empty.dotenv == {} and project_env(str(tmp_path / "sub" / "compose.yaml")).documented == {}


@pytest.mark.parametrize("text, env, expected", [
    ("${PORT:-8080}:80", {"PORT": "127.0.0.1:8080"}, "127.0.0.1:8080:80"),
    ("${PORT:-8080}:80", {}, "8080:80"),
    ("${PORT:-8080}:80", {"PORT": ""}, "8080:80"),
    ("${PORT-8080}:80", {"PORT": ""}, ":80"),
    ("${PORT}:80", {}, None),
    ("${TRAEFIK_HTTP_PORT:-80}", {}, "80"),
    ("$$HOME ${A:+set}", {"A": "1"}, "$HOME set"),
    ("${A:?needed}", {"A": "v"}, "v"),
])
def test_interpolation_as_compose_does_it(text, env, expected):
    assert interpolate(text, env.get) == expected


def test_possible_values_take_env_first_then_documented_ones():
    assert possible_values("${PORT:-8080}:80", {}, {"PORT": ("127.0.0.1:9000", "9000")}) == [
        "8080:80", "127.0.0.1:9000:80", "9000:80"]
