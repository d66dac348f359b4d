"""Which files to process: named files always, compose files by name inside folders."""
from __future__ import annotations

import os
import re

COMPOSE_NAME = re.compile(r"^(?:(?:docker-)?compose(?:\.[\w.-]+)?|[\w.-]+\.(?:docker-)?compose)\.ya?ml$", re.I)
SKIP_DIRS = {".git", ".hg", ".svn", "node_modules", ".venv", "venv", "__pycache__", ".tox", "vendor"}


def is_compose_name(name: str) -> bool:
    return bool(COMPOSE_NAME.match(name))


def expand(paths: list[str]) -> list[str]:
    """Files to process, in a stable order; a missing path is returned as is (reported later)."""
    out = []
    for path in paths:
        if path != "-" and os.path.isdir(path):
            found = []
            unreadable = []  # reported as inputs: reading them fails with the reason
            for root, dirs, files in os.walk(path, onerror=lambda exc: unreadable.append(exc.filename)):
                dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.startswith("."))
                found += [os.path.join(root, f) for f in files if is_compose_name(f)]
            out += sorted(found) + [f for f in unreadable if f]
        else:
            out.append(path)
    return list(dict.fromkeys(out))


_BASES = ("compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml")


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
