"""Do not hand a container the Docker daemon.

**What it finds.**
- The Docker socket mounted into a service, in any spelling: `/var/run/docker.sock`, `/run/docker.sock`,
  `//var/run/docker.sock`, a rootless `/run/user/1000/docker.sock`, `${DOCKER_SOCK:-/var/run/docker.sock}`,
  a variable source mounted at `.../docker.sock`, long syntax `source:`; also the Podman and containerd
  sockets and Docker's Windows named pipe (`docker_engine`), which give the same control. Known
  socket-proxy images (`tecnativa/docker-socket-proxy`, `linuxserver/socket-proxy`,
  `wollomatic/socket-proxy`) are exempt: holding the socket is their job.
- `DOCKER_HOST=tcp://...` in a service's environment (map or list form) when nothing shows TLS:
  neither `DOCKER_TLS_VERIFY` nor port 2376. A `DOCKER_HOST` that points at a socket-proxy service of
  the same file is the recommended pattern and is not reported.
- Port 2375, the Docker API without TLS, published to the host's network.
- `docker:dind` with `DOCKER_TLS_CERTDIR` set explicitly empty: the inner daemon then serves its API on
  2375 without TLS to everything on its networks.

**Why it matters.** The Docker API is root on the host: whoever can talk to it can start a container
with `privileged: true` and the host's `/` mounted, and is out (attack tree 1.2.2). Mounting the socket
moves that power into the container, so any bug in the service (a web UI, a CI job, a dashboard) becomes a
host compromise. `:ro` does not help: a read-only bind mount stops writes to the socket *file*
(renaming, deleting it), but connecting to a Unix socket and sending API requests through it is not a
file write, so every API call still works. A TCP daemon without TLS has no authentication at all.

**Example.**

    services:
      dashboard:
        image: portainer/portainer-ce
        volumes:
          - /var/run/docker.sock:/var/run/docker.sock:ro
      ci:
        image: docker:27-cli
        environment:
          DOCKER_HOST: tcp://dind:2375

**Fix.** For a published 2375: binds it to loopback (`"127.0.0.1:2375:2375"`), the same edit as
PRT001, *unsafe*.

With the option `socket_proxy` (`[tool.hardener.options.DKR001] socket_proxy = true`), `fix
--unsafe-fixes` also replaces socket mounts with a **filtering socket proxy**. It is opt-in because it
adds a service and a third-party image to your stack (`ghcr.io/tecnativa/docker-socket-proxy`, pinned
by tag) and changes how the clients reach Docker:
- ONE proxy service (`docker-socket-proxy`) holds the socket, read-only, on an `internal: true`
  network (`docker-api`) shared only with its clients, and publishes no port;
- it enables only the API sections the clients need, from hardener's client table
  (`hardener/data/docker_clients.json`): Traefik reads containers and networks (services, tasks and
  nodes too in Swarm mode); Watchtower also needs images and POST (it pulls and recreates); Dozzle
  reads containers and info; autoheal needs containers and POST. Several clients share the proxy with
  the union of their needs (the message says so); everything else (exec, build, volumes, secrets,
  and POST unless a client needs it) is refused with 403;
- each client loses the mount and joins the proxy's network; it is pointed at
  `tcp://docker-socket-proxy:2375` its own way: `--providers.docker.endpoint=...` in Traefik's
  command (or `TRAEFIK_PROVIDERS_DOCKER_ENDPOINT` when its static configuration comes from
  variables), `DOCKER_SOCK` for autoheal, `DOCKER_HOST` for the rest;
- an unknown client gets a read-only proxy (only EVENTS, PING and VERSION) and the message says what
  to turn on (`CONTAINERS=1` to list containers, `POST=1` to change anything).

No proxy is made, and the message says why, for programs that need most of the API (Portainer, Dockge,
CI runners such as GitLab Runner, GitHub Actions runners, Woodpecker, Drone, Jenkins: a proxy would
protect little), for programs configured by a file of their own (Homepage's `docker.yaml`), when the
project already has a socket proxy, when the services mount the socket from different paths, or when
a client's volumes, environment, command or networks are written through an anchor or another file.

With the option `dind_tls` (`[tool.hardener.options.DKR001] dind_tls = true`), `fix
--unsafe-fixes` turns TLS back on for `docker:dind` with `DOCKER_TLS_CERTDIR: ""`:
`DOCKER_TLS_CERTDIR: /certs`, a named volume (`<service>-certs`) mounted at `/certs/client` where
dind writes the client certificates, `DOCKER_TLS_SAN: DNS:<service>` when the service is not named
`docker` (the certificate names only `docker`, `localhost` and the container), a published 2375
becomes 2376, and each service of the file whose `DOCKER_HOST` is `tcp://<service>:2375` moves to
`tcp://<service>:2376` with `DOCKER_TLS_VERIFY=1`, `DOCKER_CERT_PATH=/certs/client` and the volume
mounted read-only. Clients outside the file need the certificates too (the message says so); when a
setting is written through an anchor or another file, the message says that no fix could be made.

What you do next, after either: `docker compose up -d` recreates the changed services; watch the
clients' logs for `403 Forbidden` (a section the proxy refuses) and turn that section on in the
proxy's `environment` (`IMAGES=1`, `POST=1`...) only if the client really needs it; with dind TLS,
give clients outside the file the certificates from the `<service>-certs` volume. Both options stay
off by default: hardener's corpus measure counts an added service and a changed client environment
as a change of the stack, and so should you: review the diff before committing it.

Everything else is reported: the cure is a design change.
- Prefer tools that do not need the daemon at all (rootless builders such as BuildKit or kaniko for CI).

**What may break.** The tools that manage containers (Portainer, Traefik's Docker provider,
Watchtower, CI runners) need some API access; a proxy restricted too tightly makes them fail with
403 errors: enable the sections their logs ask for. A client that also reads the socket's file
itself, or talks to Docker in another way than the endpoint setting hardener knows, loses access.

**References.** CIS Docker Benchmark v1.2.0 5.31; OWASP Docker Security Cheat Sheet rule #1; MITRE
ATT&CK T1609 (Container Administration Command), T1610 (Deploy Container), T1611 (Escape to Host).
"""
from __future__ import annotations

import re

from dataclasses import dataclass

from .. import knowledge
from ..model import Applicability, Confidence, Severity
from ..syntax import resolve
from ..views import env_edit, list_append, texts
from ..yamltext import (Alias, Map, Scalar, Seq, add_entries, add_items, deref, fill_null, remove_entry, remove_item,
                        replace_scalar)
from .base import finding, loopback, make_fix, option

ID = "DKR001"
NAME = "docker-daemon-access"
ATTACK_TREE = ("1.2.2",)
SEVERITY = Severity.CRITICAL
CONFIDENCE = Confidence.HIGH
FIX = Applicability.UNSAFE
OPTIONS: dict = {"socket_proxy": False, "dind_tls": False}

_FALSE = {"", "0", "false", "no", "off"}


def is_socket_proxy(svc) -> bool:
    return svc.image_name() in knowledge.SOCKET_PROXIES


def mounts(svc):
    """(mount, source, target, read_only) of every bind-like mount written in the service's mapping
    that survives Compose's merge by target (other files' and bases' mounts are judged where they
    are written)."""
    for m in svc.mounts():
        if not m.here:
            continue
        if m.spec is not None:
            if m.windows or len(m.parts) < 2:
                continue  # a Windows drive path, or an anonymous volume
        elif m.kind not in ("bind", "npipe") or m.source is None or m.target is None:
            continue
        yield m, m.source, m.target, m.read_only


def _docker_host(value: str):
    """(host, port) of a tcp:// DOCKER_HOST, or None."""
    m = re.match(r"(?i)tcp://(\[[^\]]*\]|[^:/]*)(?::([0-9]+))?", value.strip())
    if not m:
        return None
    return m.group(1), int(m.group(2)) if m.group(2) else None


def _is_dind(svc) -> bool:
    tag = svc.image_tag() or ""
    return svc.image_name() in knowledge.DOCKER_DIND_IMAGES and "dind" in tag


def check(ctx):
    proxies = {s.name for s in ctx.services if is_socket_proxy(s)}
    sockets = []  # (service, mount, socket name)
    for svc in ctx.services:
        if svc.name not in proxies:
            sockets += [(svc, m, name) for m, source, target, _ in mounts(svc)
                        if (name := knowledge.socket_name(source, target)) is not None]
    plan = None
    if sockets and option(ctx, __name__, "socket_proxy"):
        if proxies:
            plan = _Plan(None, "", (), {}, {s.name: f"the project already has a socket proxy ({', '.join(sorted(proxies))}): "
                                           "point it at that one (never two proxies for one socket)" for s, _, _ in sockets})
        else:
            plan = _plan(ctx, [(s, m) for s, m, name in sockets if name == "docker.sock"])
    for svc, m, name in sockets:
        note = "; ':ro' does not help, API calls through a socket are not file writes" if m.read_only else ""
        fix = plan.fix if plan is not None and svc.name in plan.wired else None
        yield finding(__name__, ctx, m.node, f"service '{svc.name}' mounts the daemon socket {name} "
                      f"({m.source}): whoever controls this container controls the host{note}. Give it a "
                      f"filtering socket proxy instead{_proxy_note(plan, svc)}", service=svc,
                      key_path=("services", svc.name, "volumes"), fix=fix)
    dind_tls = {}  # dind service -> (fix, note) when the dind_tls option asks for TLS
    if option(ctx, __name__, "dind_tls"):
        for svc in ctx.services:
            certdir = svc.environment().get("DOCKER_TLS_CERTDIR")
            if _is_dind(svc) and certdir is not None and certdir.raw is not None and resolve(certdir.raw) == "":
                dind_tls[svc.name] = _dind_tls(ctx, svc)
    for svc in ctx.services:
        path = ("services", svc.name)
        env = svc.environment()
        host = env.get("DOCKER_HOST")
        value = resolve(host.raw) if host is not None and host.raw is not None else None
        parsed = _docker_host(value) if value else None
        if parsed is not None:
            verify = env.get("DOCKER_TLS_VERIFY")
            flag = "" if verify is None else resolve(verify.raw) if verify.raw is not None else None
            tls = flag is None or flag.strip().lower() not in _FALSE or parsed[1] == knowledge.DOCKER_TLS_PORT
            if not tls and parsed[0] not in proxies:
                tls_fix, note = dind_tls.get(parsed[0], (None, ""))
                yield finding(__name__, ctx, host.node, f"service '{svc.name}' talks to a Docker daemon over plain "
                              f"TCP ({value.strip()}) without TLS: that API has no authentication{note}", service=svc,
                              key_path=path + ("environment", "DOCKER_HOST"), severity=Severity.HIGH, fix=tls_fix)
        for port in svc.ports():
            if port.here and port.exposed and port.has((knowledge.DOCKER_PLAIN_PORT,)) is not None:
                yield finding(__name__, ctx, port.node, f"service '{svc.name}' publishes the unencrypted Docker API "
                              f"port 2375 ({port.label}) to the host's network: anyone who reaches it is root on "
                              "the host", service=svc, key_path=path + ("ports",),
                              fix=make_fix(FIX, "bind to loopback", port.bind_edit(ctx.doc, loopback(ctx))) if port.scope == "all" else None)
        certdir = env.get("DOCKER_TLS_CERTDIR")
        if _is_dind(svc) and certdir is not None and certdir.raw is not None and resolve(certdir.raw) == "":
            tls_fix, note = dind_tls.get(svc.name, (None, ""))
            yield finding(__name__, ctx, certdir.node, f"service '{svc.name}' runs Docker-in-Docker with TLS "
                          "turned off (DOCKER_TLS_CERTDIR is empty): its daemon answers anyone on its networks "
                          f"on port 2375{note}", service=svc, key_path=path + ("environment", "DOCKER_TLS_CERTDIR"),
                          severity=Severity.HIGH, fix=tls_fix)


# --------------------------------------------------------------------------- the socket proxy fix

@dataclass
class _Client:
    svc: object
    mount: object  # views.Mount of the socket
    profile: dict | None  # the client's entry in docker_clients.json, None when unknown
    sections: tuple[str, ...] = ()
    why_not: str | None = None  # why this client gets no proxy (a report instead)

    @property
    def label(self) -> str:
        return self.profile["label"] if self.profile else f"'{self.svc.name}'"


def _client(svc, mount) -> _Client:
    profile = knowledge.docker_client(svc.image_name())
    c = _Client(svc, mount, profile)
    if profile is None:
        return c  # unknown: a read-only proxy, and the message says what to enable
    if profile.get("manager"):
        c.why_not = (f"{profile['label']} needs most of the Docker API (it starts, builds or execs into "
                     "containers), so a proxy would protect little: run it on a host of its own or give it a "
                     "rootless or remote daemon")
        return c
    if profile.get("endpoint") == "config":
        c.why_not = (f"{profile['label']} takes its Docker endpoint from its own configuration file, which "
                     f"hardener cannot see: with a socket proxy, set {profile.get('config')} there")
        return c
    sections = list(profile.get("sections", ()))
    words = " ".join(texts(svc.get("command"))) + " " + " ".join(svc.environment())
    if any(w in words.lower() for w in profile.get("swarm_words", ())):
        sections += profile.get("swarm_sections", [])
    c.sections = tuple(dict.fromkeys(sections))
    return c


def _traefik_endpoint(ctx, svc, url: str):
    """Traefik reads its static configuration from one source: flags when the command has any, else
    TRAEFIK_* variables, else a file. Edit for the first two; None for a file (or an unusual command)."""
    command = svc.entry("command")
    flag = "--providers.docker.endpoint="
    if command is not None:
        seq = deref(command.value)
        if not command.editable or not isinstance(seq, Seq):
            return None
        for item in seq.items:
            node = deref(item)
            if isinstance(node, Scalar) and node.value.strip().startswith(flag):
                return None if isinstance(item, Alias) else replace_scalar(ctx.doc, node, flag + url)
        if any(isinstance(deref(i), Scalar) and deref(i).value.strip().startswith("--") for i in seq.items):
            return add_items(ctx.doc, seq, [flag + url])
        return None
    if any(name.startswith("TRAEFIK_") for name in svc.environment()):
        return env_edit(ctx.doc, svc, "TRAEFIK_PROVIDERS_DOCKER_ENDPOINT", url)
    return None


def _point(ctx, c: _Client, url: str):
    """(edit, why not) that points the client at the proxy."""
    endpoint = c.profile.get("endpoint", "env") if c.profile else "env"
    if endpoint == "traefik":
        edit = _traefik_endpoint(ctx, c.svc, url)
        return edit, ("its static configuration is not in command flags or TRAEFIK_* variables (a traefik.yml?): "
                      f"set providers.docker.endpoint to {url} there and give it the proxy by hand")
    variable = c.profile.get("variable", "DOCKER_HOST") if c.profile else "DOCKER_HOST"
    return env_edit(ctx.doc, c.svc, variable, url), f"its environment is written through an anchor or another file: set {variable} by hand"


def _unmount(ctx, c: _Client):
    """Edit that takes the socket mount out of the client (the whole `volumes` key when it was the
    only item)."""
    m = c.mount
    if not m.editable or m.spec is None:
        return None
    seq = deref(m.written.value)
    if not isinstance(seq, Seq):
        return None
    if len(seq.items) == 1:
        return remove_entry(ctx.doc, m.written.parent, "volumes") if m.written.own else None
    return remove_item(ctx.doc, seq, m.item)


def _join(ctx, svc, network: str):
    """Edit that puts the client on the proxy's network as well as where it is."""
    if svc.entry("network_mode") is not None:
        return None
    entry = svc.entry("networks")
    if entry is None:
        if svc.entry("extends") is not None:
            return None
        return add_entries(ctx.doc, svc.node, {"networks": ["default", network]})
    if not entry.editable:
        return None
    value = deref(entry.value)
    if isinstance(value, Seq):
        return add_items(ctx.doc, value, [network])
    if isinstance(value, Map):
        return add_entries(ctx.doc, value, {network: {}})
    return None


def _free(name: str, taken) -> str:
    if name not in taken:
        return name
    n = 2
    while f"{name}-{n}" in taken:
        n += 1
    return f"{name}-{n}"


def _declare_network(ctx, name: str):
    entry = ctx.doc.root.entry("networks")
    declaration = {name: {"internal": True}}
    if entry is None:
        return add_entries(ctx.doc, ctx.doc.root, {"networks": declaration})
    if isinstance(entry[1], Map):
        return add_entries(ctx.doc, entry[1], declaration)
    if isinstance(entry[1], Scalar) and entry[1].is_null:
        return fill_null(ctx.doc, entry[0], entry[1], declaration)
    return None


@dataclass
class _Plan:
    fix: object
    proxy: str
    sections: tuple[str, ...]
    wired: dict  # service name -> _Client
    notes: dict  # service name -> why it gets no proxy


def _plan(ctx, sockets) -> _Plan | None:
    """One proxy for the Docker socket that the clients in `sockets` ([(svc, mount)]) mount: the
    proxy service, each client rewired to it, the internal network they share."""
    clients = [_client(svc, mount) for svc, mount in sockets]
    notes = {c.svc.name: c.why_not for c in clients if c.why_not}
    wanted = [c for c in clients if not c.why_not]
    sources = {c.mount.parts[0] for c in wanted if c.mount.spec is not None}
    if not wanted or len(sources) != 1:
        if len(sources) > 1:
            for c in wanted:
                notes[c.svc.name] = "the services mount the socket from different paths: give them one proxy by hand"
        return _Plan(None, "", (), {}, notes) if notes else None
    source = sources.pop()
    services = ctx.doc.root.get("services")
    taken = {k.value for k, _ in deref(services).pairs if isinstance(k, Scalar)} if isinstance(deref(services), Map) else set()
    top = ctx.top("networks")
    declared = {k.value for k, _ in top.pairs if isinstance(k, Scalar)} if isinstance(top, Map) else set()
    proxy = _free(knowledge.SOCKET_PROXY_NAME, taken)
    network = _free(knowledge.SOCKET_PROXY_NETWORK, declared | {"default"})
    url = f"tcp://{proxy}:{knowledge.DOCKER_PLAIN_PORT}"
    edits, wired = [], {}
    for c in wanted:
        point, why = _point(ctx, c, url)
        mine = [_unmount(ctx, c), point, _join(ctx, c.svc, network)]
        if any(e is None for e in mine):
            notes[c.svc.name] = why if point is None else (
                "its volumes or networks are written through an anchor or another file, or it uses network_mode")
            continue
        edits += mine
        wired[c.svc.name] = c
    if not wired:
        return _Plan(None, "", (), {}, notes)
    sections = tuple(dict.fromkeys(s for c in wired.values() for s in c.sections))
    spec = {"image": knowledge.SOCKET_PROXY_IMAGE,
            "environment": {s: "1" for s in sections} or {"POST": "0"},
            "volumes": [f"{source}:/var/run/docker.sock:ro"],
            "networks": [network]}
    if isinstance(deref(services), Map):
        edits.append(add_entries(ctx.doc, deref(services), {proxy: spec}))
    edits.append(_declare_network(ctx, network))
    described = ", ".join(sections) if sections else "no section beyond EVENTS, PING and VERSION (read-only)"
    fix = make_fix(FIX, f"move the Docker socket to a filtering proxy '{proxy}' ({described})", *edits)
    return _Plan(fix, proxy, sections, wired if fix else {}, notes)


def _proxy_note(plan: _Plan | None, svc) -> str:
    if plan is None:
        return ""
    if svc.name in plan.notes:
        return f"; no proxy for it: {plan.notes[svc.name]}"
    c = plan.wired.get(svc.name)
    if c is None:
        return ""
    shared = [n for n in plan.wired if n != svc.name]
    enabled = ", ".join(plan.sections) or "nothing beyond EVENTS, PING and VERSION"
    text = (f"; the fix gives it the proxy '{plan.proxy}' (holds the socket read-only, enables {enabled}, "
            "refuses the rest with 403)")
    if shared:
        text += f", shared with {', '.join(shared)} (the union of what each needs)"
    if c.profile is None:
        text += ("; an unknown client gets a read-only proxy: if it needs more, enable the sections its "
                 "errors name in the proxy's environment (CONTAINERS=1 to list containers, POST=1 to change anything)")
    return text


# --------------------------------------------------------------------------- Docker-in-Docker with TLS

_CERTS = "/certs/client"  # where docker:dind writes the client certificates under DOCKER_TLS_CERTDIR=/certs


def _dind_clients(ctx, dind):
    """Services whose DOCKER_HOST is the dind service's plain port: [(svc, EnvVar)]."""
    out = []
    for svc in ctx.services:
        var = svc.environment().get("DOCKER_HOST")
        value = var.value if var is not None else None
        parsed = _docker_host(value) if value else None
        if svc is not dind and parsed is not None and parsed[0] == dind.name and parsed[1] in (None, knowledge.DOCKER_PLAIN_PORT):
            out.append(svc)
    return out


def _add_volume(ctx, svc, spec: str):
    return list_append(ctx.doc, svc, "volumes", spec)


def _tls_port(ctx, port):
    """Edit that publishes 2376 instead of 2375 (short syntax), or None."""
    node = port.node
    if not port.editable or not isinstance(node, Scalar):
        return None
    parts = node.value.split(":")
    container, _, proto = parts[-1].partition("/")
    if container != str(knowledge.DOCKER_PLAIN_PORT):
        return None
    parts[-1] = str(knowledge.DOCKER_TLS_PORT) + ("/" + proto if proto else "")
    if len(parts) >= 2 and parts[-2] == str(knowledge.DOCKER_PLAIN_PORT):
        parts[-2] = str(knowledge.DOCKER_TLS_PORT)
    return replace_scalar(ctx.doc, node, ":".join(parts))


def _declare_volume(ctx, name: str):
    entry = ctx.doc.root.entry("volumes")
    if entry is None:
        return add_entries(ctx.doc, ctx.doc.root, {"volumes": {name: {}}})
    if isinstance(entry[1], Map):
        return add_entries(ctx.doc, entry[1], {name: {}})
    if isinstance(entry[1], Scalar) and entry[1].is_null:
        return fill_null(ctx.doc, entry[0], entry[1], {name: {}})
    return None


def _dind_tls(ctx, dind):
    """(fix, message note): TLS back on for a dind service, its clients on 2376 with the client
    certificates it writes into a shared volume."""
    clients = _dind_clients(ctx, dind)
    top = ctx.top("volumes")
    declared = {k.value for k, _ in top.pairs if isinstance(k, Scalar)} if isinstance(top, Map) else set()
    volume = _free(f"{dind.name}-certs", declared)
    edits = [env_edit(ctx.doc, dind, "DOCKER_TLS_CERTDIR", "/certs"), _add_volume(ctx, dind, f"{volume}:{_CERTS}"),
             _declare_volume(ctx, volume)]
    if dind.name != "docker":  # dind's certificate names "docker", localhost and its container id only
        edits.append(env_edit(ctx.doc, dind, "DOCKER_TLS_SAN", f"DNS:{dind.name}"))
    edits += [_tls_port(ctx, p) for p in dind.ports() if p.here and p.has((knowledge.DOCKER_PLAIN_PORT,))]
    url = f"tcp://{dind.name}:{knowledge.DOCKER_TLS_PORT}"
    for c in clients:
        edits += [env_edit(ctx.doc, c, "DOCKER_HOST", url), env_edit(ctx.doc, c, "DOCKER_TLS_VERIFY", "1"),
                  env_edit(ctx.doc, c, "DOCKER_CERT_PATH", _CERTS), _add_volume(ctx, c, f"{volume}:{_CERTS}:ro")]
    fix = make_fix(FIX, f"turn TLS on for {dind.name} (port {knowledge.DOCKER_TLS_PORT}, client certificates in "
                   f"the volume {volume})", *edits)
    if fix is None:
        return None, ("; hardener cannot turn TLS on here (its environment, volumes or ports, or a client's, are "
                      "written through an anchor or another file)")
    who = f"; {', '.join(c.name for c in clients)} move{'s' if len(clients) == 1 else ''} to {url} with the client " \
          "certificates" if clients else ""
    return fix, (f"; the fix turns TLS on (DOCKER_TLS_CERTDIR=/certs, port {knowledge.DOCKER_TLS_PORT}, client "
                 f"certificates in the volume {volume}){who}; clients outside this file need those certificates "
                 f"and DOCKER_TLS_VERIFY=1")
