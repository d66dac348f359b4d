"""AUTH001 beyond Postgres and Redis (issues 10 and 13): MongoDB by image family and mongod started
by hand; the credentials fixes for MongoDB, MySQL/MariaDB, Elasticsearch, OpenSearch, MinIO and
RabbitMQ, memcached's loopback binding, the clients that are rewired, and the Compose secret from a
file (`secrets = "file"`). Before/after pairs through the public API (conftest.assert_fixes /
assert_no_fix) and the real `docker compose config`."""
from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path

from conftest import assert_fixes, assert_no_fix, fix_text, y

RULE = "AUTH001"



# --------------------------------------------------------------------------- MongoDB detection

def test_mongodb_community_server_without_its_variables_is_reported():
    text = y("services:", "  db:", "    image: mongodb/mongodb-community-server:7.0-ubi8")
    assert_no_fix(text, rule=RULE, message="no MONGODB_INITDB_ROOT_USERNAME")


def test_mongodb_community_server_with_its_variables_is_not():
    text = y("services:", "  db:", "    image: mongodb/mongodb-community-server:7.0-ubi8", "    environment:",
             "      MONGODB_INITDB_ROOT_USERNAME: admin", "      MONGODB_INITDB_ROOT_PASSWORD: ${MONGO_PW:?}")
    assert_no_fix(text, rule=RULE)


def test_a_mirror_of_the_enterprise_image_is_the_same_family():
    text = y("services:", "  db:", "    image: registry.example.com/mongodb/mongodb-enterprise-server:8.0")
    assert_no_fix(text, rule=RULE, message="MONGODB_INITDB_ROOT_USERNAME")


def test_mongod_run_by_the_entrypoint_ignores_the_root_variables():
    text = y("services:", "  db:", "    image: mongo:7", "    entrypoint: [\"mongod\", \"--bind_ip_all\"]",
             "    environment:", "      MONGO_INITDB_ROOT_USERNAME: root", "      MONGO_INITDB_ROOT_PASSWORD: ${PW:?}")
    assert_no_fix(text, rule=RULE, message="the image's entrypoint, which creates the root user")


def test_mongod_in_a_shell_command_of_any_image():
    text = y("services:", "  db:", "    build: .", "    command: [\"sh\", \"-c\", \"exec mongod --bind_ip_all --replSet rs0\"]")
    assert_no_fix(text, rule=RULE, message="mongod started by its command without --auth")
    text = y("services:", "  db:", "    image: ubuntu:24.04", "    command: /usr/bin/mongod --bind_ip_all")
    assert_no_fix(text, rule=RULE, message="mongod started by its command")


def test_mongod_with_auth_or_a_key_file_is_not_reported():
    for flags in ("--auth", "--keyFile /etc/mongo/key", "--config /etc/mongod.conf", "-f /etc/mongod.yaml"):
        text = y("services:", "  db:", "    image: mongo:7", f"    entrypoint: mongod --bind_ip_all {flags}")
        assert_no_fix(text, rule=RULE)
        text = y("services:", "  db:", "    build: .", f"    command: [\"sh\", \"-c\", \"mongod {flags}\"]")
        assert_no_fix(text, rule=RULE)


def test_the_official_entrypoint_with_a_mongod_command_reads_the_variables():
    text = y("services:", "  db:", "    image: mongo:7", "    command: mongod --bind_ip_all", "    environment:",
             "      MONGO_INITDB_ROOT_USERNAME: root", "      MONGO_INITDB_ROOT_PASSWORD: ${PW:?}")
    assert_no_fix(text, rule=RULE)
    # an unknown image running mongod with the variables may be a derivative with that entrypoint
    text = y("services:", "  db:", "    image: example/mongo-plus:1", "    command: mongod", "    environment:",
             "      MONGO_INITDB_ROOT_USERNAME: root")
    assert_no_fix(text, rule=RULE)


def test_families_reach_derivatives_of_other_datastores():
    # wazuh-indexer is OpenSearch (images.json family): security switched off is found
    text = y("services:", "  indexer:", "    image: wazuh/wazuh-indexer:4.9.0", "    environment:",
             "      DISABLE_SECURITY_PLUGIN: \"true\"")
    assert_no_fix(text, rule=RULE, message="runs OpenSearch with DISABLE_SECURITY_PLUGIN=true")
    text = y("services:", "  db:", "    image: zulip/zulip-postgresql:14", "    environment:",
             "      POSTGRES_HOST_AUTH_METHOD: trust")
    assert_no_fix(text, rule=RULE, message="runs PostgreSQL with POSTGRES_HOST_AUTH_METHOD=trust")


# --------------------------------------------------------------------------- the credentials fixes

ON = {"AUTH001": {"credentials": True}}
FILE = {"AUTH001": {"credentials": True, "secrets": "file"}}


def configured(binary, text, **variables):
    """`docker compose config` of the text with the variables in an .env file beside it: (exit code,
    parsed model or None, stderr)."""
    with tempfile.TemporaryDirectory(prefix="seed2-") as tmp:
        Path(tmp, "compose.yaml").write_text(text, encoding="utf-8")
        Path(tmp, ".env").write_text("".join(f"{k}={v}\n" for k, v in variables.items()), encoding="utf-8")
        proc = subprocess.run([binary, "-f", "compose.yaml", "config", "--format", "json"], cwd=tmp,
                              env={"PATH": "/usr/bin:/bin", "HOME": tmp}, capture_output=True, text=True, timeout=60)
    return proc.returncode, json.loads(proc.stdout) if proc.returncode == 0 else None, proc.stderr


def fixed_message(text, options=ON, service=None):
    remaining, fixed, _ = fix_text(text, RULE, True, options)
    found = [f for f in fixed + remaining if f.rule_id == RULE and (service is None or f.service == service)]
    assert found, "no AUTH001 finding"
    return found[0].message


MONGO_BEFORE = y(
    "services:",
    "  mongo:",
    "    image: mongo:7",
    "    ports: [\"27017:27017\"]",
    "  app:",
    "    image: example/app:1",
    "    environment:",
    "      MONGO_URL: mongodb://mongo:27017/app?replicaSet=rs0",
    "      MONGO_ADMIN_URL: mongodb://mongo:27017",
)
MONGO_AFTER = y(
    "services:",
    "  mongo:",
    "    image: mongo:7",
    "    ports: [\"127.0.0.1:27017:27017\"]",
    "    environment:",
    "      MONGO_INITDB_ROOT_USERNAME: \"${MONGO_INITDB_ROOT_USERNAME:?set MONGO_INITDB_ROOT_USERNAME}\"",
    "      MONGO_INITDB_ROOT_PASSWORD: \"${MONGO_INITDB_ROOT_PASSWORD:?set MONGO_INITDB_ROOT_PASSWORD}\"",
    "  app:",
    "    image: example/app:1",
    "    environment:",
    "      MONGO_URL: \"mongodb://${MONGO_INITDB_ROOT_USERNAME}:${MONGO_INITDB_ROOT_PASSWORD}@mongo:27017/app"
    "?replicaSet=rs0&authSource=admin\"",
    "      MONGO_ADMIN_URL: \"mongodb://${MONGO_INITDB_ROOT_USERNAME}:${MONGO_INITDB_ROOT_PASSWORD}@mongo:27017\"",
)


def test_mongodb_gets_a_root_user_from_required_variables(compose_binary):
    assert_fixes(MONGO_BEFORE, MONGO_AFTER, rule=RULE, unsafe=True, options=ON)
    code, _, err = configured(compose_binary, MONGO_AFTER)
    assert code != 0 and "set MONGO_INITDB_ROOT_" in err
    code, model, err = configured(compose_binary, MONGO_AFTER, MONGO_INITDB_ROOT_USERNAME="root",
                                  MONGO_INITDB_ROOT_PASSWORD="Pw-1")
    assert code == 0, err
    assert model["services"]["mongo"]["environment"]["MONGO_INITDB_ROOT_PASSWORD"] == "Pw-1"
    assert model["services"]["app"]["environment"]["MONGO_URL"] == \
        "mongodb://root:Pw-1@mongo:27017/app?replicaSet=rs0&authSource=admin"
    message = fixed_message(MONGO_BEFORE, service="mongo")
    assert "set MONGO_INITDB_ROOT_USERNAME and MONGO_INITDB_ROOT_PASSWORD" in message and ".env" in message
    assert "empty data volume" in message and "updates app" in message


def test_mongodb_community_server_gets_its_own_variables():
    before = y("services:", "  db:", "    image: mongodb/mongodb-community-server:7.0-ubi8")
    after = y("services:", "  db:", "    image: mongodb/mongodb-community-server:7.0-ubi8", "    environment:",
              "      MONGODB_INITDB_ROOT_USERNAME: \"${MONGODB_INITDB_ROOT_USERNAME:?set MONGODB_INITDB_ROOT_USERNAME}\"",
              "      MONGODB_INITDB_ROOT_PASSWORD: \"${MONGODB_INITDB_ROOT_PASSWORD:?set MONGODB_INITDB_ROOT_PASSWORD}\"")
    assert_fixes(before, after, rule=RULE, unsafe=True, options=ON)


def test_mongod_started_by_hand_is_explained_not_rewritten():
    text = y("services:", "  db:", "    image: mongo:7", "    entrypoint: [\"mongod\", \"--bind_ip_all\"]")
    assert_no_fix(text, rule=RULE, options=ON, message="create a user, then add --auth")


def test_mariadb_with_an_empty_root_password_gets_one():
    before = y("services:", "  db:", "    image: mariadb:11", "    environment:",
               "      - MARIADB_ALLOW_EMPTY_ROOT_PASSWORD=yes", "  app:", "    image: example/app:1",
               "    environment:", "      DB_URL: mysql://root@db:3306/app", "      OTHER_URL: mysql://app@db/app")
    after = y("services:", "  db:", "    image: mariadb:11", "    environment:",
              "      - MARIADB_ALLOW_EMPTY_ROOT_PASSWORD=yes",
              "      - \"MARIADB_ROOT_PASSWORD=${MARIADB_ROOT_PASSWORD:?set MARIADB_ROOT_PASSWORD}\"",
              "  app:", "    image: example/app:1", "    environment:",
              "      DB_URL: \"mysql://root:${MARIADB_ROOT_PASSWORD}@db:3306/app\"", "      OTHER_URL: mysql://app@db/app")
    assert_fixes(before, after, rule=RULE, unsafe=True, options=ON)
    assert "ALTER USER 'root'" in fixed_message(before, service="db")


def test_elasticsearch_security_is_turned_on(compose_binary):
    before = y("services:", "  es:", "    image: docker.elastic.co/elasticsearch/elasticsearch:8.15.0",
               "    environment:", "      - discovery.type=single-node", "      - xpack.security.enabled=false",
               "  kibana:", "    image: kibana:8.15.0", "    environment:", "      ELASTICSEARCH_HOSTS: http://es:9200")
    after = y("services:", "  es:", "    image: docker.elastic.co/elasticsearch/elasticsearch:8.15.0",
              "    environment:", "      - discovery.type=single-node", "      - xpack.security.enabled=true",
              "      - \"ELASTIC_PASSWORD=${ELASTIC_PASSWORD:?set ELASTIC_PASSWORD}\"",
              "  kibana:", "    image: kibana:8.15.0", "    environment:", "      ELASTICSEARCH_HOSTS: http://es:9200")
    assert_fixes(before, after, rule=RULE, unsafe=True, options=ON)
    message = fixed_message(before, service="es")
    assert "kibana_system" in message and "transport TLS" in message
    assert "cannot see how kibana connects" in message
    code, model, err = configured(compose_binary, after, ELASTIC_PASSWORD="Es-Pw-1")
    assert code == 0 and model["services"]["es"]["environment"]["xpack.security.enabled"] == "true", err
    # 7.x without the setting: it is added
    seven = y("services:", "  es:", "    image: elasticsearch:7.17.22")
    remaining, fixed, out = fix_text(seven, RULE, True, ON)
    assert "xpack.security.enabled: \"true\"" in out and "ELASTIC_PASSWORD" in out


def test_elasticsearch_that_cannot_be_secured_here_is_explained():
    oss = y("services:", "  es:", "    image: docker.elastic.co/elasticsearch/elasticsearch-oss:7.10.2")
    assert_no_fix(oss, rule=RULE, options=ON, message="no security features")
    six = y("services:", "  es:", "    image: elasticsearch:6.8.23")
    assert_no_fix(six, rule=RULE, options=ON, message="upgrade")
    flag = y("services:", "  es:", "    image: elasticsearch:8.15.0", "    command: [\"-Expack.security.enabled=false\"]")
    assert_no_fix(flag, rule=RULE, options=ON, message="set in the command")


def test_opensearch_security_plugin_is_turned_on():
    before = y("services:", "  os:", "    image: opensearchproject/opensearch:2.15.0", "    environment:",
               "      discovery.type: single-node", "      DISABLE_SECURITY_PLUGIN: \"true\"")
    after = y("services:", "  os:", "    image: opensearchproject/opensearch:2.15.0", "    environment:",
              "      discovery.type: single-node", "      DISABLE_SECURITY_PLUGIN: \"false\"",
              "      OPENSEARCH_INITIAL_ADMIN_PASSWORD: \"${OPENSEARCH_INITIAL_ADMIN_PASSWORD:?set "
              "OPENSEARCH_INITIAL_ADMIN_PASSWORD}\"")
    assert_fixes(before, after, rule=RULE, unsafe=True, options=ON)
    message = fixed_message(before)
    assert "HTTPS only" in message and "demo certificates" in message and "https://" in message


def test_opensearch_that_cannot_be_secured_here_is_explained():
    old = y("services:", "  os:", "    image: opensearchproject/opensearch:2.11.1", "    environment:",
            "      DISABLE_SECURITY_PLUGIN: \"true\"")
    assert_no_fix(old, rule=RULE, options=ON, message="admin/admin")
    no_demo = y("services:", "  os:", "    image: opensearchproject/opensearch:2", "    environment:",
                "      DISABLE_SECURITY_PLUGIN: \"true\"", "      DISABLE_INSTALL_DEMO_CONFIG: \"true\"")
    assert_no_fix(no_demo, rule=RULE, options=ON, message="without certificates")


def test_minio_default_credentials_become_required_variables():
    before = y("services:", "  minio:", "    image: minio/minio:RELEASE.2024-06-13T22-53-53Z",
               "    command: server /data", "    environment:", "      MINIO_ROOT_USER: minioadmin",
               "      MINIO_ROOT_PASSWORD: minioadmin", "  app:", "    image: example/app:1", "    environment:",
               "      S3_ENDPOINT: http://minio:9000", "      S3_ACCESS_KEY: minioadmin", "      S3_SECRET_KEY: minioadmin")
    after = y("services:", "  minio:", "    image: minio/minio:RELEASE.2024-06-13T22-53-53Z",
              "    command: server /data", "    environment:",
              "      MINIO_ROOT_USER: \"${MINIO_ROOT_USER:?set MINIO_ROOT_USER}\"",
              "      MINIO_ROOT_PASSWORD: \"${MINIO_ROOT_PASSWORD:?set MINIO_ROOT_PASSWORD}\"", "  app:",
              "    image: example/app:1", "    environment:", "      S3_ENDPOINT: http://minio:9000",
              "      S3_ACCESS_KEY: \"${MINIO_ROOT_USER}\"", "      S3_SECRET_KEY: \"${MINIO_ROOT_PASSWORD}\"")
    assert_fixes(before, after, rule=RULE, unsafe=True, options=ON)
    assert "shorter than 8" in fixed_message(before, service="minio")
    missing = y("services:", "  minio:", "    image: quay.io/minio/minio", "    command: server /data")
    _, _, out = fix_text(missing, RULE, True, ON)
    assert "MINIO_ROOT_USER: \"${MINIO_ROOT_USER:?set MINIO_ROOT_USER}\"" in out


def test_rabbitmq_guest_becomes_required_variables_and_amqp_urls_follow():
    before = y("services:", "  rabbit:", "    image: rabbitmq:3-management", "  worker:", "    image: example/worker:1",
               "    environment:", "      AMQP_URL: amqp://guest:guest@rabbit:5672/", "  api:", "    image: example/api:1",
               "    environment:", "      - BROKER_URL=amqp://rabbit:5672//")
    after = y("services:", "  rabbit:", "    image: rabbitmq:3-management", "    environment:",
              "      RABBITMQ_DEFAULT_USER: \"${RABBITMQ_DEFAULT_USER:?set RABBITMQ_DEFAULT_USER}\"",
              "      RABBITMQ_DEFAULT_PASS: \"${RABBITMQ_DEFAULT_PASS:?set RABBITMQ_DEFAULT_PASS}\"",
              "  worker:", "    image: example/worker:1", "    environment:",
              "      AMQP_URL: \"amqp://${RABBITMQ_DEFAULT_USER}:${RABBITMQ_DEFAULT_PASS}@rabbit:5672/\"", "  api:",
              "    image: example/api:1", "    environment:",
              "      - \"BROKER_URL=amqp://${RABBITMQ_DEFAULT_USER}:${RABBITMQ_DEFAULT_PASS}@rabbit:5672//\"")
    assert_fixes(before, after, rule=RULE, unsafe=True, options=ON)
    message = fixed_message(before, service="rabbit")
    assert "rabbitmqctl add_user" in message and "updates worker, api" in message


def test_memcached_on_a_published_port_is_bound_to_loopback_and_explained():
    before = y("services:", "  cache:", "    image: memcached:1.6", "    ports:", "      - \"11211:11211\"")
    after = y("services:", "  cache:", "    image: memcached:1.6", "    ports:", "      - \"127.0.0.1:11211:11211\"")
    for options in (None, ON):
        remaining, _ = assert_fixes(before, after, rule=RULE, unsafe=True, options=options)
    message = fixed_message(before)
    assert "no password of its own" in message and "bind the ports to 127.0.0.1" in message
    host = y("services:", "  cache:", "    image: memcached:1.6", "    network_mode: host")
    assert_no_fix(host, rule=RULE, options=ON, message="open on every interface of the host")


def test_a_client_whose_connection_cannot_be_seen_is_named():
    text = y("services:", "  rabbit:", "    image: rabbitmq:3", "  worker:", "    image: example/worker:1",
             "    env_file: worker.env", "    depends_on: [rabbit]")
    assert "cannot see how worker connects" in fixed_message(text, service="rabbit")


def test_an_anchored_environment_gets_no_fix_and_says_why():
    text = y("x-env: &env", "  RABBITMQ_DEFAULT_USER: guest", "  RABBITMQ_DEFAULT_PASS: guest", "services:", "  rabbit:",
             "    image: rabbitmq:3", "    environment: *env")
    assert_no_fix(text, rule=RULE, options=ON, message="through an anchor")


def test_without_the_option_the_message_points_at_it():
    text = y("services:", "  rabbit:", "    image: rabbitmq:3")
    assert_no_fix(text, rule=RULE, message="credentials = true")


# --------------------------------------------------------------------------- a Compose secret from a file

SECRET_BEFORE = y(
    "services:",
    "  db:",
    "    image: postgres:16",
    "    environment:",
    "      POSTGRES_HOST_AUTH_METHOD: trust",
    "  mongo:",
    "    image: mongo:7",
    "  maria:",
    "    image: mariadb:11",
    "    environment:",
    "      - MARIADB_ALLOW_EMPTY_ROOT_PASSWORD=1",
    "    secrets:",
    "      - other",
    "  api:",
    "    image: example/api:1",
    "    environment:",
    "      DATABASE_URL: postgres://app@db:5432/app",
    "secrets:",
    "  other:",
    "    file: ./other.txt",
)
SECRET_AFTER = y(
    "services:",
    "  db:",
    "    image: postgres:16",
    "    environment:",
    "      POSTGRES_HOST_AUTH_METHOD: scram-sha-256",
    "      POSTGRES_PASSWORD_FILE: /run/secrets/db_password",
    "    secrets:",
    "      - db_password",
    "  mongo:",
    "    image: mongo:7",
    "    environment:",
    "      MONGO_INITDB_ROOT_USERNAME: \"${MONGO_INITDB_ROOT_USERNAME:?set MONGO_INITDB_ROOT_USERNAME}\"",
    "      MONGO_INITDB_ROOT_PASSWORD_FILE: /run/secrets/mongo_password",
    "    secrets:",
    "      - mongo_password",
    "  maria:",
    "    image: mariadb:11",
    "    environment:",
    "      - MARIADB_ALLOW_EMPTY_ROOT_PASSWORD=1",
    "      - MARIADB_ROOT_PASSWORD_FILE=/run/secrets/maria_password",
    "    secrets:",
    "      - other",
    "      - maria_password",
    "  api:",
    "    image: example/api:1",
    "    environment:",
    "      DATABASE_URL: postgres://app@db:5432/app",
    "secrets:",
    "  other:",
    "    file: ./other.txt",
    "  db_password:",
    "    file: ./secrets/db_password.txt",
    "  mongo_password:",
    "    file: ./secrets/mongo_password.txt",
    "  maria_password:",
    "    file: ./secrets/maria_password.txt",
)


def test_secrets_from_files_where_the_image_reads_a_file_variable(compose_binary):
    assert_fixes(SECRET_BEFORE, SECRET_AFTER, rule=RULE, unsafe=True, options=FILE)
    code, model, err = configured(compose_binary, SECRET_AFTER, MONGO_INITDB_ROOT_USERNAME="root")
    assert code == 0, err
    assert model["services"]["db"]["secrets"] == [{"source": "db_password", "target": "/run/secrets/db_password"}]
    assert model["secrets"]["db_password"]["file"].endswith("/secrets/db_password.txt")
    message = fixed_message(SECRET_BEFORE, FILE, service="db")
    assert "create ./secrets/db_password.txt" in message
    assert "api needs the password too" in message and "secret db_password" in message


def test_secrets_file_mode_keeps_variables_where_the_image_reads_no_file():
    text = y("services:", "  cache:", "    image: redis:7", "  rabbit:", "    image: rabbitmq:3")
    _, _, out = fix_text(text, RULE, True, FILE)
    assert "${REDIS_PASSWORD:?set REDIS_PASSWORD}" in out and "${RABBITMQ_DEFAULT_PASS:?" in out
    assert "secrets:" not in out


def test_the_secrets_option_is_checked(tmp_path, run_cli):
    (tmp_path / "compose.yaml").write_text(y("services:", "  db:", "    image: postgres:16"))
    (tmp_path / ".hardener.yaml").write_text("options:\n  AUTH001:\n    secrets: files\n")
    proc = run_cli("check", "compose.yaml", cwd=tmp_path)
    assert proc.returncode == 2 and "expected 'variable' or 'file'" in proc.stderr


def test_bitnami_images_are_told_their_own_variables():
    text = y("services:", "  db:", "    image: bitnami/postgresql:16", "    environment:", "      - ALLOW_EMPTY_PASSWORD=yes")
    assert_no_fix(text, rule=RULE, options=ON, message="POSTGRESQL_PASSWORD")
