"""The YAML text layer on its own: refusing bad input with exact positions, decoding bytes, the node
tree, and the edit builders on small inputs."""
from __future__ import annotations

import time

import pytest

from conftest import y
from hardener.yamltext import (Alias, EditConflict, Edit, Map, Scalar, Seq, YamlInputError, Verbatim, add_entries,
                               add_items, add_under, apply_edits, changed_paths, decode, deref, fill_null,
                               merged_entry, merged_keys, parse, plain_safe, raw, remove_entry, replace_scalar,
                               merge_inserts, scalar_text, unexpected_changes)


def edited(text: str, make) -> str:
    """Parse text, build one edit with make(doc), apply it and check the result parses again."""
    doc = parse(text)
    edit = make(doc)
    assert edit is not None, "the builder refused an ordinary input"
    out = apply_edits(doc, [edit])
    parse(out)
    return out


# --------------------------------------------------------------------------- refusing input, with positions

BAD = [
    pytest.param(y("services:", "  web:", "    image: nginx", "   ports: []"), 4, 4, "invalid YAML",
                 id="bad-indentation"),
    pytest.param(y("services:", "  web: image: nginx"), 2, 13, "mapping values are not allowed", id="nested-colon"),
    pytest.param(y("services:", "\tweb:", "\t\timage: nginx"), 2, 1, "cannot start any token", id="tab-indent"),
    pytest.param(y("services:", "  web:", "    image: a", "    image: b"), 4, 5,
                 "duplicate key 'image' (first defined on line 3)", id="duplicate-key"),
    pytest.param(y("services:", "  web:", "    image: a", "  db:", "    image: b", "  web:", "    image: c"), 6, 3,
                 "duplicate key 'web'", id="duplicate-service"),
    pytest.param(y("- web", "- db"), 1, 1, "must be a mapping", id="root-sequence"),
    pytest.param(y("# just a word", "hello"), 2, 1, "must be a mapping", id="root-scalar"),
    pytest.param(y("services: {}", "---", "services: {}"), 2, 1, "more than one YAML document", id="two-documents"),
    pytest.param(y("---", "a: 1", "---", "b: 2"), 3, 1, "more than one YAML document", id="two-explicit-documents"),
    pytest.param(y("services:", "  web:", "    <<: *base", "    image: x"), 3, 9, "undefined alias *base",
                 id="undefined-alias"),
    pytest.param("a: " + "[" * 600 + "]" * 600 + "\n", 1, 503, "nesting deeper than 500", id="too-deep"),
]


@pytest.mark.parametrize("text,line,column,message", BAD)
def test_bad_input_is_refused_with_position(text, line, column, message):
    with pytest.raises(YamlInputError) as info:
        parse(text)
    assert (info.value.line, info.value.column) == (line, column)
    assert message in info.value.message
    assert str(info.value) == info.value.message


def billion_laughs(levels: int = 9, width: int = 9) -> str:
    lines = ["l0: &l0 [" + ", ".join(["lol"] * width) + "]"]
    for i in range(1, levels):
        lines.append(f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * width) + "]")
    return y(*lines)


def test_alias_bomb_is_refused_quickly():
    text = billion_laughs()
    started = time.perf_counter()
    with pytest.raises(YamlInputError) as info:
        parse(text)
    assert time.perf_counter() - started < 1.0
    assert "alias bomb" in info.value.message
    # 9**7 nodes on line 7 is the first level past a million expanded nodes
    assert (info.value.line, info.value.column) == (7, 5)


def test_many_aliases_below_the_limit_are_fine():
    doc = parse(billion_laughs(levels=5, width=9))  # 9**5 = 59049 leaves
    assert isinstance(doc.root.get("l4"), Seq)
    assert isinstance(doc.root.get("l4").items[0], Alias)


@pytest.mark.parametrize("text", ["", "# only a comment\n", "\n\n"])
def test_empty_documents_have_no_root(text):
    assert parse(text).root is None


def test_merge_key_list_merges_every_source():
    doc = parse(y("a: &a {x: 1}", "b: &b {x: 3, y: 2}", "c:", "  <<: [*a, *b]"))
    assert merged_keys(doc.root.get("c")) == ["x", "y"]
    assert merged_entry(doc.root.get("c"), "x")[1].value == "1"  # the first source wins, as in YAML


def test_repeated_merge_key_is_refused_like_compose_does():
    with pytest.raises(YamlInputError) as info:
        parse(y("a: &a {x: 1}", "b: &b {y: 2}", "c:", "  <<: *a", "  <<: *b"))
    assert (info.value.line, info.value.column) == (5, 3)


# --------------------------------------------------------------------------- decoding bytes

def test_decode_plain_and_bom():
    assert decode(b"a: 1\n") == ("a: 1\n", False)
    assert decode(b"\xef\xbb\xbfa: 1\n") == ("a: 1\n", True)
    assert decode("a: caf\u00e9\n".encode()) == ("a: caf\u00e9\n", False)


@pytest.mark.parametrize("data,line,column", [
    pytest.param(b"services:\n  web:\n    image: \xff\n", 3, 12, id="bad-byte"),
    pytest.param(b"a: ok\nb: caf\xc3", 2, 7, id="truncated-sequence"),
    pytest.param(b"\xef\xbb\xbfa: \xe9t\xe9\n", 1, 4, id="latin-1-after-bom"),
])
def test_decode_rejects_invalid_utf8_with_position(data, line, column):
    with pytest.raises(YamlInputError) as info:
        decode(data)
    assert (info.value.line, info.value.column) == (line, column)
    assert "invalid UTF-8" in info.value.message


def test_decode_rejects_binary():
    with pytest.raises(YamlInputError) as info:
        decode(b"\x7fELF\x02\x01\x01\x00\x00\x00")
    assert (info.value.line, info.value.column) == (1, 1)
    assert "binary" in info.value.message


# --------------------------------------------------------------------------- the node tree

def test_anchored_block_collections_report_their_first_entry_column():
    doc = parse(y("x-a: &a", "  k: 1", "x-b: !!seq", "    - 1", "x-c: &c", "- 2"))
    assert (doc.root.get("x-a").line, doc.root.get("x-a").col) == (1, 2)
    assert (doc.root.get("x-b").line, doc.root.get("x-b").col) == (3, 4)
    assert (doc.root.get("x-c").line, doc.root.get("x-c").col) == (5, 0)


def test_nodes_know_positions_paths_and_style():
    text = y("services:", "  web:", "    image: 'nginx'", "    ports:", "    - '80:80'")
    doc = parse(text)
    web = doc.root.get("services").get("web")
    assert isinstance(web, Map) and (web.line, web.col) == (2, 4) and web.path == ("services", "web")
    image = web.get("image")
    assert isinstance(image, Scalar) and image.value == "nginx" and image.style == "'"
    assert text[image.start:image.end] == "'nginx'" and (image.line, image.col) == (2, 11)
    ports = web.get("ports")
    assert isinstance(ports, Seq) and not ports.flow and ports.items[0].path == ("services", "web", "ports", 0)
    assert (doc.indent_step, doc.seq_offset, doc.quote, doc.newline) == (2, 0, "'", "\n")


def test_layout_of_a_four_space_crlf_file():
    doc = parse(y("services:", "    web:", "        image: nginx", "        ports:", '            - "80"')
                .replace("\n", "\r\n"))
    assert (doc.indent_step, doc.seq_offset, doc.quote, doc.newline) == (4, 4, '"', "\r\n")


def test_merge_keys_and_aliases():
    doc = parse(y("x-base: &base", "  restart: always", "  image: a", "services:", "  web:", "    <<: *base",
                  "    image: b", "  copy: *base"))
    web = doc.root.get("services").get("web")
    key, value, own = merged_entry(web, "restart")
    assert (value.value, own) == ("always", False)
    assert merged_entry(web, "image")[1].value == "b" and merged_entry(web, "image")[2] is True
    assert merged_entry(web, "user") is None
    assert merged_keys(web) == ["image", "restart"]
    copy = doc.root.get("services").get("copy")
    assert isinstance(copy, Alias) and deref(copy) is doc.root.get("x-base")
    assert raw(copy) == ("*", "base")
    assert raw(web) == {"<<": ("*", "base"), "image": "b"}


def test_null_and_tagged_scalars():
    doc = parse(y("a:", "b: ~", "c: null", "d: ''", "e: !!null", "f: !reset null"))
    assert [doc.root.get(k).is_null for k in "abcdef"] == [True, True, True, False, False, False]


def test_changed_paths_reports_shallowest_difference():
    before = {"a": {"b": 1, "c": [1, 2]}, "d": 1}
    after = {"a": {"b": 2, "c": [1, 2, 3]}, "e": 1}
    assert sorted(changed_paths(before, after)) == [("a", "b"), ("a", "c"), ("d",), ("e",)]
    assert changed_paths(before, before) == []


def _outside(before: str, after: str, allowed) -> list:
    """What the old verification reported: raw pictures compared, then the allowed paths taken out."""
    paths = changed_paths(raw(parse(before).root), raw(parse(after).root))
    return sorted(p for p in paths if not any(p[:n] in allowed for n in range(len(p) + 1)))


@pytest.mark.parametrize("before, after, allowed", [
    # a value changed outside the declared place is caught, even next to a declared change
    (y("a:", "  b: 1", "  c: 2"), y("a:", "  b: 5", "  c: 3"), {("a", "b")}),
    # keys added or removed outside, a list that grew, an item changed in a list of the same length
    (y("a: 1", "b: 2"), y("a: 1", "c: 2"), set()),
    (y("l: [1, 2]", "m: [1, 2]"), y("l: [1, 2, 3]", "m: [1, 9]"), set()),
    # a tag or an alias name is a change; a declared subtree may change any way it likes
    (y("x: &a 1", "y: *a", "t: !!str 1"), y("x: &b 1", "y: *b", "t: 1"), set()),
    (y("s:", "  k: 1"), y("s:", "  k: [1, 2]", "  j: {x: 1}"), {("s",)}),
    # a tagged collection is compared whole (raw gives it as (tag, value))
    (y("c: !t {a: 1, b: 2}"), y("c: !t {a: 1, b: 3}"), {("c", "a")}),
    (y("a: 1"), y("a: 1"), set()),
])
def test_unexpected_changes_agrees_with_the_raw_comparison(before, after, allowed):
    found = sorted(unexpected_changes(parse(before).root, parse(after).root, allowed))
    assert found == _outside(before, after, allowed)
    if before != after and allowed != {("s",)}:
        assert found, "a change outside the declared paths went unnoticed"


def test_a_bad_edit_is_caught_even_with_a_good_one_beside_it():
    """Verification skips what the edits declared, never more: an edit that changes b while declaring
    a is refused although another edit really does change a."""
    text = y("a: 1", "b: 2", "c: 3")
    doc = parse(text)
    good, bad = Edit(3, 4, "5", (("a",),)), Edit(8, 9, "7", (("a",),))
    new = parse(apply_edits(doc, [good, bad]))
    assert unexpected_changes(doc.root, new.root, {("a",)}) == [("b",)]
    assert unexpected_changes(doc.root, parse(apply_edits(doc, [good])).root, {("a",)}) == []


def test_collections_know_whether_they_share_a_node():
    doc = parse(y("x: &base {a: 1}", "s:", "  one:", "    <<: *base", "  two:", "    env: [1, 2]", "  three:",
                  "    list:", "      - *base"))
    services = doc.root.get("s")
    assert services.shares and doc.root.shares
    assert services.get("one").shares and services.get("three").shares
    assert not services.get("two").shares and not services.get("two").get("env").shares
    assert not doc.root.get("x").shares


def test_a_rendered_later_edit_does_not_keep_the_document():
    """add_entries keeps the file's layout for rendering, not the document (a fix pass may then let
    the old tree go)."""
    import gc
    import weakref

    doc = parse(y("s:", "    a: 1"))
    edit = add_under(doc, doc.root.get("s"), ["deploy", "resources"], {"pids": 10})
    ref = weakref.ref(doc)
    del doc
    gc.collect()
    assert ref() is None
    assert edit.text == "    deploy:\n        resources:\n            pids: 10\n"


# --------------------------------------------------------------------------- apply_edits

def test_apply_edits_replaces_and_inserts_in_order():
    doc = parse("a: 1\nb: 2\n")
    out = apply_edits(doc, [Edit(8, 9, "3"), Edit(0, 0, "# head\n"), Edit(3, 4, "9")])
    assert out == "# head\na: 9\nb: 3\n"


def test_identical_edits_count_once_and_overlaps_raise():
    doc = parse("a: 1\nb: 2\n")
    assert apply_edits(doc, [Edit(3, 4, "5"), Edit(3, 4, "5")]) == "a: 5\nb: 2\n"
    with pytest.raises(EditConflict):
        apply_edits(doc, [Edit(3, 4, "5"), Edit(3, 4, "6")])
    with pytest.raises(EditConflict):
        apply_edits(doc, [Edit(0, 6, ""), Edit(5, 7, "x")])


def test_apply_edits_writes_the_files_newline():
    doc = parse("a: 1\r\nb: 2\r\n")
    assert apply_edits(doc, [Edit(len(doc.text), len(doc.text), "c:\n  d: 3\n")]) == "a: 1\r\nb: 2\r\nc:\r\n  d: 3\r\n"


def test_insert_at_end_keeps_missing_final_newline():
    doc = parse("a: 1")
    assert apply_edits(doc, [Edit(4, 4, "b: 2\n")]) == "a: 1\nb: 2"


def test_nested_insertions_at_one_point_go_deepest_first():
    doc = parse("a:\n  b: 1\n")
    out = apply_edits(doc, [Edit(10, 10, "c: 2\n"), Edit(10, 10, "  d: 3\n")])
    assert out == "a:\n  b: 1\n  d: 3\nc: 2\n"


# --------------------------------------------------------------------------- builders

def test_add_entries_block_and_nested_values():
    out = edited(y("services:", "  web:", "    image: nginx  # web", "  # next", "  db:", "    image: pg"),
                 lambda d: add_entries(d, d.root.get("services").get("web"),
                                       {"cap_drop": ["ALL"], "logging": {"driver": "local"}}))
    assert out == y("services:", "  web:", "    image: nginx  # web", "    cap_drop:", "      - ALL",
                    "    logging:", "      driver: local", "  # next", "  db:", "    image: pg")


def test_add_entries_flow_mappings():
    assert edited("a: {x: 1}\n", lambda d: add_entries(d, d.root.get("a"), {"y": [1, "on"]})) == \
        'a: {x: 1, y: [1, "on"]}\n'
    assert edited("a: {}\n", lambda d: add_entries(d, d.root.get("a"), {"y": {"z": True}})) == "a: {y: {z: true}}\n"


def test_add_entries_refuses_aliases_and_empty_requests():
    doc = parse(y("x: &x {a: 1}", "y: *x"))
    assert add_entries(doc, doc.root.get("y"), {"b": 1}) is None
    assert add_entries(doc, doc.root.get("x"), {}) is None


def test_add_items_block_flow_and_empty_flow():
    assert edited(y("a:", "  - x"), lambda d: add_items(d, d.root.get("a"), ["z", "yes"])) == \
        y("a:", "  - x", "  - z", '  - "yes"')
    assert edited(y("a:", "- x", "b: 1"), lambda d: add_items(d, d.root.get("a"), ["z"])) == y("a:", "- x", "- z", "b: 1")
    assert edited("a: [x]  # c\n", lambda d: add_items(d, d.root.get("a"), ["y z"])) == "a: [x, y z]  # c\n"
    assert edited("a: []\n", lambda d: add_items(d, d.root.get("a"), ["z"])) == "a: [z]\n"


def test_fill_null_keeps_the_comment_and_handles_no_final_newline():
    assert edited("a:  # later\nb: 1\n", lambda d: fill_null(d, d.root.pairs[0][0], d.root.get("a"), {"c": 1})) == \
        "a:  # later\n  c: 1\nb: 1\n"
    out = edited("a: ~\nb: 1\n", lambda d: fill_null(d, d.root.pairs[0][0], d.root.get("a"), ["x"]))
    assert out.split("\n")[0].rstrip() == "a:" and out.split("\n")[1:] == ["  - x", "b: 1", ""]
    doc = parse("a:")
    out = apply_edits(doc, [fill_null(doc, doc.root.pairs[0][0], doc.root.get("a"), {"c": 1})])
    assert out == "a:\n  c: 1"


def test_fill_null_refuses_non_null_values():
    doc = parse("a: 1\n")
    assert fill_null(doc, doc.root.pairs[0][0], doc.root.get("a"), {"c": 1}) is None


def test_replace_scalar_keeps_quotes_anchor_and_tag():
    doc = parse(y("a: &x one", "b: !!str two", "c: 'three'", 'd: "four"', "e: five  # c"))
    edits = [replace_scalar(doc, doc.root.get(k), "it's") for k in "abcde"]
    assert apply_edits(doc, edits) == y("a: &x it's", "b: !!str it's", "c: 'it''s'", 'd: "it\'s"', "e: it's  # c")


def test_replace_scalar_quotes_values_that_would_change_type():
    doc = parse("a: x\n")
    assert apply_edits(doc, [replace_scalar(doc, doc.root.get("a"), "no")]) == 'a: "no"\n'


def test_replace_scalar_refuses_block_scalars():
    doc = parse(y("a: |", "  text"))
    assert replace_scalar(doc, doc.root.get("a"), "x") is None


def test_remove_entry_keeps_end_of_line_comment():
    out = edited(y("a:", "  b: 1  # why", "  c: 2"), lambda d: remove_entry(d, d.root.get("a"), "b"))
    assert out == y("a:", "  # why", "  c: 2")


def test_remove_entry_takes_nested_value_lines():
    out = edited(y("a:", "  b:", "    - 1", "    - 2", "  c: 2"), lambda d: remove_entry(d, d.root.get("a"), "b"))
    assert out == y("a:", "  c: 2")


@pytest.mark.parametrize("text,path,key", [
    pytest.param("a: 1\n", (), "a", id="last-key"),
    pytest.param("a: {b: 1, c: 2}\n", ("a",), "b", id="flow-mapping"),
    pytest.param("a: 1\nb: 2\n", (), "zz", id="missing-key"),
])
def test_remove_entry_refuses(text, path, key):
    doc = parse(text)
    node = doc.root
    for k in path:
        node = node.get(k)
    assert remove_entry(doc, node, key) is None


def test_add_under_creates_missing_levels_and_fills_null():
    text = y("svc:", "  image: x", "  deploy:", "    replicas: 1", "other:")
    assert edited(text, lambda d: add_under(d, d.root.get("svc"), ["deploy", "resources", "limits"], {"cpus": "1.0"})) \
        == y("svc:", "  image: x", "  deploy:", "    replicas: 1", "    resources:", "      limits:",
             '        cpus: "1.0"', "other:")
    assert edited(text, lambda d: add_under(d, d.root, ["other", "k"], {"v": 1})) == text + y("  k:", "    v: 1")


def test_add_under_refuses_a_scalar_in_the_way():
    doc = parse(y("svc:", "  deploy: 3"))
    assert add_under(doc, doc.root.get("svc"), ["deploy", "resources"], {"x": 1}) is None


# --------------------------------------------------------------------------- writing scalars

@pytest.mark.parametrize("value", ["10m", "json-file", "on-failure:5", "65534:65534", "127.0.0.1:80:80", "it's",
                                   "./a.conf:/etc/a.conf:ro", 'say "hi"'])
def test_plain_strings_stay_plain(value):
    assert plain_safe(value) and scalar_text(value) == value
    assert parse(f"k: {value}\n").root.get("k").value == value


@pytest.mark.parametrize("value", ["yes", "no", "on", "off", "true", "null", "~", "1.0", "3", "0x1f", "0o17",
                                   "12e3", "1:20", "<<", "", " x", "a: b", "#x", "x #y", "-x", "*x", "&x", "!x",
                                   "x,y", "[x]", "{x}", "x:", "%x", "@x", "`x", "back\\slash"])
def test_ambiguous_strings_are_quoted_and_read_back(value):
    assert not plain_safe(value)
    for quote in ('"', "'"):
        written = scalar_text(value, quote)
        assert written[0] == quote
        node = parse(f"k: {written}\n").root.get("k")
        assert node.value == value and node.style == quote


def test_non_strings_are_written_as_such():
    assert (scalar_text(True), scalar_text(False), scalar_text(3), scalar_text(Verbatim("5"))) == \
        ("true", "false", "3", "5")


# --------------------------------------------------------------------------- merge_inserts


DEPLOY_CPU = "    deploy:\n      resources:\n        limits:\n          cpus: \"1.0\"\n"
DEPLOY_PIDS = "    deploy:\n      resources:\n        limits:\n          pids: 512\n"


@pytest.mark.parametrize("first, second, merged", [
    (DEPLOY_CPU, DEPLOY_PIDS,
     "    deploy:\n      resources:\n        limits:\n          cpus: \"1.0\"\n          pids: 512\n"),
    ("    logging:\n      driver: json-file\n", "    logging:\n      options:\n        max-size: 10m\n",
     "    logging:\n      driver: json-file\n      options:\n        max-size: 10m\n"),
    ("    cap_drop:\n      - ALL\n", "    cap_drop:\n      - NET_RAW\n", "    cap_drop:\n      - ALL\n      - NET_RAW\n"),
])
def test_merge_inserts_joins_two_new_blocks_under_one_key(first, second, merged):
    doc = parse("services:\n  web:\n    image: nginx\n")
    at = len(doc.text)
    edit = merge_inserts(Edit(at, at, first, (("services", "web", "a"),)), Edit(at, at, second, (("services", "web", "b"),)))
    assert edit.text == merged
    assert edit.paths == (("services", "web", "a"), ("services", "web", "b"))
    assert parse(apply_edits(doc, [edit])).root is not None


@pytest.mark.parametrize("first, second", [
    ("    deploy:\n      replicas: 2\n", "    restart: always\n"),  # different keys: nothing shared
    ("    cap_drop:\n    - ALL\n", "    cap_drop:\n    - NET_RAW\n"),  # items at the key's own indentation
    ("    deploy: {replicas: 2}\n", "    deploy: {mode: global}\n"),  # flow: not a chain of bare keys
    ("    deploy:\n      resources:\n        limits:\n          cpus: 1\n      mode: global\n",
     "    deploy:\n      resources:\n        limits:\n          pids: 9\n"),  # a line above the deepest shared key
    ("    deploy:\n", "    deploy:\n      mode: global\n"),  # nothing of its own under the key
    ("    # note:\n      x: 1\n", "    # note:\n      y: 1\n"),  # a comment is not a key
])
def test_merge_inserts_refuses_what_it_cannot_join_safely(first, second):
    assert merge_inserts(Edit(5, 5, first), Edit(5, 5, second)) is None


def test_merge_inserts_needs_two_insertions_at_one_point():
    assert merge_inserts(Edit(5, 5, DEPLOY_CPU), Edit(6, 6, DEPLOY_PIDS)) is None
    assert merge_inserts(Edit(5, 7, DEPLOY_CPU), Edit(5, 7, DEPLOY_PIDS)) is None
    assert merge_inserts(Edit(5, 5, DEPLOY_CPU.rstrip("\n")), Edit(5, 5, DEPLOY_PIDS)) is None


def test_limits_and_pids_are_written_in_one_pass():
    """Two rules that both create `deploy.resources.limits` land in the same pass (one re-parse, one
    rule run fewer) and the result is one mapping with both limits."""
    from hardener import engine
    from hardener.settings import Settings

    doc = parse("services:\n  web:\n    image: nginx:1.27\n")  # limits known to be enough: safe fixes
    settings = Settings(select=frozenset({"RES001", "RES002"}))
    findings = engine.run_rules(doc, settings)
    new, applied = engine._one_pass(doc, findings, settings, set())
    assert sorted(f.rule_id for f in applied) == ["RES001", "RES002"]
    assert "        limits:\n          cpus: " in new.text and "          pids: 4096\n" in new.text
    assert new.text.count("deploy:") == 1
