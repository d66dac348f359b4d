"""Baselines, bandit style: record today's findings so that only new ones are reported.

A finding is matched by rule id, file (relative to the baseline file's folder), service and key path,
never by line, so edits elsewhere in the file do not bring recorded findings back. Findings with the
same message are matched first (so a new port above a recorded one is the one reported), then any
with the same key. Matching counts: two recorded findings hide at most two current ones.

`check` hides recorded findings from its report (hide). `fix` leaves them alone: the engine gets each
file's Recorded set through its Settings and drops matching findings before any fix is chosen, so a
recorded finding is neither fixed nor reported, and only new findings are fixed.
"""
from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import replace
from pathlib import Path

VERSION = 1
MAX_BYTES = 64 * 1024 * 1024  # a baseline of a million findings is far smaller


def _file_key(file: str, folder: Path) -> str:
    return os.path.relpath(os.path.abspath(file), folder.resolve()).replace(os.sep, "/")


def _key(finding, folder: Path, file: str | None = None) -> tuple:
    file = _file_key(finding.file if file is None else file, folder)
    return (finding.rule_id, file, finding.service or "", "/".join(map(str, finding.key_path)))


def write(path: Path, results) -> int:
    """Record the findings; returns how many were recorded."""
    folder = path.resolve().parent
    entries = [dict(zip(("rule_id", "file", "service", "key_path"), _key(f, folder)), message=f.message)
               for r in results for f in r.findings]
    path.write_text(json.dumps({"version": VERSION, "tool": "hardener", "findings": entries}, indent=2) + "\n")
    return len(entries)


def load(path: Path) -> Counter:
    """(rule, file, service, key path, message) -> count; the message is None in older baselines."""
    import stat

    if not stat.S_ISREG(path.stat().st_mode):
        raise ValueError("not a regular file")
    with path.open("rb") as fh:
        raw = fh.read(MAX_BYTES + 1)
    if len(raw) > MAX_BYTES:
        raise ValueError(f"larger than {MAX_BYTES // (1024 * 1024)} MB")
    try:
        data = json.loads(raw.decode("utf-8"))
    except RecursionError:
        raise ValueError("nesting too deep") from None
    if not isinstance(data, dict) or not isinstance(data.get("findings"), list):
        raise ValueError("expected {\"findings\": [...]} as written by --write-baseline")
    out = Counter()
    for number, e in enumerate(data["findings"], 1):
        if not isinstance(e, dict) or not all(isinstance(e.get(k), str) and e.get(k) for k in ("rule_id", "file")):
            raise ValueError(f"finding {number} is not an object with rule_id and file (as --write-baseline writes)")
        service, key_path, message = e.get("service") or "", e.get("key_path", ""), e.get("message")
        if not isinstance(service, str) or not isinstance(key_path, str) or not isinstance(message, (str, type(None))):
            raise ValueError(f"finding {number}: service, key_path and message must be strings")
        out[(e["rule_id"], e["file"], service, key_path, message)] += 1
    return out


def hide(results, known: Counter, path: Path):
    folder = path.resolve().parent
    keyed = [(f, _key(f, folder)) for r in results for f in r.findings]
    hidden = _recorded(keyed, known)
    return [replace(r, findings=tuple(f for f in r.findings if id(f) not in hidden)) for r in results]


def _recorded(keyed, known: Counter) -> set:
    """ids of the findings (given with their keys) that the baseline's counts cover."""
    exact = Counter({k: n for k, n in known.items() if k[4] is not None})
    loose = Counter()
    for k, n in known.items():
        loose[k[:4]] += n
    hidden = set()
    for f, k in keyed:  # same message first
        if exact[k + (f.message,)] > 0:
            exact[k + (f.message,)] -= 1
            loose[k] -= 1
            hidden.add(id(f))
    for f, k in keyed:  # then the same place, whatever the message
        if id(f) not in hidden and loose[k] > 0:
            loose[k] -= 1
            hidden.add(id(f))
    return hidden


class Recorded:
    """What a baseline records about one file, for `fix`: the engine leaves these findings alone
    (neither fixed nor reported). Matching is the same as for `check`, on the file's current findings."""

    def __init__(self, known: Counter, path: Path, file: str):
        self._folder = path.resolve().parent
        self._file = file
        name = _file_key(file, self._folder)
        self._known = Counter({k: n for k, n in known.items() if k[1] == name})

    def __bool__(self) -> bool:
        return bool(self._known)

    def split(self, findings) -> tuple[list, list]:
        """(new findings, recorded findings)."""
        hidden = _recorded([(f, _key(f, self._folder, self._file)) for f in findings], self._known)
        return [f for f in findings if id(f) not in hidden], [f for f in findings if id(f) in hidden]
