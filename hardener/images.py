"""Per-image knowledge shipped as data (hardener/data/images.json): what an image needs after
hardening, and what it is. With a profile, fixes that would be guesses for an unknown image become
informed: the capabilities to add back after cap_drop ALL, a non-root user that works, writable
paths, limits that are enough.

Images are matched by family, not by exact name: an entry's own repository name and its `aliases`
(mirrors, derivatives built FROM it), then publisher prefixes (`bitnami/`), then the entries'
`patterns` (`*-postgresql`). Registry, `library/`, tag (`-alpine`) and digest are already gone from
the name (compose.repository_name); a registry's project path before a Docker Hub name is dropped too
(`harbor.example.com/dockerhub/library/nginx`, `.../dockerhub/grafana/loki`). Several matches are
merged, the first one that says something about a field wins, in that order. An entry's `variants`
are derivatives of the family whose own facts differ (their fields win over the entry's).

Limits are *known* (`limits_known`, `pids_known`) only for the family's own names (the entry, its
aliases and variants, their mirrors): a prefix or pattern says an image is of the family, not that
it keeps the family's default configuration. An image written as a variable's default
(`${GRAYLOG_IMAGE:-graylog/graylog:6.1}`) is known by that default, but the project's variables may
name another image, so its limits are never known (`assumed`). An entry with `cap_add` is a full
hardening profile; others only state facts (the user an image runs as, that it is a base image, a
proxy, or heavy)."""
from __future__ import annotations

import json
from dataclasses import dataclass, replace
from fnmatch import fnmatchcase
from functools import lru_cache
from importlib import resources
from typing import Mapping


@dataclass(frozen=True)
class Render:
    """Paths an image's entrypoint writes at start-up only when the file uses a feature: a folder
    mounted at `mounted`, or a variable whose name starts with `env_prefix`. A variable named
    `writable_env` set by the service replaces `writable` (nginx's NGINX_ENVSUBST_OUTPUT_DIR); `keeps`
    are folders holding the image's own files, where a tmpfs would hide them."""
    mounted: str | None
    env_prefix: str | None
    writable: tuple[str, ...]
    writable_env: str | None = None
    keeps: tuple[str, ...] = ()


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
    runs_as: str | None = None  # the non-root user the image runs as (its Dockerfile USER)
    base: bool = False  # a base image: what it needs depends on the command and volumes it is given
    proxy: bool = False  # a reverse proxy or load balancer meant to face the network
    pids: int | None = None
    limits_known: bool = False  # memory/cpus/pids are enough for the image's default configuration
    heap: str | None = None  # the JVM heap the image sets by default
    renders: tuple[Render, ...] = ()
    source: str = ""
    complete: bool = False  # a full hardening profile (cap_add, user, writable are known)
    drops_privileges: bool = False  # it starts as root and switches to its own user itself
    # the private data folder (0700/0750, its own user's) that the entrypoint, started as root, walks to
    # hand it to the image's user: root needs DAC_READ_SEARCH or DAC_OVERRIDE to look inside it
    root_chowns: str | None = None
    pids_known: bool = False  # `pids` is enough for the image (threads bounded, not one per connection)
    assumed: bool = False  # known through a variable's default: the project may name another image
    config: tuple[str, ...] = ()  # where the image reads a configuration that sizes it (mounted: not the default)
    raises_privileges: str | None = None  # what its own non-root user runs to become root (sudo...)
    raises_when: tuple[str, ...] = ()  # ...only when one of these variables is set
    # where measured values come from: (field, how it was found), e.g. ("memory", "observed peak 1.12G
    # on 2026-12-06 x 1.5"); rules say so in their messages (see `why`)
    origin: tuple[tuple[str, str], ...] = ()
    volumes: tuple[str, ...] = ()  # the image's own data volumes (its VOLUME lines): writable under a read-only root
    healthcheck: tuple[str, ...] | None = None  # the image's own HEALTHCHECK test, when it declares one
    exposed: tuple[int, ...] = ()  # the ports the image declares (EXPOSE)
    cap_add_works: bool | None = None  # probed: cap_drop ALL + cap_add kept it working (False: it did not)
    drops_to: str | None = None  # observed: the "uid:gid" (not root) its main process drops to after starting as root

    def why(self, field: str) -> str | None:
        """How this profile's value of `field` was found when it was measured (an observation, the
        image's configuration), else None (shipped knowledge)."""
        return next((text for name, text in self.origin if name == field), None)


def _make(name: str, p: dict) -> ImageProfile:
    runs_as = p.get("runs_as")
    return ImageProfile(
        name, tuple(p.get("cap_add", ())), p.get("user"), bool(p.get("default_non_root", False) or runs_as),
        tuple(p.get("writable", ())), p.get("memory"), p.get("cpus"), tuple(p.get("public_ports", ())),
        runs_as, bool(p.get("base", False)), bool(p.get("proxy", False)), p.get("pids"),
        bool(p.get("limits_known", False)), p.get("heap"),
        tuple(Render(r.get("mounted"), r.get("env_prefix"), tuple(r.get("writable", ())), r.get("writable_env"),
                     tuple(r.get("keeps", ()))) for r in p.get("renders", ())),
        p.get("source", ""), "cap_add" in p,
        bool(p.get("drops_privileges") or ("cap_add" in p and p.get("user") is None and not p.get("default_non_root")
                                           and not runs_as)),
        (p.get("root_chowns") or [None])[0], p.get("pids") is not None and bool(p.get("pids_known", True)), False,
        tuple(p.get("config", ())), raises_privileges=(p.get("raises_privileges") or [None])[0],
        raises_when=tuple(p.get("raises_when", ())))


@lru_cache(maxsize=1)
def _data() -> tuple[dict, dict, list]:
    """(name or alias -> raw entry, prefix -> raw entry, [(pattern, raw entry)] in file order)."""
    raw = json.loads(resources.files("hardener.data").joinpath("images.json").read_text(encoding="utf-8"))
    names: dict = {}
    patterns: list = []
    for name, entry in raw.items():
        if name.startswith("_"):
            continue
        entry = {**entry, "_name": name}
        names[name] = entry
        for alias in entry.get("aliases", ()):
            names.setdefault(alias, entry)
        for variant, own in entry.get("variants", {}).items():
            names.setdefault(variant, {**entry, **own, "_name": name})
        patterns += [(p, entry) for p in entry.get("patterns", ())]
    prefixes = {prefix: {**p, "_name": prefix} for prefix, p in raw.get("_prefixes", {}).items()}
    return names, prefixes, patterns


def facts(image_name: str, measured: Mapping[str, ImageProfile] | None = None) -> ImageProfile | None:
    """Everything known about an image repository name (a full profile or only some facts), or None.
    `measured` (the run's Settings.profiles: repository name -> profile measured by `hardener observe`
    or read from the image's configuration) wins for what it measured: capabilities, user pattern,
    writable paths, memory and pids (then known to be enough), with where each came from."""
    if not image_name:
        return None
    name, assumed = _literal(image_name)
    if name is None:
        return None
    shipped = _shipped(name)
    if assumed and shipped is not None:
        shipped = replace(shipped, limits_known=False, pids_known=False, assumed=True)
    observed = (measured or {}).get(image_name)
    if observed is None:
        return shipped
    if not observed.name.startswith("observed:"):
        return observed  # image facts: a whole profile of its own (the family's, or a non-root user)
    base = shipped if shipped is not None else ImageProfile(observed.name)
    return replace(base, name=observed.name, cap_add=observed.cap_add, user=observed.user,
                   default_non_root=observed.default_non_root, writable=observed.writable,
                   memory=observed.memory or base.memory, pids=observed.pids or base.pids,
                   cpus=observed.cpus or base.cpus, complete=True,
                   limits_known=observed.memory is not None or base.limits_known,
                   pids_known=observed.pids is not None or base.pids_known,
                   drops_privileges=observed.drops_privileges, origin=observed.origin + base.origin,
                   volumes=observed.volumes or base.volumes,
                   healthcheck=observed.healthcheck if observed.healthcheck is not None else base.healthcheck,
                   exposed=observed.exposed or base.exposed, cap_add_works=observed.cap_add_works,
                   drops_to=observed.drops_to)


def _literal(image_name: str) -> tuple[str | None, bool]:
    """(the repository name to look up, whether it is a variable's default): `${IMAGE:-graylog/graylog:6.1}`
    is looked up as graylog/graylog (assumed), `${REGISTRY}/grafana/loki` as grafana/loki (a variable
    in front of a name with a '/' is a registry or project path); other variables: (None, False)."""
    if "$" not in image_name:
        return image_name, False
    from .syntax import repository_name, resolve, split_outside

    resolved = resolve(image_name)
    if resolved is not None:
        return (repository_name(resolved) or None), True
    parts = split_outside(image_name, "/")
    while len(parts) > 2 and "$" in parts[0]:
        parts = parts[1:]
    name = "/".join(parts)
    return (name, False) if "$" not in name and "/" in name else (None, False)


def _own_name(image_name: str, names: dict) -> str | None:
    """The family name an image repository name is a mirror of: itself, what follows a registry project
    path's `library/`, or its last two components (`dockerhub/grafana/loki` -> `grafana/loki`)."""
    if image_name in names:
        return image_name
    parts = image_name.split("/")
    if "library" in parts[:-1]:
        rest = "/".join(parts[len(parts) - parts[::-1].index("library"):])
        return rest if rest in names else None
    for i in range(1, len(parts) - 1):
        if "/".join(parts[i:]) in names:
            return "/".join(parts[i:])
    return None


@lru_cache(maxsize=4096)
def _shipped(image_name: str) -> ImageProfile | None:
    names, prefixes, patterns = _data()
    found = []
    own = _own_name(image_name, names)
    if own is not None:
        found.append(names[own])
        image_name = own
    found += [p for prefix, p in prefixes.items() if image_name.startswith(prefix)]
    found += [entry for pattern, entry in patterns if fnmatchcase(image_name, pattern) and entry not in found]
    if not found:
        return None
    merged: dict = {}
    for entry in found:
        for key, value in entry.items():
            merged.setdefault(key, value)
    if own is None:  # of the family by prefix or pattern only: its configuration is not known
        merged.update(limits_known=False, pids_known=False)
    return _make(found[0]["_name"], merged)


@lru_cache(maxsize=4096)
def family(image_name: str) -> str | None:
    """The entry of images.json an image repository name belongs to, by the entry's own name, an
    alias, or a pattern whose end is fixed (`*/postgres`, `*-postgresql`; not `cp-kafka*`, which also
    names the family's tools); None otherwise. Publisher prefixes (`bitnami/`) name no family."""
    if not image_name or "$" in image_name:
        return None
    names, _, patterns = _data()
    own = _own_name(image_name, names)  # mirrors under a registry's project path too
    if own is not None:
        return names[own]["_name"]
    for pattern, entry in patterns:
        if not pattern.endswith("*") and fnmatchcase(image_name, pattern):
            return entry["_name"]
    return None


def own_configuration(known: ImageProfile | None, keys, targets) -> str | None:
    """What gives a service a configuration other than its image's default, when the image's limits
    are known only for that default: a command or entrypoint of its own (`keys`, the ones the service
    writes), or a mount (`targets`, container paths) where the image reads a configuration that sizes
    it (the profile's `config`). None when nothing does, when the limits are not known anyway, or when
    they were measured on the running service (an observation saw it with its own configuration)."""
    if known is None or not (known.limits_known or known.pids_known) or known.why("memory") or known.why("pids"):
        return None
    if keys:
        return f"its {keys[0]} is its own"
    for target in targets:
        target = (target or "").rstrip("/")
        if target and any(target == c.rstrip("/") or target.startswith(c.rstrip("/") + "/") for c in known.config):
            return f"it mounts a configuration at {target}"
    return None


def profile(image_name: str, measured: Mapping[str, ImageProfile] | None = None) -> ImageProfile | None:
    """The full hardening profile of an image repository name (a measured one first, see `facts`),
    or None when hardener knows too little about the image to choose its capabilities, user and
    writable paths."""
    found = facts(image_name, measured)
    return found if found is not None and found.complete else None
