"""Suggestions for a pull-request bot: the proposed patch split into hunks, each one a replacement of
whole lines of the ORIGINAL file, ready to post as a ```suggestion review comment.

    {"version": 1, "tool": "hardener", "suggestions": [
      {"file": "compose.yaml", "start_line": 12, "end_line": 12,
       "original": "    image: nginx\\n", "replacement": "    image: nginx\\n    cap_drop:\\n      - ALL\\n",
       "rules": ["CAP001"], "findings": [...], "body": "...```suggestion\\n...```"}]}

A comment cannot sit on a line that does not exist yet, so a hunk that only inserts is anchored to the
line before the insertion (replaced by itself followed by the new lines), or to the first line when the
insertion is at the top of the file. A hunk that only deletes has an empty replacement.
Applying every suggestion of a file (they never overlap) gives the fixed text.
"""
from __future__ import annotations

import difflib
import json

from ..model import Status
from ._common import display_path, fence_for, md_text

VERSION = 1


def hunks(before: str, after: str) -> list[dict]:
    """[{start_line, end_line, original, replacement}] turning `before` into `after`; lines 1-based and
    inclusive, texts with their line ends."""
    old, new = before.splitlines(True), after.splitlines(True)
    out = []
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        added = "".join(new[j1:j2])
        if i1 == i2:  # insertion only: anchor to an existing line
            if not old:
                continue  # an empty file has no line to comment on
            if i1 > 0:
                # the line before the insertion; it ends with a line break, or the insertion would
                # have changed it and the hunk would be a replacement
                start = i1
                replacement = old[i1 - 1] + added
            else:
                start = 1
                replacement = added + old[0]
            out.append({"start_line": start, "end_line": start, "original": old[start - 1],
                        "replacement": replacement})
        else:
            out.append({"start_line": i1 + 1, "end_line": i2, "original": "".join(old[i1:i2]),
                        "replacement": added})
    return out


def apply(before: str, suggestions) -> str:
    """The text after replacing each suggestion's lines; what a reviewer accepting them all gets."""
    lines = before.splitlines(True)
    for s in sorted(suggestions, key=lambda s: s["start_line"], reverse=True):
        lines[s["start_line"] - 1:s["end_line"]] = [s["replacement"]]
    return "".join(lines)


def _line_spans(text: str) -> list[int]:
    starts, pos = [0], 0
    for line in text.splitlines(True):
        pos += len(line)
        starts.append(pos)
    return starts


def _attribute(hunk, spans, findings) -> list:
    """Findings whose fix edits fall on or next to the hunk's original lines (best effort: a finding
    whose fix was applied in a later pass may point elsewhere)."""
    lo, hi = spans[hunk["start_line"] - 1], spans[hunk["end_line"]]
    out = []
    for f in findings:
        if f.fix is None:
            continue
        if any(lo <= e.start <= hi and lo <= e.end <= hi for e in f.fix.edits):
            out.append(f)
    return out


def body(hunk, findings) -> str:
    """The review comment: what the suggestion fixes, then the suggestion block."""
    text = hunk["replacement"].replace("\r\n", "\n")
    if text and not text.endswith("\n"):
        text += "\n"
    fence = fence_for(text)
    head = [f"**{md_text(f.rule_id)}** {md_text(f.rule_name)} ({md_text(f.severity.value)}, "
            f"{f.fix.applicability.value} fix): {md_text(f.message)}" for f in findings]
    if not head:
        head = ["hardener proposes this change."]
    return "\n".join(f"- {h}" if findings else h for h in head) + f"\n\n{fence}suggestion\n{text}{fence}\n"


def build(results, patches=(), patch_mode="safe", cwd=None) -> dict:
    by_path = {r.path: r for r in results}
    out = []
    for p in patches:
        if p.before == p.after:
            continue
        result = by_path.get(p.path)
        # findings of `check` carry fixes relative to the original text; use them to say what a hunk fixes
        findings = [f for f in (result.findings if result is not None and result.status is not Status.FIXED else ())
                    if f.fix is not None and (patch_mode == "unsafe" or f.fix.applicability.value == "safe")]
        spans = _line_spans(p.before)
        for h in hunks(p.before, p.after):
            fixes = _attribute(h, spans, findings)
            out.append({
                "file": display_path(p.path, cwd),
                **h,
                "rules": sorted({f.rule_id for f in fixes}),
                "findings": [{"rule_id": f.rule_id, "service": f.service, "line": f.line, "message": f.message,
                              "severity": f.severity.value, "fix": f.fix.applicability.value} for f in fixes],
                "body": body(h, fixes),
            })
    return {"version": VERSION, "tool": "hardener", "patch": patch_mode, "suggestions": out}


def render(results, patches=(), patch_mode="safe", cwd=None, **_) -> str:
    return json.dumps(build(results, patches, patch_mode, cwd), indent=2, ensure_ascii=False) + "\n"

