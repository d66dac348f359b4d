"""The Docker daemon API listens on TCP without client certificate verification.

**What it finds.** daemon.json `hosts` with a `tcp://` address while `tlsverify` is not `true`
(`tls: true` alone encrypts but lets any client in).

**Why it matters.** The Docker API has no other authentication: whoever reaches the port can start a
privileged container that mounts the host's root file system. Open Docker ports on `0.0.0.0:2375` are
scanned for and taken over within hours (attack tree 1.2.2). A loopback address is reported as *high*
rather than *critical*: only local users and containers on the host network can reach it.

**Example.**

    {"hosts": ["tcp://0.0.0.0:2375", "unix:///var/run/docker.sock"]}

**Fix.** None automatic. Prefer the unix socket only (drop the `tcp://` entry) and reach remote daemons
over SSH (`DOCKER_HOST=ssh://user@host`), or turn on mutual TLS:

    {"hosts": ["tcp://0.0.0.0:2376", "unix:///var/run/docker.sock"], "tlsverify": true,
     "tlscacert": "/etc/docker/ca.pem", "tlscert": "/etc/docker/server-cert.pem",
     "tlskey": "/etc/docker/server-key.pem"}

**What may break.** Clients that used the open port need the SSH context or client certificates.

**Limits.** Only daemon.json is read: `-H tcp://...` given to dockerd on its command line (for example
in a systemd unit) is not seen.

**References.** Docker documentation "Protect the Docker daemon socket"; CIS Docker Benchmark 2.6.
"""
from __future__ import annotations

from ..model import Applicability, Confidence, Severity
from . import base

ID = "HOST004"
NAME = "daemon-api-without-tls"
ATTACK_TREE = ("1.2.2",)
SEVERITY = Severity.CRITICAL
CONFIDENCE = Confidence.HIGH
FIX = Applicability.NONE  # the host is reported, never edited
OPTIONS: dict = {}


def _tcp_host(address: str) -> str:
    rest = address.strip()[len("tcp://"):]
    rest = rest.split("/", 1)[0]
    if rest.startswith("["):
        return rest[1:].split("]", 1)[0]
    return rest.rsplit(":", 1)[0] if ":" in rest else rest


def _loopback(address: str) -> bool:
    host = _tcp_host(address).lower()
    return host == "localhost" or host == "::1" or host.startswith("127.")


def check(facts):
    daemon = facts.daemon
    if daemon is None:
        return
    cfg = daemon.cfg
    hosts = cfg.get("hosts") or []
    if isinstance(hosts, str):
        hosts = [hosts]
    elif not isinstance(hosts, list):
        hosts = []  # not a list of addresses: dockerd refuses to start with it, nothing listens
    tcp = [h.strip() for h in hosts if isinstance(h, str) and h.strip().lower().startswith("tcp://")]
    if tcp and cfg.get("tlsverify") is not True:
        exposed = [h for h in tcp if not _loopback(h)]
        how = ("TLS but no client verification (tlsverify is not true)" if cfg.get("tls") is True
               else "no TLS and no client certificates")
        reach = "anyone who can reach it" if exposed else "any local user or container on the host network"
        yield base.finding(__name__, f"the Docker API listens on {', '.join(tcp)} with {how}: {reach} controls "
                           "the daemon and through it the host; serve only the unix socket (ssh:// contexts "
                           "for remote use) or set tlsverify with client certificates", daemon.label,
                           key_path=("hosts",), severity=Severity.CRITICAL if exposed else Severity.HIGH,
                           **daemon.at("hosts"))
