"""Verification without the old tree: `digest` keeps what `unexpected_changes` needs of it (the
structure on the paths to the allowed ones, one hash per other subtree), and
`unexpected_changes_from(digest(before, allowed), after, allowed)` must find a change exactly when
`unexpected_changes(before, after, allowed)` does, at the same path or at a subtree holding it, for
real files and every kind of change."""
from __future__ import annotations

import random

import pytest

from compose_tools import CORPUS, corpus_names, file_params
from conftest import y
from hardener.yamltext import (Map, Scalar, Seq, YamlInputError, digest, parse, unexpected_changes,
                               unexpected_changes_from)


def _nodes(root):
    todo, out = [(root, ())], []
    while todo:
        node, path = todo.pop()
        out.append((node, path))
        if type(node) is Map:
            todo.extend((v, path + (k.value,)) for k, v in node.pairs if type(k) is Scalar)
        elif type(node) is Seq:
            todo.extend((item, path + (i,)) for i, item in enumerate(node.items))
    return out


def _both(before_text: str, after_text: str, allowed: set):
    before, after = parse(before_text).root, parse(after_text).root
    old = unexpected_changes(before, after, allowed)
    new = unexpected_changes_from(digest(before, allowed), after, allowed)
    return old, new


def _agree(old: list, new: list) -> bool:
    """Both empty, or every change the tree finds lies under a path the digest reports, and every
    path the digest reports holds one."""
    covered = all(any(o[:len(n)] == n for n in new) for o in old)
    real = all(any(o[:len(n)] == n for o in old) for n in new)
    return bool(old) == bool(new) and covered and real


def _mutations(text: str, rng: random.Random, count: int):
    """(allowed paths, changed text) pairs: a scalar value rewritten, under an allowed path or not."""
    nodes = _nodes(parse(text).root)
    scalars = [(n, p) for n, p in nodes if type(n) is Scalar and n.style == "" and p]
    for _ in range(count):
        allowed = {p for _, p in rng.sample(nodes, min(3, len(nodes))) if p}
        allowed.add(("services", "not-there", "cap_drop"))
        if not scalars:
            yield allowed, text
            continue
        node, path = rng.choice(scalars)
        if rng.random() < 0.3:
            allowed.add(path)  # the change is one the edits declared
        yield allowed, text[:node.start] + "changed-by-test" + text[node.end:]


BASE = y("x-common: &common",
         "  restart: always",
         "  logging: {driver: json-file}",
         "services:",
         "  web:",
         "    <<: *common",
         "    image: nginx",
         "    ports: ['80:80', '443:443']",
         "    environment:",
         "      A: '1'",
         "    labels: !!map {a: b}",
         "  db:",
         "    image: postgres",
         "    volumes: ['data:/var/lib/postgresql/data']",
         "volumes:",
         "  data: {}")


@pytest.mark.parametrize("after, allowed", [
    (BASE, set()),  # nothing changed
    (BASE.replace("image: nginx", "image: httpd"), set()),  # a value outside every allowed path
    (BASE.replace("image: nginx", "image: httpd"), {("services", "web", "image")}),
    (BASE.replace("    image: postgres\n", "    image: postgres\n    read_only: true\n"), set()),  # a new key
    (BASE.replace("    image: postgres\n", "    image: postgres\n    read_only: true\n"),
     {("services", "db", "read_only")}),
    (BASE.replace("'80:80', ", ""), {("services", "web", "ports", 2)}),  # a shorter list
    (BASE.replace("'443:443'", "'127.0.0.1:443:443'"), {("services", "web", "ports", 1)}),
    (BASE.replace("'443:443'", "'127.0.0.1:443:443'"), {("services", "web", "ports", 0)}),
    (BASE.replace("!!map {a: b}", "{a: b}"), {("services", "web", "environment")}),  # a tag dropped
    (BASE.replace("<<: *common", "<<: *common\n    cap_drop: [ALL]"), {("services", "web", "cap_drop")}),
    (BASE.replace("restart: always", "restart: no"), {("services", "web", "restart")}),  # through the anchor
    (BASE.replace("  data: {}", "  data: []"), {("volumes", "other")}),  # a mapping became a sequence
    (BASE.replace("      A: '1'", "      A: '2'"), {("services", "web", "environment", "B")}),
    (BASE.replace("    environment:\n      A: '1'\n", "    environment: [A=1]\n"),
     {("services", "web", "environment", "A")}),
    (BASE, {()}),  # everything allowed
])
def test_digest_reports_what_the_old_tree_reports(after, allowed):
    old, new = _both(BASE, after, allowed)
    assert _agree(old, new), (old, new)
    if allowed:  # on the way to an allowed path the digest names each change where the tree does
        assert sorted(map(repr, old)) == sorted(map(repr, new)) or not any(len(p) > 2 for p in old)


def test_digest_catches_a_change_the_edits_did_not_declare():
    after = BASE.replace("image: postgres", "image: postgres:16").replace("ports: [", "ports: ['8080:80', ")
    old, new = _both(BASE, after, {("services", "web", "ports", 2)})
    assert sorted(old) == [("services", "db", "image"), ("services", "web", "ports")]
    assert sorted(new) == [("services", "db"), ("services", "web", "ports")]  # db kept as one hash


def test_digest_keeps_only_the_paths_to_the_allowed_ones():
    picture = digest(parse(BASE).root, {("services", "db", "read_only")})
    kind, _, children = picture
    assert kind == "map" and isinstance(children["x-common"], int) and isinstance(children["volumes"], int)
    assert isinstance(children["services"][2]["web"], int)  # a service no edit reaches: one hash
    assert set(children["services"][2]["db"][2]) == {"image", "volumes"}


@pytest.mark.parametrize("name", file_params(corpus_names()))
def test_digest_answers_as_the_tree_on_real_files(name):
    text = (CORPUS / name).read_bytes().decode("utf-8", "replace")
    try:
        if parse(text).root is None:
            pytest.skip("an empty document")
    except YamlInputError:
        pytest.skip("not a document hardener reads")
    rng = random.Random(name)
    for allowed, after in _mutations(text, rng, 12):
        try:
            old, new = _both(text, after, allowed)
        except YamlInputError:
            continue  # the rewritten value made a duplicate key or broke a flow collection
        assert _agree(old, new), (allowed, old, new)
