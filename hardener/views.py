"""Parsed views of a service's settings for the rules: the environment as Compose merges it, the
ports a layer publishes (with the edit that binds each to loopback), list settings with their
flagged items. Built from `compose.Service` and cached on it for one pass.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .syntax import (ANY_ADDRESS, ONLY_VARIABLE, address_scope, boolean_word, has_variable, host_kind,
                     is_windows_path, looks_like_address, port_host, port_parts, port_range, rebind, resolve,
                     split_outside, volume_parts)
from .yamltext import (Alias, Edit, Map, Node, Scalar, Seq, add_entries, add_items, deref, fill_null, merged_entry,
                       merged_keys, remove_item, replace_scalar, scalar_value)


def boolean(node) -> bool | None:
    """True or False for a scalar Compose reads as a boolean; None for anything else (null, a
    variable, a number, a mapping...)."""
    node = deref(node)
    if not isinstance(node, Scalar) or node.is_null:
        return None
    return boolean_word(node.value)


def texts(node) -> list[str]:
    """Every scalar text in a node, keys of mappings included (dereferenced, depth first). Collected
    into one list: a generator per level cost a call per text and level, and rules read the texts of
    every service's environment, command and healthcheck."""
    out: list[str] = []
    _texts_into(node, out)
    return out


def _texts_into(node, out: list) -> None:
    if type(node) is Alias:
        node = node.target
    if type(node) is Scalar:
        out.append(node.value)
    elif type(node) is Seq:
        for item in node.items:
            if type(item) is Scalar:  # the usual item: no call for it
                out.append(item.value)
            else:
                _texts_into(item, out)
    elif type(node) is Map:
        for k, v in node.pairs:
            if type(k) is Scalar:
                out.append(k.value)
            if type(v) is Scalar:
                out.append(v.value)
            else:
                _texts_into(v, out)


# --------------------------------------------------------------------------- list settings

def written_list(svc, key):
    """(value, own, [(item, scalar)]) for a list setting written in this mapping: its items that are
    plain scalars without variables; None when the mapping writes no list under key."""
    entry = svc.written_here(key)
    if entry is None or not isinstance(deref(entry.value), Seq):
        return None
    items = []
    for item in deref(entry.value).items:
        node = deref(item)
        if isinstance(node, Scalar) and not node.is_null and not has_variable(node.value):
            items.append((item, node))
    return entry.value, entry.own, items


def flagged_items(doc, svc, key, classify) -> list:
    """(item, what classify said, removal edit or None) for each item of a list setting written in this
    mapping that classify(text) flags. The list is never emptied: an empty block list reads as null,
    and other rules append to it; lists from a merged mapping or an alias, and items written through
    an alias, get no edit."""
    written = written_list(svc, key)
    if written is None:
        return []
    value, own, items = written
    flagged = [(item, hit) for item, node in items if (hit := classify(node.value))]
    seq = deref(value)
    editable = own and not svc.shared and not isinstance(value, Alias) and len(flagged) < len(seq.items)
    return [(item, hit, remove_item(doc, seq, item) if editable and not isinstance(item, Alias) else None)
            for item, hit in flagged]


# --------------------------------------------------------------------------- environment

@dataclass(frozen=True)
class EnvVar:
    name: str
    raw: str | None  # as written; None when the file gives no value (passed through from the shell)
    node: Node  # the value (map form) or the item (list form): where a finding points

    @property
    def value(self) -> str | None:
        """The value with variables resolved to their defaults; None when not known from the file."""
        return resolve(self.raw) if self.raw is not None else None


def environment(svc) -> dict[str, EnvVar]:
    """The service's environment as Compose merges it: every layer (files, bases) variable by
    variable, merge keys followed; later layers and later list items win."""
    out: dict[str, EnvVar] = {}
    for entry in svc.written("environment"):
        out.update(_variables(deref(entry.value)))
    return out


def _variables(env) -> dict[str, EnvVar]:
    """The variables one layer's environment (a mapping or a list) writes."""
    out: dict[str, EnvVar] = {}
    if isinstance(env, Map):
        if env.entry("<<") is None:  # nothing merged in (the usual mapping): its own pairs, in order
            entries = [(k.value, v) for k, v in env.pairs if type(k) is Scalar]
        else:
            entries = [(name, merged_entry(env, name)[1]) for name in merged_keys(env)]
        for name, value in entries:
            value = deref(value)
            if isinstance(value, Scalar):
                out[name] = EnvVar(name, None if value.is_null else value.value, value)
    elif isinstance(env, Seq):
        for item in env.items:
            node = deref(item)
            if isinstance(node, Scalar) and not node.is_null:
                name, eq, value = node.value.partition("=")
                name = name.strip()
                if name:
                    out[name] = EnvVar(name, value if eq else None, node)
    return out


def list_append(doc, svc, key: str, item: str) -> Edit | None:
    """The edit that appends one item to the service's own list setting (`volumes`, `secrets`...), or
    adds the setting with that item when no layer writes it. None when the list Compose uses is not
    this service's own block list to edit (an alias, another file, an `extends` base that may write it)."""
    entry = svc.entry(key)
    if entry is None:
        return None if svc.entry("extends") is not None else add_entries(doc, svc.node, {key: [item]})
    value = deref(entry.value)
    if not entry.editable or isinstance(entry.value, Alias) or not isinstance(value, Seq):
        return None
    return add_items(doc, value, [item])


def env_edit(doc, svc, name: str, value: str) -> Edit | None:
    """The edit that sets one variable in the service's own environment (see env_edits)."""
    edits = env_edits(doc, svc, {name: value})
    return edits[0] if edits else None


def env_edits(doc, svc, values: dict[str, str]) -> list[Edit] | None:
    """The edits that set variables in the service's own environment, in the form it is written: a
    mapping entry filled or replaced, a `NAME=value` list item replaced, the new ones added together
    (one insertion, so that several variables never collide at one point), an `environment` mapping
    added when no layer writes one. None when the environment Compose uses is not this mapping's own
    to edit (an anchor, a merge key, an alias, another file, an `extends` base that may write it) or
    a variable is written through an alias."""
    if not values:
        return []
    entry = svc.entry("environment")
    if entry is None:
        if svc.entry("extends") is not None:
            return None
        edit = add_entries(doc, svc.node, {"environment": dict(values)})
        return None if edit is None else [edit]
    if not entry.editable or isinstance(entry.value, Alias):
        return None
    env = deref(entry.value)
    edits: list = []
    new: dict[str, str] = {}
    if isinstance(env, Map):
        for name, value in values.items():
            found = env.entry(name)
            if found is None:
                new[name] = value
                continue
            current = deref(found[1])
            if isinstance(found[1], Alias) or not isinstance(current, Scalar):
                return None
            edits.append(fill_null(doc, found[0], current, value) if current.is_null
                         else replace_scalar(doc, current, value))
        if new:
            edits.append(add_entries(doc, env, new))
    elif isinstance(env, Seq):
        for name, value in values.items():
            item = next((i for i in env.items if isinstance(deref(i), Scalar)
                         and deref(i).value.partition("=")[0].strip() == name), None)
            if item is None:
                new[name] = value
            elif isinstance(item, Alias):
                return None
            else:
                edits.append(replace_scalar(doc, deref(item), f"{name}={value}"))
        if new:
            edits.append(add_items(doc, env, [f"{n}={v}" for n, v in new.items()]))
    else:
        return None
    return None if None in edits else edits


# --------------------------------------------------------------------------- published ports

@dataclass(frozen=True)
class Port:
    node: Node  # the ports item (a scalar in short syntax, a mapping in long syntax), dereferenced
    item: Any  # the item as written (an Alias stays one)
    written: Any  # the layer's `ports` entry (compose.Written) the item belongs to
    label: str  # the mapping as written, for messages
    container: tuple[int, int] | None  # container port range, None when unknown
    scope: str  # "all" interfaces, "loopback", "address" (a specific one), "unknown" (a variable)

    @property
    def here(self) -> bool:
        """Written in the service's own mapping (other layers' ports are judged where they are)."""
        return self.written.here

    @property
    def editable(self) -> bool:
        return self.written.editable and not isinstance(self.item, Alias)

    def has(self, ports) -> int | None:
        """The first of the given ports this mapping publishes, or None."""
        if self.container is None:
            return None
        lo, hi = self.container
        return next((p for p in ports if lo <= p <= hi), None)

    @property
    def exposed(self) -> bool:
        return self.scope in ("all", "address")

    def bind_edit(self, doc, loopback: tuple[str, str], env=None) -> Edit | None:
        """The edit that publishes the port on the loopback addresses (ip4, ip6) instead of every
        interface (as PRT001 writes it); None when it cannot be edited here or needs no change. A host
        part written with a variable (`"${PORT:-8080}:80"`) is prefixed only when the project's env
        files (`env`, an interpolation.ProjectEnv: Context.env; `.env`, or documented examples for
        every variable) show it holds a port number: a value with an address (`PORT=127.0.0.1:8080`)
        would make `127.0.0.1:${PORT}:80` invalid."""
        if not self.editable:
            return None
        host_ip, host_ip6 = loopback
        if isinstance(self.node, Scalar):
            spec = self.node.value.strip()
            host = port_host(spec)[0]
            if has_variable(host):
                shown = env.shown(host) if env is not None else None
                new = f"{host_ip}:{spec}" if shown and all(host_kind(v) == "port" for v in shown) else None
            else:
                new = rebind(spec, host_ip, host_ip6)
            return replace_scalar(doc, self.node, new) if new is not None else None
        ip = self.node.entry("host_ip")
        if ip is None:
            return add_entries(doc, self.node, {"host_ip": host_ip})
        ip_value = deref(ip[1])
        text = ip_value.value if isinstance(ip_value, Scalar) else None
        if text is not None and text.strip() in ANY_ADDRESS and isinstance(ip[1], Scalar):
            return replace_scalar(doc, ip[1], host_ip6 if ":" in text else host_ip)
        return None


def ports(svc) -> tuple[Port, ...]:
    """The ports every layer of the service publishes, in merge order (Compose appends them)."""
    return tuple(port for entry in svc.written("ports") for port in _ports_of(entry))


def _ports_of(entry) -> list[Port]:
    ports = deref(entry.value)
    if not isinstance(ports, Seq):
        return []
    out = []
    for item in ports.items:
        node = deref(item)
        if isinstance(node, Scalar):
            body = node.value.strip().partition("/")[0]
            parts = port_parts(body)
            if len(parts) == 1 and ONLY_VARIABLE.fullmatch(body):
                continue  # the whole mapping is a variable
            if len(parts) >= 3:
                scope = address_scope(":".join(parts[:-2]))
            elif len(parts) == 2 and looks_like_address(parts[0]):
                scope = "unknown"  # a variable that may hold "address:port"; PRT001 leaves it alone
            else:
                scope = "all"
            out.append(Port(node, item, entry, node.value, port_range(parts[-1]), scope))
        elif isinstance(node, Map):
            target = deref(node.get("target"))
            ip = node.entry("host_ip")
            if ip is None:
                scope = "all"
            else:
                ip_value = deref(ip[1])
                text = ip_value.value if isinstance(ip_value, Scalar) else None
                scope = address_scope(text) if text is not None else "unknown"
            published = deref(node.get("published"))
            label = published.value if isinstance(published, Scalar) else "(random)"
            container = port_range(target.value) if isinstance(target, Scalar) else None
            out.append(Port(node, item, entry, label, container, scope))
    return out


# --------------------------------------------------------------------------- mounts

@dataclass(frozen=True)
class Mount:
    """One item of `volumes` that survives Compose's merge by container target."""

    node: Node  # the item, dereferenced: a scalar (short syntax) or a mapping (long syntax)
    item: Any  # the item as written (an Alias stays one)
    written: Any  # the layer's `volumes` entry (compose.Written) the item belongs to
    spec: str | None  # short syntax: the text, stripped; None for long syntax
    parts: tuple[str, ...]  # short syntax: source, target, mode split at ':' (a Windows drive kept whole)
    kind: str | None  # long syntax: `type` as written; None for short syntax or when unreadable
    source: str | None  # as written; None when absent or not a plain scalar
    target: str | None  # as written; None when absent or not a plain scalar
    read_only: bool  # `ro` among the modes, or `read_only: true`
    explicit: bool  # the mode says ro or rw, or a `read_only` key is written

    @property
    def here(self) -> bool:
        return self.written.here

    @property
    def editable(self) -> bool:
        return self.written.editable and not isinstance(self.item, Alias)

    @property
    def windows(self) -> bool:
        return self.spec is not None and is_windows_path(self.spec)

    @property
    def modes(self) -> list[str]:
        return self.parts[2].split(",") if len(self.parts) > 2 else []


def mounts(svc) -> tuple[Mount, ...]:
    out = []
    for entry, item in svc.surviving("volumes"):
        node = deref(item)
        if isinstance(node, Scalar):
            spec = node.value.strip()
            parts = tuple(volume_parts(spec))
            modes = parts[2].split(",") if len(parts) > 2 else []
            source, target = (parts[0], parts[1]) if len(parts) > 1 else (None, parts[0])
            out.append(Mount(node, item, entry, spec, parts, None, source, target, "ro" in modes,
                             "ro" in modes or "rw" in modes))
        elif isinstance(node, Map):
            kind, source, target, flag = (deref(node.get(k)) for k in ("type", "source", "target", "read_only"))
            out.append(Mount(node, item, entry, None, (), _text(kind), _text(source), _text(target),
                             isinstance(flag, Scalar) and flag.value.lower() == "true", flag is not None))
    return tuple(out)


def _text(node) -> str | None:
    return node.value if isinstance(node, Scalar) else None


# --------------------------------------------------------------------------- logging

def _driver(logging) -> str | None:
    """The driver a logging mapping names, None when it names none."""
    driver = deref(logging.get("driver"))
    return driver.value.strip() if isinstance(driver, Scalar) and not driver.is_null else None


def logging(svc):
    """(the logging layers Compose keeps, in merge order, and their driver): Compose merges the options
    of layers that name the same driver (or none), and a layer naming another driver replaces the
    earlier ones whole. The driver is None when some layer is not a mapping."""
    blocks, driver = [], None
    for written in svc.written("logging"):
        block = deref(written.value)
        if not isinstance(block, Map):
            return [written], None
        name = _driver(block)
        if name is not None and driver is not None and name != driver:
            blocks = []
        blocks.append(written)
        driver = name or driver
    return blocks, driver or "json-file"


# --------------------------------------------------------------------------- resource limits

LIMITS = ("deploy", "resources", "limits")
LEGACY_LIMITS = ("mem_limit", "cpus", "cpu_quota", "memswap_limit", "pids_limit")


@dataclass(frozen=True)
class Limits:
    """The service's resource limits as Compose merges them over its layers."""

    memory: Any  # deploy.resources.limits.memory: the Written of the layer that wins, or None
    cpus: Any  # deploy.resources.limits.cpus
    pids: Any  # deploy.resources.limits.pids
    pids_limit: Any  # the service-level pids_limit
    block: Any  # deploy.resources.limits when the layer that wins writes a mapping there, or None
    legacy: frozenset  # the service-level limit keys (LEGACY_LIMITS) some layer writes
    here: Map | None  # this mapping's own deploy.resources.limits (through merge keys), or None
    here_own: bool  # every level on the way to it is written in this mapping, not through an alias
    deploy_addable: bool  # this mapping writes no deploy, or writes its own: limits may be added under it


def limits(svc) -> Limits:
    block = svc.merged(*LIMITS)
    block = block if block is not None and isinstance(deref(block.value), Map) else None
    here, here_own = _own_limits(svc.node)
    return Limits(svc.merged(*LIMITS, "memory"), svc.merged(*LIMITS, "cpus"), svc.merged(*LIMITS, "pids"),
                  svc.merged("pids_limit"), block,
                  frozenset(k for k in LEGACY_LIMITS if svc.entry(k) is not None), here, here_own,
                  merged_entry(svc.node, "deploy") is None or svc.own("deploy"))


def _own_limits(mapping):
    """(deploy.resources.limits of one mapping (through merge keys) or None, whether every level on
    the way is written in the mapping itself)."""
    entry = merged_entry(mapping, "deploy")
    if entry is None:
        return None, True
    own, node = entry[2] and not isinstance(entry[1], Alias), deref(entry[1])
    for key in ("resources", "limits"):
        if not isinstance(node, Map):
            return None, own
        value = node.get(key)
        own = own and not isinstance(value, Alias)
        node = deref(value)
    return (node if isinstance(node, Map) else None), own


# --------------------------------------------------------------------------- restart

@dataclass(frozen=True)
class Restart:
    """How the service is restarted, as Compose merges it over its layers."""

    restart: Any  # the `restart` entry Compose uses (compose.Written), or None
    policies: list  # every layer's deploy.restart_policy that is a mapping, in merge order
    condition: Any  # deploy.restart_policy.condition of the layer that wins, or None
    max_attempts: Any  # deploy.restart_policy.max_attempts of the layer that wins, or None


def restart(svc) -> Restart:
    policies = [w for w in svc.chain("deploy", "restart_policy") if isinstance(deref(w.value), Map)]
    return Restart(svc.entry("restart"), policies, svc.merged("deploy", "restart_policy", "condition"),
                   svc.merged("deploy", "restart_policy", "max_attempts"))


# --------------------------------------------------------------------------- user

ROOT_NAMES = ("root", "0")


@dataclass(frozen=True)
class User:
    """The user the service runs as: the `user` entry Compose uses (the last layer that writes it
    wins), read as `name[:group]`."""

    written: Any  # the `user` entry (compose.Written), or None when no layer sets it
    text: str | None  # its text through an alias; None without a user, for null or a non-scalar
    name: str  # the part before the first ':' outside ${...}, stripped ("" without a text)
    group: str | None  # the part after it, stripped; None when none is written
    uid: int | None  # name as a number (None for a user name, a variable or nothing)
    gid: int | None  # group as a number
    variable: bool  # the text holds a variable: who the service runs as is not known from the file

    @property
    def scalar(self) -> Scalar | None:
        """The value when it is written as a plain scalar (not an alias, not null): what a finding
        points at and an edit replaces."""
        value = self.written.value if self.written is not None else None
        return value if type(value) is Scalar and not value.is_null else None

    @property
    def editable(self) -> bool:
        """The value may be replaced where it is written (see compose.Written.editable)."""
        return self.written is not None and self.written.editable

    @property
    def root(self) -> bool:
        """Written as root: `root`, `0`, `root:<group>` or `0:<gid>` (no variable)."""
        return not self.variable and self.name in ROOT_NAMES


def user(svc) -> User:
    written = svc.entry("user")
    text = scalar_value(written.value) if written is not None else None
    name, *rest = split_outside(text or "", ":")  # a ':' inside ${...} does not separate
    name, group = name.strip(), (":".join(rest).strip() if rest else None)
    return User(written, text, name, group, _number(name), _number(group), text is not None and has_variable(text))


def _number(text: str | None) -> int | None:
    return int(text) if text and text.isascii() and text.isdigit() else None


# --------------------------------------------------------------------------- networks

@dataclass(frozen=True)
class Networks:
    """The networks the service is on."""

    mode: Any  # the `network_mode` entry Compose uses (compose.Written), or None
    networks: Any  # the `networks` entry Compose uses, or None
    names: frozenset  # the networks it names (list items or mapping keys)
    implicit: bool  # no networks, no network_mode and no extends: it sits on the project's default network


def networks(svc) -> Networks:
    entry = svc.entry("networks")
    value = deref(entry.value) if entry is not None else None
    if isinstance(value, Map):
        names = frozenset(k.value for k, _ in value.pairs if isinstance(k, Scalar))
    else:
        names = frozenset(i.value for i in _items(value) if isinstance(i, Scalar))
    mode = svc.entry("network_mode")
    return Networks(mode, entry, names, entry is None and mode is None and svc.entry("extends") is None)


def _items(node) -> list:
    return [deref(i) for i in node.items] if isinstance(node, Seq) else []
