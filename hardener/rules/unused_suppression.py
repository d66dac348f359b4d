"""Report suppression comments that silence nothing.

**What it finds.** A `# hardener: ignore` or `# hardener: ignore[...]` comment that matched no finding
in this run (for the rules it names that are enabled).

**Why it matters.** Suppressions outlive the problems they hid. A stale one silently hides the next
finding that appears on that service or line, so a reviewer cannot tell an accepted risk from a
forgotten comment.

**Example.**

    services:
      web:  # hardener: ignore[no-log-rotation]
        image: nginx
        logging:
          driver: local

**Fix.** None: remove the comment by hand, or narrow it to the rules that still fire.

**What may break.** Nothing; this rule only reports.

The engine raises this finding itself after the other rules ran; it has no check of its own.
"""
from __future__ import annotations

from ..model import Applicability, Confidence, Severity

ID = "HRD001"
NAME = "unused-suppression"
ATTACK_TREE: tuple = ()
SEVERITY = Severity.LOW
CONFIDENCE = Confidence.HIGH
FIX = Applicability.NONE
OPTIONS: dict = {}


def check(ctx):
    return ()
