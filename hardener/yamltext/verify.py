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
        _walk_keyed(_keyed(a), _keyed(b), path, allowed, out, _walk)
        return
    if ta is Seq and tb is Seq and a.tag is None and b.tag is None and len(a.items) == len(b.items):
        _walk_items(a.items, b.items, path, allowed, out, _walk)
        return
    if ta is Alias and tb is Alias:
        if a.name != b.name:
            out.append(path)
        return
    if raw(a) != raw(b):  # different kinds, tags or lengths: compared as `raw` pictures
        out.append(path)


def _walk_keyed(ka: dict, kb: dict, path, allowed, out, walk):
    """Two mappings' values by key text: a key on one side only is a change at its path, the values
    of a key on both sides are compared by walk(old, new, ...). Nothing under an allowed path."""
    for k, va in ka.items():
        vb = kb.get(k, _MISSING)
        sub = path + (k,)
        if vb is _MISSING:
            if sub not in allowed:
                out.append(sub)
        elif sub not in allowed:
            walk(va, vb, sub, allowed, out)
    for k in kb.keys() - ka.keys():
        sub = path + (k,)
        if sub not in allowed:
            out.append(sub)


def _walk_items(old: list, new: list, path, allowed, out, walk):
    """Two sequences of one length, item by item, nothing under an allowed path."""
    for i, (ia, ib) in enumerate(zip(old, new)):
        sub = path + (i,)
        if sub not in allowed:
            walk(ia, ib, sub, allowed, out)


_MISSING = object()


def _keyed(mapping: Map) -> dict:
    """A mapping's values by key text, as `raw` keys them (the parse-time index when every key is a
    plain scalar, which is nearly always)."""
    index = mapping._index
    if all(type(k) is str for k in index):
        return {k: key._key for k, key in index.items()}  # a scalar key holds its value (see Map)
    return {_key_text(k): v for k, v in mapping.pairs}


# --------------------------------------------------------------------------- verification without the old tree

def digest(root, allowed) -> "tuple | int | None":
    """What `unexpected_changes(root, new, allowed)` needs of the old tree, so that the tree can be let
    go before the new text is parsed (a big file's tree is tens of megabytes): on the paths that lead
    to an allowed path, the mappings' keys and the sequences' items; everywhere else one hash of each
    subtree's `raw` picture. Compare a new tree with it by `unexpected_changes_from`."""
    if () in allowed:
        return None
    leads = {p[:i] for p in allowed for i in range(len(p))}
    return _digest(root, (), allowed, leads)[1]


def unexpected_changes_from(picture, after, allowed) -> list[tuple]:
    """`unexpected_changes(before, after, allowed)` with the `digest` of `before` in its place: empty
    exactly when that is empty (two different subtrees could only pass as equal if their 64-bit
    hashes collided). A difference is reported at its own path on the way to an allowed path, else at
    the subtree the digest kept as one hash that holds it."""
    out: list = []
    if () not in allowed:
        _compare(picture, after, (), allowed, out)
    return out


def _digest(node, path, allowed, leads):
    """(hash of raw(node), its digest): the hash alone unless an allowed path lies below `path`."""
    if path not in leads:
        h = _hash(node)
        return h, h
    kind = type(node)
    if kind is Map and node.tag is None:
        children, hashes = {}, {}
        for key, value in _keyed(node).items():
            sub = path + (key,)
            h, d = _digest(value, sub, allowed, leads)
            hashes[key] = h
            children[key] = None if sub in allowed else d  # never compared under an allowed path
        whole = hash(("map", frozenset(hashes.items())))
        return whole, ("map", whole, children)
    if kind is Seq and node.tag is None:
        pairs = [_digest(item, path + (i,), allowed, leads) for i, item in enumerate(node.items)]
        whole = hash(("seq", tuple(h for h, _ in pairs)))
        children = [None if path + (i,) in allowed else d for i, (_, d) in enumerate(pairs)]
        return whole, ("seq", whole, children)
    h = _hash(node)
    return h, h


def _hash(node) -> int:
    """A hash of raw(node), computed without building the picture: equal pictures, equal hashes."""
    kind = type(node)
    if kind is Scalar:
        return hash((node.tag, node.value) if node.tag else node.value)
    if kind is Alias:
        return hash(("*", node.name))
    if kind is Seq:
        h = hash(("seq", tuple(_hash(i) for i in node.items)))
        return h if node.tag is None else hash((node.tag, h))
    if kind is Map:
        h = hash(("map", frozenset((k, _hash(v)) for k, v in _keyed(node).items())))
        return h if node.tag is None else hash((node.tag, h))
    return hash(None)


def _compare(picture, b, path, allowed, out):
    """_walk with the old side given by its digest."""
    if type(picture) is int:
        if _hash(b) != picture:
            out.append(path)
        return
    kind, whole, children = picture
    tb = type(b)
    if kind == "map" and tb is Map and b.tag is None:
        _walk_keyed(children, _keyed(b), path, allowed, out, _compare)
        return
    if kind == "seq" and tb is Seq and b.tag is None and len(b.items) == len(children):
        _walk_items(children, b.items, path, allowed, out, _compare)
        return
    if _hash(b) != whole:  # another kind, a tag or another length: compared whole, as _walk does
        out.append(path)
