"""Keep back-end services off the shared network.

**What it finds.**
- services that leave the project's networks: `network_mode: bridge` (Docker's legacy `docker0`
  bridge, shared with every container on the host started without a network), `network_mode: host`,
  `service:` or `container:` (they share another network stack);
- a flat project: two or more services on the implicit `default` network, where every container can
  reach every port of every other one.

**Why it matters.** Once an attacker controls one container, everything on its network is in reach:
databases, caches and brokers that trust their network and often run without authentication (attack
tree 2.1.1). Segmenting the network limits the blast radius to what the service really talks to.

**Example.**

    services:
      web:
        image: myorg/web
        ports: ["8080:8080"]
        environment:
          DATABASE_URL: postgres://app@db:5432/app
      db:
        image: postgres:16
      cache:
        image: redis:7

**Fix.** Compose already gives each project its own bridge network, so renaming that network would
change nothing. The fix segments it instead: datastores and brokers (postgres, mysql, redis, mongo,
rabbitmq, elasticsearch, kafka, ...) move to a declared back-end network (`backend`), and only the
services that reference them (`depends_on`, `links`, or the service name used as a host in
`environment`, `command` or `entrypoint`, also when written through an anchor they merge) join it as
well as `default`; everything else (an exporter, a reverse proxy, a service silenced with `# hardener:
ignore`) stays on `default` only and no longer reaches them. The network is `internal: true` (no way
out to the internet either) when no back end that moves publishes a port; when one does (`ports:`,
with a literal, a `${VAR}` or a loopback address), it is a plain bridge network, because Docker
publishes no port of a container whose only network is internal: the port keeps working, the
neighbours lose their way in. Bind or drop the port (PRT002, AUTH001) and the next run can make it
internal by hand. A back end with no client in the file, or with a client hardener may not edit (a
silenced one, one whose networks are written elsewhere), is left where it is. `network_mode: bridge` is removed so the service joins the
project network. Both fixes are *unsafe*; `host`, `service:` and `container:` modes are reported only.

In a project of several files the flat-network finding is reported once, in the first file
that shows it.

**What may break.** A client that finds its back end through a file the tool cannot see (an
`env_file`, a config file) loses access to it; a back end that needs the internet (replication to an
outside host, plugin downloads) loses egress on an internal network.

**References.** OWASP Docker Security Cheat Sheet rule #5 (be mindful of inter-container connectivity); CIS Docker Benchmark, "Ensure network traffic is restricted between containers on the default bridge".
"""
from __future__ import annotations

import re

from ..compose import as_str_list, seq_items
from ..model import Applicability, Confidence, Severity
from ..views import texts
from ..yamltext import Map, Scalar, Seq, add_entries, add_items, deref, fill_null, remove_entry, scalar_value
from .base import finding, make_fix

ID = "NET001"
NAME = "flat-network"
ATTACK_TREE = ("2.1.1",)
SEVERITY = Severity.MEDIUM
CONFIDENCE = Confidence.MEDIUM
FIX = Applicability.UNSAFE
OPTIONS: dict = {"network": "backend"}

def _is_backend(svc) -> bool:
    return svc.datastore_kind() is not None and not svc.shared


def _publishes(svc) -> bool:
    """Whether the service publishes a port in any layer (a variable or a loopback address counts)."""
    return any(seq_items(w.value) for w in svc.written("ports"))


def references(svc, name: str) -> bool:
    """Whether the service names another one: in depends_on, links, or as a host in its settings."""
    if name in _named(svc):
        return True
    if name and not _BOUNDARY.search(name):
        return False  # _named found every such name already
    host = re.compile(r"(?:^|[@/=\s,;\"'(])" + re.escape(name) + r"(?:$|[:/\s,;\"')])")
    return any(host.search(t) for t in _setting_texts(svc))


# A name without these characters is named in a text exactly when it is one of the text's words:
# a run of other characters after the start or one of the left delimiters, before the end or one of
# the right ones (the delimiters `references` used to search each name with, one name at a time).
_BOUNDARY = re.compile(r"[@/=\s,;\"'(:)]")
_WORD = re.compile(r"(?:^|(?<=[@/=\s,;\"'(]))[^@/=\s,;\"'(:)]+(?=$|[:/\s,;\"')])")


def _setting_texts(svc):
    return (t for key in ("environment", "command", "entrypoint", "healthcheck") for t in texts(svc.get(key)))


def _named(svc) -> set:
    """Every name the service refers to: depends_on, links, and the words of its settings."""
    deps = svc.get("depends_on")
    out = set(as_str_list(deps) if isinstance(deps, Seq) else
              [k.value for k, _ in deps.pairs if isinstance(k, Scalar)] if isinstance(deps, Map) else [])
    out.update(link.split(":")[0] for link in as_str_list(svc.get("links")))
    for t in _setting_texts(svc):
        out.update(_WORD.findall(t))
    return out


def check(ctx):
    services = ctx.services
    for svc in services:
        mode = svc.value("network_mode")
        if mode is None:
            continue
        entry = svc.entry("network_mode")
        if mode == "bridge":
            edit = remove_entry(ctx.doc, svc.node, "network_mode") if entry.own else None
            yield finding(__name__, ctx, entry.value, f"service '{svc.name}' uses Docker's legacy default bridge, "
                          "shared with every container on the host", service=svc,
                          key_path=("services", svc.name, "network_mode"),
                          fix=make_fix(FIX, "remove network_mode: bridge", edit))
        elif mode == "host" or mode.startswith(("service:", "container:")):
            what = "the host's network stack" if mode == "host" else f"the network stack of {mode.split(':', 1)[1]}"
            yield finding(__name__, ctx, entry.value, f"service '{svc.name}' shares {what} (network_mode: {mode})",
                          service=svc, key_path=("services", svc.name, "network_mode"),
                          severity=Severity.HIGH if mode == "host" else Severity.LOW)
    yield from _flat(ctx, services)


def _flat(ctx, services):
    implicit = [s for s in services if s.networks().implicit]
    if len(implicit) < 2:
        return
    groups, quiet = {}, ctx.silenced.get(ID, frozenset())
    backends = [s for s in implicit if _is_backend(s)]
    # each service's names are read once, not once per back end (a file of 4,000 services has 1,200)
    plain = {b.name for b in backends if b.name and not _BOUNDARY.search(b.name)}
    users: dict = {}
    for s in services if backends else ():
        for name in _named(s) & plain:
            users.setdefault(name, []).append(s)
    for backend in backends:
        if backend.name in plain:
            clients = [s for s in users.get(backend.name, ()) if s is not backend]
        else:
            clients = [s for s in services if s is not backend and references(s, backend.name)]
        if clients:
            groups[backend.name] = (backend, clients)
    # a silenced service is never edited: leave out back ends that are silenced or have a silenced client
    movable = {n: g for n, g in groups.items() if n not in quiet and not any(c.name in quiet for c in g[1])}
    fix = _segment(ctx, services, movable)
    if not groups:
        # at a service whose missing settings are reported here (not one a later file completes)
        first = next((s for s in implicit if not s.partial), None)
        if first is None or any(map(_flat_in, ctx.earlier_files())):
            return  # a finding about the whole project: reported once, in the first file that shows it
        yield finding(__name__, ctx, first.key, f"{len(implicit)} services share the flat default network; "
                      "declare networks so that each service reaches only what it talks to",
                      service=first, key_path=("networks",), severity=Severity.LOW)
        return
    for name, (backend, clients) in groups.items():
        names = ", ".join(c.name for c in clients)
        others = len(implicit) - 1
        talk = "talks" if len(clients) == 1 else "talk"
        yield finding(__name__, ctx, backend.key, f"service '{backend.name}' sits on the flat default network "
                      f"with {others} other service{'s' * (others != 1)}; only {names} {talk} to it (seen in "
                      "depends_on, links or the settings that name it)", service=backend,
                      key_path=("services", backend.name, "networks"), fix=fix if name in movable else None)


def _flat_in(services) -> bool:
    """Whether a file reports the project's flat network: two or more of its services are on the
    implicit network and one of them is judged in it (not partial)."""
    implicit = [s for s in services if s.networks().implicit]
    return len(implicit) >= 2 and any(not s.partial for s in implicit)


def _segment(ctx, services, groups):
    if not groups:
        return None
    backends = {b.name for b, _ in groups.values()}
    clients = {c.name: c for _, cs in groups.values() for c in cs if c.name not in backends}
    stays = [s for s in services if s.networks().implicit and s.name not in backends]
    if not stays:
        return None  # nothing would stay on default: its network would vanish from the project
    published = sorted(b.name for b, _ in groups.values() if _publishes(b))
    name, declared = _network_name(ctx, internal=not published)
    edits = [add_entries(ctx.doc, b.node, {"networks": [name]}) for b, _ in groups.values()]
    edits += [_join(ctx, c, name) for c in clients.values() if name not in c.networks().names]
    if not declared:
        edits.append(_declare(ctx, {name: {"internal": True} if not published else {"driver": "bridge"}}))
    if published:
        return make_fix(FIX, f"move {', '.join(sorted(backends))} to a '{name}' network shared only with "
                        f"{'its' if len(backends) == 1 else 'their'} clients (not internal: "
                        f"{', '.join(published)} publish{'es' if len(published) == 1 else ''} a port)", *edits)
    return make_fix(FIX, f"move {', '.join(sorted(backends))} to an internal '{name}' network", *edits)


def _network_name(ctx, internal: bool = True):
    """(name, already declared): reuse an internal network of that name (when the network is to be
    internal), else pick a free one."""
    top = ctx.top("networks")
    declared = {k.value: deref(v) for k, v in top.pairs if isinstance(k, Scalar)} if isinstance(top, Map) else {}
    for name in (ctx.options.get(ID, {}).get("network", OPTIONS["network"]), "backend-internal", "hardener-backend"):
        if name not in declared:
            return name, False
        node = declared[name]
        if internal and isinstance(node, Map) and scalar_value(node.get("internal")) == "true":
            return name, True
    return "hardener-backend-2", False


def _join(ctx, svc, name):
    """Edit that puts a client on the back-end network too, or None when it cannot be written."""
    if svc.networks().implicit:
        return add_entries(ctx.doc, svc.node, {"networks": ["default", name]})
    networks = svc.networks()
    entry = networks.networks
    if entry is None or not entry.own or networks.mode:
        return None
    value = entry.value
    if isinstance(value, Seq):
        return add_items(ctx.doc, value, [name])
    if isinstance(value, Map):
        return add_entries(ctx.doc, value, {name: {}})
    return None


def _declare(ctx, declaration):
    root_entry = ctx.doc.root.entry("networks")
    if root_entry is None:
        return add_entries(ctx.doc, ctx.doc.root, {"networks": declaration})
    if isinstance(root_entry[1], Map):
        return add_entries(ctx.doc, root_entry[1], declaration)
    if isinstance(root_entry[1], Scalar):
        return fill_null(ctx.doc, root_entry[0], root_entry[1], declaration)
    return None
