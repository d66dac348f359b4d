"""hardener: finds risky settings in Docker Compose files and fixes them in the file itself."""

__version__ = "0.1.0"


def harden(text: str, *, unsafe_fixes: bool = False, select=(), ignore=()):
    """Check and fix compose text in memory: (remaining findings, fixed findings, new text).
    Raises hardener.yamltext.YamlInputError for input that is not a usable compose file."""
    from .engine import harden_text
    from .settings import Settings

    settings = Settings(frozenset(select), frozenset(ignore), unsafe_fixes)
    return harden_text(text, settings, fix=True)
