"""Docker Engine or containerd comes from a release branch upstream no longer patches.

**What it finds.** The Engine and containerd versions of `docker version`, placed on their release
branch (Engine 20.10, 23.0 ... 26.1, then one branch per major version from 27 on; containerd 1.6,
1.7, 2.0 ...) and compared with the upstream support status of that branch in hardener's table
(`branches` in `hardener/data/advisories.json`, with its sources and review date): Moby's
`BRANCHES-AND-TAGS.md` and containerd's `RELEASES.md`. A branch marked end-of-life, or older than
every listed branch, is reported; a maintained branch whose announced end of maintenance has passed
since the table was reviewed is reported with *low* confidence.

**Why it matters.** HOST002 and HOST003 only know the flaws in hardener's short advisory list. An
end-of-life branch gets no fixes for anything found after its end, so a clean HOST002 on it does not
mean "patched": every daemon or runtime flaw published since is open, and the daemon is root on the
host (attack tree 1.2.1; containerd starts the containers, 1.3.2).

**Example.** Debian 12's `docker.io` reports Engine `20.10.24+dfsg1` and containerd `1.6.20~ds1`:
upstream stopped maintaining 20.10 on 2023-12-10 and containerd 1.6 on 2025-08-23.

**Fix.** None in a file: move to a maintained branch (Docker's own `docker-ce` and `containerd.io`
packages, or a newer distribution release).

**What may break.** A major Engine upgrade changes defaults (API versions, storage and network
drivers); read the release notes and restart the containers (or enable `live-restore`, HOST008).

**Distribution builds.** A version with a distribution suffix (`+dfsg1`, `~ds1`, `-0ubuntu1`,
`+deb12u1`, `.el9`) is maintained by that distribution, which may backport security fixes after
upstream's end: the finding then has *low* confidence and names the command that shows the package's
changelog (`apt changelog docker.io`, `rpm -q --changelog containerd`), where backported CVE fixes
are listed.

**References.** github.com/moby/moby project/BRANCHES-AND-TAGS.md; github.com/containerd/containerd
RELEASES.md; endoflife.date/docker-engine.
"""
from __future__ import annotations

import datetime
import re

from ..model import Applicability, Confidence, Finding, Severity
from . import base
from .advisories import Branches
from .facts import COMPONENT_LABEL
from .versions import parse_version

ID = "HOST010"
NAME = "end-of-life-branch"
ATTACK_TREE = ("1.2.1", "1.3.2")
SEVERITY = Severity.HIGH
CONFIDENCE = Confidence.HIGH
FIX = Applicability.NONE  # the host is reported, never edited
OPTIONS: dict = {}


# distribution and vendor packaging suffixes: such builds follow their distribution's support
_DISTRO_BUILD = re.compile(r"dfsg|[~+.]ds\d|ubuntu|deb\d|\.el\d|\.fc\d|amzn|azl|suse|\.mga", re.I)
_APT_BUILD = re.compile(r"dfsg|[~+.]ds\d|ubuntu|deb\d", re.I)
_PACKAGE_NAMES = {"engine": ("docker.io", "docker"), "containerd": ("containerd", "containerd")}


def _changelog_hint(component: str, suffix: str) -> str:
    apt_name, rpm_name = _PACKAGE_NAMES[component]
    if _APT_BUILD.search(suffix):
        return (f"`apt changelog {apt_name}` (or `zless /usr/share/doc/{apt_name}/changelog.Debian.gz`) lists "
                "the fixes the distribution backported, by CVE")
    return f"`rpm -q --changelog {rpm_name}` lists the fixes the distribution backported, by CVE"


def branch_finding(component: str, text: str, file: str, branches: Branches, today: datetime.date, *,
                   key_path=()) -> Finding | None:
    """The finding for an Engine or containerd version on an end-of-life branch, or None."""
    version = parse_version(text)
    rows = branches.of(component)
    if version is None or not rows:
        return None
    label = COMPONENT_LABEL[component]
    branch = next((b for b in rows if b.holds(version)), None)
    maintained = [b.name for b in rows if b.status == "maintained" and not b.overdue(today)]
    upgrade = (f"move to a maintained branch ({label} {' or '.join(maintained)})" if maintained
               else f"move to a maintained {label} branch")
    severity, confidence = SEVERITY, CONFIDENCE
    if branch is None:
        if rows[0].numbers <= version.release[:len(rows[0].numbers)]:
            return None  # newer than every listed branch, or between branches: not judged
        why = (f"is older than the {rows[0].name} branch, the oldest in hardener's table, which upstream stopped "
               f"maintaining{' on ' + str(rows[0].eol) if rows[0].eol else ''}")
        where = rows[0]
    elif branch.ended:
        why = (f"is from the {branch.name} branch, which upstream stopped maintaining"
               f"{' on ' + str(branch.eol) if branch.eol else ''}")
        where = branch
    elif branch.overdue(today):
        why = (f"is from the {branch.name} branch, whose upstream maintenance was announced to end on "
               f"{branch.expected_end} (hardener's table was reviewed on {branches.reviewed}: check the "
               "branch's current status)")
        where, severity, confidence = branch, Severity.MEDIUM, Confidence.LOW
    else:
        return None
    source = f" (source: {where.sources[0]})" if where.sources else ""
    gets = "once it has ended it gets" if confidence is Confidence.LOW else "it gets"
    message = (f"{label} {text} {why}{source}: {gets} no upstream fixes for flaws found since, so a clean "
               f"outdated-version check does not mean it is patched; {upgrade}")
    if version.suffix and _DISTRO_BUILD.search(version.suffix):
        confidence = Confidence.LOW
        message += (f". {text} is a distribution build ({version.suffix!r}), which its distribution may keep "
                    f"patching after upstream's end: {_changelog_hint(component, version.suffix)}; if its last "
                    "security entries stop, treat it as unpatched (low confidence)")
    tree = ("1.2.1",) if component == "engine" else ("1.3.2",)
    return base.finding(__name__, message, file, key_path=key_path, severity=severity, confidence=confidence,
                        attack_tree=tree)


def check(facts):
    for component in ("engine", "containerd"):
        if component in facts.versions:
            f = branch_finding(component, facts.versions[component], facts.docker_label, facts.branches,
                               facts.today, key_path=("Server", "Components", component))
            if f:
                yield f
