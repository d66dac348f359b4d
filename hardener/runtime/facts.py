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


def config_facts(config: dict) -> dict:
    """What an image's configuration declares that rules can use: its data volumes (VOLUME), the ports
    it exposes (EXPOSE) and its own healthcheck's test (HEALTHCHECK; None when it has none or turns it
    off)."""
    config = config or {}
    volumes = sorted(str(v).rstrip("/") or "/" for v in (config.get("Volumes") or {}))
    exposed = sorted({int(p.split("/", 1)[0]) for p in (config.get("ExposedPorts") or {})
                      if str(p).split("/", 1)[0].isdigit()})
    test = (config.get("Healthcheck") or {}).get("Test") or []
    healthcheck = [str(t) for t in test] if test and test[0] != "NONE" else None
    return {"volumes": volumes, "exposed_ports": exposed, "healthcheck": healthcheck}


def with_config(found: ImageProfile, declared: dict) -> ImageProfile:
    """A profile with what the image's configuration declares (config_facts) added."""
    health = declared.get("healthcheck")
    return replace(found, volumes=tuple(declared.get("volumes") or ()) or found.volumes,
                   exposed=tuple(declared.get("exposed_ports") or ()) or found.exposed,
                   healthcheck=tuple(health) if health else found.healthcheck)


def describe(declared: dict) -> str:
    """What config_facts found, for a note: 'volumes /data; ports 6379; healthcheck'."""
    out = []
    if declared.get("volumes"):
        out.append("volumes " + ", ".join(declared["volumes"]))
    if declared.get("exposed_ports"):
        out.append("ports " + ", ".join(map(str, declared["exposed_ports"])))
    if declared.get("healthcheck"):
        out.append("its own healthcheck")
    return "; ".join(out)


def profile_from_config(repo: str, config: dict) -> tuple[ImageProfile | None, str | None]:
    """(profile, note) for an unknown image from its configuration: its family's profile, or a
    non-root profile when the image's default user is not root, with the data volumes, ports and
    healthcheck the image declares; an image that shows nothing else but declares some of those gets
    a profile of those facts only (not a hardening profile)."""
    declared = config_facts(config)
    what = describe(declared)
    found = family(config)
    if found:
        return with_config(replace(profile(found), name=f"image-facts:{repo}"), declared), \
            f"{repo}: built like {found} ({_marker(config, found)})" + (f"; {what}" if what else "")
    user = str((config or {}).get("User") or "")
    if user and user.split(":", 1)[0] not in ("root", "0"):
        return with_config(ImageProfile(f"image-facts:{repo}", default_non_root=True, writable=("/tmp",),
                                        complete=True), declared), \
            f"{repo}: runs as user {user} by default" + (f"; {what}" if what else "")
    if what:
        return with_config(ImageProfile(f"image-facts:{repo}"), declared), f"{repo}: declares {what}"
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
        repos = {r for r in repos if r}
        if not repos:
            continue
        try:
            data = engine.image(item["Id"]) or {}
        except EngineError:
            continue
        for repo in sorted(repos):
            known = profile(repo)
            if known is not None:  # shipped knowledge: what the image declares is added to it
                declared = config_facts(data.get("Config") or {})
                what = describe(declared)
                if what and repo not in out:
                    out[repo] = with_config(known, declared)
                    notes.append(f"{repo}: known as {known.name}; {what}")
                continue
            found, note = profile_from_config(repo, data.get("Config") or {})
            if found is not None:
                out[repo] = found
                notes.append(note)
    return out, notes
