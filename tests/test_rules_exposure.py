"""The exposure and data rules: DKR001 docker-daemon-access, VOL002 sensitive-host-path, VOL003
shared-writable-volume, AUTH001 unauthenticated-service, PRT002 datastore-port-published, IMG001
unpinned-image and SEC001 secret-in-environment.

Detection calls the modules directly (`check(Context.of(parse(text)))`); fixes run through the public
API with the rule selected (conftest's `fix_text` and `assert_fixes`: the engine's passes, suppressions,
anchor reach and merge logic included).
"""
from __future__ import annotations

import textwrap

import pytest

from hardener import knowledge
from hardener.compose import Context
from hardener.model import Applicability, Confidence, Severity
from hardener.syntax import container_ports
from hardener.rules import (datastore_ports, docker_socket, env_secrets, image_pinning, ports_loopback,
                            sensitive_mounts, shared_volumes, unauthenticated_service)
from hardener.yamltext import _comment_of, parse

from compose_tools import CORPUS
from conftest import assert_fixes, fix_text

RULES = (docker_socket, sensitive_mounts, shared_volumes, unauthenticated_service, datastore_ports, image_pinning,
         env_secrets)


def y(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def findings(rule, text: str):
    return list(rule.check(Context.of(parse(text))))


def fix_all(rule, text: str) -> str:
    """The text after every fix of the rule, unsafe ones included, through the public API."""
    return fix_text(text, rule.ID)[2]


# --------------------------------------------------------------------------- module shape and docs

@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.ID)
def test_module_shape(rule):
    assert rule.NAME == rule.NAME.lower() and " " not in rule.NAME
    assert rule.ATTACK_TREE and all(node.count(".") == 2 for node in rule.ATTACK_TREE)
    assert isinstance(rule.SEVERITY, Severity) and isinstance(rule.CONFIDENCE, Confidence)
    assert isinstance(rule.FIX, Applicability) and isinstance(rule.OPTIONS, dict)
    doc = rule.__doc__
    for section in ("**What it finds.**", "**Why it matters.**", "**Example.**", "**Fix.**", "**What may break.**",
                    "**References.**"):
        assert section in doc, f"{rule.ID} doc lacks {section}"
    assert callable(rule.check)


def test_ids_are_the_assigned_ones():
    assert {(r.ID, r.NAME) for r in RULES} == {
        ("DKR001", "docker-daemon-access"), ("VOL002", "sensitive-host-path"), ("VOL003", "shared-writable-volume"),
        ("AUTH001", "unauthenticated-service"), ("PRT002", "datastore-port-published"),
        ("IMG001", "unpinned-image"), ("SEC001", "secret-in-environment")}


# --------------------------------------------------------------------------- before/after pairs

FIXES = [
    pytest.param(docker_socket, """
        services:
          dind:
            image: docker:24-dind
            ports:
              - "2375:2375"   # daemon
        """, """
        services:
          dind:
            image: docker:24-dind
            ports:
              - "127.0.0.1:2375:2375"   # daemon
        """, id="DKR001-2375"),
    pytest.param(sensitive_mounts, """
        services:
          agent:
            image: example/agent
            volumes:
              - /:/host
              - /proc:/host/proc:z
              - ~/.aws:/root/.aws
              - type: bind
                source: /var/lib/docker
                target: /var/lib/docker
        """, """
        services:
          agent:
            image: example/agent
            volumes:
              - /:/host:ro
              - "/proc:/host/proc:ro,z"
              - ~/.aws:/root/.aws:ro
              - type: bind
                source: /var/lib/docker
                target: /var/lib/docker
                read_only: true
        """, id="VOL002"),
    pytest.param(sensitive_mounts, """
        services:
          agent:
            image: example/agent
            volumes: ["/etc:/host/etc", "/etc/localtime:/etc/localtime"]
        """, """
        services:
          agent:
            image: example/agent
            volumes: ["/etc:/host/etc:ro", "/etc/localtime:/etc/localtime"]
        """, id="VOL002-flow"),
    pytest.param(shared_volumes, """
        services:
          app:
            image: example/django
            volumes:
              - static:/app/staticfiles
          web:
            image: nginx:1.27
            volumes:
              - static:/usr/share/nginx/html/static
        volumes:
          static:
        """, """
        services:
          app:
            image: example/django
            volumes:
              - static:/app/staticfiles
          web:
            image: nginx:1.27
            volumes:
              - static:/usr/share/nginx/html/static:ro
        volumes:
          static:
        """, id="VOL003-static-server"),
    pytest.param(shared_volumes, """
        services:
          db:
            image: postgres:16
            volumes:
              - pgdata:/var/lib/postgresql/data
          backup:
            image: example/backup
            volumes:
              - type: volume
                source: pgdata
                target: /source
          socket-user:
            image: example/app
            volumes:
              - pgdata:/data:nocopy
        volumes:
          pgdata: {}
        """, """
        services:
          db:
            image: postgres:16
            volumes:
              - pgdata:/var/lib/postgresql/data
          backup:
            image: example/backup
            volumes:
              - type: volume
                source: pgdata
                target: /source
                read_only: true
          socket-user:
            image: example/app
            volumes:
              - "pgdata:/data:ro,nocopy"
        volumes:
          pgdata: {}
        """, id="VOL003-datastore-writer"),
    pytest.param(unauthenticated_service, """
        services:
          cache:
            image: redis:7
            ports:
              - "6379:6379"
              - target: 6380
                published: 6380
          db:
            image: postgres:16
            environment:
              POSTGRES_HOST_AUTH_METHOD: trust
            ports: ["5432:5432"]
        """, """
        services:
          cache:
            image: redis:7
            ports:
              - "127.0.0.1:6379:6379"
              - target: 6380
                published: 6380
                host_ip: 127.0.0.1
          db:
            image: postgres:16
            environment:
              POSTGRES_HOST_AUTH_METHOD: trust
            ports: ["127.0.0.1:5432:5432"]
        """, id="AUTH001"),
    pytest.param(datastore_ports, """
        services:
          db:
            image: mariadb:11
            ports:
              - 3306:3306
              - target: 3306
                published: 13306
                host_ip: 0.0.0.0
          api:
            image: node:20
            command: node --inspect=0.0.0.0:9229 server.js
            ports:
              - "8080:8080"
              - "9229:9229"
          pool:
            image: edoburu/pgbouncer
            ports: ["6432:5432"]
        """, """
        services:
          db:
            image: mariadb:11
            ports:
              - 127.0.0.1:3306:3306
              - target: 3306
                published: 13306
                host_ip: 127.0.0.1
          api:
            image: node:20
            command: node --inspect=0.0.0.0:9229 server.js
            ports:
              - "8080:8080"
              - "127.0.0.1:9229:9229"
          pool:
            image: edoburu/pgbouncer
            ports: ["127.0.0.1:6432:5432"]
        """, id="PRT002"),
]


@pytest.mark.parametrize("rule,before,after", FIXES)
def test_fix(rule, before, after):
    """The exact text, only this rule's fixes, nothing fixable left, idempotent, CRLF and no-final-newline
    variants."""
    assert_fixes(y(before), y(after), rule=rule.ID, unsafe=None)


# --------------------------------------------------------------------------- detection

def messages(rule, text):
    return [f.message for f in findings(rule, y(text))]


@pytest.mark.parametrize("volume", [
    "/var/run/docker.sock:/var/run/docker.sock",
    "/var/run/docker.sock:/var/run/docker.sock:ro",
    "/run/docker.sock:/var/run/docker.sock",
    "//var/run/docker.sock:/var/run/docker.sock",
    "/run/user/1000/docker.sock:/var/run/docker.sock",
    "${DOCKER_SOCK:-/var/run/docker.sock}:/var/run/docker.sock",
    "${DOCKER_SOCKET_LOCATION}:/var/run/docker.sock:ro,z",
    "$XDG_RUNTIME_DIR/docker.sock:/var/run/docker.sock",
    "/run/podman/podman.sock:/var/run/docker.sock",
    "/var/run/docker.sock:/tmp/docker.sock:z,ro",
])
def test_docker_socket_spellings(volume):
    found = findings(docker_socket, f'services:\n  a:\n    image: x/y:1\n    volumes:\n      - "{volume}"\n')
    assert len(found) == 1 and found[0].severity is Severity.CRITICAL and found[0].fix is None
    assert ("':ro' does not help" in found[0].message) == ("ro" in volume.rsplit(":", 1)[-1].split(","))


def test_docker_socket_long_syntax_and_proxy_exemption():
    text = """
        services:
          ui:
            image: portainer/portainer-ce:2.21
            volumes:
              - type: bind
                source: /var/run/docker.sock
                target: /var/run/docker.sock
                read_only: true
          proxy:
            image: tecnativa/docker-socket-proxy:0.3
            volumes: ["/var/run/docker.sock:/var/run/docker.sock:ro"]
          traefik:
            image: traefik:3.1
            environment:
              DOCKER_HOST: tcp://proxy:2375
        """
    found = findings(docker_socket, y(text))
    assert [(f.service, f.line) for f in found] == [("ui", 5)]


@pytest.mark.parametrize("env,reported", [
    ("DOCKER_HOST: tcp://dind:2375", True),
    ("DOCKER_HOST: tcp://dind", True),
    ("- DOCKER_HOST=tcp://10.0.0.5:2375", True),
    ("DOCKER_HOST: ${DOCKER_HOST:-tcp://dind:2375}", True),
    ("DOCKER_HOST: tcp://dind:2376", False),
    ("{DOCKER_HOST: 'tcp://dind:2375', DOCKER_TLS_VERIFY: '1'}", False),
    ("DOCKER_HOST: unix:///var/run/docker.sock", False),
    ("DOCKER_HOST: ${DOCKER_HOST}", False),
])
def test_docker_host(env, reported):
    body = env if env.startswith("{") else "\n      " + env
    text = f"services:\n  ci:\n    image: docker:27-cli\n    environment: {body}\n"
    found = findings(docker_socket, text)
    assert bool(found) == reported
    if found:
        assert found[0].severity is Severity.HIGH and "DOCKER_HOST" in found[0].key_path


def test_dind_without_tls():
    base = "services:\n  dind:\n    image: docker:27-dind\n    privileged: true\n    environment:\n"
    assert len(findings(docker_socket, base + '      DOCKER_TLS_CERTDIR: ""\n')) == 1
    assert len(findings(docker_socket, base + "      - DOCKER_TLS_CERTDIR=\n")) == 1
    assert findings(docker_socket, base + "      DOCKER_TLS_CERTDIR: /certs\n") == []
    assert findings(docker_socket, base + "      DOCKER_TLS_CERTDIR:\n") == []  # null: taken from the shell


@pytest.mark.parametrize("source,mode,severity", [
    ("/", "", Severity.CRITICAL), ("/", ":ro", Severity.MEDIUM), ("/etc", "", Severity.HIGH),
    ("/etc/shadow", ":ro", Severity.HIGH), ("/proc", ":ro", Severity.MEDIUM), ("/proc/sys", "", Severity.HIGH),
    ("/sys/fs/cgroup", ":ro", Severity.LOW), ("/var/run", ":ro", Severity.CRITICAL), ("/run", "", Severity.CRITICAL),
    ("/var/lib/docker/volumes", "", Severity.HIGH), ("/lib/modules", ":ro", Severity.LOW), ("/dev", "", Severity.HIGH),
    ("/root", "", Severity.HIGH), ("/home", ":ro", Severity.MEDIUM), ("/boot", "", Severity.HIGH),
    ("/usr", "", Severity.HIGH), ("~/.ssh", ":ro", Severity.MEDIUM), ("/home/me/.kube/config", "", Severity.HIGH),
    ("${HOST_ROOT:-/}", "", Severity.CRITICAL), ("/etc/../etc", "", Severity.HIGH),
])
def test_sensitive_paths(source, mode, severity):
    text = f'services:\n  a:\n    image: x/y:1\n    volumes:\n      - "{source}:/mnt{mode}"\n'
    found = findings(sensitive_mounts, text)
    assert [f.severity for f in found] == [severity]


@pytest.mark.parametrize("source", ["/etc/localtime", "/etc/ssl/certs", "/etc/passwd:/etc/passwd:ro", "/home/me/app",
                                    "/root/project", "/dev/dri", "/usr/share/zoneinfo", "./etc", "${DATA}",
                                    "/var/run/docker.sock", "/srv/data", "data-volume"])
def test_sensitive_paths_not_reported(source):
    spec = source if source.count(":") == 2 else f"{source}:/mnt"
    assert findings(sensitive_mounts, f'services:\n  a:\n    image: x/y:1\n    volumes:\n      - "{spec}"\n') == []


def test_sensitive_explicit_rw_is_reported_without_fix():
    found = findings(sensitive_mounts, "services:\n  a:\n    image: x\n    volumes:\n      - /var/run:/var/run:rw\n")
    assert len(found) == 1 and found[0].fix is None


SHARED_UNCLEAR = """
    services:
      app:
        image: example/app
        volumes: ["uploads:/app/uploads"]
      worker:
        image: example/app
        volumes: ["uploads:/app/uploads"]
      viewer:
        image: example/viewer
        volumes: ["uploads:/data:ro"]
    volumes:
      uploads:
    """


def test_shared_volume_unclear_writer_has_no_fix():
    found = findings(shared_volumes, y(SHARED_UNCLEAR))
    assert len(found) == 1 and found[0].fix is None
    assert "app, worker" in found[0].message and "viewer" not in found[0].message
    assert found[0].line == 12  # the top-level declaration


def test_shared_volume_job_and_volumes_from_block_the_fix():
    job = """
        services:
          db:
            image: postgres:16
            volumes: ["pg:/var/lib/postgresql/data"]
          fix-perms:
            image: busybox
            command: chown -R 999:999 /data
            volumes: ["pg:/data"]
        volumes:
          pg:
        """
    inherited = """
        services:
          app:
            image: example/app
            volumes: ["files:/files"]
          web:
            image: nginx
            volumes_from: [app]
        volumes:
          files:
        """
    for text in (job, inherited):
        found = findings(shared_volumes, y(text))
        assert len(found) == 1 and found[0].fix is None


def test_shared_volume_read_only_consumers_are_fine():
    text = ("services:\n  a:\n    image: x\n    volumes: ['v:/v']\n"
            "  b:\n    image: nginx\n    volumes: ['v:/v:ro']\nvolumes:\n  v:\n")
    assert findings(shared_volumes, text) == []


AUTH_CASES = [
    ("redis:7", "", "", True),
    ("redis:7", "", "command: redis-server --requirepass ${REDIS_PASSWORD}", False),
    ("redis:7", "", "command: redis-server /usr/local/etc/redis/redis.conf", False),
    ("redis:7", "", "command: redis-cli -h cache ping", False),
    ("valkey/valkey:8", "", 'command: ["valkey-server", "--save", "60", "1"]', True),
    ("bitnami/redis:7.2", "- ALLOW_EMPTY_PASSWORD=yes", "", True),
    ("bitnami/redis:7.2", "- REDIS_PASSWORD=x", "", False),
    ("postgres:16", "POSTGRES_HOST_AUTH_METHOD: trust", "", True),
    ("postgres:16", "POSTGRES_PASSWORD: ${PG_PASSWORD}", "", False),
    ("mysql:8", "MYSQL_ALLOW_EMPTY_PASSWORD: 'yes'", "", True),
    ("mariadb:11", "MARIADB_ALLOW_EMPTY_ROOT_PASSWORD: '1'", "", True),
    ("mariadb:11", "{MARIADB_ALLOW_EMPTY_ROOT_PASSWORD: '1', MARIADB_ROOT_PASSWORD_FILE: /run/secrets/r}", "", False),
    ("mongo:7", "", "", True),
    ("mongo:7", "MONGO_INITDB_ROOT_USERNAME: root", "", False),
    ("mongo:7", "", "command: mongod --auth", False),
    ("elasticsearch:8.15.0", "- xpack.security.enabled=false", "", True),
    ("elasticsearch:8.15.0", "", "", False),
    ("elasticsearch:7.17.22", "", "", True),
    ("elasticsearch:7.17.22", "xpack.security.enabled: 'true'", "", False),
    ("opensearchproject/opensearch:2", "DISABLE_SECURITY_PLUGIN: 'true'", "", True),
    ("memcached:1.6", "", "", True),
    ("memcached:1.6", "", "command: memcached -S", False),
    ("rabbitmq:3-management", "", "", True),
    ("rabbitmq:3-management", "{RABBITMQ_DEFAULT_USER: app, RABBITMQ_DEFAULT_PASS: '${RMQ_PASS}'}", "", False),
    ("minio/minio", "", "command: server /data", True),
    ("minio/minio", "MINIO_ROOT_PASSWORD: ${MINIO_PASSWORD}", "command: server /data", False),
    ("neo4j:5", "NEO4J_AUTH: none", "", True),
    ("bitnami/zookeeper:3.9", "- ALLOW_ANONYMOUS_LOGIN=yes", "", True),
    ("bitnami/etcd:3.5", "- ALLOW_NONE_AUTHENTICATION=yes", "", True),
    ("docker:dind", "DOCKER_TLS_CERTDIR: ''", "", False),  # DKR001's finding
    ("redis-commander", "", "", False),  # a client UI, not the datastore
]


@pytest.mark.parametrize("image,env,extra,reported", AUTH_CASES)
def test_unauthenticated(image, env, extra, reported):
    text = f"services:\n  s:\n    image: {image}\n"
    if env:
        text += f"    environment: {env}\n" if env.startswith("{") else f"    environment:\n      {env}\n"
    if extra:
        text += f"    {extra}\n"
    found = findings(unauthenticated_service, text)
    assert bool(found) == reported, [f.message for f in found]
    if found:
        assert found[0].severity is Severity.MEDIUM and found[0].fix is None


def test_unauthenticated_severity_follows_exposure():
    base = "services:\n  cache:\n    image: redis:7\n"
    assert findings(unauthenticated_service, base + '    ports: ["6379:6379"]\n')[0].severity is Severity.HIGH
    local = findings(unauthenticated_service, base + '    ports: ["127.0.0.1:6379:6379"]\n')
    assert local[0].severity is Severity.MEDIUM and local[0].fix is None
    host = findings(unauthenticated_service, base + "    network_mode: host\n")[0]
    assert host.severity is Severity.HIGH and host.fix is None
    env_file = findings(unauthenticated_service, base + "    env_file: .env\n")
    assert env_file == []  # the password may be there


@pytest.mark.parametrize("spec,reported", [
    ('"5432:5432"', True), ('"15432:5432"', True), ('"5432"', True), ('"127.0.0.1:5432:5432"', False),
    ('"[::1]:5432:5432"', False), ('"${DB_BIND}:5432"', False), ('"${PORT:-5432}:5432"', True),
])
def test_datastore_ports(spec, reported):
    found = findings(datastore_ports, f"services:\n  db:\n    image: postgres:16\n    ports:\n      - {spec}\n")
    assert bool(found) == reported


def test_datastore_ports_specific_address_has_no_fix():
    found = findings(datastore_ports, 'services:\n  db:\n    image: redis:7\n    ports: ["10.0.0.2:6379:6379"]\n')
    assert len(found) == 1 and found[0].severity is Severity.LOW and found[0].fix is None


@pytest.mark.parametrize("image,command,port,reported", [
    ("n8nio/n8n", "", 5678, False),  # n8n's web port, not debugpy
    ("python:3.12", "python -m debugpy --listen 0.0.0.0:5678 app.py", 5678, True),
    ("node:20", "", 9229, True),
    ("golang:1.23", "dlv debug --headless --listen=:2345", 2345, True),
    ("example/web", "", 8080, False),
    ("example/api", "", 5005, False),
])
def test_debug_ports(image, command, port, reported):
    text = f'services:\n  s:\n    image: {image}\n    ports: ["{port}:{port}"]\n'
    if command:
        text += f"    command: {command}\n"
    found = findings(datastore_ports, text)
    assert bool(found) == reported
    if found:
        assert found[0].severity is Severity.HIGH


PORT_FORMS = [
    '"5432:5432"', "5432:5432", '"0.0.0.0:5432:5432"', '"5432"', '"5432:5432/tcp"', "'5432:5432'",
    "{target: 5432, published: 5432}", "{target: 5432, published: 5432, host_ip: 0.0.0.0}",
    "{target: 5432, published: 5432, host_ip: '::'}", '"${PG_PORT:-5432}:5432"',
]


@pytest.mark.parametrize("form", PORT_FORMS)
def test_datastore_edit_equals_prt001_edit(form):
    text = f"services:\n  db:\n    image: postgres:16\n    ports:\n      - {form}\n"
    mine = [e for f in findings(datastore_ports, text) if f.fix for e in f.fix.edits]
    theirs = [e for f in findings(ports_loopback, text) if f.fix for e in f.fix.edits]
    # a host part written with a variable no env file sets may hold an address: no rule prefixes it
    assert mine == theirs and bool(mine) != ("${" in form)
    auth = findings(unauthenticated_service, text.replace("postgres:16", "memcached:1"))
    assert [e for f in auth if f.fix for e in f.fix.edits] == theirs


@pytest.mark.parametrize("image,reported", [
    ("nginx", True), ("nginx:latest", True), ("ghcr.io/org/app", True), ("localhost:5000/app", True),
    ("${REGISTRY}/app", True), ("${IMAGE}:latest", True), ("nginx:1.27", False), ("nginx@sha256:" + "a" * 64, False),
    ("nginx:latest@sha256:" + "a" * 64, False), ("${IMAGE}", False), ("${IMAGE:-org/app}", False),
    ("app:${TAG}", False), ("app:${TAG:-latest}", False),
])
def test_unpinned_image(image, reported):
    found = findings(image_pinning, f'services:\n  s:\n    image: "{image}"\n')
    assert bool(found) == reported
    if found:
        assert found[0].severity is Severity.LOW and found[0].fix is None


def test_unpinned_image_skips_builds_and_takes_options():
    assert findings(image_pinning, "services:\n  s:\n    build: .\n    image: myapp\n") == []
    assert findings(image_pinning, "services:\n  s:\n    build: .\n") == []
    options = {"IMG001": {"floating_tags": ["latest", "edge"]}}
    ctx = Context.of(parse("services:\n  s:\n    image: alpine:edge\n"), options)
    assert len(list(image_pinning.check(ctx))) == 1


SECRETS = """
    services:
      app:
        image: example/app:1
        environment:
          POSTGRES_PASSWORD: hunter2-value
          PGPASSWORD: ${PGPASSWORD:-fallback-value}
          JWT_SECRET: 'abc'
          AWS_SECRET_ACCESS_KEY: wJalrXUtnFEMI
          DATABASE_URL: postgres://app:url-value@db:5432/app
          POSTGRES_PASSWORD_FILE: /run/secrets/db
          API_TOKEN: ${API_TOKEN}
          TOKEN_TTL: "3600"
          AWS_ACCESS_KEY_ID: AKIAEXAMPLE
          SECURE_PASSWORD: "yes"
          OTHER_URL: postgres://app:${DB_PASSWORD}@db/app
          EMPTY_PASSWORD: ""
          SECRET_NAME: db
      worker:
        image: example/app:1
        environment:
          - API_KEY=list-value
          - REDIS_URL=redis://:redis-value@cache:6379/0
          - PWD=/srv
          - MY_TOKEN
    """


def test_secrets_found_and_masked():
    found = findings(env_secrets, y(SECRETS))
    assert [f.key_path[-1] for f in found] == ["POSTGRES_PASSWORD", "PGPASSWORD", "JWT_SECRET", "AWS_SECRET_ACCESS_KEY",
                                                "DATABASE_URL", "API_KEY", "REDIS_URL"]
    literals = ("hunter2-value", "fallback-value", "'abc'", "wJalrXUtnFEMI", "url-value", "list-value", "redis-value")
    for f in found:
        assert "(value hidden)" in f.message and f.fix is None
        assert not any(secret.strip("'") in f.message for secret in literals)
    assert "default written in the file" in found[1].message


@pytest.mark.parametrize("name,secret", [
    ("DB_PASSWORD", True), ("PGPASSWORD", True), ("RABBITMQ_DEFAULT_PASS", True), ("MYSQL_PWD", True),
    ("NEXTAUTH_SECRET", True), ("GITHUB_TOKEN", True), ("APP_KEY", True), ("STRIPE_API_KEY", True),
    ("SECRET_KEY_BASE", True), ("spring.datasource.password", True), ("PWD", False), ("BYPASS", False),
    ("PASSWORD_FILE", False), ("TOKEN_URL", False), ("PASSWORD_MIN_LENGTH", False), ("AWS_ACCESS_KEY_ID", False),
    ("SSH_KEY_PATH", False), ("KEYCLOAK_HOSTNAME", False),
])
def test_secret_names(name, secret):
    assert env_secrets.is_secret_name(name) == secret


@pytest.mark.parametrize("text,value", [
    ("plain", "plain"), ("${A:-x}", "x"), ("${A-x}y", "xy"), ("$${A}", "${A}"), ("${A}", None), ("$A", None),
    ("${A:?need it}", None), ("${A:-${B:-z}}", "z"), ("${A:-${B}}", None), ("${A:-}", ""),
])
def test_resolve(text, value):
    assert env_secrets.resolve(text) == value


# --------------------------------------------------------------------------- aliases and merge keys

ANCHORED = """
    x-common: &common
      image: redis:7
      ports:
        - "6379:6379"
      volumes:
        - /:/host
        - /var/run/docker.sock:/var/run/docker.sock
        - shared:/data
    services:
      a:
        <<: *common
      b: *common
    volumes:
      shared:
    """


@pytest.mark.parametrize("rule", [sensitive_mounts, shared_volumes, unauthenticated_service, datastore_ports],
                         ids=lambda r: r.ID)
def test_no_edits_through_aliases_or_merges(rule):
    found = findings(rule, y(ANCHORED))
    assert found and all(f.fix is None for f in found)


def test_no_crash_on_odd_shapes():
    odd = """
        services:
          a:
          b: {}
          c:
            image:
            ports: "6379:6379"
            volumes: /x:/y
            environment: FOO
            command: 42
          d: !reset null
        volumes: []
        """
    for rule in RULES:
        assert isinstance(findings(rule, y(odd)), list)
    assert all(list(rule.check(Context.of(parse("")))) == [] for rule in RULES)


# --------------------------------------------------------------------------- Compose accepts the fixed files

VALIDITY = [pytest.param(rule, y(before), id=f"{rule.ID}-{i}") for i, (rule, before, _after) in
            enumerate(p.values for p in FIXES)]


@pytest.mark.parametrize("rule,before", VALIDITY)
def test_fixed_files_stay_valid_compose(rule, before, compose_check):
    code, model_before, err = compose_check(before)
    assert code == 0, err
    fixed = fix_all(rule, before)
    code, model_after, err = compose_check(fixed)
    assert code == 0, err
    assert set(model_after["services"]) == set(model_before["services"])


# --------------------------------------------------------------------------- the shared corpus

def _comments(text: str) -> list[str]:
    return [c for c in map(_comment_of, text.splitlines()) if c]


@pytest.fixture(scope="module")
def corpus_texts():
    if not CORPUS.is_dir():
        pytest.skip(f"shared corpus not found at {CORPUS}")
    texts = {}
    for path in sorted(CORPUS.iterdir()):
        try:
            text = path.read_bytes().decode("utf-8")
            parse(text)
        except Exception:  # not UTF-8 or not YAML hardener accepts: the engine reports it, nothing to test here
            continue
        texts[path.name] = text
    return texts


@pytest.mark.corpus
@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.ID)
def test_corpus_pass(rule, corpus_texts):
    """No crash; fixes converge, keep every comment, and leave nothing fixable behind."""
    total = 0
    for name, text in corpus_texts.items():
        found = findings(rule, text)
        total += len(found)
        if not any(f.fix for f in found):
            continue
        fixed = fix_all(rule, text)
        assert _comments(fixed) == _comments(text), name
        assert fix_all(rule, fixed) == fixed, name
        parse(fixed)
    assert total > 0  # every rule has something to say about 277 real files


def test_knowledge_is_consistent():
    assert all(kind in knowledge.DATASTORES for kind in knowledge.IMAGE_KIND.values())
    for path, (_subtree, rw, ro, why) in knowledge.SENSITIVE_HOST_PATHS.items():
        assert path.startswith("/") and Severity(rw) and (ro is None or Severity(ro)) and why
    assert not set(knowledge.DEBUG_PORTS) & set(knowledge.DATASTORE_PORTS)


@pytest.mark.parametrize("image,kind", [
    ("postgres:16", "postgres"), ("docker.io/bitnami/postgresql:16", "postgres"),
    ("postgres:${PG_VERSION:-16}", "postgres"), ("library/redis", "redis"),
    ("mcr.microsoft.com/mssql/server:2022-latest", "mssql"), ("sourcegraph/postgresql-16:1", "postgres"),
    ("mongo-express", None), ("redis/redisinsight", None), ("postgrest/postgrest", None),
    ("prom/postgres-exporter", None), ("confluentinc/cp-kafka-rest", None), ("${DB_IMAGE}", None), ("minio/mc", None),
])
def test_datastore_kind(image, kind):
    svc = Context.of(parse(f'services:\n  s:\n    image: "{image}"\n')).services[0]
    assert svc.datastore_kind() == kind


# --------------------------------------------------------------------------- PRT001: ports meant to be public

PROXIES = y("""
    services:
      proxy:
        image: nginx:1.27
        ports:
          - "80:80"
          - "0.0.0.0:8443:443"
          - "8080:8080"
      edge:
        image: docker.io/library/traefik:v3.1
        ports:
          - target: 443
            published: 443
      api:
        image: myorg/api:1
        ports:
          - "8443:8443"
""")


def test_ports_a_proxy_is_meant_to_serve_stay_public_and_are_still_explained():
    found = {(f.service, f.line): f for f in findings(ports_loopback, PROXIES)}
    public = [found["proxy", 5], found["proxy", 6], found["edge", 11]]
    assert all(f.severity is Severity.LOW and f.fix is None for f in public)
    assert all("is meant to serve it" in f.message and "open to every network" in f.message for f in public)
    for key in (("proxy", 7), ("api", 16)):  # nginx does not serve 8080; api has no profile
        assert found[key].severity is Severity.MEDIUM and found[key].fix is not None
    assert '"80:80"' in fix_all(ports_loopback, PROXIES) and '"127.0.0.1:8080:8080"' in fix_all(ports_loopback, PROXIES)


def test_configured_public_ports_stay_public():
    ctx = Context.of(parse(PROXIES), {"PRT001": {"public_ports": [8443, 8080]}})
    found = {(f.service, f.line): f for f in ports_loopback.check(ctx)}
    assert found["api", 16].fix is None and "the configuration declares it public" in found["api", 16].message
    assert found["proxy", 7].fix is None  # configured ports hold for every service


@pytest.mark.parametrize("spec, ports", [
    ("80", {80}), ("8080:80", {80}), ("127.0.0.1:8080:80/udp", {80}), ("9000-9001:9000-9001", {9000, 9001}),
    ("${PORT:-80}:80", {80}), ("8080:${TARGET}", set()), ("[::1]:8080:80", {80}),
])
def test_container_ports_of_a_short_mapping(spec, ports):
    assert container_ports(spec) == ports
