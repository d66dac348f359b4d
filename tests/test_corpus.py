"""The project's bar, on every real compose file of the shared corpus, for `fix` with and without
unsafe fixes: comments survive, lines no fix meant to change stay byte-identical, line endings stay,
the output parses and means the same outside the hardening settings, a second run changes nothing,
and a file with nothing to fix comes back as it was.

The fixes run once per file and mode, in process, through `hardener.harden` (the function behind the
CLI); one test also runs the real `hardener fix` entry point over the files and checks that it writes
exactly those bytes.

Tiers: the default run takes a small sample of the corpus chosen by feature (compose_tools.sample_names);
`pytest -m corpus` runs every other file.
"""
from __future__ import annotations

import bisect
import collections
import difflib
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from ruamel.yaml import YAML
from ruamel.yaml.constructor import SafeConstructor
from ruamel.yaml.nodes import ScalarNode, SequenceNode

import hardener
from hardener.yamltext import YamlInputError, decode, parse
from compose_tools import CORPUS, corpus_names, file_params, misplaced_changes, require_corpus, sample_names

REPO = Path(__file__).resolve().parents[1]
NAMES = corpus_names()
MODES = ("unsafe", "safe")
LEAST_CHANGED = 0.9  # share of the corpus that `fix --unsafe-fixes` must harden


# --------------------------------------------------------------------------- an independent YAML reader

class _AnyTagConstructor(SafeConstructor):
    """ruamel's safe constructor (duplicate keys, merge keys and aliases as YAML defines them) that
    reads Compose's own tags (`!reset`, `!override`) as the plain value they carry."""


def _untagged(constructor, _suffix, node):
    if isinstance(node, ScalarNode):
        return constructor.construct_scalar(node)
    if isinstance(node, SequenceNode):
        return constructor.construct_sequence(node, deep=True)
    return constructor.construct_mapping(node, deep=True)


_AnyTagConstructor.add_multi_constructor("!", _untagged)


def load_yaml(text: str):
    """The data of a one-document YAML text, read by ruamel.yaml rather than by hardener's parser."""
    reader = YAML(typ="safe")
    reader.Constructor = _AnyTagConstructor
    return reader.load(text)


@dataclass(frozen=True)
class Reading:
    """What the reference reader makes of a text."""

    reason: str | None  # why a compose tool must refuse it (not one YAML mapping), or None
    data: object = None  # the loaded data when it is usable (None for an empty file)


def read_reference(text: str | None) -> Reading:
    if text is None:
        return Reading("not UTF-8 text")
    try:
        data = load_yaml(text)
    except Exception as exc:  # any YAML error of the reference reader
        return Reading(f"{type(exc).__name__}: {str(exc).splitlines()[0]}")
    if data is not None and not isinstance(data, dict):
        return Reading(f"the top level is a {type(data).__name__}, not a mapping")
    return Reading(None, data)


def refusal_reason(text: str) -> str | None:
    return read_reference(text).reason


# --------------------------------------------------------------------------- text measures

def split_lines(text: str) -> list[str]:
    """Lines with their line breaks ('\\n' or '\\r\\n'); unlike str.splitlines, form feeds and other
    Unicode separators inside a line do not split it, as they do not in YAML."""
    return re.findall(r"[^\n]*\n|[^\n]+$", text)


def scalar_spans(text: str) -> tuple[list[int], list[int]]:
    """Sorted (starts, ends) of the text every scalar, quoted or block, occupies (a '#' in them is
    data, not a comment), from the parser's own event marks."""
    try:
        from ruamel.yaml.cyaml import CParser
        events = CParser(text)
        get = events.get_event
    except ImportError:  # pragma: no cover - without ruamel.yaml.clib
        from ruamel.yaml.main import YAML as _Y
        stream = iter(_Y(typ="safe", pure=True).parse(text))
        get = lambda: next(stream, None)  # noqa: E731
    spans = []
    while True:
        event = get()
        if event is None or type(event).__name__ == "StreamEndEvent":
            break
        if type(event).__name__ == "ScalarEvent":
            spans.append((event.start_mark.index, event.end_mark.index))
    spans.sort()
    return [s for s, _ in spans], [e for _, e in spans]


def comment_texts(text: str) -> collections.Counter:
    """Every comment of a YAML text (whole-line and end-of-line), from its '#' to the end of the
    line, trailing blanks removed. A '#' counts when it starts a line or follows a blank and is not
    inside a scalar."""
    starts, ends = scalar_spans(text)
    found = collections.Counter()
    offset = 0
    for line in split_lines(text):
        for m in re.finditer(r"(?:^|(?<=[ \t]))#", line):
            at = offset + m.start()
            k = bisect.bisect_right(starts, at) - 1
            if k >= 0 and at < ends[k]:
                continue  # inside a scalar
            found[line[m.start():].rstrip()] += 1
            break
        offset += len(line)
    return found


def _shape(line: str) -> str:
    """A line without its blanks and quotes: equal shapes mean only layout or quoting changed."""
    return re.sub(r"[\s'\"]", "", line)


def unmeant_changes(before: str, after: str) -> list[str]:
    """Lines of `before` that the edit removed or rewrote although their content did not change:
    blank lines, comment lines, and lines that come back re-indented, re-spaced or re-quoted. A fix
    changes a value (the line's content differs) or removes a whole setting; nothing else."""
    a, b = split_lines(before), split_lines(after)
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    removed, added = [], []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag in ("replace", "delete"):
            removed += [(i, a[i]) for i in range(i1, i2)]
        if tag in ("replace", "insert"):
            added += b[j1:j2]
    shapes = collections.Counter(_shape(line) for line in added)
    problems = []
    for i, line in removed:
        if i == len(a) - 1 and not line.endswith("\n") and (line + "\n" in added or line + "\r\n" in added):
            continue  # the last line gained the line break that appended lines need
        content = line.strip()
        if not content:
            problems.append(f"line {i + 1}: a blank line was removed or changed")
        elif content.startswith("#"):
            problems.append(f"line {i + 1}: a comment line was removed or changed: {line!r}")
        elif shapes[_shape(line)]:
            shapes[_shape(line)] -= 1
            problems.append(f"line {i + 1}: rewritten with the same content: {line!r}")
    return problems


def line_breaks(text: str) -> collections.Counter:
    kinds = collections.Counter()
    for line in split_lines(text):
        kinds["crlf" if line.endswith("\r\n") else "lf" if line.endswith("\n") else "none"] += 1
    return kinds


# --------------------------------------------------------------------------- running the fixes once

@dataclass(frozen=True)
class Outcome:
    name: str
    mode: str
    data: bytes
    text: str | None  # None when the bytes are not UTF-8 text
    error: YamlInputError | None  # what hardener raised, if it refused the input
    source: Reading  # the reference reader's view of the input
    result: Reading | None = None  # ... and of the output
    remaining: tuple = ()
    fixed: tuple = ()
    out: str | None = None
    again_fixed: tuple = ()
    again_out: str | None = None


def reference_text(data: bytes) -> str | None:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None


def run_fixes(name: str, data: bytes, unsafe: bool, source: Reading) -> Outcome:
    mode = "unsafe" if unsafe else "safe"
    text = None
    try:
        text, _bom = decode(data)
        remaining, fixed, out = hardener.harden(text, unsafe_fixes=unsafe, path=name)
    except YamlInputError as exc:
        return Outcome(name, mode, data, text, exc, source)
    _, again_fixed, again_out = hardener.harden(out, unsafe_fixes=unsafe, path=name)
    result = source if out == text else read_reference(out)
    return Outcome(name, mode, data, text, None, source, result, tuple(remaining), tuple(fixed), out,
                   tuple(again_fixed), again_out)


class Outcomes(dict):
    """(file name, mode) -> Outcome, each computed once, when a test first asks for it (a run of the
    default tier fixes only the sample)."""

    def __missing__(self, key):
        name, _mode = key
        data = (CORPUS / name).read_bytes()
        source = read_reference(reference_text(data))
        for mode in MODES:
            self[name, mode] = run_fixes(name, data, mode == "unsafe", source)
        return self[key]


@pytest.fixture(scope="module")
def outcomes() -> dict[tuple[str, str], Outcome]:
    require_corpus()
    return Outcomes()


def fixed_outcome(outcomes, name, mode) -> Outcome:
    """The outcome of a file hardener accepted; the test is skipped for a refused file (whether it
    should have been refused is test_refuses_exactly_what_is_not_a_yaml_mapping's business)."""
    o = outcomes[name, mode]
    if o.error is not None:
        pytest.skip(f"{name} refused as input: {o.error.line}:{o.error.column}: {o.error.message}")
    return o


per_file = pytest.mark.parametrize("name", file_params(NAMES))
per_mode = pytest.mark.parametrize("mode", MODES)


# --------------------------------------------------------------------------- the measures of a good fix

@per_mode
@per_file
def test_refuses_exactly_what_is_not_a_yaml_mapping(outcomes, name, mode):
    o = outcomes[name, mode]
    reason = o.source.reason
    if reason is not None:
        assert isinstance(o.error, YamlInputError), f"ruamel.yaml refuses {name} ({reason}) but hardener accepted it"
        assert o.error.line >= 1 and o.error.column >= 1 and o.error.message
        return
    assert o.error is None, (f"hardener refused {name} at {o.error.line}:{o.error.column} "
                             f"({o.error.message}) though ruamel.yaml reads it as a mapping")
    if o.source.data is None:  # empty, or comments only: nothing to check, nothing to fix
        assert o.remaining == () and o.fixed == () and o.out == o.text


@per_mode
@per_file
def test_every_comment_survives(outcomes, name, mode):
    o = fixed_outcome(outcomes, name, mode)
    lost = comment_texts(o.text) - comment_texts(o.out)
    assert not lost, f"{name}: comments lost by the fix: {sorted(lost.elements())[:5]}"


@per_mode
@per_file
def test_lines_no_fix_meant_to_change_are_byte_identical(outcomes, name, mode):
    o = fixed_outcome(outcomes, name, mode)
    problems = unmeant_changes(o.text, o.out)
    assert not problems, f"{name}: " + "; ".join(problems[:5])


@per_mode
@per_file
def test_line_endings_are_kept(outcomes, name, mode):
    o = fixed_outcome(outcomes, name, mode)
    before, after = line_breaks(o.text), line_breaks(o.out)
    if not before["lf"]:
        assert not after["lf"], f"{name}: a CRLF file now has {after['lf']} line(s) ending in a bare LF"
    if not before["crlf"]:
        assert not after["crlf"], f"{name}: an LF file now has {after['crlf']} line(s) ending in CRLF"
    assert after["crlf"] >= before["crlf"], f"{name}: CRLF line endings were lost"
    assert o.out.endswith("\n") == o.text.endswith("\n") or not o.text, \
        f"{name}: the final newline was {'added' if o.out.endswith(chr(10)) else 'removed'}"
    assert "\r" not in o.out.replace("\r\n", "") or "\r" in o.text.replace("\r\n", ""), \
        f"{name}: a bare CR line break appeared"


@per_mode
@per_file
def test_output_parses_and_means_the_same_outside_hardening_settings(outcomes, name, mode):
    o = fixed_outcome(outcomes, name, mode)
    parse(o.out)  # hardener's own parser: raises YamlInputError if the fix broke the YAML
    assert o.result.reason is None, f"{name}: ruamel.yaml cannot read the fixed file: {o.result.reason}"
    before, after = o.source.data, o.result.data
    if before is None:
        assert after is None
        return
    wrong = misplaced_changes(before, after)
    assert not wrong, f"{name}: the fix changed data no hardening fix may touch: {wrong[:6]}"


@per_mode
@per_file
def test_fixing_twice_changes_nothing_more(outcomes, name, mode):
    o = fixed_outcome(outcomes, name, mode)
    assert o.again_out == o.out, (f"{name}: a second fix changed the file again "
                                  f"({', '.join(sorted({f.rule_id for f in o.again_fixed}))})")
    assert o.again_fixed == ()


@per_mode
@per_file
def test_file_changes_exactly_when_a_fix_applies(outcomes, name, mode):
    o = fixed_outcome(outcomes, name, mode)
    if not o.fixed:
        assert o.out == o.text, f"{name}: no fix was applied, yet the text changed"
    else:
        assert o.out != o.text, f"{name}: {len(o.fixed)} fix(es) reported as applied, yet the text is the same"
    if mode == "safe":
        assert all(f.fix.applicability.value == "safe" for f in o.fixed), f"{name}: an unsafe fix ran in safe mode"
    # everything the engine could apply was applied: what remains has no applicable fix (a fix
    # that stays here was refused by the engine's verification, which means a builder bug)
    left = [f"{f.rule_id} line {f.line}" for f in o.remaining if f.fix is not None
            and (mode == "unsafe" or f.fix.applicability.value == "safe")]
    assert not left, f"{name}: fixes were offered but not applied: {left[:5]}"


@pytest.mark.corpus
def test_most_files_are_hardened(outcomes):
    changed = [n for n in NAMES if outcomes[n, "unsafe"].out not in (None, outcomes[n, "unsafe"].text)]
    refused = [n for n in NAMES if outcomes[n, "unsafe"].error is not None]
    assert len(changed) >= LEAST_CHANGED * len(NAMES), (
        f"fix --unsafe-fixes changed only {len(changed)} of {len(NAMES)} files "
        f"(want at least {LEAST_CHANGED:.0%}); refused: {refused[:5]}")


# --------------------------------------------------------------------------- the real entry point

def expected_bytes(o: Outcome) -> bytes:
    """What `fix` must leave in the file: the input for a refused or unchanged file, else the fixed
    text with the input's BOM, if it had one."""
    if o.error is not None or o.out == o.text:
        return o.data
    return (b"\xef\xbb\xbf" if o.data.startswith(b"\xef\xbb\xbf") else b"") + o.out.encode("utf-8")


@pytest.mark.parametrize("names", [pytest.param("sample", id="sample"),
                                   pytest.param("all", id="all", marks=pytest.mark.corpus)])
def test_cli_fix_writes_the_same_bytes(outcomes, tmp_path, names):
    """`hardener fix --unsafe-fixes FILE...` (a real process) over the corpus sample, and in the corpus
    tier over the whole corpus, writes exactly what the in-process fix produced, and leaves refused
    files untouched."""
    names = sample_names(NAMES) if names == "sample" else NAMES
    paths = []
    for i, name in enumerate(names):
        folder = tmp_path / str(i)
        folder.mkdir()
        shutil.copyfile(CORPUS / name, folder / name)
        paths.append(folder / name)
    env = dict(os.environ, NO_COLOR="1", PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
    proc = subprocess.run([sys.executable, "-m", "hardener", "fix", "--unsafe-fixes", "--quiet", *map(str, paths)],
                          capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert "Traceback" not in proc.stderr, proc.stderr[-2000:]
    any_refused = any(outcomes[n, "unsafe"].error is not None for n in names)
    assert proc.returncode in ((1, 2) if any_refused else (0, 1)), proc.stderr[-2000:]
    wrong = []
    for path, name in zip(paths, names):
        o = outcomes[name, "unsafe"]
        if path.read_bytes() != expected_bytes(o):
            # the module's outcomes were computed earlier; in a tree that is being edited, compare
            # with what the code of this very moment produces before calling it a difference
            if path.read_bytes() != expected_bytes(run_fixes(name, o.data, True, o.source)):
                wrong.append(name)
    assert not wrong, f"the CLI wrote other bytes than the in-process fix for {len(wrong)} file(s): {wrong[:5]}"


# --------------------------------------------------------------------------- the measures measure

def test_comment_finder_ignores_hashes_in_data():
    text = ('# head\nimage: "a #b"  # tail\ncmd: |\n  echo # not a comment\nurl: http://x/#frag\n'
            "list: [a, b] #flow\nkey: 'it''s #x'\n")
    assert comment_texts(text) == collections.Counter({"# head": 1, "# tail": 1, "#flow": 1})


def test_unmeant_changes_catch_layout_edits():
    before = "a:\n  b: 1\n\n  # note\n  c: 'x'\n"
    assert unmeant_changes(before, before.replace("  b: 1\n", "  b: 2\n")) == []
    assert unmeant_changes(before, before.replace("  b: 1\n", "    b: 1\n"))  # re-indented
    assert unmeant_changes(before, before.replace("'x'", '"x"'))  # re-quoted
    assert unmeant_changes(before, before.replace("\n\n", "\n"))  # blank line dropped
    assert unmeant_changes(before, before.replace("  # note\n", ""))  # comment line dropped
    assert unmeant_changes("a: 1", "a: 1\nb: 2\n") == []  # the last line only gained its line break


def test_refusal_oracle_refuses_what_compose_cannot_use():
    assert refusal_reason("a: 1\na: 2\n")  # duplicate key
    assert refusal_reason("a: 1\n---\nb: 2\n")  # two documents
    assert refusal_reason("a: *nowhere\n")  # undefined alias
    assert refusal_reason("- a\n")  # not a mapping
    assert refusal_reason("") is None and refusal_reason("# only a comment\n") is None
    assert refusal_reason("services:\n  a: !reset {}\n") is None
