"""Facts about images, ports, paths and variables that several rules share. Data only: the rules
decide what to do with it.

Image names are matched on the repository name without registry, tag or digest, as
``Service.image_name()`` gives it (``bitnami/postgresql``), first whole, then by its last component
(``postgresql``). A last component that is a known name followed by a version (``postgresql-16``)
counts as that name. Client tools, exporters and admin UIs (``mongo-express``, ``redis-commander``,
``postgres_exporter``, ``kafka-ui``) are deliberately *not* listed: they are not the datastore.
"""
from __future__ import annotations

import json
import posixpath
import re
from functools import lru_cache
from importlib import resources

from .model import Applicability
from .syntax import ONLY_VARIABLE, resolve

# --------------------------------------------------------------------------- datastores and brokers

# kind -> (label, image names, default container ports)
DATASTORES: dict[str, tuple[str, tuple[str, ...], tuple[int, ...]]] = {
    "postgres": ("PostgreSQL", ("postgres", "postgresql", "postgis", "timescaledb", "timescaledb-ha", "pgvector",
                                "postgresql-repmgr", "crunchy-postgres"), (5432,)),
    "mysql": ("MySQL/MariaDB", ("mysql", "mysql-server", "mariadb", "percona", "percona-server",
                                "percona-xtradb-cluster", "mariadb-galera", "alpine-mariadb"), (3306, 33060)),
    "redis": ("Redis/Valkey", ("redis", "redis-stack", "redis-stack-server", "redis-cluster", "redismod", "keydb",
                        "valkey", "valkey-cluster", "dragonfly"), (6379,)),
    "mongo": ("MongoDB", ("mongo", "mongodb", "mongodb-community-server", "mongodb-enterprise-server",
                          "mongodb-sharded", "percona-server-mongodb"), (27017, 27018, 27019)),
    "elasticsearch": ("Elasticsearch", ("elasticsearch", "elasticsearch-oss"), (9200, 9300)),
    "opensearch": ("OpenSearch", ("opensearch",), (9200, 9300, 9600)),
    "memcached": ("memcached", ("memcached",), (11211,)),
    "rabbitmq": ("RabbitMQ", ("rabbitmq",), (5672, 5671, 15672, 15671, 25672, 4369)),
    "kafka": ("Kafka", ("kafka", "kafka-native", "cp-kafka", "cp-server", "redpanda"), (9092,)),
    "zookeeper": ("ZooKeeper", ("zookeeper", "cp-zookeeper"), (2181, 2888, 3888)),
    "etcd": ("etcd", ("etcd",), (2379, 2380)),
    "minio": ("MinIO", ("minio",), (9000, 9001)),
    "nats": ("NATS", ("nats",), (4222, 6222, 8222)),
    "cassandra": ("Cassandra", ("cassandra", "scylla"), (9042, 7000, 7199)),
    "couchdb": ("CouchDB", ("couchdb",), (5984,)),
    "couchbase": ("Couchbase", ("couchbase", "couchbase-server"), (8091, 8092, 8093, 8094, 11210)),
    "neo4j": ("Neo4j", ("neo4j",), (7474, 7687)),
    "influxdb": ("InfluxDB", ("influxdb",), (8086,)),
    "clickhouse": ("ClickHouse", ("clickhouse", "clickhouse-server"), (8123, 9000, 9009)),
    "mssql": ("SQL Server", ("mssql/server", "azure-sql-edge", "mssql-server"), (1433,)),
    "oracle": ("Oracle Database", ("oracle/database", "oracle-xe", "oracle-free"), (1521,)),
    "cockroach": ("CockroachDB", ("cockroach",), (26257,)),
    "arangodb": ("ArangoDB", ("arangodb",), (8529,)),
    "rethinkdb": ("RethinkDB", ("rethinkdb",), (28015,)),
    "meilisearch": ("Meilisearch", ("meilisearch",), (7700,)),
    "solr": ("Solr", ("solr",), (8983,)),
    "qdrant": ("Qdrant", ("qdrant",), (6333, 6334)),
    "typesense": ("Typesense", ("typesense",), (8108,)),
}

IMAGE_KIND: dict[str, str] = {name: kind for kind, (_, names, _) in DATASTORES.items() for name in names}

# Ports that name a datastore or broker whatever image listens on them (a pooler on 5432 is still a
# database endpoint). Ports that many unrelated programs use (8080, 9000, 8000) are left out.
DATASTORE_PORTS: dict[int, str] = {
    5432: "PostgreSQL", 3306: "MySQL/MariaDB", 33060: "MySQL X protocol", 6379: "Redis", 27017: "MongoDB",
    27018: "MongoDB", 9200: "Elasticsearch/OpenSearch", 9300: "Elasticsearch transport", 5672: "AMQP (RabbitMQ)",
    15672: "RabbitMQ management", 11211: "memcached", 2379: "etcd", 2380: "etcd peer", 9092: "Kafka",
    2181: "ZooKeeper", 1433: "SQL Server", 1521: "Oracle Database", 5984: "CouchDB", 7687: "Neo4j Bolt",
    8086: "InfluxDB", 9042: "Cassandra", 26257: "CockroachDB", 28015: "RethinkDB", 8529: "ArangoDB",
    4222: "NATS", 8123: "ClickHouse HTTP",
}

# Debugger and profiler endpoints: whoever reaches them runs code in the process or reads its memory.
# port -> (label, words that must appear in the service's command, entrypoint or environment, or None
# when the port number is evidence enough). 5678 is also n8n's web port, 6060 and 5005 are used by
# ordinary servers: those need a word that shows the debugger.
DEBUG_PORTS: dict[int, tuple[str, tuple[str, ...] | None]] = {
    9229: ("Node.js inspector", None), 9230: ("Node.js inspector", None), 5858: ("legacy Node.js debugger", None),
    9222: ("Chrome DevTools", ("remote-debugging", "devtools", "chrome", "chromium")),
    5005: ("Java debugger (JDWP)", ("jdwp",)), 8000: ("Java debugger (JDWP)", ("jdwp",)),
    5678: ("Python debugpy", ("debugpy", "ptvsd")), 2345: ("Go delve debugger", ("dlv", "delve")),
    6060: ("Go pprof", ("pprof",)), 1099: ("Java RMI/JMX", ("jmxremote", "java.rmi")),
}

# --------------------------------------------------------------------------- authentication settings

TRUTHY = frozenset({"1", "y", "yes", "true", "on"})

POSTGRES_AUTH_METHOD = "POSTGRES_HOST_AUTH_METHOD"  # "trust" turns passwords off for every connection
# official mysql/mariadb images: any non-empty value allows an empty root password...
MYSQL_EMPTY_SWITCHES = ("MYSQL_ALLOW_EMPTY_PASSWORD", "MARIADB_ALLOW_EMPTY_ROOT_PASSWORD",
                        "MARIADB_ALLOW_EMPTY_PASSWORD")
# ...unless one of these gives root a password anyway
MYSQL_ROOT_PASSWORD_VARS = ("MYSQL_ROOT_PASSWORD", "MYSQL_ROOT_PASSWORD_FILE", "MYSQL_RANDOM_ROOT_PASSWORD",
                            "MARIADB_ROOT_PASSWORD", "MARIADB_ROOT_PASSWORD_FILE", "MARIADB_ROOT_PASSWORD_HASH",
                            "MARIADB_RANDOM_ROOT_PASSWORD")
BITNAMI_EMPTY_PASSWORD = "ALLOW_EMPTY_PASSWORD"  # bitnami images refuse to start without a password unless "yes"
BITNAMI_ANONYMOUS = {"zookeeper": "ALLOW_ANONYMOUS_LOGIN", "etcd": "ALLOW_NONE_AUTHENTICATION"}
REDIS_PASSWORD_VARS = ("REDIS_PASSWORD", "REDIS_PASSWORD_FILE", "VALKEY_PASSWORD", "VALKEY_PASSWORD_FILE",
                       "KEYDB_PASSWORD", "DFLY_requirepass")
REDIS_ARGS_VARS = ("REDIS_ARGS", "VALKEY_EXTRA_FLAGS", "REDIS_EXTRA_FLAGS")  # may carry --requirepass
REDIS_SERVERS = ("redis-server", "valkey-server", "keydb-server", "dragonfly", "redis-stack-server")
MONGO_ROOT_USER_VARS = ("MONGO_INITDB_ROOT_USERNAME", "MONGO_INITDB_ROOT_USERNAME_FILE",
                        "MONGODB_INITDB_ROOT_USERNAME", "MONGODB_INITDB_ROOT_USERNAME_FILE")
MONGO_SERVERS = ("mongod", "mongos")
# MongoDB Inc.'s own images (families of images.json): their entrypoint reads MONGODB_INITDB_ROOT_*
MONGODB_INC_IMAGES = ("mongodb/mongodb-community-server",)
# flags and files with which a mongod that runs without the image's entrypoint checks credentials
# (--auth; --keyFile implies it; a configuration file may set security.authorization)
MONGO_AUTH_FLAGS = r"--auth\b|--keyFile|--clusterAuthMode|--config|(?:^|\s)-f\s|\.conf\b|\.ya?ml\b"
# the program that is the datastore's server, when a service's entrypoint or command runs it itself
# (any image: the official images' entrypoints, which turn authentication on from variables, do not run)
SERVER_PROGRAMS = {"mongod": "mongo"}
ELASTIC_SECURITY = "xpack.security.enabled"  # off by default before Elasticsearch 8.0
ELASTIC_SECURE_SINCE = 8
OPENSEARCH_SECURITY_OFF = (("DISABLE_SECURITY_PLUGIN", "true"), ("plugins.security.disabled", "true"))
RABBITMQ_CREDENTIAL_VARS = ("RABBITMQ_DEFAULT_USER", "RABBITMQ_DEFAULT_PASS", "RABBITMQ_DEFAULT_PASS_FILE",
                            "RABBITMQ_DEFAULT_USER_FILE")
RABBITMQ_DEFAULT_CREDENTIALS = ("guest", "guest")  # the official image lets guest log in from other hosts
MINIO_CREDENTIAL_VARS = ("MINIO_ROOT_USER", "MINIO_ROOT_PASSWORD", "MINIO_ROOT_USER_FILE",
                         "MINIO_ROOT_PASSWORD_FILE", "MINIO_ACCESS_KEY", "MINIO_SECRET_KEY",
                         "MINIO_ACCESS_KEY_FILE", "MINIO_SECRET_KEY_FILE")
MINIO_DEFAULT_CREDENTIALS = ("minioadmin", "minioadmin")
NEO4J_AUTH = "NEO4J_AUTH"  # "none" turns authentication off
MEILI_MASTER_KEY = ("MEILI_MASTER_KEY", "MEILI_MASTER_KEY_FILE")
MEMCACHED_SASL_FLAGS = ("-S", "--enable-sasl")
MEMCACHED_PASSWORD_VARS = ("MEMCACHED_PASSWORD", "MEMCACHED_PASSWORD_FILE")  # bitnami: turns SASL on

# --------------------------------------------------------------------------- turning authentication on

# kind -> how clients of that server in a project carry its credentials (AUTH001's credentials fix
# rewires them): URL schemes of connection strings; variables that hold the user and the password
# it sets (an empty one gets the reference); `default`: the image's published default account, a
# literal the clients then hold and get the references for instead. A URL without a user gets
# `url_user` (Redis 6+ names its `default` ACL user; MySQL's root is the account the fix protects).
CLIENT_CREDENTIALS: dict[str, dict] = {
    "postgres": {"schemes": ("postgres", "postgresql", "postgis", "postgresql+psycopg2", "postgresql+psycopg",
                             "postgresql+asyncpg", "postgresql+pg8000"),
                 "password_vars": ("POSTGRES_PASSWORD", "PGPASSWORD", "DB_PASSWORD", "DATABASE_PASSWORD")},
    "redis": {"schemes": ("redis", "rediss"), "password_vars": ("REDIS_PASSWORD", "REDIS_PASS", "CACHE_PASSWORD")},
    "mysql": {"schemes": ("mysql", "mariadb", "mysql2", "mysqlx", "mysql+pymysql", "mysql+mysqldb", "mysql+aiomysql",
                          "mysql+asyncmy", "mysql+mysqlconnector", "mariadb+mariadbconnector"),
              "password_vars": ("MYSQL_ROOT_PASSWORD", "MARIADB_ROOT_PASSWORD", "DB_ROOT_PASSWORD"),
              "url_user": "root", "url_users": ("root",)},
    "mongo": {"schemes": ("mongodb",), "user_vars": ("MONGO_USERNAME", "MONGO_USER", "MONGODB_USERNAME", "MONGODB_USER",
                                                     "ME_CONFIG_MONGODB_ADMINUSERNAME"),
              "password_vars": ("MONGO_PASSWORD", "MONGODB_PASSWORD", "ME_CONFIG_MONGODB_ADMINPASSWORD")},
    "rabbitmq": {"schemes": ("amqp", "amqps"),
                 "user_vars": ("RABBITMQ_USER", "RABBITMQ_USERNAME", "RABBITMQ_DEFAULT_USER", "AMQP_USER", "AMQP_USERNAME"),
                 "password_vars": ("RABBITMQ_PASSWORD", "RABBITMQ_PASS", "RABBITMQ_DEFAULT_PASS", "AMQP_PASSWORD"),
                 "default": ("guest", "guest")},
    "minio": {"schemes": (), "user_vars": ("MINIO_ROOT_USER", "MINIO_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "S3_ACCESS_KEY",
                                           "S3_ACCESS_KEY_ID"),
              "password_vars": ("MINIO_ROOT_PASSWORD", "MINIO_SECRET_KEY", "AWS_SECRET_ACCESS_KEY", "S3_SECRET_KEY",
                                "S3_SECRET_ACCESS_KEY"),
              "default": ("minioadmin", "minioadmin")},
}
# words of a variable name that say it holds a password (or a user) of an account
PASSWORD_WORDS = ("PASSWORD", "PASS", "PWD", "SECRET")
USER_WORDS = ("USER", "USERNAME", "LOGIN", "ACCESS_KEY", "KEY_ID")
# OpenSearch 2.12 and later take the demo configuration's admin password from this variable (and
# refuse a weak one); earlier versions install admin/admin
OPENSEARCH_ADMIN_PASSWORD = "OPENSEARCH_INITIAL_ADMIN_PASSWORD"
OPENSEARCH_ADMIN_PASSWORD_SINCE = (2, 12)
OPENSEARCH_NO_DEMO = "DISABLE_INSTALL_DEMO_CONFIG"  # true: the security plugin has no certificates to start with
ELASTIC_PASSWORD = "ELASTIC_PASSWORD"  # the elastic superuser's password, read by the image at its first start
ELASTIC_FIXABLE_SINCE = 7  # security is in the free licence since 6.8; the fix starts at 7.x

# --------------------------------------------------------------------------- the Docker daemon

DOCKER_SOCKET_NAMES = ("docker.sock", "podman.sock", "containerd.sock", "docker_engine")  # last is the Windows pipe
DOCKER_PLAIN_PORT = 2375
DOCKER_TLS_PORT = 2376
DOCKER_DIND_IMAGES = ("docker",)  # with a tag containing "dind"
SOCKET_PROXIES = ("tecnativa/docker-socket-proxy", "linuxserver/socket-proxy", "wollomatic/socket-proxy")

# --------------------------------------------------------------------------- sensitive host paths

# host path -> (whole subtree?, severity read-write, severity read-only or None when read-only is fine, why)
SENSITIVE_HOST_PATHS: dict[str, tuple[bool, str, str | None, str]] = {
    "/": (False, "critical", "medium", "the host's whole filesystem"),
    "/etc": (False, "high", "medium", "the host's configuration, password hashes and sudoers"),
    "/etc/shadow": (True, "high", "high", "the host's password hashes"),
    "/etc/gshadow": (True, "high", "high", "the host's group password hashes"),
    "/etc/sudoers": (True, "high", None, "who may become root on the host"),
    "/etc/sudoers.d": (True, "high", None, "who may become root on the host"),
    "/etc/passwd": (True, "high", None, "the host's user accounts"),
    "/etc/group": (True, "high", None, "the host's groups"),
    "/etc/ssh": (True, "high", "medium", "the host's SSH server keys and configuration"),
    "/etc/docker": (True, "high", "medium", "the Docker daemon's configuration and TLS keys"),
    "/etc/kubernetes": (True, "high", "high", "Kubernetes credentials of the host"),
    "/etc/systemd": (True, "high", None, "services the host starts as root"),
    "/etc/cron.d": (True, "high", None, "jobs the host runs as root"),
    "/etc/crontab": (True, "high", None, "jobs the host runs as root"),
    "/etc/pam.d": (True, "high", None, "how the host authenticates logins"),
    "/etc/ld.so.preload": (True, "high", None, "libraries loaded into every host process"),
    "/proc": (True, "high", "medium", "the host's processes and kernel settings"),
    "/sys": (True, "high", "low", "the host's kernel and device settings"),
    "/boot": (True, "high", "low", "the host's kernel and boot loader"),
    "/dev": (False, "high", "medium", "the host's devices"),
    "/root": (False, "high", "medium", "root's home on the host (keys, shell history, credentials)"),
    "/home": (False, "high", "medium", "every user's home on the host"),
    "/var/run": (False, "critical", "critical", "the host's runtime sockets, the Docker socket among them"),
    "/run": (False, "critical", "critical", "the host's runtime sockets, the Docker socket among them"),
    "/var/run/containerd": (True, "critical", "critical", "the containerd socket"),
    "/run/containerd": (True, "critical", "critical", "the containerd socket"),
    "/var/run/dbus": (True, "medium", "medium", "the host's system D-Bus (it talks to systemd)"),
    "/run/dbus": (True, "medium", "medium", "the host's system D-Bus (it talks to systemd)"),
    "/var/lib/docker": (True, "high", "medium", "every container's filesystem and volume on the host"),
    "/var/lib/containerd": (True, "high", "medium", "every container's filesystem on the host"),
    "/var/lib/kubelet": (True, "high", "medium", "the kubelet's pods, secrets and credentials"),
    "/lib/modules": (True, "high", "low", "the host's kernel modules"),
    "/usr": (False, "high", "low", "the host's programs and libraries"),
    "/usr/bin": (False, "high", "low", "the host's programs"),
    "/usr/sbin": (False, "high", "low", "the host's system programs"),
    "/usr/lib": (False, "high", "low", "the host's libraries"),
    "/bin": (False, "high", "low", "the host's programs"),
    "/sbin": (False, "high", "low", "the host's system programs"),
    "/lib": (False, "high", "low", "the host's libraries"),
    "/lib64": (False, "high", "low", "the host's libraries"),
}

# credential folders and files in a home directory (matched on a host path's last components)
HOME_CREDENTIALS: dict[str, str] = {
    ".ssh": "SSH keys", ".aws": "AWS credentials", ".kube": "Kubernetes credentials",
    ".docker": "Docker registry credentials", ".gnupg": "GnuPG keys", ".azure": "Azure credentials",
    ".config/gcloud": "Google Cloud credentials", ".netrc": "stored passwords", ".git-credentials": "Git passwords",
    ".pgpass": "PostgreSQL passwords",
}

# --------------------------------------------------------------------------- shared volumes

# images that serve files they are given and do not write them
STATIC_SERVERS = ("nginx", "nginx-unprivileged", "openresty", "httpd", "apache", "caddy", "lighttpd")
# where those servers read content from
STATIC_ROOTS = ("/usr/share/nginx", "/var/www", "/usr/local/apache2/htdocs", "/srv", "/usr/share/caddy",
                "/etc/nginx", "/etc/caddy", "/etc/apache2", "/usr/local/apache2/conf", "/usr/local/openresty")
STATIC_SEGMENTS = ("static", "staticfiles", "assets", "public", "html", "htdocs", "www", "media")
# command words of one-shot jobs that prepare a volume (they write even when the rest only reads)
WRITING_COMMANDS = ("chown", "chmod", "cp", "mv", "rm", "mkdir", "tar", "rsync", "install", "ln", "touch",
                    "unzip", "restore", "migrate", "init")

# --------------------------------------------------------------------------- secrets in variables

# a variable is a secret when its name's last word is one of these (PGPASSWORD, DB_PASS, JWT_SECRET)...
SECRET_WORDS = ("PASSWORD", "PASSWD", "PASSPHRASE", "PASS", "PWD", "PW", "SECRET", "TOKEN", "APIKEY", "API_KEY",
                "CREDENTIALS", "CREDS", "PRIVATEKEY", "SECRETKEY", "AUTHKEY", "SECRET_KEY_BASE", "SECRET_ACCESS_KEY")
# words that count even glued to the word before them (PGPASSWORD, JWTSECRET, AUTHTOKEN)
SECRET_SUFFIXES = ("PASSWORD", "PASSWD", "PASSPHRASE", "SECRET", "TOKEN", "APIKEY", "PRIVATEKEY", "SECRETKEY")
# ...or when it ends in KEY preceded by one of these words (APP_KEY, SIGNING_KEY); an access key alone
# (AWS_ACCESS_KEY) names the account, its secret half is the secret
SECRET_KEY_QUALIFIERS = ("API", "PRIVATE", "SECRET", "ENCRYPTION", "SIGNING", "MASTER", "LICENSE",
                         "AUTH", "APP", "SESSION", "JWT", "HMAC", "CRYPTO", "ROOT", "ADMIN", "WEBHOOK")
# names that carry a secret word but name something else (a file, a length, a switch)
NOT_SECRET_SUFFIXES = ("_FILE", "_PATH", "_DIR", "_URL_FILE", "_HASH", "_LENGTH", "_LEN", "_MIN", "_MAX",
                       "_EXPIRY", "_EXPIRE", "_TTL", "_TIMEOUT", "_LIFETIME", "_ENABLED", "_REQUIRED", "_TYPE",
                       "_METHOD", "_POLICY", "_HEADER", "_NAME", "_ENDPOINT", "_URL", "_URI", "_HOST", "_PORT",
                       "_ID", "_USER", "_USERNAME", "_ALGORITHM", "_ISSUER", "_AUDIENCE")


# --------------------------------------------------------------------------- loopback addresses

LOOPBACK_IP = "127.0.0.1"  # where a published port is bound instead of every interface (PRT001's host_ip)
LOOPBACK_IP6 = "::1"

# --------------------------------------------------------------------------- configuration mounts

CONFIG_EXT = {".conf", ".cnf", ".cfg", ".ini", ".toml", ".yaml", ".yml", ".json", ".xml", ".properties",
              ".pem", ".crt", ".cert", ".key", ".pub", ".htpasswd", ".lua", ".rules", ".tmpl", ".template",
              ".caddyfile", ".vcl", ".sql", ".env"}
CONFIG_NAMES = {"caddyfile", "nginx.conf", "my.cnf", "haproxy.cfg", "htpasswd", "localtime", "timezone"}
WRITABLE_NAMES = {"acme.json", "docker.sock", "podman.sock"}
CONFIG_SAFE_DIRS = ("/docker-entrypoint-initdb.d",)
CONFIG_UNSAFE_DIRS = ("/etc/", "/usr/local/etc/", "/usr/share/nginx/html")
WRITABLE_DIRS = ("/etc/letsencrypt", "/etc/gitlab", "/etc/traefik/acme", "/etc/pihole", "/etc/dnsmasq.d",
                 "/etc/wireguard", "/etc/openvpn", "/etc/ssh", "/etc/webmin", "/etc/ipsec")


# the folders above as str.startswith tuples and sets (one call instead of a test per folder)
_WRITABLE_UNDER = tuple(d + "/" for d in WRITABLE_DIRS)
_CONFIG_SAFE_UNDER = tuple(d + "/" for d in CONFIG_SAFE_DIRS)
_CONFIG_UNSAFE_AT = frozenset(d.rstrip("/") for d in CONFIG_UNSAFE_DIRS)


@lru_cache(maxsize=4096)  # several rules ask about the same mounts
def config_mount(source: str, target: str) -> Applicability | None:
    """Whether a mount carries configuration the container only reads: SAFE or UNSAFE to mount it
    read-only, None when it should be left writable (or it is not configuration)."""
    target = target.rstrip("/") or "/"
    name = posixpath.basename(target).lower()
    if name in WRITABLE_NAMES or posixpath.basename(source).lower() in WRITABLE_NAMES:
        return None
    if target in WRITABLE_DIRS or target.startswith(_WRITABLE_UNDER) or target in ("/etc", "/"):
        return None
    ext = posixpath.splitext(name)[1]
    if name in CONFIG_NAMES or ext in CONFIG_EXT:
        return Applicability.SAFE
    if target in CONFIG_SAFE_DIRS or target.startswith(_CONFIG_SAFE_UNDER):
        return Applicability.SAFE
    if target.startswith(CONFIG_UNSAFE_DIRS) or target in _CONFIG_UNSAFE_AT:
        return Applicability.UNSAFE
    return None


# --------------------------------------------------------------------------- lookups


def datastore_kind(image_name: str) -> str | None:
    """Which datastore or broker an image is (a key of DATASTORES), or None. `image_name` is the
    repository name as Service.image_name() gives it. Names are matched whole, by their last
    component, as a known name with a version, then by image family (images.family: an alias, a
    derivative, a name pattern such as `*-postgresql`: wazuh/wazuh-indexer is OpenSearch,
    zulip/zulip-postgresql PostgreSQL)."""
    last = image_name.rsplit("/", 1)[-1]
    if not image_name or "$" in last:
        return None
    if image_name in IMAGE_KIND:
        return IMAGE_KIND[image_name]
    if last in IMAGE_KIND:
        return IMAGE_KIND[last]
    m = _VERSIONED.fullmatch(last)
    if m and m.group(1) in IMAGE_KIND:
        return IMAGE_KIND[m.group(1)]
    from .images import family

    name = family(image_name)
    return None if name is None or name == image_name else datastore_kind(name)


def server_program(words: list[str]) -> str | None:
    """The datastore kind whose server program a command line runs itself: the program's name, or a
    shell script (`sh -c "... exec mongod ..."`) that runs it; None otherwise."""
    if not words:
        return None
    program = words[0].rsplit("/", 1)[-1]
    if program in SERVER_PROGRAMS:
        return SERVER_PROGRAMS[program]
    if program in ("sh", "bash", "ash", "dash") and "-c" in words:
        script = " ".join(words[words.index("-c") + 1:])
        for name, kind in SERVER_PROGRAMS.items():
            if re.search(r"(?:^|[;&|\s(])(?:exec\s+)?(?:\S*/)?" + re.escape(name) + r"(?:$|\s)", script):
                return kind
    return None


_VERSIONED = re.compile(r"(.+?)-[0-9]+(?:\.[0-9]+)*")  # fullmatch: a known name with a version, `redis-7.2`
_SLASHES = re.compile(r"/+")


def _basename(path: str) -> str:
    path = _SLASHES.sub("/", path.replace("\\", "/")).rstrip("/")
    return path.rsplit("/", 1)[-1]


def socket_name(source: str, target: str) -> str | None:
    """The daemon socket a mount gives the container, or None. The source decides when it is known;
    a source that is only a variable is judged by where it is mounted."""
    resolved = resolve(source)
    for path in (resolved, source):
        if path is not None and _basename(path) in DOCKER_SOCKET_NAMES:
            return _basename(path)
    if resolved is None and ONLY_VARIABLE.fullmatch(source.strip()):
        name = _basename(target)
        return name if name in DOCKER_SOCKET_NAMES else None
    return None
# --------------------------------------------------------------------------- memory a service declares

# variables whose value is a JVM option string (-Xmx...), matched on the name's end: ES_JAVA_OPTS,
# OPENSEARCH_JAVA_OPTS, GRAYLOG_SERVER_JAVA_OPTS, LS_JAVA_OPTS, JAVA_TOOL_OPTIONS, _JAVA_OPTIONS,
# KAFKA_HEAP_OPTS, SONAR_WEB_JAVAOPTS, CATALINA_OPTS, Nexus' INSTALL4J_ADD_VM_PARAMS
JVM_OPTION_VARIABLES = ("JAVA_OPTS", "JAVA_OPTIONS", "JVM_OPTS", "JVM_OPTIONS", "JAVA_TOOL_OPTIONS", "JAVAOPTS",
                        "HEAP_OPTS", "CATALINA_OPTS", "JVM_ARGS", "JAVA_ARGS", "INSTALL4J_ADD_VM_PARAMS")
# images that start one JVM per variable: their heaps add up (SonarQube's web server, compute engine
# and search node)
SUMMED_JVM_PREFIXES = ("SONAR_",)
# variables holding a heap size as a plain size (Cassandra MAX_HEAP_SIZE, Solr SOLR_HEAP, Neo4j
# NEO4J_server_memory_heap_max__size, Graylog GRAYLOG_DATANODE_OPENSEARCH_HEAP, old ES_HEAP_SIZE)
HEAP_SIZE_WORDS = ("HEAP_SIZE", "HEAPSIZE", "HEAP_MAX", "MAX_HEAP", "_HEAP")
# (pattern with the size as group 1, unit of a bare number, what it sizes) in a command line
COMMAND_MEMORY_FLAGS = (
    (r"--maxmemory[= ]+([0-9.]+\s*[kmgtKMGT]?[bB]?)\b", "", "Redis maxmemory"),
    (r"(?:^|\s)(?:-m\s*|--memory-limit[= ])([0-9]+)\b", "m", "the memcached cache"),
    (r"--wiredTigerCacheSizeGB[= ]([0-9.]+)", "g", "the WiredTiger cache"),
    (r"shared_buffers\s*=\s*([0-9.]+\s*[kKmMgGtT]B)", "", "PostgreSQL shared_buffers"),
    (r"--innodb[-_]buffer[-_]pool[-_]size[= ]([0-9.]+[kmgtKMGT]?)", "", "the InnoDB buffer pool"),
)
# limits written for an image hardener has no profile for (unsafe: nothing shows they are enough)
DEFAULT_MEMORY = "1G"
DEFAULT_CPUS = "1.0"
# processes and threads: each thread counts. JVMs and ClickHouse run hundreds to thousands of
# threads; a fork bomb is still stopped far below the kernel's pid_max (32768 at least)
DEFAULT_PIDS = 4096

# --------------------------------------------------------------------------- users

# command words of containers that exist to change ownership or modes of files (init containers):
# they need root and the capabilities that come with it
PERMISSION_COMMANDS = ("chown", "chmod", "chgrp", "setfacl")

# setuid(-root) programs a process that is not root runs to gain privileges: no-new-privileges makes
# the kernel refuse exactly that gain (gosu, su-exec and setpriv are not here: they only lower privileges)
SETUID_PROGRAMS = ("sudo", "su", "doas", "pkexec", "newgrp", "fusermount", "fusermount3", "newuidmap", "newgidmap")

# --------------------------------------------------------------------------- ports

def _remote_ports() -> dict[int, str]:
    raw = json.loads(resources.files("hardener.data").joinpath("ports.json").read_text(encoding="utf-8"))
    return {int(port): entry[0] for port, entry in raw.items() if not port.startswith("_")}


# container port -> what it receives from other machines (hardener/data/ports.json, with sources)
REMOTE_PORTS: dict[int, str] = _remote_ports()

# --------------------------------------------------------------------------- Docker API clients

def _docker_clients() -> dict:
    import json
    from importlib import resources

    return json.loads(resources.files("hardener.data").joinpath("docker_clients.json").read_text(encoding="utf-8"))


DOCKER_CLIENTS: dict = _docker_clients()
SOCKET_PROXY_IMAGE: str = DOCKER_CLIENTS["proxy"]["image"]
SOCKET_PROXY_NAME = "docker-socket-proxy"  # the service the DKR001 fix adds (a free name is chosen)
SOCKET_PROXY_NETWORK = "docker-api"  # the internal network it shares with its clients
_CLIENT_BY_IMAGE = {image: dict(profile, name=name) for name, profile in DOCKER_CLIENTS["clients"].items()
                    for image in profile["images"]}


def docker_client(image_name: str) -> dict | None:
    """What hardener knows about a program that talks to the Docker API (docker_clients.json), by its
    image's repository name, whole or by its last component; None for an unknown program."""
    if image_name in _CLIENT_BY_IMAGE:
        return _CLIENT_BY_IMAGE[image_name]
    last = image_name.rsplit("/", 1)[-1]
    return _CLIENT_BY_IMAGE.get(last) if last in _CLIENT_BY_IMAGE else None
