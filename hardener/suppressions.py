"""Inline suppression comments, ruff style:

- `# hardener: ignore` on a service's name line silences every rule for that service (and no fix
  touches it); on any other line it silences the findings reported on that line or under that key;
- `# hardener: ignore[CAP001,no-log-rotation]` does the same for the named rules only;
- `# hardener: ignore-file` / `# hardener: ignore-file[...]` on a line of its own covers the file.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from .yamltext import comments

# an unclosed `[` makes no directive (it would otherwise silence every rule): misspelled() reports it
_PATTERN = re.compile(r"#\s*hardener:\s*(ignore-file|ignore)(?![\w-])(?:\[([^\]]*)\]|(?!\[))", re.I)


@dataclass
class Suppression:
    line: int  # 0-based
    column: int
    rules: frozenset  # empty: every rule
    whole_file: bool
    text: str
    used: bool = field(default=False)

    def covers(self, rule) -> bool:
        return not self.rules or rule.ID in self.rules or rule.NAME in self.rules


def parse_suppressions(text: str) -> list[Suppression]:
    found = []
    if "hardener" not in text.lower():
        return found  # most files have none: skip reading every comment
    for line, column, comment in comments(text):
        m = _PATTERN.search(comment)
        if m:
            names = frozenset(n.strip() for n in (m.group(2) or "").split(",") if n.strip())
            found.append(Suppression(line, column + m.start(), names, m.group(1).lower() == "ignore-file",
                                     m.group(0)))
    return found


_DIRECTIVE = re.compile(r"#\s*hardener\s*:\s*([^\s\[#]*)(\[[^\]]*\]?)?", re.I)


def misspelled(text: str) -> list[tuple[int, int, str]]:
    """(0-based line, column, the comment's directive) of each `# hardener: ...` comment that is not
    a directive hardener knows (a typo such as `ignroe[...]` silences nothing, and would otherwise go
    unnoticed)."""
    found = []
    if "hardener" not in text.lower():
        return found
    for line, column, comment in comments(text):
        for m in _DIRECTIVE.finditer(comment):
            if not _PATTERN.match(comment, m.start()):
                found.append((line, column + m.start(), m.group(0).strip()))
    return found
