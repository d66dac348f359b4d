"""Runs the rules over a document and applies their fixes. Never prints; returns FileResults.

Fixing works in passes: every fix whose edits do not overlap another's is applied at once, the new text
is parsed again and compared with the old one (only the paths the edits declared may differ), and the
rules run again on the result until no applicable fix is left. That is what makes `fix` idempotent.
"""
from __future__ import annotations

import os
import tempfile

from .compose import Context
from .model import Applicability, FileResult, Finding, Status
from .rules import RULES
from .settings import Settings
from .yamltext import (Document, EditConflict, YamlInputError, apply_edits, changed_paths, decode, parse,
                       raw)

MAX_PASSES = 50  # a pass applies all compatible fixes; only conflicts need more than a few
MAX_BYTES = 20 * 1024 * 1024  # larger inputs are refused: no compose file is this big


class InternalFixError(Exception):
    pass


def run_rules(doc: Document, settings: Settings) -> list[Finding]:
    if doc.root is None:
        return []
    ctx = Context.of(doc, settings.options)
    findings = []
    for rule in RULES:
        if settings.wants(rule):
            findings.extend(rule.check(ctx))
    findings.sort(key=lambda f: (f.line, f.column, f.rule_id))
    return findings


def _applies(finding: Finding, settings: Settings) -> bool:
    if finding.fix is None:
        return False
    return finding.fix.applicability is Applicability.SAFE or settings.unsafe_fixes


def _overlaps(edit, taken) -> bool:
    for other in taken:
        if other == edit:
            continue
        if edit.start < other.end and other.start < edit.end:
            return True
        if edit.start == edit.end and other.start < edit.start < other.end:
            return True
        if other.start == other.end and edit.start < other.start < edit.end:
            return True
    return False


def _verify(before: Document, after: Document, edits) -> None:
    allowed = [p for e in edits for p in e.paths]
    for path in changed_paths(raw(before.root), raw(after.root)):
        if not any(path[:len(a)] == a for a in allowed):
            raise InternalFixError("a fix would change " + ".".join(map(str, path)) + ", which it did not mean to")


def _fix_key(f: Finding):
    return (f.rule_id, f.key_path, f.line, f.column, f.fix.description)


def _one_pass(doc: Document, findings, settings, rejected: set):
    """Apply every non-conflicting applicable fix once; return (new doc, applied findings). When the
    combined result fails verification, apply the first fix that verifies on its own instead."""
    chosen, taken = [], []
    for f in findings:
        if not _applies(f, settings) or _fix_key(f) in rejected:
            continue
        if any(_overlaps(e, taken) for e in f.fix.edits):
            continue  # the next pass sees it again on the new text
        chosen.append(f)
        taken.extend(f.fix.edits)
    if not chosen:
        return doc, []
    try:
        return _apply_checked(doc, taken), chosen
    except (InternalFixError, EditConflict, YamlInputError):
        pass
    for f in chosen:
        try:
            return _apply_checked(doc, list(f.fix.edits)), [f]
        except (InternalFixError, EditConflict, YamlInputError):
            rejected.add(_fix_key(f))  # never written; the finding stays in the report
    return doc, []


def _apply_checked(doc: Document, edits) -> Document:
    text = apply_edits(doc, edits)
    new = parse(text, doc.bom)
    _verify(doc, new, edits)
    return new


def harden_text(text: str, settings: Settings, fix: bool) -> tuple[list[Finding], list[Finding], str]:
    """(remaining findings, fixed findings, new text). Raises YamlInputError for bad input."""
    doc = parse(text)
    findings = run_rules(doc, settings)
    if not fix:
        return findings, [], text
    fixed: list[Finding] = []
    rejected: set = set()
    for _ in range(MAX_PASSES):
        doc, applied = _one_pass(doc, findings, settings, rejected)
        if not applied:
            break
        fixed.extend(applied)
        findings = run_rules(doc, settings)
    return findings, fixed, doc.text


def process(path: str, data: bytes, settings: Settings, fix: bool) -> FileResult:
    """Check or fix one input's bytes; never raises for bad input."""
    if len(data) > MAX_BYTES:
        return FileResult(path, Status.ERROR, error=f"1:1: file larger than {MAX_BYTES // (1024 * 1024)} MB")
    try:
        text, bom = decode(data)
        remaining, fixed, new_text = harden_text(text, settings, fix)
    except YamlInputError as exc:
        return FileResult(path, Status.ERROR, error=f"{exc.line}:{exc.column}: {exc.message}")
    except RecursionError:
        return FileResult(path, Status.ERROR, error="1:1: nesting too deep")
    findings = tuple(f.with_file(path) for f in remaining)
    fixed = tuple(f.with_file(path) for f in fixed)
    if fix and new_text != text:
        return FileResult(path, Status.FIXED, findings, fixed, original=text, output=new_text)
    return FileResult(path, Status.FINDINGS if findings else Status.CLEAN, findings, original=text)


def encode(text: str, bom: bool) -> bytes:
    return (b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8")


def write_atomic(path: str, data: bytes) -> None:
    """Replace the file's content in one rename; a symlink stays a link and its target is written;
    the file's permission bits are kept."""
    real = os.path.realpath(path)
    folder = os.path.dirname(real) or "."
    mode = os.stat(real).st_mode & 0o7777
    fd, tmp = tempfile.mkstemp(prefix=".hardener-", dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, real)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
