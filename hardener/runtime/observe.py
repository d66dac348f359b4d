"""`hardener observe`: start the project as written (isolated as for verify), let it run, and record
what each service really needs: peak and steady memory, peak pids, CPU, the paths it writes outside
its volumes and tmpfs (and whether the image had files there, which a tmpfs would hide), the users its
processes run as, and the ports it listens on. The record is a versioned JSON document
(hardener-observed.json; docs/verify.md describes it) with the image each observation came from."""
from __future__ import annotations

import io
import json
import os
import posixpath
import re
import statistics
import tarfile
import time
from datetime import UTC, datetime

from . import project as proj
from .engine_api import Engine, EngineError
from .facts import config_facts
from .observed import FILE_NAME  # noqa: F401  (observe.FILE_NAME: the file it saves)
from .orchestrate import Options, Run, run_all
from .project import CannotRun
from .states import ABSENT, CREATED

SCHEMA_VERSION = 1
KIND = "hardener-observed"
MIN_DURATION = 5.0
ADDED, CHANGED, DELETED = 1, 0, 2
DOCKER_DNS = "127.0.0.11"  # listens inside every container on a user-defined network


# ---- reading one container

def memory_bytes(stats: dict) -> int | None:
    """Memory in use as `docker stats` counts it: usage less the page cache the kernel can drop
    (cgroup v1: total_inactive_file, else cache; cgroup v2: inactive_file)."""
    mem = (stats or {}).get("memory_stats") or {}
    usage = mem.get("usage")
    if usage is None:
        return None
    detail = mem.get("stats") or {}
    for key in ("total_inactive_file", "inactive_file"):
        if key in detail:
            return max(0, usage - detail[key])
    return max(0, usage - detail.get("cache", 0))


def cpu_seconds(stats: dict) -> float | None:
    usage = ((stats or {}).get("cpu_stats") or {}).get("cpu_usage") or {}
    total = usage.get("total_usage")
    return total / 1e9 if total is not None else None


def listening(tables: dict) -> list[dict]:
    """Listening sockets from /proc/net/{tcp,tcp6,udp,udp6} texts: [{port, protocol, address}]."""
    out = set()
    for name, text in tables.items():
        protocol = "udp" if name.startswith("udp") else "tcp"
        for line in text.splitlines()[1:]:
            fields = line.split()
            if len(fields) < 4 or ":" not in fields[1]:
                continue
            address, port = fields[1].rsplit(":", 1)
            state = fields[3]
            if (protocol == "tcp" and state != "0A") or (protocol == "udp" and state != "07"):
                continue
            where = _address(address)
            if where == DOCKER_DNS:
                continue  # the engine's embedded DNS resolver, not the service
            out.add((int(port, 16), protocol, where))
    return [{"port": p, "protocol": pr, "address": a} for p, pr, a in sorted(out)]


def _address(hexaddr: str) -> str:
    if len(hexaddr) == 8:
        raw = bytes.fromhex(hexaddr)[::-1]
        return ".".join(str(b) for b in raw)
    if set(hexaddr) == {"0"}:
        return "::"
    if hexaddr.upper() == "00000000000000000000000001000000":
        return "::1"
    return hexaddr.lower()


def proc_net_tables(pid: int, root: str = "/proc") -> dict | None:
    """The socket tables of a process's network namespace, read from the engine's host; None when
    this is not that host (a remote engine) or they cannot be read."""
    if not pid:
        return None
    out = {}
    for name in ("tcp", "tcp6", "udp", "udp6"):
        try:
            with open(os.path.join(root, str(pid), "net", name), encoding="ascii", errors="replace") as fh:
                out[name] = fh.read()
        except OSError:
            continue
    return out or None


def written_paths(changes: list[dict], excluded: list[str]) -> list[dict]:
    """The folders a container writes into, from its changes (`docker diff`), leaving out what lies
    under a volume, a bind mount or a tmpfs. A file changed or added makes its folder written; a
    single new tree (an added folder and what is in it) is its own mount point; several new entries in
    a folder of the image make that folder written. Each entry says whether the folder came with the
    image (`in_image`)."""
    kinds = {c["Path"]: c.get("Kind") for c in changes or () if c.get("Path")}

    def covered(path):
        return any(path == m or path.startswith(m.rstrip("/") + "/") for m in excluded)

    parents = {posixpath.dirname(p) for p in kinds}
    found: dict = {}
    for path, kind in kinds.items():
        if covered(path):
            continue
        if kind == CHANGED and path in parents:
            continue  # a folder changes because something in it did: judged by its entries
        if kind == DELETED and path in parents:
            continue
        top = path
        while posixpath.dirname(top) in kinds and kinds[posixpath.dirname(top)] == ADDED and posixpath.dirname(top) != "/":
            top = posixpath.dirname(top)
        folder = posixpath.dirname(top) or "/"
        if covered(folder):
            continue
        found.setdefault(folder, {}).setdefault(top, set()).add(path)
    out = []
    for folder, tops in found.items():
        if len(tops) == 1:
            (top, paths), = tops.items()
            if top in parents and kinds.get(top) == ADDED:  # one new folder: a mount point of its own
                out.append({"path": top, "in_image": False, "entries": len(paths)})
                continue
        out.append({"path": folder, "in_image": kinds.get(folder) != ADDED,
                    "entries": sum(len(p) for p in tops.values())})
    return sorted(out, key=lambda e: e["path"])


def image_files(tar_bytes: bytes | None, folder: str, changes: list[dict]) -> bool | None:
    """Whether a folder holds files that came with the image (a tmpfs mounted there would hide them):
    what the folder holds now, less what the container added. None when it could not be read."""
    if tar_bytes is None:
        return None
    added = {c["Path"] for c in changes or () if c.get("Kind") == ADDED}
    base = posixpath.dirname(folder.rstrip("/"))
    try:
        with tarfile.open(fileobj=io.BytesIO(tar_bytes)) as tar:
            for member in tar.getmembers():
                path = posixpath.normpath(posixpath.join(base, member.name))
                if path != folder.rstrip("/") and not member.isdir() and path not in added:
                    return True
    except (tarfile.TarError, OSError):
        return None
    return False


def user_pattern(configured: str, processes: list[dict]) -> str:
    """How a service's processes run, seen after start-up: `root` (root that stays root),
    `root-drops` (starts as root, its processes run as another uid: gosu, su-exec, setpriv),
    `non-root` (configured to start as another user)."""
    root_start = configured in ("", "root", "0") or configured.startswith(("root:", "0:"))
    uids = {p["uid"] for p in processes}
    if not root_start:
        return "non-root"
    if uids and 0 not in uids:
        return "root-drops"
    if uids - {0}:
        return "root-drops"  # a root supervisor with workers under another uid
    return "root"


def processes(top: dict) -> list[dict]:
    titles = [t.upper() for t in top.get("Titles") or ()]
    out = []
    for row in top.get("Processes") or ():
        item = dict(zip(titles, row))
        try:
            out.append({"pid": int(item.get("PID", 0)), "ppid": int(item.get("PPID", 0)),
                        "uid": int(item.get("UID", -1)), "gid": int(item.get("GID", -1)),
                        "command": item.get("COMMAND") or item.get("CMD") or ""})
        except ValueError:
            continue
    return out


def service_tree(procs: list[dict], pid1: int | None) -> list[dict]:
    """The processes descended from the container's first process: what the service runs, without the
    healthcheck probes and `docker exec`s that the engine starts beside it."""
    if not pid1 or not any(p["pid"] == pid1 for p in procs):
        return procs
    keep, changed = {pid1}, True
    while changed:
        changed = False
        for p in procs:
            if p["ppid"] in keep and p["pid"] not in keep:
                keep.add(p["pid"])
                changed = True
    return [p for p in procs if p["pid"] in keep]


# ---- observing a run

class _Samples:
    def __init__(self):
        self.memory: list = []
        self.max_usage = 0
        self.pids: list = []
        self.cpu: list = []  # (monotonic seconds, cpu seconds)

    def add(self, stats: dict | None) -> None:
        if not stats:
            return
        m = memory_bytes(stats)
        if m is not None:
            self.memory.append(m)
        self.max_usage = max(self.max_usage, int(((stats.get("memory_stats") or {}).get("max_usage")) or 0))
        current = (stats.get("pids_stats") or {}).get("current")
        if current is not None:
            self.pids.append(int(current))
        c = cpu_seconds(stats)
        if c is not None:
            self.cpu.append((time.monotonic(), c))

    def summary(self) -> dict:
        rates = [(c2 - c1) / (t2 - t1) for (t1, c1), (t2, c2) in zip(self.cpu, self.cpu[1:]) if t2 > t1]
        tail = self.memory[len(self.memory) // 2:] or self.memory
        return {
            "memory": {"peak_bytes": max(self.memory + [self.max_usage]) if self.memory else None,
                       "steady_bytes": int(statistics.median(tail)) if tail else None,
                       "samples": len(self.memory)},
            "pids": {"peak": max(self.pids) if self.pids else None},
            "cpu": {"average_cores": round(sum(rates) / len(rates), 3) if rates else None,
                    "peak_cores": round(max(rates), 3) if rates else None},
        }


# ---- capabilities: inferred from how the processes ran, or probed with the proposed set

DROP_CAPS = ("CHOWN", "DAC_OVERRIDE", "FOWNER", "SETGID", "SETUID")  # what a root entrypoint that drops uses
DENIED = re.compile(r"operation not permitted|EPERM\b|permission denied|cannot set (uid|gid|groups)|"
                    r"setgroups|capabilit", re.IGNORECASE)


def inferred_caps(service: dict) -> list[str]:
    """The capabilities to add back after cap_drop ALL, from how a service was seen to run: those a root
    entrypoint that drops privileges uses (gosu, su-exec, a root master with workers), NET_BIND_SERVICE
    when it listens below port 1024."""
    caps = list(DROP_CAPS) if ((service.get("users") or {}).get("pattern")) == "root-drops" else []
    if any(isinstance(p, dict) and isinstance(p.get("port"), int) and p["port"] < 1024
           for p in service.get("listening") or ()):
        caps.append("NET_BIND_SERVICE")
    return caps


def caps_override(caps: dict) -> str:
    """A compose file (JSON is YAML) that gives each service cap_drop ALL and these cap_add lists;
    merged last, over the project as written."""
    return json.dumps({"services": {name: {"cap_drop": ["ALL"], **({"cap_add": list(c)} if c else {})}
                                    for name, c in caps.items()}}, indent=1)


def denied_lines(logs: list[str], limit: int = 5) -> list[str]:
    """The log lines that tell of a missing privilege (`Operation not permitted`...), shortened."""
    out = []
    for line in logs:
        line = line.strip()[:240]
        if line and DENIED.search(line) and line not in out:
            out.append(line)
        if len(out) >= limit:
            break
    return out


def probe(project, options: Options, engine: Engine, doc: dict) -> None:
    """Start the project once more, isolated in the same way, with every observed service under cap_drop
    ALL and the capabilities inferred from the observation, and record per service in
    doc[name]["capabilities"] whether it still settled (healthy, or running without a healthcheck)
    and the lines of its logs that tell of a missing privilege."""
    import tempfile
    from dataclasses import replace

    caps = {name: inferred_caps(s) for name, s in doc.items()}
    folder = tempfile.mkdtemp(prefix="hardener-probe-")
    override = os.path.join(folder, "caps.yaml")
    try:
        with open(override, "w", encoding="utf-8") as fh:
            fh.write(caps_override(caps))
        probe_options = replace(options, runtime_files=tuple(options.runtime_files) + (override,))
        run = Run("probe", project.root, project.rel, project.original(), probe_options)
        options.progress(f"probing {len(caps)} services with cap_drop ALL and the capabilities inferred")

        def record(runs):
            (r,) = runs
            ids = r.containers()
            for name, cap_add in caps.items():
                result = r.services.get(name)
                logs = []
                for cid in ids.get(name, [])[:1]:
                    try:
                        logs = engine.logs(cid, tail=200)
                    except EngineError:
                        pass
                ok = result is not None and result.state.ok
                if result is None or result.state.state in (CREATED, ABSENT):
                    ok = None  # never started (a dependency did not work): says nothing about its own needs
                evidence = list(result.evidence) if result is not None and not ok else []
                evidence += [line for line in denied_lines(logs) if line not in evidence]
                doc[name]["capabilities"] = {
                    "method": "probed", "cap_drop": ["ALL"], "cap_add": cap_add,
                    "probe": {"state": result.state.label() if result is not None else "absent", "ok": ok,
                              "evidence": evidence[:8]}}

        run_all([run], engine, probe_options, [], during=record)
    finally:
        import shutil

        shutil.rmtree(folder, ignore_errors=True)


def observe(files: list[str], options: Options, duration: float, settings_for, interval: float = 2.0,
            probe_caps: bool = False) -> dict:
    """Start the project as written, let it run `duration` seconds after every service settled, and
    return the observation document. With `probe_caps`, start it once more with each service under
    cap_drop ALL and the capabilities inferred, and record whether it still works ("probed");
    otherwise the capabilities are only "inferred". Raises CannotRun when it cannot start or a service
    does not work as written (there is nothing to learn from it)."""
    from .verify import Project

    if duration < MIN_DURATION:
        raise CannotRun(f"--duration {duration:g} is too short to observe anything: at least {MIN_DURATION:g} s")
    if not options.compose:
        options.compose = tuple(proj.compose_binary())
    project = Project(files, settings_for)
    try:
        engine = Engine()
        version = engine.ping()
    except EngineError as exc:
        raise CannotRun(str(exc)) from None
    say = options.progress
    run = Run("observe", project.root, project.rel, project.original(), options)
    doc: dict = {}

    def watch(runs):
        (r,) = runs
        failed = {n: s for n, s in r.services.items() if not s.state.ok}
        if failed:
            name, s = next(iter(failed.items()))
            why = "; ".join(s.evidence[:2])
            raise CannotRun(f"service {name} does not work as written ({s.state.label()}"
                            + (f": {why}" if why else "") + "): nothing to observe")
        doc.update(_watch(r, engine, duration, interval, say))

    started = datetime.now(UTC)
    run_all([run], engine, options, [], during=watch)
    for service in doc.values():
        service["capabilities"] = {"method": "inferred", "cap_drop": ["ALL"], "cap_add": inferred_caps(service)}
    if probe_caps and doc:
        try:
            probe(project, options, engine, doc)
        except EngineError as exc:
            raise CannotRun(str(exc)) from None
    return {"version": SCHEMA_VERSION, "kind": KIND, "observed_at": started.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "duration_seconds": duration, "files": [os.path.relpath(f, os.path.dirname(os.path.abspath(files[0])))
                                                    if os.path.isabs(f) else f for f in files],
            "runtime_files": [str(f) for f in options.runtime_files],
            "engine": {"host": engine.host, "version": version}, "services": doc}


def _watch(run: Run, engine: Engine, duration: float, interval: float, say) -> dict:
    ids = run.containers()
    samples = {name: _Samples() for name in ids}
    say(f"observing {len(ids)} services for {duration:g}s")
    end = time.monotonic() + duration
    next_note = time.monotonic() + 10
    while True:
        for name, cids in ids.items():
            for cid in cids[:1]:
                samples[name].add(engine.stats(cid))
        if time.monotonic() >= end:
            break
        if time.monotonic() >= next_note:
            say(f"observed {duration - (end - time.monotonic()):.0f}s of {duration:g}s")
            next_note += 10
        time.sleep(min(interval, max(0.0, end - time.monotonic())))
    out = {}
    for name, cids in ids.items():
        if not cids:
            continue
        cid = cids[0]
        data = engine.inspect(cid) or {}
        config = data.get("Config") or {}
        image_ref = config.get("Image") or ""
        image = engine.image(data.get("Image") or image_ref) or {}
        mounts = [m.get("Destination") for m in data.get("Mounts") or () if m.get("Destination")]
        tmpfs = list(((data.get("HostConfig") or {}).get("Tmpfs") or {}).keys())
        changes = engine.changes(cid)
        written = written_paths(changes, mounts + tmpfs)
        for entry in written:
            entry["image_files"] = image_files(engine.archive(cid, entry["path"]), entry["path"], changes) \
                if entry["in_image"] else False
        pid1_host = (data.get("State") or {}).get("Pid")
        procs = service_tree(processes(engine.top(cid)), pid1_host)
        pid1 = next((p for p in procs if p["pid"] == pid1_host), procs[0] if procs else None)
        tables = proc_net_tables((data.get("State") or {}).get("Pid") or 0)
        configured = config.get("User") or ""
        out[name] = {
            "image": image_ref,
            "image_id": data.get("Image"),
            "repo_digests": image.get("RepoDigests") or [],
            "state": run.services[name].state.label(),
            **samples[name].summary(),
            "written_paths": written,
            "volumes": sorted(mounts),
            "tmpfs": sorted(tmpfs),
            "users": {"configured": configured, "pid1": pid1,
                      "processes": [{"uid": p["uid"], "gid": p["gid"], "command": p["command"]} for p in procs],
                      "pattern": user_pattern(configured, procs)},
            "listening": listening(tables) if tables is not None else None,
            "image_config": config_facts(image.get("Config") or {}),
        }
    return out


def save(path: str, text: str) -> None:
    """Write the observation in one rename (a reader never sees half a file)."""
    import tempfile

    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".hardener-observed-", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
        tmp = None
    finally:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)


def render_text(doc: dict) -> str:
    rows = [("SERVICE", "MEMORY PEAK", "STEADY", "PIDS", "CPU", "USERS", "LISTENS", "CAPS", "WRITES OUTSIDE VOLUMES")]
    for name, s in doc["services"].items():
        mem = s["memory"]
        uids = sorted({p["uid"] for p in s["users"]["processes"]})
        rows.append((name, _size(mem["peak_bytes"]), _size(mem["steady_bytes"]), str(s["pids"]["peak"] or "-"),
                     f"{s['cpu']['average_cores']:.2f}" if s["cpu"]["average_cores"] is not None else "-",
                     f"{s['users']['pattern']} ({','.join(map(str, uids))})",
                     ",".join(dict.fromkeys(f"{p['port']}/{p['protocol']}" for p in s["listening"] or ())) or "-",
                     _caps(s.get("capabilities") or {}),
                     " ".join(w["path"] + ("*" if w.get("image_files") else "") for w in s["written_paths"]) or "-"))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r[:-1], widths)) + "  " + r[-1] for r in rows]
    lines.append("* the image has files there: a tmpfs would hide them (use a volume)")
    return "\n".join(lines) + "\n"


def _caps(record: dict) -> str:
    if record.get("method") == "probed":
        return "probed:" + ("ok" if (record.get("probe") or {}).get("ok") else "FAILED")
    return "inferred"


def _size(n) -> str:
    if n is None:
        return "-"
    for unit, size in (("G", 1 << 30), ("M", 1 << 20), ("K", 1 << 10)):
        if n >= size:
            return f"{n / size:.1f}{unit}"
    return f"{n}B"
