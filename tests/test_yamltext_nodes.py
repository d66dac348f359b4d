"""The node tree stores some fields in a compact form (see yamltext/nodes.py): `end` from a length,
`path` of a scalar or an alias from its parent's path, `tag`, `anchor`, `in_flow` and `style` packed
into one shared field, a mapping's pairs only in its key index. Each node must still answer what the
parser's events say about it, computed here independently from those events, on every corpus file,
the fixtures and a text that has every rare case."""
from __future__ import annotations

from pathlib import Path

import pytest
from ruamel.yaml import events as ev
from ruamel.yaml.cyaml import CParser

from compose_tools import CORPUS, corpus_names, file_params
from conftest import y
from hardener.yamltext import (Alias, Map, Scalar, Seq, changed_paths, decode, merged_entry, merged_keys, parse, raw,
                               unexpected_changes)

FIXTURES = sorted(p for p in (Path(__file__).parent / "fixtures").rglob("*.y*ml") if p.is_file())

RARE = y(
    "x-base: &base",
    "  restart: always",
    "  labels: {a: 1, 'b': \"two\", c: [x, {d: e}]}",
    "x-list: &list !!seq",
    "  - one",
    "  - &item two",
    "x-tagged: !reset []",
    "x-block: |",
    "  line one",
    "  line two",
    "x-long: " + "v" * 600,
    "? [complex, key]",
    ": complex value",
    "? {a: b}",
    ": mapping key",
    "*item : alias key",
    "services:",
    "  web:",
    "    <<: *base",
    "    image: 'nginx'",
    "    command: [\"sh\", '-c', plain]",
    "    environment: *list",
    "    empty:",
    "    nulls: [~, null, '']",
    "    folded: >",
    "      text",
    "    items: [" + ", ".join(str(i) for i in range(300)) + "]",
)


def expected_nodes(text: str) -> list[dict]:
    """What the events say of each node, in document order (a mapping's key before its value)."""
    out: list[dict] = []
    stack: list[dict] = []  # open collections: path, pending key, item count, children in flow, record
    parser = CParser(text)
    while True:
        event = parser.get_event()
        kind = type(event)
        if kind is ev.StreamEndEvent:
            return out
        if kind in (ev.MappingEndEvent, ev.SequenceEndEvent):
            stack.pop()["record"]["end"] = event.end_mark.index
            continue
        if kind not in (ev.ScalarEvent, ev.AliasEvent, ev.MappingStartEvent, ev.SequenceStartEvent):
            continue
        if not stack:
            path, in_flow = (), False
        else:
            top = stack[-1]
            in_flow = top["in_flow"]
            if top["kind"] is Seq:
                path = top["path"] + (top["count"],)
                top["count"] += 1
            elif top["key"] is None:
                path = top["path"] + ("<key>",)
                top["key"] = event.value if kind is ev.ScalarEvent else "<key>"
            else:
                path = top["path"] + (top["key"],)
                top["key"] = None
        record = {"start": event.start_mark.index, "end": event.end_mark.index, "path": path, "in_flow": in_flow,
                  "tag": None if kind is ev.AliasEvent else event.tag, "anchor": event.anchor}
        if kind is ev.ScalarEvent:
            record.update(value=event.value, style=event.style or "")
        out.append(record)
        if kind in (ev.MappingStartEvent, ev.SequenceStartEvent):
            stack.append({"kind": Map if kind is ev.MappingStartEvent else Seq, "path": path, "key": None,
                          "count": 0, "in_flow": in_flow or bool(event.flow_style), "record": record})


def actual_nodes(root) -> list[dict]:
    out: list[dict] = []

    def visit(node):
        record = {"start": node.start, "end": node.end, "path": node.path, "in_flow": node.in_flow,
                  "tag": node.tag, "anchor": node.anchor}
        if type(node) is Scalar:
            record.update(value=node.value, style=node.style)
        out.append(record)
        if type(node) is Map:
            for key, value in node.pairs:
                visit(key)
                visit(value)
        elif type(node) is Seq:
            for item in node.items:
                visit(item)

    visit(root)
    return out


def check_text(text: str) -> None:
    doc = parse(text)
    if doc.root is None:
        return
    assert actual_nodes(doc.root) == expected_nodes(text)


def test_rare_cases():
    doc = parse(RARE)
    check_text(RARE)
    root = doc.root
    keys = [k for k, _ in root.pairs]
    assert [type(k) for k in keys[-4:]] == [Seq, Map, Alias, Scalar]  # node keys stay in order
    assert root.entry("services") == root.pairs[-1] == (keys[-1], root.get("services"))
    assert root.get("<key>") is None and len(root.pairs) == len(root._index) == 9
    web = root.get("services").get("web")
    assert web.get("nulls").items[0].is_null and web.get("nulls").items[1].is_null
    assert not web.get("nulls").items[2].is_null  # quoted: the empty string, not null
    assert web.get("empty").is_null
    assert root.get("x-long").end - root.get("x-long").start == 600
    assert web.get("command").items[1].style == "'" and web.get("command").items[1].in_flow
    assert root.get("x-list").tag == "tag:yaml.org,2002:seq" and root.get("x-list").anchor == "list"


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: str(p.relative_to(p.parents[1])))
def test_fixtures(path):
    try:
        text, _ = decode(path.read_bytes())
        parse(text)
    except Exception:
        pytest.skip("not a file hardener parses")
    check_text(text)


@pytest.mark.parametrize("name", file_params(corpus_names()))
def test_corpus_file(name):
    text, _ = decode((CORPUS / name).read_bytes())
    check_text(text)


def test_mapping_questions_with_keys_that_are_not_scalars():
    """Entries under node keys live in the index apart from the scalar keys: merge keys, merged_keys,
    merged_entry and the verification still see every entry, in the order written."""
    text = y("x-b: &b {k: 1, '? x': 2}",
             "m:",
             "  <<: *b",
             "  ? [a, b]",
             "  : 3",
             "  k: 4",
             "  z: 5")
    m = parse(text).root.get("m")
    assert merged_keys(m) == ["k", "z", "? x"]
    assert merged_entry(m, "k")[1].value == "4" and merged_entry(m, "k")[2]
    assert merged_entry(m, "? x")[1].value == "2" and not merged_entry(m, "? x")[2]
    assert [type(k).__name__ for k, _ in m.pairs] == ["Scalar", "Seq", "Scalar", "Scalar"]
    assert m.get("[a, b]") is None and m.entry("<<")[1].name == "b"
    changed = text.replace(": 3", ": 6").replace("z: 5", "z: 7")
    after = parse(changed).root.get("m")
    expected = [("['a', 'b']",), ("z",)]  # the node key as `raw` names it
    assert sorted(unexpected_changes(m, after, set())) == sorted(changed_paths(raw(m), raw(after))) == expected
