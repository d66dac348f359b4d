"""Keep passwords, tokens and keys out of the compose file.

**What it finds.** An `environment` entry (map or list form) whose value is written in the file and
looks like a secret:
- the variable's name ends in a secret word: `PASSWORD`, `PASSWD`, `PASS`, `PWD`, `SECRET`, `TOKEN`,
  `API_KEY`, `PRIVATE_KEY`, `ACCESS_KEY`, `SECRET_KEY`, `CREDENTIALS` and the like (`PGPASSWORD`,
  `JWT_SECRET`, `AWS_SECRET_ACCESS_KEY`, `APP_KEY`);
- or the value is a URL carrying a password (`postgres://app:s3cret@db/app`, `redis://:pw@cache`).

A value that only refers to variables (`${DB_PASSWORD}`) is not in the file and is not reported; a
reference with a literal default (`${DB_PASSWORD:-changeme}`) is, because that default is what runs
whenever the variable is unset. Names ending in `_FILE` (the `*_FILE` convention: the variable holds the
*path* of a file with the secret), and names that only mention a secret (`TOKEN_TTL`,
`PASSWORD_MIN_LENGTH`, `SECRET_NAME`, `..._URL`), switches (`yes`, `true`) and file paths are not
reported. The message names the variable and never shows its value.

**Why it matters.** Compose files are committed, copied into tickets and pasted into chats; a password
written in one is known to everyone who ever read it, which is as good as no password for the service
it protects (attack tree 4.1.2). Environment variables also leak at run time: `docker inspect` shows
them to anyone with access to the daemon, child processes inherit them, and crash reports and debug
pages often print them.

**Example.**

    services:
      db:
        image: postgres:16
        environment:
          POSTGRES_PASSWORD: supersecret

**Fix.** None automatic: the value has to move somewhere the tool cannot create. Two ways out:
- take it from the shell or an untracked `.env` file: `POSTGRES_PASSWORD: ${POSTGRES_PASSWORD:?set it}`;
- better, use Compose secrets: declare `secrets: {db_password: {file: ./db_password.txt}}` at the top
  level, give the service `secrets: [db_password]`, and point the image at the mounted file with its
  `*_FILE` variable (`POSTGRES_PASSWORD_FILE: /run/secrets/db_password`). The secret is then a file
  in the container (under `/run/secrets/`), not part of its environment or of `docker inspect`.
Rotate a secret that has been committed: removing it from the file does not remove it from history.

**What may break.** Nothing by itself; when you move the value, every service that used it needs the
new source.

**References.** OWASP Docker Security Cheat Sheet rule #12; MITRE ATT&CK T1552.001 (Credentials In
Files), T1552.007 (Container API).
"""
from __future__ import annotations

import re
from functools import lru_cache

from .. import knowledge
from ..model import Applicability, Confidence, Severity
from ..syntax import resolve
from .base import finding

ID = "SEC001"
NAME = "secret-in-environment"
ATTACK_TREE = ("4.1.2",)
SEVERITY = Severity.MEDIUM
CONFIDENCE = Confidence.MEDIUM
FIX = Applicability.NONE
OPTIONS: dict = {}

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_URL_PASSWORD = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://(?:\$\{[^}]*\}|[^:/@\s$])*:"
                           r"((?:\$\{[^}]*\}|\$[A-Za-z_]\w*|[^/@\s$])+)@")
_FALSY = frozenset({"0", "n", "no", "false", "off", "none", "null"})
_SEPARATORS = re.compile(r"[^A-Z0-9]+")


@lru_cache(maxsize=4096)  # a project repeats its variable names across services
def is_secret_name(name: str) -> bool:
    n = _SEPARATORS.sub("_", name.upper()).strip("_")
    if not n or n.endswith(knowledge.NOT_SECRET_SUFFIXES):
        return False
    for word in knowledge.SECRET_WORDS:
        if n.endswith("_" + word) or (n == word and word not in ("PWD", "PW", "PASS")):
            return True
    if n.endswith(knowledge.SECRET_SUFFIXES):
        return True
    if n.endswith("_KEY"):
        return n[:-4].rsplit("_", 1)[-1] in knowledge.SECRET_KEY_QUALIFIERS
    return False


def _looks_like_value(text: str) -> bool:
    """A literal that could be a secret: not empty, not a switch, not a file path."""
    t = text.strip()
    return bool(t) and t.lower() not in knowledge.TRUTHY | _FALSY and not t.startswith(("/", "./", "../", "~/"))


def url_password(raw: str) -> bool:
    """Whether the text holds a URL whose password is written in the file."""
    for m in _URL_PASSWORD.finditer(raw):
        password = resolve(m.group(1))
        if password:
            return True
    return False


# --------------------------------------------------------------------------- the rule

def check(ctx):
    seen: set[int] = set()
    for svc in ctx.services:
        for var in svc.environment().values():
            if var.raw is None or id(var.node) in seen or var.name.upper().endswith("_FILE"):
                continue
            value = resolve(var.raw)
            if is_secret_name(var.name) and value is not None and _looks_like_value(value):
                written = "a default" if "$" in var.raw.replace("$$", "") else "a value"
                what = f"{var.name} has {written} written in the file"
            elif url_password(var.raw):
                what = f"{var.name} holds a URL with a password written in the file"
            else:
                continue
            seen.add(id(var.node))
            yield finding(__name__, ctx, var.node, f"service '{svc.name}': {what} (value hidden); take it "
                          "from a Compose secret or a *_FILE variable instead", service=svc,
                          key_path=("services", svc.name, "environment", var.name))
