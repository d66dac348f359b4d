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
from ..yamltext import Alias, Map, Scalar, Seq, add_entries, deref, replace_scalar
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
        entry = svc.written_here("ports")
        if entry is None:
            continue
        editable = entry.editable
        ports = deref(entry.value)
        if not isinstance(ports, Seq):
            continue
        public = public_ports(ctx, svc)
        for item in ports.items:
            target = deref(item)
            fixable = editable and not isinstance(item, Alias)
            path = ("services", svc.name, "ports")
            if isinstance(target, Scalar):
                new = rebind(target.value.strip(), host_ip, host_ip6)
                if new is None:
                    continue
                meant = _meant_public(svc, target.value, container_ports(target.value), public)
                if meant:
                    yield finding(__name__, ctx, target, meant, service=svc, key_path=path, severity=Severity.LOW)
                    continue
                edit = replace_scalar(ctx.doc, target, new) if fixable else None
                yield finding(__name__, ctx, target, f"service '{svc.name}' publishes port "
                              f"{target.value} on every host interface", service=svc, key_path=path,
                              fix=make_fix(FIX, f"bind to {host_ip}", edit))
            elif isinstance(target, Map):
                ip_entry = target.entry("host_ip")
                if ip_entry is None:
                    edit = add_entries(ctx.doc, target, {"host_ip": host_ip}) if fixable else None
                elif isinstance(ip_entry[1], Scalar) and ip_entry[1].value.strip() in ANY_ADDRESS:
                    new_ip = host_ip6 if ":" in ip_entry[1].value else host_ip
                    edit = replace_scalar(ctx.doc, ip_entry[1], new_ip) if fixable else None
                else:
                    continue
                published = target.get("published")
                label = deref(published).value if isinstance(deref(published), Scalar) else "(random)"
                goes_to = deref(target.get("target"))
                inside = container_ports(goes_to.value) if isinstance(goes_to, Scalar) else frozenset()
                meant = _meant_public(svc, label, inside, public)
                if meant:
                    yield finding(__name__, ctx, target, meant, service=svc, key_path=path, severity=Severity.LOW)
                    continue
                yield finding(__name__, ctx, target, f"service '{svc.name}' publishes port {label} on every "
                              "host interface", service=svc, key_path=path,
                              fix=make_fix(FIX, f"set host_ip: {host_ip}", edit))
