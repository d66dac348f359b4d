"""From an observation (hardener-observed.json) to image profiles: what `check` and `fix` use for an
image instead of a guess, exactly as they use the shipped knowledge (hardener/data/images.json).

Per image the observation measured (the highest over the services that run it):
- memory: the observed peak x headroom (default 1.5), rounded up to a multiple of 64M (of 1/4 G from
  1G), never below a floor (default 128M);
- writable: /tmp and every folder the service wrote outside its volumes, unless the image has files
  there (a tmpfs would hide them; those are listed in `notes`);
- user and capabilities from how its processes ran: an image that starts as root and drops to another
  uid itself (gosu, su-exec, a root master with workers) keeps starting as root (user None) with the
  capabilities such an entrypoint uses (CHOWN, DAC_OVERRIDE, FOWNER, SETGID, SETUID) added back after
  cap_drop ALL; one that runs as root throughout adds none; one configured non-root is non-root by
  default. A port below 1024 listened on adds NET_BIND_SERVICE.
"""
from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass

from ..images import ImageProfile
from .observe import FILE_NAME, KIND, SCHEMA_VERSION

DROP_CAPS = ("CHOWN", "DAC_OVERRIDE", "FOWNER", "SETGID", "SETUID")
HEADROOM = 1.5
FLOOR = 128 << 20


class ObservationError(Exception):
    """The observation file cannot be used (unreadable, not JSON, another kind or version)."""


@dataclass(frozen=True)
class Derived:
    profiles: dict  # repository name -> ImageProfile
    notes: tuple  # one line per value derived or left out, for the user
    observed_at: str
    path: str


def load(path: str) -> dict:
    try:
        with open(path, encoding="utf-8") as fh:
            doc = json.load(fh)
    except OSError as exc:
        raise ObservationError(f"{path}: cannot read the observation: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise ObservationError(f"{path}: not an observation file (invalid JSON: {exc})") from None
    if not isinstance(doc, dict) or doc.get("kind") != KIND or not isinstance(doc.get("services"), dict):
        raise ObservationError(f"{path}: not an observation file (no kind '{KIND}' with services)")
    if doc.get("version") != SCHEMA_VERSION:
        raise ObservationError(f"{path}: observation version {doc.get('version')!r} is not supported "
                               f"(this hardener reads version {SCHEMA_VERSION}); observe again")
    return doc


def find_beside(paths: list[str]) -> str | None:
    """hardener-observed.json in the folder of the first input (a file's folder, or the folder itself)."""
    for p in paths:
        if p == "-":
            continue
        folder = p if os.path.isdir(p) else os.path.dirname(os.path.abspath(p))
        candidate = os.path.join(folder, FILE_NAME)
        if os.path.isfile(candidate):
            return candidate
    return None


def round_memory(n: int) -> str:
    """Bytes rounded up to a limit people write: multiples of 64M below 1G, of 256M from there."""
    mb = n / (1 << 20)
    if mb < 1024:
        return f"{max(64, math.ceil(mb / 64) * 64)}M"
    quarters = math.ceil(mb / 256) / 4
    return f"{quarters:g}G"


def current_image_ids(doc: dict, host: str | None = None, timeout: float = 2.0) -> dict | None:
    """image reference -> the id the engine has for it now (None when it does not have it), for the
    images an observation names; None when no engine answers (nothing can be said then)."""
    from .engine_api import Engine, EngineError

    try:
        engine = Engine(host, timeout=timeout)
        engine.ping()
        refs = {str(s["image"]) for s in doc["services"].values() if isinstance(s, dict) and s.get("image")}
        return {ref: engine.image_id(ref) for ref in sorted(refs)}
    except EngineError:
        return None


def derive(doc: dict, path: str = FILE_NAME, headroom: float = HEADROOM, floor: int = FLOOR,
           current: dict | None = None) -> Derived:
    """The profiles an observation gives. With `current` (image reference -> the id the engine has
    now), an image observed under another id is stale: its profile is left out and a note says so."""
    from ..compose import repository_name

    by_image: dict = {}
    notes = []
    for name, s in sorted(doc["services"].items()):
        if not isinstance(s, dict) or not s.get("image"):
            continue
        ref = str(s["image"])
        now = (current or {}).get(ref)
        if now and s.get("image_id") and now != s["image_id"]:
            notes.append(f"{repository_name(ref)} ({name}): stale, observed on image {s['image_id'][:19]}, the "
                         f"engine now has {now[:19]}: not used (observe again)")
            continue
        by_image.setdefault(repository_name(ref), []).append((name, s))
    profiles = {}
    for image, services in sorted(by_image.items()):
        peaks = [((s.get("memory") or {}).get("peak_bytes") or 0) for _, s in services]
        peak = max(peaks)
        memory = round_memory(max(floor, int(peak * headroom))) if peak else None
        writable, hidden = ["/tmp"], []
        for _, s in services:
            for w in s.get("written_paths") or ():
                target = hidden if w.get("image_files") else writable
                if w.get("path") and w["path"] not in target:
                    target.append(w["path"])
        patterns = {((s.get("users") or {}).get("pattern")) for _, s in services}
        low_ports = sorted({p["port"] for _, s in services for p in s.get("listening") or ()
                            if isinstance(p, dict) and isinstance(p.get("port"), int) and p["port"] < 1024})
        caps = list(DROP_CAPS) if "root-drops" in patterns else []
        if low_ports:
            caps.append("NET_BIND_SERVICE")
        non_root = patterns == {"non-root"}
        profiles[image] = ImageProfile(f"observed:{image}", tuple(caps), None, non_root, tuple(writable), memory)
        names = ", ".join(n for n, _ in services)
        if memory:
            notes.append(f"{image} ({names}): memory {memory} (observed peak {peak / (1 << 20):.0f}M x {headroom:g})")
        notes.append(f"{image} ({names}): writable {', '.join(writable)}"
                     + (f"; not as tmpfs (the image has files there): {', '.join(hidden)}" if hidden else ""))
        pattern = "/".join(sorted(p for p in patterns if p)) or "unknown"
        notes.append(f"{image} ({names}): runs {pattern}; cap_add after cap_drop ALL: {', '.join(caps) or 'none'}")
    return Derived(profiles, tuple(notes), str(doc.get("observed_at", "")), path)
