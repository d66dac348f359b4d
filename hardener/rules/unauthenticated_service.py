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
127.0.0.1`), the same edit as PRT001, *unsafe*. That only shrinks who can reach the service. For
memcached it is the whole fix: the official image has no password of its own (SASL needs a build with
it, a SASL configuration and clients that speak the binary protocol), so the message says to keep it
on a network shared only with its clients; with `network_mode: host` nothing can be bound, and the
message says to leave the host network.

With the option `credentials` (`[tool.hardener.options.AUTH001] credentials = true`), `fix
--unsafe-fixes` also turns authentication on. It is opt-in because the fixed file no longer starts
until you set the passwords (`docker compose` refuses a missing required variable), and because it
changes the server's and its clients' `environment`: a design change, not a restriction (hardener's
corpus measure counts both as a change of the stack, so the default stays off).
- the password is never written in the file: it is a required variable (`${POSTGRES_PASSWORD:?set
  POSTGRES_PASSWORD}`), which `docker compose` refuses to run without; a password already given as
  a `${VAR}`, or a `*_FILE` variable, is kept;
- PostgreSQL `trust`: `POSTGRES_HOST_AUTH_METHOD` becomes `scram-sha-256` (`md5` for images before 14,
  whose passwords are stored as md5) and `POSTGRES_PASSWORD` is added;
- Redis, Valkey, KeyDB: `--requirepass ${REDIS_PASSWORD:?...}` is added to the server's command (or
  a command `redis-server --requirepass ...` is written);
- MySQL/MariaDB with an empty root password allowed: `MYSQL_ROOT_PASSWORD` (`MARIADB_ROOT_PASSWORD`
  when the switch was a `MARIADB_` one);
- MongoDB without a root user: `MONGO_INITDB_ROOT_USERNAME` and `MONGO_INITDB_ROOT_PASSWORD`
  (`MONGODB_INITDB_ROOT_*` for `mongodb/mongodb-community-server`), from which the image's entrypoint
  creates the root user and adds `--auth`. A `mongod` started by the service's own entrypoint or
  command gets no fix: the message says to create a user and add `--auth`/`--keyFile`;
- Elasticsearch 7 and later with security off: `xpack.security.enabled=true` and `ELASTIC_PASSWORD`
  (the `elastic` superuser's). The message says what else it takes: clients log in (Kibana 8 refuses
  `elastic`: give it `kibana_system`), a cluster of several nodes needs transport TLS, HTTP stays
  unencrypted until `xpack.security.http.ssl` is set up. `-oss` images, 6.x and a setting written in
  the command are reported with why;
- OpenSearch 2.12 and later with the security plugin off: `DISABLE_SECURITY_PLUGIN` (or
  `plugins.security.disabled`) becomes `false` and `OPENSEARCH_INITIAL_ADMIN_PASSWORD` is added (it
  must be strong). The plugin then serves HTTPS only with the demo certificates, which are public:
  the message says clients move to `https://` with the admin user and to replace the certificates.
  Before 2.12 (demo `admin`/`admin`), with `DISABLE_INSTALL_DEMO_CONFIG`, and for derivatives
  (wazuh-indexer) it is reported with why;
- MinIO with `minioadmin` or no root credentials: `MINIO_ROOT_USER` and `MINIO_ROOT_PASSWORD`
  (MinIO wants at least 3 and 8 characters);
- RabbitMQ with `guest`: `RABBITMQ_DEFAULT_USER` and `RABBITMQ_DEFAULT_PASS`;
- clients in the same project that name the server are updated: a connection string that points at
  it gets the credentials (`postgres://app:${POSTGRES_PASSWORD}@db:5432/app`,
  `redis://default:${REDIS_PASSWORD}@cache:6379/0` with the `default` user of Redis 6 and later,
  `mysql://root:${MYSQL_ROOT_PASSWORD}@db/app`, `mongodb://${MONGO_INITDB_ROOT_USERNAME}:...@mongo/app?authSource=admin`,
  `amqp://${RABBITMQ_DEFAULT_USER}:${RABBITMQ_DEFAULT_PASS}@rabbit:5672/` instead of `guest:guest`);
  an empty password variable (`PGPASSWORD`, `DB_PASSWORD`, `REDIS_PASSWORD`...) and the image's
  default account written as a literal (`S3_SECRET_KEY: minioadmin`) get the variable; those whose
  connection hardener cannot see (an `env_file`, a configuration file, Elasticsearch and OpenSearch
  clients, whose user hardener does not choose) are named in the message.

With `secrets = "file"` as well, the images that read a `*_FILE` variable (PostgreSQL, MySQL/MariaDB,
the official MongoDB image) get a Compose secret instead of the password variable:
`POSTGRES_PASSWORD_FILE: /run/secrets/db_password`, `secrets: [db_password]` in the service and
`db_password: {file: ./secrets/db_password.txt}` at the top; the others keep required variables.
A connection string cannot read a file, so the message names the clients that need the password too.

What you do next, as the message says:

    echo 'POSTGRES_PASSWORD=<a long random password>' >> .env    # beside compose.yaml, not committed
    echo 'REDIS_PASSWORD=<another one>' >> .env
    docker compose up -d

or, with `secrets = "file"`: `mkdir -p secrets && openssl rand -hex 24 > secrets/db_password.txt`
(outside version control, readable by the user the image's entrypoint reads it as).

A data volume made before the fix keeps its old accounts: a PostgreSQL one made under `trust` keeps
its `pg_hba.conf` and a user without a password (`ALTER USER app PASSWORD '...'`, and change `trust`
in that `pg_hba.conf`), MySQL/MariaDB keeps root without a password (`ALTER USER`), MongoDB gets
`--auth` but no root user (create it from inside the container), RabbitMQ keeps `guest` and creates no
new user (`rabbitmqctl add_user`); or start from an empty volume. Use passwords without URL-reserved
characters (`@`, `/`, `:`), or URL-encode them, since they are placed in connection strings. A Redis
whose healthcheck runs `redis-cli` is left alone (the healthcheck would fail with NOAUTH): add `-a` to
it, then set the password. Neo4j, Meilisearch and the Bitnami switches are reported with what to set.

**What may break.** Clients on other machines lose access with the loopback binding. Turning
authentication on needs every client to get the credentials: clients the message names, and programs
outside the project, fail to connect until they have the password.

**References.** CIS Docker Benchmark v1.2.0 5.13; OWASP Docker Security Cheat Sheet rule #5a; MITRE
ATT&CK T1133 (External Remote Services), T1078.001 (Default Accounts), T1190 (Exploit Public-Facing
Application).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from .. import knowledge
from ..compose import as_str_list, seq_items, volume_target
from ..images import family
from ..model import Applicability, Confidence, Severity
from ..syntax import resolve
from ..views import env_edits, list_append, texts
from ..yamltext import Alias, Map, Scalar, Seq, add_entries, add_items, deref, fill_null, replace_scalar
from .base import finding, loopback, make_fix, option

ID = "AUTH001"
NAME = "unauthenticated-service"
ATTACK_TREE = ("4.1.2",)
SEVERITY = Severity.HIGH
CONFIDENCE = Confidence.MEDIUM
FIX = Applicability.UNSAFE
OPTIONS: dict = {"credentials": False, "secrets": "variable"}


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

_REDIS_SERVER = {"redis": "redis-server", "valkey": "valkey-server", "keydb": "keydb-server"}
_SECRETS_DIR = "./secrets"
_NEXT = "(in the shell or an .env file beside the compose file, not committed) before `docker compose up`"


def _required(name: str) -> str:
    return "${" + name + ":?set " + name + "}"


def _ref(name: str) -> str:
    return "${" + name + "}"


@dataclass
class _Turned:
    """What turning authentication on takes for one server: its edits, what the operator must set,
    what else to do, and what its clients get ('user'/'password' -> a ${VAR} reference; none when
    clients cannot be given the password from the file)."""
    env: dict  # variables the server's environment gets
    edits: list = field(default_factory=list)  # other edits (command, secrets)
    variables: list = field(default_factory=list)  # required variables the operator sets
    files: list = field(default_factory=list)  # secret files the operator creates
    todo: str = ""
    refs: dict = field(default_factory=dict)
    url_user: str = ""  # the user a client URL without one gets when refs has no user
    auth_source: bool = False  # MongoDB: URLs naming a database authenticate against admin
    secret: str | None = None  # the secret file the clients could read instead


def _declare(ctx, key: str, name: str, value: dict):
    """Edit that declares a top-level resource (secrets, volumes...) of the file."""
    entry = ctx.doc.root.entry(key)
    if entry is None:
        return add_entries(ctx.doc, ctx.doc.root, {key: {name: value}})
    if isinstance(entry[1], Map):
        return add_entries(ctx.doc, entry[1], {name: value})
    if isinstance(entry[1], Scalar) and entry[1].is_null:
        return fill_null(ctx.doc, entry[0], entry[1], {name: value})
    return None


def _grant_secret(ctx, svc, name: str):
    """Edit that gives the service a Compose secret (short syntax, mounted at /run/secrets/<name>)."""
    return list_append(ctx.doc, svc, "secrets", name)


def _secret_name(ctx, svc) -> str:
    top = ctx.top("secrets")
    taken = {k.value for k, _ in top.pairs if isinstance(k, Scalar)} if isinstance(top, Map) else set()
    name, n = f"{svc.name}_password", 2
    while name in taken:
        name, n = f"{svc.name}_password_{n}", n + 1
    return name


def _password(ctx, svc, variable: str, file_ok: bool, turned: _Turned, role: str = "password") -> None:
    """Give the server its password: a required variable, or with `secrets = "file"` where the image
    reads `<variable>_FILE`, a Compose secret from a file the operator creates."""
    if file_ok and option(ctx, __name__, "secrets") == "file":
        secret = _secret_name(ctx, svc)
        path = f"{_SECRETS_DIR}/{secret}.txt"
        turned.env[variable + "_FILE"] = f"/run/secrets/{secret}"
        turned.edits += [_grant_secret(ctx, svc, secret), _declare(ctx, "secrets", secret, {"file": path})]
        turned.files.append(path)
        turned.secret = secret
        return
    turned.env[variable] = _required(variable)
    turned.variables.append(variable)
    turned.refs[role] = _ref(variable)


def _user(ctx, svc, variable: str, turned: _Turned) -> None:
    turned.env[variable] = _required(variable)
    turned.variables.append(variable)
    turned.refs["user"] = _ref(variable)


def _existing(f: _Facts, variable: str, turned: _Turned) -> bool:
    """Whether the server already has the password (a value, or its _FILE twin); clients get a
    reference to it only when it is itself a ${VAR} of the project."""
    var = f.env.get(variable)
    if var is not None and var.raw is not None and var.raw.strip():
        m = re.fullmatch(r"\s*\$\{([A-Za-z_][A-Za-z0-9_]*)(?:[:?-][^}]*)?\}\s*", var.raw)
        if m:
            turned.refs["password"] = _ref(m.group(1))
        return True
    return f.is_set(variable + "_FILE")


def _pg_method(svc) -> str:
    """scram-sha-256 for PostgreSQL 14 and later (and tags without a version); md5 before, where
    passwords are stored as md5 by default (md5 also accepts SCRAM-stored passwords, scram-sha-256
    refuses md5-stored ones; 9.x has no SCRAM at all)."""
    m = re.match(r"(\d+)", svc.image_tag() or "")
    return "md5" if m is not None and int(m.group(1)) < 14 else "scram-sha-256"


def _major(svc) -> tuple[int, ...] | None:
    m = re.match(r"v?(\d+)(?:\.(\d+))?", svc.image_tag() or "")
    return tuple(int(g) for g in m.groups() if g is not None) if m else None


def _turn_postgres(ctx, svc, f: _Facts):
    if not f.equals(knowledge.POSTGRES_AUTH_METHOD, "trust"):
        return "its settings are unusual"
    t = _Turned({knowledge.POSTGRES_AUTH_METHOD: _pg_method(svc)})
    if not _existing(f, "POSTGRES_PASSWORD", t):
        _password(ctx, svc, "POSTGRES_PASSWORD", True, t)
    t.todo = ("a data volume made while trust was on keeps its pg_hba.conf and a user without password: run "
              "ALTER USER ... PASSWORD and edit pg_hba.conf there, or start from an empty volume")
    return t


def _turn_redis(ctx, svc, f: _Facts):
    if f.bitnami or _redis(f) is None:
        return "its settings are unusual"
    known = svc.facts()  # the image's own healthcheck counts when the file writes none (image facts)
    image_check = known.healthcheck if known is not None and svc.get("healthcheck") is None else None
    if any("redis-cli" in t for t in (*texts(svc.get("healthcheck")), *(image_check or ()))):
        return ("a healthcheck runs redis-cli without the password (the file's, or the image's own), which would fail "
                "with NOAUTH: write one in the file that passes `-a \"$$REDIS_PASSWORD\"` (with the variable in the "
                "service's environment), then set the password")
    flag = ["--requirepass", _required("REDIS_PASSWORD")]
    command = svc.entry("command")
    if command is None:
        server = _REDIS_SERVER.get(svc.image_name().rsplit("/", 1)[-1])
        if svc.entry("extends") is not None or server is None:
            return "the image's own command is not known"
        edit = add_entries(ctx.doc, svc.node, {"command": [server, *flag]})
    elif not command.editable or isinstance(command.value, Alias):
        edit = None
    elif isinstance(deref(command.value), Seq):
        edit = add_items(ctx.doc, deref(command.value), flag)
    elif isinstance(deref(command.value), Scalar) and not deref(command.value).is_null:
        node = deref(command.value)
        edit = replace_scalar(ctx.doc, node, node.value.rstrip() + " --requirepass " + _required("REDIS_PASSWORD"))
    else:
        edit = None
    user = "" if (_major(svc) or (6,))[0] < 6 and "valkey" not in svc.image_name() else "default"
    return _Turned({}, [edit], ["REDIS_PASSWORD"], todo="the password is visible to whoever can run docker inspect",
                   refs={"password": _ref("REDIS_PASSWORD")}, url_user=user)


def _turn_mysql(ctx, svc, f: _Facts):
    switch = next((n for n in knowledge.MYSQL_EMPTY_SWITCHES if f.value(n)), None)
    if f.bitnami or switch is None or f.is_set(*knowledge.MYSQL_ROOT_PASSWORD_VARS):
        return "its settings are unusual"
    variable = "MARIADB_ROOT_PASSWORD" if switch.startswith("MARIADB") else "MYSQL_ROOT_PASSWORD"
    t = _Turned({}, url_user="root")
    _password(ctx, svc, variable, True, t)
    t.todo = ("the root password is set only when the data folder is empty: a data volume made without it "
              "keeps root without a password (ALTER USER 'root'@'%' IDENTIFIED BY '...', or start from an "
              f"empty volume); {switch} no longer matters once root has a password")
    return t


def _turn_mongo(ctx, svc, f: _Facts):
    if _direct(f) == "mongo":
        return ("mongod is started by the service's own entrypoint or command, so the image's entrypoint that "
                "creates the root user does not run: create a user, then add --auth (or --keyFile for a replica "
                "set), or let the image's entrypoint start mongod with the root user variables")
    if f.bitnami or _mongo(f) is None:
        return "its settings are unusual"
    user, password = _mongo_vars(svc)
    t = _Turned({}, auth_source=True)
    _user(ctx, svc, user, t)
    _password(ctx, svc, password, _family(svc) not in knowledge.MONGODB_INC_IMAGES, t)
    t.todo = ("the root user is created only in an empty data volume, while --auth is added every time: with "
              "an existing volume, create the user from inside the container (mongosh there may while no user "
              "exists) or start from an empty volume")
    return t


def _turn_elastic(ctx, svc, f: _Facts):
    name = knowledge.ELASTIC_SECURITY
    if f.svc.image_name().endswith("-oss"):
        return "an -oss image has no security features: move to the default distribution"
    major = _major(svc)
    if major is not None and major[0] < knowledge.ELASTIC_FIXABLE_SINCE:
        return f"version {major[0]}.x: upgrade, then set {name}=true with a password"
    if f.value(name) not in ("", "false") and f.value(name) is not None:
        return "its settings are unusual"
    if f.value(name) == "" and f.setting(name) is not None:
        return f"{name} is set in the command: set it to true there, with {knowledge.ELASTIC_PASSWORD}"
    t = _Turned({name: "true"})
    if not _existing(f, knowledge.ELASTIC_PASSWORD, t):
        _password(ctx, svc, knowledge.ELASTIC_PASSWORD, False, t)
    t.todo = ("clients now log in (the elastic user and that password; Kibana 8 refuses the elastic "
              "superuser: give it kibana_system, whose password you set with elasticsearch-reset-password); a "
              "cluster of several nodes also needs transport TLS (xpack.security.transport.ssl.*) or it refuses "
              "to start, and HTTP stays unencrypted until xpack.security.http.ssl is set up")
    t.refs = {}  # clients are named: hardener does not choose which user they log in as
    return t


def _turn_opensearch(ctx, svc, f: _Facts):
    if svc.image_name().rsplit("/", 1)[-1] != "opensearch":
        return "a derivative of OpenSearch configures its security plugin its own way"
    if f.truthy(knowledge.OPENSEARCH_NO_DEMO):
        return (f"{knowledge.OPENSEARCH_NO_DEMO} is on, so the security plugin would start without certificates: "
                "give it your own (plugins.security.ssl.*) and internal users, then turn it on")
    version = _major(svc)
    if version is not None and version < knowledge.OPENSEARCH_ADMIN_PASSWORD_SINCE:
        return "before 2.12 the demo configuration installs admin/admin: upgrade, or configure internal users"
    t = _Turned({})
    for name, value in knowledge.OPENSEARCH_SECURITY_OFF:
        if f.setting(name) == value:
            if f.value(name) != value:
                return f"{name} is set in the command: remove it there"
            t.env[name] = "false"
    if not _existing(f, knowledge.OPENSEARCH_ADMIN_PASSWORD, t):
        _password(ctx, svc, knowledge.OPENSEARCH_ADMIN_PASSWORD, False, t)
    t.todo = ("the security plugin then serves HTTPS only, with the demo certificates (public and self-signed: "
              "replace them with your own before production): clients must move to https://, log in as admin and "
              "trust or skip the demo CA (OpenSearch Dashboards: drop DISABLE_SECURITY_DASHBOARDS_PLUGIN, set "
              "OPENSEARCH_HOSTS to https://..., OPENSEARCH_USERNAME and OPENSEARCH_PASSWORD); the password must be "
              "strong (OpenSearch refuses a weak one); a data volume made without security keeps working with it")
    t.refs = {}
    return t


def _turn_minio(ctx, svc, f: _Facts):
    if _minio(f) is None:
        return "its settings are unusual"
    t = _Turned({})
    _user(ctx, svc, "MINIO_ROOT_USER", t)
    _password(ctx, svc, "MINIO_ROOT_PASSWORD", False, t)
    t.todo = ("MinIO refuses a user shorter than 3 characters and a password shorter than 8; S3 clients that "
              "used minioadmin need the new keys (better: an access key of their own, made with mc admin user)")
    return t


def _turn_rabbitmq(ctx, svc, f: _Facts):
    if f.bitnami or _rabbitmq(f) is None:
        return "its settings are unusual"
    t = _Turned({})
    _user(ctx, svc, "RABBITMQ_DEFAULT_USER", t)
    _password(ctx, svc, "RABBITMQ_DEFAULT_PASS", False, t)
    t.todo = ("the user is created only when the node starts from an empty database: with an existing data volume "
              "add it with rabbitmqctl add_user, set_user_tags administrator and set_permissions, then "
              "rabbitmqctl delete_user guest")
    return t


_TURN = {"postgres": _turn_postgres, "redis": _turn_redis, "mysql": _turn_mysql, "mongo": _turn_mongo,
         "elasticsearch": _turn_elastic, "opensearch": _turn_opensearch, "minio": _turn_minio,
         "rabbitmq": _turn_rabbitmq}


# --------------------------------------------------------------------------- the clients

def _url_with_credentials(value: str, kind: str, host: str, t: _Turned) -> str | None:
    """The connection string with the server's credentials for `host`, or None when it is not a URL
    of that kind for that host, or already carries credentials hardener should not touch."""
    spec = knowledge.CLIENT_CREDENTIALS[kind]
    m = re.match(r"\s*(?P<scheme>[A-Za-z0-9+.-]+)://(?P<auth>[^@/?#]*@)?(?P<host>[^:/?#,@]+)", value)
    if not m or m.group("scheme").lower() not in spec["schemes"] or m.group("host") != host:
        return None
    password = t.refs.get("password")
    if password is None:
        return None
    auth = (m.group("auth") or "")[:-1]
    default = spec.get("default")
    user, _, written = auth.partition(":")
    if default and (user, written) == default or default and auth == default[0]:
        user = None  # the published default account: both halves become the new ones
    elif ":" in auth:
        return None  # a password is already there (or a variable for it)
    elif auth and "user" in t.refs:
        return None  # another user than the one the fix creates: its password is not known here
    elif auth and spec.get("url_users") and auth not in spec["url_users"]:
        return None
    if not auth or user is None:
        user = t.refs.get("user", t.url_user)
    start, end = (m.start("auth"), m.end("auth")) if m.group("auth") else (m.start("host"), m.start("host"))
    new = value[:start] + f"{user}:{password}@" + value[end:]
    if t.auth_source:  # a root user lives in admin; a URL naming a database authenticates there
        after = start + len(f"{user}:{password}@")
        rest = re.match(r"[^/?#]*(/[^?#]*)?(\?[^#]*)?", new[after:])
        query = rest.group(2) or ""
        if (rest.group(1) or "/").strip("/") and "authsource=" not in query.lower():
            at = after + rest.end()
            new = new[:at] + ("&" if query else "?") + "authSource=admin" + new[at:]
    return new


def _role(name: str) -> str | None:
    upper = name.upper()
    if any(w in upper for w in knowledge.PASSWORD_WORDS):
        return "password"
    if any(upper.endswith(w) or f"{w}_" in upper for w in knowledge.USER_WORDS):
        return "user"
    return None


def _rewire_clients(ctx, server, kind: str, t: _Turned):
    """(edits, wired names, names it cannot update) for the services that name the server: URLs
    that point at it get the credentials, empty credential variables and the image's default
    account written as literals get the references."""
    spec = knowledge.CLIENT_CREDENTIALS.get(kind, {})
    edits, wired, blind = [], [], []
    host = re.compile(r"(?:^|[@/=\s,;\"'(])" + re.escape(server.name) + r"(?:$|[:/\s,;\"')])")
    default = spec.get("default")
    for svc in ctx.services:
        if svc is server:
            continue
        env = svc.environment()
        depends = deref(svc.get("depends_on"))
        names_it = any(v.raw and host.search(v.raw) for v in env.values()) or \
            server.name in as_str_list(depends) or (isinstance(depends, Map) and depends.entry(server.name) is not None)
        if not names_it:
            continue
        mine = {}
        for var in env.values():
            if var.raw is None:
                continue
            new = _url_with_credentials(var.raw, kind, server.name, t) if spec.get("schemes") else None
            if new is not None:
                mine[var.name] = new
                continue
            role = _role(var.name)
            ref = t.refs.get(role) if role else None
            if ref is None:
                continue
            literal = var.raw.strip()
            empty = literal == "" and var.name in spec.get(f"{role}_vars", ())
            if empty or (default is not None and literal == default[0 if role == "user" else 1]):
                mine[var.name] = ref
        made = env_edits(ctx.doc, svc, mine) if mine else None
        if made:
            edits += made
            wired.append(svc.name)
        else:
            blind.append(svc.name)
    return edits, wired, blind


def problem(svc, kind: str) -> str | None:
    """Why the service accepts clients without authentication, or None when nothing shows it."""
    f = _Facts(svc)
    if f.bitnami and f.truthy(knowledge.BITNAMI_EMPTY_PASSWORD):
        return f"with {knowledge.BITNAMI_EMPTY_PASSWORD}=yes"
    check_kind = _CHECKS.get(kind)
    return (check_kind(f) if check_kind else None) or _anonymous(f, kind)


def _names(items) -> str:
    return ", ".join(items)


def _credentials(ctx, svc, kind: str, f: _Facts, port_fix, port_edits):
    """(fix, message) when the credentials option turns authentication on; (None, why not)."""
    if f.bitnami:
        return None, (f"; hardener does not turn it on here: a Bitnami image takes its own variables (remove "
                      f"{knowledge.BITNAMI_EMPTY_PASSWORD} and set the image's password variable, such as "
                      "POSTGRESQL_PASSWORD, REDIS_PASSWORD or MARIADB_ROOT_PASSWORD, from a required variable or its "
                      "*_FILE twin)")
    turned = _TURN[kind](ctx, svc, f)
    if isinstance(turned, str):
        return None, f"; hardener does not turn it on here: {turned}"
    env = env_edits(ctx.doc, svc, turned.env)
    if env is None or None in turned.edits:
        return None, ("; hardener does not turn it on here: its environment, command or secrets are written "
                      "through an anchor, a merge key or another file")
    client_edits, wired, blind = _rewire_clients(ctx, svc, kind, turned)
    bound = port_fix is not None  # the loopback binding goes along when it could be made
    how = " and ".join([_required(n) for n in turned.variables]
                       + [f"the Compose secret {turned.secret} (from {p})" for p in turned.files])
    fix = make_fix(FIX, f"turn authentication on with {how}" + (" and bind published ports to loopback" if bound else ""),
                   *env, *turned.edits, *client_edits, *(port_edits if bound else ()))
    if fix is None:
        return None, "; hardener does not turn it on here: the edit could not be made in this file's layout"
    steps = []
    if turned.variables:
        steps.append(f"set {' and '.join(turned.variables)} {_NEXT}")
    if turned.files:
        steps.append(f"create {' and '.join(turned.files)} holding only the password (outside version control, "
                     "readable by the user the image's entrypoint reads it as: root or uid 999 in the official "
                     "images)")
    if turned.todo:
        steps.append(turned.todo)
    text = (f"; the fix turns authentication on with {how} (never a literal password)"
            f"{', binds the ports to 127.0.0.1' if bound else ''}; next, {'; '.join(steps)}")
    if wired:
        text += f"; it updates {_names(wired)} (connection strings and credential variables)"
    if blind:
        one = len(blind) == 1
        if turned.secret:
            text += (f"; {_names(blind)} need{'s' if one else ''} the password too, which a connection string "
                     f"cannot read from a file: give {'it' if one else 'them'} the secret {turned.secret} with "
                     f"{'its' if one else 'their'} own *_FILE setting where there is one")
        else:
            text += (f"; it cannot see how {_names(blind)} connect{'s' if one else ''}: give "
                     f"{'it' if one else 'them'} the credentials there")
    return fix, text


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
        if kind == "memcached":
            todo = ("memcached has no password of its own in the official image (SASL needs a build with it, a "
                    "SASL configuration and clients that speak the binary protocol), so keep it where only its "
                    "clients reach it: on a network it shares only with them")
        else:
            todo = "turn authentication on, with a password passed through a Compose secret"
        port_edits: list = []
        if host_network:
            where, severity, fix = "it uses the host's network stack", Severity.HIGH, None
            todo += ", and leave the host network (there its port is open on every interface of the host)"
        elif ports:
            where = "it publishes " + ", ".join(p.label for p in ports) + " to the host's network"
            severity = Severity.HIGH
            port_edits = [p.bind_edit(ctx.doc, loopback(ctx)) if p.scope == "all" else None for p in ports]
            fix = make_fix(FIX, "bind published ports to loopback", *port_edits)
            todo += ", and bind the ports to 127.0.0.1"
            if kind == "memcached" and fix is None:
                todo += " (hardener cannot: a port is written through an anchor or another file, or names an address)"
        else:
            where, severity, fix = "every container on its networks can reach it", Severity.MEDIUM, None
        facts = _Facts(svc)
        if kind in _TURN and credentials:
            made, note = _credentials(ctx, svc, kind, facts, fix, port_edits)
            if made is not None:
                fix, todo = made, note[2:]
            else:
                todo += note
        elif kind in _TURN and not facts.bitnami:
            turned = _TURN[kind](ctx, svc, facts)
            if not isinstance(turned, str):
                names = turned.variables
                how = ([f"the required variable{'s' if len(names) > 1 else ''} {' and '.join(names)}"] if names
                       else []) + (["a Compose secret from a file"] if turned.secret else [])
                todo += (" (`credentials = true` under [tool.hardener.options.AUTH001] lets fix --unsafe-fixes do "
                         f"it with {' and '.join(how)})")
        yield finding(__name__, ctx, svc.key, f"service '{svc.name}' runs {label} {why}; {where}: {todo}",
                      service=svc, key_path=("services", svc.name), severity=severity, fix=fix)
