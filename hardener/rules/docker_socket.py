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

**Fix.** For a published 2375 only: binds it to loopback (`"127.0.0.1:2375:2375"`), the same edit as
PRT001, *unsafe*. Everything else is reported: the cure is a design change.
- Give the service a **socket proxy** instead of the socket: a small filtering proxy such as
  `tecnativa/docker-socket-proxy` holds the socket, exposes only the API sections you enable through
  its environment (`CONTAINERS=1`, `POST=0` for read-only use) and rejects the rest. Put the proxy on an
  `internal: true` network shared only with its client, never publish its port, and point the client at
  it with `DOCKER_HOST=tcp://docker-proxy:2375`.
- For Docker-in-Docker, keep TLS on: leave `DOCKER_TLS_CERTDIR` at its default (`/certs`), share the
  client certificates with the client through a volume, and connect on 2376 with `DOCKER_TLS_VERIFY=1`.
- Prefer tools that do not need the daemon at all (rootless builders such as BuildKit or kaniko for CI).

**What may break.** The tools that manage containers (Portainer, Traefik's Docker provider,
Watchtower, CI runners) need some API access; a proxy restricted too tightly makes them fail with
403 errors: enable the sections their logs ask for.

**References.** CIS Docker Benchmark v1.2.0 5.31; OWASP Docker Security Cheat Sheet rule #1; MITRE
ATT&CK T1609 (Container Administration Command), T1610 (Deploy Container), T1611 (Escape to Host).
"""
from __future__ import annotations

import re

from .. import knowledge
from ..model import Applicability, Confidence, Severity
from ..syntax import resolve
from .base import finding, loopback, make_fix

ID = "DKR001"
NAME = "docker-daemon-access"
ATTACK_TREE = ("1.2.2",)
SEVERITY = Severity.CRITICAL
CONFIDENCE = Confidence.HIGH
FIX = Applicability.UNSAFE
OPTIONS: dict = {}

_FALSE = {"", "0", "false", "no", "off"}


def is_socket_proxy(svc) -> bool:
    return svc.image_name() in knowledge.SOCKET_PROXIES


def mounts(svc):
    """(node, source, target, read_only) of every bind-like mount written in the service's mapping
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
        yield m.node, m.source, m.target, m.read_only


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
    for svc in ctx.services:
        path = ("services", svc.name)
        if svc.name not in proxies:
            for node, source, target, ro in mounts(svc):
                name = knowledge.socket_name(source, target)
                if name is None:
                    continue
                note = "; ':ro' does not help, API calls through a socket are not file writes" if ro else ""
                yield finding(__name__, ctx, node, f"service '{svc.name}' mounts the daemon socket {name} "
                              f"({source}): whoever controls this container controls the host{note}. Give it a "
                              "filtering socket proxy instead", service=svc, key_path=path + ("volumes",))
        env = svc.environment()
        host = env.get("DOCKER_HOST")
        value = resolve(host.raw) if host is not None and host.raw is not None else None
        parsed = _docker_host(value) if value else None
        if parsed is not None:
            verify = env.get("DOCKER_TLS_VERIFY")
            flag = "" if verify is None else resolve(verify.raw) if verify.raw is not None else None
            tls = flag is None or flag.strip().lower() not in _FALSE or parsed[1] == knowledge.DOCKER_TLS_PORT
            if not tls and parsed[0] not in proxies:
                yield finding(__name__, ctx, host.node, f"service '{svc.name}' talks to a Docker daemon over plain "
                              f"TCP ({value.strip()}) without TLS: that API has no authentication", service=svc,
                              key_path=path + ("environment", "DOCKER_HOST"), severity=Severity.HIGH)
        for port in svc.ports():
            if port.here and port.exposed and port.has((knowledge.DOCKER_PLAIN_PORT,)) is not None:
                yield finding(__name__, ctx, port.node, f"service '{svc.name}' publishes the unencrypted Docker API "
                              f"port 2375 ({port.label}) to the host's network: anyone who reaches it is root on "
                              "the host", service=svc, key_path=path + ("ports",),
                              fix=make_fix(FIX, "bind to loopback", port.bind_edit(ctx.doc, loopback(ctx))) if port.scope == "all" else None)
        certdir = env.get("DOCKER_TLS_CERTDIR")
        if _is_dind(svc) and certdir is not None and certdir.raw is not None and resolve(certdir.raw) == "":
            yield finding(__name__, ctx, certdir.node, f"service '{svc.name}' runs Docker-in-Docker with TLS "
                          "turned off (DOCKER_TLS_CERTDIR is empty): its daemon answers anyone on its networks "
                          "on port 2375", service=svc, key_path=path + ("environment", "DOCKER_TLS_CERTDIR"),
                          severity=Severity.HIGH)
