"""Restarting the daemon stops every container.

**What it finds.** daemon.json without `"live-restore": true`.

**Why it matters.** This is advice: without live restore, upgrading or restarting dockerd takes every
container down, which is the usual reason daemon updates are postponed (attack tree 1.2.1). With it,
containers keep running while the daemon is away.

**Example.** `{"icc": false}`

**Fix.** Add `"live-restore": true` and reload the daemon (`systemctl reload docker`).

**What may break.** Nothing in the containers. Live restore does not work with Swarm mode, and a daemon
upgrade that skips several releases may still need the containers restarted.

**References.** CIS Docker Benchmark 2.14; Docker documentation "Live restore".
"""
from __future__ import annotations

from ..model import Applicability, Confidence, Severity
from . import base

ID = "HOST008"
NAME = "daemon-no-live-restore"
ATTACK_TREE = ("1.2.1",)
SEVERITY = Severity.LOW
CONFIDENCE = Confidence.HIGH
FIX = Applicability.NONE  # the host is reported, never edited
OPTIONS: dict = {}


def check(facts):
    daemon = facts.daemon
    if daemon is not None and daemon.cfg.get("live-restore") is not True:
        yield base.finding(__name__, f"{daemon.state('live-restore')}: restarting or upgrading the daemon stops "
                           "every container, which tends to delay security updates; set \"live-restore\": "
                           "true", daemon.label, key_path=("live-restore",), confidence=daemon.sure("live-restore"),
                           **daemon.at("live-restore"))
