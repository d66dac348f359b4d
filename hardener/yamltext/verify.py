"""Verification: what differs between the node trees of a text before and after edits, compared as
`raw` pictures would be (values, tags, keys, lengths, alias names; not layout or anchors)."""
from __future__ import annotations

from .nodes import Alias, Map, Scalar, Seq

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
    index = mapping._index
    if all(type(k) is str for k in index):
        return {k: key._key for k, key in index.items()}  # a scalar key holds its value (see Map)
    return {_key_text(k): v for k, v in mapping.pairs}
