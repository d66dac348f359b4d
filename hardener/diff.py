"""Unified diffs as a pure function of two texts."""
from __future__ import annotations

import difflib
import os


def unified(before: str, after: str, path: str) -> str:
    """A unified diff (a/ and b/ prefixes, three lines of context); '' when the texts are equal."""
    if before == after:
        return ""
    name = os.path.normpath(path).lstrip("/")
    lines = difflib.unified_diff(before.splitlines(True), after.splitlines(True), f"a/{name}", f"b/{name}")
    out = []
    for line in lines:
        if not line.endswith("\n"):
            line += "\n\\ No newline at end of file\n"
        out.append(line)
    return "".join(out)
