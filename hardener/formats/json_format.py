"""JSON: {"version", "tool", "findings": [...], "errors": [...], "summary": {...}}; schema version 1.

Under `fix --diff` (the CLI says so with diff=True) two more keys, always present there: "patches" (per file its
unified diff) and "effective_changes" (per service, what Docker will run differently)."""
from __future__ import annotations

import json

from ..model import Applicability, Status

SCHEMA_VERSION = 1


def finding_data(f) -> dict:
    return {
        "rule_id": f.rule_id,
        "rule_name": f.rule_name,
        "file": f.file,
        "service": f.service,
        "line": f.line,
        "column": f.column,
        "severity": f.severity.value,
        "confidence": f.confidence.value,
        "message": f.message,
        "attack_tree": list(f.attack_tree),
        "key_path": [str(p) for p in f.key_path],
        "fix": f.applicability.value,
        "fix_description": f.fix.description if f.fix else None,
        "fix_reach": list(f.fix.reach) if f.fix else [],
    }


def render(results, patches=(), cwd=None, projects=None, diff: bool = False, **_) -> str:
    findings = [finding_data(f) for r in results for f in r.findings]
    fixed = [finding_data(f) for r in results for f in r.fixed]
    errors = [{"file": r.path, "message": r.error} for r in results if r.status is Status.ERROR]
    doc = {
        "version": SCHEMA_VERSION,
        "tool": "hardener",
        "findings": findings,
        "fixed": fixed,
        "errors": errors,
        "summary": {
            "files": len(results),
            "findings": len(findings),
            "fixed": len(fixed),
            "fixable_safe": sum(f["fix"] == Applicability.SAFE.value for f in findings),
            "fixable_unsafe": sum(f["fix"] == Applicability.UNSAFE.value for f in findings),
            "errors": len(errors),
        },
    }
    if diff:  # `fix --diff`: what the fix would do
        from ._common import effective_changes

        doc["patches"] = [{"file": p.path, "diff": p.diff} for p in patches if p.diff]
        doc["effective_changes"] = effective_changes(results, patches, cwd, projects)
    return json.dumps(doc, indent=2) + "\n"
