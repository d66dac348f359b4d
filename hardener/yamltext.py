"""Every YAML and text-layout detail of hardener lives in this module.

The file is never dumped by a YAML emitter. ruamel.yaml (its libyaml-based C parser when
``ruamel.yaml.clib`` is installed) only reports *events* with exact character positions; this module
builds a small node tree from them and turns each fix into a text edit at those positions. Lines that no
edit touches therefore stay byte-identical: comments, quotes, indentation, anchors, key order, blank
lines, ``---`` and line endings. After the edits the text is parsed again and compared with the
original, so an edit that would change anything it did not mean to is refused rather than written.

Why not ruamel's round-trip dumper: measured on the shared corpus, a plain load+dump changes 239 of
277 files before any edit (re-indentation, comment columns, wrapped lines, mixed CRLF).
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

try:  # the C parser is ~30x faster; the pure-Python parser gives the same events and marks
    from ruamel.yaml.cyaml import CParser as _Parser
except ImportError:  # pragma: no cover - exercised only where ruamel.yaml.clib is missing
    _Parser = None
from ruamel.yaml import events as _ev
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.reader import ReaderError

MAX_EXPANDED_NODES = 1_000_000  # an alias bomb expands past this; real compose files stay far below
MAX_DEPTH = 500  # nesting beyond this is hostile, not a compose file

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
    expanded size]; a node's size (itself plus its children, an alias counting as its target) is added
    to its parent's when it is attached, so an alias bomb is measured without being expanded."""
    anchors: dict[str, Node] = {}
    sizes: dict[int, int] = {}  # id(anchored collection) -> its expanded size
    key_texts: dict[str, str] = {}
    line_numbers: dict[int, int] = {}
    limit = MAX_EXPANDED_NODES if "*" in text else None  # without an alias nothing expands
    bomb = None
    stack: list = []  # open collections: [node, pending key of a Map, expanded size, path of its keys, shares]
    root = None
    documents = 0
    try:
        for event in _events(text):
            kind = type(event)
            if kind is _ScalarEvent:
                node = _new(Scalar)
                node.value, node.style = event.value, event.style or ""
                node.tag = event.tag
                size = 1
            elif kind is _MapEnd or kind is _SeqEnd:
                top = stack.pop()
                node = top[0]
                node.end = event.end_mark.index
                shares = top[4]
                if kind is _MapEnd:
                    _index_keys(node)
                    shares = shares or "<<" in node._index
                node.shares = shares
                if not node.flow and (node.anchor or node.tag):
                    _locate_block(text, node)
                size = top[2]
                if limit is not None:
                    if node.anchor:
                        sizes[id(node)] = size
                    if size > limit and bomb is None:
                        bomb = node
                if stack:
                    parent = stack[-1]
                    parent[2] += size
                    if shares:
                        parent[4] = True
                continue
            elif kind is _AliasEvent:
                node = _alias(event, anchors, stack)
                size = sizes.get(id(node.target), 1)
                if stack:
                    stack[-1][4] = True  # its collection shares a node
            elif kind is _MapStart or kind is _SeqStart:
                if kind is _MapStart:
                    node = _new(Map)
                    node.pairs, node._index, node._sources = [], {}, ()
                else:
                    node = _new(Seq)
                    node.items = []
                node.flow = bool(event.flow_style)
                node.tag = event.tag
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
            node.start, node.end = mark.index, event.end_mark.index
            line = mark.line
            node.line, node.col = line_numbers.setdefault(line, line), mark.column  # one int per line
            anchor = node.anchor = event.anchor
            if stack:
                top = stack[-1]
                parent = top[0]
                node.in_flow = parent.flow or parent.in_flow
                if type(parent) is Seq:
                    node.path = parent.path + (len(parent.items),)
                    parent.items.append(node)
                elif top[1] is None:
                    if kind is _ScalarEvent:  # keys repeat from service to service: keep one copy of each
                        node.value = key_texts.setdefault(node.value, node.value)
                    key_path = top[3]  # every key of a mapping shares one path tuple
                    if key_path is None:
                        key_path = top[3] = parent.path + ("<key>",)
                    node.path = key_path
                    top[1] = node
                else:
                    key = top[1]
                    node.path = parent.path + ((key.value if type(key) is Scalar else "<key>"),)
                    parent.pairs.append((key, node))
                    top[1] = None
                top[2] += size
            else:
                node.in_flow = False
                node.path = ()
                root = node
            if anchor and kind is not _AliasEvent:
                anchors[anchor] = node
            if kind is _MapStart or kind is _SeqStart:
                if len(stack) >= MAX_DEPTH:
                    raise YamlInputError(f"nesting deeper than {MAX_DEPTH} levels", node.line + 1, node.col + 1)
                stack.append([node, None, 1, None, False])
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
    node.name, node.target, node.tag = event.anchor, target, None
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


def _index_keys(mapping: Map):
    """Refuse a repeated key (a repeated "<<" too, as Compose does) and index the keys for entry()."""
    index = {}
    for pair in mapping.pairs:  # the index holds the pairs' own tuples: no second tuple per entry
        key = pair[0]
        if type(key) is Scalar:
            if key.value in index:
                first = index[key.value][0]
                raise YamlInputError(f"duplicate key {key.value!r} (first defined on line {first.line + 1})",
                                     key.line + 1, key.col + 1)
            index[key.value] = pair
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
        elif kind is Scalar and (node.style == "'" or node.style == '"'):
            quotes[node.style] += 1
    step = next((s for s, _ in steps.most_common() if s > 0), 2)
    seq = next((o for o, _ in offsets.most_common() if o >= 0), step)
    quote = quotes.most_common(1)[0][0] if quotes else '"'
    return {"step": step, "seq": seq, "quote": quote}


# --------------------------------------------------------------------------- raw data for verification

def raw(node):
    """A plain, comparable picture of a node as written: aliases stay names, merges stay keys."""
    if isinstance(node, Alias):
        return ("*", node.name)
    if isinstance(node, Scalar):
        return (node.tag, node.value) if node.tag else node.value
    if isinstance(node, Seq):
        return [raw(i) for i in node.items] if node.tag is None else (node.tag, [raw(i) for i in node.items])
    if isinstance(node, Map):
        data = {_key_text(k): raw(v) for k, v in node.pairs}
        return data if node.tag is None else (node.tag, data)
    return None


def _key_text(key):
    return key.value if isinstance(key, Scalar) else repr(raw(key))


def changed_paths(before, after, path=()):
    """Paths at which two raw pictures differ (the shallowest point of each difference)."""
    if isinstance(before, dict) and isinstance(after, dict):
        out = []
        for k in before.keys() | after.keys():
            if k not in before or k not in after:
                out.append(path + (k,))
            else:
                out += changed_paths(before[k], after[k], path + (k,))
        return out
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        out = []
        for i, (a, b) in enumerate(zip(before, after)):
            out += changed_paths(a, b, path + (i,))
        return out
    return [] if before == after else [path]


def unexpected_changes(before, after, allowed) -> list[tuple]:
    """The paths at which two node trees differ outside the allowed paths: what
    ``changed_paths(raw(before), raw(after))`` reports that no allowed path covers (a path is covered
    by itself and by any prefix of it), found by walking both trees side by side instead of building
    two pictures of the whole document. A subtree under an allowed path is not visited at all, so the
    cost is one cheap comparison per node outside the edited places. Same notion of a change as
    `raw`: values, tags, keys, lengths and alias names, not layout or anchors."""
    out: list = []
    if () not in allowed:
        _walk(before, after, (), allowed, out)
    return out


def _walk(a, b, path, allowed, out):
    ta, tb = type(a), type(b)
    if ta is Scalar and tb is Scalar:
        if a.value != b.value or (a.tag or None) != (b.tag or None):
            out.append(path)
        return
    if ta is Map and tb is Map and a.tag is None and b.tag is None:
        ka, kb = _keyed(a), _keyed(b)
        for k, va in ka.items():
            vb = kb.get(k, _MISSING)
            sub = path + (k,)
            if vb is _MISSING:
                if sub not in allowed:
                    out.append(sub)
            elif sub not in allowed:
                _walk(va, vb, sub, allowed, out)
        for k in kb.keys() - ka.keys():
            sub = path + (k,)
            if sub not in allowed:
                out.append(sub)
        return
    if ta is Seq and tb is Seq and a.tag is None and b.tag is None and len(a.items) == len(b.items):
        for i, (ia, ib) in enumerate(zip(a.items, b.items)):
            sub = path + (i,)
            if sub not in allowed:
                _walk(ia, ib, sub, allowed, out)
        return
    if ta is Alias and tb is Alias:
        if a.name != b.name:
            out.append(path)
        return
    if raw(a) != raw(b):  # different kinds, tags or lengths: compared as `raw` pictures
        out.append(path)


_MISSING = object()


def _keyed(mapping: Map) -> dict:
    """A mapping's values by key text, as `raw` keys them (the parse-time index when every key is a
    plain scalar, which is nearly always)."""
    if len(mapping._index) == len(mapping.pairs):
        return {k: pair[1] for k, pair in mapping._index.items()}
    return {_key_text(k): v for k, v in mapping.pairs}


# --------------------------------------------------------------------------- edits

class Edit:
    """Replace text[start:end] by text; paths are where in the document the edit is meant to change
    (tuples of keys and indexes). An insertion's text may be rendered on first use (`render`): `check`
    reports that a fix exists without ever writing it. Immutable; equal when all four parts are."""

    __slots__ = ("start", "end", "paths", "_text", "_render")

    def __init__(self, start: int, end: int, text: str = "", paths: tuple = (), render=None):
        for name, value in (("start", start), ("end", end), ("paths", paths), ("_text", text), ("_render", render)):
            object.__setattr__(self, name, value)

    @property
    def text(self) -> str:
        render = self._render
        if render is not None:  # a callable, or (function, *arguments): a tuple is the smaller of the two
            object.__setattr__(self, "_text", render[0](*render[1:]) if type(render) is tuple else render())
            object.__setattr__(self, "_render", None)
        return self._text

    def __setattr__(self, name, value):
        raise AttributeError(f"Edit is immutable: cannot set {name}")

    def __eq__(self, other):  # the text (which may need rendering) is compared last
        return self is other or (isinstance(other, Edit) and self.start == other.start and self.end == other.end
                                 and self.paths == other.paths and self.text == other.text)

    def __hash__(self):  # without the text: equal edits still hash alike, and nothing is rendered
        return hash((self.start, self.end, self.paths))

    def __repr__(self):
        return f"Edit(start={self.start!r}, end={self.end!r}, text={self.text!r}, paths={self.paths!r})"

    def __reduce__(self):  # sent between processes with its text written out
        return Edit, (self.start, self.end, self.text, self.paths)


class EditConflict(Exception):
    pass


_CHAIN_KEY = re.compile(r"( *)[^\s#\-][^#]*:")


def merge_inserts(a: Edit, b: Edit) -> Edit | None:
    """One insertion for two that write the same new block key at the same point (`deploy:` with
    `resources: limits: cpus` from one rule and `pids` from another), or None when they cannot be
    merged. Merged are only block texts whose common first lines are a chain of bare keys, each
    deeper than the last, and whose other lines all sit inside the chain's deepest key. The engine
    re-parses and verifies the result like any other edit."""
    if a.start != a.end or b.start != b.end or a.start != b.start:
        return None
    if not (a.text.endswith("\n") and b.text.endswith("\n")):
        return None
    lines_a, lines_b = a.text.splitlines(True), b.text.splitlines(True)
    prefix, depth = 0, -1
    for line_a, line_b in zip(lines_a, lines_b):
        match = _CHAIN_KEY.fullmatch(line_a.rstrip("\n"))
        if line_a != line_b or not match or len(match.group(1)) <= depth:
            break
        prefix, depth = prefix + 1, len(match.group(1))
    rest = lines_a[prefix:] + lines_b[prefix:]
    if not prefix or len(lines_a) == prefix or len(lines_b) == prefix or any(not r.strip() or len(r) - len(r.lstrip(" ")) <= depth for r in rest):
        return None
    return Edit(a.start, a.end, "".join(lines_a[:prefix] + rest), tuple(dict.fromkeys(a.paths + b.paths)))


def apply_edits(doc: Document, edits) -> str:
    """The document's text with the edits applied; identical edits count once, overlapping ones raise."""
    text = doc.text
    unique = sorted(dict.fromkeys(edits), key=_edit_order)
    out, pos = [], 0
    for edit in unique:
        if edit.start < pos:
            raise EditConflict(f"overlapping edits at offset {edit.start}")
        out.append(text[pos:edit.start])
        new = edit.text.replace("\r\n", "\n").replace("\n", doc.newline) if doc.newline != "\n" else edit.text
        if edit.start == len(text) and text and not text.endswith("\n") and new.endswith(doc.newline):
            new = doc.newline + new[: -len(doc.newline)]  # keep the file's missing final newline
        out.append(new)
        pos = edit.end
    out.append(text[pos:])
    return "".join(out)


def _comment_of(line: str) -> str | None:
    """The comment on a line from its '#', or None; a '#' inside quotes or a word does not count."""
    quote = None
    for i, ch in enumerate(line):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "'\"" and (i == 0 or line[i - 1] in " \t:-[{,"):
            quote = ch
        elif ch == "#" and (i == 0 or line[i - 1] in " \t"):
            return line[i:].rstrip()
    return None


def _edit_order(edit):
    """Edits by position; block insertions at one point go deepest first, so that a key added to a
    nested mapping comes before a key added to its parent (the sort is stable otherwise)."""
    depth = len(edit.text) - len(edit.text.lstrip(" ")) if edit.start == edit.end else 0
    return (edit.start, edit.end, -depth)


def _line_start(text, offset):
    return text.rfind("\n", 0, offset) + 1


def _next_line_start(text, offset):
    nl = text.find("\n", offset)
    return len(text) if nl < 0 else nl + 1


def content_end(node) -> int:
    """Offset just past the last character the node's own text uses (not trailing comments)."""
    while True:
        if isinstance(node, Map) and not node.flow and node.pairs:
            node = node.pairs[-1][1]
        elif isinstance(node, Seq) and not node.flow and node.items:
            node = node.items[-1]
        else:
            return node.end


def _after_line_of(text, offset):
    """Start of the line after the last non-blank character before offset (an offset past the end,
    from a node of another file such as an included one, counts as the end)."""
    i = min(offset, len(text))
    while i > 0 and text[i - 1] in " \t\r\n":
        i -= 1
    return _next_line_start(text, max(i - 1, 0))


# -- rendering new YAML text in the file's own style

_NOT_STRING = re.compile(
    r"^(?:[-+]?[0-9][0-9_]*(?:\.[0-9_]*)?(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)"
    r"|y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF"
    r"|~|null|Null|NULL|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?|0x[0-9a-fA-F]+|0o?[0-7]+|<<|=)$"
)


def plain_safe(value: str, flow: bool = False) -> bool:
    """Whether a string can be written unquoted and read back as the same string by YAML 1.1 and 1.2
    parsers; in flow context (inside [...] or {...}) libyaml also refuses a ':' in a plain scalar."""
    return bool(value) and value == value.strip() and value[0] not in "-?:,[]{}#&*!|>'\"%@`" \
        and not any(c in value for c in ",[]{}\t\n\r\\") and ": " not in value and " #" not in value \
        and not value.endswith(":") and not _NOT_STRING.match(value) and not (flow and ":" in value)


class Verbatim(str):
    """A scalar to write exactly as given (a number or boolean meant as such)."""


def scalar_text(value, quote: str = '"', flow: bool = False) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, Verbatim)):
        return str(value)
    value = str(value)
    return value if plain_safe(value, flow) else quoted(value, quote)


def quoted(value: str, quote: str = '"') -> str:
    if quote == "'":
        return "'" + value.replace("'", "''") + "'"
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def flow_text(doc: Document, text: str, flow: bool):
    """A string as it must be written as an item of a list that is (or may be) in flow style: libyaml
    refuses a ':' inside a plain scalar in flow context (`[no-new-privileges:true]`), so there it is
    quoted in the file's quote style."""
    return Verbatim(quoted(text, doc.quote)) if flow and ":" in text else text


def render_block(key, value, indent: int, doc: Document | Layout) -> list[str]:
    """Lines (without newlines) writing key: value in block style at the given column."""
    pad = " " * indent
    if isinstance(value, dict):
        lines = [f"{pad}{key}:"]
        for k, v in value.items():
            lines += render_block(k, v, indent + doc.indent_step, doc)
        return lines
    if isinstance(value, list):
        lines = [f"{pad}{key}:"]
        for item in value:
            lines += render_item(item, indent + doc.seq_offset, doc)
        return lines
    return [f"{pad}{key}: {scalar_text(value, doc.quote)}"]


def render_item(item, indent: int, doc: Document | Layout) -> list[str]:
    pad = " " * indent
    if isinstance(item, dict):
        inner = []
        for k, v in item.items():
            inner += render_block(k, v, indent + 2, doc)
        return [pad + "- " + inner[0].lstrip()] + inner[1:]
    return [f"{pad}- {scalar_text(item, doc.quote)}"]


def render_flow(value, quote: str = '"') -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {render_flow(v, quote)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(render_flow(v, quote) for v in value) + "]"
    return scalar_text(value, quote, flow=True)


# -- edit builders: each returns an Edit, or None when the text cannot be edited safely

def add_entries(doc: Document, mapping: Map, entries: dict) -> Edit | None:
    """Append key: value entries at the end of a mapping, in its own style and indentation."""
    if isinstance(mapping, Alias) or not entries:
        return None
    path = tuple(mapping.path + (k,) for k in entries)
    if mapping.flow:
        return _add_flow_entries(doc, mapping, entries, path)
    if not mapping.pairs:
        return None
    indent = mapping.pairs[0][0].col
    at = _after_line_of(doc.text, content_end(mapping))
    return Edit(at, at, paths=path, render=(_entries_text, entries, indent, doc.layout))


def _entries_text(entries: dict, indent: int, layout) -> str:
    return _block_text(line for k, v in entries.items() for line in render_block(k, v, indent, layout))


def _items_text(items: list, indent: int, layout) -> str:
    return _block_text(line for item in items for line in render_item(item, indent, layout))


def _block_text(lines) -> str:
    return "".join(line + "\n" for line in lines)


def _add_flow_entries(doc, mapping, entries, path):
    close = mapping.end - 1
    if doc.text[close:close + 1] != "}":
        return None
    body = ", ".join(f"{k}: {render_flow(v, doc.quote)}" for k, v in entries.items())
    if mapping.pairs:
        at = content_end(mapping.pairs[-1][1])
        return Edit(at, at, ", " + body, path)
    return Edit(close, close + 1, body + "}", path)  # takes the bracket: a second insert waits a pass


def add_items(doc: Document, seq: Seq, items: list) -> Edit | None:
    """Append items to a sequence, block or flow."""
    if isinstance(seq, Alias) or not items:
        return None
    if seq.flow:
        close = seq.end - 1
        if doc.text[close:close + 1] != "]":
            return None
        body = ", ".join(render_flow(i, doc.quote) for i in items)
        if seq.items:
            at = content_end(seq.items[-1])
            return Edit(at, at, ", " + body, (seq.path,))
        return Edit(close, close + 1, body + "]", (seq.path,))
    if not seq.items:
        return None
    at = _after_line_of(doc.text, content_end(seq))
    return Edit(at, at, paths=(seq.path,), render=(_items_text, items, seq.col, doc.layout))


def fill_null(doc: Document, key: Scalar, value_node: Scalar, value) -> Edit | None:
    """Give a key whose value is empty/null a block value (a mapping or a sequence)."""
    if not isinstance(value_node, Scalar) or not value_node.is_null:
        return None
    text = doc.text
    if _next_line_start(text, key.start) <= value_node.start and value_node.start != value_node.end:
        return None  # a null written on a later line: too unusual to edit safely
    tail = text[value_node.end:_next_line_start(text, value_node.end)]
    if tail.strip() and not tail.strip().startswith("#"):
        return None
    if isinstance(value, dict):
        lines = []
        for k, v in value.items():
            lines += render_block(k, v, key.col + doc.indent_step, doc)
    else:
        lines = []
        for item in value:
            lines += render_item(item, key.col + doc.seq_offset, doc)
    at = _next_line_start(text, value_node.end)
    block = "".join(line + "\n" for line in lines)
    if at == len(text) and not text.endswith("\n"):
        block = "\n" + block[:-1]
    start = value_node.start
    if value_node.start != value_node.end:  # "~" or "null": drop the token and the blanks before it
        while start > key.end and text[start - 1] in " \t":
            start -= 1
    # one edit from the null token to the end of its line: the token goes, the rest of the line stays
    return Edit(start, at, tail + block, (value_node.path,))


def replace_scalar(doc: Document, node: Scalar, value: str) -> Edit | None:
    """Write a new value for a scalar, keeping its quoting style where it can express the value."""
    if not isinstance(node, Scalar) or node.style in ("|", ">"):
        return None
    start = node.start
    if node.anchor or node.tag:  # the event starts at the anchor/tag: keep them, replace the value only
        prefix = doc.text[start:node.end]
        m = re.match(r"(?:(?:&\S+|!\S*)\s+)+", prefix)
        if not m:
            return None
        start += m.end()
    if node.style == "'":
        text = quoted(value, "'")
    elif node.style == '"':
        text = quoted(value, '"')
    else:
        text = scalar_text(value, doc.quote, flow=node.in_flow)
    return Edit(start, node.end, text, (node.path,))


def remove_entry(doc: Document, mapping: Map, key: str) -> Edit | None:
    """Delete a key and its value from a block mapping, whole lines only, never the last key."""
    if mapping.flow or isinstance(mapping, Alias) or len(mapping.pairs) < 2:
        return None
    for i, (k, v) in enumerate(mapping.pairs):
        if isinstance(k, Scalar) and k.value == key:
            text = doc.text
            start = _line_start(text, k.start)
            if text[start:k.start].strip():
                return None  # the key shares its line with something else
            end = _after_line_of(text, content_end(v))
            if i + 1 < len(mapping.pairs) and end > mapping.pairs[i + 1][0].start:
                return None
            kept = []
            for line in text[start:end].splitlines():
                comment = _comment_of(line)
                if comment and line.lstrip().startswith("#"):
                    kept.append(line.rstrip("\r") + "\n")  # a whole-line comment stays as it was
                elif comment:
                    kept.append(" " * k.col + comment + "\n")  # an end-of-line comment gets a line
            replacement = "".join(kept)
            if end == len(text) and not text.endswith("\n"):  # keep the missing final newline
                if replacement:
                    replacement = replacement[:-1]
                else:
                    start -= 2 if text[max(start - 2, 0):start] == "\r\n" else 1
            return Edit(max(start, 0), end, replacement, (mapping.path + (key,),))
    return None


def add_under(doc: Document, mapping: Map, keys: list[str], entries: dict) -> Edit | None:
    """Add entries to the mapping at mapping[keys[0]][keys[1]]..., writing the missing levels.
    Only keys written directly in each mapping are followed: never through an alias or merge."""
    node = mapping
    for i, k in enumerate(keys):
        found = node.entry(k)
        if found is None:
            if type(node) is Map and not node.flow and node.pairs:  # the usual case: nest when rendered
                at = _after_line_of(doc.text, content_end(node))
                return Edit(at, at, paths=(node.path + (k,),),
                            render=(_nested_text, k, tuple(keys[i + 1:]), entries, node.pairs[0][0].col, doc.layout))
            return add_entries(doc, node, {k: _nested(keys[i + 1:], entries)})
        key_node, value = found
        if isinstance(value, Scalar) and value.is_null:
            return fill_null(doc, key_node, value, _nested(keys[i + 1:], entries))
        if not isinstance(value, Map):
            return None
        node = value
    return add_entries(doc, node, entries)


def _nested(keys, entries: dict) -> dict:
    """{keys[0]: {keys[1]: ... entries}}: the levels add_under writes."""
    for inner in reversed(keys):
        entries = {inner: entries}
    return entries


def _nested_text(key: str, keys: tuple, entries: dict, indent: int, layout) -> str:
    return _entries_text({key: _nested(keys, entries)}, indent, layout)


_DASH = re.compile(r"[ \t]*-[ \t]+")


def remove_item(doc: Document, seq: Seq, item) -> Edit | None:
    """Delete one scalar item from a sequence written in this file.

    Block sequence: the item's whole line goes; an end-of-line comment stays as a full-line comment at
    the dash's column. Flow sequence: the item goes with one neighbouring comma. Returns None when the
    text is too unusual to edit safely: the item is an alias or carries an anchor, shares its line with
    anything but a comment, spans several lines, or a comment sits between it and its comma. The caller
    decides whether an empty sequence is acceptable (removing the only item leaves `[]` or nothing)."""
    if not isinstance(seq, Seq) or not isinstance(item, Scalar) or item.anchor:
        return None
    index = next((i for i, n in enumerate(seq.items) if n is item), None)
    if index is None:
        return None
    text, path = doc.text, (seq.path,)
    if seq.flow:
        if text[seq.end - 1:seq.end] != "]":
            return None
        items = seq.items
        if index + 1 < len(items):
            start, end = item.start, items[index + 1].start
            gap = text[item.end:end]
        elif index > 0:
            start, end = content_end(items[index - 1]), item.end
            gap = text[start:item.start]
        else:
            return Edit(item.start, item.end, "", path)
        if gap.count(",") != 1 or gap.replace(",", "").strip():
            return None  # a comment or something else between the item and its comma
        return Edit(start, end, "", path)
    line_start = text.rfind("\n", 0, item.start) + 1
    prefix = text[line_start:item.start]
    if not _DASH.fullmatch(prefix) or "\n" in text[item.start:item.end]:
        return None
    newline = text.find("\n", item.end)
    rest = text[item.end:len(text) if newline < 0 else newline].strip()
    if rest and not rest.startswith("#"):
        return None
    pad = prefix[:prefix.index("-")]
    if newline >= 0:
        return Edit(line_start, newline + 1, f"{pad}{rest}\n" if rest else "", path)
    if rest:  # the last line of a file without a final newline
        return Edit(line_start, len(text), pad + rest, path)
    start = line_start - 2 if text[line_start - 2:line_start] == "\r\n" else max(line_start - 1, 0)
    return Edit(start, len(text), "", path)  # keep the file without a final newline


def comments(text: str):
    """(0-based line, 0-based column, comment text) of every comment, quotes and block scalars aside
    (a '#' inside a quoted scalar is not a comment; block scalar bodies are rarely '#'-led)."""
    out = []
    lines = re.split(r"\r\n|\r|\n", text)  # not splitlines(): no break at U+2028 or \x0c (see _recount_lines)
    for number, line in enumerate(lines):
        comment = _comment_of(line)
        if comment:
            out.append((number, line.index(comment), comment))
    return out
