"""hardener: finds risky settings in Docker Compose files and fixes them in the file itself."""

from typing import NamedTuple

__version__ = "0.1.0"


class Result(NamedTuple):
    """What `harden` returns; it unpacks like a tuple: remaining, fixed, text = harden(...)."""

    remaining: list  # findings left after fixing (hardener.model.Finding)
    fixed: list  # findings whose fix was applied
    text: str  # the fixed text (the input itself when nothing applied)

    @property
    def changed(self) -> bool:
        return bool(self.fixed)


def harden(text: str, *, unsafe_fixes: bool = False, select=(), ignore=(), path: str = "") -> Result:
    """Check and fix compose text in memory: (remaining findings, fixed findings, new text).
    `path` is only a name: an override file (its name says so) is judged as a fragment of a project.
    Raises hardener.yamltext.YamlInputError for input that is not a usable compose file."""
    from .engine import harden_text
    from .settings import Settings

    settings = Settings(frozenset(select), frozenset(ignore), unsafe_fixes)
    return Result(*harden_text(text, settings, fix=True, path=path))
