"""Spreading independent projects over the machine's cores.

A folder scan is many small, independent projects, and the work is pure Python, so threads would not
help: projects go to a pool of *forked* worker processes. Forking after the imports costs a few
milliseconds per worker (the children share the parent's modules and its rule settings), and nothing
has to be pickled on the way in: a worker gets only the index of a project. Results come back in input
order. Workers only read and compute; every write happens in the parent, so stopping a worker never
leaves a half-written file.
"""
from __future__ import annotations

import gc
import os
import signal
from typing import Callable, Iterator, Sequence

# below these a pool costs more than it saves (measured with bench/run.py on the shared corpus: a
# worker costs ~10 ms to fork and every result is pickled back)
MIN_PROJECTS = 8
MIN_BYTES = 64 * 1024
CHUNK = 8

_work: Callable | None = None  # set in the parent before forking; the children inherit it


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def can_fork() -> bool:
    import multiprocessing

    return "fork" in multiprocessing.get_all_start_methods() and os.name == "posix"


def workers_for(requested: int, sizes: Sequence[int]) -> int:
    """How many processes to use: `requested` when it is positive, else one per core once the input is
    big enough to pay for the pool."""
    small = len(sizes) < MIN_PROJECTS or sum(sizes) < MIN_BYTES
    if len(sizes) < 2 or (requested <= 0 and small) or not can_fork():
        return 1
    return min(requested if requested > 0 else cores(), len(sizes))


def _run(index: int):
    return index, _work(index)


def _quiet_interrupts():
    # Ctrl-C reaches the whole process group; the parent alone handles it and stops the pool
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def run_all(work: Callable[[int], object], sizes: Sequence[int], workers: int) -> Iterator[tuple[int, object]]:
    """(index, work(index)) for every project, biggest first so that no worker ends up alone with the
    largest file; in this process when `workers` is 1."""
    order = sorted(range(len(sizes)), key=lambda i: -sizes[i])
    if workers <= 1:
        for index in range(len(sizes)):
            yield index, work(index)
        return
    import multiprocessing

    global _work
    _work = work
    gc.freeze()  # the children's collector leaves the inherited objects alone: fewer copied pages
    pool = multiprocessing.get_context("fork").Pool(workers, initializer=_quiet_interrupts)
    collecting = gc.isenabled()
    # unpickling the results builds many small objects and no cycles: without this the collector
    # runs over and over and costs more than the unpickling itself (measured: 95 ms -> 23 ms)
    gc.disable()
    try:
        yield from pool.imap_unordered(_run, order, chunksize=CHUNK)
        pool.close()
    finally:
        if collecting:
            gc.enable()
        pool.terminate()
        pool.join()
        _work = None

