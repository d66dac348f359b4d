"""Docker Engine has a known vulnerability.

**What it finds.** A Docker Engine version (the `Engine` component of `docker version`) older than the
fix of an Engine flaw in hardener's advisory table: `docker cp` code injection (CVE-2019-14271), the
traversable data directory (CVE-2021-41091) and the AuthZ plugin bypasses CVE-2024-41110 and
CVE-2026-34040.

**Why it matters.** The daemon runs as root and controls every container; a flaw in it hands an
attacker the host (attack tree 1.2.1).

**Example.** Engine `19.03.5` predates the 20.10.9 fix of CVE-2021-41091.

**Fix.** None in a file: upgrade the `docker-ce` (or your distribution's Docker) package to the release
the message names or later, preferably a branch that is still maintained.

**What may break.** Restarting the daemon stops the containers unless `live-restore` is on (HOST008).

**AuthZ plugins.** The two AuthZ bypasses only matter when the daemon runs authorization plugins
(`authorization-plugins` in daemon.json). When the daemon configuration was read and has none, they are
not reported; when it could not be read they are reported with *low* confidence.

**References.** Docker Engine release notes; the advisories listed in `hardener/data/advisories.json`.
"""
from __future__ import annotations

from ..model import Applicability, Confidence, Severity
from . import base

ID = "HOST002"
NAME = "outdated-engine"
ATTACK_TREE = ("1.2.1",)
SEVERITY = Severity.HIGH
CONFIDENCE = Confidence.HIGH
FIX = Applicability.NONE  # the host is reported, never edited
OPTIONS: dict = {}


def check(facts):
    yield from base.daemon_component_findings(__name__, facts, "engine")
