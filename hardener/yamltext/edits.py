"""Edits: a fix is a list of `Edit(start, end, text, paths)` on the text, never a dump. The builders
write new YAML in the file's own style (indentation, sequence offset, quotes, flow or block) or return
None when the text is too unusual to edit safely; `apply_edits` applies them, `merge_inserts` joins two
insertions of the same new block key; `comments` finds the comments of a text."""
from __future__ import annotations

import re

from .nodes import Alias, Map, Scalar, Seq
from .parsing import Document, Layout, _line_start

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


def _next_line_start(text, offset):
    nl = text.find("\n", offset)
    return len(text) if nl < 0 else nl + 1


def content_end(node) -> int:
    """Offset just past the last character the node's own text uses (not trailing comments)."""
    while True:
        if isinstance(node, Map) and not node.flow and node._index:
            node = node._last_value()
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
    if not mapping._index:
        return None
    indent = mapping._first_key().col
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
    if mapping._index:
        at = content_end(mapping._last_value())
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
    if mapping.flow or isinstance(mapping, Alias) or len(mapping._index) < 2:
        return None
    pairs = mapping.pairs  # built at each read of the property: once here
    for i, (k, v) in enumerate(pairs):
        if isinstance(k, Scalar) and k.value == key:
            text = doc.text
            start = _line_start(text, k.start)
            if text[start:k.start].strip():
                return None  # the key shares its line with something else
            end = _after_line_of(text, content_end(v))
            if i + 1 < len(pairs) and end > pairs[i + 1][0].start:
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
            if type(node) is Map and not node.flow and node._index:  # the usual case: nest when rendered
                at = _after_line_of(doc.text, content_end(node))
                return Edit(at, at, paths=(node.path + (k,),),
                            render=(_nested_text, k, tuple(keys[i + 1:]), entries, node._first_key().col, doc.layout))
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
