"""Do not publish database, broker and debugger ports.

**What it finds.** A port published to the host's network (not bound to loopback) that belongs to a
datastore or broker, or to a debugger:
- any published port of a datastore or broker image (postgres, mysql/mariadb, redis/valkey, mongo,
  elasticsearch/opensearch, rabbitmq, kafka, zookeeper, etcd, memcached, minio, cassandra, neo4j...);
- a container port that is a well-known datastore port whatever the image (5432, 3306, 6379, 27017,
  9200, 5672, 11211, 2379, 9092, 2181, 1433, ...), since poolers and proxies in front of a database are
  database endpoints too;
- a debugger or profiler port: 9229 (Node.js inspector), 5005 (JDWP), 5678 (debugpy), 2345 (delve),
  6060 (pprof), 9222 (Chrome DevTools), 1099 (JMX/RMI).

**Why it matters.** Clients of a database usually run in the same project and reach it over the
Compose network by service name; publishing the port adds an entry point on every host interface that
nobody needs, and Docker's own firewall rules open it even where the host firewall says no (attack tree
4.1.1). Many datastores trust whoever can connect, and a debugger port is remote code execution by
design. Often the port does not need publishing at all: delete the `ports:` entry and let the clients
use `db:5432` on the project network.

**Example.**

    services:
      db:
        image: postgres:16
        ports:
          - "5432:5432"
      api:
        image: node:20
        command: node --inspect=0.0.0.0:9229 server.js
        ports:
          - "9229:9229"

**Fix.** Binds the port to loopback (`"127.0.0.1:5432:5432"`, `host_ip: 127.0.0.1` in long syntax),
with exactly the edit the `port-all-interfaces` rule (PRT001) makes, so the two rules never disagree
and the engine applies the edit once. It uses PRT001's `host_ip`/`host_ip6` options. A port bound to a
specific non-loopback address is reported (low) without a fix: somebody chose that address. *Unsafe*:
tools on other machines lose access.

**What may break.** Database GUIs, backup jobs or debuggers running on another machine. Reach them
through an SSH tunnel (`ssh -L 5432:127.0.0.1:5432 host`) instead.

**References.** CIS Docker Benchmark v1.2.0 5.8, 5.13; OWASP Docker Security Cheat Sheet rule #5a;
MITRE ATT&CK T1133 (External Remote Services), T1190 (Exploit Public-Facing Application).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .. import knowledge
from ..compose import split_outside_braces
from ..model import Applicability, Confidence, Severity
from ..yamltext import Alias, Edit, Map, Node, Scalar, Seq, add_entries, deref, replace_scalar
from . import ports_loopback
from .base import finding, make_fix, option
from .env_secrets import resolve

ID = "PRT002"
NAME = "datastore-port-published"
ATTACK_TREE = ("4.1.1",)
SEVERITY = Severity.MEDIUM
CONFIDENCE = Confidence.HIGH
FIX = Applicability.UNSAFE
OPTIONS: dict = {}

_ANY = {"0.0.0.0", "::", "[::]", ""}  # the addresses PRT001 rewrites in long syntax


# --------------------------------------------------------------------------- shared helpers

_split_outside_braces = split_outside_braces


def datastore_kind(svc) -> str | None:
    """Which datastore or broker the service's image is (a key of knowledge.DATASTORES), or None."""
    name = svc.image_name()
    last = name.rsplit("/", 1)[-1]
    if not name or "$" in last:
        return None
    if name in knowledge.IMAGE_KIND:
        return knowledge.IMAGE_KIND[name]
    if last in knowledge.IMAGE_KIND:
        return knowledge.IMAGE_KIND[last]
    m = re.fullmatch(r"(.+?)-[0-9]+(?:\.[0-9]+)*", last)
    return knowledge.IMAGE_KIND.get(m.group(1)) if m else None


def image_tag(svc) -> str | None:
    """The image's tag as written ('' when there is none), or None without an image."""
    image = svc.value("image")
    if image is None:
        return None
    last = _split_outside_braces(_split_outside_braces(image.strip(), "@")[0], "/")[-1]
    parts = _split_outside_braces(last, ":")
    return parts[1] if len(parts) > 1 else ""


@dataclass(frozen=True)
class Port:
    node: Node  # the ports item (a scalar in short syntax, a mapping in long syntax)
    label: str  # the mapping as written, for messages
    container: tuple[int, int] | None  # container port range, None when unknown
    scope: str  # "all" interfaces, "loopback", "address" (a specific one), "unknown" (a variable)
    edit: Edit | None  # the loopback binding PRT001 would write, None when it cannot

    def has(self, ports) -> int | None:
        """The first of the given ports this mapping publishes, or None."""
        if self.container is None:
            return None
        lo, hi = self.container
        return next((p for p in ports if lo <= p <= hi), None)

    @property
    def exposed(self) -> bool:
        return self.scope in ("all", "address")


def _range(text) -> tuple[int, int] | None:
    text = resolve(str(text).strip())
    m = re.fullmatch(r"([0-9]+)(?:-([0-9]+))?", text or "")
    if not m:
        return None
    return int(m.group(1)), int(m.group(2) or m.group(1))


def _scope(address: str | None) -> str:
    if address is None:
        return "all"
    value = resolve(address.strip())
    if value is None:
        return "unknown"
    value = value.strip("[]")
    if value in ("", "0.0.0.0", "::"):
        return "all"
    if value.startswith("127.") or value in ("::1", "localhost"):
        return "loopback"
    return "address"


def published_ports(ctx, svc, everywhere: bool = False) -> list[Port]:
    """The ports this service's mapping publishes (Compose appends the other files' and bases' ports,
    which are judged where they are written), or with everywhere=True the ports of every layer, with
    their exposure and PRT001's loopback edit (only for ports this mapping writes itself)."""
    key = ("published_ports", everywhere)  # several rules read them: parsed once per pass
    if key not in svc.cache:
        entries = svc.written("ports") if everywhere else [e for e in [svc.written_here("ports")] if e]
        svc.cache[key] = [port for entry in entries for port in _ports_of(ctx, svc, entry)]
    return svc.cache[key]


def _ports_of(ctx, svc, entry) -> list[Port]:
    editable = entry.own and not svc.shared and not isinstance(entry.value, Alias)
    ports = deref(entry.value)
    if not isinstance(ports, Seq):
        return []
    host_ip = option(ctx, ports_loopback.__name__, "host_ip")
    host_ip6 = option(ctx, ports_loopback.__name__, "host_ip6")
    out = []
    for item in ports.items:
        node = deref(item)
        fixable = editable and not isinstance(item, Alias)
        if isinstance(node, Scalar):
            spec = node.value.strip()
            body = spec.partition("/")[0]
            parts = ports_loopback.split_colons(body)
            if len(parts) == 1 and re.fullmatch(r"\$\{[^}]*\}|\$[A-Za-z_]\w*", body):
                continue  # the whole mapping is a variable
            if len(parts) >= 3:
                scope = _scope(":".join(parts[:-2]))
            elif len(parts) == 2 and ports_loopback._looks_like_address(parts[0]):
                scope = "unknown"  # a variable that may hold "address:port"; PRT001 leaves it alone
            else:
                scope = "all"
            new = ports_loopback.rebind(spec, host_ip, host_ip6) if fixable else None
            edit = replace_scalar(ctx.doc, node, new) if new is not None else None
            out.append(Port(node, node.value, _range(parts[-1]), scope, edit))
        elif isinstance(node, Map):
            target = deref(node.get("target"))
            ip = node.entry("host_ip")
            if ip is None:
                scope = "all"
                edit = add_entries(ctx.doc, node, {"host_ip": host_ip}) if fixable else None
            else:
                ip_value = deref(ip[1])
                text = ip_value.value if isinstance(ip_value, Scalar) else None
                scope = _scope(text) if text is not None else "unknown"
                edit = None
                if fixable and text is not None and text.strip() in _ANY and isinstance(ip[1], Scalar):
                    edit = replace_scalar(ctx.doc, ip[1], host_ip6 if ":" in text else host_ip)
            published = deref(node.get("published"))
            label = published.value if isinstance(published, Scalar) else "(random)"
            container = _range(target.value) if isinstance(target, Scalar) else None
            out.append(Port(node, label, container, scope, edit))
    return out


# --------------------------------------------------------------------------- the rule

def _texts(node):
    node = deref(node)
    if isinstance(node, Scalar):
        yield node.value
    elif isinstance(node, Seq):
        for item in node.items:
            yield from _texts(item)
    elif isinstance(node, Map):
        for k, v in node.pairs:
            if isinstance(k, Scalar):
                yield k.value
            yield from _texts(v)


def _debugger(svc, port: Port):
    """(port, label) of a debugger port the mapping publishes, or None."""
    words = None
    for number, (label, evidence) in knowledge.DEBUG_PORTS.items():
        if port.has((number,)) is None:
            continue
        if evidence is None:
            return number, label
        if words is None:
            keys = ("command", "entrypoint", "environment")
            words = " ".join(t for key in keys for t in _texts(svc.get(key))).lower()
        if any(w in words for w in evidence):
            return number, label
    return None


def _describe(svc, kind, port: Port):
    """(text, severity, advice) when the mapping is a datastore or debugger port, else None."""
    debug = _debugger(svc, port)
    if debug is not None:
        return (f"{debug[1]} port {debug[0]}", Severity.HIGH,
                "whoever reaches a debugger runs code in the process; bind it to 127.0.0.1 or drop it")
    advice = "clients on the Compose network reach it without that; drop the mapping or bind it to 127.0.0.1"
    if kind is not None:
        label = knowledge.DATASTORES[kind][0]
        lo = port.container[0] if port.container else None
        return (f"{label} port {lo}" if lo is not None and port.container[0] == port.container[1]
                else f"a port of its {label} image", SEVERITY, advice)
    known = port.has(knowledge.DATASTORE_PORTS)
    if known is not None:
        return f"port {known}, the usual port of {knowledge.DATASTORE_PORTS[known]}", SEVERITY, advice
    return None


def check(ctx):
    for svc in ctx.services:
        kind = datastore_kind(svc)
        for port in published_ports(ctx, svc):
            if not port.exposed:
                continue
            described = _describe(svc, kind, port)
            if described is None:
                continue
            what, severity, advice = described
            if port.scope == "address":
                where, severity, fix = "on a host address", Severity.LOW, None
            else:
                where, fix = "on every host interface", make_fix(FIX, "bind to loopback", port.edit)
            yield finding(__name__, ctx, port.node, f"service '{svc.name}' publishes {what} ({port.label}) {where}; "
                          f"{advice}", service=svc, key_path=("services", svc.name, "ports"), severity=severity,
                          fix=fix)
