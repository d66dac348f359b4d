"""Image facts without running anything: for images present on the local engine whose names no
knowledge base knows (a private mirror, a rebuild), read the image's configuration and recognise its
family by the variables the official images set (an image built FROM postgres carries PG_MAJOR and
PGDATA, nginx images carry NGINX_VERSION...), or a default non-root user. The family's shipped
profile then applies under the unknown name. Never pulls; without an engine nothing changes."""
from __future__ import annotations

from dataclasses import replace

from ..images import ImageProfile, profile

# variable set by an official image's Dockerfile -> the shipped profile of that family
FAMILY_MARKERS = (
    ("PG_MAJOR", "postgres"), ("PGDATA", "postgres"),
    ("NGINX_VERSION", "nginx"),
    ("REDIS_VERSION", "redis"),
    ("MARIADB_MAJOR", "mariadb"), ("MARIADB_VERSION", "mariadb"),
    ("MYSQL_MAJOR", "mysql"), ("MYSQL_VERSION", "mysql"),
    ("MONGO_MAJOR", "mongo"), ("MONGO_VERSION", "mongo"),
    ("RABBITMQ_VERSION", "rabbitmq"),
    ("HTTPD_VERSION", "httpd"),
    ("MEMCACHED_VERSION", "memcached"),
)
MAX_IMAGES = 500


def family(config: dict) -> str | None:
    """The official family an image configuration shows, or None."""
    names = {str(item).split("=", 1)[0] for item in (config or {}).get("Env") or ()}
    for marker, name in FAMILY_MARKERS:
        if marker in names and profile(name) is not None:
            return name
    return None


def profile_from_config(repo: str, config: dict) -> tuple[ImageProfile | None, str | None]:
    """(profile, note) for an unknown image from its configuration: its family's profile, or a
    non-root profile when the image's default user is not root."""
    found = family(config)
    if found:
        return replace(profile(found), name=f"image-facts:{repo}"), f"{repo}: built like {found} ({_marker(config, found)})"
    user = str((config or {}).get("User") or "")
    if user and user.split(":", 1)[0] not in ("root", "0"):
        return ImageProfile(f"image-facts:{repo}", default_non_root=True, writable=("/tmp",)), \
            f"{repo}: runs as user {user} by default"
    return None, None


def _marker(config: dict, name: str) -> str:
    names = [str(item).split("=", 1)[0] for item in (config or {}).get("Env") or ()]
    return next((m for m, n in FAMILY_MARKERS if n == name and m in names), name)


def engine_profiles(host: str | None = None, timeout: float = 2.0) -> tuple[dict, list]:
    """(repository name -> profile, notes) for the local engine's images without a shipped profile;
    ({}, [note]) when no engine answers."""
    from ..compose import repository_name
    from .engine_api import Engine, EngineError

    try:
        engine = Engine(host, timeout=timeout)
        engine.ping()
        images = engine._json("/images/json") or []
    except EngineError as exc:
        return {}, [f"image facts not read: {exc}"]
    out, notes = {}, []
    for item in images[:MAX_IMAGES]:
        repos = {repository_name(tag) for tag in item.get("RepoTags") or () if tag and tag != "<none>:<none>"}
        repos = {r for r in repos if r and profile(r) is None}
        if not repos:
            continue
        try:
            data = engine.image(item["Id"]) or {}
        except EngineError:
            continue
        for repo in sorted(repos):
            found, note = profile_from_config(repo, data.get("Config") or {})
            if found is not None:
                out[repo] = found
                notes.append(note)
    return out, notes
