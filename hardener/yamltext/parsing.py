"""Text to nodes: decoding a file's bytes, ruamel.yaml's parser events (libyaml's C parser when
``ruamel.yaml.clib`` is installed) turned into the node tree with positions, the document's layout
conventions (indentation step, dash offset, quote), and the refusals (duplicate keys, several documents,
undefined aliases, alias bombs, absurd depth) as `YamlInputError`."""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from .nodes import _meta, _ROOT, Alias, Map, Node, Scalar, Seq, YamlInputError, _find_merge_sources

try:  # the C parser is ~30x faster; the pure-Python parser gives the same events and marks
    from ruamel.yaml.cyaml import CParser as _Parser
except ImportError:  # pragma: no cover - exercised only where ruamel.yaml.clib is missing
    _Parser = None
from ruamel.yaml import events as _ev
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.reader import ReaderError

MAX_EXPANDED_NODES = 1_000_000  # an alias bomb expands past this; real compose files stay far below
MAX_DEPTH = 500  # nesting beyond this is hostile, not a compose file

# --------------------------------------------------------------------------- parsing

@dataclass
class Document:
    """A parsed compose file: its text (no BOM), node tree and layout conventions."""

    text: str
    root: Map | None
    newline: str = "\n"
    bom: bool = False
    _layout: dict = field(default_factory=dict, repr=False)

    @property
    def indent_step(self) -> int:
        return self._style()["step"]

    @property
    def seq_offset(self) -> int:
        return self._style()["seq"]

    @property
    def quote(self) -> str:
        return self._style()["quote"]

    def _style(self):
        if not self._layout:
            self._layout.update(_measure_layout(self.root))
        return self._layout

    @property
    def layout(self) -> "Layout":
        """The file's conventions alone, for an edit rendered later: it does not keep the tree alive."""
        style = self._style()
        if "layout" not in style:
            style["layout"] = Layout(style["step"], style["seq"], style["quote"])
        return style["layout"]


class Layout:
    """A document's conventions for new lines (what `render_block` and `render_item` read of it)."""

    __slots__ = ("indent_step", "seq_offset", "quote")

    def __init__(self, indent_step: int, seq_offset: int, quote: str):
        self.indent_step, self.seq_offset, self.quote = indent_step, seq_offset, quote


def decode(data: bytes) -> tuple[str, bool]:
    """Text of a file's bytes (UTF-8, optional BOM); raises YamlInputError on anything else."""
    bom = data.startswith(b"\xef\xbb\xbf")
    if bom:
        data = data[3:]
    if b"\x00" in data[:8192]:
        raise YamlInputError("binary data, not a YAML text file")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise YamlInputError(f"invalid UTF-8 byte 0x{data[exc.start]:02x}", line, column) from None
    return text, bom


def parse(text: str, bom: bool = False) -> Document:
    """Parse one YAML document into nodes with positions. Rejects what Compose would reject or what
    could hurt us: duplicate keys, undefined aliases, several documents, alias bombs, deep nesting."""
    crlf, lf = text.count("\r\n"), text.count("\n")
    newline = "\r\n" if crlf and crlf * 2 >= lf else "\n"
    root, bomb = _compose(text)
    if isinstance(root, Scalar) and root.is_null:
        root = None  # "---" alone, or "~": an empty document
    if root is not None and not isinstance(root, Map):
        raise YamlInputError("the top level of a compose file must be a mapping", root.line + 1, root.col + 1)
    if root is not None and bomb is not None:
        raise YamlInputError("aliases expand to more than a million nodes (an alias bomb?)", bomb.line + 1, bomb.col + 1)
    if root is not None and ("\u2028" in text or "\u2029" in text or "\x85" in text):
        _recount_lines(text, root)
    return Document(text=text, root=root, newline=newline, bom=bom)


def _recount_lines(text, root):
    """The parser counts U+0085, U+2028 and U+2029 as line breaks (YAML 1.1); diff, git, GitHub and
    editors count only \n, \r\n and \r. Positions are recounted from the offsets the way they do, so
    that a finding, a suggestion or a diff hunk after such a character names the right line."""
    import bisect

    starts = [0] + [m.end() for m in re.finditer(r"\r\n|\r|\n", text)]
    todo, seen, relocated = [(root, 0)], set(), []
    while todo:
        node, depth = todo.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        line = bisect.bisect_right(starts, node.start) - 1
        node.line, node.col = line, node.start - starts[line]
        children = ([n for pair in node.pairs for n in pair] if isinstance(node, Map)
                    else node.items if isinstance(node, Seq) else ())
        todo.extend((child, depth + 1) for child in children)
        if isinstance(node, (Map, Seq)) and not node.flow and (node.anchor or node.tag):
            relocated.append((depth, node))
    for _, node in sorted(relocated, key=lambda pair: -pair[0]):  # inner blocks first
        _locate_block(text, node)


def _events(text):
    if _Parser is not None:
        parser = _Parser(text)
        while True:
            event = parser.get_event()
            yield event
            if type(event) is _ev.StreamEndEvent:
                return
    from ruamel.yaml.main import YAML  # pragma: no cover

    yield from YAML(typ="base", pure=True).parse(text)  # pragma: no cover


_new = object.__new__
_ScalarEvent, _AliasEvent = _ev.ScalarEvent, _ev.AliasEvent
_SeqStart, _MapStart = _ev.SequenceStartEvent, _ev.MappingStartEvent
_SeqEnd, _MapEnd, _DocStart = _ev.SequenceEndEvent, _ev.MappingEndEvent, _ev.DocumentStartEvent


def _compose(text):
    """(root node, the first collection whose alias-expanded size passes MAX_EXPANDED_NODES or None).

    One pass over the parser's events. Each open collection is a stack entry [node, pending key,
    expanded size, shares, whether its children are in a flow collection, a Map's entries so far]; a node's size (itself plus its children, an alias counting as its target) is
    added to its parent's when it is attached, so an alias bomb is measured without being expanded."""
    anchors: dict[str, Node] = {}
    sizes: dict[int, int] = {}  # id(anchored collection) -> its expanded size
    texts: dict[str, str] = {}  # keys and values repeat from service to service: keep one copy of each
    line = -1  # the line number of the last node: the next node on that line shares its int
    limit = MAX_EXPANDED_NODES if "*" in text else None  # without an alias nothing expands
    bomb = None
    stack: list = []  # open collections: [node, pending key of a Map, expanded size, shares, children in flow, pairs]
    root = None
    documents = 0
    try:
        for event in _events(text):
            kind = type(event)
            if kind is _ScalarEvent:
                node = _new(Scalar)
                value = event.value
                node.value = texts.setdefault(value, value)
                tag, style = event.tag, event.style or ""
                size = 1
            elif kind is _MapEnd or kind is _SeqEnd:
                top = stack.pop()
                node = top[0]
                node._len = event.end_mark.index - node.start
                shares = top[3]
                if kind is _MapEnd:
                    _index_keys(node, top[5])
                    shares = shares or "<<" in node._index
                elif node.items:  # appending left room for more items: keep an exact copy
                    node.items = node.items[:]
                node.shares = shares
                if not node.flow and node._meta is not None and (node._meta[0] or node._meta[1]):
                    _locate_block(text, node)
                size = top[2]
                if limit is not None:
                    if node._meta is not None and node._meta[1]:
                        sizes[id(node)] = size
                    if size > limit and bomb is None:
                        bomb = node
                if stack:
                    parent = stack[-1]
                    parent[2] += size
                    if shares:
                        parent[3] = True
                continue
            elif kind is _AliasEvent:
                node = _alias(event, anchors, stack)
                tag, style = None, ""
                size = sizes.get(id(node.target), 1)
                if stack:
                    stack[-1][3] = True  # its collection shares a node
            elif kind is _MapStart or kind is _SeqStart:
                if kind is _MapStart:
                    node = _new(Map)
                    node._index, node._sources = {}, ()
                else:
                    node = _new(Seq)
                    node.items = []
                node.flow = bool(event.flow_style)
                tag, style = event.tag, ""
                size = 0  # added when the collection closes
            elif kind is _DocStart:
                documents += 1
                if documents > 1:
                    m = event.start_mark
                    raise YamlInputError("more than one YAML document in a compose file", m.line + 1, m.column + 1)
                continue
            else:  # stream start and end, document end
                continue
            mark = event.start_mark
            node.start = mark.index
            node._len = event.end_mark.index - mark.index  # a collection's is set again when it closes
            if mark.line != line:  # nodes come in the order written: one int object per line without a dict
                line = mark.line
            node.line, node.col = line, mark.column
            anchor = event.anchor if kind is not _AliasEvent else None  # an alias event's anchor is its name
            if stack:
                top = stack[-1]
                parent = top[0]
                in_flow = top[4]
                if type(parent) is Seq:
                    key = len(parent.items)
                    parent.items.append(node)
                elif top[1] is None:
                    key = "<key>"
                    top[1] = node
                else:
                    key = top[1]
                    if type(key) is Scalar:
                        key._key = node  # the key holds its value (see Map)
                        top[5].append(key)
                        key = key.value
                    else:
                        top[5].append((key, node))
                        key = "<key>"
                    top[1] = None
                top[2] += size
                base = parent.path
            else:
                in_flow = False
                key, base = _ROOT, ()
                root = node
            if tag is None and anchor is None and not in_flow and style == "":
                node._meta = None  # the usual node: spares a call
            else:
                node._meta = _meta(tag, anchor, in_flow, style)
            if kind is _MapStart or kind is _SeqStart:
                node.path = base if key is _ROOT else base + (key,)
                if len(stack) >= MAX_DEPTH:
                    raise YamlInputError(f"nesting deeper than {MAX_DEPTH} levels", node.line + 1, node.col + 1)
                stack.append([node, None, 1, False, in_flow or node.flow, [] if kind is _MapStart else None])
            else:
                node._base, node._key = base, key
            if anchor:
                anchors[anchor] = node
    except ReaderError as exc:  # a character YAML does not allow; libyaml reports a byte offset
        index = len(text.encode("utf-8")[:exc.position].decode("utf-8", "ignore"))
        line = text.count("\n", 0, index) + 1
        column = index - (text.rfind("\n", 0, index) + 1) + 1
        char = exc.character if isinstance(exc.character, int) else ord(str(exc.character)[:1] or "\0")
        raise YamlInputError(f"invalid YAML: character U+{char:04X} is not allowed ({exc.reason})", line, column) from None
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        message = " ".join(str(exc.problem or exc.context or "invalid YAML").split())
        raise YamlInputError(f"invalid YAML: {message}", mark.line + 1 if mark else 1, mark.column + 1 if mark else 1) from None
    except YAMLError as exc:
        raise YamlInputError("invalid YAML: " + " ".join(str(exc).split())) from None
    return root, bomb


def _alias(event, anchors, stack):
    target = anchors.get(event.anchor)
    m = event.start_mark
    if target is None:
        raise YamlInputError(f"undefined alias *{event.anchor}", m.line + 1, m.column + 1)
    if any(entry[0] is target for entry in stack):
        raise YamlInputError(f"alias *{event.anchor} refers to a node that contains it (a cycle)",
                             m.line + 1, m.column + 1)
    node = _new(Alias)
    node.name, node.target = event.anchor, target
    return node


def _locate_block(text, node):
    """A block collection's event starts at its anchor or tag; move line/col to its first entry (the
    first key, or the first item's dash) so new entries get the right indentation."""
    if isinstance(node, Map) and node.pairs:
        first = node.pairs[0][0]
        node.line, node.col = first.line, first.col
    elif isinstance(node, Seq) and node.items:
        first = node.items[0]
        dash = text.rfind("-", _line_start(text, first.start), first.start)
        if dash >= 0:
            node.line, node.col = first.line, dash - _line_start(text, first.start)


def _index_keys(mapping: Map, entries: list):
    """Refuse a repeated key (a repeated "<<" too, as Compose does) and index the entries (scalar
    keys holding their values, (key, value) tuples for other keys): the index is the mapping's only
    store of them (see `Map`)."""
    index = {}
    for key in entries:
        if type(key) is Scalar:
            if key.value in index:
                first = index[key.value]
                raise YamlInputError(f"duplicate key {key.value!r} (first defined on line {first.line + 1})",
                                     key.line + 1, key.col + 1)
            index[key.value] = key
        else:
            index[key[0]] = key  # a node as the key: stored under itself, never found by a key text
    mapping._index = index
    if "<<" in index:
        mapping._sources = _find_merge_sources(mapping)


def _measure_layout(root):
    """The file's own conventions for new lines: indentation step, dash offset, quote character."""
    steps, offsets, quotes = Counter(), Counter(), Counter()
    todo = [root] if root is not None else []
    pop, push, extend = todo.pop, todo.append, todo.extend
    while todo:  # the order of the walk decides ties between equally common conventions: keep it
        node = pop()
        kind = type(node)
        if kind is Map:
            if node.flow:
                continue
            for k, v in node.pairs:
                kind = type(v)
                if kind is Map:
                    if not v.flow and v.line > k.line:
                        steps[v.col - k.col] += 1
                elif kind is Seq and not v.flow and v.line > k.line:
                    offsets[v.col - k.col] += 1
                push(v)
        elif kind is Seq:
            extend(node.items)
        elif kind is Scalar and node._meta is not None and (node._meta[3] == "'" or node._meta[3] == '"'):
            quotes[node._meta[3]] += 1
    step = next((s for s, _ in steps.most_common() if s > 0), 2)
    seq = next((o for o, _ in offsets.most_common() if o >= 0), step)
    quote = quotes.most_common(1)[0][0] if quotes else '"'
    return {"step": step, "seq": seq, "quote": quote}


def _line_start(text, offset):
    return text.rfind("\n", 0, offset) + 1

