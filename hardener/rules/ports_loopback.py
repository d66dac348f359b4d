"""Publish ports on the loopback interface, not on every interface of the host.

**What it finds.** A published port with no host address (`"8080:80"`, `"80"`, long syntax without
`host_ip`) or with an all-interfaces address (`0.0.0.0`, `::`). Docker then listens on every network
interface of the host, and its iptables rules bypass host firewalls such as ufw.

**Why it matters.** Every published port is an entry point. Databases, admin panels, metrics and
debug ports are often published only for convenience, and end up reachable from the whole network
or the internet (attack tree 4.1.1).

**Example.**

    services:
      db:
        image: postgres:16
        ports:
          - "5432:5432"

**Fix.** Prefixes the mapping with `127.0.0.1:` (`"127.0.0.1:5432:5432"`, `"127.0.0.1::80"` for a port
published on a random host port), keeping quotes, protocol suffixes, ranges and `${VAR}` parts; long
syntax gets `host_ip: 127.0.0.1`; an explicit `0.0.0.0` / `::` is replaced by `127.0.0.1` / `::1`.
Ports already bound to a specific address are left alone.

**Variables.** A host part written with a variable (`"${PORT:-8080}:80"`) is read the way Compose
reads it: with the project's `.env` (beside the first compose file; `--env-file` files instead, as for
`docker compose --env-file`), a variable it does not set taking the file's default. When the value
holds an address (`PORT=127.0.0.1:8080`) the port is bound already: no finding. When it holds a port
number, the fix above is offered. When no env file sets it (it may come from the shell, or from a
`.env` the user writes later) the value cannot be known, and a value with an address would make
`127.0.0.1:${PORT:-8080}:80` invalid: the finding says so and no fix is offered, unless the project's
documented example env files (`.env.example`...) give the variable only port numbers; a variable they
give an address, or one named for an address without a value (`${BIND_ADDR}:80`), is taken as bound.
Container ports written with a variable (`${TRAEFIK_HTTP_PORT:-80}`) are read the same way, defaults
included, before the checks below.

**Ports meant to be public.** A reverse proxy or web server has to face the network. When the
container port is one the image's knowledge lists as public (80 and 443 of nginx, httpd, traefik,
caddy, haproxy and HAProxy Technologies' images, nginx-proxy / jwilder, Nginx Proxy Manager,
envoy, kong's 8000/8443, openresty, SWAG...; see `hardener/data/images.json`, each with its source)
or one of the option `public_ports` (container ports, e.g.
`[tool.hardener.options.PRT001] public_ports = [8443]`), the finding stays, at low severity, to say
that the port is open to every network the host is on, and no fix is offered: binding it to loopback
would cut the service off from its clients. A proxy's admin port (Nginx Proxy Manager's 81, kong's
8001) is not public and gets the fix.

**Ports that receive from other machines.** Mail (25, 465, 587...), DNS (53), syslog (514, 601,
6514), SNMP traps (162), Wazuh agents (1514, 1515), log shippers (Beats 5044, GELF 12201), VPNs
(WireGuard 51820, OpenVPN 1194, IPsec 500/4500)... exist to be reached from the network
(`hardener/data/ports.json`, each with its source). A mapping whose container or host port is one of
them is reported at low severity with that explanation and never bound to loopback: a firewall, or a
`host_ip` on the interface the senders come from, decides who may reach it.

**What may break.** Anything that reached the port from another machine: a public web server, a port
another host scrapes. Put such a service behind a reverse proxy, or declare the port public (above) or
suppress the finding. The fix is *unsafe* because it changes who can connect.

**References.** CIS Docker Benchmark, "Ensure that incoming container traffic is bound to a specific host interface".
"""
from __future__ import annotations

from .. import knowledge
from ..images import facts
from ..interpolation import variables_in
from ..model import Applicability, Confidence, Severity
from ..syntax import ANY_ADDRESS, has_variable, host_kind, looks_like_address, port_host, port_parts, rebind, resolve
from ..yamltext import Scalar, deref
from .base import finding, make_fix, option

ID = "PRT001"
NAME = "port-all-interfaces"
ATTACK_TREE = ("4.1.1",)
SEVERITY = Severity.MEDIUM
CONFIDENCE = Confidence.HIGH
FIX = Applicability.UNSAFE
OPTIONS = {"host_ip": knowledge.LOOPBACK_IP, "host_ip6": knowledge.LOOPBACK_IP6, "public_ports": []}


def public_ports(ctx, svc) -> tuple[frozenset[int], frozenset[int]]:
    """Container ports meant to face the network: (the configured ones, the image's, from its
    profile or its facts: proxies without a full profile count too)."""
    known = facts(svc.image_name())
    configured = {p for p in option(ctx, __name__, "public_ports") if isinstance(p, int) and not isinstance(p, bool)}
    return frozenset(configured), frozenset(known.public_ports if known else ())


def _meant_public(svc, label, ports, public):
    """A low-severity finding's message for a port meant to be public, or None."""
    configured, by_image = public
    if not ports or not ports <= configured | by_image:
        return None
    why = "the configuration declares it public" if ports <= configured else f"{svc.image_name()} is meant to serve it"
    return (f"service '{svc.name}' publishes port {label} on every host interface ({why}): it is open to every "
            "network the host is on, so keep only what must be public there")


def _remote(svc, label, ports):
    """A low-severity finding's message for a port that receives from other machines, or None."""
    hits = sorted(p for p in ports if p in knowledge.REMOTE_PORTS)
    if not hits:
        return None
    what = ", ".join(f"{p} ({knowledge.REMOTE_PORTS[p]})" for p in hits)
    return (f"service '{svc.name}' publishes port {label} on every host interface; port {what} receives from "
            "other machines, so binding it to loopback would cut off its senders: keep it published and let a "
            "firewall (or host_ip: the interface they come from) decide who may reach it")


def _numbers(ctx, text: str) -> frozenset[int]:
    """The port numbers of a port or range as written, variables read from the project's env files or
    at their defaults (`${TRAEFIK_HTTP_PORT:-80}` -> 80); empty when unknown."""
    text = text.strip()
    value = ctx.env.known(text) if has_variable(text) else text
    if value is None:
        value = resolve(text)
    low, _, high = (value or "").strip().partition("-")
    if not low.isdigit() or (high and not high.isdigit()) or int(high or low) - int(low) > 65535:
        return frozenset()
    return frozenset(range(int(low), int(high or low) + 1))


def _host_ports(ctx, host: str) -> frozenset[int]:
    """The host ports a host part publishes (its address left out)."""
    parts = port_parts(host) if host else []
    return _numbers(ctx, parts[-1]) if parts else frozenset()


def _short(ctx, spec: str, host_ip: str, host_ip6: str):
    """(container ports, host ports, why there is no fix or None) for a short-syntax mapping
    published on every interface; None when it is bound to an address (or cannot be read). A host
    part written with a variable is read with the project's env files (`.env`, --env-file); when
    they do not decide it, the defaults and the documented example values (`.env.example`) say
    whether it may hold an address, and no fix is offered: prefixing a value that holds one
    (`PORT=127.0.0.1:8080`) would make the file invalid."""
    host, inside = port_host(spec)
    inside = _numbers(ctx, inside)
    if not has_variable(host):
        return (inside, _host_ports(ctx, host), None) if rebind(spec, host_ip, host_ip6) is not None else None
    names = ", ".join(f"${{{name}}}" for name in dict.fromkeys(variables_in(host)))
    shown = ctx.env.shown(host)
    values = shown if shown is not None else ctx.env.possible(host)
    kinds = {host_kind(v) for v in values if v is not None}
    if "bound" in kinds or None in kinds:
        return None  # the project gives or documents an address for it
    if shown is None and values[0] is None and looks_like_address(host):
        return None  # a variable named for an address, with no value here
    ports = _host_ports(ctx, values[0]) if values[0] is not None else frozenset()
    if shown is not None and kinds == {"port"}:
        return inside, ports, None
    if "any" in kinds:
        return inside, ports, (f"; its address comes from {names}, which holds every interface here: set it to "
                               f"{host_ip} (in .env)")
    return inside, ports, (f"; no env file here sets {names}, so hardener cannot tell whether it already holds an "
                           f"address (a value such as 127.0.0.1:8080 would make a {host_ip}: prefix invalid): set "
                           f"the address in the variable, or write {host_ip}:{spec} if it only ever holds a port")


def _long(ctx, node):
    """(container ports, host ports, why there is no fix or None) for a long-syntax mapping published
    on every interface; None when it is bound to an address."""
    ip_entry = node.entry("host_ip")
    why = None
    if ip_entry is not None:
        ip = deref(ip_entry[1])
        text = ip.value.strip() if isinstance(ip, Scalar) else None
        if text is None:
            return None
        if has_variable(text):
            known = ctx.env.known(text)
            if known is None or known.strip() not in ANY_ADDRESS:
                return None  # bound to an address already, or a variable that may hold one
            why = "; its host_ip comes from a variable the project's env file sets to every interface: change it there"
        elif text not in ANY_ADDRESS:
            return None
    goes_to, published = deref(node.get("target")), deref(node.get("published"))
    inside = _numbers(ctx, str(goes_to.value)) if isinstance(goes_to, Scalar) else frozenset()
    outside = _numbers(ctx, str(published.value)) if isinstance(published, Scalar) else frozenset()
    return inside, outside, why


def check(ctx):
    host_ip = option(ctx, __name__, "host_ip")
    host_ip6 = option(ctx, __name__, "host_ip6")
    for svc in ctx.services:
        # Compose appends the ports of every file and base: each part is judged where it is written
        ports = [port for port in svc.ports() if port.here]
        public = public_ports(ctx, svc) if ports else None
        path = ("services", svc.name, "ports")
        for port in ports:
            node = port.node
            if isinstance(node, Scalar):
                seen, what = _short(ctx, node.value.strip(), host_ip, host_ip6), f"bind to {host_ip}"
            else:
                seen, what = _long(ctx, node), f"set host_ip: {host_ip}"
            if seen is None:
                continue
            inside, outside, why = seen
            meant = _meant_public(svc, port.label, inside, public)
            if meant:
                yield finding(__name__, ctx, node, meant, service=svc, key_path=path, severity=Severity.LOW)
                continue
            remote = _remote(svc, port.label, inside | outside)
            if remote:
                yield finding(__name__, ctx, node, remote, service=svc, key_path=path, severity=Severity.LOW)
                continue
            edit = None if why else port.bind_edit(ctx.doc, (host_ip, host_ip6), ctx.env)
            yield finding(__name__, ctx, node, f"service '{svc.name}' publishes port {port.label} on every host "
                          f"interface{why or ''}", service=svc, key_path=path, fix=make_fix(FIX, what, edit))
