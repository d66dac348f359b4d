"""AUTH001 beyond Postgres and Redis (issues 10 and 13): MongoDB by image family and mongod started
by hand; the credentials fixes for MongoDB, MySQL/MariaDB, Elasticsearch, OpenSearch, MinIO and
RabbitMQ, memcached's loopback binding, the clients that are rewired, and the Compose secret from a
file (`secrets = "file"`). Before/after pairs through the public API (conftest.assert_fixes /
assert_no_fix) and the real `docker compose config`."""
from __future__ import annotations

from conftest import assert_no_fix, y

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
