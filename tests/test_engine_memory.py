"""What the engine lets go early to hold less memory must not change any result.

Settings.keep_edits=False (what the CLI asks for when no report shows a patch) drops each fix's edits
as soon as the engine no longer needs them: the results must equal today's results with the edits
dropped afterwards (FileResult.without_edits), for `check` and `fix`, on the corpus sample, on a
project of several files, and with a baseline in the settings (its policy reads the edits to the end).
Finding's copies (with_file, with_fix) are built field by field: they must equal dataclasses.replace."""
from __future__ import annotations

from collections import Counter
from dataclasses import fields, replace

import pytest

from hardener.baseline import Recorded
from hardener.engine import process_project
from hardener.model import Applicability, Confidence, Finding, Fix, Severity
from hardener.settings import Settings
from hardener.yamltext import Edit

from compose_tools import CORPUS, require_corpus, sample_names
from conftest import y


def every_field_set() -> Finding:
    fix = Fix(Applicability.UNSAFE, (Edit(3, 5, "x", (("services", "a"),)),), "do it", ("a", "b"))
    return Finding("ABC001", "abc", Severity.HIGH, Confidence.MEDIUM, ("1.2",), "message", 7, 9, "a",
                   ("services", "a", "ports"), fix, "f.yaml", True, True)


def test_each_field_is_set_in_the_example():
    defaults = Finding("X", "x", Severity.LOW, Confidence.LOW, (), "", 1, 1)
    example = every_field_set()
    assert all(getattr(example, f.name) != getattr(defaults, f.name) for f in fields(Finding))


def test_with_file_and_with_fix_equal_replace():
    f = every_field_set()
    assert f.with_file("other.yaml") == replace(f, file="other.yaml")
    assert f.with_fix(None) == replace(f, fix=None)
    other = Fix(Applicability.SAFE, (), "other", ())
    assert f.with_fix(other) == replace(f, fix=other)


def results(inputs, fix: bool, keep_edits: bool, **settings):
    settings.setdefault("unsafe_fixes", True)
    return process_project(inputs, Settings(keep_edits=keep_edits, **settings), fix)


# a fix pass drops the edits of the fixes it will not apply (unsafe ones without --unsafe-fixes)
@pytest.mark.parametrize("fix,unsafe", [(False, True), (True, True), (True, False)],
                         ids=["check", "fix-unsafe", "fix-safe"])
def test_dropping_edits_early_changes_nothing_else_on_the_corpus_sample(fix, unsafe):
    require_corpus()
    for name in sample_names():
        inputs = [(name, (CORPUS / name).read_bytes())]
        kept = results(inputs, fix, True, unsafe_fixes=unsafe)
        dropped = results(inputs, fix, False, unsafe_fixes=unsafe)
        assert dropped == [r.without_edits() for r in kept], name
        assert all(not f.fix.edits for r in dropped for f in r.findings + r.fixed if f.fix), name


BASE = y("services:", "  web:", "    image: nginx:1.27", "    ports:", '      - "8080:80"',
         "  db:", "    image: postgres:16", "    privileged: true")
OVERRIDE = y("services:", "  web:", "    environment:", "      MODE: prod", "  cache:", "    image: redis:7")


@pytest.mark.parametrize("fix", [False, True], ids=["check", "fix"])
def test_dropping_edits_early_in_a_project_of_two_files(fix):
    inputs = [("compose.yaml", BASE.encode()), ("compose.override.yaml", OVERRIDE.encode())]
    kept = results(inputs, fix, True)
    assert any(f.fix and f.fix.edits for r in kept for f in r.findings + r.fixed)
    assert results(inputs, fix, False) == [r.without_edits() for r in kept]


# NET001 moves both back ends in one fix: a baseline that records db's finding takes cache's fix away
SEGMENTS = y("services:", "  web:", "    image: myorg/web", '    ports: ["8080:8080"]', "    environment:",
             "      DATABASE_URL: postgres://app@db:5432/app", "      REDIS_URL: redis://cache:6379",
             "  db:", "    image: postgres:16", "  cache:", "    image: redis:7")


@pytest.mark.parametrize("fix", [False, True], ids=["check", "fix"])
def test_a_baseline_reads_the_edits_before_they_are_dropped(fix, tmp_path):
    inputs = [("compose.yaml", SEGMENTS.encode())]
    (db,) = [f for f in results(inputs, False, True)[0].findings if f.rule_id == "NET001" and f.service == "db"]
    key = ("NET001", "compose.yaml", "db", "/".join(db.key_path), db.message)
    recorded = Recorded(Counter({key: 1}), tmp_path / "baseline.json", str(tmp_path / "compose.yaml"))
    kept = results(inputs, fix, True, baseline=recorded)
    (cache,) = [f for f in kept[0].findings if f.rule_id == "NET001"]
    assert cache.service == "cache" and cache.fix is None  # it shared an edit with the recorded one
    assert results(inputs, fix, False, baseline=recorded) == [r.without_edits() for r in kept]


class LyingRule:
    """A rule module for the engine's rare path (no shipped rule writes outside its declared paths):
    LIE001 always offers a fix that writes `b` while declaring `a`; it and the honest fix of `c: 3`
    never verify together, so the pass runs the rules again and applies the first fix that verifies
    on its own. The honest finding goes away once `c` is 4."""

    ID, NAME, SEVERITY, CONFIDENCE, ATTACK_TREE, FIX, OPTIONS = (
        "LIE001", "lying-rule", Severity.LOW, Confidence.HIGH, (), Applicability.SAFE, {})

    @staticmethod
    def check(ctx):
        text = ctx.doc.text

        def finding(what: str, edit: Edit) -> Finding:
            return Finding("LIE001", "lying-rule", Severity.LOW, Confidence.HIGH, (), what, 1, 1,
                           key_path=(what,), fix=Fix(Applicability.SAFE, (edit,), what))

        b = text.index("b: ") + 3
        yield finding("liar", Edit(b, b + 1, "9", (("a",),)))
        if "c: 3" in text:
            c = text.index("c: 3") + 3
            yield finding("honest", Edit(c, c + 1, "4", (("c",),)))


@pytest.mark.parametrize("keep_edits", [True, False])
def test_fixes_that_do_not_verify_together_are_applied_one_by_one(monkeypatch, keep_edits):
    from hardener import engine

    monkeypatch.setattr(engine, "RULES", [LyingRule])
    (result,) = process_project([("x.yaml", b"a: 1\nb: 2\nc: 3\n")], Settings(keep_edits=keep_edits), True)
    assert result.output == "a: 1\nb: 2\nc: 4\n"
    assert [f.message for f in result.fixed] == ["honest"] and [f.message for f in result.findings] == ["liar"]
    assert all(bool(f.fix.edits) == keep_edits for f in result.fixed + result.findings)


def test_a_fix_pass_keeps_the_edits_of_unsafe_fixes_extend_safe_fixes_applies():
    inputs = [("compose.yaml", BASE.encode())]
    plain = results(inputs, True, False, unsafe_fixes=False)[0]
    extended = results(inputs, True, False, unsafe_fixes=False, extend_safe_fixes=frozenset({"PRV001"}))[0]
    assert "PRV001" not in {f.rule_id for f in plain.fixed}
    assert "PRV001" in {f.rule_id for f in extended.fixed}  # privileged: true removed
    kept = results(inputs, True, True, unsafe_fixes=False, extend_safe_fixes=frozenset({"PRV001"}))
    assert [extended] == [r.without_edits() for r in kept]
