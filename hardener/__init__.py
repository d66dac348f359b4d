"""hardener: finds risky settings in Docker Compose files and fixes them in the file itself."""

__version__ = "0.1.0"


def harden(text: str, *, unsafe_fixes: bool = False, select=(), ignore=(), path: str = ""):
    """Check and fix compose text in memory: (remaining findings, fixed findings, new text).
    `path` is only a name: an override file (its name says so) is judged as a fragment of a project.
    Raises hardener.yamltext.YamlInputError for input that is not a usable compose file."""
    from .engine import harden_text
    from .settings import Settings

    settings = Settings(frozenset(select), frozenset(ignore), unsafe_fixes)
    return harden_text(text, settings, fix=True, path=path)
