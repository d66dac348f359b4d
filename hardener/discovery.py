"""Which files to process: named files always, compose files by name inside folders."""
from __future__ import annotations

import os
import re

COMPOSE_NAME = re.compile(r"^(?:(?:docker-)?compose(?:\.[\w.-]+)?|docker-stack(?:\.[\w.-]+)?|[\w.-]+\.(?:docker-)?compose)"
                          r"\.ya?ml$", re.I)
# what a folder is searched for, in words (the error for a folder without any names them)
SEARCHED = ("compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml", "compose.*.yaml",
            "docker-compose.*.yml", "*.compose.yaml", "*.compose.yml", "docker-stack.yml", "docker-stack.yaml")
SKIP_DIRS = {".git", ".hg", ".svn", "node_modules", ".venv", "venv", "__pycache__", ".tox", "vendor"}


def is_compose_name(name: str) -> bool:
    return bool(COMPOSE_NAME.match(name))


def expand(paths: list[str]) -> list[str]:
    """Files to process, in a stable order; a missing path is returned as is (reported later)."""
    out = []
    for path in paths:
        if path != "-" and os.path.isdir(path):
            found, unreadable = _walk(path)
            out += sorted(found) + unreadable
        else:
            out.append(path)
    return list(dict.fromkeys(out))


def _walk(top: str) -> tuple[list[str], list[str]]:
    """(compose files, folders that could not be read) under top, without recursion (a tree
    thousands of levels deep is walked like a flat one) and without following folder symlinks.
    An unreadable folder is returned as an input: reading it later fails with the reason."""
    found, unreadable, todo = [], [], [top]
    while todo:
        folder = todo.pop()
        try:
            with os.scandir(folder) as entries:
                for entry in entries:
                    try:
                        if entry.is_dir(follow_symlinks=False):
                            if entry.name not in SKIP_DIRS and not entry.name.startswith("."):
                                todo.append(entry.path)
                        elif is_compose_name(entry.name):
                            found.append(entry.path)
                    except OSError:
                        continue
        except OSError:
            unreadable.append(folder)
    return found, sorted(unreadable)


_BASES = ("compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml")


def override_of(path: str) -> str | None:
    """The override file `docker compose` reads beside a base file it is given (compose.yaml ->
    compose.override.yaml, or .yml), when there is one; None otherwise."""
    name = os.path.basename(path)
    if name not in _BASES:
        return None
    stem, folder = name.rsplit(".", 1)[0], os.path.dirname(path)
    for ext in ("yaml", "yml"):
        override = os.path.join(folder, f"{stem}.override.{ext}")
        if os.path.isfile(override):
            return override
    return None


def group_projects(files: list[str]) -> list[list[str]]:
    """Files Compose reads together, in merge order: a base file with the override file beside it
    (compose.yaml + compose.override.yaml, as `docker compose` does by default); others alone. Groups
    keep the order of their first file."""
    listed = set(files)
    overrides = {}
    for path in files:
        name = os.path.basename(path)
        if name in _BASES:
            stem, folder = name.rsplit(".", 1)[0], os.path.dirname(path)
            for ext in ("yaml", "yml"):
                override = os.path.join(folder, f"{stem}.override.{ext}")
                if override in listed and override not in overrides.values():
                    overrides[path] = override
                    break
    grouped = set(overrides.values())
    return [[path] + ([overrides[path]] if path in overrides else []) for path in files if path not in grouped]


# ---- files read for context: `include:` targets and `extends: file:` bases

MAX_CONTEXT_FILES = 64  # included files read for one project; a real stack has a handful
_REMOTE = ("oci://", "git@", "git://", "http://", "https://", "ssh://")


def local_reference(ref: str, folder: str, what: str) -> tuple[str | None, str | None]:
    """(real path, None) for a reference Compose resolves in `folder`, or (None, note) when it is not
    read: remote, written with a variable, outside the folder's tree (a symlink counts where it
    points), missing, or not a regular file. Nothing outside the tree is ever opened."""
    if ref.startswith(_REMOTE) or "://" in ref:
        return None, f"{what} '{ref}' is a remote reference: not fetched"
    if "$" in ref.replace("$$", ""):
        return None, f"{what} '{ref}' uses a variable: not read"
    if ref.startswith("~"):
        return None, f"{what} '{ref}' is in a home folder, outside this file's folder: not read"
    root = os.path.realpath(folder)
    target = os.path.realpath(os.path.join(root, ref))
    if not target.startswith(root + os.sep):
        return None, f"{what} '{ref}' resolves outside this file's folder: not read"
    if not os.path.exists(target):
        return None, f"{what} '{ref}' does not exist"
    if not os.path.isfile(target):
        return None, f"{what} '{ref}' is not a regular file: not read"
    return target, None


def include_references(node) -> tuple[list[str], list[str]]:
    """(file references, notes) of a top-level `include:` node: a list of strings (short form) or of
    mappings with `path` (a string or a list of files merged in order), `project_directory` and
    `env_file`. Env files are never read (they hold secrets and only serve interpolation), and
    project_directory only moves where the included file's own relative paths point (build contexts,
    bind mounts), which hardener does not read."""
    from .yamltext import Map, Scalar, Seq, deref, scalar_value

    node = deref(node)
    if node is None or isinstance(node, Scalar) and node.is_null:
        return [], []
    if not isinstance(node, Seq):
        return [], ["include: is not a list: not followed"]
    refs, notes = [], []
    for entry in map(deref, node.items):
        paths = deref(entry.get("path")) if isinstance(entry, Map) else entry
        for item in map(deref, paths.items) if isinstance(paths, Seq) else [paths]:
            ref = scalar_value(item)
            if ref:
                refs.append(ref)
            else:
                notes.append(f"include entry at line {getattr(item or entry, 'line', 0) + 1} names no file: not followed")
    return refs, notes
