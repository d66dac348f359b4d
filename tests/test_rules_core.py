"""Before/after tests for the engine and the eight core rules, through `hardener.harden`.

Every pair says which rule it exercises, whether its fix is safe or unsafe, the input text and the exact
expected output. From each pair the tests derive: the exact fix, idempotency, the safe-only run, the
same pair with CRLF line ends and without a final newline, and (for complete files) acceptance of the
output by the real `docker compose config`.
"""
from __future__ import annotations

import pytest

from conftest import y
from hardener import harden
from hardener.rules import RULES

SAFE, UNSAFE = "safe", "unsafe"
# the eight core rules; runs over "all rules" select them so that rules added later do not change the outputs
CORE = ("CAP001", "USR001", "VOL001", "PRT001", "RES001", "RST001", "NET001", "LOG001")


def fix(text: str, rule: str, unsafe: bool = True):
    remaining, fixed, out = harden(text, unsafe_fixes=unsafe, select=[rule])
    return remaining, fixed, out


# --------------------------------------------------------------------------- pairs
# (rule, applicability of the fix, before, after)

CAP = [
    pytest.param("CAP001", UNSAFE,
                 y("services:", "  web:", "    image: myorg/web"),
                 y("services:", "  web:", "    image: myorg/web", "    cap_drop:", "      - ALL"),
                 id="CAP001-add-2-space"),
    pytest.param("CAP001", UNSAFE,
                 y("services:", "    web:", "        image: myorg/web", "        ports:", "            - '80:80'"),
                 y("services:", "    web:", "        image: myorg/web", "        ports:", "            - '80:80'",
                   "        cap_drop:", "            - ALL"),
                 id="CAP001-add-4-space"),
    pytest.param("CAP001", UNSAFE,
                 y("services:", "    web:", "        image: myorg/web", "        cap_drop:", "        - NET_RAW"),
                 y("services:", "    web:", "        image: myorg/web", "        cap_drop:", "        - NET_RAW",
                   "        - ALL"),
                 id="CAP001-append-indentless"),
    pytest.param("CAP001", UNSAFE,
                 y("services:", "  web:", "    image: myorg/web", "    volumes:", "    - ./data:/data"),
                 y("services:", "  web:", "    image: myorg/web", "    volumes:", "    - ./data:/data",
                   "    cap_drop:", "    - ALL"),
                 id="CAP001-new-list-follows-indentless-style"),
    pytest.param("CAP001", UNSAFE,
                 y("services:", "  web:", "    image: myorg/web", "    cap_drop: [NET_RAW]"),
                 y("services:", "  web:", "    image: myorg/web", "    cap_drop: [NET_RAW, ALL]"),
                 id="CAP001-append-flow-seq"),
    pytest.param("CAP001", UNSAFE,
                 y("services:", "  web:", "    image: myorg/web", "    cap_drop: []"),
                 y("services:", "  web:", "    image: myorg/web", "    cap_drop: [ALL]"),
                 id="CAP001-empty-flow-seq"),
    pytest.param("CAP001", UNSAFE,
                 y("services:", "  web: {image: myorg/web}"),
                 y("services:", "  web: {image: myorg/web, cap_drop: [ALL]}"),
                 id="CAP001-flow-service"),
    pytest.param("CAP001", UNSAFE,
                 y("services:", "  web:", "    image: myorg/web  # the front end", "  # the database",
                   "  db:", "    image: myorg/db"),
                 y("services:", "  web:", "    image: myorg/web  # the front end", "    cap_drop:", "      - ALL",
                   "  # the database", "  db:", "    image: myorg/db", "    cap_drop:", "      - ALL"),
                 id="CAP001-comments-between-services"),
    pytest.param("CAP001", UNSAFE,
                 y("services:", "  web:", "    image: myorg/web", "    command: |", "      echo one",
                   "      echo two", "", "  db:", "    image: myorg/db"),
                 y("services:", "  web:", "    image: myorg/web", "    command: |", "      echo one",
                   "      echo two", "    cap_drop:", "      - ALL", "", "  db:", "    image: myorg/db",
                   "    cap_drop:", "      - ALL"),
                 id="CAP001-after-block-scalar"),
    pytest.param("CAP001", UNSAFE,
                 y("---", "services:", "  web:", "    image: myorg/web", "..."),
                 y("---", "services:", "  web:", "    image: myorg/web", "    cap_drop:", "      - ALL", "..."),
                 id="CAP001-document-markers"),
    pytest.param("CAP001", UNSAFE,
                 y("services:", "  web:", "    image: myorg/web", "    cap_add:", "      - NET_BIND_SERVICE"),
                 y("services:", "  web:", "    image: myorg/web", "    cap_add:", "      - NET_BIND_SERVICE",
                   "    cap_drop:", "      - ALL"),
                 id="CAP001-keeps-cap-add"),
    pytest.param("CAP001", UNSAFE,
                 y("services:", "  web: &web", "    image: myorg/web", "  web2: *web"),
                 y("services:", "  web: &web", "    image: myorg/web", "    cap_drop:", "      - ALL",
                   "  web2: *web"),
                 id="CAP001-aliased-service-edited-once"),
]

USR = [
    pytest.param("USR001", UNSAFE,
                 y("services:", "  api:", "    image: myorg/api"),
                 y("services:", "  api:", "    image: myorg/api", "    user: 65534:65534"),
                 id="USR001-add"),
    pytest.param("USR001", UNSAFE,
                 y("services:", "  api:", "    image: myorg/api", "    user: root", "    init: true"),
                 y("services:", "  api:", "    image: myorg/api", "    user: 65534:65534", "    init: true"),
                 id="USR001-replace-root"),
    pytest.param("USR001", UNSAFE,
                 y("services:", "  api:", "    image: myorg/api", "    user: '0:0'  # needs root?"),
                 y("services:", "  api:", "    image: myorg/api", "    user: '65534:65534'  # needs root?"),
                 id="USR001-replace-keeps-quote-and-comment"),
    pytest.param("USR001", UNSAFE,
                 y("services:", "  api:", "    image: myorg/api", '    user: "root:root"'),
                 y("services:", "  api:", "    image: myorg/api", '    user: "65534:65534"'),
                 id="USR001-replace-double-quoted"),
    pytest.param("USR001", UNSAFE,
                 y("x-base: &base", "  user: root", "services:", "  api:", "    <<: *base",
                   "    image: myorg/api"),
                 y("x-base: &base", "  user: root", "services:", "  api:", "    <<: *base",
                   "    image: myorg/api", "    user: 65534:65534"),
                 id="USR001-merged-root-gets-own-key"),
]

VOL = [
    pytest.param("VOL001", SAFE,
                 y("services:", "  proxy:", "    image: myorg/web", "    volumes:",
                   "      - ./nginx.conf:/etc/nginx/nginx.conf"),
                 y("services:", "  proxy:", "    image: myorg/web", "    volumes:",
                   "      - ./nginx.conf:/etc/nginx/nginx.conf:ro"),
                 id="VOL001-config-file"),
    pytest.param("VOL001", SAFE,
                 y("services:", "  proxy:", "    image: myorg/web", "    volumes:",
                   "      - ./nginx.conf:/etc/nginx/nginx.conf:z"),
                 y("services:", "  proxy:", "    image: myorg/web", "    volumes:",
                   '      - "./nginx.conf:/etc/nginx/nginx.conf:ro,z"'),
                 id="VOL001-mode-list-merged"),
    pytest.param("VOL001", SAFE,
                 y("services:", "  proxy:", "    image: myorg/web", "    volumes:",
                   "      - './certs/site.pem:/certs/site.pem'  # tls"),
                 y("services:", "  proxy:", "    image: myorg/web", "    volumes:",
                   "      - './certs/site.pem:/certs/site.pem:ro'  # tls"),
                 id="VOL001-single-quoted-with-comment"),
    pytest.param("VOL001", SAFE,
                 y("services:", "  app:", "    image: myorg/app", "    volumes:",
                   "      - /etc/localtime:/etc/localtime"),
                 y("services:", "  app:", "    image: myorg/app", "    volumes:",
                   "      - /etc/localtime:/etc/localtime:ro"),
                 id="VOL001-localtime"),
    pytest.param("VOL001", SAFE,
                 y("services:", "  db:", "    image: myorg/db", "    volumes:",
                   "    - ./init:/docker-entrypoint-initdb.d", "    - dbdata:/var/lib/postgresql/data",
                   "volumes:", "  dbdata:"),
                 y("services:", "  db:", "    image: myorg/db", "    volumes:",
                   "    - ./init:/docker-entrypoint-initdb.d:ro", "    - dbdata:/var/lib/postgresql/data",
                   "volumes:", "  dbdata:"),
                 id="VOL001-initdb-folder-indentless"),
    pytest.param("VOL001", UNSAFE,
                 y("services:", "  web:", "    image: myorg/web", "    volumes:",
                   '      - "./site:/usr/share/nginx/html"'),
                 y("services:", "  web:", "    image: myorg/web", "    volumes:",
                   '      - "./site:/usr/share/nginx/html:ro"'),
                 id="VOL001-static-folder-unsafe"),
    pytest.param("VOL001", SAFE,
                 y("services:", "  proxy:", "    image: myorg/web", "    volumes:", "      - type: bind",
                   "        source: ./nginx.conf", "        target: /etc/nginx/nginx.conf"),
                 y("services:", "  proxy:", "    image: myorg/web", "    volumes:", "      - type: bind",
                   "        source: ./nginx.conf", "        target: /etc/nginx/nginx.conf",
                   "        read_only: true"),
                 id="VOL001-long-syntax"),
    pytest.param("VOL001", SAFE,
                 y("services:", "  proxy:", "    image: myorg/web", "    volumes:",
                   "      - {type: bind, source: ./app.ini, target: /app/app.ini}"),
                 y("services:", "  proxy:", "    image: myorg/web", "    volumes:",
                   "      - {type: bind, source: ./app.ini, target: /app/app.ini, read_only: true}"),
                 id="VOL001-long-syntax-flow"),
]

PRT = [
    pytest.param("PRT001", UNSAFE,
                 y("services:", "  web:", "    image: myorg/web", "    ports:", '      - "80"'),
                 y("services:", "  web:", "    image: myorg/web", "    ports:", '      - "127.0.0.1::80"'),
                 id="PRT001-container-port-only"),
    pytest.param("PRT001", UNSAFE,
                 y("services:", "  web:", "    image: myorg/web", "    ports:", "      - 8080:80"),
                 y("services:", "  web:", "    image: myorg/web", "    ports:", "      - 127.0.0.1:8080:80"),
                 id="PRT001-plain"),
    pytest.param("PRT001", UNSAFE,
                 y("services:", "  web:", "    image: myorg/web", "    ports:", '      - "0.0.0.0:80:80"'),
                 y("services:", "  web:", "    image: myorg/web", "    ports:", '      - "127.0.0.1:80:80"'),
                 id="PRT001-explicit-any-address"),
    pytest.param("PRT001", UNSAFE,
                 y("services:", "  metrics:", "    image: myorg/statsd", "    ports:", '      - "8125:8125/udp"',
                   "      - '8126:8126/tcp'  # admin"),
                 y("services:", "  metrics:", "    image: myorg/statsd", "    ports:",
                   '      - "127.0.0.1:8125:8125/udp"', "      - '127.0.0.1:8126:8126/tcp'  # admin"),
                 id="PRT001-protocol-suffix"),
    pytest.param("PRT001", UNSAFE,
                 y("services:", "  ftp:", "    image: myorg/ftp", "    ports:", '      - "21000-21010:21000-21010"'),
                 y("services:", "  ftp:", "    image: myorg/ftp", "    ports:",
                   '      - "127.0.0.1:21000-21010:21000-21010"'),
                 id="PRT001-range"),
    pytest.param("PRT001", UNSAFE,
                 y("services:", "  web:", "    image: myorg/web", "    ports:", '      - "8080:${APP_PORT:-80}"'),
                 y("services:", "  web:", "    image: myorg/web", "    ports:", '      - "127.0.0.1:8080:${APP_PORT:-80}"'),
                 id="PRT001-variable-container-port"),
    pytest.param("PRT001", UNSAFE,
                 y("services:", "  web:", "    image: myorg/web", "    ports:", '      - "[::]:80:80"'),
                 y("services:", "  web:", "    image: myorg/web", "    ports:", '      - "[::1]:80:80"'),
                 id="PRT001-ipv6-any"),
    pytest.param("PRT001", UNSAFE,
                 y("services:", "  web:", "    image: myorg/web", "    ports: ['80:80', '443:443']"),
                 y("services:", "  web:", "    image: myorg/web", "    ports: ['127.0.0.1:80:80', '127.0.0.1:443:443']"),
                 id="PRT001-flow-list"),
    pytest.param("PRT001", UNSAFE,
                 y("services:", "  web:", "    image: myorg/web", "    ports:", "      - target: 80",
                   "        published: 8080"),
                 y("services:", "  web:", "    image: myorg/web", "    ports:", "      - target: 80",
                   "        published: 8080", "        host_ip: 127.0.0.1"),
                 id="PRT001-long-syntax"),
    pytest.param("PRT001", UNSAFE,
                 y("services:", "  web:", "    image: myorg/web", "    ports:", "      - target: 80",
                   '        host_ip: "0.0.0.0"', "        published: 8080"),
                 y("services:", "  web:", "    image: myorg/web", "    ports:", "      - target: 80",
                   '        host_ip: "127.0.0.1"', "        published: 8080"),
                 id="PRT001-long-syntax-any-address"),
]

RES = [
    pytest.param("RES001", UNSAFE,
                 y("services:", "  worker:", "    image: myorg/worker"),
                 y("services:", "  worker:", "    image: myorg/worker", "    deploy:", "      resources:",
                   "        limits:", '          cpus: "1.0"', "          memory: 1G"),
                 id="RES001-add-deploy"),
    pytest.param("RES001", SAFE,
                 y("services:", "  web:", "    image: nginx:1.27"),
                 y("services:", "  web:", "    image: nginx:1.27", "    deploy:", "      resources:",
                   "        limits:", '          cpus: "1.0"', "          memory: 256M"),
                 id="RES001-known-image"),
    pytest.param("RES001", UNSAFE,
                 y("services:", "  db:", "    image: postgres:16", "    shm_size: 2gb"),
                 y("services:", "  db:", "    image: postgres:16", "    shm_size: 2gb", "    deploy:", "      resources:",
                   "        limits:", '          cpus: "1.0"', "          memory: 2560M"),
                 id="RES001-known-image-declaring-more"),
    pytest.param("RES001", UNSAFE,
                 y("services:", "    worker:", "        image: myorg/worker"),
                 y("services:", "    worker:", "        image: myorg/worker", "        deploy:",
                   "            resources:", "                limits:", '                    cpus: "1.0"',
                   "                    memory: 1G"),
                 id="RES001-add-deploy-4-space"),
    pytest.param("RES001", UNSAFE,
                 y("services:", "  worker:", "    image: myorg/worker", "    mem_limit: 512m"),
                 y("services:", "  worker:", "    image: myorg/worker", "    mem_limit: 512m", '    cpus: "1.0"'),
                 id="RES001-legacy-mem-limit-gets-legacy-cpus"),
    pytest.param("RES001", UNSAFE,
                 y("services:", "  worker:", "    image: myorg/worker", "    cpus: 0.5"),
                 y("services:", "  worker:", "    image: myorg/worker", "    cpus: 0.5", "    mem_limit: 1G"),
                 id="RES001-legacy-cpus-gets-legacy-mem-limit"),
    pytest.param("RES001", UNSAFE,
                 y("services:", "  worker:", "    image: myorg/worker", "    deploy:", "      resources:",
                   "        limits:", "          memory: 256M"),
                 y("services:", "  worker:", "    image: myorg/worker", "    deploy:", "      resources:",
                   "        limits:", "          memory: 256M", '          cpus: "1.0"'),
                 id="RES001-partial-limits"),
    pytest.param("RES001", UNSAFE,
                 y("services:", "  worker:", "    image: myorg/worker", "    deploy:", "      replicas: 2"),
                 y("services:", "  worker:", "    image: myorg/worker", "    deploy:", "      replicas: 2",
                   "      resources:", "        limits:", '          cpus: "1.0"', "          memory: 1G"),
                 id="RES001-deploy-without-resources"),
    pytest.param("RES001", UNSAFE,
                 y("services:", "  worker:", "    image: myorg/worker", "    deploy:", "      resources:",
                   "        reservations:", "          memory: 128M"),
                 y("services:", "  worker:", "    image: myorg/worker", "    deploy:", "      resources:",
                   "        reservations:", "          memory: 128M", "        limits:", '          cpus: "1.0"',
                   "          memory: 1G"),
                 id="RES001-reservations-only"),
    pytest.param("RES001", UNSAFE,
                 y("services:", "  worker:", "    image: myorg/worker", "    deploy:  # filled in later"),
                 y("services:", "  worker:", "    image: myorg/worker", "    deploy:  # filled in later",
                   "      resources:", "        limits:", '          cpus: "1.0"', "          memory: 1G"),
                 id="RES001-null-deploy"),
]

RST = [
    pytest.param("RST001", SAFE,
                 y("services:", "  app:", "    image: myorg/app"),
                 y("services:", "  app:", "    image: myorg/app", "    restart: on-failure:5"),
                 id="RST001-missing"),
    pytest.param("RST001", UNSAFE,
                 y("services:", "  app:", "    image: myorg/app", "    restart: always  # keep it up"),
                 y("services:", "  app:", "    image: myorg/app", "    restart: on-failure:5  # keep it up"),
                 id="RST001-always"),
    pytest.param("RST001", UNSAFE,
                 y("services:", "  app:", "    image: myorg/app", '    restart: "unless-stopped"'),
                 y("services:", "  app:", "    image: myorg/app", '    restart: "on-failure:5"'),
                 id="RST001-unless-stopped-quoted"),
    pytest.param("RST001", UNSAFE,
                 y("services:", "  app:", "    image: myorg/app", "    restart: on-failure"),
                 y("services:", "  app:", "    image: myorg/app", "    restart: on-failure:5"),
                 id="RST001-on-failure-without-count"),
    pytest.param("RST001", UNSAFE,
                 y("x-base: &base", "  image: myorg/app", "  restart: always", "services:", "  app:",
                   "    <<: *base"),
                 y("x-base: &base", "  image: myorg/app", "  restart: always", "services:", "  app:",
                   "    <<: *base", "    restart: on-failure:5"),
                 id="RST001-merged-always-gets-own-key"),
    pytest.param("RST001", UNSAFE,
                 y("services:", "  app:", "    image: myorg/app", "    deploy:", "      restart_policy:",
                   "        condition: any"),
                 y("services:", "  app:", "    image: myorg/app", "    deploy:", "      restart_policy:",
                   "        condition: on-failure", "        max_attempts: 5"),
                 id="RST001-deploy-any"),
    pytest.param("RST001", UNSAFE,
                 y("services:", "  app:", "    image: myorg/app", "    deploy:", "      restart_policy:",
                   "        condition: on-failure"),
                 y("services:", "  app:", "    image: myorg/app", "    deploy:", "      restart_policy:",
                   "        condition: on-failure", "        max_attempts: 5"),
                 id="RST001-deploy-on-failure-without-max"),
    pytest.param("RST001", UNSAFE,
                 y("services:", "  app:", "    image: myorg/app", "    deploy:", "      restart_policy:",
                   "        delay: 5s"),
                 y("services:", "  app:", "    image: myorg/app", "    deploy:", "      restart_policy:",
                   "        delay: 5s", "        condition: on-failure", "        max_attempts: 5"),
                 id="RST001-deploy-no-condition"),
]

LOG = [
    pytest.param("LOG001", SAFE,
                 y("services:", "  api:", "    image: myorg/api"),
                 y("services:", "  api:", "    image: myorg/api", "    logging:", "      driver: json-file",
                   "      options:", "        max-size: 10m", '        max-file: "3"'),
                 id="LOG001-add"),
    pytest.param("LOG001", SAFE,
                 y("services:", "  api:", "    image: 'myorg/api'"),
                 y("services:", "  api:", "    image: 'myorg/api'", "    logging:", "      driver: json-file",
                   "      options:", "        max-size: 10m", "        max-file: '3'"),
                 id="LOG001-add-uses-file-quote"),
    pytest.param("LOG001", SAFE,
                 y("services:", "  api:", "    image: myorg/api", "    logging:", "      driver: json-file"),
                 y("services:", "  api:", "    image: myorg/api", "    logging:", "      driver: json-file",
                   "      options:", "        max-size: 10m", '        max-file: "3"'),
                 id="LOG001-json-file-without-options"),
    pytest.param("LOG001", SAFE,
                 y("services:", "  api:", "    image: myorg/api", "    logging:", "      driver: json-file",
                   "      options:", '        max-file: "5"'),
                 y("services:", "  api:", "    image: myorg/api", "    logging:", "      driver: json-file",
                   "      options:", '        max-file: "5"', "        max-size: 10m"),
                 id="LOG001-only-missing-option"),
    pytest.param("LOG001", SAFE,
                 y("services:", "  api:", "    image: myorg/api", "    logging:", "      options:",
                   "        tag: api"),
                 y("services:", "  api:", "    image: myorg/api", "    logging:", "      options:",
                   "        tag: api", "        max-size: 10m", '        max-file: "3"'),
                 id="LOG001-default-driver-options"),
]

NET = [
    pytest.param("NET001", UNSAFE,
                 y("services:", "  web:", "    image: myorg/web", "    ports:", '      - "8080:8080"',
                   "    depends_on:", "      - db", "  db:", "    image: postgres:16"),
                 y("services:", "  web:", "    image: myorg/web", "    ports:", '      - "8080:8080"',
                   "    depends_on:", "      - db", "    networks:", "      - default", "      - backend",
                   "  db:", "    image: postgres:16", "    networks:", "      - backend",
                   "networks:", "  backend:", "    internal: true"),
                 id="NET001-segment-depends-on"),
    pytest.param("NET001", UNSAFE,
                 y("services:", "  app:", "    image: myorg/app", "    environment:",
                   "      REDIS_URL: redis://cache:6379/0", "  cache:", "    image: redis:7-alpine",
                   "  docs:", "    image: myorg/docs", "networks: {}"),
                 y("services:", "  app:", "    image: myorg/app", "    environment:",
                   "      REDIS_URL: redis://cache:6379/0", "    networks:", "      - default", "      - backend",
                   "  cache:", "    image: redis:7-alpine", "    networks:", "      - backend",
                   "  docs:", "    image: myorg/docs", "networks: {backend: {internal: true}}"),
                 id="NET001-segment-environment-reference"),
    pytest.param("NET001", UNSAFE,
                 y("services:", "  web:", "    image: myorg/web", "    network_mode: bridge  # legacy link",
                   "    restart: on-failure:3"),
                 y("services:", "  web:", "    image: myorg/web", "    # legacy link", "    restart: on-failure:3"),
                 id="NET001-remove-bridge-keeps-comment"),
    pytest.param("NET001", UNSAFE,
                 y("services:", "  api:", "    image: myorg/api", "    networks: [front]", "    depends_on: [db]",
                   "  db:", "    image: postgres:16", "  worker:", "    image: myorg/worker", "networks:",
                   "  front:"),
                 y("services:", "  api:", "    image: myorg/api", "    networks: [front, backend]",
                   "    depends_on: [db]", "  db:", "    image: postgres:16", "    networks:", "      - backend",
                   "  worker:", "    image: myorg/worker", "networks:", "  front:", "  backend:",
                   "    internal: true"),
                 id="NET001-client-with-own-networks-joins"),
    pytest.param("NET001", UNSAFE,
                 y("services:", "  api:", "    image: myorg/api", "    links: [db]", "  db:", "    image: mariadb:11",
                   "  worker:", "    image: myorg/worker", "networks:", "  backend:", "    internal: true"),
                 y("services:", "  api:", "    image: myorg/api", "    links: [db]", "    networks:",
                   "      - default", "      - backend", "  db:", "    image: mariadb:11", "    networks:",
                   "      - backend", "  worker:", "    image: myorg/worker", "networks:", "  backend:",
                   "    internal: true"),
                 id="NET001-reuses-declared-internal-network"),
]

PAIRS = CAP + USR + VOL + PRT + RES + RST + LOG + NET


# --------------------------------------------------------------------------- no-op cases: no finding, same bytes

NOOPS = [
    pytest.param("CAP001", y("services:", "  web:", "    image: myorg/web", "    cap_drop: [ALL]"), id="CAP001-all"),
    pytest.param("CAP001", y("services:", "  web:", "    image: myorg/web", "    cap_drop:", "      - all"),
                 id="CAP001-all-lowercase"),
    pytest.param("CAP001", y("x-base: &base", "  cap_drop: [ALL]", "services:", "  web:", "    <<: *base",
                             "    image: myorg/web"), id="CAP001-all-through-merge"),
    pytest.param("CAP001", y("services: {}"), id="CAP001-no-services"),
    pytest.param("CAP001", y("services:", "  web: !reset null"), id="CAP001-reset-service"),
    pytest.param("USR001", y("services:", "  web:", "    image: myorg/web", '    user: "1000"'), id="USR001-uid"),
    pytest.param("USR001", y("services:", "  web:", "    image: myorg/web", "    user: node"), id="USR001-name"),
    pytest.param("USR001", y("services:", "  web:", "    image: myorg/web", "    user: ${UID}:${GID}"),
                 id="USR001-variable"),
    pytest.param("VOL001", y("services:", "  web:", "    image: myorg/web", "    volumes:",
                             "      - ./nginx.conf:/etc/nginx/nginx.conf:rw"), id="VOL001-explicit-rw"),
    pytest.param("VOL001", y("services:", "  web:", "    image: myorg/web", "    volumes:",
                             "      - ./nginx.conf:/etc/nginx/nginx.conf:ro"), id="VOL001-already-ro"),
    pytest.param("VOL001", y("services:", "  web:", "    image: myorg/web", "    volumes:",
                             "      - ./certs/a.pem:/certs/a.pem:z,ro"), id="VOL001-ro-in-mode-list"),
    pytest.param("VOL001", y("services:", "  web:", "    image: myorg/web", "    volumes:", "      - ./data:/var/lib/data",
                             "      - conf:/etc/nginx/conf.d", "volumes:", "  conf:"), id="VOL001-data-and-named"),
    pytest.param("VOL001", y("services:", "  web:", "    image: myorg/proxy", "    volumes:",
                             "      - ./acme.json:/acme.json", "      - /var/run/docker.sock:/var/run/docker.sock"),
                 id="VOL001-writable-by-design"),
    pytest.param("VOL001", y("services:", "  web:", "    image: myorg/web", "    volumes:", "      - type: bind",
                             "        source: ./nginx.conf", "        target: /etc/nginx/nginx.conf",
                             "        read_only: false"), id="VOL001-long-explicit-rw"),
    pytest.param("VOL001", y("services:", "  web:", "    image: myorg/web", "    volumes:", "      - type: volume",
                             "        source: conf", "        target: /etc/nginx/nginx.conf", "volumes:", "  conf:"),
                 id="VOL001-long-named-volume"),
    pytest.param("PRT001", y("services:", "  web:", "    image: myorg/web", "    ports:", '      - "127.0.0.1:80:80"'),
                 id="PRT001-loopback"),
    pytest.param("PRT001", y("services:", "  web:", "    image: myorg/web", "    ports:", '      - "10.0.0.5:80:80"'),
                 id="PRT001-specific-address"),
    pytest.param("PRT001", y("services:", "  web:", "    image: myorg/web", "    ports:", '      - "${BIND_ADDR}:80:80"'),
                 id="PRT001-address-variable"),
    pytest.param("PRT001", y("services:", "  web:", "    image: myorg/web", "    ports:", "      - target: 80",
                             "        published: 8080", "        host_ip: 127.0.0.1"), id="PRT001-long-loopback"),
    pytest.param("PRT001", y("services:", "  web:", "    image: myorg/web", "    expose:", '      - "80"'),
                 id="PRT001-expose-only"),
    pytest.param("RES001", y("services:", "  w:", "    image: x", "    deploy:", "      resources:", "        limits:",
                             "          memory: 256M", "          cpus: '0.5'"), id="RES001-deploy-limits"),
    pytest.param("RES001", y("services:", "  w:", "    image: x", "    mem_limit: 1g", "    cpu_quota: 50000"),
                 id="RES001-legacy-limits"),
    pytest.param("RST001", y("services:", "  a:", "    image: x", '    restart: "no"'), id="RST001-no"),
    pytest.param("RST001", y("services:", "  a:", "    image: x", "    restart: on-failure:3"), id="RST001-bounded"),
    pytest.param("RST001", y("services:", "  a:", "    image: x", "    restart: ${RESTART:-always}"),
                 id="RST001-variable"),
    pytest.param("RST001", y("services:", "  a:", "    image: x", "    deploy:", "      restart_policy:",
                             "        condition: on-failure", "        max_attempts: 3"), id="RST001-deploy-bounded"),
    pytest.param("RST001", y("services:", "  a:", "    image: x", "    deploy:", "      restart_policy:",
                             "        condition: none"), id="RST001-deploy-none"),
    pytest.param("LOG001", y("services:", "  a:", "    image: x", "    logging:", "      driver: syslog"),
                 id="LOG001-syslog"),
    pytest.param("LOG001", y("services:", "  a:", "    image: x", "    logging:", "      driver: local"),
                 id="LOG001-local"),
    pytest.param("LOG001", y("services:", "  a:", "    image: x", "    logging:", "      driver: json-file",
                             "      options:", "        max-size: 5m"), id="LOG001-rotated"),
    pytest.param("NET001", y("services:", "  web:", "    image: myorg/web"), id="NET001-single-service"),
    pytest.param("NET001", y("services:", "  web:", "    image: myorg/web", "    networks: [front]", "  db:",
                             "    image: postgres", "    networks: [back]", "networks:", "  front:", "  back:",
                             "    internal: true"), id="NET001-declared-networks"),
]


# --------------------------------------------------------------------------- the pairs, exactly

@pytest.mark.parametrize("rule,safety,before,after", PAIRS)
def test_fix_gives_exact_text(rule, safety, before, after):
    remaining, fixed, out = fix(before, rule)
    assert out == after
    assert fixed and {f.rule_id for f in fixed} == {rule}
    assert {f.fix.applicability.value for f in fixed} == {safety}
    assert not [f for f in remaining if f.fix is not None], "a fixable finding was left behind"


@pytest.mark.parametrize("rule,safety,before,after", PAIRS)
def test_fixed_text_is_stable(rule, safety, before, after):
    remaining, fixed, out = fix(after, rule)
    assert out == after
    assert fixed == []
    assert [f for f in remaining if f.rule_id == rule and f.fix is not None] == []


@pytest.mark.parametrize("rule,safety,before,after", PAIRS)
def test_without_unsafe_fixes_only_safe_ones_apply(rule, safety, before, after):
    remaining, fixed, out = fix(before, rule, unsafe=False)
    if safety == SAFE:
        assert out == after and fixed
    else:
        assert out == before and fixed == []
        assert any(f.rule_id == rule and f.fix and f.fix.applicability.value == UNSAFE for f in remaining)


@pytest.mark.parametrize("rule,safety,before,after", PAIRS)
def test_crlf_file_keeps_crlf_on_every_line(rule, safety, before, after):
    _, _, out = fix(before.replace("\n", "\r\n"), rule)
    assert out == after.replace("\n", "\r\n")
    assert out.count("\n") == out.count("\r\n")


@pytest.mark.parametrize("rule,safety,before,after", PAIRS)
def test_file_without_final_newline_stays_without(rule, safety, before, after):
    _, _, out = fix(before.rstrip("\n"), rule)
    assert out == after.rstrip("\n")


@pytest.mark.parametrize("rule,safety,before,after", PAIRS)
def test_other_rules_leave_the_pair_alone(rule, safety, before, after):
    """Selecting every rule but this one must not produce this rule's change (select/ignore work)."""
    _, fixed, _ = harden(before, unsafe_fixes=True, select=CORE, ignore=[rule])
    assert rule not in {f.rule_id for f in fixed}


@pytest.mark.parametrize("rule,text", NOOPS)
def test_no_finding_and_no_change(rule, text):
    remaining, fixed, out = fix(text, rule)
    assert remaining == [] and fixed == []
    assert out == text


@pytest.mark.parametrize("rule,safety,before,after", PAIRS)
def test_compose_accepts_the_fixed_file(rule, safety, before, after, compose_check):
    code, _, err = compose_check(before)
    if code != 0:
        pytest.fail(f"the test input itself is not a valid compose file: {err}")
    code, _, err = compose_check(after)
    assert code == 0, err


# --------------------------------------------------------------------------- findings reported without a fix

REPORT_ONLY = [
    pytest.param("NET001", y("services:", "  web:", "    image: myorg/web", "    network_mode: host"),
                 "network_mode: host", id="NET001-host"),
    pytest.param("NET001", y("services:", "  web:", "    image: myorg/web", "  sidecar:", "    image: myorg/side",
                             '    network_mode: "service:web"'), "network_mode: service:web", id="NET001-service-mode"),
    pytest.param("NET001", y("services:", "  web:", "    image: myorg/web", "  worker:", "    image: myorg/worker"),
                 "flat default network", id="NET001-flat-without-backend"),
    pytest.param("NET001", y("services:", "  api:", "    image: myorg/api", "    networks: [front]",
                             "    depends_on: [db, cache]", "  db:", "    image: postgres:16", "  cache:",
                             "    image: redis:7", "networks:", "  front:"),
                 "only api talks to it", id="NET001-nothing-would-stay-on-default"),
    pytest.param("CAP001", y("x-base: &base", "  cap_drop: [NET_RAW]", "services:", "  web:", "    <<: *base",
                             "    image: myorg/web"), "default capabilities", id="CAP001-merged-list"),
    pytest.param("RES001", y("x-base: &base", "  deploy:", "    replicas: 1", "services:", "  web:",
                             "    <<: *base", "    image: myorg/web"), "no CPU and memory limit", id="RES001-merged-deploy"),
    pytest.param("PRT001", y("x-ports: &ports", '  - "80:80"', "services:", "  web:", "    image: myorg/web",
                             "    ports: *ports"), "every host interface", id="PRT001-aliased-list"),
]


@pytest.mark.parametrize("rule,text,message", REPORT_ONLY)
def test_reported_but_not_fixed(rule, text, message):
    remaining, fixed, out = fix(text, rule)
    assert out == text and fixed == []
    assert [f.rule_id for f in remaining] and {f.rule_id for f in remaining} == {rule}
    assert all(f.fix is None for f in remaining)
    assert any(message in f.message for f in remaining)


def test_network_mode_host_is_high_severity_at_its_value():
    text = y("services:", "  web:", "    image: myorg/web", "    network_mode: host")
    (finding,), _, _ = fix(text, "NET001")
    assert (finding.line, finding.column, finding.severity.value) == (4, 19, "high")


# --------------------------------------------------------------------------- whole files, all rules

def test_all_rules_on_a_commented_file():
    # an image hardener has no profile for, so that the generic fixes apply, and clickhouse (a back end for
    # NET001, a heavy image: its profile's limits)
    before = y(
        "# the shop",
        "services:",
        "  web:  # public face",
        "    image: myorg/web:1.0",
        "    ports:",
        '      - "8080:80"',
        "    volumes:",
        "      - ./nginx.conf:/etc/nginx/nginx.conf",
        "    depends_on: [db]",
        "",
        "  # the data",
        "  db:",
        "    image: clickhouse/clickhouse-server:24",
        "    restart: always",
    )
    after = y(
        "# the shop",
        "services:",
        "  web:  # public face",
        "    image: myorg/web:1.0",
        "    ports:",
        '      - "127.0.0.1:8080:80"',
        "    volumes:",
        "      - ./nginx.conf:/etc/nginx/nginx.conf:ro",
        "    depends_on: [db]",
        "    cap_drop:",
        "      - ALL",
        "    logging:",
        "      driver: json-file",
        "      options:",
        "        max-size: 10m",
        '        max-file: "3"',
        "    deploy:",
        "      resources:",
        "        limits:",
        '          cpus: "1.0"',
        "          memory: 1G",
        "    restart: on-failure:5",
        "    user: 65534:65534",
        "    networks:",
        "      - default",
        "      - backend",
        "",
        "  # the data",
        "  db:",
        "    image: clickhouse/clickhouse-server:24",
        "    restart: on-failure:5",
        "    cap_drop:",
        "      - ALL",
        "    logging:",
        "      driver: json-file",
        "      options:",
        "        max-size: 10m",
        '        max-file: "3"',
        "    networks:",
        "      - backend",
        "    deploy:",
        "      resources:",
        "        limits:",
        '          cpus: "1.0"',
        "          memory: 4G",
        "networks:",
        "  backend:",
        "    internal: true",
    )
    remaining, fixed, out = harden(before, unsafe_fixes=True, select=CORE)
    assert out == after
    # ClickHouse starts as root and switches to its own user: reported, never forced to another user
    assert [(f.rule_id, f.service, f.fix) for f in remaining] == [("USR001", "db", None)]
    assert {f.rule_id for f in fixed} == set(CORE)
    assert harden(out, unsafe_fixes=True, select=CORE)[2] == out


def test_safe_run_adds_logging_but_not_cap_drop():
    before = y("services:", "  web:", "    image: myorg/web", "    ports:", '      - "8080:80"')
    remaining, fixed, out = harden(before, select=CORE)
    assert "logging:" in out and "max-size: 10m" in out
    assert "restart: on-failure:5" in out
    # an unknown image: no limit is known to be enough, so the limits are an unsafe fix too
    assert "cap_drop" not in out and "user:" not in out and "127.0.0.1" not in out and "memory:" not in out
    assert {f.rule_id for f in fixed} == {"LOG001", "RST001"}
    assert {f.rule_id for f in remaining} == {"CAP001", "USR001", "PRT001", "RES001"}
    assert all(f.fix.applicability.value == UNSAFE for f in remaining)
    # lines the fixes did not touch are byte-identical and in order
    assert out.startswith(before)


def test_fixed_file_means_the_same_to_compose(compose_check):
    """The real compose model of the hardened file has the restrictions the fixes promise."""
    before = y(
        "services:",
        "  web:",
        "    image: myorg/web",
        "    ports:",
        '      - "8080:80"',
        "    volumes:",
        "      - ./nginx.conf:/etc/nginx/nginx.conf",
        "    environment:",
        "      DB_HOST: db",
        "  db:",
        "    image: clickhouse/clickhouse-server:24",
        "    restart: always",
    )
    _, _, after = harden(before, unsafe_fixes=True, select=CORE)
    code, model, err = compose_check(after)
    assert code == 0, err
    web, db = model["services"]["web"], model["services"]["db"]
    assert web["ports"][0]["host_ip"] == "127.0.0.1" and web["ports"][0]["published"] == "8080"
    assert web["volumes"][0]["read_only"] is True
    assert web["cap_drop"] == ["ALL"] and db["cap_drop"] == ["ALL"]
    assert web["user"] == "65534:65534"
    assert db["restart"] == "on-failure:5"
    assert web["deploy"]["resources"]["limits"]["memory"] == str(1024 ** 3)
    assert float(web["deploy"]["resources"]["limits"]["cpus"]) == 1.0
    assert web["logging"] == {"driver": "json-file", "options": {"max-size": "10m", "max-file": "3"}}
    assert set(web["networks"]) == {"default", "backend"} and set(db["networks"]) == {"backend"}
    assert model["networks"]["backend"]["internal"] is True
    assert web["environment"] == {"DB_HOST": "db"}


def test_anchor_block_is_untouched_when_services_get_own_keys():
    before = y("x-base: &base", "  image: myorg/app", "  restart: always", "  user: root",
               "services:", "  a:", "    <<: *base", "  b:", "    <<: *base", "    restart: always")
    _, _, out = harden(before, unsafe_fixes=True, select=["RST001", "USR001"])
    assert out.startswith(y("x-base: &base", "  image: myorg/app", "  restart: always", "  user: root"))
    assert out == y("x-base: &base", "  image: myorg/app", "  restart: always", "  user: root",
                    "services:", "  a:", "    <<: *base", "    restart: on-failure:5", "    user: 65534:65534",
                    "  b:", "    <<: *base", "    restart: on-failure:5", "    user: 65534:65534")


def test_bom_is_not_part_of_the_text():
    """harden works on text; the CLI strips and restores a BOM (see test_cli)."""
    from hardener.yamltext import decode

    text, bom = decode(b"\xef\xbb\xbf" + y("services:", "  a:", "    image: x").encode())
    assert bom and text.startswith("services:")
    assert harden(text, select=["RST001"])[2].endswith("    restart: on-failure:5\n")


# --------------------------------------------------------------------------- select / ignore and finding records

def test_select_by_name_and_prefix_and_ignore():
    text = y("services:", "  a:", "    image: x")
    assert {f.rule_id for f in harden(text, select=["no-log-rotation"])[1]} == {"LOG001"}
    assert {f.rule_id for f in harden(text, select=["RES"])[0]} == {"RES001", "RES002"}
    assert {f.rule_id for f in harden(text, unsafe_fixes=True, select=["RES"])[1]} == {"RES001", "RES002"}
    ignored = harden(text, unsafe_fixes=True, select=CORE, ignore=["LOG001", "cap-drop-all"])
    assert {f.rule_id for f in ignored[1]} == {"USR001", "RES001", "RST001"}


def test_finding_records_carry_rule_metadata_and_positions():
    text = y("services:", "  web:", "    image: myorg/web", "    ports:", '      - "8080:80"', "    user: root")
    remaining, _, _ = harden(text, unsafe_fixes=False, select=["PRT001", "USR001"])
    by_rule = {f.rule_id: f for f in remaining}
    prt, usr = by_rule["PRT001"], by_rule["USR001"]
    assert (prt.line, prt.column, prt.service, prt.rule_name) == (5, 9, "web", "port-all-interfaces")
    assert prt.attack_tree == ("4.1.1",) and prt.key_path == ("services", "web", "ports")
    assert (usr.line, usr.column) == (6, 11) and "root explicitly" in usr.message
    assert usr.severity.value == "high"


def test_rule_options_are_documented_defaults():
    by_id = {r.ID: r for r in RULES}
    assert [r.ID for r in RULES if r.ID in CORE] == list(CORE)  # registered, in this order
    assert by_id["RST001"].OPTIONS == {"max_attempts": 5}
    assert by_id["RES001"].OPTIONS == {"cpus": "1.0", "memory": "1G"}
    for rule in (by_id[i] for i in CORE):
        doc = rule.__doc__ or ""
        for section in ("What it finds", "Why it matters", "Example", "Fix", "What may break"):
            assert f"**{section}" in doc, (rule.ID, section)


# --------------------------------------------------------------------------- anchored collections

def test_append_to_anchored_block_sequence():
    """The sequence's event starts at its anchor; the new item must still line up with the dashes."""
    before = y("services:", "  web:", "    image: myorg/web", "    cap_drop: &caps", "      - NET_RAW")
    _, fixed, out = fix(before, "CAP001")
    assert out == y("services:", "  web:", "    image: myorg/web", "    cap_drop: &caps", "      - NET_RAW",
                    "      - ALL")
    assert len(fixed) == 1


def test_add_to_anchored_block_mapping():
    before = y("services:", "  web:", "    image: myorg/web", "    logging: &log", "      driver: json-file")
    _, _, out = fix(before, "LOG001")
    assert out == before + y("      options:", "        max-size: 10m", '        max-file: "3"')


def test_null_deploy_with_comment_in_crlf_file():
    before = y("services:", "  w:", "    image: x", "    deploy:  # later").replace("\n", "\r\n")
    _, _, out = fix(before, "RES001")
    assert out == before + y("      resources:", "        limits:", '          cpus: "1.0"',
                             "          memory: 1G").replace("\n", "\r\n")


# --------------------------------------------------------------------------- the engine

from hardener.engine import InternalFixError, _apply_checked, _one_pass, process  # noqa: E402
from hardener.inputs import MAX_BYTES  # noqa: E402
from hardener.model import Applicability, Confidence, Finding, Fix, Severity, Status  # noqa: E402
from hardener.settings import Settings  # noqa: E402
from hardener.yamltext import Edit, parse  # noqa: E402

CORE_SETTINGS = Settings(select=frozenset(CORE))


def test_process_statuses():
    clean = y("services:", "  a:", "    image: x", "    user: '1000'", "    cap_drop: [ALL]", "    restart: 'no'",
              "    mem_limit: 1g", "    cpus: 1", "    logging:", "      driver: local")
    assert process("c.yaml", clean.encode(), CORE_SETTINGS, fix=True).status is Status.CLEAN
    dirty = y("services:", "  a:", "    image: x")
    checked = process("d.yaml", dirty.encode(), CORE_SETTINGS, fix=False)
    assert checked.status is Status.FINDINGS and checked.output is None
    assert {f.file for f in checked.findings} == {"d.yaml"}
    fixed = process("d.yaml", dirty.encode(), CORE_SETTINGS, fix=True)
    assert fixed.status is Status.FIXED and fixed.original == dirty and fixed.output == harden(dirty, select=CORE)[2]
    assert {f.rule_id for f in fixed.fixed} == {"LOG001", "RST001"}  # RES001 is unsafe on an unknown image
    only_unsafe = process("u.yaml", y("services:", "  a:", "    image: x", "    restart: always").encode(),
                          Settings(select=frozenset({"RST001"})), fix=True)
    assert only_unsafe.status is Status.FINDINGS and only_unsafe.output is None


@pytest.mark.parametrize("data,error", [
    pytest.param(b"a: [1\n", "2:1: invalid YAML", id="invalid"),
    pytest.param(b"a: \xfe\n", "1:4: invalid UTF-8", id="utf8"),
    pytest.param(b"a: b\n" + b"#" * MAX_BYTES, "1:1: file larger than 20 MB", id="too-large"),
])
def test_process_reports_errors_without_raising(data, error):
    result = process("x.yaml", data, CORE_SETTINGS, fix=True)
    assert result.status is Status.ERROR and result.error.startswith(error)
    assert result.output is None and result.findings == ()


def test_verification_refuses_an_edit_outside_its_declared_paths():
    doc = parse("a: 1\nb: 2\n")
    assert _apply_checked(doc, [Edit(3, 4, "5", (("a",),))]).text == "a: 5\nb: 2\n"
    with pytest.raises(InternalFixError):
        _apply_checked(doc, [Edit(8, 9, "5", (("a",),))])  # changes b while declaring a


def _finding(rule_id: str, *edits: Edit) -> Finding:
    return Finding(rule_id, "test", Severity.LOW, Confidence.HIGH, (), f"{rule_id} message", 1, 1,
                   key_path=(rule_id,), fix=Fix(Applicability.SAFE, edits, rule_id))


def test_a_fix_that_fails_verification_is_dropped_and_the_others_applied():
    doc = parse("a: 1\nb: 2\nc: 3\n")
    liar = _finding("BAD", Edit(8, 9, "9", (("a",),)))  # writes b, declares a
    honest = _finding("GOOD", Edit(13, 14, "4", (("c",),)))
    rejected: set = set()
    new, applied = _one_pass(doc, [liar, honest], Settings(), rejected)
    assert applied == [honest] and new.text == "a: 1\nb: 2\nc: 4\n"
    assert len(rejected) == 1
    again, applied = _one_pass(new, [liar], Settings(), rejected)
    assert applied == [] and again.text == new.text


def test_overlapping_fixes_wait_for_the_next_pass():
    doc = parse("a: 1\n")
    first = _finding("ONE", Edit(3, 4, "2", (("a",),)))
    second = _finding("TWO", Edit(3, 4, "3", (("a",),)))
    new, applied = _one_pass(doc, [first, second], Settings(), set())
    assert applied == [first] and new.text == "a: 2\n"


def test_same_message_from_an_unfixable_item_does_not_block_the_fix():
    before = y('x-p: &p "8080:80"', "services:", "  web:", "    image: myorg/web", "    ports:",
               '      - "8080:80"', "      - *p")
    _, fixed, out = fix(before, "PRT001")
    assert out == before.replace('      - "8080:80"', '      - "127.0.0.1:8080:80"')
    assert len(fixed) == 1


def test_a_service_that_is_a_whole_alias_gets_no_mount_fix_of_its_own():
    """VOL001 asks the same question as every other rule: a service whose whole mapping is an alias
    (`b: *a`) is edited where the mapping is written, through the owner's fix, never through its own."""
    from hardener.engine import harden_text
    from hardener.settings import Settings

    text = y("services:", "  a: &a", "    image: nginx", "    volumes:", "      - ./nginx.conf:/etc/nginx/nginx.conf",
             "  b: *a")
    findings, _, _ = harden_text(text, Settings(frozenset({"VOL001"}), frozenset(), True), fix=False)
    by_service = {f.service: f for f in findings}
    assert set(by_service) == {"a", "b"}
    assert by_service["a"].fix is not None and by_service["b"].fix is None
    assert fix(text, "VOL001")[2] == text.replace("nginx.conf:/etc/nginx/nginx.conf", "nginx.conf:/etc/nginx/nginx.conf:ro")


def test_a_service_that_is_a_whole_alias_gets_no_restart_policy_fix_of_its_own():
    """RST001 decides like the other rules through Written.editable: the deploy.restart_policy of a
    service that is an alias of another (`b: *a`) is fixed once, by the service that writes it."""
    from hardener.engine import harden_text
    from hardener.settings import Settings

    text = y("services:", "  a: &a", "    image: nginx", "    deploy:", "      restart_policy:",
             "        condition: on-failure", "  b: *a")
    findings, _, _ = harden_text(text, Settings(frozenset({"RST001"}), frozenset(), True), fix=False)
    by_service = {f.service: f for f in findings}
    assert set(by_service) == {"a", "b"}
    assert by_service["a"].fix is not None and by_service["b"].fix is None
    assert fix(text, "RST001")[2] == text.replace("on-failure\n", "on-failure\n        max_attempts: 5\n")
