"""The variables Compose would interpolate a file with, as far as the project's folder shows them:
the `.env` file beside the compose file (Compose reads it by default for interpolation) and the
example env files projects document their settings in (`.env.example`...), which say what values a
variable is meant to take. Values are only ever compared, never printed or stored: env files hold
secrets.

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
    """What the project's folder says about variables: `dotenv`, the `.env` Compose interpolates
    with; `documented`, every value the example env files give a variable."""
    dotenv: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    documented: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}))


def project_env(compose_path: str | None) -> ProjectEnv:
    """The env files beside a compose file (none for standard input or when none can be read)."""
    if not compose_path or compose_path == "-":
        return ProjectEnv()
    folder = os.path.dirname(os.path.abspath(compose_path))
    dotenv: dict[str, str] = {}
    documented: dict[str, list[str]] = {}
    for name in ENV_FILES:
        path = os.path.join(folder, name)
        try:
            if not os.path.isfile(path) or os.path.getsize(path) > MAX_BYTES:
                continue
            with open(path, encoding="utf-8", errors="replace") as handle:
                values = parse_env(handle.read())
        except OSError:
            continue
        if name == ".env":
            dotenv = values
            continue
        for key, value in values.items():
            if value not in documented.setdefault(key, []):
                documented[key].append(value)
    return ProjectEnv(MappingProxyType(dotenv), MappingProxyType({k: tuple(v) for k, v in documented.items()}))


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
