"""Baselines, bandit style: record today's findings so that only new ones are reported.

A finding is matched by rule id, file (relative to the baseline file's folder), service and key path,
never by line, so edits elsewhere in the file do not bring recorded findings back. Findings with the
same message are matched first (so a new port above a recorded one is the one reported), then any
with the same key. Matching counts: two recorded findings hide at most two current ones.
"""
from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import replace
from pathlib import Path

VERSION = 1


def _key(finding, folder: Path) -> tuple:
    file = os.path.relpath(os.path.abspath(finding.file), folder.resolve()).replace(os.sep, "/")
    return (finding.rule_id, file, finding.service or "", "/".join(map(str, finding.key_path)))


def write(path: Path, results) -> None:
    folder = path.resolve().parent
    entries = [dict(zip(("rule_id", "file", "service", "key_path"), _key(f, folder)), message=f.message)
               for r in results for f in r.findings]
    path.write_text(json.dumps({"version": VERSION, "tool": "hardener", "findings": entries}, indent=2) + "\n")


def load(path: Path) -> Counter:
    """(rule, file, service, key path, message) -> count; the message is None in older baselines."""
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not isinstance(data.get("findings"), list):
        raise ValueError("expected {\"findings\": [...]} as written by --write-baseline")
    return Counter((e["rule_id"], e["file"], e.get("service") or "", e.get("key_path", ""), e.get("message"))
                   for e in data["findings"])


def hide(results, known: Counter, path: Path):
    folder = path.resolve().parent
    exact = Counter({k: n for k, n in known.items() if k[4] is not None})
    loose = Counter()
    for k, n in known.items():
        loose[k[:4]] += n
    findings = [(i, f, _key(f, folder)) for i, r in enumerate(results) for f in r.findings]
    hidden = set()
    for _, f, k in findings:  # same message first
        if exact[k + (f.message,)] > 0:
            exact[k + (f.message,)] -= 1
            loose[k] -= 1
            hidden.add(id(f))
    for _, f, k in findings:  # then the same place, whatever the message
        if id(f) not in hidden and loose[k] > 0:
            loose[k] -= 1
            hidden.add(id(f))
    return [replace(r, findings=tuple(f for f in r.findings if id(f) not in hidden)) for r in results]

