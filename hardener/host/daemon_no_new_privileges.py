"""Processes in containers may gain privileges through setuid programs.

**What it finds.** daemon.json without `"no-new-privileges": true`.

**Why it matters.** Without it, a setuid-root program inside a container (`su`, `sudo`, `ping` in older
images) raises an unprivileged process to root, and file capabilities are granted on exec (attack tree
5.2.1 and 5.1.1). The daemon-wide setting applies `no-new-privileges` to every container that does not
ask otherwise.

**Example.** `{"icc": false}`

**Fix.** Add `"no-new-privileges": true` and restart the daemon; a service that really needs setuid
can opt out with `security_opt: ["no-new-privileges=false"]`.

**What may break.** Images that rely on `sudo` or other setuid programs at run time.

**References.** CIS Docker Benchmark 2.18 and 5.25.
"""
from __future__ import annotations

from ..model import Applicability, Confidence, Severity
from . import base

ID = "HOST009"
NAME = "daemon-no-new-privileges"
ATTACK_TREE = ("5.2.1", "5.1.1")
SEVERITY = Severity.LOW
CONFIDENCE = Confidence.HIGH
FIX = Applicability.NONE  # the host is reported, never edited
OPTIONS: dict = {}


def check(facts):
    daemon = facts.daemon
    if daemon is not None and daemon.cfg.get("no-new-privileges") is not True:
        yield base.finding(__name__, f"{daemon.state('no-new-privileges')}: setuid programs in containers can "
                           "raise a process to root; set \"no-new-privileges\": true", daemon.label,
                           key_path=("no-new-privileges",), confidence=daemon.sure("no-new-privileges"),
                           **daemon.at("no-new-privileges"))
