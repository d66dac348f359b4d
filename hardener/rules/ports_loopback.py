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
Ports already bound to a specific address, and host parts that look like a variable holding an address
(`${BIND_ADDR}:80`), are left alone.

**Ports meant to be public.** A reverse proxy or web server has to face the network. When the
container port is one the image's profile lists as public (80 and 443 of nginx, httpd, traefik, caddy,
haproxy; see `hardener/data/images.json`) or one of the option `public_ports` (container ports, e.g.
`[tool.hardener.options.PRT001] public_ports = [8443]`), the finding stays, at low severity, to say
that the port is open to every network the host is on, and no fix is offered: binding it to loopback
would cut the service off from its clients.

**What may break.** Anything that reached the port from another machine: a public web server, a port
another host scrapes. Put such a service behind a reverse proxy, or declare the port public (above) or
suppress the finding. The fix is *unsafe* because it changes who can connect.

**References.** CIS Docker Benchmark, "Ensure that incoming container traffic is bound to a specific host interface".
"""
from __future__ import annotations

from .. import knowledge
from ..model import Applicability, Confidence, Severity
from ..syntax import ANY_ADDRESS, container_ports, rebind
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
    """Container ports meant to face the network: (the configured ones, the image profile's)."""
    known = svc.profile()
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
                if rebind(node.value.strip(), host_ip, host_ip6) is None:
                    continue
                inside, what = container_ports(node.value), f"bind to {host_ip}"
            else:
                ip_entry = node.entry("host_ip")
                if ip_entry is not None and not (isinstance(ip_entry[1], Scalar)
                                                 and ip_entry[1].value.strip() in ANY_ADDRESS):
                    continue  # bound to an address already, or one this rule cannot read
                goes_to = deref(node.get("target"))
                inside = container_ports(goes_to.value) if isinstance(goes_to, Scalar) else frozenset()
                what = f"set host_ip: {host_ip}"
            meant = _meant_public(svc, port.label, inside, public)
            if meant:
                yield finding(__name__, ctx, node, meant, service=svc, key_path=path, severity=Severity.LOW)
                continue
            yield finding(__name__, ctx, node, f"service '{svc.name}' publishes port {port.label} on every host "
                          "interface", service=svc, key_path=path,
                          fix=make_fix(FIX, what, port.bind_edit(ctx.doc, (host_ip, host_ip6))))
