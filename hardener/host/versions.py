"""Version numbers of the host's parts as they are written and ordered: Docker Engine, containerd and
runc versions (`parse_version`) and kernel releases as `uname -r` prints them (`parse_kernel`)."""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass

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
