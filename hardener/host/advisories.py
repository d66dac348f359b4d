"""The host checks' knowledge: the advisory table (flaws of the kernel, Docker Engine and runc, with
the releases that fix them) and the upstream support status of Engine and containerd release branches,
both shipped as data in `hardener/data/advisories.json`."""
from __future__ import annotations

import datetime
import functools
import json
from dataclasses import dataclass
from importlib import resources

from ..model import Severity
from .versions import Version, parse_kernel, parse_version

ADVISORIES_RESOURCE = "advisories.json"


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
