"""`hardener host`: audit the machine that runs the containers, not a compose file.

Four threats of the attack tree cannot be seen in a compose file: an unpatched kernel (1.1.1), an
unpatched Docker daemon (1.2.1), a daemon API open to the network (1.2.2) and a vulnerable runc (1.3.2).
This module reads what the host says about itself and reports them as the same `Finding` records the
compose rules make, so every output format renders them unchanged.

Inputs, either read from this machine (live mode, when no input is given) or from files:

- `docker version --format '{{json .}}'`: Engine, runc (`Server.Components`) and the daemon host's
  kernel (`Server.KernelVersion`);
- the daemon configuration, `/etc/docker/daemon.json`;
- a kernel release as `uname -r` prints it.

The versions are compared with the advisory table shipped in `hardener/data/advisories.json`. Nothing
here prints: `run_host` returns a `HostReport` (results for the formats, notes on what could not be
read, an exit code) and the CLI does the talking.
"""
from __future__ import annotations

import datetime
import functools
import json
import os
import platform
import re
import shutil
import subprocess
from dataclasses import dataclass
from importlib import resources

from .model import Applicability, Confidence, FileResult, Finding, Severity, Status

HOST = "host"  # the `file` of findings that come from this machine rather than from a file
DAEMON_JSON = "/etc/docker/daemon.json"
DOCKER_TIMEOUT = 20.0  # seconds for `docker version`; a daemon behind a dead TCP link can hang it
ADVISORIES_RESOURCE = "advisories.json"


# --------------------------------------------------------------------------- the checks (metadata)

class HostCheck:
    """Metadata of one host check, with the attribute names of a rule module (`ID`, `NAME`,
    `ATTACK_TREE`, `SEVERITY`, `CONFIDENCE`, `FIX`, `OPTIONS`, and the documentation page as
    `__doc__`), so `hardener rules` and `hardener explain` can show it like a rule."""

    FIX = Applicability.NONE  # the host is reported, never edited

    def __init__(self, id: str, name: str, attack_tree: tuple[str, ...], severity: Severity,
                 confidence: Confidence, doc: str):
        self.ID = id
        self.NAME = name
        self.ATTACK_TREE = attack_tree
        self.SEVERITY = severity
        self.CONFIDENCE = confidence
        self.OPTIONS: dict = {}
        self.__doc__ = doc

    def __repr__(self) -> str:
        return f"<host check {self.ID} {self.NAME}>"


KERNEL = HostCheck("HOST001", "outdated-kernel", ("1.1.1",), Severity.CRITICAL, Confidence.HIGH, """\
The host kernel has a known container-escape flaw.

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
""")

ENGINE = HostCheck("HOST002", "outdated-engine", ("1.2.1",), Severity.HIGH, Confidence.HIGH, """\
Docker Engine has a known vulnerability.

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
""")

RUNC = HostCheck("HOST003", "outdated-runc", ("1.3.2",), Severity.CRITICAL, Confidence.HIGH, """\
runc, the low-level container runtime, has a known container-escape flaw.

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
""")

API = HostCheck("HOST004", "daemon-api-without-tls", ("1.2.2",), Severity.CRITICAL, Confidence.HIGH, """\
The Docker daemon API listens on TCP without client certificate verification.

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
""")

ICC = HostCheck("HOST005", "daemon-icc", ("2.1.1",), Severity.MEDIUM, Confidence.HIGH, """\
Containers on the default bridge network may talk to each other freely.

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
""")

USERNS = HostCheck("HOST006", "daemon-no-userns-remap", ("5.1.1",), Severity.MEDIUM, Confidence.HIGH, """\
Root in a container is root on the host.

**What it finds.** daemon.json without `userns-remap`.

**Why it matters.** Without user-namespace remapping uid 0 in a container is uid 0 on the host, so a
process that escapes (or reaches a host file through a mount) acts as host root. With remapping it
lands as an unprivileged subordinate uid (attack tree 5.1.1); several runc and kernel escapes need
real root to work.

**Example.** `{"icc": false}`: no `userns-remap`.

**Fix.** Add `"userns-remap": "default"` (Docker creates the `dockremap` user and its subordinate id
ranges) and restart the daemon. Rootless Docker is an alternative.

**What may break.** Existing images and volumes are kept apart per remapping (they must be pulled or
re-owned again); `--privileged`, `--pid=host` and `--network=host` need `--userns=host`; bind-mounted
host files must be readable by the remapped ids.

**References.** CIS Docker Benchmark 2.8; Docker documentation "Isolate containers with a user
namespace".
""")

LOGS = HostCheck("HOST007", "daemon-no-log-rotation", ("3.1.2",), Severity.MEDIUM, Confidence.HIGH, """\
Container logs are kept forever by default.

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
""")

LIVE_RESTORE = HostCheck("HOST008", "daemon-no-live-restore", ("1.2.1",), Severity.LOW, Confidence.HIGH, """\
Restarting the daemon stops every container.

**What it finds.** daemon.json without `"live-restore": true`.

**Why it matters.** This is advice: without live restore, upgrading or restarting dockerd takes every
container down, which is the usual reason daemon updates are postponed (attack tree 1.2.1). With it,
containers keep running while the daemon is away.

**Example.** `{"icc": false}`

**Fix.** Add `"live-restore": true` and reload the daemon (`systemctl reload docker`).

**What may break.** Nothing in the containers. Live restore does not work with Swarm mode, and a daemon
upgrade that skips several releases may still need the containers restarted.

**References.** CIS Docker Benchmark 2.14; Docker documentation "Live restore".
""")

NO_NEW_PRIVS = HostCheck("HOST009", "daemon-no-new-privileges", ("5.2.1", "5.1.1"), Severity.LOW,
                         Confidence.HIGH, """\
Processes in containers may gain privileges through setuid programs.

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
""")

END_OF_LIFE = HostCheck("HOST010", "end-of-life-branch", ("1.2.1", "1.3.2"), Severity.HIGH, Confidence.HIGH, """\
Docker Engine or containerd comes from a release branch upstream no longer patches.

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
""")

HOST_CHECKS = (KERNEL, ENGINE, RUNC, API, ICC, USERNS, LOGS, LIVE_RESTORE, NO_NEW_PRIVS, END_OF_LIFE)
HOST_BY_KEY = {key: check for check in HOST_CHECKS for key in (check.ID, check.NAME)}
_COMPONENT_CHECK = {"kernel": KERNEL, "engine": ENGINE, "runc": RUNC}
_COMPONENT_LABEL = {"kernel": "kernel", "engine": "Docker Engine", "runc": "runc", "containerd": "containerd"}
_COMPONENT_PACKAGE = {"kernel": "the host kernel", "engine": "Docker Engine",
                      "runc": "runc (the containerd.io or runc package)"}


# --------------------------------------------------------------------------- versions

_STAGES = {"alpha": 0, "beta": 1, "rc": 2}
_VERSION = re.compile(r"v?(\d+(?:\.\d+)*)(?:[-~.]?(alpha|beta|rc)[.-]?(\d+)?(?![a-z]))?(.*)", re.I | re.S)
_KERNEL = re.compile(r"(\d+)\.(\d+)(?:\.(\d+))?")
_KERNEL_RC = re.compile(r"-rc(\d+)")


@functools.total_ordering
@dataclass(frozen=True, eq=False)
class Version:
    """A version as written (`text`), with the parts that order it: the release numbers, an optional
    pre-release (alpha, beta or rc with its number) and whatever follows (`suffix`: a build, packaging
    or distribution tag, which does not take part in the order)."""

    text: str
    release: tuple[int, ...]
    pre: tuple[int, int] | None = None
    suffix: str = ""

    @property
    def key(self) -> tuple:
        numbers = (self.release + (0, 0, 0, 0))[:max(4, len(self.release))]
        return numbers, ((0,) + self.pre if self.pre else (1, 0, 0))

    @property
    def branch(self) -> tuple[int, ...]:
        """The stable branch: the first two numbers (5.15 for 5.15.149, 1.0 for 1.0.0-rc6)."""
        return (self.release + (0,))[:2]

    @property
    def is_prerelease(self) -> bool:
        return self.pre is not None

    def __eq__(self, other) -> bool:
        return isinstance(other, Version) and self.key == other.key

    def __lt__(self, other: "Version") -> bool:
        return self.key < other.key

    def __hash__(self) -> int:
        return hash(self.key)

    def __str__(self) -> str:
        return self.text


def parse_version(text) -> Version | None:
    """A Docker Engine, runc or containerd version: `28.5.2`, `v1.3.3`, `1.0.0-rc6`, `1.4.0-rc.3`,
    `19.03.0-beta1`, `1.0.0-rc6+dev`, `1.1.12-0ubuntu3`, `20.10.24+dfsg1`. None when it does not start
    with a number."""
    if not isinstance(text, str):
        return None
    text = text.strip()
    m = _VERSION.fullmatch(text)
    if not m:
        return None
    release = tuple(int(part) for part in m.group(1).split("."))
    pre = (_STAGES[m.group(2).lower()], int(m.group(3) or 0)) if m.group(2) else None
    return Version(text, release, pre, m.group(4))


def parse_kernel(text) -> Version | None:
    """A kernel release as `uname -r` prints it. Only the first three numbers order it; `-rcN` right
    after them is a mainline release candidate; anything else (`-91-generic`, `-18-amd64`, `.el8`,
    `+deb13-amd64`, `-linuxkit`) is kept as the suffix of a distribution or vendor build."""
    if not isinstance(text, str):
        return None
    text = text.strip()
    m = _KERNEL.match(text)
    if not m:
        return None
    release = tuple(int(g) for g in m.groups() if g is not None)
    rest = text[m.end():]
    rc = _KERNEL_RC.fullmatch(rest)
    if rc:
        return Version(text, release, (_STAGES["rc"], int(rc.group(1))), "")
    return Version(text, release, None, rest)


# --------------------------------------------------------------------------- advisories

@dataclass(frozen=True)
class Advisory:
    id: str
    component: str  # kernel, engine or runc
    title: str
    severity: Severity
    introduced: Version | None
    fixed: tuple[Version, ...]  # one release per stable branch, ascending
    condition: str | None = None  # "authz-plugin": matters only with authorization plugins
    sources: tuple[str, ...] = ()

    def affects(self, version: Version) -> bool:
        """Whether `version` has the flaw: not before `introduced`; below the fix of its own branch; or,
        for a branch with no listed fix, older than some listed fix (the branch ended unfixed)."""
        if self.introduced is not None and version < self.introduced:
            return False
        own = [f for f in self.fixed if f.branch == version.branch]
        if own:
            return version < min(own)
        return any(version < f for f in self.fixed)

    def fix_for(self, version: Version) -> Version | None:
        """The release that fixes `version`: the fix of its branch, else the oldest newer fix."""
        own = [f for f in self.fixed if f.branch == version.branch and version < f]
        if own:
            return min(own)
        newer = sorted(f for f in self.fixed if version < f)
        finals = [f for f in newer if not f.is_prerelease]
        return (finals or newer or [None])[0]


def _advisory(entry: dict) -> Advisory:
    parse = parse_kernel if entry["component"] == "kernel" else parse_version
    fixed = [parse(v) for v in entry["fixed"]]
    introduced = parse(entry["introduced"]) if entry.get("introduced") else None
    if not fixed or None in fixed or (entry.get("introduced") and introduced is None):
        raise ValueError(f"advisory {entry['id']}: a version cannot be read")
    return Advisory(entry["id"], entry["component"], entry["title"], Severity(entry["severity"]), introduced,
                    tuple(sorted(fixed)), entry.get("condition"), tuple(entry.get("sources", ())))


def parse_advisories(data: dict) -> tuple[Advisory, ...]:
    if data.get("schema") != 1:
        raise ValueError("advisory table: unknown schema")
    return tuple(_advisory(entry) for entry in data["advisories"])


@functools.lru_cache(maxsize=1)
def load_advisories() -> tuple[Advisory, ...]:
    """The advisory table shipped in hardener/data/advisories.json."""
    text = resources.files("hardener.data").joinpath(ADVISORIES_RESOURCE).read_text(encoding="utf-8")
    return parse_advisories(json.loads(text))


def upgrade_target(version: Version, matched: list[Advisory]) -> Version | None:
    """The oldest release newer than `version` that none of `matched` affects (final releases first)."""
    candidates = sorted({f for a in matched for f in a.fixed if version < f})
    for pool in ([c for c in candidates if not c.is_prerelease], candidates):
        for candidate in pool:
            if not any(a.affects(candidate) for a in matched):
                return candidate
    return None


# --------------------------------------------------------------------------- upstream support of branches

@dataclass(frozen=True)
class Branch:
    """One release branch of Docker Engine or containerd and its upstream support status."""

    component: str  # engine or containerd
    name: str  # "20.10", "26.1", "27" (Engine from 27 on: one branch per major version), "1.6"
    status: str  # end-of-life or maintained
    eol: datetime.date | None = None  # when upstream maintenance ended (None: not given)
    expected_end: datetime.date | None = None  # announced end of a maintained branch
    sources: tuple[str, ...] = ()

    @property
    def numbers(self) -> tuple[int, ...]:
        return tuple(int(part) for part in self.name.split("."))

    def holds(self, version: Version) -> bool:
        return (version.release + (0, 0))[:len(self.numbers)] == self.numbers

    @property
    def ended(self) -> bool:
        return self.status == "end-of-life"

    def overdue(self, today: datetime.date) -> bool:
        """A maintained branch whose announced end has passed (the table may be out of date)."""
        return self.status == "maintained" and self.expected_end is not None and self.expected_end < today


@dataclass(frozen=True)
class Branches:
    reviewed: datetime.date
    by_component: dict  # component -> tuple[Branch, ...] in version order

    def of(self, component: str) -> tuple[Branch, ...]:
        return self.by_component.get(component, ())


def _date(text) -> datetime.date | None:
    """A YYYY-MM-DD date, or YYYY-MM read as the month's last day."""
    if text is None:
        return None
    parts = [int(p) for p in str(text).split("-")]
    if len(parts) == 2:
        year, month = parts
        following = datetime.date(year + month // 12, month % 12 + 1, 1)
        return following - datetime.timedelta(days=1)
    return datetime.date(*parts)


def parse_branches(data: dict) -> Branches:
    table = data.get("branches") or {}
    out = {}
    for component in ("engine", "containerd"):
        rows = []
        for entry in table.get(component, ()):
            if entry.get("status") not in ("end-of-life", "maintained"):
                raise ValueError(f"branch {component} {entry.get('branch')}: unknown status")
            rows.append(Branch(component, str(entry["branch"]), entry["status"], _date(entry.get("eol")),
                               _date(entry.get("expected_end")), tuple(entry.get("sources", ()))))
        out[component] = tuple(sorted(rows, key=lambda b: b.numbers))
    return Branches(_date(table.get("reviewed", "1970-01-01")), out)


@functools.lru_cache(maxsize=1)
def load_branches() -> Branches:
    """The branch support table shipped in hardener/data/advisories.json (`branches`)."""
    text = resources.files("hardener.data").joinpath(ADVISORIES_RESOURCE).read_text(encoding="utf-8")
    return parse_branches(json.loads(text))


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
    label = _COMPONENT_LABEL[component]
    branch = next((b for b in rows if b.holds(version)), None)
    maintained = [b.name for b in rows if b.status == "maintained" and not b.overdue(today)]
    upgrade = (f"move to a maintained branch ({label} {' or '.join(maintained)})" if maintained
               else f"move to a maintained {label} branch")
    severity, confidence = END_OF_LIFE.SEVERITY, END_OF_LIFE.CONFIDENCE
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
    return _finding(END_OF_LIFE, message, file, key_path=key_path, severity=severity, confidence=confidence,
                    attack_tree=tree)


# --------------------------------------------------------------------------- inputs

@dataclass(frozen=True)
class HostInputs:
    """What could be read about the host. `*_label` is the `file` of the findings made from each input
    (a path, or "host" for something asked of this machine)."""

    docker: dict | None = None  # parsed `docker version --format '{{json .}}'` with a Server part
    docker_label: str = HOST
    daemon: dict | None = None  # parsed daemon.json ({} when Docker's defaults apply)
    daemon_label: str = DAEMON_JSON
    daemon_text: str = ""
    daemon_defaults: bool = False  # no daemon.json exists: the daemon runs on its defaults
    kernel: str | None = None
    kernel_label: str = HOST
    errors: tuple[tuple[str, str], ...] = ()  # (path, "line:col: message") of inputs that failed
    notes: tuple[str, ...] = ()

    @property
    def read_anything(self) -> bool:
        return self.docker is not None or self.daemon is not None or self.kernel is not None


def _json_object(text: str):
    """The JSON object in `text`; `docker version` output may be followed by an error line. JSON
    nested deeper than Python's stack is no usable capture (None)."""
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        pass
    for line in text.splitlines():
        if line.lstrip().startswith("{"):
            try:
                return json.loads(line)
            except (ValueError, RecursionError):
                continue
    return None


MAX_INPUT_BYTES = 1024 * 1024  # a docker version capture or a daemon.json is a few KB


def _read_text(path: str) -> str:
    """The text of an input file, a pipe (/dev/stdin) included; at most MAX_INPUT_BYTES, so that a
    device such as /dev/zero cannot make the read endless. A folder is refused."""
    if os.path.isdir(path):
        raise IsADirectoryError(21, "a folder, not a file", path)
    with open(path, "rb") as fh:
        data = fh.read(MAX_INPUT_BYTES + 1)
    if len(data) > MAX_INPUT_BYTES:
        raise OSError(27, f"larger than {MAX_INPUT_BYTES // 1024} KB: not a docker version capture or daemon.json")
    return data.decode("utf-8-sig", errors="replace")


def _docker_version_from(text: str, where: str, notes: list) -> tuple[dict | None, str | None]:
    """(data, error) for a docker version capture; a capture without a Server part only adds a note."""
    data = _json_object(text)
    if not isinstance(data, dict) or not ({"Client", "Server"} & data.keys()):
        return None, "1:1: not the output of docker version --format '{{json .}}'"
    if not isinstance(data.get("Server"), dict):
        notes.append(f"{where} has no Server part (the daemon did not answer when it was captured); "
                     "Docker Engine and runc were not checked")
        return None, None
    return data, None


def _daemon_from(text: str) -> tuple[dict | None, str | None]:
    try:
        data = json.loads(text) if text.strip() else {}
    except json.JSONDecodeError as exc:
        return None, f"{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}"
    except RecursionError:
        return None, "1:1: not valid JSON: nested too deep"
    if not isinstance(data, dict):
        return None, "1:1: daemon.json must hold a JSON object"
    return data, None


def load_offline(docker_version: str | None = None, daemon_config: str | None = None,
                 kernel: str | None = None) -> HostInputs:
    """Inputs from files and a kernel release; nothing is asked of this machine."""
    notes: list[str] = []
    errors: list[tuple[str, str]] = []
    docker = daemon = None
    daemon_text = ""
    kernel_label = HOST
    if docker_version is not None:
        try:
            docker, error = _docker_version_from(_read_text(docker_version), docker_version, notes)
        except OSError as exc:
            error = f"1:1: {exc.strerror or exc}"
        if error:
            errors.append((docker_version, error))
    else:
        notes.append("no --docker-version file: Docker Engine and runc were not checked")
    if daemon_config is not None:
        try:
            daemon_text = _read_text(daemon_config)
            daemon, error = _daemon_from(daemon_text)
        except OSError as exc:
            error = f"1:1: {exc.strerror or exc}"
        if error:
            errors.append((daemon_config, error))
    else:
        notes.append("no --daemon-config file: daemon settings were not checked")
    if kernel is None and docker is not None and docker["Server"].get("KernelVersion"):
        kernel, kernel_label = str(docker["Server"]["KernelVersion"]), docker_version
    if kernel is None:
        notes.append("no kernel release (--kernel, or KernelVersion in the docker version file): "
                     "the kernel was not checked")
    return HostInputs(docker, docker_version or HOST, daemon, daemon_config or DAEMON_JSON, daemon_text,
                      False, kernel, kernel_label, tuple(errors), tuple(notes))


def collect_live(*, which=shutil.which, run=subprocess.run, daemon_path: str = DAEMON_JSON,
                 release=platform.release, system=platform.system,
                 timeout: float = DOCKER_TIMEOUT) -> HostInputs:
    """Inputs from this machine: `docker version`, daemon.json and the running kernel. The callables
    are parameters so tests can stand in for a machine."""
    notes: list[str] = []
    errors: list[tuple[str, str]] = []
    docker = _live_docker(which, run, timeout, notes)

    daemon, daemon_text, defaults = None, "", False
    try:
        daemon_text = _read_text(daemon_path)
    except FileNotFoundError:
        if docker is not None:
            daemon, defaults = {}, True
            notes.append(f"no {daemon_path}: checked Docker's default daemon settings (options given to "
                         "dockerd on its command line, for example in its systemd unit, are not seen)")
        else:
            notes.append(f"no {daemon_path} and no Docker daemon answered: daemon settings were not checked")
    except OSError as exc:
        notes.append(f"could not read {daemon_path} ({exc.strerror or exc}): daemon settings were not "
                     "checked; run as root or pass --daemon-config")
    else:
        daemon, error = _daemon_from(daemon_text)
        if error:
            errors.append((daemon_path, error))

    kernel = None
    reported = docker["Server"].get("KernelVersion") if docker is not None else None
    local = release() if system() == "Linux" else None
    if reported:
        kernel = str(reported)
        if local and local != kernel:
            notes.append(f"the Docker daemon reports kernel {kernel} but this machine runs {local} "
                         "(DOCKER_HOST points elsewhere?); checked the daemon's kernel")
    elif local:
        kernel = local
    else:
        notes.append(f"this machine runs {system() or 'an unknown system'}, not Linux, and no Docker daemon "
                     "reported its kernel: the kernel was not checked")
    return HostInputs(docker, HOST, daemon, daemon_path, daemon_text, defaults, kernel, HOST,
                      tuple(errors), tuple(notes))


def _live_docker(which, run, timeout: float, notes: list) -> dict | None:
    exe = which("docker")
    if not exe:
        notes.append("docker not found: no `docker` command on PATH, so Docker Engine and runc were not "
                     "checked (pass --docker-version FILE to check a capture)")
        return None
    try:
        proc = run([exe, "version", "--format", "{{json .}}"], capture_output=True, text=True,
                   errors="replace", timeout=timeout)
    except subprocess.TimeoutExpired:
        notes.append(f"`docker version` did not answer within {timeout:g} s: Docker Engine and runc were "
                     "not checked")
        return None
    except OSError as exc:
        notes.append(f"could not run {exe} ({exc.strerror or exc}): Docker Engine and runc were not checked")
        return None
    data = _json_object(proc.stdout or "")
    if isinstance(data, dict) and isinstance(data.get("Server"), dict):
        return data
    reason = next((line.strip() for line in (proc.stderr or "").splitlines() if line.strip()),
                  f"exit status {proc.returncode}")
    notes.append(f"the Docker daemon did not answer `docker version` ({reason}): Docker Engine and runc "
                 "were not checked")
    return None


# --------------------------------------------------------------------------- findings

def _finding(check: HostCheck, message: str, file: str, *, line: int = 1, column: int = 1,
             key_path=(), severity: Severity | None = None, confidence: Confidence | None = None,
             attack_tree: tuple[str, ...] | None = None) -> Finding:
    return Finding(rule_id=check.ID, rule_name=check.NAME, severity=severity or check.SEVERITY,
                   confidence=confidence or check.CONFIDENCE, attack_tree=tuple(attack_tree or check.ATTACK_TREE),
                   message=message, line=line, column=column, key_path=tuple(key_path), file=file)


def _component_versions(docker: dict) -> dict[str, str]:
    """{"engine": ..., "containerd": ..., "runc": ...} from a docker version capture."""
    server = docker.get("Server") or {}
    found = {}
    components = server.get("Components")
    for comp in components if isinstance(components, list) else ():
        if isinstance(comp, dict) and isinstance(comp.get("Version"), str):
            name = str(comp.get("Name", "")).lower()
            if name in ("engine", "containerd", "runc"):
                found.setdefault(name, comp["Version"])
    if "engine" not in found and isinstance(server.get("Version"), str):
        found["engine"] = server["Version"]
    return found


def _uses_authz(daemon: dict | None) -> bool | None:
    """True/False when the daemon configuration is known, None when it is not."""
    if daemon is None:
        return None
    return bool(daemon.get("authorization-plugins"))


def version_finding(component: str, text: str, file: str, advisories, *, authz: bool | None = None,
                    key_path=()) -> Finding | None:
    """The finding for one component version, or None when no advisory applies."""
    check = _COMPONENT_CHECK[component]
    version = (parse_kernel if component == "kernel" else parse_version)(text)
    if version is None:
        return None
    matched, unsure = [], []
    for adv in advisories:
        if adv.component != component or not adv.affects(version):
            continue
        if adv.condition == "authz-plugin":
            if authz is False:
                continue
            if authz is None:
                unsure.append(adv)
        matched.append(adv)
    if not matched:
        return None
    by_fix: dict[str, list[str]] = {}
    for adv in matched:
        fix = adv.fix_for(version)
        note = " (only with AuthZ plugins)" if adv in unsure else ""
        by_fix.setdefault(str(fix) if fix else "no listed release", []).append(adv.id + note)
    flaws = "; ".join(f"{', '.join(ids)} (fixed in {fix})" for fix, ids in by_fix.items())
    target = upgrade_target(version, matched)
    upgrade = (f"upgrade {_COMPONENT_PACKAGE[component]} to {target} or later" if target
               else f"upgrade {_COMPONENT_PACKAGE[component]} to its newest release")
    label = _COMPONENT_LABEL[component]
    severity = max((a.severity for a in matched), key=lambda s: s.rank)
    confidence = check.CONFIDENCE
    if version.suffix:
        confidence = Confidence.LOW
        base = text.strip()[:len(text.strip()) - len(version.suffix)]
        if component == "kernel":
            intro = (f"kernel {text} looks like a distribution or vendor build of {base}; upstream {base} "
                     f"lacks the fixes for")
            caveat = ("distributions backport fixes without changing that number, so check your "
                      "distribution's security notices before acting (low confidence)")
        else:
            intro = f"{label} {text} is a {version.suffix!r} build of {base}; upstream {base} lacks the fixes for"
            caveat = "such builds may carry backported fixes, so check the package's changelog (low confidence)"
        message = f"{intro} {flaws}; {caveat}; otherwise {upgrade}"
    else:
        if unsure and len(unsure) == len(matched):
            confidence = Confidence.LOW
        message = f"{label} {text} has known flaws: {flaws}; {upgrade}"
    if unsure:
        message += "; AuthZ plugin use could not be checked without the daemon configuration"
    return _finding(check, message, file, key_path=key_path, severity=severity, confidence=confidence)


_KEY_AT = "\"{}\"\\s*:"


def _position(text: str, key: str) -> tuple[int, int]:
    """1-based line and column of `"key":` in a daemon.json text, or 1:1 when it is not written."""
    m = re.search(_KEY_AT.format(re.escape(key)), text)
    if not m:
        return 1, 1
    line = text.count("\n", 0, m.start()) + 1
    return line, m.start() - (text.rfind("\n", 0, m.start()) + 1) + 1


def _tcp_host(address: str) -> str:
    rest = address.strip()[len("tcp://"):]
    rest = rest.split("/", 1)[0]
    if rest.startswith("["):
        return rest[1:].split("]", 1)[0]
    return rest.rsplit(":", 1)[0] if ":" in rest else rest


def _loopback(address: str) -> bool:
    host = _tcp_host(address).lower()
    return host == "localhost" or host == "::1" or host.startswith("127.")


def daemon_findings(cfg: dict, text: str, file: str, defaults: bool = False) -> list[Finding]:
    """Findings for a daemon configuration (`{}` with defaults=True when no daemon.json exists)."""
    out: list[Finding] = []

    def state(key: str) -> str:
        if key in cfg:
            return f"{key} is {json.dumps(cfg[key])}"
        return f"{key} is not set (there is no daemon.json)" if defaults else f"{key} is not set in daemon.json"

    def sure(key: str) -> Confidence:
        # a key that is not written may still be set by a dockerd command-line flag
        return Confidence.HIGH if key in cfg else Confidence.MEDIUM

    def at(*keys: str) -> dict:
        for key in keys:
            if key in cfg:
                line, column = _position(text, key)
                return {"line": line, "column": column}
        return {}

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
        out.append(_finding(API, f"the Docker API listens on {', '.join(tcp)} with {how}: {reach} controls "
                            "the daemon and through it the host; serve only the unix socket (ssh:// contexts "
                            "for remote use) or set tlsverify with client certificates", file,
                            key_path=("hosts",), severity=Severity.CRITICAL if exposed else Severity.HIGH,
                            **at("hosts")))

    if cfg.get("icc") is not False:
        default = "" if "icc" in cfg else " and defaults to true"
        out.append(_finding(ICC, f"{state('icc')}{default}, so containers on the default bridge network reach "
                            "each other on every port; set \"icc\": false", file, key_path=("icc",),
                            confidence=sure("icc"), **at("icc")))

    remap = cfg.get("userns-remap")
    if not (isinstance(remap, str) and remap.strip()):
        out.append(_finding(USERNS, f"{state('userns-remap')}: root in a container is root (uid 0) on the "
                            "host, so an escape lands as host root; set \"userns-remap\": \"default\"", file,
                            key_path=("userns-remap",), confidence=sure("userns-remap"), **at("userns-remap")))

    driver = cfg.get("log-driver", "json-file")
    opts = cfg.get("log-opts") if isinstance(cfg.get("log-opts"), dict) else {}
    if driver == "json-file" and not opts.get("max-size"):
        which = "the log driver json-file" if "log-driver" in cfg else "the default log driver (json-file)"
        out.append(_finding(LOGS, f"{which} has no log-opts max-size, so container logs grow until the disk "
                            "is full; set \"log-opts\": {\"max-size\": \"10m\", \"max-file\": \"3\"} or "
                            "\"log-driver\": \"local\"", file, key_path=("log-opts", "max-size"),
                            confidence=Confidence.HIGH if {"log-driver", "log-opts"} & cfg.keys()
                            else Confidence.MEDIUM, **at("log-opts", "log-driver")))

    if cfg.get("live-restore") is not True:
        out.append(_finding(LIVE_RESTORE, f"{state('live-restore')}: restarting or upgrading the daemon stops "
                            "every container, which tends to delay security updates; set \"live-restore\": "
                            "true", file, key_path=("live-restore",), confidence=sure("live-restore"),
                            **at("live-restore")))

    if cfg.get("no-new-privileges") is not True:
        out.append(_finding(NO_NEW_PRIVS, f"{state('no-new-privileges')}: setuid programs in containers can "
                            "raise a process to root; set \"no-new-privileges\": true", file,
                            key_path=("no-new-privileges",), confidence=sure("no-new-privileges"),
                            **at("no-new-privileges")))
    return out


# --------------------------------------------------------------------------- the audit

@dataclass(frozen=True)
class HostReport:
    results: tuple[FileResult, ...]  # one per input that was read or failed, for the output formats
    notes: tuple[str, ...] = ()  # what could not be read or was not checked, in plain words
    read_anything: bool = False
    checked: tuple[str, ...] = ()  # what was checked, e.g. "kernel 6.1.0-18-amd64 (host)"

    @property
    def findings(self) -> tuple[Finding, ...]:
        return tuple(f for r in self.results for f in r.findings)

    @property
    def exit_code(self) -> int:
        """0 nothing found, 1 findings, 2 only when nothing at all could be read."""
        if not self.read_anything:
            return 2
        return 1 if self.findings else 0


_ORDER = {check.ID: i for i, check in enumerate(HOST_CHECKS)}


def audit(inputs: HostInputs, advisories=None, branches: Branches | None = None,
          today: datetime.date | None = None) -> HostReport:
    """Check what `inputs` hold against the advisory table, the branch support table (as of `today`)
    and the daemon settings."""
    advisories = load_advisories() if advisories is None else advisories
    branches = load_branches() if branches is None else branches
    today = datetime.date.today() if today is None else today
    findings: list[Finding] = []
    read: list[str] = []  # labels of the inputs that were read, in order
    checked: list[str] = []

    if inputs.kernel is not None:
        read.append(inputs.kernel_label)
        checked.append(f"kernel {inputs.kernel} ({inputs.kernel_label})")
        f = version_finding("kernel", inputs.kernel, inputs.kernel_label, advisories, key_path=("kernel",))
        if f:
            findings.append(f)
    if inputs.docker is not None:
        read.append(inputs.docker_label)
        versions = _component_versions(inputs.docker)
        authz = _uses_authz(inputs.daemon)
        checked.append(", ".join(f"{_COMPONENT_LABEL[c]} {versions[c]}" for c in ("engine", "containerd", "runc")
                                 if c in versions) + f" ({inputs.docker_label})")
        for component in ("engine", "runc"):
            if component not in versions:
                continue
            f = version_finding(component, versions[component], inputs.docker_label, advisories, authz=authz,
                                key_path=("Server", "Components", component))
            if f:
                findings.append(f)
        for component in ("engine", "containerd"):
            if component in versions:
                f = branch_finding(component, versions[component], inputs.docker_label, branches, today,
                                   key_path=("Server", "Components", component))
                if f:
                    findings.append(f)
    if inputs.daemon is not None:
        read.append(inputs.daemon_label)
        checked.append(f"daemon settings ({'Docker defaults, ' if inputs.daemon_defaults else ''}"
                       f"{inputs.daemon_label})")
        findings += daemon_findings(inputs.daemon, inputs.daemon_text, inputs.daemon_label,
                                    inputs.daemon_defaults)

    notes = list(inputs.notes)
    if inputs.docker is not None:
        versions = _component_versions(inputs.docker)
        if "runc" not in versions:
            notes.append("the docker version data lists no runc component (Docker before 19.03?): runc was "
                         "not checked")
        for component, text in versions.items():
            if parse_version(text) is None:
                notes.append(f"could not read the {_COMPONENT_LABEL[component]} version {text!r}")
    if inputs.kernel is not None and parse_kernel(inputs.kernel) is None:
        notes.append(f"could not read the kernel release {inputs.kernel!r}: the kernel was not checked")

    findings.sort(key=lambda f: (_ORDER[f.rule_id], f.line, f.column))
    results = []
    for label in dict.fromkeys(read):
        mine = tuple(f for f in findings if f.file == label)
        results.append(FileResult(label, Status.FINDINGS if mine else Status.CLEAN, findings=mine))
    results += [FileResult(path, Status.ERROR, error=message) for path, message in inputs.errors]
    return HostReport(tuple(results), tuple(notes), inputs.read_anything, tuple(checked))


def run_host(docker_version: str | None = None, daemon_config: str | None = None, kernel: str | None = None,
             **live) -> HostReport:
    """The `hardener host` command without the printing: offline when any input is given, else live
    (keyword arguments go to `collect_live`)."""
    if docker_version is None and daemon_config is None and kernel is None:
        inputs = collect_live(**live)
    else:
        inputs = load_offline(docker_version, daemon_config, kernel)
    return audit(inputs)
