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

from .. import knowledge
from ..model import Applicability, Confidence, Severity
from ..views import Port, texts
from .base import finding, loopback, make_fix

ID = "PRT002"
NAME = "datastore-port-published"
ATTACK_TREE = ("4.1.1",)
SEVERITY = Severity.MEDIUM
CONFIDENCE = Confidence.HIGH
FIX = Applicability.UNSAFE
OPTIONS: dict = {}


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
            words = " ".join(t for key in keys for t in texts(svc.get(key))).lower()
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
        kind = svc.datastore_kind()
        for port in svc.ports():
            if not port.here or not port.exposed:
                continue
            described = _describe(svc, kind, port)
            if described is None:
                continue
            what, severity, advice = described
            if port.scope == "address":
                where, severity, fix = "on a host address", Severity.LOW, None
            else:
                where, fix = "on every host interface", make_fix(FIX, "bind to loopback", port.bind_edit(ctx.doc, loopback(ctx), ctx.env))
            yield finding(__name__, ctx, port.node, f"service '{svc.name}' publishes {what} ({port.label}) {where}; "
                          f"{advice}", service=svc, key_path=("services", svc.name, "ports"), severity=severity,
                          fix=fix)
