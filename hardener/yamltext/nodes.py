"""The node tree hardener reads a compose file into: `Scalar`, `Seq`, `Map` and `Alias` with their
positions in the text, and the questions every layer above asks of them (`deref`, `scalar_value`,
merge keys through `merged_entry` and `merged_keys`). Built by `parsing.py`; knows nothing of text."""
from __future__ import annotations

_NULLS = {"", "~", "null", "Null", "NULL"}


class YamlInputError(Exception):
    """The text is not a YAML document hardener can work on; line and column are 1-based."""

    def __init__(self, message: str, line: int = 1, column: int = 1):
        super().__init__(message)
        self.message, self.line, self.column = message, line, column


# --------------------------------------------------------------------------- nodes
#
# A big compose file becomes a hundred thousand nodes that stay alive while the rules run, so a node
# stores little of its own (measured with tracemalloc on bench/run.py's 4,000-service file):
# - `end` is computed from `start` and a length: almost every node is shorter than 257 characters,
#   and CPython shares those small ints, while an end offset is a new int object per node;
# - `tag`, `anchor`, `in_flow` and a scalar's `style` are almost always None/False/"" (plain): they
#   share one field, `_meta`: None for the usual node, else a (tag, anchor, in_flow, style) tuple,
#   shared by all nodes without tag and anchor (`_plain_meta`), a node's own only when it has one;
# - a scalar's or an alias's `path` is computed from its parent's path tuple (shared) and its own key
#   or index; only collections keep a tuple of their own (their children point at it). A link to
#   the parent node instead would make every tree one big reference cycle, which CPython frees only
#   when the cyclic collector runs (rarely, with hardener's thresholds), not when the tree is dropped;
# - a mapping keeps no (key, value) tuple per entry: a scalar key holds its value (see `Map`).

_PLAIN_METAS = {(in_flow, style): (None, None, in_flow, style)
                for in_flow in (False, True) for style in ("", "'", '"', "|", ">")}


def _meta(tag, anchor, in_flow: bool, style: str):
    """The `_meta` field of a node (style "" for collections and aliases)."""
    if tag is None and anchor is None:
        if not in_flow and style == "":
            return None
        meta = _PLAIN_METAS.get((in_flow, style))
        if meta is not None:
            return meta
    return (tag, anchor, in_flow, style)


class Node:
    __slots__ = ("start", "_len", "line", "col", "_meta")

    @property
    def end(self) -> int:
        return self.start + self._len

    @property
    def tag(self):
        meta = self._meta
        return None if meta is None else meta[0]

    @property
    def anchor(self):
        meta = self._meta
        return None if meta is None else meta[1]

    @property
    def in_flow(self) -> bool:
        """Inside a flow collection, where ':' and ',' need quotes."""
        meta = self._meta
        return meta is not None and meta[2]


class _Leaf(Node):
    """A scalar or an alias: its path is its parent's path (shared) plus its own key or index. The
    scalar key of a mapping entry keeps its value node in `_key` instead (its path ends in "<key>")."""
    __slots__ = ("_base", "_key")

    @property
    def path(self) -> tuple:
        """Where the node is written in the document, as keys and indexes."""
        key = self._key
        if key is _ROOT:
            return self._base
        if type(key) is not str and type(key) is not int:
            key = "<key>"  # a mapping's key, holding its value
        return self._base + (key,)


_ROOT = object()  # the _key of a leaf that is the whole document


class Scalar(_Leaf):
    __slots__ = ("value",)

    @property
    def style(self) -> str:
        """How the scalar is written: "" plain, "'" or '"' quoted, "|" or ">" block."""
        meta = self._meta
        return "" if meta is None else meta[3]

    @property
    def is_null(self) -> bool:
        meta = self._meta
        if meta is None:
            return self.value in _NULLS
        return meta[3] == "" and meta[0] is None and self.value in _NULLS


class Seq(Node):
    __slots__ = ("path", "items", "flow", "shares")
    # items: list[Node]; shares: an alias or a merge key somewhere inside (set when the sequence closes)


class Map(Node):
    __slots__ = ("path", "flow", "_index", "_sources", "shares")
    # _index, filled when the mapping closes, is its only store of its entries, in the order written:
    # key text -> the key's Scalar, which holds the value node in its `_key`. An entry whose key is not
    # a scalar (rare) is stored as a (key node, value node) tuple under the key node itself, so that no
    # key text finds it. No list of pairs and no tuple per entry: on a big file those were 15% of the
    # tree. _sources: the mappings merged in with "<<", in order; shares: as for Seq

    @property
    def pairs(self) -> list:
        """(key node, value node) of every entry, in the order written (a new list at each call)."""
        return [(e, e._key) if type(e) is Scalar else e for e in self._index.values()]

    def _first_key(self):
        """The key node of the first entry (the mapping must have one), without building `pairs`."""
        first = next(iter(self._index.values()))
        return first if type(first) is Scalar else first[0]

    def _last_value(self):
        """The value node of the last entry (the mapping must have one), without building `pairs`."""
        last = next(reversed(self._index.values()))
        return last._key if type(last) is Scalar else last[1]

    def entry(self, key: str):
        """The (key node, value node) written directly in this mapping, or None."""
        k = self._index.get(key)
        return None if k is None else (k, k._key)

    def get(self, key: str):
        k = self._index.get(key)
        return None if k is None else k._key


class Alias(_Leaf):
    __slots__ = ("name", "target")

    @property
    def anchor(self):
        return self.name  # the alias event's anchor field is the name it refers to


def deref(node):
    return node.target if type(node) is Alias else node


def scalar_value(node):
    """The string value of a scalar (through an alias), or None for anything else or null."""
    if type(node) is Alias:
        node = node.target
    if type(node) is Scalar and not node.is_null:
        return node.value
    return None


def merged_entry(mapping: Map, key: str):
    """(key node, value node, own) for key, following ``<<`` merge keys as YAML does; own is False
    when the value comes from a merged mapping (editing it there would change every user)."""
    k = mapping._index.get(key)
    if k is not None:
        return k, k._key, True
    for source in mapping._sources:  # empty unless something is merged into this mapping
        found = merged_entry(source, key)
        if found:
            return found[0], found[1], False
    return None


def merged_keys(mapping: Map) -> list[str]:
    keys = [k for k in mapping._index if type(k) is str and k != "<<"]  # the texts of its scalar keys
    for source in mapping._sources:
        keys += [k for k in merged_keys(source) if k not in keys]
    return keys


def _find_merge_sources(mapping: Map) -> tuple:
    value = mapping.get("<<")
    if value is None:
        return ()
    value = deref(value)
    items = value.items if isinstance(value, Seq) else [value]
    return tuple(deref(i) for i in items if isinstance(deref(i), Map))
