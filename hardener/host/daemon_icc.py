"""Containers on the default bridge network may talk to each other freely.

**What it finds.** daemon.json without `"icc": false` (Docker's default is `true`).

**Why it matters.** With inter-container communication on, every container on the default `bridge`
network reaches every port of every other one, so one compromised container can probe and attack the
rest (attack tree 2.1.1).

**Example.** `{"log-driver": "json-file"}`: `icc` is not set, so it is `true`.

**Fix.** Add `"icc": false` and restart the daemon; containers that must talk then need `--link` or,
better, a user-defined network.

**What may break.** Containers on the default bridge that reach each other by IP. Compose projects
use their own networks, which this setting does not cover (see NET001 for those).

**References.** CIS Docker Benchmark 2.1; Docker documentation on the default bridge network.
"""
from __future__ import annotations

from ..model import Applicability, Confidence, Severity
from . import base

ID = "HOST005"
NAME = "daemon-icc"
ATTACK_TREE = ("2.1.1",)
SEVERITY = Severity.MEDIUM
CONFIDENCE = Confidence.HIGH
FIX = Applicability.NONE  # the host is reported, never edited
OPTIONS: dict = {}


def check(facts):
    daemon = facts.daemon
    if daemon is not None and daemon.cfg.get("icc") is not False:
        default = "" if "icc" in daemon.cfg else " and defaults to true"
        yield base.finding(__name__, f"{daemon.state('icc')}{default}, so containers on the default bridge network "
                           "reach each other on every port; set \"icc\": false", daemon.label, key_path=("icc",),
                           confidence=daemon.sure("icc"), **daemon.at("icc"))
