"""Container logs are kept forever by default.

**What it finds.** daemon.json whose default log driver is `json-file` (also when `log-driver` is not
set) without `log-opts.max-size`.

**Why it matters.** The json-file driver never deletes a line unless told to; a noisy or attacked
container fills `/var/lib/docker` and stops every container on the host (attack tree 3.1.2). The
compose rule LOG001 covers services that set their own `logging`; this default covers all others.

**Example.** `{"log-driver": "json-file"}`

**Fix.** `"log-opts": {"max-size": "10m", "max-file": "3"}`, or `"log-driver": "local"`, which rotates
by itself. New containers get the setting; existing ones keep theirs until recreated.

**What may break.** Only old log lines: `docker logs` shows what the kept files hold.

**References.** CIS Docker Benchmark 2.13 (centralized and remote logging); Docker documentation
"JSON File logging driver".
"""
from __future__ import annotations

from ..model import Applicability, Confidence, Severity
from . import base

ID = "HOST007"
NAME = "daemon-no-log-rotation"
ATTACK_TREE = ("3.1.2",)
SEVERITY = Severity.MEDIUM
CONFIDENCE = Confidence.HIGH
FIX = Applicability.NONE  # the host is reported, never edited
OPTIONS: dict = {}


def check(facts):
    daemon = facts.daemon
    if daemon is None:
        return
    cfg = daemon.cfg
    driver = cfg.get("log-driver", "json-file")
    opts = cfg.get("log-opts") if isinstance(cfg.get("log-opts"), dict) else {}
    if driver == "json-file" and not opts.get("max-size"):
        which = "the log driver json-file" if "log-driver" in cfg else "the default log driver (json-file)"
        yield base.finding(__name__, f"{which} has no log-opts max-size, so container logs grow until the disk "
                           "is full; set \"log-opts\": {\"max-size\": \"10m\", \"max-file\": \"3\"} or "
                           "\"log-driver\": \"local\"", daemon.label, key_path=("log-opts", "max-size"),
                           confidence=Confidence.HIGH if {"log-driver", "log-opts"} & cfg.keys()
                           else Confidence.MEDIUM, **daemon.at("log-opts", "log-driver"))
