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
  default. A port below 1024 listened on adds NET_BIND_SERVICE. When the main process itself dropped to
  one non-root uid:gid (postgres, redis, mariadb under gosu; not a root master with workers, like
  nginx), that uid:gid is recorded (`drops_to`): USR001 may then offer it as an unsafe fix.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass

from ..images import ImageProfile
from .facts import with_config
from .observe import DROP_CAPS, FILE_NAME, KIND, SCHEMA_VERSION, inferred_caps
from .observed import find_beside  # noqa: F401  (derive.find_beside: where it was first)

__all__ = ["DROP_CAPS", "Derived", "ObservationError", "derive", "load"]
HEADROOM = 1.5
FLOOR = 128 << 20
PIDS_HEADROOM = 4
PIDS_FLOOR = 1024  # a quiet stack shows no load: a thread-per-request server under load runs hundreds


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
    now), an image observed under another id is stale: its profile is left out and a note says so.
    A value of the wrong shape (a hand-edited or foreign file) raises ObservationError."""
    try:
        return _derive(doc, path, headroom, floor, current)
    except (AttributeError, TypeError, ValueError, KeyError) as exc:
        raise ObservationError(f"{path}: not a usable observation: a value has the wrong shape ({exc})") from None


def _derive(doc: dict, path: str, headroom: float, floor: int, current: dict | None) -> Derived:
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
    day = str(doc.get("observed_at", ""))[:10] or "an unknown day"
    profiles = {}
    for image, services in sorted(by_image.items()):
        names = ", ".join(n for n, _ in services)
        origin = []
        peaks = [((s.get("memory") or {}).get("peak_bytes") or 0) for _, s in services]
        peak = max(peaks)
        memory = round_memory(max(floor, int(peak * headroom))) if peak else None
        if memory:
            origin.append(("memory", f"observed peak {human_size(peak)} on {day} x {headroom:g}"))
            notes.append(f"{image} ({names}): memory {memory} (observed peak {peak / (1 << 20):.0f}M x {headroom:g})")
        pids_peak = max(((s.get("pids") or {}).get("peak") or 0) for _, s in services)
        pids = round_pids(pids_peak) if pids_peak else None
        if pids:
            origin.append(("pids", f"observed peak {pids_peak} pids (processes and threads) on {day} x {PIDS_HEADROOM:g}"))
            notes.append(f"{image} ({names}): pids {pids} (observed peak {pids_peak} x {PIDS_HEADROOM:g}, "
                         f"at least {PIDS_FLOOR})")
        cores = max(((s.get("cpu") or {}).get("peak_cores") or 0) for _, s in services)
        cpus = round_cpus(cores * headroom) if cores * headroom > 1.0 else None
        if cpus:
            origin.append(("cpus", f"observed peak {cores:.2f} cores on {day} x {headroom:g}"))
        writable, hidden = ["/tmp"], []
        for _, s in services:
            for w in s.get("written_paths") or ():
                target = hidden if w.get("image_files") else writable
                if w.get("path") and w["path"] not in target:
                    target.append(w["path"])
        seen = [p for p in writable if p != "/tmp"]
        origin.append(("writable", (f"observed writing {', '.join(seen)} on {day}" if seen else
                                    f"observed writing nothing outside its volumes on {day}")
                       + (f"; {', '.join(hidden)} also written but the image has files there (a tmpfs would hide "
                          "them): mount a volume there" if hidden else "")))
        patterns = {((s.get("users") or {}).get("pattern")) for _, s in services}
        uids = sorted({p["uid"] for _, s in services for p in (s.get("users") or {}).get("processes") or ()
                       if isinstance(p, dict) and isinstance(p.get("uid"), int) and p["uid"] != 0})
        low_ports = sorted({p["port"] for _, s in services for p in s.get("listening") or ()
                            if isinstance(p, dict) and isinstance(p.get("port"), int) and p["port"] < 1024})
        caps = list(dict.fromkeys(c for _, s in services for c in inferred_caps(s)))
        non_root = patterns == {"non-root"}
        targets = f"uid {', '.join(map(str, uids))}" if uids else "another uid"
        user_why = {"root-drops": f"observed on {day} starting as root and running as {targets}",
                    "root": f"observed on {day} running as root throughout",
                    "non-root": f"observed on {day} running as {targets} from the start"}
        origin.append(("user", "; ".join(user_why[p] for p in sorted(p for p in patterns if p in user_why))
                       or f"observed on {day}"))
        why = [w for w in ((f"starts as root and drops to {targets}" if "root-drops" in patterns else ""),
                           (f"listens on {', '.join(map(str, low_ports))}" if low_ports else "")) if w]
        # a probe says something when the service ran (ok true or false); one that never started does not
        probed = [(n, s["capabilities"]) for n, s in services if isinstance(s.get("capabilities"), dict)
                  and s["capabilities"].get("method") == "probed" and isinstance(s["capabilities"].get("probe"), dict)
                  and isinstance(s["capabilities"]["probe"].get("ok"), bool)]
        works = None
        if probed:
            caps = list(dict.fromkeys(str(c) for _, r in probed for c in r.get("cap_add") or ()))
            failed = [(n, r["probe"]) for n, r in probed if not r["probe"].get("ok")]
            works = not failed
            proposed = "cap_drop ALL" + (f" + {', '.join(caps)}" if caps else "")
            if failed:
                n, result = failed[0]
                evidence = "; ".join(str(e) for e in (result.get("evidence") or ())[:2])
                origin.append(("cap_add", f"probed on {day}: with {proposed} {n} did not work "
                               f"({result.get('state')}" + (f": {evidence}" if evidence else "") + ")"))
                notes.append(f"{image} ({names}): probed: with {proposed} {n} did not work ({result.get('state')})"
                             + (f": {evidence}" if evidence else ""))
            else:
                states = ", ".join(sorted({str(r["probe"].get("state")) for _, r in probed}))
                origin.append(("cap_add", f"probed on {day}: {states} with {proposed}"))
        else:
            origin.append(("cap_add", f"inferred from the observation of {day}"
                           + (f" ({'; '.join(why)})" if why else " (runs without dropping privileges)")))
        targets_seen = {drop_target(s) for _, s in services}
        drops_to = None
        if len(targets_seen) == 1 and None not in targets_seen:
            uid, gid = next(iter(targets_seen))
            drops_to = f"{uid}:{gid}"
            origin.append(("drops_to", f"observed dropping to uid {uid} (gid {gid}) on {day}"))
        declared = next((s["image_config"] for _, s in services if isinstance(s.get("image_config"), dict)), {})
        profiles[image] = with_config(ImageProfile(f"observed:{image}", tuple(caps), None, non_root, tuple(writable), memory,
                                       cpus=cpus, pids=pids, origin=tuple(origin), cap_add_works=works,
                                       drops_privileges="root-drops" in patterns and not non_root,
                                       drops_to=drops_to), declared)
        notes.append(f"{image} ({names}): writable {', '.join(writable)}"
                     + (f"; not as tmpfs (the image has files there): {', '.join(hidden)}" if hidden else ""))
        pattern = "/".join(sorted(p for p in patterns if p)) or "unknown"
        how = "probed" if works else "probe failed" if works is False else "inferred"
        notes.append(f"{image} ({names}): runs {pattern}; cap_add after cap_drop ALL ({how}): {', '.join(caps) or 'none'}")
    return Derived(profiles, tuple(notes), str(doc.get("observed_at", "")), path)


def drop_target(service: dict) -> tuple[int, int] | None:
    """(uid, gid) the service's main process dropped to after starting as root, when it did: its first
    process (gosu and su-exec exec the server) runs as a uid other than 0. None for root that stays root
    (an nginx master with workers under another uid), a service configured non-root, or an observation
    that does not say (no first process recorded and not all processes under one uid:gid)."""
    users = service.get("users") or {}
    if users.get("pattern") != "root-drops":
        return None
    main = users.get("pid1")
    if not isinstance(main, dict):
        procs = [p for p in users.get("processes") or () if isinstance(p, dict)]
        ids = {(p.get("uid"), p.get("gid")) for p in procs}
        main = procs[0] if len(ids) == 1 else None
    if main is None:
        return None
    uid, gid = main.get("uid"), main.get("gid")
    if type(uid) is not int or type(gid) is not int or uid <= 0 or gid < 0:
        return None
    return uid, gid


def human_size(n: int) -> str:
    """Bytes as people read a peak: 1.12G, 75M."""
    if n >= 1 << 30:
        return f"{n / (1 << 30):.2f}G"
    return f"{max(1, round(n / (1 << 20)))}M"


def round_pids(peak: int) -> int:
    """An observed peak of processes and threads x PIDS_HEADROOM, rounded up to a power of two, never
    below PIDS_FLOOR: a worker pool grows under load, which a quiet observation does not see."""
    want = max(PIDS_FLOOR, peak * PIDS_HEADROOM)
    return 1 << math.ceil(math.log2(want))


def round_cpus(cores: float) -> str:
    """Cores rounded up to a half: '1.5', '2.0'."""
    return f"{math.ceil(cores * 2) / 2:.1f}"
