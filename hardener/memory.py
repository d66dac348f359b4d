"""What a service says about the memory it needs, read from its own settings: JVM heaps in the
variables images read them from (-Xmx/-Xms), heap-size variables, Node's --max-old-space-size,
cache sizes given on the command line, shared memory, reservations and memory locking. Pure
functions over values the rules hand in; no Compose syntax here.

A limit below what a service is told to use kills it: a JVM with -Xmx1g allocates up to 1 GiB of
heap plus metaspace, threads, code cache and direct buffers, so the least limit hardener writes is
twice the heap plus an overhead (HEAP_FACTOR, OVERHEAD)."""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

from . import knowledge

MIB = 1024 ** 2
GIB = 1024 ** 3
HEAP_FACTOR = 2
OVERHEAD = 512 * MIB

_UNITS = {"": 1, "b": 1, "k": 1024, "m": MIB, "g": GIB, "t": 1024 * GIB}
_SIZE = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*([kmgt]?)(?:i?b)?\s*$", re.I)
_JAVA_HEAP = re.compile(r"(?:^|\s|['\"])-X(mx|ms)([0-9]+(?:\.[0-9]+)?[kmgt]?)\b", re.I)
_MAX_RAM = re.compile(r"-XX:MaxRAM=([0-9]+[kmgt]?)\b", re.I)
_LOCK_IN_COMMAND = re.compile(r"bootstrap\.memory_lock=true", re.I)
_LOCK_IN_VARIABLE = re.compile(r"bootstrap\.memory_lock\s*=\s*true", re.I)
_NODE_HEAP = re.compile(r"--max-old-space-size[= ]([0-9]+)")
_COMMAND_FLAGS = tuple((re.compile(pattern), unit, label) for pattern, unit, label in knowledge.COMMAND_MEMORY_FLAGS)


def parse_size(text, default_unit: str = "") -> int | None:
    """Bytes of a size as Docker and the JVM write it ('512m', '1g', '1.5GB', '2GiB', '1073741824'),
    None when it is not one."""
    if text is None:
        return None
    m = _SIZE.match(str(text))
    if not m:
        return None
    unit = (m.group(2) or default_unit).lower()
    return int(float(m.group(1)) * _UNITS[unit])


def format_size(n: int) -> str:
    """A size as Compose writes it, rounded up to 256 MiB: '3G', '2560M'."""
    step = 256 * MIB
    n = max(step, math.ceil(n / step) * step)
    return f"{n // GIB}G" if n % GIB == 0 else f"{n // MIB}M"


def java_heap(text: str) -> int | None:
    """The largest -Xmx / -Xms (or -XX:MaxRAM) in a JVM options string, in bytes."""
    sizes = [parse_size(m.group(2)) for m in _JAVA_HEAP.finditer(text or "")]
    sizes += [parse_size(m.group(1)) for m in _MAX_RAM.finditer(text or "")]
    sizes = [s for s in sizes if s]
    return max(sizes) if sizes else None


@dataclass(frozen=True)
class Need:
    """Memory a service declares it uses: `least` bytes a limit must leave it (None when nothing is
    declared), why, and whether it pins memory or declares a need whose size the file does not give
    (then no limit is known to be enough)."""
    least: int | None
    why: tuple[str, ...] = ()
    unknown: bool = False

    def merge(self, other: "Need") -> "Need":
        least = max((n for n in (self.least, other.least) if n is not None), default=None)
        return Need(least, self.why + other.why, self.unknown or other.unknown)


# variables that give a heap as a plain size under a name of their own: itzg/minecraft-server's MEMORY,
# INIT_MEMORY and MAX_MEMORY (its -Xms/-Xmx), Atlassian's JVM_MINIMUM_MEMORY and JVM_MAXIMUM_MEMORY
MEMORY_VARIABLES = ("MEMORY", "INIT_MEMORY", "MAX_MEMORY", "JVM_MINIMUM_MEMORY", "JVM_MAXIMUM_MEMORY")


def _heap_need(heap: int) -> int:
    return HEAP_FACTOR * heap + OVERHEAD


# a heap-size word anywhere in a variable's name (upper case): one search instead of one test per word
_HEAP_SIZE_WORD = re.compile("|".join(map(re.escape, knowledge.HEAP_SIZE_WORDS)))


def declared_need(env: dict, command: str = "", *, shm_size=None, reservation=None, image_heap: str | None = None,
                  env_file: bool = False) -> Need:
    """What a service's own settings say it needs. `env` maps variable names to values (None: set
    from outside the file, unknown); `command` is its command and entrypoint as one string;
    `shm_size` and `reservation` are the written values; `image_heap` the heap the image sets when
    the file says nothing; `env_file` whether the service also reads variables from env files, which
    may set that heap (then, with no heap in `env`, the need is unknown)."""
    need = Need(None)
    heaps: list[tuple[int, str]] = []
    summed = 0
    locked = bool(_LOCK_IN_COMMAND.search(command or ""))
    for name, value in env.items():
        upper = name.upper()
        jvm_options = upper.endswith(knowledge.JVM_OPTION_VARIABLES)  # a JVM option string: ES_JAVA_OPTS...
        if value is None:
            if jvm_options or upper in MEMORY_VARIABLES or _HEAP_SIZE_WORD.search(upper):
                need = need.merge(Need(None, (f"{name} is set outside the file",), True))
            continue
        if jvm_options:
            heap = java_heap(value)
            if heap:
                if upper.startswith(knowledge.SUMMED_JVM_PREFIXES):
                    summed += heap  # one JVM each (SonarQube's web, compute engine and search)
                else:
                    heaps.append((heap, f"{name} gives the JVM {_human(heap)} of heap"))
        elif upper in MEMORY_VARIABLES:
            size = parse_size(value, "m")
            if size:
                heaps.append((size, f"{name}={value.strip()} sets a heap of {_human(size)}"))
        elif _HEAP_SIZE_WORD.search(upper) and not upper.endswith(("NEWSIZE", "_NEW_SIZE")):
            size = parse_size(value, "m") or java_heap(value)
            if size:
                heaps.append((size, f"{name}={value.strip()} sets a heap of {_human(size)}"))
        if upper == "NODE_OPTIONS":
            m = _NODE_HEAP.search(value)
            if m:
                heaps.append((int(m.group(1)) * MIB, f"NODE_OPTIONS gives Node {m.group(1)} MB of heap"))
        if _LOCK_IN_VARIABLE.search(f"{name}={value}"):
            locked = True
    if summed:
        heaps.append((summed, f"its JVM options add up to {_human(summed)} of heap"))
    heaps += _command_sizes(command)
    if not heaps and image_heap and env_file:
        need = need.merge(Need(None, ("its env_file may set the heap the image takes, which the file does not show",),
                               True))
    elif not heaps and image_heap and parse_size(image_heap):
        size = parse_size(image_heap)
        heaps.append((size, f"the image's default heap is {_human(size)}"))
    if locked and not heaps:  # the heap is pinned, and nothing says how big it is
        need = need.merge(Need(None, ("bootstrap.memory_lock=true pins a heap whose size the file does not give",), True))
    for heap, why in heaps:
        need = need.merge(Need(_heap_need(heap), (why,)))
    shm = parse_size(shm_size) if shm_size is not None else None
    if shm:
        need = need.merge(Need(shm + OVERHEAD, (f"shm_size {_human(shm)} counts against the memory limit",)))
    reserved = parse_size(reservation) if reservation is not None else None
    if reserved:
        need = need.merge(Need(reserved + OVERHEAD, (f"it reserves {_human(reserved)}",)))
    return need


def _command_sizes(command: str) -> list[tuple[int, str]]:
    """Heaps and caches a command line sets: -Xmx, Redis --maxmemory, memcached -m, MongoDB
    --wiredTigerCacheSizeGB, PostgreSQL shared_buffers, InnoDB's buffer pool."""
    out = []
    text = command or ""
    heap = java_heap(text)
    if heap:
        out.append((heap, f"the command gives the JVM {_human(heap)} of heap"))
    for pattern, unit, label in _COMMAND_FLAGS:
        for m in pattern.finditer(text):
            size = parse_size(m.group(1), unit)
            if size:
                out.append((size, f"the command sets {label} to {_human(size)}"))
    return out


def _human(n: int) -> str:
    if n % GIB == 0:
        return f"{n // GIB} GiB"
    if n >= GIB:
        return f"{n / GIB:.1f} GiB"
    return f"{math.ceil(n / MIB)} MiB"
