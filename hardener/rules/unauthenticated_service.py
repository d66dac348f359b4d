"""Do not run datastores and brokers without authentication.

**What it finds.** A datastore or broker configured so that anyone who can connect is let in:
- PostgreSQL with `POSTGRES_HOST_AUTH_METHOD=trust`;
- MySQL/MariaDB with `MYSQL_ALLOW_EMPTY_PASSWORD` or `MARIADB_ALLOW_EMPTY_ROOT_PASSWORD` set and no root
  password (the official MySQL image only checks that the switch is non-empty, so even `no` turns it
  on);
- Redis, Valkey, KeyDB, Dragonfly started without `--requirepass` (the official images have no
  password unless the command sets one; a command that loads a config file or an ACL file is trusted);
- MongoDB without a root user (`MONGO_INITDB_ROOT_USERNAME` for the Docker official image and its
  derivatives, `MONGODB_INITDB_ROOT_USERNAME` for MongoDB's own `mongodb/mongodb-community-server` and
  enterprise images) and without `--auth`/`--keyFile`/a config file; and any service whose
  `entrypoint` or command runs `mongod` itself (`entrypoint: mongod ...`, `sh -c "exec mongod ..."`,
  `mongod` as the command of an image that is not MongoDB's) without `--auth` or `--keyFile`: the
  official entrypoint, which creates the root user from those variables and adds `--auth`, then does
  not run, so the variables change nothing;
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
Images are recognised by family (`hardener/data/images.json`): mirrors, registries, derivatives and name
patterns (`wazuh/wazuh-indexer` is OpenSearch, `zulip/zulip-postgresql` PostgreSQL).
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
127.0.0.1`), the same edit as PRT001, *unsafe*. That only shrinks who can reach the service.

With the option `credentials` (`[tool.hardener.options.AUTH001] credentials = true`), `fix
--unsafe-fixes` also turns authentication on for PostgreSQL `trust` and for Redis, Valkey and KeyDB
without a password. It is opt-in because the fixed file no longer starts until you set a password:
- the password is never written in the file: it is a required variable, `${POSTGRES_PASSWORD:?set
  POSTGRES_PASSWORD}` or `${REDIS_PASSWORD:?set REDIS_PASSWORD}`, which `docker compose` refuses to
  run without (a password already given, `POSTGRES_PASSWORD_FILE` with a Compose secret included,
  is kept);
- PostgreSQL: `POSTGRES_HOST_AUTH_METHOD` becomes `scram-sha-256` (`md5` for images before 14, whose
  passwords are stored as md5) and `POSTGRES_PASSWORD` is added;
  Redis: `--requirepass ${REDIS_PASSWORD:?...}` is added to the server's command (or a command
  `redis-server --requirepass ...` is written);
- clients in the same project that name the server are updated: a connection string that points at
  it gets the password (`postgres://app:${POSTGRES_PASSWORD}@db:5432/app`, and
  `redis://default:${REDIS_PASSWORD}@cache:6379/0` with the `default` user of Redis 6 and later), an
  empty password variable (`PGPASSWORD`, `DB_PASSWORD`, `REDIS_PASSWORD`...) gets the variable; those
  whose connection hardener cannot see (an `env_file`, a configuration file) are named in the message.

What you do next, as the message says:

    echo 'POSTGRES_PASSWORD=<a long random password>' >> .env    # beside compose.yaml, not committed
    echo 'REDIS_PASSWORD=<another one>' >> .env
    docker compose up -d

A PostgreSQL data volume created while `trust` was on keeps its `pg_hba.conf` and a user without a
password: set one (`ALTER USER app PASSWORD '...'`) and change `trust` to `scram-sha-256` in that
`pg_hba.conf`, or start from an empty volume. Use passwords without URL-reserved characters (`@`, `/`,
`:`), or URL-encode them, since they are placed in connection strings. A Redis whose healthcheck runs
`redis-cli` is left alone (the healthcheck would fail with NOAUTH): add `-a` to it, then set the
password. Other datastores (MongoDB root credentials, Elasticsearch security, MinIO, RabbitMQ,
memcached SASL) are reported with what to set.

**What may break.** Clients on other machines lose access with the loopback binding. Turning
authentication on needs every client to get the credentials: clients the message names, and programs
outside the project, fail to connect until they have the password.

**References.** CIS Docker Benchmark v1.2.0 5.13; OWASP Docker Security Cheat Sheet rule #5a; MITRE
ATT&CK T1133 (External Remote Services), T1078.001 (Default Accounts), T1190 (Exploit Public-Facing
Application).
"""
from __future__ import annotations

import re

from .. import knowledge
from ..compose import as_str_list, seq_items, volume_target
from ..images import family
from ..model import Applicability, Confidence, Severity
from ..syntax import resolve
from ..views import env_edit, texts
from ..yamltext import Alias, Map, Scalar, Seq, add_entries, add_items, deref, replace_scalar
from .base import finding, loopback, make_fix, option

ID = "AUTH001"
NAME = "unauthenticated-service"
ATTACK_TREE = ("4.1.2",)
SEVERITY = Severity.HIGH
CONFIDENCE = Confidence.MEDIUM
FIX = Applicability.UNSAFE
OPTIONS: dict = {"credentials": False}


def _words(node) -> list[str]:
    node = deref(node)
    if isinstance(node, Seq):
        return as_str_list(node)
    return node.value.split() if isinstance(node, Scalar) and not node.is_null else []


class _Facts:
    """What the rule needs to know about one service, computed once."""

    def __init__(self, svc):
        self.svc = svc
        self.env = svc.environment()
        self.env_file = svc.entry("env_file") is not None
        self.entrypoint = svc.entry("entrypoint") is not None
        self.command = _words(svc.get("command"))
        self.entrypoint_words = _words(svc.get("entrypoint"))
        self.text = " ".join(self.command)
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
    if _direct(f) == "mongo":
        return _mongod_direct(f)
    if f.bitnami or f.svc.image_name().endswith("mongodb-sharded"):
        return None
    if not f.runs_server(knowledge.MONGO_SERVERS) or f.env_file or f.is_set(*knowledge.MONGO_ROOT_USER_VARS):
        return None
    if re.search(knowledge.MONGO_AUTH_FLAGS, f.text):
        return None
    return f"without a root user (no {_mongo_vars(f.svc)[0]}) and without --auth"


def _direct(f: _Facts) -> str | None:
    """The datastore kind whose server program the service runs itself, bypassing an official image's
    entrypoint (which is what turns authentication on from variables): an `entrypoint` that runs it,
    a shell command that runs it, or the program as the command of an image that is not that
    datastore's."""
    if f.entrypoint:
        return knowledge.server_program(f.entrypoint_words + f.command)
    kind = knowledge.server_program(f.command)
    if kind is None:
        return None
    program = f.command[0].rsplit("/", 1)[-1]
    if program in knowledge.SERVER_PROGRAMS and f.svc.datastore_kind() == kind:
        return None  # the image's own entrypoint runs it, with the variables
    return kind


def _mongod_direct(f: _Facts) -> str | None:
    words = " ".join(f.entrypoint_words + f.command)
    if re.search(knowledge.MONGO_AUTH_FLAGS, words):
        return None
    if not f.entrypoint and (f.env_file or f.is_set(*knowledge.MONGO_ROOT_USER_VARS)) and f.svc.datastore_kind() is None:
        return None  # an unknown image may be a derivative whose entrypoint reads the variables
    how = "its entrypoint" if f.entrypoint else "its command"
    if f.svc.datastore_kind() == "mongo":
        return (f"as mongod started by {how} without --auth or --keyFile: the image's entrypoint, which creates "
                "the root user from its variables and adds --auth, does not run")
    return f"as mongod started by {how} without --auth or --keyFile"


def _mongo_vars(svc) -> tuple[str, str]:
    """(root user variable, root password variable) of the image family: MongoDB's own
    mongodb-community-server (and enterprise) images name them MONGODB_INITDB_*, the Docker
    official image and its derivatives MONGO_INITDB_*."""
    if _family(svc) in knowledge.MONGODB_INC_IMAGES:
        return "MONGODB_INITDB_ROOT_USERNAME", "MONGODB_INITDB_ROOT_PASSWORD"
    return "MONGO_INITDB_ROOT_USERNAME", "MONGO_INITDB_ROOT_PASSWORD"


def _family(svc) -> str:
    return family(svc.image_name()) or svc.image_name()


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


# --------------------------------------------------------------------------- turning authentication on

_POSTGRES_VAR = "POSTGRES_PASSWORD"
_REDIS_VAR = "REDIS_PASSWORD"
_VARIABLE = {"postgres": _POSTGRES_VAR, "redis": _REDIS_VAR}  # the kinds the credentials fix knows
_REDIS_SERVER = {"redis": "redis-server", "valkey": "valkey-server", "keydb": "keydb-server"}
_URL_SCHEMES = {"postgres": ("postgres", "postgresql", "postgis", "postgresql+psycopg2", "postgresql+psycopg",
                             "postgresql+asyncpg"),
                "redis": ("redis", "rediss")}
_CLIENT_PASSWORD_VARS = {"postgres": ("POSTGRES_PASSWORD", "PGPASSWORD", "DB_PASSWORD", "DATABASE_PASSWORD"),
                         "redis": ("REDIS_PASSWORD", "REDIS_PASS", "CACHE_PASSWORD")}


def _required(name: str) -> str:
    return "${" + name + ":?set " + name + "}"


def _url_with_password(value: str, kind: str, host: str, password: str, user: str = "") -> str | None:
    """The connection string with the password added for `host`, or None when it names another host,
    already carries a password, or is not a URL of that kind."""
    m = re.match(r"\s*(?P<scheme>[A-Za-z0-9+.-]+)://(?P<auth>[^@/?#]*@)?(?P<host>[^:/?#,@]+)", value)
    if not m or m.group("scheme").lower() not in _URL_SCHEMES[kind] or m.group("host") != host:
        return None
    auth = m.group("auth")
    if auth and ":" in auth:
        return None  # a password is already there (or a variable for it)
    if auth:
        return value[:m.start("auth")] + auth[:-1] + ":" + password + "@" + value[m.end("auth"):]
    return value[:m.start("host")] + user + ":" + password + "@" + value[m.start("host"):]


def _url_user(server, kind: str) -> str:
    """The user a connection string without one gets: Redis 6 and later (and Valkey) name the
    `default` ACL user, since some clients (redis-cli among them) send an empty user name as given;
    older Redis only knows a password."""
    if kind != "redis":
        return ""
    m = re.match(r"(\d+)", server.image_tag() or "")
    old = m is not None and int(m.group(1)) < 6 and "valkey" not in server.image_name()
    return "" if old else "default"


def _rewire_clients(ctx, server, kind: str):
    """(edits, wired names, names it cannot update) for the services that name the server: URLs
    that point at it get the password, an empty password variable gets the variable."""
    variable = _POSTGRES_VAR if kind == "postgres" else _REDIS_VAR
    reference = "${" + variable + "}"
    edits, wired, blind = [], [], []
    host = re.compile(r"(?:^|[@/=\s,;\"'(])" + re.escape(server.name) + r"(?:$|[:/\s,;\"')])")
    for svc in ctx.services:
        if svc is server:
            continue
        env = svc.environment()
        names_it = any(v.raw and host.search(v.raw) for v in env.values()) or \
            server.name in as_str_list(svc.get("depends_on")) or \
            (isinstance(deref(svc.get("depends_on")), Map) and deref(svc.get("depends_on")).entry(server.name) is not None)
        if not names_it:
            continue
        mine = []
        for var in env.values():
            if var.raw is None:
                continue
            new = _url_with_password(var.raw, kind, server.name, reference, _url_user(server, kind))
            if new is not None:
                mine.append(env_edit(ctx.doc, svc, var.name, new))
        for name in _CLIENT_PASSWORD_VARS[kind]:
            var = env.get(name)
            if var is not None and (var.raw or "").strip() == "":
                mine.append(env_edit(ctx.doc, svc, name, reference))
        if mine and None not in mine:
            edits += mine
            wired.append(svc.name)
        else:
            blind.append(svc.name)
    return edits, wired, blind


def _pg_method(svc) -> str:
    """scram-sha-256 for PostgreSQL 14 and later (and tags without a version); md5 before, where
    passwords are stored as md5 by default (md5 also accepts SCRAM-stored passwords, scram-sha-256
    refuses md5-stored ones; 9.x has no SCRAM at all)."""
    m = re.match(r"(\d+)", svc.image_tag() or "")
    return "md5" if m is not None and int(m.group(1)) < 14 else "scram-sha-256"


def _turnable(kind: str, f) -> bool:
    """Whether the problem is one the credentials fix addresses (trust, or Redis without a password)."""
    if kind == "postgres":
        return f.equals(knowledge.POSTGRES_AUTH_METHOD, "trust")
    return not f.bitnami and _redis(f) is not None


def _turn_on(ctx, svc, kind: str, f):
    """(edits, what the operator must do) that turn authentication on, or None."""
    if not _turnable(kind, f):
        return None
    if kind == "postgres":
        edits = [env_edit(ctx.doc, svc, knowledge.POSTGRES_AUTH_METHOD, _pg_method(svc))]
        if not f.is_set(_POSTGRES_VAR, _POSTGRES_VAR + "_FILE"):
            edits.append(env_edit(ctx.doc, svc, _POSTGRES_VAR, _required(_POSTGRES_VAR)))
            todo = (f"set {_POSTGRES_VAR} (in the shell or an .env file beside the compose file) before `docker "
                    "compose up`; a data volume made while trust was on keeps its pg_hba.conf and a user without "
                    "password: run ALTER USER ... PASSWORD and edit pg_hba.conf there, or start from an empty volume")
        else:
            todo = ("a data volume made while trust was on keeps its pg_hba.conf and a user without password: run "
                    "ALTER USER ... PASSWORD and edit pg_hba.conf there, or start from an empty volume")
        return (edits, todo) if None not in edits else None
    if kind == "redis":
        known = svc.facts()  # the image's own healthcheck counts when the file writes none (image facts)
        image_check = known.healthcheck if known is not None and svc.get("healthcheck") is None else None
        if any("redis-cli" in t for t in (*texts(svc.get("healthcheck")), *(image_check or ()))):
            return None  # its healthcheck would fail with NOAUTH: left to the operator
        flag = ["--requirepass", _required(_REDIS_VAR)]
        command = svc.entry("command")
        if command is None:
            server = _REDIS_SERVER.get(svc.image_name().rsplit("/", 1)[-1])
            if svc.entry("extends") is not None or server is None:
                return None
            edit = add_entries(ctx.doc, svc.node, {"command": [server, *flag]})
        elif not command.editable or isinstance(command.value, Alias):
            return None
        elif isinstance(deref(command.value), Seq):
            edit = add_items(ctx.doc, deref(command.value), flag)
        elif isinstance(deref(command.value), Scalar) and not deref(command.value).is_null:
            node = deref(command.value)
            edit = replace_scalar(ctx.doc, node, node.value.rstrip() + " --requirepass " + _required(_REDIS_VAR))
        else:
            return None
        if edit is None:
            return None
        return [edit], (f"set {_REDIS_VAR} (in the shell or an .env file beside the compose file) before `docker "
                        "compose up`; the password is visible to whoever can run docker inspect")
    return None


def problem(svc, kind: str) -> str | None:
    """Why the service accepts clients without authentication, or None when nothing shows it."""
    f = _Facts(svc)
    if f.bitnami and f.truthy(knowledge.BITNAMI_EMPTY_PASSWORD):
        return f"with {knowledge.BITNAMI_EMPTY_PASSWORD}=yes"
    check_kind = _CHECKS.get(kind)
    return (check_kind(f) if check_kind else None) or _anonymous(f, kind)


def check(ctx):
    credentials = option(ctx, __name__, "credentials")
    for svc in ctx.services:
        kind = svc.datastore_kind() or _direct(_Facts(svc))
        if kind is None:
            continue
        why = problem(svc, kind)
        if why is None:
            continue
        ports = [p for p in svc.ports() if p.exposed]
        host_network = svc.value("network_mode") == "host"
        label = knowledge.DATASTORES[kind][0]
        todo = "turn authentication on, with a password passed through a Compose secret"
        port_edits: list = []
        if host_network:
            where, severity, fix = "it uses the host's network stack", Severity.HIGH, None
            todo += ", and leave the host network"
        elif ports:
            where = "it publishes " + ", ".join(p.label for p in ports) + " to the host's network"
            severity = Severity.HIGH
            port_edits = [p.bind_edit(ctx.doc, loopback(ctx)) if p.scope == "all" else None for p in ports]
            fix = make_fix(FIX, "bind published ports to loopback", *port_edits)
            todo += ", and bind the ports to 127.0.0.1"
        else:
            where, severity, fix = "every container on its networks can reach it", Severity.MEDIUM, None
        facts = _Facts(svc)
        if kind in _VARIABLE and credentials:
            turned = _turn_on(ctx, svc, kind, facts)
            if turned is None:
                todo += ("; hardener does not turn it on here (its settings are written through an anchor or "
                         "another file, the command is unusual, or a healthcheck runs redis-cli without the "
                         "password)")
            else:
                edits, next_step = turned
                client_edits, wired, blind = _rewire_clients(ctx, svc, kind)
                bound = fix is not None  # the loopback binding goes along when it could be made
                both = make_fix(FIX, f"turn authentication on with the variable {_VARIABLE[kind]}"
                                + (" and bind published ports to loopback" if bound else ""),
                                *edits, *client_edits, *(port_edits if bound else ()))
                if both is not None:
                    fix = both
                    todo = (f"the fix turns authentication on with {_required(_VARIABLE[kind])} (never a literal "
                            f"password){', binds the ports to 127.0.0.1' if bound else ''}; next, {next_step}")
                    if wired:
                        todo += f"; it updates {', '.join(wired)} (connection strings and password variables)"
                    if blind:
                        todo += (f"; it cannot see how {', '.join(blind)} connect{'s' if len(blind) == 1 else ''}"
                                 f": give {'it' if len(blind) == 1 else 'them'} the password there")
        elif kind in _VARIABLE and facts.bitnami is False and _turnable(kind, facts):
            todo += (f" (`credentials = true` under [tool.hardener.options.AUTH001] lets fix --unsafe-fixes do it "
                     f"with a required variable {_VARIABLE[kind]})")
        yield finding(__name__, ctx, svc.key, f"service '{svc.name}' runs {label} {why}; {where}: {todo}",
                      service=svc, key_path=("services", svc.name), severity=severity, fix=fix)
