"""Service's layered reading (Compose's merge rules across files, `extends` and merge keys) and
Context.reach through anchors, on parsed documents."""
from __future__ import annotations

import contextlib
from pathlib import Path

from hardener.compose import Context, Project
from hardener.yamltext import deref, parse

from conftest import y

FIXTURES = Path(__file__).parent / "fixtures"


def service(name: str, *texts: str, index: int = 0):
    docs = tuple(parse(t) for t in texts)
    ctx = Context.of(docs[index], project=Project(docs, index) if len(docs) > 1 else None)
    return next(s for s in ctx.services if s.name == name)


BASE = y("services:", "  app:", "    image: a", "    ports: ['80:80']", "    deploy:", "      resources:",
         "        limits:", "          cpus: '0.5'")


def test_written_keeps_every_layer_in_merge_order():
    app = service("app", BASE, y("services:", "  app:", "    ports: ['81:81']"))
    assert [deref(w.value).items[0].value for w in app.written("ports")] == ["80:80", "81:81"]
    assert [(w.here, w.own) for w in app.written("ports")] == [(True, True), (False, False)]
    assert app.written_here("ports").key.line == 3


def test_written_after_override_and_reset_tags():
    override = service("app", BASE, y("services:", "  app:", "    ports: !override ['81:81']"))
    assert [w.here for w in override.written("ports")] == [False]
    assert override.written_here("ports") is None
    reset = service("app", BASE, y("services:", "  app:", "    ports: !reset []"))
    assert reset.written("ports") == []


def test_merged_reads_a_leaf_from_the_last_layer_that_writes_it():
    later = y("services:", "  app:", "    deploy:", "      resources:", "        limits:", "          memory: 1G")
    app = service("app", BASE, later)
    assert app.merged("deploy", "resources", "limits", "cpus").here
    memory = app.merged("deploy", "resources", "limits", "memory")
    assert deref(memory.value).value == "1G" and not memory.here and not memory.own
    assert app.merged("deploy", "resources", "limits", "pids") is None
    gone = service("app", BASE, y("services:", "  app:", "    deploy: !override", "      replicas: 2"))
    assert gone.merged("deploy", "resources", "limits", "cpus") is None


def test_merged_through_a_merge_key_is_here_but_not_own():
    text = y("x-base: &base", "  deploy:", "    resources:", "      limits:", "        cpus: '1'",
             "services:", "  app:", "    <<: *base", "    image: a")
    cpus = service("app", text).merged("deploy", "resources", "limits", "cpus")
    assert cpus.here and not cpus.own


ANCHORED = y("services:", "  api: &app", "    image: a", "    restart: always", "    ports: ['80:80']",
             "  worker:", "    <<: *app", "  scheduler:", "    <<: *app", "    ports: []")


def test_reach_leaves_out_a_heir_that_writes_the_key_itself():
    ctx = Context.of(parse(ANCHORED))
    assert ctx.reach([("services", "api", "ports", 0)]) == {"api", "worker"}
    assert ctx.reach([("services", "api", "restart")]) == {"api", "worker", "scheduler"}
    assert ctx.reach([("services", "api", "cap_drop")]) == {"api", "worker", "scheduler"}  # a new key
    assert ctx.reach([("services", "scheduler", "ports")]) == {"scheduler"}


def test_reach_through_a_chain_of_merge_keys():
    text = y("x-a: &a", "  restart: always", "  user: '1'", "x-b: &b", "  <<: *a", "  user: '2'",
             "services:", "  one:", "    <<: *b", "  two:", "    <<: *b", "    restart: 'no'")
    ctx = Context.of(parse(text))
    assert ctx.reach([("x-a", "restart")]) == {"one"}
    assert ctx.reach([("x-a", "user")]) == set()  # x-b writes its own user
    assert ctx.reach([("x-b", "user")]) == {"one", "two"}


def test_reach_when_many_services_share_one_anchor():
    # the index walks an anchor once for all services that arrive at it with the same keys hidden:
    # each of them must still be reached, and a service that writes the key itself must not
    text = y("x-logging: &logging", "  driver: json-file", "x-common: &common", "  restart: always",
             "  logging: *logging", "services:", "  a:", "    <<: *common", "    image: a", "  b:", "    <<: *common",
             "    image: b", "  c: &c", "    <<: *common", "    restart: 'no'", "  d: *c", "  e:", "    image: e",
             "    logging: *logging")
    ctx = Context.of(parse(text))
    assert ctx.reach([("x-logging", "driver")]) == {"a", "b", "c", "d", "e"}
    assert ctx.reach([("x-logging", "options")]) == {"a", "b", "c", "d", "e"}  # a new key
    assert ctx.reach([("x-common", "restart")]) == {"a", "b"}  # c (and d, its alias) write their own
    assert ctx.reach([("x-common", "logging")]) == {"a", "b", "c", "d"}
    assert ctx.reach([("services", "c", "image")]) == {"c", "d"}
    assert ctx.reach([("services", "e", "logging")]) == {"e"}
    assert ctx.reach([("services", "a", "restart"), ("services", "b")]) == {"a", "b"}


MERGES = y("x-a: &a", "  restart: always", "  user: '1'", "  <<: {cpus: '1'}", "x-b: &b", "  <<: *a",
           "  user: '2'", "  ? [complex, key]", "  : value", "x-c: &c", "  user: '3'", "  image: c",
           "services:", "  one:", "    <<: [*b, *c]", "    image: one", "  two:", "    <<: *c",
           "  three: &three", "    image: three", "    deploy:", "      <<: *a", "  four:", "    <<: *three",
           "  bad:", "    <<: just-text", "    image: bad")


def test_merged_index_answers_as_merged_entry_for_every_key():
    # Service reads its layers through merged_index (one dict per layer) instead of merged_entry
    from hardener.compose import _all_nodes, merged_index
    from hardener.yamltext import Map, YamlInputError, merged_entry

    docs = [parse(MERGES)]
    for path in sorted(FIXTURES.rglob("*.y*ml")):
        with contextlib.suppress(YamlInputError, UnicodeDecodeError):
            docs.append(parse(path.read_text(encoding="utf-8")))
    mappings = [n for doc in docs if doc.root is not None for n in _all_nodes(doc.root) if isinstance(n, Map)]
    assert len(mappings) > 100
    for mapping in mappings:
        index = merged_index(mapping)
        asked = {k.value for n in mappings for k, _ in n.pairs if hasattr(k, "value")} | {"<<", "absent"}
        assert {key: merged_entry(mapping, key) for key in asked if merged_entry(mapping, key)} == index
    one = merged_index(next(m for m in mappings if m.path == ("services", "one")))
    assert (one["user"][1].value, one["user"][2], one["cpus"][1].value, one["image"][2]) == ("2", False, "1", True)


def test_a_layer_without_merge_key_is_asked_in_place_with_the_same_answers():
    # Service reads a layer without "<<" through _OwnEntries (no copy of its entries per service)
    from hardener.compose import _all_nodes, _OwnEntries, merged_index
    from hardener.yamltext import Map, YamlInputError

    docs = [parse(MERGES)]
    for path in sorted(FIXTURES.rglob("*.y*ml")):
        with contextlib.suppress(YamlInputError, UnicodeDecodeError):
            docs.append(parse(path.read_text(encoding="utf-8")))
    mappings = [n for doc in docs if doc.root is not None for n in _all_nodes(doc.root)
                if isinstance(n, Map) and n.get("<<") is None]
    assert len(mappings) > 100
    asked = {k.value for n in mappings for k, _ in n.pairs if hasattr(k, "value")} | {"<<", "absent"}
    for mapping in mappings:
        index, own = merged_index(mapping), _OwnEntries(mapping)
        assert dict(own.items()) == index
        assert {key: own.get(key) for key in asked if key in own} == index


def test_a_layer_with_merge_keys_answers_as_merged_index_and_shares_what_it_merges():
    from hardener.compose import _all_nodes, _MergedEntries, merged_index
    from hardener.yamltext import Map

    doc = parse(MERGES)
    mappings = [n for n in _all_nodes(doc.root) if isinstance(n, Map) and n.get("<<") is not None]
    assert len(mappings) >= 3
    asked = {k.value for n in _all_nodes(doc.root) if isinstance(n, Map) for k, _ in n.pairs
             if hasattr(k, "value")} | {"<<", "absent"}
    memo: dict = {}
    for mapping in mappings:
        index, merged = merged_index(mapping), _MergedEntries(mapping, memo)
        assert dict(merged.items()) == index
        assert {key: merged.get(key) for key in asked if key in merged} == index
    # services merging the same anchor share one dict of what it gives
    text = y("x-a: &a {restart: always, image: a}", "services:", *[f"  s{i}: {{<<: *a, user: '1'}}" for i in range(5)])
    ctx = Context.of(parse(text))
    inherited = {id(svc._indexes[0].inherited) for svc in ctx.services}
    assert len(inherited) == 1 and ctx.services[3].value("restart") == "always"
    assert not ctx.services[3].entry("restart").own and ctx.services[3].entry("user").own


def test_one_layer_service_answers_entries_as_every_layer_would():
    doc = y("services:", "  app:", "    image: a", "    cap_drop: [ALL]", "    ports: !reset []", "    user: ~")
    app = service("app", doc)
    assert [i.value for i in app.written("cap_drop")[0].value.items] == ["ALL"]
    assert app.written("ports") == [] and app.written("absent") == [] and app.entry("absent") is None
    assert app.entry("user").own and app.entry("user") is app.entry("user")  # one Written per key
    assert app.written("cap_drop") == [app.entry("cap_drop")]


def test_surviving_mounts_are_merged_by_cleaned_target():
    base = y("services:", "  app:", "    image: a", "    volumes:", "      - /a:/data/", "      - /b:/keep",
             "      - ${SRC}:${DST}", "      - type: bind", "        source: /c", "        target: /long")
    later = y("services:", "  app:", "    volumes:", "      - type: volume", "        target: /data",
              "      - /d:/long", "      - /e:${DST}")
    app = service("app", base, later)
    kept = [(w.here, deref(item).line) for w, item in app.surviving("volumes")]
    assert kept == [(True, 5), (True, 6), (False, 3), (False, 5), (False, 6)]  # variable targets never match
    assert app.surviving("volumes") is app.surviving("volumes")  # computed once per service


def test_surviving_devices_compare_targets_as_written():
    app = service("app", y("services:", "  app:", "    image: a", "    devices:", "      - /dev/sda",
                           "      - /dev/kvm:rwm", "      - /dev/fuse:/dev/fuse"),
                  y("services:", "  app:", "    devices:", "      - /dev/null:/dev/sda", "      - /dev/zero:/dev/kvm",
                    "      - /dev/zero:/dev/fuse/"))
    assert [deref(item).value for _, item in app.surviving("devices")] == [
        "/dev/fuse:/dev/fuse", "/dev/null:/dev/sda", "/dev/zero:/dev/kvm", "/dev/zero:/dev/fuse/"]


def test_chain_lists_every_layer_that_writes_a_path():
    later = y("services:", "  app:", "    deploy:", "      resources:", "        limits:", "          cpus: '1'")
    chain = service("app", BASE, later).chain("deploy", "resources", "limits", "cpus")
    assert [(w.here, deref(w.value).value) for w in chain] == [(True, "0.5"), (False, "1")]
