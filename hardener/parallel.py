"""Spreading independent projects over the machine's cores.

A folder scan is many small, independent projects, and the work is pure Python, so threads would not
help: the parent forks helpers after its imports (a few milliseconds each: they share its modules and
rule settings) and works alongside them. The projects' indexes, biggest first, wait in a pipe; every
process takes the next one with a 4-byte read, which a pipe hands out whole to exactly one reader, so
the load balances itself and nothing but an index travels to a helper. A helper sends its results
back pickled when the queue is empty. Helpers only read and compute; every write happens in the
parent, so stopping a helper never leaves a half-written file.
"""
from __future__ import annotations

import gc
import os
import pickle
import signal
import struct
from typing import Callable, Iterator, Sequence

# below these, forking costs more than it saves (measured with bench/run.py on the shared corpus)
MIN_PROJECTS = 8
MIN_BYTES = 64 * 1024

MAX_PER_CORE = 4  # --jobs above 4 processes per core only costs memory: it is capped there

_INDEX = struct.Struct("=I")
_MAX_TOKENS = 16_000  # 64,000 bytes: fits a pipe's default buffer (64 KiB on Linux)


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def can_fork() -> bool:
    return hasattr(os, "fork") and os.name == "posix"


def workers_for(requested: int, sizes: Sequence[int]) -> int:
    """How many processes to use: `requested` when it is positive, else one per core once the input is
    big enough to pay for the helpers."""
    small = len(sizes) < MIN_PROJECTS or sum(sizes) < MIN_BYTES
    if len(sizes) < 2 or (requested <= 0 and small) or not can_fork():
        return 1
    return min(requested if requested > 0 else cores(), MAX_PER_CORE * cores(), len(sizes))


def run_all(work: Callable[[int], object], sizes: Sequence[int], workers: int,
            problems: list | None = None) -> Iterator[tuple[int, object]]:
    """(index, work(index)) for every project, in the order they finish; the biggest are started first
    so that no process ends up alone with the largest file. In this process only when `workers` is 1.
    A helper that cannot be started (fork fails) or that dies (killed, out of memory) does not lose
    work: this process does what it would have done, and a sentence about it goes to `problems`."""
    problems = [] if problems is None else problems
    if workers <= 1:
        for index in range(len(sizes)):
            yield index, work(index)
        return
    order = sorted(range(len(sizes)), key=lambda i: -sizes[i])
    per_token = -(-len(order) // _MAX_TOKENS)  # more projects than tokens: a token stands for several
    batches = [order[start:start + per_token] for start in range(0, len(order), per_token)]
    queue_in, queue_out = os.pipe()
    # every token is in the pipe before anyone reads, so no write can wait for a reader
    os.write(queue_out, b"".join(_INDEX.pack(t) for t in range(len(batches))))
    gc.freeze()  # the helpers' collectors leave the inherited objects alone: fewer copied pages
    helpers = []
    try:
        for _ in range(workers - 1):
            try:
                helpers.append(_start_helper(work, batches, queue_in, queue_out))
            except OSError as exc:  # no more processes or memory: carry on with those started
                problems.append(f"could not start a helper process ({exc.strerror or exc}): "
                                f"{len(helpers) + 1} of {workers} processes did the work")
                break
    except BaseException:
        _stop_all(helpers)
        os.close(queue_in)
        raise
    finally:
        os.close(queue_out)  # with every writer closed, an empty queue reads as the end
    done = set()
    for index, result in _collect(work, batches, queue_in, helpers, problems):
        done.add(index)
        yield index, result
    for index in order:  # what a dead helper had taken: done here
        if index not in done:
            yield index, work(index)


def _start_helper(work, batches, queue_in, queue_out):
    results_in, results_out = os.pipe()
    pid = os.fork()
    if pid == 0:  # the helper: never returns
        os.close(results_in)
        _serve(work, batches, queue_in, queue_out, results_out)
    os.close(results_out)
    return pid, results_in


def _serve(work, batches, queue_in, queue_out, results_out):
    code = 0
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
        os.close(queue_out)
        done = [(index, work(index)) for index in _take(queue_in, batches)]
        payload = pickle.dumps(("ok", done), protocol=pickle.HIGHEST_PROTOCOL)
    except BaseException as exc:  # reported by the parent, which raises it
        payload, code = pickle.dumps(("error", _picklable(exc))), 1
    try:
        with os.fdopen(results_out, "wb") as out:
            out.write(payload)
    finally:
        os._exit(code)  # no atexit handlers, no flushing of the parent's buffers


def _picklable(exc: BaseException):
    try:
        pickle.dumps(exc)
        return exc
    except Exception:
        return RuntimeError(f"{type(exc).__name__}: {exc}")


def _take(queue_in, batches) -> Iterator[int]:
    """The project indexes of each token this process takes from the queue, until it is empty."""
    while True:
        data = os.read(queue_in, _INDEX.size)
        if not data:
            return
        yield from batches[_INDEX.unpack(data)[0]]


def _collect(work, batches, queue_in, helpers, problems):
    collecting = gc.isenabled()
    try:
        for index in _take(queue_in, batches):
            yield index, work(index)
        # unpickling builds many small objects and no cycles: without this the collector runs over and
        # over and costs more than the unpickling itself
        gc.disable()
        while helpers:
            pid, results_in = helpers.pop(0)
            with os.fdopen(results_in, "rb") as source:
                data = source.read()
            _, status = os.waitpid(pid, 0)
            try:
                outcome, payload = pickle.loads(data) if data else (None, None)
            except Exception:  # cut short: the helper died while writing
                outcome, payload = None, None
            if outcome is None:
                how = (f"was killed by signal {os.WTERMSIG(status)}" if os.WIFSIGNALED(status)
                       else f"exited with status {os.waitstatus_to_exitcode(status)}")
                problems.append(f"a helper process {how}: its projects were checked again in the main process")
                continue
            if outcome == "error":
                raise payload
            yield from payload
    finally:
        if collecting:
            gc.enable()
        os.close(queue_in)
        _stop_all(helpers)  # stopped early (Ctrl-C, an error): the remaining helpers are not needed


def _stop_all(helpers):
    for pid, results_in in helpers:
        try:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        except OSError:
            pass
        os.close(results_in)
