"""The values the engine hands to the CLI and the output formats: closed sets and frozen records."""
from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the text layer (and ruamel.yaml) is not needed to name the values
    from .yamltext import Edit


class Severity(str, enum.Enum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return ("low", "medium", "high", "critical").index(self.value)


class Confidence(str, enum.Enum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class Applicability(str, enum.Enum):
    """Whether a finding can be fixed, ruff style: safe fixes are applied by `fix`, unsafe ones only
    with --unsafe-fixes."""

    SAFE = "safe"
    UNSAFE = "unsafe"
    NONE = "none"


class Status(str, enum.Enum):
    """What happened to one input."""

    CLEAN = "clean"  # nothing found
    FINDINGS = "findings"  # findings reported, file not written
    FIXED = "fixed"  # fixes applied (written, printed, or shown as a diff)
    ERROR = "error"  # the input could not be processed; nothing was written


@dataclass(frozen=True, slots=True)  # slots: a big file has tens of thousands of findings and fixes
class Fix:
    applicability: Applicability
    edits: tuple[Edit, ...]
    description: str
    reach: tuple[str, ...] = ()  # every service the edits change (filled in by the engine)


@dataclass(frozen=True, slots=True)
class Finding:
    rule_id: str
    rule_name: str
    severity: Severity
    confidence: Confidence
    attack_tree: tuple[str, ...]
    message: str
    line: int  # 1-based
    column: int  # 1-based
    service: str | None = None
    key_path: tuple = ()  # where in the compose model, for baselines and fingerprints
    fix: Fix | None = None
    file: str = ""
    elsewhere: bool = False  # about a value written in another file of the project: reported there
    # about a setting the service lacks (set by the rule): reported where the service is defined, not in
    # a partial service's mapping (see rules.base.finding)
    missing: bool = False

    @property
    def applicability(self) -> Applicability:
        return self.fix.applicability if self.fix else Applicability.NONE

    # with_file and with_fix build the copy directly, every field in order: dataclasses.replace costs
    # twice as much, and a big file's findings go through them tens of thousands of times
    # (tests/test_model.py checks that each copy equals replace's)
    def with_file(self, file: str) -> "Finding":
        return Finding(self.rule_id, self.rule_name, self.severity, self.confidence, self.attack_tree, self.message,
                       self.line, self.column, self.service, self.key_path, self.fix, file, self.elsewhere,
                       self.missing)

    def with_fix(self, fix: "Fix | None") -> "Finding":
        return Finding(self.rule_id, self.rule_name, self.severity, self.confidence, self.attack_tree, self.message,
                       self.line, self.column, self.service, self.key_path, fix, self.file, self.elsewhere,
                       self.missing)

    def without_edits(self) -> "Finding":
        if self.fix is None or not self.fix.edits:
            return self
        return self.with_fix(Fix(self.fix.applicability, (), self.fix.description, self.fix.reach))


@dataclass(frozen=True)
class FileResult:
    path: str
    status: Status
    findings: tuple[Finding, ...] = ()  # what remains after fixing (all findings for check)
    fixed: tuple[Finding, ...] = ()  # findings whose fix was applied
    original: str | None = None
    output: str | None = None  # the new text when fixes were applied
    error: str | None = None  # "line:col: message" for ERROR
    notes: tuple[str, ...] = field(default=())

    def without_edits(self) -> "FileResult":
        """The same result without the fixes' edits (what reports that show no patch need)."""
        return replace(self, findings=tuple(f.without_edits() for f in self.findings),
                       fixed=tuple(f.without_edits() for f in self.fixed))
