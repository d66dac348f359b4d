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

class Node:
    __slots__ = ("start", "end", "line", "col", "tag", "anchor", "path", "in_flow")

    def __init__(self, event, path):
        self.in_flow = False  # inside a flow collection, where ':' and ',' need quotes
        self.start, self.end = event.start_mark.index, event.end_mark.index
        self.line, self.col = event.start_mark.line, event.start_mark.column
        self.tag = getattr(event, "tag", None)
        self.anchor = getattr(event, "anchor", None)
        self.path = path  # where the node is written in the document, as keys and indexes


class Scalar(Node):
    __slots__ = ("value", "style")

    def __init__(self, event, path):
        super().__init__(event, path)
        self.value, self.style = event.value, event.style or ""

    @property
    def is_null(self) -> bool:
        return self.style == "" and self.value in _NULLS and self.tag is None


class Seq(Node):
    __slots__ = ("items", "flow", "shares")

    def __init__(self, event, path):
        super().__init__(event, path)
        self.items: list[Node] = []
        self.flow = bool(event.flow_style)
        self.shares = False  # an alias or a merge key somewhere inside (set when the sequence closes)


class Map(Node):
    __slots__ = ("pairs", "flow", "_index", "_sources", "shares")

    def __init__(self, event, path):
        super().__init__(event, path)
        self.pairs: list[tuple[Node, Node]] = []
        self.flow = bool(event.flow_style)
        self._index: dict = {}  # key text -> (key node, value node), filled when the mapping closes
        self._sources = ()  # the mappings merged in with "<<", in order, filled when the mapping closes
        self.shares = False  # an alias or a merge key somewhere inside (set when the mapping closes)

    def entry(self, key: str):
        """The (key node, value node) written directly in this mapping, or None."""
        return self._index.get(key)

    def get(self, key: str):
        e = self._index.get(key)
        return e[1] if e else None


class Alias(Node):
    __slots__ = ("name", "target")

    def __init__(self, event, path, target):
        super().__init__(event, path)
        self.name, self.target = event.anchor, target


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
    e = mapping._index.get(key)
    if e:
        return e[0], e[1], True
    for source in mapping._sources:  # empty unless something is merged into this mapping
        found = merged_entry(source, key)
        if found:
            return found[0], found[1], False
    return None


def merged_keys(mapping: Map) -> list[str]:
    keys = [k.value for k, _ in mapping.pairs if isinstance(k, Scalar) and k.value != "<<"]
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
