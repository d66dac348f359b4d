"""GitLab Code Quality: the JSON array a job hands to GitLab as `artifacts:reports:codequality`, which
GitLab shows in the merge request's Code Quality widget (and, on higher tiers, in the diff).

    [{"description": "...", "check_name": "CAP001", "fingerprint": "<sha256>", "severity": "critical",
      "location": {"path": "deploy/compose.yaml", "lines": {"begin": 12}}, ...}]

GitLab documents a subset of the Code Climate issue format; these fields are the ones it reads:
`description`, `check_name`, `fingerprint` (unique within the report; GitLab compares reports of two
pipelines by it), `severity` (`info`, `minor`, `major`, `critical`, `blocker`) and `location.path`
(relative to the repository root) with `location.lines.begin`. `type` and `categories` come from the
Code Climate spec and are ignored by GitLab.

The fingerprint is the SARIF one (sha256 of rule id, file, service and key path): it does not change
when lines move or between runs; two findings with the same four values are told apart by their
order (`...:2`, hashed again so that every fingerprint stays 64 hexadecimal digits). A file that could
not be processed is a `critical` issue of check `hardener/unprocessed-file`.
"""
from __future__ import annotations

import hashlib
import json
from collections import Counter

from ..model import Status
from ._common import display_path, visible
from .sarif import fingerprint

SEVERITY = {"low": "minor", "medium": "major", "high": "critical", "critical": "blocker"}
UNPROCESSED = "hardener/unprocessed-file"


def _hashed(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def issue(f, path: str, fp: str) -> dict:
    nodes = ", ".join(f.attack_tree)
    description = f"{f.rule_id} {f.rule_name}: {f.message}"
    if nodes:
        description += f" (attack tree {nodes})"
    if f.fix is not None:
        description += f"; {f.fix.applicability.value} fix: {f.fix.description}"
    return {
        "type": "issue",
        "check_name": f.rule_id,
        "description": visible(description),
        "categories": ["Security"],
        "severity": SEVERITY[f.severity.value],
        "fingerprint": fp,
        "location": {"path": path, "lines": {"begin": f.line}},
    }


def build(results, cwd: str | None = None) -> list[dict]:
    out, seen = [], Counter()
    for r in results:
        path = display_path(r.path, cwd)
        if r.status is Status.ERROR:
            line, message = 1, r.error or "not processed"
            head, _, rest = message.partition(": ")
            if head.count(":") == 1 and all(p.isdigit() for p in head.split(":")):
                line, message = int(head.split(":")[0]) or 1, rest
            out.append({"type": "issue", "check_name": UNPROCESSED,
                        "description": visible(f"hardener could not process this file: {message}"),
                        "categories": ["Bug Risk"], "severity": "critical",
                        "fingerprint": _hashed(f"{UNPROCESSED}\x00{path}"),
                        "location": {"path": path, "lines": {"begin": line}}})
            continue
        for f in r.findings:
            fp = fingerprint(f, path)
            seen[fp] += 1
            if seen[fp] > 1:  # the same rule twice at one key (two ports, two mounts)
                fp = _hashed(f"{fp}:{seen[fp]}")
            out.append(issue(f, path, fp))
    return out


def render(results, cwd: str | None = None, **_) -> str:
    return json.dumps(build(results, cwd), indent=2) + "\n"
