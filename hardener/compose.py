"""A read-only view of a compose document for the rules: services, merged keys, scalar values."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Mapping

from .yamltext import Document, Map, Scalar, Seq, deref, merged_entry, merged_keys, scalar_value

VARIABLE = re.compile(r"\$\{[^}]*\}|\$[A-Za-z_][A-Za-z0-9_]*")


def has_variable(text: str) -> bool:
    return bool(VARIABLE.search(text.replace("$$", "")))


@dataclass(frozen=True)
class Service:
    name: str
    key: Scalar  # the service's name as written
    node: Map  # its mapping (through an alias when the whole service is one)
    shared: bool  # the whole mapping is an alias of another: edits would reach both

    def entry(self, key: str):
        """(key node, value node, own) following merge keys; value not dereferenced."""
        return merged_entry(self.node, key)

    def get(self, key: str):
        e = merged_entry(self.node, key)
        return deref(e[1]) if e else None

    def own(self, key: str) -> bool:
        return self.node.entry(key) is not None

    def value(self, key: str) -> str | None:
        e = merged_entry(self.node, key)
        return scalar_value(e[1]) if e else None

    def keys(self) -> list[str]:
        return merged_keys(self.node)

    def image(self) -> str:
        return (self.value("image") or "").lower()

    def profile(self):
        """The shipped knowledge about this service's image, or None for an unknown image."""
        from .images import profile

        return profile(self.image_name())

    def image_name(self) -> str:
        """The image's repository name without registry, tag or digest: 'bitnami/postgresql'."""
        image = self.image().split("@")[0]
        last = image.rsplit("/", 1)
        if ":" in last[-1]:
            image = image.rsplit(":", 1)[0]
        parts = image.split("/")
        if len(parts) > 1 and ("." in parts[0] or ":" in parts[0] or parts[0] == "localhost"):
            parts = parts[1:]
        if parts and parts[0] == "library":
            parts = parts[1:]
        return "/".join(parts)


@dataclass(frozen=True)
class Context:
    """What a rule sees: the parsed document, its services and the rule's options (read-only)."""

    doc: Document
    services: tuple[Service, ...]
    options: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    @classmethod
    def of(cls, doc: Document, options: Mapping[str, Any] | None = None) -> "Context":
        return cls(doc, tuple(iter_services(doc)), MappingProxyType(dict(options or {})))

    def top(self, key: str):
        if self.doc.root is None:
            return None
        return deref(self.doc.root.get(key))


def iter_services(doc: Document):
    if doc.root is None:
        return
    services = deref(doc.root.get("services"))
    if not isinstance(services, Map):
        return
    for key, value in services.pairs:
        node = deref(value)
        if isinstance(key, Scalar) and isinstance(node, Map) and node.tag != "!reset":
            yield Service(key.value, key, node, node is not value)


def seq_items(node) -> list:
    """Items of a sequence node (dereferenced), or [] for anything else."""
    node = deref(node)
    return [deref(i) for i in node.items] if isinstance(node, Seq) else []


def as_str_list(node) -> list[str]:
    return [i.value for i in seq_items(node) if isinstance(i, Scalar)]
