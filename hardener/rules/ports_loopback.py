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

import re

from ..model import Applicability, Confidence, Severity
from ..yamltext import Alias, Map, Scalar, Seq, add_entries, deref, replace_scalar
from .base import finding, make_fix, option

ID = "PRT001"
NAME = "port-all-interfaces"
ATTACK_TREE = ("4.1.1",)
SEVERITY = Severity.MEDIUM
CONFIDENCE = Confidence.HIGH
FIX = Applicability.UNSAFE
OPTIONS = {"host_ip": "127.0.0.1", "host_ip6": "::1", "public_ports": []}

_ANY = {"0.0.0.0", "::", "[::]", ""}
_ADDRESS_VAR = re.compile(r"ADDR|BIND|HOST|LISTEN|(^|_)IP($|_)|INTERFACE", re.I)


def split_colons(text: str) -> list[str]:
    """Split on ':' outside ${...} and [...] (IPv6)."""
    if "$" not in text and "[" not in text:
        return text.split(":")
    parts, depth, cur, i = [], 0, "", 0
    while i < len(text):
        ch = text[i]
        if text.startswith("${", i):
            depth += 1
            cur += "${"
            i += 2
            continue
        if ch == "[":
            depth += 1
        elif ch in "}]" and depth:
            depth -= 1
        if ch == ":" and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
        i += 1
    parts.append(cur)
    return parts


def _looks_like_address(part: str) -> bool:
    """A host part that is (or may hold) an address rather than a port number."""
    if part.startswith("$"):
        m = re.match(r"^\$\{?([A-Za-z_][A-Za-z0-9_]*)(?::?[-?+]([^}]*))?\}?$", part)
        if not m:
            return True
        name, default = m.group(1), m.group(2) or ""
        return bool(_ADDRESS_VAR.search(name)) or any(c in default for c in ".:[")
    return not re.fullmatch(r"[0-9]+(-[0-9]+)?", part)


def rebind(spec: str, host_ip: str, host_ip6: str) -> str | None:
    """The short-syntax port with a loopback host address, or None when it needs no change or
    cannot be understood."""
    body, slash, proto = spec.partition("/")
    suffix = slash + proto if slash else ""
    if re.fullmatch(r"\$\{[^}]*\}|\$[A-Za-z_]\w*", body):
        return None  # the whole mapping is a variable
    if body.startswith("["):  # [IPv6]:host:container
        ip, _, rest = body[1:].partition("]")
        return f"[{host_ip6}]{rest}{suffix}" if ip == "::" and rest.startswith(":") else None
    parts = split_colons(body)
    if len(parts) == 1:
        return f"{host_ip}::{parts[0]}{suffix}"
    if len(parts) == 2 and not _looks_like_address(parts[0]):
        return f"{host_ip}:{parts[0]}:{parts[1]}{suffix}"
    if len(parts) == 3 and parts[0] == "0.0.0.0":
        return f"{host_ip}:{parts[1]}:{parts[2]}{suffix}"
    return None  # bound to an address already, or a form we do not rewrite


def container_ports(spec: str) -> frozenset[int]:
    """The container ports of a short-syntax mapping (`"8080:80"`, `"80-81/udp"`); empty when a
    variable or anything unusual hides them."""
    last = split_colons(spec.partition("/")[0])[-1].strip()
    low, _, high = last.partition("-")
    if not low.isdigit() or (high and not high.isdigit()):
        return frozenset()
    return frozenset(range(int(low), int(high or low) + 1)) if int(high or low) - int(low) < 65536 else frozenset()


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
        editable = entry.own and not isinstance(entry.value, Alias) and not svc.shared
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
                elif isinstance(ip_entry[1], Scalar) and ip_entry[1].value.strip() in _ANY:
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
