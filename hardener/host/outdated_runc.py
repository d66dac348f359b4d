"""runc, the low-level container runtime, has a known container-escape flaw.

**What it finds.** A runc version (the `runc` component of `docker version`) older than the fix of a
runc flaw in hardener's advisory table: the /proc/self/exe overwrite CVE-2019-5736, Leaky Vessels
CVE-2024-21626, and the November 2025 mount and procfs escapes CVE-2025-31133, CVE-2025-52565 and
CVE-2025-52881. Release candidates are ordered correctly (`1.0.0-rc6` < `1.0.0-rc7` < `1.0.0`).

**Why it matters.** runc sets up every container; these bugs let a malicious image, or code in a
container, write to the host or run as root on it (attack tree 1.3.2).

**Example.** runc `1.0.0-rc6` is affected by all five; runc `1.2.8`, `1.3.3` or `1.4.0` by none.

**Fix.** None in a file: upgrade the package that ships runc (`containerd.io` for Docker CE, `runc` on
most distributions) to the release the message names or later, then restart the containers.

**What may break.** Nothing in the containers; running containers keep the old runc until restarted.

**Build suffixes.** Versions with a build or packaging suffix (`1.0.0-rc6+dev`,
`1.1.12-0ubuntu3`) may carry backported fixes; the finding then has *low* confidence.

**References.** runc security advisories (github.com/opencontainers/runc/security); the advisories
listed in `hardener/data/advisories.json`.
"""
from __future__ import annotations

from ..model import Applicability, Confidence, Severity
from . import base

ID = "HOST003"
NAME = "outdated-runc"
ATTACK_TREE = ("1.3.2",)
SEVERITY = Severity.CRITICAL
CONFIDENCE = Confidence.HIGH
FIX = Applicability.NONE  # the host is reported, never edited
OPTIONS: dict = {}


def check(facts):
    yield from base.daemon_component_findings(__name__, facts, "runc")
