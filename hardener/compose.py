"""A read-only view of a compose document for the rules: services, merged keys, scalar values."""
from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field, replace
from functools import cached_property
from types import MappingProxyType
from typing import Any, Mapping, NamedTuple

from . import knowledge, views
from .interpolation import NO_ENV, ProjectEnv
from .syntax import has_variable, image_tag, repository_name, split_outside, volume_parts
from .yamltext import Alias, Document, Map, Scalar, Seq, deref, merged_entry, merged_keys, scalar_value

__all__ = ["Context", "Project", "Service", "Written", "has_variable", "repository_name"]


def is_extension(path) -> bool:
    """Whether a document path lies in a top-level `x-` extension block."""
    return bool(path) and isinstance(path[0], str) and path[0].startswith("x-")


_UNSET = object()  # a cached answer not asked yet (None is an answer)


@dataclass(frozen=True, slots=True)  # slots: a big file has thousands of services in each pass
class Service:
    name: str
    key: Scalar  # the service's name as written
    node: Map  # its mapping (through an alias when the whole service is one)
    shared: bool  # the whole mapping is an alias of another: edits would reach both
    # the same service in other files of the project: `later` override this file (last wins),
    # `earlier` are overridden by it (earlier -f files, an `extends` base)
    later: tuple = ()
    earlier: tuple = ()
    earlier_files: tuple = ()  # the part of `earlier` that comes from earlier files of the project

    fragment_file: bool = False  # the file is an override fragment (its name says so)
    # ids of the layers in files the user marked read-only (`read-only`, --read-only): read, never written
    locked: frozenset = frozenset()
    # image profiles measured for this run (Settings.profiles), asked by profile() and facts()
    measured: Mapping = field(default_factory=lambda: MappingProxyType({}), compare=False, hash=False, repr=False)
    # the parsed views several rules read, built once per Service (a Context lives for one pass);
    # filled only by the view methods below, never by a rule
    _views: dict = field(default_factory=dict, compare=False, hash=False, repr=False)
    # entry() answers by key text: each of the 24 rules asks the same keys (a big file asks 250,000 times)
    _entries: dict = field(default_factory=dict, compare=False, hash=False, repr=False)
    # what the mappings merged with "<<" give, by the merged mappings (shared by the services of a pass:
    # on a big file thousands of services merge the same few anchors)
    _inherited: dict = field(default_factory=dict, compare=False, hash=False, repr=False)
    # layers, _indexes and _winners, computed on the first ask (see _memo)
    _memo_layers: Any = field(default=None, init=False, compare=False, hash=False, repr=False)
    _memo_indexes: Any = field(default=None, init=False, compare=False, hash=False, repr=False)
    _memo_winners: Any = field(default=None, init=False, compare=False, hash=False, repr=False)

    @property
    def partial(self) -> bool:
        """Settings it lacks are reported in another layer, not here: in the first layer hardener may
        write. So this mapping is partial when it is read-only and another file of the project is not;
        when an earlier file that may be written defines the service; or when this is an override file
        over no read-only layer and the service gives no image, build or extends of its own. (A service
        without an image in an ordinary file is an `extends` base: it is hardened where it is written.)"""
        if not self.writable(self.node):
            return any(map(self.writable, (*self.earlier_files, *self.later)))
        if any(map(self.writable, self.earlier_files)):
            return True
        here = any(merged_entry(self.node, k) for k in ("image", "build", "extends"))
        return self.fragment_file and not here and all(map(self.writable, self.earlier))

    def writable(self, layer) -> bool:
        """Whether hardener may edit this layer: its file is not marked read-only."""
        return id(layer) not in self.locked

    def override_layer(self, locked) -> "Map | None":
        """Where an own entry overrides what the read-only layer `locked` writes: the last writable
        layer Compose merges after it (a later scalar wins, mappings merge key by key, lists such as
        cap_drop are appended). None when `locked` may be written itself or no writable layer follows."""
        if self.writable(locked):
            return None
        found, after = None, False
        for layer in self.layers:
            if after and self.writable(layer):
                found = layer
            after = after or layer is locked
        return found

    def overrides(self, written: "Written | None") -> bool:
        """Whether this mapping is where hardener overrides an entry written in a read-only layer."""
        return written is not None and not self.shared and self.override_layer(written.layer) is self.node

    def locked_value(self, key: str) -> "Written | None":
        """The winning entry of a setting whose last value a read-only layer writes, when this mapping
        is where it is overridden (see override_layer); None otherwise."""
        won = self.merged(key)
        return won if self.overrides(won) else None

    @property
    def builds_on(self) -> bool:
        """Whether an earlier layer that may be written (an `extends` base, an earlier file) defines
        the service: a setting no layer has is then reported and fixed there, not here."""
        return any(map(self.writable, self.earlier))

    def entry(self, key: str) -> "Written | None":
        """The entry whose value Compose uses for a key, with its precedence: a later file of the
        project, then this mapping (through merge keys), then an earlier file or `extends` base.
        `own` is True only for a value written in this mapping itself; values are not dereferenced.
        (Its first three fields read as (key node, value node, own).)"""
        found = self._entries.get(key)
        if found is None:  # only written keys are kept: most keys asked are written nowhere
            winner = self._winners.get(key)
            if winner is None:
                return None
            found = self._entries[key] = self._written(*winner)
        return found

    @property
    def _winners(self):
        """Key text -> the arguments of _written for the entry Compose uses (see entry), for every key
        some layer writes: most keys the rules ask are written nowhere, and are answered by one miss.
        A service with one layer (nearly all) asks its mapping's index instead of holding a copy."""
        found = self._memo_winners
        if found is None:
            found = self._memo("_memo_winners", self._find_winners())
        return found

    def _memo(self, slot: str, value):
        """Keep a value computed on the first ask in its slot (the dataclass is frozen for the rules)."""
        object.__setattr__(self, slot, value)
        return value

    def _find_winners(self):
        if len(self.layers) == 1:
            return _OneLayer(self.node, self._indexes[0])
        out: dict = {}
        here = len(self.earlier)  # where this mapping is among the layers
        # the first layer that writes a key wins: later files (the last first), this mapping, then
        # earlier files and bases (the last first)
        for at in (*range(len(self.layers) - 1, here, -1), here, *range(here - 1, -1, -1)):
            layer = self.layers[at]
            for key, found in self._indexes[at].items():
                if key not in out:
                    out[key] = (layer, layer, found, found[2] and at == here)
        return out

    @property
    def layers(self) -> tuple:
        """Every mapping that defines this service, in Compose's merge order (the first is overridden
        by all the others): `extends` bases and earlier files, this mapping, later files."""
        found = self._memo_layers
        if found is None:
            found = self._memo("_memo_layers", (*self.earlier, self.node, *self.later))
        return found

    @property
    def _indexes(self) -> tuple:
        """For each of `layers`: key text -> merged_entry's answer (key node, value node, own). Built
        once: the rules ask each layer for dozens of keys, most of them absent, and every miss in a
        mapping with a merge key used to look through the merged mappings again. A layer without a
        merge key is answered by its own index (see _OwnEntries): no dict of its entries per service."""
        found = self._memo_indexes
        if found is None:
            found = self._memo("_memo_indexes", tuple(
                _OwnEntries(layer) if layer.get("<<") is None else _MergedEntries(layer, self._inherited)
                for layer in self.layers))
        return found

    def written(self, key: str) -> list["Written"]:
        """Each layer's own entry for a key whose values Compose merges across layers (lists such as
        ports, cap_drop, security_opt, volumes; mappings such as environment, logging), in merge order.
        A later `!override` drops what earlier layers wrote, a `!reset` drops it and itself. (A new
        list at each call; the entries are read once per key.)"""
        if key not in self._winners:
            return []  # no layer writes it (most keys asked of most services)
        if len(self.layers) == 1:  # the entry itself (one Written per key, not two), unless reset
            found = self.entry(key)
            return [] if _tag(found[1]) == "!reset" else [found]
        found = self._views.get(("written", key))
        if found is None:
            found = self._views[("written", key)] = tuple(self._written_layers(key))
        return list(found)

    def _written_layers(self, key: str) -> list["Written"]:
        out = []
        for layer, index in zip(self.layers, self._indexes):
            found = index.get(key)
            if found is None:
                continue
            tag = _tag(found[1])
            if tag in _DROPPING:
                out = []
                if tag == "!reset":
                    continue
            out.append(self._written(layer, layer, found, found[2]))
        return out

    def written_here(self, key: str) -> "Written | None":
        """The part of a merged key this service's mapping contributes (None when it writes none, or a
        later layer resets it)."""
        for written in self.written(key):
            if written.here:
                return written
        return None

    def merged(self, *path: str) -> "Written | None":
        """A leaf of mappings Compose merges key by key across layers (deploy.resources.limits.memory,
        logging.options.max-size): the entry of the last layer that writes the whole path. `own` is
        True only when every level is written in this mapping itself, so the leaf can be edited there."""
        if path[0] not in self._winners:
            return None  # no layer writes its first level
        chain = self.chain(*path)
        return chain[-1] if chain else None

    def chain(self, *path: str) -> list["Written"]:
        """Every layer's entry for a path of mappings Compose merges key by key, in merge order: the
        first is where the value is first written, the last is the one that wins. A `!reset` or
        `!override` on the way drops what earlier layers wrote below it."""
        if path[0] not in self._winners:
            return []
        out = []
        last = len(path) - 1
        for layer, index in zip(self.layers, self._indexes):
            node, own = layer, True
            for depth, key in enumerate(path):
                # the layer's own level from its index; deeper mappings (rarely merged) asked directly
                found = index.get(key) if depth == 0 else merged_entry(node, key) if type(node) is Map else None
                if found is None:
                    break
                value = found[1]
                target = value.target if type(value) is Alias else value
                tag = target.tag
                if tag in _DROPPING:
                    out = []  # what earlier layers wrote below this level is gone
                    if tag == "!reset":
                        break
                own = own and found[2] and (depth == last or type(value) is not Alias)
                if depth == last:
                    out.append(self._written(layer, node, found, own))
                node = target
        return out

    def surviving(self, key: str) -> list[tuple["Written", Any]]:
        """(layer's entry, item as written) for each item of `volumes` or `devices` that survives
        Compose's merge: a later layer's item at the same container target replaces an earlier one.
        Items whose target cannot be read (a variable) are kept. Cached: several rules ask."""
        found = self._views.get(("surviving", key))
        return found if found is not None else self._view(
            ("surviving", key), lambda: _surviving(self.written(key), _TARGETS[key]))

    def _written(self, layer, parent, found, own) -> "Written":
        here = layer is self.node
        own = here and own
        # the one place that decides whether a rule may edit a value where it is written
        mine = own and not self.shared and self.writable(layer)
        value = found[1]
        editable = mine and not isinstance(value, Alias)
        removable = mine and (isinstance(value, Alias) or not getattr(value, "anchor", None))
        # tuple.__new__ itself: a NamedTuple's own __new__ is a Python function, one more call for each
        # of the 50,000 entries a big file's rules read
        return _new_tuple(Written, (found[0], value, own, here, parent, layer, editable, removable))

    def _view(self, key, build):
        """The view cached under key, built by build() on the first ask. (The view methods look in the
        cache themselves first: each rule asks for them, 100,000 times on a big file.)"""
        views = self._views
        if key not in views:
            views[key] = build()
        return views[key]

    # ----------------------------------------------------------------------- parsed views
    # Settings read as Compose merges them, each item with where it is written and whether it may be
    # edited there (see views.py). Built once per pass.

    def environment(self) -> "dict[str, views.EnvVar]":
        """The environment as Compose merges it over every layer, variable by variable."""
        found = self._views.get("environment")
        return found if found is not None else self._view("environment", lambda: views.environment(self))

    def ports(self) -> "tuple[views.Port, ...]":
        """Every layer's published ports, in merge order (`Port.here`: written in this mapping)."""
        found = self._views.get("ports")
        return found if found is not None else self._view("ports", lambda: views.ports(self))

    def mounts(self) -> "tuple[views.Mount, ...]":
        """The volumes that survive Compose's merge by container target, parsed."""
        found = self._views.get("mounts")
        return found if found is not None else self._view("mounts", lambda: views.mounts(self))

    def capabilities(self, key: str) -> frozenset[str]:
        """The capabilities every layer's `cap_add` or `cap_drop` names (Compose appends the lists), as
        Docker reads them: upper case, without CAP_."""
        found = self._views.get(("capabilities", key))
        return found if found is not None else self._view(("capabilities", key), lambda: frozenset(
            c.upper().removeprefix("CAP_") for e in self.written(key) for c in as_str_list(e.value)))

    def limits(self) -> "views.Limits":
        """Memory, CPU and process limits as Compose merges them (deploy limits and legacy keys)."""
        found = self._views.get("limits")
        return found if found is not None else self._view("limits", lambda: views.limits(self))

    def restart(self) -> "views.Restart":
        """The restart setting and the merged deploy.restart_policy."""
        found = self._views.get("restart")
        return found if found is not None else self._view("restart", lambda: views.restart(self))

    def networks(self) -> "views.Networks":
        """The networks the service is on, and whether it sits on the implicit default network."""
        found = self._views.get("networks")
        return found if found is not None else self._view("networks", lambda: views.networks(self))

    def user(self) -> "views.User":
        """The user it runs as (the entry Compose uses), with name, group, uid and gid read."""
        found = self._views.get("user")
        return found if found is not None else self._view("user", lambda: views.user(self))

    def logging(self) -> "tuple[list[Written], str | None]":
        """(the logging layers Compose keeps, their driver); see views.logging."""
        found = self._views.get("logging")
        return found if found is not None else self._view("logging", lambda: views.logging(self))

    def get(self, key: str):
        e = self._entries.get(key) or self.entry(key)  # no second call for an entry asked before
        return deref(e[1]) if e else None

    def own(self, key: str) -> bool:
        return self.node.entry(key) is not None

    def value(self, key: str) -> str | None:
        e = self._entries.get(key) or self.entry(key)
        return scalar_value(e[1]) if e else None

    def keys(self) -> list[str]:
        out = merged_keys(self.node)
        for other in (*self.later, *self.earlier):
            out += [k for k in merged_keys(other) if k not in out]
        return out

    # The image and what is known about it are asked by most rules, several times each: answered once
    # per Service (the image entry and the measured profiles do not change during a pass).

    def image(self) -> str:
        found = self._views.get(_IMAGE, _UNSET)
        if found is _UNSET:
            found = self._views[_IMAGE] = (self.value("image") or "").lower()
        return found

    def profile(self):
        """The full hardening profile of this service's image (measured for this run, else shipped), or
        None for an image hardener knows too little about (images.profile)."""
        found = self.facts()
        return found if found is not None and found.complete else None

    def facts(self):
        """Everything known about this service's image (measured for this run, else shipped), or None."""
        found = self._views.get(_FACTS, _UNSET)
        if found is _UNSET:
            from .images import facts

            found = self._views[_FACTS] = facts(self.image_name(), self.measured)
        return found

    def image_name(self) -> str:
        """The image's repository name without registry, tag or digest: 'bitnami/postgresql'. A ':' or
        '/' inside ${...} (`postgres:${PG_VERSION:-16}`) is not a separator."""
        found = self._views.get(_IMAGE_NAME, _UNSET)
        if found is _UNSET:
            found = self._views[_IMAGE_NAME] = repository_name(self.image())
        return found

    def image_tag(self) -> str | None:
        """The image's tag as written ('' when there is none), or None without an image."""
        image = self.value("image")
        return None if image is None else image_tag(image)

    def datastore_kind(self) -> str | None:
        """Which datastore or broker the image is (a key of knowledge.DATASTORES), or None."""
        found = self._views.get(_DATASTORE, _UNSET)
        if found is _UNSET:
            found = self._views[_DATASTORE] = knowledge.datastore_kind(self.image_name())
        return found

    def last_value(self, key: str):
        """(entry, here) for a setting whose last definition wins: Compose's effective entry (None when
        no layer sets it) and whether that entry is the one written in this mapping."""
        entry = self._entries.get(key) or self.entry(key)
        local = self._indexes[len(self.earlier)].get(key)  # merged_entry(self.node, key)
        return entry, entry is not None and local is not None and local[1] is entry[1]


# keys of Service._views for the image's answers (objects: never equal to a view's name)
_IMAGE, _IMAGE_NAME, _FACTS, _DATASTORE = object(), object(), object(), object()


class Written(NamedTuple):
    """One layer's entry for a key: where it is written and whether this service may edit it there."""

    key: Scalar
    value: Any  # as written: an Alias stays an Alias
    own: bool  # written in this service's mapping itself (not through a merge key): editable here
    here: bool  # written in this service's mapping, directly or through a merge key
    parent: Map  # the mapping the key was looked up in (where an own overriding key would go)
    layer: Any = None  # the service's mapping in the layer that writes it (see Service.layers)
    # own, not an alias, the service is not an alias of another, and the layer's file may be written:
    # the value may be changed in place here (items of a list may still be aliases)
    editable: bool = False
    # own, the service is not an alias, the layer's file may be written, and the value is no anchor
    # other nodes refer to: the whole entry may be removed (or the key given a new value) here
    removable: bool = False


_new_tuple = tuple.__new__


def _surviving(entries: list[Written], target_of) -> list[tuple[Written, Any]]:
    """The items of the layers' lists whose target no later layer mounts again, in merge order."""
    if len(entries) == 1:  # one layer (the usual service): no later layer replaces any of its items
        return [(entries[0], item) for item in _raw_items(entries[0].value)]
    taken: set = set()
    kept = []
    for entry in reversed(entries):
        items = [(item, target_of(deref(item))) for item in _raw_items(entry.value)]
        kept.append([(entry, item) for item, target in items if target is None or target not in taken])
        taken.update(target for _, target in items if target is not None)
    return [pair for layer in reversed(kept) for pair in layer]


def _raw_items(node) -> list:
    node = deref(node)
    return list(node.items) if isinstance(node, Seq) else []


def volume_target(node) -> str | None:
    """The container path a volume item mounts on, as Compose compares them when it merges layers:
    short syntax (`src:dst:mode`, or `dst` alone) cleaned like Go's path.Clean, long syntax `target`
    as written. None when unreadable or it holds a variable."""
    if isinstance(node, Scalar) and not node.is_null:
        parts = volume_parts(node.value.strip())
        target = parts[1] if len(parts) > 1 else parts[0]
        if has_variable(target) or not target.startswith("/"):
            return None
        if "//" not in target and "/." not in target and not target.endswith("/"):
            return target  # nothing for normpath to clean (the usual target): it would return it as is
        return posixpath.normpath(_SLASHES.sub("/", target))
    return _long_target(node)


def device_target(node) -> str | None:
    """The container path a device item maps to, as written (Compose does not clean it): `src`,
    `src:dst` or `src:dst:perms`, or a long-syntax `target`. None when unreadable or variable."""
    if isinstance(node, Scalar) and not node.is_null:
        parts = split_outside(node.value.strip(), ":")
        # `src:rwm` gives permissions, not a target
        target = parts[1] if len(parts) > 1 and not _PERMISSIONS.fullmatch(parts[1]) else parts[0]
        return None if has_variable(target) else target
    return _long_target(node)


def _long_target(node) -> str | None:
    if not isinstance(node, Map):
        return None
    target = deref(node.get("target"))
    if not isinstance(target, Scalar) or target.is_null or has_variable(target.value):
        return None
    return target.value


_PERMISSIONS = re.compile(r"[rwm]{1,3}")
_SLASHES = re.compile(r"/+")
_TARGETS = {"volumes": volume_target, "devices": device_target}


def _tag(node):
    return getattr(deref(node), "tag", None)


_DROPPING = ("!reset", "!override")  # tags that drop what earlier layers wrote (!reset drops itself too)


class _OwnEntries:
    """merged_index() of a mapping without a merge key, answered by the mapping's own index on each
    ask: a big file's services would otherwise each hold a second dict of (key, value, own) tuples
    for the whole run of the rules."""

    __slots__ = ("mapping",)

    def __init__(self, mapping: Map):
        self.mapping = mapping

    def get(self, key: str):
        found = self.mapping.entry(key)
        return None if found is None else (found[0], found[1], True)

    def __contains__(self, key: str) -> bool:
        return self.mapping.entry(key) is not None

    def items(self):
        return [(k.value, (k, v, True)) for k, v in self.mapping.pairs if type(k) is Scalar]


class _MergedEntries(_OwnEntries):
    """merged_index() of a mapping with a merge key: its own entries asked in place, the merged ones
    from one dict per set of merged mappings, shared (`memo`) by every service that merges them."""

    __slots__ = ("inherited",)

    def __init__(self, mapping: Map, memo: dict):
        super().__init__(mapping)
        sources = tuple(_merge_source_nodes(mapping))
        key = tuple(map(id, sources))  # valid ids: the memo lives as long as the services and their trees
        found = memo.get(key)
        if found is None:
            found = memo[key] = _inherited_entries(sources)
        self.inherited = found

    def get(self, key: str):
        found = self.mapping.entry(key)
        return self.inherited.get(key) if found is None else (found[0], found[1], True)

    def __contains__(self, key: str) -> bool:
        return self.mapping.entry(key) is not None or key in self.inherited

    def items(self):
        out = dict(self.inherited)
        out.update(super().items())
        return list(out.items())


class _OneLayer:
    """Service._winners of a service defined by one mapping: its entries, asked on each lookup."""

    __slots__ = ("layer", "index")

    def __init__(self, layer: Map, index):
        self.layer, self.index = layer, index

    def get(self, key: str):
        found = self.index.get(key)
        return None if found is None else (self.layer, self.layer, found, found[2])

    def __contains__(self, key: str) -> bool:
        return key in self.index


def merged_index(mapping: Map) -> dict:
    """Key text -> merged_entry(mapping, key) for every key merged_entry finds (the mapping's own keys,
    `<<` included, then those its merge sources give, the first source first), in one dict."""
    own = {k.value: (k, v, True) for k, v in mapping.pairs if type(k) is Scalar}
    if "<<" not in own:
        return own
    out = _inherited_entries(_merge_source_nodes(mapping))
    out.update(own)
    return out


def _inherited_entries(sources) -> dict:
    """Key text -> (key node, value node, False) for what the merged mappings give (the first wins)."""
    out: dict = {}
    for source in reversed(sources):  # the first source wins: written last
        if type(source) is Map:
            out.update({key: (k, v, False) for key, (k, v, _) in merged_index(source).items()})
    return out


@dataclass(frozen=True)
class Context:
    """What a rule sees: the parsed document, its services and the rule's options (read-only)."""

    doc: Document
    services: tuple[Service, ...]
    options: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    silenced: Mapping[str, frozenset] = field(default_factory=lambda: MappingProxyType({}))  # rule id -> services
    foreign: frozenset = frozenset()  # ids of the nodes of the project's other files
    project: "Project | None" = None  # the files read with this one, for findings about the whole project
    # the variables Compose interpolates the project with, as far as its env files show them
    # (interpolation.ProjectEnv: `.env` or --env-file, documented examples); compared, never printed
    env: ProjectEnv = NO_ENV
    profiles: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))  # Settings.profiles

    @classmethod
    def of(cls, doc: Document, options: Mapping[str, Any] | None = None, silenced=None,
           project: "Project | None" = None, env: ProjectEnv | None = None,
           profiles: Mapping[str, Any] | None = None) -> "Context":
        profiles = MappingProxyType(dict(profiles or {}))
        services = tuple(iter_services(doc, project, profiles))
        foreign = frozenset()
        if project is not None and len(project.docs) > 1:
            foreign = frozenset(id(n) for i, d in enumerate(project.docs) if i != project.index
                                for n in _all_nodes(d.root))
        return cls(doc, services, MappingProxyType(dict(options or {})), MappingProxyType(dict(silenced or {})),
                   foreign, project, env or NO_ENV, profiles)

    def earlier_files(self) -> list[tuple["Service", ...]]:
        """The services of each of the project's earlier files (merge order), seen as in that file."""
        if self.project is None:
            return []
        return [tuple(iter_services(d, replace(self.project, index=i), self.profiles))
                for i, d in enumerate(self.project.docs[:self.project.index])]

    @cached_property
    def _alias_free_names(self) -> frozenset | None:
        """The services' names when the document has no alias (then no node is shared), else None."""
        return None if "*" in self.doc.text else frozenset(svc.name for svc in self.services)

    @cached_property
    def _reach_index(self) -> "_ReachIndex":
        """Built on first use and kept with this Context (one pass over one document)."""
        return _ReachIndex(self.services)

    def anchor_editable(self, rule_id: str, key: str, value) -> bool:
        """Whether a value written once in an anchor may be changed there: no service that inherits it
        has this rule silenced (it would be edited through the anchor)."""
        if is_extension(getattr(value, "path", ())):
            return False  # x- blocks are read, never rewritten
        quiet = self.silenced.get(rule_id, frozenset())
        return not any(h.name in quiet for h in self.inheritors(key, value))

    def inheritors(self, key: str, value) -> list[Service]:
        """Services whose effective `key` is this very node (written once, shared through an anchor)."""
        out = []
        for svc in self.services:
            entry = svc.entry(key)
            if entry is not None and entry[1] is value:
                out.append(svc)
        return out

    def release_views(self) -> None:
        """Let the services forget the views they built (each is built again when next asked): after
        each rule of a fix pass, so that the views of every service are not all alive at once."""
        for svc in self.services:
            svc._views.clear()

    def reach(self, paths) -> set[str]:
        """Names of the services whose effective configuration an edit at these document paths changes:
        the service the path is written in, or every service that uses the anchored block it is in,
        except one that writes the edited key itself (its own value hides the anchor's)."""
        if self._alias_free_names is not None:  # no shared node: a path reaches the service it is in
            return {p[1] for p in paths if len(p) > 1 and p[0] == "services" and p[1] in self._alias_free_names}
        index = self._reach_index
        used = index.used
        hit = set()
        for path in paths:
            for n in range(1, min(len(path), index.depth) + 1):  # no node is used deeper than depth
                for names, hidden in used.get(tuple(path[:n]), ()):
                    if n == len(path) or path[n] not in hidden:
                        hit.update(names)
        return hit

    def top(self, key: str):
        if self.doc.root is None:
            return None
        return deref(self.doc.root.get(key))


class _ReachIndex:
    """Which services use which nodes, for Context.reach. A service uses its own mapping and, through
    aliases and merge keys, nodes written elsewhere (anchors, merge sources, another service's mapping).
    The walk from such a node is the same for every service that comes to it (from x-common with the
    same keys hidden), so it is walked once and its users are listed with it: a file of 4,000 services
    merging one anchor walks the anchor once, not 4,000 times.

    used: document path -> [({names of the services using the node there}, keys of that node they do
    not take from it)]. A service's own mapping is listed with nothing hidden (every path under it
    reaches the service); a node reached from an entry point (where a walk from a service's mapping
    first arrives outside it, with the keys hidden there) is listed with the set of the entry point's
    users, one set object shared by every node the entry point reaches."""

    def __init__(self, services):
        self.used: dict = {}
        own: dict = {}  # path of a service's mapping -> {names} (several when a service is an alias of another)
        users: dict = {}  # (id(node), hidden) of an entry point -> {names}
        for svc in services:
            for node, hidden in _entry_points(svc.node):
                names = users.get((id(node), hidden))
                if names is None:
                    names = users[(id(node), hidden)] = set()
                    for path, below in _uses(node, hidden):
                        self.used.setdefault(path, []).append((names, below))
                names.add(svc.name)
            own.setdefault(deref(svc.node).path, set()).add(svc.name)
        for path, names in own.items():
            self.used.setdefault(path, []).append((names, _NO_KEYS))
        self.depth = max(map(len, self.used), default=0)  # the longest path listed


def _entry_points(root) -> list:
    """(node, hidden keys) where a walk from a service's own mapping through its values, aliases and
    merge keys first leaves the mapping (nodes whose path is not under it)."""
    own = deref(root).path
    depth = len(own)
    out, todo = [], [(root, _NO_KEYS)]
    for node, hidden in _each_once(todo):
        if node.path[:depth] != own:
            out.append((node, hidden))
        elif getattr(node, "shares", False):  # else no alias or merge key inside: nothing of it leaves
            _walk_into(node, hidden, todo, _may_leave)
    return out


def _each_once(todo: list):
    """(node, hidden keys) popped from `todo` (aliases followed), each pair once, while the caller
    pushes more onto `todo`."""
    seen = set()
    while todo:
        node, hidden = todo.pop()
        node = deref(node)
        if (id(node), hidden) not in seen:
            seen.add((id(node), hidden))
            yield node, hidden


def _may_leave(node) -> bool:
    """Whether a walk from a node written inside a service's mapping can leave it: an alias, or a
    mapping or sequence with an alias or a merge key inside."""
    return type(node) is Alias or getattr(node, "shares", False)


def _uses(start, hidden) -> list:
    """(path, hidden keys) of every node a service uses from `start` on (start included). Nodes under
    a service's own mapping may be among them: that service is reached there anyway."""
    out, todo = [], [(start, hidden)]
    for node, hidden in _each_once(todo):
        out.append((node.path, hidden))
        _walk_into(node, hidden, todo)
    return out


def _walk_into(node, hidden, todo, wanted=None) -> None:
    """Add the nodes a service uses inside `node` (with the keys hidden there) to todo; only those
    `wanted` says may matter when it is given."""
    if isinstance(node, Map):
        # only the values the service really uses: a key it overrides is not reached through the
        # anchor. The mapping's own values; then the merge sources themselves (a key added there is
        # inherited), except the keys the merging mapping (or a mapping merging it) writes itself:
        # the walk of a source reaches every value the mapping takes from it.
        keys = [(k.value, v) for k, v in node.pairs if isinstance(k, Scalar) and k.value != "<<"]
        todo.extend((v, _NO_KEYS) for k, v in keys if k not in hidden and (wanted is None or wanted(v)))
        sources = _merge_source_nodes(node)
        if sources:
            shadowed = hidden.union(k for k, _ in keys)
            todo.extend((source, shadowed) for source in sources)
    elif isinstance(node, Seq):
        todo.extend((item, _NO_KEYS) for item in node.items if wanted is None or wanted(item))


_NO_KEYS = frozenset()  # one shared empty set: CPython makes a new object for every frozenset()


def _all_nodes(root):
    out, todo = [], [root] if root is not None else []
    while todo:
        node = todo.pop()
        out.append(node)
        if isinstance(node, Map):
            todo.extend(n for pair in node.pairs for n in pair)
        elif isinstance(node, Seq):
            todo.extend(node.items)
    return out


def is_override_name(path: str) -> bool:
    """A file meant to be merged over a base: compose.override.yaml, overrides/x.yaml and the like."""
    return "override" in path.replace("\\", "/").lower()


def service_maps(doc: Document) -> dict:
    """name -> (key node, mapping, shared) of a document's services ("!reset" ones left out)."""
    out = {}
    if doc is None or doc.root is None:
        return out
    services = deref(doc.root.get("services"))
    if not isinstance(services, Map):
        return out
    for key, value in services.pairs:
        node = deref(value)
        if isinstance(key, Scalar) and isinstance(node, Map) and node.tag != "!reset":
            out[key.value] = (key, node, node is not value)
    return out


@dataclass(frozen=True)
class Project:
    """Several compose files read as one (base + override, or -f a -f b): the documents in merge order
    and the position of the one being checked; `bases` maps a service name to the mappings of the
    services it extends from other files."""

    docs: tuple
    index: int
    bases: Mapping[str, tuple] = field(default_factory=lambda: MappingProxyType({}))
    fragment_file: bool = False  # the checked file is an override fragment by its name
    read_only: frozenset = frozenset()  # indexes of the documents the user marked read-only
    # readings of the other files that stay the same over the passes of a fix (their suppression
    # marks): process_project hands the same dict to every pass over one file
    memo: dict = field(default_factory=dict, compare=False, hash=False, repr=False)


def _merge_source_nodes(node: Map) -> list:
    value = node.get("<<")
    if value is None:
        return []
    value = deref(value)
    items = value.items if isinstance(value, Seq) else [value]
    return [deref(i) for i in items]


def iter_services(doc: Document, project: Project | None = None, measured: Mapping | None = None):
    own = service_maps(doc)
    others = [service_maps(d) for d in project.docs] if project else []
    inherited: dict = {}  # Service._inherited, one for the services of this pass
    for name, (key, node, shared) in own.items():
        earlier_files = tuple(o[name][1] for o in others[:project.index] if name in o) if project else ()
        later = tuple(o[name][1] for o in others[project.index + 1:] if name in o) if project else ()
        locked = frozenset(id(others[i][name][1]) for i in project.read_only if name in others[i]) \
            if project else frozenset()
        earlier = earlier_files
        base = _extends_base(node, own)
        if base is not None:
            earlier = (base,) + earlier
        if project is not None:
            earlier = tuple(project.bases.get(name, ())) + earlier
        yield Service(name, key, node, shared, later, earlier, earlier_files,
                      project is not None and project.fragment_file, locked,
                      measured if measured is not None else MappingProxyType({}), _inherited=inherited)


def _extends_base(node: Map, own: dict):
    """The mapping a service extends within the same file, if any."""
    found = merged_entry(node, "extends")
    if not found:
        return None
    value = deref(found[1])
    if isinstance(value, Scalar):
        target = value.value
    elif isinstance(value, Map) and value.get("file") is None:
        target = scalar_value(value.get("service"))
    else:
        return None
    return own[target][1] if target in own and own[target][1] is not node else None


def seq_items(node) -> list:
    """Items of a sequence node (dereferenced), or [] for anything else."""
    node = deref(node)
    return [deref(i) for i in node.items] if isinstance(node, Seq) else []


def as_str_list(node) -> list[str]:
    return [i.value for i in seq_items(node) if isinstance(i, Scalar)]
