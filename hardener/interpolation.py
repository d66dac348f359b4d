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


def project_variables(compose_path: str | None) -> Mapping[str, tuple[str, ...]]:
    """Variable name -> every value the project's env files beside the compose file give it (the
    `.env` value first). Empty for standard input or when none can be read."""
    if not compose_path or compose_path == "-":
        return MappingProxyType({})
    folder = os.path.dirname(os.path.abspath(compose_path))
    found: dict[str, list[str]] = {}
    for name in ENV_FILES:
        path = os.path.join(folder, name)
        try:
            if not os.path.isfile(path) or os.path.getsize(path) > MAX_BYTES:
                continue
            with open(path, encoding="utf-8", errors="replace") as handle:
                values = parse_env(handle.read())
        except OSError:
            continue
        for key, value in values.items():
            if value not in found.setdefault(key, []):
                found[key].append(value)
    return MappingProxyType({k: tuple(v) for k, v in found.items()})
