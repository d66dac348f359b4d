"""The variables Compose would interpolate a file with, as far as the project's folder shows them:
the `.env` file beside the project's first compose file (Compose reads it by default for
interpolation; `--env-file` files replace it, as they do for Compose) and the example env files
projects document their settings in (`.env.example`...), which say what values a variable is meant
to take. Values are only ever compared, never printed or stored: env files hold secrets.

hardener uses them to know what a variable may hold before editing text around it; the process
environment is not read, so results do not depend on the shell that runs hardener."""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping

# read in this order; `.env` is what Compose interpolates with, the others document the values
ENV_FILES = (".env", ".env.example", ".env.sample", ".env.dist", ".env.template", ".env.default", ".env.defaults",
             "example.env", "env.example", "sample.env", ".env.docker", ".env.production")
MAX_BYTES = 1024 * 1024

_LINE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*[=:]\s?(.*)$")


def parse_env(text: str) -> dict[str, str]:
    """Variables of one env file in Compose's dotenv syntax: KEY=VALUE (or `export KEY=VALUE`), single
    quotes literal, double quotes with backslash escapes, `#` comments on their own line or after a
    space in an unquoted value."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        m = _LINE.match(line)
        if not m:
            continue
        name, value = m.group(1), m.group(2).strip()
        if value[:1] in ("'", '"') and value[0] in value[1:]:
            quote = value[0]
            end = value.index(quote, 1)
            value = value[1:end]
            if quote == '"':
                value = value.replace("\\n", "\n").replace('\\"', '"').replace("\\\\", "\\")
        else:
            value = re.split(r"\s+#", value, maxsplit=1)[0].strip()
        out[name] = value
    return out


@dataclass(frozen=True)
class ProjectEnv:
    """What the project's folder says about variables: `dotenv`, the variables of the env files
    Compose interpolates with (`.env`, or the `--env-file` files); `read`, whether such a file was
    read at all; `documented`, every value the example env files give a variable."""
    dotenv: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    documented: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}))
    read: bool = False

    def known(self, text: str) -> str | None:
        """The text as Compose interpolates it, when the env files decide it: every variable in it is
        set there, or an env file was read and the variable's default applies (Compose reads the same
        file). None when a variable's value is not known here (no env file sets it: it may come from
        the shell or from a `.env` the user has not written yet) or is unset without a default."""
        names = variables_in(text)
        if names and not self.read and any(name not in self.dotenv for name in names):
            return None
        return interpolate(text, self.dotenv.get)

    def shown(self, text: str) -> list[str] | None:
        """The values the project's files show the text takes: the one its env files give (`known`);
        else, when the documented example env files give a value for each of its variables, the value
        with the defaults and with each documented one. None when the project does not show it."""
        known = self.known(text)
        if known is not None:
            return [known]
        names = variables_in(text)
        if not names or not all(name in self.dotenv or name in self.documented for name in names):
            return None
        values = self.possible(text)
        return None if None in values else values

    def possible(self, text: str) -> list[str | None]:
        """What the text may become: with the env files (defaults for the rest), then with each value
        the documented env files give one of its variables."""
        return possible_values(text, self.dotenv, self.documented)


NO_ENV = ProjectEnv()


def _read_env(path: str) -> dict[str, str] | None:
    try:
        if not os.path.isfile(path) or os.path.getsize(path) > MAX_BYTES:
            return None
        with open(path, encoding="utf-8", errors="replace") as handle:
            return parse_env(handle.read())
    except OSError:
        return None


def project_env(compose_path: str | None, env_files=()) -> ProjectEnv:
    """The env files of a project whose first compose file is `compose_path`: `env_files` (as
    `--env-file` gives them; later files win) or else the `.env` beside it, and the documented
    examples beside it (none for standard input)."""
    local = compose_path and compose_path not in ("-", "<stdin>")
    folder = os.path.dirname(os.path.abspath(compose_path)) if local else None
    dotenv: dict[str, str] = {}
    read = False
    for path in env_files or ((os.path.join(folder, ".env"),) if folder else ()):
        values = _read_env(path)
        if values is not None:
            dotenv.update(values)
            read = True
    documented: dict[str, list[str]] = {}
    for name in ENV_FILES[1:] if folder else ():
        for key, value in (_read_env(os.path.join(folder, name)) or {}).items():
            if value not in documented.setdefault(key, []):
                documented[key].append(value)
    return ProjectEnv(MappingProxyType(dotenv), MappingProxyType({k: tuple(v) for k, v in documented.items()}), read)


_REFERENCE = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)")


def interpolate(text: str, lookup) -> str | None:
    """The text as Compose interpolates it, `lookup(name)` giving a variable's value or None when it
    is unset: `${VAR:-default}` / `${VAR-default}`, `${VAR:+alt}` / `${VAR+alt}`, `${VAR:?err}`,
    `$VAR`, `$$`. None when a variable without a default is unset (its value is unknown here)."""
    unknown = False

    def one(m: re.Match) -> str:
        nonlocal unknown
        if m.group(0) == "$$":
            return "$"
        name = m.group(1) or m.group(4)
        op, arg = m.group(2) or "", m.group(3) or ""
        value = lookup(name)
        if op in (":-", "-"):
            if value is None or (op == ":-" and value == ""):
                return interpolate(arg, lookup) or ""
            return value
        if op in (":+", "+"):
            return arg if value is not None and (op == "+" or value != "") else ""
        if value is None:
            unknown = True
            return ""
        return value

    out = _REFERENCE.sub(one, text)
    return None if unknown else out


def variables_in(text: str) -> list[str]:
    """Names of the variables a text refers to."""
    return [m.group(1) or m.group(4) for m in _REFERENCE.finditer(text) if m.group(0) != "$$"]


def possible_values(text: str, dotenv: Mapping[str, str], documented: Mapping[str, tuple[str, ...]]) -> list[str | None]:
    """The text as Compose would read it with the project's `.env` (first), then with each value
    the documented env files give one of its variables."""
    actual = interpolate(text, dotenv.get)
    out = [actual]
    for name in dict.fromkeys(variables_in(text)):
        for value in documented.get(name, ()):
            alternative = interpolate(text, lambda n, _name=name, _value=value: _value if n == _name else dotenv.get(n))
            if alternative not in out:
                out.append(alternative)
    return out
