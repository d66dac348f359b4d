"""Baselines, bandit style: record today's findings so that only new ones are reported.

A finding is matched by rule id, file (relative to the baseline file's folder), service and key path,
never by line, so edits elsewhere in the file do not bring recorded findings back. Matching counts:
two recorded findings hide at most two current ones with the same key.
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
    entries = [dict(zip(("rule_id", "file", "service", "key_path"), _key(f, folder)))
               for r in results for f in r.findings]
    path.write_text(json.dumps({"version": VERSION, "tool": "hardener", "findings": entries}, indent=2) + "\n")


def load(path: Path) -> Counter:
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not isinstance(data.get("findings"), list):
        raise ValueError("expected {\"findings\": [...]} as written by --write-baseline")
    return Counter((e["rule_id"], e["file"], e.get("service") or "", e.get("key_path", "")) for e in data["findings"])


def hide(results, known: Counter, path: Path):
    folder = path.resolve().parent
    left = Counter(known)
    out = []
    for r in results:
        kept = []
        for f in r.findings:
            k = _key(f, folder)
            if left[k] > 0:
                left[k] -= 1
            else:
                kept.append(f)
        out.append(replace(r, findings=tuple(kept)))
    return out
