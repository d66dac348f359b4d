"""Parsed views of a service's settings for the rules: the environment as Compose merges it, the
ports a layer publishes (with the edit that binds each to loopback), list settings with their
flagged items. Built from `compose.Service` and cached on it for one pass.
"""
from __future__ import annotations

from dataclasses import dataclass

from .syntax import (ANY_ADDRESS, ONLY_VARIABLE, address_scope, boolean_word, has_variable, looks_like_address,
                     port_parts, port_range, rebind, resolve)
from .yamltext import (Alias, Edit, Map, Node, Scalar, Seq, add_entries, deref, merged_entry, merged_keys,
                       remove_item, replace_scalar)


def boolean(node) -> bool | None:
    """True or False for a scalar Compose reads as a boolean; None for anything else (null, a
    variable, a number, a mapping...)."""
    node = deref(node)
    if not isinstance(node, Scalar) or node.is_null:
        return None
    return boolean_word(node.value)


def texts(node):
    """Every scalar text in a node, keys of mappings included (dereferenced, depth first)."""
    node = deref(node)
    if isinstance(node, Scalar):
        yield node.value
    elif isinstance(node, Seq):
        for item in node.items:
            yield from texts(item)
    elif isinstance(node, Map):
        for k, v in node.pairs:
            if isinstance(k, Scalar):
                yield k.value
            yield from texts(v)


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
    if "environment" not in svc.cache:  # several rules read it: built once per pass
        out: dict[str, EnvVar] = {}
        for entry in svc.written("environment"):
            out.update(_variables(deref(entry.value)))
        svc.cache["environment"] = out
    return svc.cache["environment"]


def _variables(env) -> dict[str, EnvVar]:
    """The variables one layer's environment (a mapping or a list) writes."""
    out: dict[str, EnvVar] = {}
    if isinstance(env, Map):
        for name in merged_keys(env):
            found = merged_entry(env, name)
            value = deref(found[1]) if found else None
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


# --------------------------------------------------------------------------- published ports

@dataclass(frozen=True)
class Port:
    node: Node  # the ports item (a scalar in short syntax, a mapping in long syntax)
    label: str  # the mapping as written, for messages
    container: tuple[int, int] | None  # container port range, None when unknown
    scope: str  # "all" interfaces, "loopback", "address" (a specific one), "unknown" (a variable)
    edit: Edit | None  # the edit binding it to loopback (as PRT001 writes it), None when it cannot

    def has(self, ports) -> int | None:
        """The first of the given ports this mapping publishes, or None."""
        if self.container is None:
            return None
        lo, hi = self.container
        return next((p for p in ports if lo <= p <= hi), None)

    @property
    def exposed(self) -> bool:
        return self.scope in ("all", "address")


def published_ports(doc, svc, loopback: tuple[str, str], everywhere: bool = False) -> list[Port]:
    """The ports this service's mapping publishes (Compose appends the other files' and bases' ports,
    which are judged where they are written), or with everywhere=True the ports of every layer, with
    their exposure and the edit binding them to the loopback addresses (ip4, ip6) (only for ports this
    mapping writes itself)."""
    key = ("published_ports", everywhere, loopback)  # several rules read them: parsed once per pass
    if key not in svc.cache:
        entries = svc.written("ports") if everywhere else [e for e in [svc.written_here("ports")] if e]
        svc.cache[key] = [port for entry in entries for port in _ports_of(doc, svc, entry, loopback)]
    return svc.cache[key]


def _ports_of(doc, svc, entry, loopback) -> list[Port]:
    editable = entry.own and not svc.shared and not isinstance(entry.value, Alias)
    ports = deref(entry.value)
    if not isinstance(ports, Seq):
        return []
    host_ip, host_ip6 = loopback
    out = []
    for item in ports.items:
        node = deref(item)
        fixable = editable and not isinstance(item, Alias)
        if isinstance(node, Scalar):
            spec = node.value.strip()
            body = spec.partition("/")[0]
            parts = port_parts(body)
            if len(parts) == 1 and ONLY_VARIABLE.fullmatch(body):
                continue  # the whole mapping is a variable
            if len(parts) >= 3:
                scope = address_scope(":".join(parts[:-2]))
            elif len(parts) == 2 and looks_like_address(parts[0]):
                scope = "unknown"  # a variable that may hold "address:port"; PRT001 leaves it alone
            else:
                scope = "all"
            new = rebind(spec, host_ip, host_ip6) if fixable else None
            edit = replace_scalar(doc, node, new) if new is not None else None
            out.append(Port(node, node.value, port_range(parts[-1]), scope, edit))
        elif isinstance(node, Map):
            target = deref(node.get("target"))
            ip = node.entry("host_ip")
            if ip is None:
                scope = "all"
                edit = add_entries(doc, node, {"host_ip": host_ip}) if fixable else None
            else:
                ip_value = deref(ip[1])
                text = ip_value.value if isinstance(ip_value, Scalar) else None
                scope = address_scope(text) if text is not None else "unknown"
                edit = None
                if fixable and text is not None and text.strip() in ANY_ADDRESS and isinstance(ip[1], Scalar):
                    edit = replace_scalar(doc, ip[1], host_ip6 if ":" in text else host_ip)
            published = deref(node.get("published"))
            label = published.value if isinstance(published, Scalar) else "(random)"
            container = port_range(target.value) if isinstance(target, Scalar) else None
            out.append(Port(node, label, container, scope, edit))
    return out
