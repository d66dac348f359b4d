"""Do not run datastores and brokers without authentication.

**What it finds.** A datastore or broker configured so that anyone who can connect is let in:
- PostgreSQL with `POSTGRES_HOST_AUTH_METHOD=trust`;
- MySQL/MariaDB with `MYSQL_ALLOW_EMPTY_PASSWORD` or `MARIADB_ALLOW_EMPTY_ROOT_PASSWORD` set and no root
  password (the official MySQL image only checks that the switch is non-empty, so even `no` turns it
  on);
- Redis, Valkey, KeyDB, Dragonfly started without `--requirepass` (the official images have no
  password unless the command sets one; a command that loads a config file or an ACL file is trusted);
- MongoDB without `MONGO_INITDB_ROOT_USERNAME` and without `--auth`/`--keyFile`/a config file;
- Elasticsearch with `xpack.security.enabled=false`, or a 7.x (or older) or `-oss` image without it set
  to `true` (security is on by default only since 8.0); OpenSearch with `DISABLE_SECURITY_PLUGIN=true`
  or `plugins.security.disabled=true`;
- memcached, which has no authentication unless started with SASL (`-S`);
- RabbitMQ without `RABBITMQ_DEFAULT_USER`/`RABBITMQ_DEFAULT_PASS`: the official image creates
  `guest`/`guest` and, unlike a plain RabbitMQ install, lets it log in from other hosts; MinIO without
  root credentials (it falls back to the published default `minioadmin`/`minioadmin`);
- Neo4j with `NEO4J_AUTH=none`; Meilisearch without a master key (its development mode then serves
  every route openly);
- Bitnami images with `ALLOW_EMPTY_PASSWORD=yes`, ZooKeeper with `ALLOW_ANONYMOUS_LOGIN=yes`, etcd with
  `ALLOW_NONE_AUTHENTICATION=yes`.
Checks that depend on a variable being *absent* are skipped when the service has an `env_file` (the
value may be there) or overrides the `entrypoint`. Docker-in-Docker without TLS is the
`docker-daemon-access` rule's (DKR001) finding. Severity is high when the service publishes a port to
the host's network (or uses the host's network stack), medium when only containers on its networks
can reach it.

**Why it matters.** An open datastore answers the first client that connects: it reads every record,
writes its own, and on several of these servers runs commands (Redis `CONFIG SET` and `MODULE LOAD`,
PostgreSQL `COPY ... PROGRAM` as a superuser). Published on the host, it is reachable from the network
or the internet, where scanners look for exactly these ports (attack tree 4.1.2); unpublished, it is
still one hop away for any compromised neighbour container.

**Example.**

    services:
      cache:
        image: redis:7
        ports:
          - "6379:6379"
      db:
        image: postgres:16
        environment:
          POSTGRES_HOST_AUTH_METHOD: trust

**Fix.** Binds the service's published ports to loopback (`"127.0.0.1:6379:6379"`, `host_ip:
127.0.0.1`), the same edit as PRT001, *unsafe*. That only shrinks who can reach the service; the
message says what else to do: set a password (`--requirepass`, `POSTGRES_PASSWORD`, root credentials),
pass it through a Compose secret and the image's `*_FILE` variable rather than in the file, and turn the
security feature back on.

**What may break.** Clients on other machines lose access with the loopback binding. Turning
authentication on needs every client to get the credentials.

**References.** CIS Docker Benchmark v1.2.0 5.13; OWASP Docker Security Cheat Sheet rule #5a; MITRE
ATT&CK T1133 (External Remote Services), T1078.001 (Default Accounts), T1190 (Exploit Public-Facing
Application).
"""
from __future__ import annotations

import re

from .. import knowledge
from ..compose import as_str_list, seq_items, volume_target
from ..model import Applicability, Confidence, Severity
from ..syntax import resolve
from ..yamltext import Scalar, Seq
from .base import finding, loopback, make_fix

ID = "AUTH001"
NAME = "unauthenticated-service"
ATTACK_TREE = ("4.1.2",)
SEVERITY = Severity.HIGH
CONFIDENCE = Confidence.MEDIUM
FIX = Applicability.UNSAFE
OPTIONS: dict = {}


class _Facts:
    """What the rule needs to know about one service, computed once."""

    def __init__(self, svc):
        self.svc = svc
        self.env = svc.environment()
        self.env_file = svc.entry("env_file") is not None
        self.entrypoint = svc.entry("entrypoint") is not None
        node = svc.get("command")
        words = as_str_list(node) if isinstance(node, Seq) else (
            node.value.split() if isinstance(node, Scalar) and not node.is_null else [])
        self.command = words
        self.text = " ".join(words)
        self.bitnami = svc.image_name().startswith("bitnami/")

    def value(self, name: str) -> str | None:
        """The variable's value resolved, '' when absent; None when it cannot be known from the file."""
        var = self.env.get(name)
        if var is None:
            return ""
        return resolve(var.raw) if var.raw is not None else None

    def is_set(self, *names: str) -> bool:
        """Whether any of the variables may hold a value (unknown counts as set)."""
        return any(self.value(n) != "" for n in names)

    def truthy(self, name: str) -> bool:
        value = self.value(name)
        return value is not None and value.strip().lower() in knowledge.TRUTHY

    def equals(self, name: str, expected: str) -> bool:
        value = self.value(name)
        return value is not None and value.strip().lower() == expected

    def runs_server(self, servers) -> bool:
        """Whether the default server runs: no entrypoint override, and a command that is absent, only
        flags, or starts the server."""
        if self.entrypoint:
            return False
        if not self.command:
            return True
        first = self.command[0].rsplit("/", 1)[-1]
        return first in servers or first.startswith("-")

    def setting(self, name: str) -> str | None:
        """A dotted setting given as a variable or as -E/-D flag in the command, lower-cased; '?' when
        it is set from outside the file, None when it is not set."""
        value = self.value(name)
        if value is None:
            return "?"
        if value:
            return value.strip().lower()
        m = re.search(r"(?:^|\s)-[ED]?" + re.escape(name) + r"=(\S+)", self.text)
        return m.group(1).strip("'\"").lower() if m else None


def _redis(f: _Facts) -> str | None:
    if f.bitnami or f.env_file or not f.runs_server(knowledge.REDIS_SERVERS):
        return None
    if f.is_set(*knowledge.REDIS_PASSWORD_VARS):
        return None
    extra = [f.value(n) for n in knowledge.REDIS_ARGS_VARS]
    if any(v is None for v in extra):
        return None  # arguments that come from outside the file
    if re.search(r"requirepass|aclfile|\.conf\b", " ".join([f.text, *extra])):
        return None  # a password, an ACL file, or a config file that may set one
    return "without a password (no --requirepass)"


def _mongo(f: _Facts) -> str | None:
    if f.bitnami or f.svc.image_name().endswith("mongodb-sharded"):
        return None
    if not f.runs_server(knowledge.MONGO_SERVERS) or f.env_file or f.is_set(*knowledge.MONGO_ROOT_USER_VARS):
        return None
    if re.search(r"--auth\b|--keyFile|--config|(?:^|\s)-f\s|\.conf\b", f.text):
        return None
    return "without a root user (no MONGO_INITDB_ROOT_USERNAME) and without --auth"


def _elastic(f: _Facts) -> str | None:
    setting = f.setting(knowledge.ELASTIC_SECURITY)
    if setting == "false":
        return f"with {knowledge.ELASTIC_SECURITY}=false"
    if setting is not None or f.env_file:
        return None
    if f.svc.image_name().endswith("-oss"):
        return "from an -oss image, which has no security features"
    m = re.match(r"([0-9]+)\.", f.svc.image_tag() or "")
    if m and int(m.group(1)) < knowledge.ELASTIC_SECURE_SINCE:
        return f"version {m.group(1)}.x without {knowledge.ELASTIC_SECURITY}=true (off by default before 8.0)"
    return None


def _opensearch(f: _Facts) -> str | None:
    for name, value in knowledge.OPENSEARCH_SECURITY_OFF:
        if f.setting(name) == value:
            return f"with {name}={value}"
    return None


def _mysql(f: _Facts) -> str | None:
    if f.env_file:
        return None
    for name in knowledge.MYSQL_EMPTY_SWITCHES:
        value = f.value(name)
        if value and not f.is_set(*knowledge.MYSQL_ROOT_PASSWORD_VARS):
            return f"with {name} set and no root password"
    return None


def _postgres(f: _Facts) -> str | None:
    if f.equals(knowledge.POSTGRES_AUTH_METHOD, "trust"):
        return f"with {knowledge.POSTGRES_AUTH_METHOD}=trust (no password for any connection)"
    return None


def _memcached(f: _Facts) -> str | None:
    if not f.runs_server(("memcached",)) or any(flag in f.command for flag in knowledge.MEMCACHED_SASL_FLAGS):
        return None
    if f.env_file or f.is_set(*knowledge.MEMCACHED_PASSWORD_VARS):
        return None
    return "without SASL (-S), its only authentication"


def _rabbitmq(f: _Facts) -> str | None:
    if f.bitnami:
        return None
    user, password = knowledge.RABBITMQ_DEFAULT_CREDENTIALS
    if f.equals("RABBITMQ_DEFAULT_USER", user) and f.equals("RABBITMQ_DEFAULT_PASS", password):
        return f"with the default account {user}/{password}"
    if f.env_file or f.entrypoint or f.is_set(*knowledge.RABBITMQ_CREDENTIAL_VARS):
        return None
    if _mounts_under(f.svc, "/etc/rabbitmq"):
        return None  # a configuration file may define users
    return f"with the image's default account {user}/{password}, which it lets in from other hosts"


def _minio(f: _Facts) -> str | None:
    user, password = knowledge.MINIO_DEFAULT_CREDENTIALS
    if f.equals("MINIO_ROOT_USER", user) and f.equals("MINIO_ROOT_PASSWORD", password):
        return f"with the default credentials {user}/{password}"
    if "server" not in f.command or f.env_file or f.is_set(*knowledge.MINIO_CREDENTIAL_VARS):
        return None
    return f"without root credentials, so it uses the default {user}/{password}"


def _neo4j(f: _Facts) -> str | None:
    return f"with {knowledge.NEO4J_AUTH}=none" if f.equals(knowledge.NEO4J_AUTH, "none") else None


def _meilisearch(f: _Facts) -> str | None:
    if f.env_file or f.entrypoint or f.is_set(*knowledge.MEILI_MASTER_KEY) or "--master-key" in f.text:
        return None
    if f.equals("MEILI_ENV", "production"):
        return None
    return "without a master key (every route is open in development mode)"


def _anonymous(f: _Facts, kind: str) -> str | None:
    name = knowledge.BITNAMI_ANONYMOUS.get(kind)
    if name and f.truthy(name):
        return f"with {name}=yes"
    return None


def _mounts_under(svc, folder: str) -> bool:
    """Whether the service mounts something at or under a folder (a configuration it may bring), in
    any layer Compose merges."""
    for item in (i for e in svc.written("volumes") for i in seq_items(e.value)):
        target = volume_target(item)
        if target is not None and (target == folder or target.startswith(folder + "/")):
            return True
    return False


_CHECKS = {"postgres": _postgres, "mysql": _mysql, "redis": _redis, "mongo": _mongo, "elasticsearch": _elastic,
           "opensearch": _opensearch, "memcached": _memcached, "rabbitmq": _rabbitmq, "minio": _minio,
           "neo4j": _neo4j, "meilisearch": _meilisearch}


def problem(svc, kind: str) -> str | None:
    """Why the service accepts clients without authentication, or None when nothing shows it."""
    f = _Facts(svc)
    if f.bitnami and f.truthy(knowledge.BITNAMI_EMPTY_PASSWORD):
        return f"with {knowledge.BITNAMI_EMPTY_PASSWORD}=yes"
    check_kind = _CHECKS.get(kind)
    return (check_kind(f) if check_kind else None) or _anonymous(f, kind)


def check(ctx):
    for svc in ctx.services:
        kind = svc.datastore_kind()
        if kind is None:
            continue
        why = problem(svc, kind)
        if why is None:
            continue
        ports = [p for p in svc.ports() if p.exposed]
        host_network = svc.value("network_mode") == "host"
        label = knowledge.DATASTORES[kind][0]
        todo = "turn authentication on, with a password passed through a Compose secret"
        if host_network:
            where, severity, fix = "it uses the host's network stack", Severity.HIGH, None
            todo += ", and leave the host network"
        elif ports:
            where = "it publishes " + ", ".join(p.label for p in ports) + " to the host's network"
            severity = Severity.HIGH
            edits = [p.bind_edit(ctx.doc, loopback(ctx)) if p.scope == "all" else None for p in ports]
            fix = make_fix(FIX, "bind published ports to loopback", *edits)
            todo += ", and bind the ports to 127.0.0.1"
        else:
            where, severity, fix = "every container on its networks can reach it", Severity.MEDIUM, None
        yield finding(__name__, ctx, svc.key, f"service '{svc.name}' runs {label} {why}; {where}: {todo}",
                      service=svc, key_path=("services", svc.name), severity=severity, fix=fix)
