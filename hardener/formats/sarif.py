"""SARIF 2.1.0 for code-scanning services (GitHub code scanning, Azure DevOps, IDE viewers).

One run; `tool.driver.rules` has one reportingDescriptor per rule that ran; every finding is a result
with its location, a line-independent fingerprint and, when it can be fixed, a `fixes` entry whose
replacements turn the scanned text into the fixed one. Offsets and columns count Unicode code points
of the text (after an optional UTF-8 byte-order mark), as `columnKind` says.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import urllib.parse
from collections import Counter

from .. import __version__
from . import DEFAULT_RULES_URL, RuleInfo, rule_url
from ..model import Status
from ._common import Positions, applied_edits, display_path, path_uri

SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
INFORMATION_URI = "https://github.com/hardener-dev/hardener"
SRCROOT = "%SRCROOT%"
FINGERPRINT_KEY = "hardenerFinding/v1"

LEVELS = {"critical": "error", "high": "error", "medium": "warning", "low": "note"}
# GitHub reads properties["security-severity"] (a number as a string): 9.0+ critical, 7.0-8.9 high,
# 4.0-6.9 medium, 0.1-3.9 low.
SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0"}


def _plain(markdown: str) -> str:
    """Docstring Markdown as plain text: no emphasis markers or code backticks."""
    return re.sub(r"\*\*(.+?)\*\*", r"\1", markdown, flags=re.S).replace("`", "")


def _descriptor(rule: RuleInfo, rules_url: str) -> dict:
    full = " ".join(part for part in (rule.section("What it finds"), rule.section("Why it matters")) if part)
    doc = rule.doc.strip() or rule.summary
    return {
        "id": rule.id,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": " ".join(_plain(full).split()) if full else rule.summary},
        "help": {"text": _plain(doc), "markdown": doc},
        "helpUri": rule_url(rules_url, rule.id),
        "defaultConfiguration": {"level": LEVELS[rule.severity]},
        "properties": {
            "tags": ["security", *rule.attack_tree],
            "security-severity": SECURITY_SEVERITY[rule.severity],
            "precision": rule.confidence if rule.confidence in ("low", "medium", "high") else "medium",
            "problem.severity": {"error": "error", "warning": "warning"}.get(LEVELS[rule.severity], "recommendation"),
            "fix": rule.fix,
        },
    }


def _fallback_rule(f) -> RuleInfo:
    """A descriptor for a finding whose rule the CLI did not describe (e.g. one raised by the engine)."""
    return RuleInfo(f.rule_id, f.rule_name, f.severity.value, f.confidence.value, f.applicability.value,
                    tuple(f.attack_tree), "")


def fingerprint(f, path: str) -> str:
    """sha256 over rule id, file, service and key path: moving lines around does not change it."""
    parts = [f.rule_id, path, f.service or "", "\x1f".join(map(str, f.key_path))]
    return hashlib.sha256("\x00".join(parts).encode("utf-8")).hexdigest()


def _region(pos: Positions, start: int, end: int) -> dict:
    """A region by offsets and by lines/columns; the end is the position just after the last character
    (for a region that ends with a line break: line + 1, column 1)."""
    start_line, start_col = pos.at(start)
    end_line, end_col = pos.at(end)
    return {"startLine": start_line, "startColumn": start_col, "endLine": end_line, "endColumn": end_col,
            "charOffset": start, "charLength": end - start}


def replacements(original: str, edits, pos: Positions | None = None) -> list[dict]:
    """SARIF replacements for a fix's edits, relative to the original text and in the order that
    reproduces yamltext.apply_edits (insertions at one point: the order they appear)."""
    pos = pos or Positions(original)
    return [{"deletedRegion": _region(pos, start, end), "insertedContent": {"text": text}}
            for start, end, text in applied_edits(original, edits)]


def _result(f, rule_index: int, location: dict, pos: Positions | None, original, fp: str) -> dict:
    sev = f.severity.value
    physical = {"artifactLocation": location, "region": {"startLine": f.line, "startColumn": f.column}}
    loc: dict = {"physicalLocation": physical}
    if f.service is not None:
        loc["logicalLocations"] = [{"name": f.service, "fullyQualifiedName": f"services.{f.service}",
                                    "kind": "object"}]
    out = {
        "ruleId": f.rule_id,
        "ruleIndex": rule_index,
        "level": LEVELS[sev],
        "message": {"text": f.message},
        "locations": [loc],
        "partialFingerprints": {FINGERPRINT_KEY: fp},
        "properties": {
            "severity": sev,
            "security-severity": SECURITY_SEVERITY[sev],
            "confidence": f.confidence.value,
            "attack-tree": list(f.attack_tree),
            "service": f.service,
            "keyPath": [str(p) for p in f.key_path],
            "fix": f.applicability.value,
        },
    }
    if f.fix is not None and original is not None:
        out["fixes"] = [{
            "description": {"text": f"{f.fix.description} ({f.fix.applicability.value} fix)"},
            "artifactChanges": [{"artifactLocation": location, "replacements": replacements(original, f.fix.edits, pos)}],
            "properties": {"applicability": f.fix.applicability.value},
        }]
    return out


def _notification(r, location: dict) -> dict:
    line, col, message = 1, 1, r.error or "could not be processed"
    match = re.match(r"(\d+):(\d+): (.*)", message, re.S)
    if match:
        line, col, message = int(match.group(1)), int(match.group(2)), match.group(3)
    return {"level": "error", "message": {"text": message},
            "locations": [{"physicalLocation": {"artifactLocation": location,
                                                "region": {"startLine": max(line, 1), "startColumn": max(col, 1)}}}]}


def build(results, rules=(), rules_url: str = DEFAULT_RULES_URL, cwd: str | None = None) -> dict:
    cwd = cwd or os.getcwd()
    described = list(rules)
    known = {r.id for r in described}
    for r in results:
        for f in r.findings:
            if f.rule_id not in known:
                described.append(_fallback_rule(f))
                known.add(f.rule_id)
    index = {r.id: i for i, r in enumerate(described)}

    out_results, notifications, seen = [], [], Counter()
    for r in results:
        uri, relative = path_uri(r.path, cwd)
        location = {"uri": uri, **({"uriBaseId": SRCROOT} if relative else {})}
        if r.status is Status.ERROR:
            notifications.append(_notification(r, location))
            continue
        # fixes are offered against the scanned text; after `fix` the remaining findings' edits refer to
        # intermediate texts, so a FIXED result carries none
        original = r.original if r.status is not Status.FIXED else None
        pos = Positions(original) if original is not None else None
        shown = display_path(r.path, cwd)
        for f in r.findings:
            fp = fingerprint(f, shown)
            seen[fp] += 1
            if seen[fp] > 1:  # the same rule twice at one key (two ports, two mounts): number them
                fp = f"{fp}:{seen[fp]}"
            out_results.append(_result(f, index[f.rule_id], location, pos, original, fp))

    run = {
        "tool": {"driver": {
            "name": "hardener",
            "version": __version__,
            "semanticVersion": __version__,
            "informationUri": INFORMATION_URI,
            "rules": [_descriptor(r, rules_url) for r in described],
        }},
        "invocations": [{"executionSuccessful": not notifications,
                         **({"toolExecutionNotifications": notifications} if notifications else {})}],
        "originalUriBaseIds": {SRCROOT: {"uri": "file://" + urllib.parse.quote(_dir_uri_path(cwd))}},
        "columnKind": "unicodeCodePoints",
        "results": out_results,
    }
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}


def _dir_uri_path(cwd: str) -> str:
    path = os.path.abspath(cwd).replace(os.sep, "/")
    if not path.startswith("/"):
        path = "/" + path
    return path if path.endswith("/") else path + "/"


def render(results, rules=(), rules_url: str = DEFAULT_RULES_URL, cwd: str | None = None, **_) -> str:
    return json.dumps(build(results, rules, rules_url, cwd), indent=2, ensure_ascii=False) + "\n"
