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
    `select` and `ignore` take rule ids, names or id prefixes, as a list or one comma-separated
    string ("CAP001,LOG001"). Raises ValueError for an unknown rule and
    hardener.yamltext.YamlInputError for input that is not a usable compose file."""
    from .engine import harden_text
    from .settings import Settings

    settings = Settings(_rule_names(select, "select"), _rule_names(ignore, "ignore"), unsafe_fixes)
    return Result(*harden_text(text, settings, fix=True, path=path))


def _rule_names(value, what: str) -> frozenset:
    """Rule names from a string ("CAP001" or "CAP001,LOG001") or an iterable of strings; ValueError
    for a name that matches no rule (a run that silently checks nothing would look clean)."""
    from .rules import BY_KEY, RULES

    if isinstance(value, str):
        value = [value]
    names = frozenset(v.strip() for item in value or () for v in str(item).split(",") if v.strip())
    for name in names:
        if name not in BY_KEY and not (name.isupper() and any(r.ID.startswith(name) for r in RULES)):
            raise ValueError(f"{what}: unknown rule {name!r} (see `hardener rules`)")
    return names
