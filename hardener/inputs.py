"""Reading inputs: the size limit, decoding and parsing, and the files a project reads only for
context (`extends: file:` bases and `include:` targets), which are never reported or written here.
References are resolved in the folder of the file that writes them and must stay inside it; what is
not read gets a note."""
from __future__ import annotations

import os
from dataclasses import dataclass

from .compose import iter_services, service_maps
from .discovery import MAX_CONTEXT_FILES, include_references, local_reference
from .yamltext import Document, Map, Seq, YamlInputError, decode, deref, merged_entry, parse, scalar_value

MAX_BYTES = 20 * 1024 * 1024  # larger inputs are refused: no compose file is this big


def decode_parse(path: str, data: bytes):
    if len(data) > MAX_BYTES:
        raise YamlInputError(f"file larger than {MAX_BYTES // (1024 * 1024)} MB")
    text, bom = decode(data)
    return text, parse(text, bom)


@dataclass(frozen=True)
class Included:
    """What the files a project includes (`include:`) add to it: their services, known to the rules
    but never reported or edited here, and the ids of their nodes (a finding about one belongs to
    that file, like a finding about another file of the project)."""

    services: tuple = ()
    nodes: frozenset = frozenset()


def extends_bases(path: str, doc: Document, notes: list) -> dict:
    """Services that `extends` a service of another file inside this file's folder: name -> (mapping,).
    Files outside the folder, remote ones and missing ones are not read; a note says so."""
    folder = os.path.dirname(os.path.abspath(path))
    out = {}
    for name, (_, node, _) in service_maps(doc).items():
        found = merged_entry(node, "extends")
        value = deref(found[1]) if found else None
        if not isinstance(value, Map):
            continue
        file, service = scalar_value(value.get("file")), scalar_value(value.get("service"))
        if not file or not service:
            continue
        what = f"extends file of service '{name}'"
        target, note = local_reference(file, folder, what)
        if note:
            notes.append(note)
            continue
        other = _read_context_file(target, f"{what} '{file}'", notes)
        base = service_maps(other).get(service) if other is not None else None
        if base is not None:
            out[name] = (base[1],)
    return out


def _read_context_file(target: str, label: str, notes: list):
    """The parsed document of a file read only for context, or None (with a note) when it cannot be."""
    try:
        with open(target, "rb") as fh:
            return decode_parse(target, fh.read(MAX_BYTES + 1))[1]
    except OSError as exc:
        notes.append(f"{label} cannot be read: {exc.strerror or exc}")
    except YamlInputError as exc:
        notes.append(f"{label} is not a usable compose file: {exc.line}:{exc.column}: {exc.message}")
    except RecursionError:
        notes.append(f"{label} is not a usable compose file: nesting too deep")
    return None


@dataclass(frozen=True)
class ProjectIncludes:
    context: Included  # what the rules see of the included services
    mappings: dict  # service name -> (its mapping in the first included file that defines it,)


def project_includes(parsed, notes: dict) -> ProjectIncludes:
    """Follow the `include:` entries of every file of the project, and of the files they include,
    each file read once (cycles end there) and at most MAX_CONTEXT_FILES in all. Every reference is
    resolved in the folder of the file that writes it and must stay inside that folder's tree; what
    is not read gets a note on the input it was reached from. Project files are never read again as
    includes."""
    seen = {os.path.realpath(path) for path, _, _ in parsed}
    services, mappings, nodes = [], {}, set()
    for path, _, doc in parsed:
        for other in _includes_of(path, doc, seen, notes[path], len(parsed) + MAX_CONTEXT_FILES):
            for svc in iter_services(other):
                if svc.name not in mappings:
                    mappings[svc.name] = (svc.node,)
                    services.append(svc)
            nodes |= _node_ids(other.root)
    return ProjectIncludes(Included(tuple(services), frozenset(nodes)), mappings)


def _includes_of(path: str, doc: Document, seen: set, notes: list, limit: int) -> list[Document]:
    """The documents one input includes, directly or through included files, not yet in `seen` (the
    real paths of the project's files and of what was read; at most `limit` in all)."""
    top = os.path.dirname(os.path.abspath(path))
    out, queue = [], [(os.path.abspath(path), doc)]
    while queue:
        file, current = queue.pop(0)
        where = "" if file == os.path.abspath(path) else f" (included from {os.path.relpath(file, top)})"
        refs, found = include_references(current.root.get("include") if isinstance(current.root, Map) else None)
        notes.extend(n + where for n in found)
        for ref in refs:
            target, note = local_reference(ref, os.path.dirname(file), "include")
            if note or target in seen:
                notes.extend([note + where] if note else [])
                continue  # not read, or read already (a cycle, or a file included twice)
            if len(seen) >= limit:
                notes.append(f"more than {MAX_CONTEXT_FILES} files included: include '{ref}'{where} and the "
                             "rest are not read")
                return out
            seen.add(target)
            other = _read_context_file(target, f"include '{ref}'{where}", notes)
            if other is not None:
                out.append(other)
                queue.append((target, other))
    return out


def _node_ids(root) -> set:
    ids, todo = set(), [root] if root is not None else []
    while todo:
        node = todo.pop()
        ids.add(id(node))
        if isinstance(node, Map):
            todo.extend(n for pair in node.pairs for n in pair)
        elif isinstance(node, Seq):
            todo.extend(node.items)
    return ids
