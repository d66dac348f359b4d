"""Typed views of a service (hardener/views.py) on parsed documents: svc.user()."""
from __future__ import annotations

import pytest

from hardener.compose import Context, Project
from hardener.yamltext import Scalar, parse

from conftest import y


def service(name: str, *texts: str, index: int = 0, read_only=()):
    docs = tuple(parse(t) for t in texts)
    project = Project(docs, index, read_only=frozenset(read_only)) if len(docs) > 1 else None
    ctx = Context.of(docs[index], project=project)
    return next(s for s in ctx.services if s.name == name)


def app_with(user_line: str):
    return service("app", y("services:", "  app:", "    image: a", f"    {user_line}"))


@pytest.mark.parametrize("line, text, name, group, uid, gid, variable, root", [
    ("user: root", "root", "root", None, None, None, False, True),
    ("user: '0'", "0", "0", None, 0, None, False, True),
    ("user: 0", "0", "0", None, 0, None, False, True),
    ("user: '0:0'", "0:0", "0", "0", 0, 0, False, True),
    ("user: root:wheel", "root:wheel", "root", "wheel", None, None, False, True),
    ("user: '0:1000'", "0:1000", "0", "1000", 0, 1000, False, True),
    ("user: ' root : staff '", " root : staff ", "root", "staff", None, None, False, True),
    ("user: '1000:1000'", "1000:1000", "1000", "1000", 1000, 1000, False, False),
    ("user: node", "node", "node", None, None, None, False, False),
    ("user: '65534:'", "65534:", "65534", "", 65534, None, False, False),
    ("user: ':1000'", ":1000", "", "1000", None, 1000, False, False),
    ("user: ${UID}", "${UID}", "${UID}", None, None, None, True, False),
    ("user: ${UID:-0}:${GID:-0}", "${UID:-0}:${GID:-0}", "${UID:-0}", "${GID:-0}", None, None, True, False),
    ("user: root:${GID}", "root:${GID}", "root", "${GID}", None, None, True, False),
    ("user: $$HOME", "$$HOME", "$$HOME", None, None, None, False, False),  # $$ is a literal $
    ("user: '١٢'", "١٢", "١٢", None, None, None, False, False),  # not an ASCII number
    ("user:", None, "", None, None, None, False, False),  # null: no text
    ("user: [root]", None, "", None, None, None, False, False),  # not a scalar
])
def test_user_reads_name_group_and_ids(line, text, name, group, uid, gid, variable, root):
    user = app_with(line).user()
    assert user.written is not None
    assert (user.text, user.name, user.group, user.uid, user.gid, user.variable, user.root) == \
        (text, name, group, uid, gid, variable, root)


def test_no_user_anywhere():
    user = service("app", y("services:", "  app:", "    image: a")).user()
    assert user.written is None and user.text is None and user.name == "" and not user.root
    assert user.scalar is None and not user.editable


def test_own_scalar_is_editable_and_the_edit_target():
    user = app_with("user: root").user()
    assert isinstance(user.scalar, Scalar) and user.scalar.value == "root" and user.scalar.line == 3
    assert user.editable and user.written.own


def test_through_an_alias_the_text_is_read_but_nothing_is_editable():
    svc = service("app", y("x-user: &u root", "services:", "  app:", "    image: a", "    user: *u"))
    user = svc.user()
    assert user.text == "root" and user.root
    assert user.scalar is None and not user.editable and user.written.own  # the key is own, the value an alias


def test_through_a_merge_key_is_not_own():
    svc = service("app", y("x-base: &base", "  user: '0'", "services:", "  app:", "    <<: *base",
                           "    image: a"))
    user = svc.user()
    assert user.root and user.scalar is not None and not user.written.own and not user.editable


def test_a_later_file_wins_and_is_not_editable_here():
    base = y("services:", "  app:", "    image: a", "    user: root")
    later = y("services:", "  app:", "    user: '1000'")
    user = service("app", base, later).user()
    assert user.uid == 1000 and not user.root and not user.written.here and not user.editable
    assert service("app", base, later, index=1).user().editable


def test_a_read_only_layer_is_read_but_not_editable():
    base = y("services:", "  app:", "    image: a", "    user: root")
    later = y("services:", "  app:", "    image: a")
    user = service("app", base, later, read_only={0}).user()
    assert user.root and user.written.own and not user.editable


def test_a_whole_service_alias_is_not_editable():
    svc = service("copy", y("services:", "  app: &app", "    image: a", "    user: root", "  copy: *app"))
    assert svc.shared and svc.user().root and not svc.user().editable


def test_the_view_is_built_once_per_pass():
    svc = app_with("user: root")
    assert svc.user() is svc.user()


def test_texts_walks_depth_first_with_keys_before_values_through_aliases():
    from hardener.views import texts

    doc = parse(y("x-env: &env", "  A: '1'", "  B: [b1, {b2: b3}]", "services:", "  app:", "    image: a",
                  "    environment:", "      <<: *env", "      C: c", "    command: [run, *env]",
                  "    labels:", "      ? [complex]", "      : kept", "      d: ~"))
    app = doc.root.get("services").get("app")
    assert list(texts(app.get("command"))) == ["run", "A", "1", "B", "b1", "b2", "b3"]
    assert list(texts(app.get("environment"))) == ["<<", "A", "1", "B", "b1", "b2", "b3", "C", "c"]
    assert list(texts(app.get("labels"))) == ["kept", "d", "~"]  # a key that is not a scalar has no text
    assert list(texts(app.get("image"))) == ["a"] and list(texts(None)) == []
