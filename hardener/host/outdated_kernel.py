"""The host kernel has a known container-escape flaw.

**What it finds.** A kernel release (from `uname -r`, `--kernel`, or the `KernelVersion` the daemon
reports) older than the fix of a kernel flaw in hardener's advisory table: Dirty COW (CVE-2016-5195),
CVE-2022-0185, Dirty Pipe (CVE-2022-0847) and the nf_tables use-after-free CVE-2024-1086. A release is
compared with the fix of its own stable branch (5.15.x with the 5.15 fix); a branch that never got the
fix counts as affected.

**Why it matters.** Every container shares the host kernel. A kernel bug reachable from inside a
container turns any code execution in any container into root on the host, whatever the compose file
says (attack tree 1.1.1).

**Example.** `uname -r` prints `5.8.18`: Dirty Pipe, CVE-2022-0185 and CVE-2024-1086 apply; the
message names the release that fixes all of them on a maintained branch.

**Fix.** None in a file: install your distribution's kernel update and reboot into it.

**What may break.** A kernel upgrade needs a reboot; plan it with the services' owners.

**Distribution kernels.** Releases such as `5.15.0-91-generic` (Ubuntu), `6.1.0-18-amd64` (Debian) or
`4.18.0-513.el8.x86_64` (RHEL) keep the base number and backport fixes, so the number says little about
the patch level. For such releases the finding has *low* confidence and says so: confirm with the
distribution's security notices (USN, DSA, RHSA) before acting.

**References.** MITRE ATT&CK T1611 (Escape to Host); the advisories listed in
`hardener/data/advisories.json`.
"""
from __future__ import annotations

from ..model import Applicability, Confidence, Severity
from . import base

ID = "HOST001"
NAME = "outdated-kernel"
ATTACK_TREE = ("1.1.1",)
SEVERITY = Severity.CRITICAL
CONFIDENCE = Confidence.HIGH
FIX = Applicability.NONE  # the host is reported, never edited
OPTIONS: dict = {}


def check(facts):
    if facts.kernel is not None:
        f = base.version_finding(__name__, "kernel", facts.kernel, facts.kernel_label, facts.advisories,
                                 key_path=("kernel",))
        if f:
            yield f
