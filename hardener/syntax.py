"""Compose's string syntax, read once for every rule: variables, the short syntax of ports, volumes,
images and security options. Pure functions of strings; they know nothing of nodes, layers or rules.
"""
from __future__ import annotations

import re
from functools import lru_cache

VARIABLE = re.compile(r"\$\{[^}]*\}|\$[A-Za-z_][A-Za-z0-9_]*")
ONLY_VARIABLE = re.compile(r"\$\{[^}]*\}|\$[A-Za-z_]\w*")  # fullmatch: the whole text is one reference
WINDOWS_DRIVE = re.compile(r"^[A-Za-z]:[\\/]")  # a Windows path as a volume source (C:\data, d:/x)

# The spellings Docker Compose turns into a boolean (YAML 1.1 words, also when written as strings);
# compared in lower case. Anything else is refused by Compose.
TRUE_WORDS = frozenset({"true", "yes", "on", "y"})
FALSE_WORDS = frozenset({"false", "no", "off", "n"})

ANY_ADDRESS = frozenset({"0.0.0.0", "::", "[::]", ""})  # a host_ip that publishes on every interface
_ADDRESS_VAR = re.compile(r"ADDR|BIND|HOST|LISTEN|(^|_)IP($|_)|INTERFACE", re.I)
# compiled once: the rules ask these of every port, volume and value (re's own cache costs a lookup a call)
_DEFAULT_OF = re.compile(r"[A-Za-z_][A-Za-z0-9_]*:?-(.*)", re.S)  # fullmatch: `VAR:-default` inside ${...}
_VARIABLE_HOST = re.compile(r"^\$\{?([A-Za-z_][A-Za-z0-9_]*)(?::?[-?+]([^}]*))?\}?$")
_PORT_NUMBERS = re.compile(r"[0-9]+(-[0-9]+)?")  # fullmatch: a port or a range
_PORT_RANGE = re.compile(r"([0-9]+)(?:-([0-9]+))?")  # fullmatch, with the bounds as groups
_HOST_ADDRESS = re.compile(r"[0-9A-Fa-f.:]+|localhost|[A-Za-z0-9.-]+")  # fullmatch


def has_variable(text: str) -> bool:
    return "$" in text and bool(VARIABLE.search(text.replace("$$", "")))


def is_windows_path(spec: str) -> bool:
    return spec[1:2] == ":" and WINDOWS_DRIVE.match(spec) is not None  # the drive's ':' first: cheaper


def split_outside(text: str, sep: str, brackets: bool = False) -> list[str]:
    """Split on a one-character separator that is not inside a ${...} variable, nor (with
    brackets=True, for ports) inside an [IPv6] address."""
    if "${" not in text and (not brackets or "[" not in text):
        return text.split(sep)
    opens, closes = ("[", "}]") if brackets else (None, "}")
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch == "$":
            if text.startswith("${", i):
                depth += 1
        elif ch == opens:
            depth += 1
        elif ch in closes:
            if depth:
                depth -= 1
        elif ch == sep and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    return parts + [text[start:]]


def resolve(text: str) -> str | None:
    """The text Compose would use when no variable is set: `${VAR:-default}` and `${VAR-default}` give
    their default, `$$` is a `$`; any other reference (`${VAR}`, `$VAR`, `${VAR:?err}`) makes the value
    unknown, and None is returned."""
    if "$" not in text:
        return text
    out, i = [], 0
    while i < len(text):
        if text.startswith("$$", i):
            out.append("$")
            i += 2
        elif text.startswith("${", i):
            depth, j = 1, i + 2
            while j < len(text) and depth:
                if text.startswith("${", j):
                    depth, j = depth + 1, j + 2
                    continue
                if text[j] == "}":
                    depth -= 1
                j += 1
            if depth:
                return None
            m = _DEFAULT_OF.fullmatch(text[i + 2:j - 1])
            default = resolve(m.group(1)) if m else None
            if default is None:
                return None
            out.append(default)
            i = j
        elif text[i] == "$" and i + 1 < len(text) and (text[i + 1].isalpha() or text[i + 1] == "_"):
            return None
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def boolean_word(text: str) -> bool | None:
    """True or False for a text Compose reads as a boolean; None for anything else or a variable."""
    if has_variable(text):
        return None
    word = text.strip().lower()
    return True if word in TRUE_WORDS else False if word in FALSE_WORDS else None


def split_option(text: str) -> tuple[str, str | None]:
    """A security_opt entry as Docker splits it: at the first '=' when there is one, otherwise at the
    first ':' (the older spelling); (name, None) for a bare word such as 'no-new-privileges'."""
    text = text.strip()
    for sep in ("=", ":"):
        if sep in text:
            name, value = text.split(sep, 1)
            return name.strip(), value.strip()
    return text, None


# --------------------------------------------------------------------------- images

@lru_cache(maxsize=4096)
def repository_name(image: str) -> str:
    """'docker.io/library/nginx:1.27@sha256:...' -> 'nginx'; registry, tag and digest dropped. A ':'
    or '/' inside ${...} (`postgres:${PG_VERSION:-16}`) is not a separator."""
    image = split_outside(image, "@")[0]
    parts = split_outside(image, "/")
    parts[-1] = split_outside(parts[-1], ":")[0]
    if len(parts) > 1 and ("." in parts[0] or ":" in parts[0] or parts[0] == "localhost"):
        parts = parts[1:]
    if parts and parts[0] == "library":
        parts = parts[1:]
    return "/".join(parts)


def image_tag(image: str) -> str:
    """The tag of an image reference as written ('' when there is none)."""
    last = split_outside(split_outside(image.strip(), "@")[0], "/")[-1]
    parts = split_outside(last, ":")
    return parts[1] if len(parts) > 1 else ""


def image_last_component(image: str) -> str:
    """What follows the last '/' that is not inside ${...}: the name and tag."""
    return split_outside(image, "/")[-1]


# --------------------------------------------------------------------------- ports (short syntax)

def looks_like_address(part: str) -> bool:
    """A host part of `host:container` that is (or may hold) an address rather than a port number."""
    if part.startswith("$"):
        m = _VARIABLE_HOST.match(part)
        if not m:
            return True
        name, default = m.group(1), m.group(2) or ""
        return bool(_ADDRESS_VAR.search(name)) or any(c in default for c in ".:[")
    return not _PORT_NUMBERS.fullmatch(part)


def port_parts(body: str) -> list[str]:
    """The ':'-separated parts of a short-syntax port mapping without its /protocol."""
    return split_outside(body, ":", brackets=True)


def rebind(spec: str, host_ip: str, host_ip6: str) -> str | None:
    """The short-syntax port with a loopback host address, or None when it needs no change or
    cannot be understood."""
    body, slash, proto = spec.partition("/")
    suffix = slash + proto if slash else ""
    if ONLY_VARIABLE.fullmatch(body):
        return None  # the whole mapping is a variable
    if body.startswith("["):  # [IPv6]:host:container
        ip, _, rest = body[1:].partition("]")
        return f"[{host_ip6}]{rest}{suffix}" if ip == "::" and rest.startswith(":") else None
    parts = port_parts(body)
    if len(parts) == 1:
        return f"{host_ip}::{parts[0]}{suffix}"
    if len(parts) == 2 and not looks_like_address(parts[0]):
        return f"{host_ip}:{parts[0]}:{parts[1]}{suffix}"
    if len(parts) == 3 and parts[0] == "0.0.0.0":
        return f"{host_ip}:{parts[1]}:{parts[2]}{suffix}"
    return None  # bound to an address already, or a form we do not rewrite


def port_host(spec: str) -> tuple[str, str]:
    """(host part, container part) of a short-syntax mapping as written: `"${PORT:-8080}:80/tcp"` ->
    ("${PORT:-8080}", "80"); the host part is "" when only the container port is written. A '/'
    or ':' inside ${...} does not split."""
    parts = port_parts(split_outside(spec.strip(), "/")[0])
    return ":".join(parts[:-1]), parts[-1]


def host_kind(host: str) -> str | None:
    """What an interpolated host part publishes on: "port" (a host port or range, or none: every
    interface), "any" (an every-interface address written out), "bound" (a specific address), or None
    when it cannot be read."""
    parts = port_parts(host.strip()) if host.strip() else []
    if not parts or (len(parts) == 1 and _PORT_NUMBERS.fullmatch(parts[0])):
        return "port"
    if len(parts) > 2 or (len(parts) == 2 and parts[1] and not _PORT_NUMBERS.fullmatch(parts[1])):
        return None
    address = parts[0].strip("[]")
    if address in ("0.0.0.0", "::", ""):
        return "any"
    return "bound" if _HOST_ADDRESS.fullmatch(address) else None


def container_ports(spec: str) -> frozenset[int]:
    """The container ports of a short-syntax mapping (`"8080:80"`, `"80-81/udp"`); empty when a
    variable or anything unusual hides them."""
    last = port_parts(spec.partition("/")[0])[-1].strip()
    low, _, high = last.partition("-")
    if not low.isdigit() or (high and not high.isdigit()):
        return frozenset()
    return frozenset(range(int(low), int(high or low) + 1)) if int(high or low) - int(low) < 65536 else frozenset()


def port_range(text) -> tuple[int, int] | None:
    """(low, high) of a container port or range, variables resolved to their defaults; None when unknown."""
    text = resolve(str(text).strip())
    m = _PORT_RANGE.fullmatch(text or "")
    if not m:
        return None
    return int(m.group(1)), int(m.group(2) or m.group(1))


def address_scope(address: str | None) -> str:
    """Where a host address publishes: "all" interfaces, "loopback", "address" (a specific one) or
    "unknown" (a variable without default)."""
    if address is None:
        return "all"
    value = resolve(address.strip())
    if value is None:
        return "unknown"
    value = value.strip("[]")
    if value in ("", "0.0.0.0", "::"):
        return "all"
    if value.startswith("127.") or value in ("::1", "localhost"):
        return "loopback"
    return "address"


# --------------------------------------------------------------------------- volumes (short syntax)

def volume_parts(spec: str) -> list[str]:
    """The ':'-separated parts of a short-syntax volume (`source:target:mode`); a Windows drive
    (`C:\\data:/data`) keeps its colon in the source."""
    if is_windows_path(spec):
        parts = split_outside(spec[2:], ":")
        return [spec[:2] + parts[0], *parts[1:]]
    return split_outside(spec, ":")


def is_bind_source(source: str) -> bool:
    return source.startswith(("/", ".", "~")) or ("/" in source and source.startswith("$"))


def add_ro(spec: str) -> str | None:
    """Short-syntax volume with ro added, or None when it is not a bind mount we should touch."""
    if is_windows_path(spec):
        return None
    parts = volume_parts(spec)
    if len(parts) not in (2, 3) or not is_bind_source(parts[0]) or not parts[1].startswith("/"):
        return None
    modes = parts[2].split(",") if len(parts) == 3 else []
    if "ro" in modes or "rw" in modes:
        return None
    return f"{parts[0]}:{parts[1]}:" + ",".join(["ro"] + modes)
