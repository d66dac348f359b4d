"""Spreading independent projects over the machine's cores.

A folder scan is many small, independent projects, and the work is pure Python, so threads would not
help: the parent forks helpers after its imports (a few milliseconds each: they share its modules and
rule settings) and works alongside them. The projects' indexes, biggest first, wait in a pipe; every
process takes the next one with a 4-byte read, which a pipe hands out whole to exactly one reader, so
the load balances itself and nothing but an index travels to a helper. A helper sends each project's
results back pickled as soon as it has them, and the parent reads what has arrived between its own
projects: pickling and unpickling happen while the other process works, not in a serial tail after
the last project. Helpers only read and compute; every write happens in the parent, so stopping a
helper never leaves a half-written file.
"""
from __future__ import annotations

import copyreg
import dataclasses
import gc
import io
import os
import pickle
import select
import signal
import struct
from typing import Callable, Iterator, Sequence

# below these, forking costs more than it saves (measured with bench/run.py on the shared corpus)
MIN_PROJECTS = 8
MIN_BYTES = 64 * 1024

MAX_PER_CORE = 4  # --jobs above 4 processes per core only costs memory: it is capped there

_INDEX = struct.Struct("=I")
_MAX_TOKENS = 16_000  # 64,000 bytes: fits a pipe's default buffer (64 KiB on Linux)
_FRAME = struct.Struct("=Q")  # the length of one pickled message from a helper
_RESULTS_PIPE_BYTES = 1 << 20  # a helper's results pipe: room for a big project while the parent works


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
    try:  # Linux: a pipe bigger than 64 KiB, so that a helper rarely waits for the parent to read
        import fcntl

        fcntl.fcntl(results_out, fcntl.F_SETPIPE_SZ, _RESULTS_PIPE_BYTES)
    except (ImportError, AttributeError, OSError):
        pass  # the default size works too; the helper then waits a little more
    try:
        pid = os.fork()
    except OSError:
        os.close(results_in)
        os.close(results_out)
        raise
    if pid == 0:  # the helper: never returns
        os.close(results_in)
        _serve(work, batches, queue_in, queue_out, results_out)
    os.close(results_out)
    os.set_blocking(results_in, False)  # the parent takes what has arrived and goes back to work
    return _Helper(pid, results_in)


def _serve(work, batches, queue_in, queue_out, results_out):
    code = 0
    with os.fdopen(results_out, "wb") as out:
        try:
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
            os.close(queue_out)
            for index in _take(queue_in, batches):
                _send(out, ("ok", index, work(index)))
            _send(out, ("end", None, None))
        except BaseException as exc:  # reported by the parent, which raises it
            code = 1
            try:
                _send(out, ("error", None, _picklable(exc)))
            except BaseException:
                pass  # the parent is gone, or the pipe is: the exit status tells the rest
        finally:
            os._exit(code)  # no atexit handlers, no flushing of the parent's buffers


def _send(out, message):
    payload = _dumps(message)
    out.write(_FRAME.pack(len(payload)))
    out.write(payload)
    out.flush()


def _dumps(value) -> bytes:
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.dispatch_table = _REDUCERS
    pickler.dump(value)
    return buffer.getvalue()


class _Reducers(dict):
    """pickle's dispatch table, filled per class on first use. A frozen dataclass's own pickling
    (dataclasses' __getstate__/__setstate__ with slots) walks its fields one setattr at a time; sent as
    a call of its constructor with the field values, a Finding unpickles in half the time. Every other
    class is pickled as pickle would do it."""

    def __missing__(self, cls):
        if issubclass(cls, type):  # a class with a metaclass of its own (an Enum): pickled by name
            raise KeyError(cls)
        self[cls] = _by_constructor(cls) or copyreg.dispatch_table.get(cls) or _as_usual
        return self[cls]


def _by_constructor(cls):
    """A reducer calling the dataclass's generated __init__ with every field by position, when that
    rebuilds it: no __post_init__, every field an argument of __init__, no pickling of its own."""
    if not dataclasses.is_dataclass(cls) or not cls.__dataclass_params__.init or hasattr(cls, "__post_init__"):
        return None
    if any(name in vars(cls) for name in ("__reduce__", "__reduce_ex__")):
        return None
    fields = dataclasses.fields(cls)
    if len(fields) != len(cls.__dataclass_fields__) or not all(f.init and not f.kw_only for f in fields):
        return None  # a ClassVar or InitVar, a field __init__ leaves out or takes by keyword only
    names = tuple(f.name for f in fields)
    return lambda obj: (cls, tuple([getattr(obj, name) for name in names]))


def _as_usual(obj):
    return obj.__reduce_ex__(pickle.HIGHEST_PROTOCOL)


_REDUCERS = _Reducers()


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


class _Helper:
    """A helper process as the parent sees it: its pid, the read end of its results pipe, and what
    has arrived of a message not yet whole."""

    def __init__(self, pid: int, results_in: int):
        self.pid, self.results_in = pid, results_in
        self.pending = bytearray()
        self.ended = False  # it said it has no more results
        self.closed = False  # its pipe was read to the end (it exited or died)


def _collect(work, batches, queue_in, helpers, problems):
    try:
        for index in _take(queue_in, batches):
            yield index, work(index)
            yield from _arrived(helpers, problems, wait=False)  # what the helpers finished meanwhile
        while any(not h.closed for h in helpers):
            yield from _arrived(helpers, problems, wait=True)
    finally:
        os.close(queue_in)
        _stop_all(helpers)  # stopped early (Ctrl-C, an error): the remaining helpers are not needed


def _arrived(helpers, problems, wait: bool) -> Iterator[tuple[int, object]]:
    """The results every helper has sent whole so far; with `wait`, after waiting for at least one of
    them to send something (or end)."""
    open_ = [h for h in helpers if not h.closed]
    if wait and open_:
        select.select([h.results_in for h in open_], [], [])
    for helper in open_:
        yield from _read(helper, problems)


def _read(helper, problems) -> Iterator[tuple[int, object]]:
    at_end = False
    while not at_end:
        try:
            chunk = os.read(helper.results_in, 1 << 20)
        except BlockingIOError:
            break
        at_end = not chunk
        helper.pending += chunk
    pending, start = helper.pending, 0
    while len(pending) - start >= _FRAME.size:
        size = _FRAME.unpack_from(pending, start)[0]
        if len(pending) - start - _FRAME.size < size:
            break
        begin = start + _FRAME.size
        start = begin + size
        kind, index, value = _loads(pending[begin:start])
        if kind == "error":
            raise value
        if kind == "end":
            helper.ended = True
            continue
        yield index, value
    del pending[:start]
    if at_end:
        _closed(helper, problems)


def _loads(data):
    # unpickling builds many small objects and no cycles: the collector would only slow it down
    collecting = gc.isenabled()
    gc.disable()
    try:
        return pickle.loads(data)
    finally:
        if collecting:
            gc.enable()


def _closed(helper, problems):
    """The helper's pipe reached its end: reap it, and say so when it died before it was done (what it
    had taken and not sent is then done by the caller, see run_all)."""
    helper.closed = True
    os.close(helper.results_in)
    _, status = os.waitpid(helper.pid, 0)
    helper.pid = None
    if not helper.ended:
        how = (f"was killed by signal {os.WTERMSIG(status)}" if os.WIFSIGNALED(status)
               else f"exited with status {os.waitstatus_to_exitcode(status)}")
        problems.append(f"a helper process {how}: its projects were checked again in the main process")


def _stop_all(helpers):
    for helper in helpers:
        if helper.closed:
            continue
        try:
            os.kill(helper.pid, signal.SIGKILL)
            os.waitpid(helper.pid, 0)
        except OSError:
            pass
        helper.closed = True
        os.close(helper.results_in)
