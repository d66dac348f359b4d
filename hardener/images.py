"""Per-image knowledge shipped as data (hardener/data/images.json): what an image needs after
hardening. With a profile, fixes that would be guesses for an unknown image become informed: the
capabilities to add back after cap_drop ALL, a non-root user that works, writable paths."""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources


@dataclass(frozen=True)
class ImageProfile:
    name: str
    cap_add: tuple[str, ...] = ()
    user: str | None = None  # a non-root user the image works with; None: it must start as root
    default_non_root: bool = False  # the image already runs as a non-root user
    writable: tuple[str, ...] = ()
    memory: str | None = None
    cpus: str | None = None
    public_ports: tuple[int, ...] = ()


def _make(name: str, p: dict) -> ImageProfile:
    return ImageProfile(name, tuple(p.get("cap_add", ())), p.get("user"), p.get("default_non_root", False),
                        tuple(p.get("writable", ())), p.get("memory"), p.get("cpus"), tuple(p.get("public_ports", ())))


@lru_cache(maxsize=1)
def _profiles() -> tuple[dict, dict]:
    raw = json.loads(resources.files("hardener.data").joinpath("images.json").read_text(encoding="utf-8"))
    names = {name: _make(name, p) for name, p in raw.items() if not name.startswith("_")}
    prefixes = {prefix: _make(prefix, p) for prefix, p in raw.get("_prefixes", {}).items()}
    return names, prefixes


_OBSERVED: dict = {}  # repository name -> ImageProfile measured by `hardener observe` (runtime/derive.py)


def use_observed(profiles: dict) -> None:
    """Profiles measured on a running stack; they win over the shipped ones for their images."""
    _OBSERVED.clear()
    _OBSERVED.update(profiles)


def profile(image_name: str) -> ImageProfile | None:
    """The profile of an image repository name: an observed one first (`use_observed`), then the
    shipped ones. Publisher families with their own conventions ('bitnami/...' run as non-root) are
    matched by prefix before the last path part ('library/redis' and 'docker.io/redis' are already
    reduced to 'redis' by Service.image_name)."""
    if not image_name or "$" in image_name:
        return None
    if image_name in _OBSERVED:
        return _OBSERVED[image_name]
    names, prefixes = _profiles()
    if image_name in names:
        return names[image_name]
    for prefix, found in prefixes.items():
        if image_name.startswith(prefix):
            return found
    return None
