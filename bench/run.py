#!/usr/bin/env python3
"""Benchmark hardener against its peers in one run and print medians, ratios and peak memory.

    .venv/bin/python bench/run.py                 # everything, 5 repetitions
    .venv/bin/python bench/run.py --reps 3 --no-dclint --sizes 10,100,1000

Peers are installed once into a cache folder (default bench/.cache): compose-lint from PyPI into its own
virtual environment, dclint from npm into its own prefix. A peer that cannot be installed is skipped
with the reason printed. hardener is the one importable by the interpreter running this script.

Every tool gets the same explicit list of files: a copy of the shared corpus in a temporary folder.
The timed runs alternate tools (the order rotates each repetition, after one untimed warm-up run of
each), and each run's peak memory is the child's peak RSS (ru_maxrss, taken through GNU time when it is
installed: see _gnu_time). Only ratios measured in this
one run are printed; nothing here is a claim about another machine.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
CORPUS = REPO.parent / "shared" / "corpus" / "files"
COMPOSE_LINT = "compose-lint==0.36.2"
DCLINT = "dclint"


# --------------------------------------------------------------------------- running one command

@dataclass
class Sample:
    seconds: float
    max_rss_mb: float
    code: int | None  # None when the run was stopped at the timeout
    cpu: float = 0.0  # user + system seconds of the command and every process it waited for


@dataclass
class Scenario:
    name: str
    cmd: list[str]
    cwd: Path
    ok_codes: tuple[int, ...] = (0, 1)
    samples: list[Sample] = field(default_factory=list)

    def median(self) -> float | None:
        done = [s.seconds for s in self.samples if s.code is not None]
        return statistics.median(done) if done else None

    def median_cpu(self) -> float | None:
        done = [s.cpu for s in self.samples if s.code is not None]
        return statistics.median(done) if done else None

    def peak_mb(self) -> float | None:
        done = [s.max_rss_mb for s in self.samples if s.code is not None]
        return max(done) if done else None


def clean_env(home: Path) -> dict:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "LANG": "C.UTF-8",
           "NO_COLOR": "1", "TERM": "dumb"}
    return env


def _gnu_time() -> str | None:
    """GNU time, used as a small launcher: on Linux a child's ru_maxrss starts at the RSS of the process
    that forked it (the kernel keeps the pre-exec high-water mark), so measuring from this Python process
    would add its own ~30 MB to every tool. GNU time forks from a ~1 MB process instead."""
    path = shutil.which("time") or ("/usr/bin/time" if os.path.exists("/usr/bin/time") else None)
    if path is None:
        return None
    try:
        out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return path if "GNU" in out.stdout + out.stderr else None


GNU_TIME = _gnu_time()


def run_once(cmd: list[str], cwd: Path, env: dict, timeout: float) -> Sample:
    """Run cmd with output thrown away; wall time, the child's peak RSS and exit code."""
    rss_file = None
    if GNU_TIME:
        fd, rss_file = tempfile.mkstemp(prefix="rss-")
        os.close(fd)
        cmd = [GNU_TIME, "-f", "%M", "-o", rss_file, *cmd]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    timer = threading.Timer(timeout, proc.kill)
    timer.start()
    try:
        _, status, usage = os.wait4(proc.pid, 0)
    finally:
        timer.cancel()
    seconds = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    proc.returncode = code  # reaped here; tell Popen so that it does not wait again
    max_rss_kb = usage.ru_maxrss
    if rss_file:
        try:
            max_rss_kb = int(Path(rss_file).read_text().split()[-1])
        except (ValueError, IndexError, OSError):
            pass
        os.unlink(rss_file)
    timed_out = seconds >= timeout and code < 0
    return Sample(seconds, max_rss_kb / 1024, None if timed_out else code, usage.ru_utime + usage.ru_stime)


# --------------------------------------------------------------------------- peers

def python_peer(cache: Path, requirement: str, script: str) -> tuple[list[str] | None, str]:
    """Install a PyPI tool into its own venv under the cache; (command, note)."""
    name = requirement.split("==")[0]
    venv = cache / f"venv-{requirement.replace('==', '-')}"
    exe = venv / "bin" / script
    if not exe.exists():
        print(f"  installing {requirement} into {venv} ...", flush=True)
        try:
            subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True, capture_output=True)
            subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                            requirement], check=True, capture_output=True, timeout=600)
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
            err = getattr(exc, "stderr", b"") or b""
            return None, f"{name} skipped: pip install failed ({exc}; {err.decode(errors='replace')[-300:].strip()})"
    version = subprocess.run([str(exe), "--version"], capture_output=True, text=True).stdout.strip()
    return [str(exe)], f"{name}: {version} ({exe})"


def npm_peer(cache: Path, package: str) -> tuple[list[str] | None, str]:
    """Install an npm tool into its own prefix under the cache; (command, note)."""
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        return None, f"{package} skipped: node/npm not found on PATH"
    try:
        info = subprocess.run([npm, "view", package, "name", "version", "bin", "--json"], capture_output=True, text=True,
                              timeout=120, check=True)
        meta = json.loads(info.stdout)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, ValueError) as exc:
        return None, f"{package} skipped: `npm view {package}` failed ({exc})"
    if meta.get("name") != package:
        return None, f"{package} skipped: npm knows it as {meta.get('name')!r}"
    version = meta["version"]
    prefix = cache / f"npm-{package}-{version}"
    exe = prefix / "node_modules" / ".bin" / package
    if not exe.exists():
        print(f"  installing {package}@{version} into {prefix} ...", flush=True)
        try:
            subprocess.run([npm, "install", "--prefix", str(prefix), "--no-audit", "--no-fund", "--silent",
                            f"{package}@{version}"], check=True, capture_output=True, timeout=600)
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
            return None, f"{package} skipped: npm install failed ({exc})"
    if not exe.exists():
        return None, f"{package} skipped: no {exe} after npm install"
    return [str(exe)], f"{package}: {version} ({exe})"


def hardener_command() -> list[str]:
    script = Path(sys.executable).with_name("hardener")
    return [str(script)] if script.exists() else [sys.executable, "-m", "hardener"]


# --------------------------------------------------------------------------- generated files

def generated_compose(services: int) -> str:
    """A realistic compose file: a shared anchor, comments, ports, volumes, environment, networks."""
    out = ["# generated for bench/run.py", "x-common: &common", "  restart: unless-stopped",
           "  environment:", "    TZ: UTC", "", "services:"]
    for i in range(services):
        out += [
            f"  # service {i}",
            f"  svc{i}:",
            "    <<: *common" if i % 3 == 0 else f"    restart: always  # {i}",
            f"    image: registry.example.com/team/app{i % 17}:1.{i % 10}",
            "    ports:",
            f"      - \"{10000 + i}:8080\"",
            "    volumes:",
            f"      - ./data/{i}:/var/lib/app",
            f"      - ./conf/app{i}.conf:/etc/app/app.conf",
            "    environment:",
            f"      APP_NAME: app{i}",
            "      LOG_LEVEL: ${LOG_LEVEL:-info}",
        ]
        if i:
            out += ["    depends_on:", f"      - svc{i - 1}"]
    return "\n".join(out) + "\n"


BIG_SERVICES = 4000  # compose-lint refuses a file with more than 4,096 services
_DIGEST = "@sha256:" + "0123456789abcdef" * 4


def big_compose(services: int = BIG_SERVICES) -> str:
    """One big, realistic project file: a mix of real images (datastores, web servers, app images, some
    pinned by digest), published ports (some already on loopback), bind and named volumes, environment
    as a mapping or a list, anchors for shared settings (merged with `<<`, a logging block used as an
    alias), healthchecks, users, capabilities, read-only root file systems, networks and depends_on.
    Part of it is already hardened, so that compose-lint grades every service of 4,000 without reaching
    its limit of 20,000 findings (it stops grading there). Compose accepts the file as it is."""
    images = ["postgres:16", "redis:7", "nginx:1.27", "mariadb:11", "registry.example.com/team/api:2.{m}" + _DIGEST,
              "ghcr.io/example/worker:1.{m}" + _DIGEST, "python:3.12-slim", "node:20-alpine", "busybox:1.36",
              "registry.example.com/team/web:3.{m}" + _DIGEST]
    out = ["# generated for bench/run.py: one big project file",
           "x-logging: &logging", "  driver: json-file", "  options:", "    max-size: 10m", "",
           "x-common: &common", "  restart: unless-stopped", "  logging: *logging", "  security_opt:",
           "    - no-new-privileges:true", "  environment:", "    TZ: UTC", "    LOG_FORMAT: json", "",
           "x-limits: &limits", "  deploy:", "    resources:", "      limits:", "        memory: 256M",
           "        cpus: '0.50'", "", "services:"]
    for i in range(services):
        image = images[i % len(images)].format(m=i % 10)
        kind = i % 10
        out += [f"  # service {i}: {image.split(':')[0].rsplit('/', 1)[-1]}", f"  svc{i}:"]
        if i % 3 == 0:
            out.append("    <<: *common")
        elif i % 3 == 1:
            out += ["    <<: [*common, *limits]"]
        else:
            out += [f"    restart: always  # {i}", "    logging: *logging"]
        out.append(f"    image: {image}")
        if kind in (0, 3):
            out += ["    environment:", f"      - POSTGRES_DB=db{i}" if kind == 0 else f"      - MARIADB_DATABASE=db{i}",
                    "      - PASSWORD_FILE=/run/secrets/db", "    volumes:", f"      - db{i % 50}:/var/lib/data",
                    "    ports:", f"      - \"{20000 + i}:{5432 if kind == 0 else 3306}\""]
        elif kind == 1:
            out += ["    command: [\"redis-server\", \"--appendonly\", \"yes\"]", "    ports:",
                    f"      - \"127.0.0.1:{20000 + i}:6379\""]
        elif kind == 2:
            out += ["    ports:", f"      - \"{20000 + i}:80\"", "    volumes:",
                    f"      - ./site/{i}:/usr/share/nginx/html:ro", "      - ./nginx.conf:/etc/nginx/nginx.conf:ro",
                    "    healthcheck:", "      test: [\"CMD\", \"wget\", \"-qO-\", \"http://localhost/\"]",
                    "      interval: 30s"]
        else:
            out += ["    environment:", f"      APP_NAME: app{i}", "      LOG_LEVEL: ${LOG_LEVEL:-info}",
                    f"      DATABASE_URL: postgres://app@svc{i - i % 10}/db{i - i % 10}",
                    "    ports:", f"      - \"{20000 + i}:8080\"", "    volumes:",
                    f"      - ./data/{i}:/var/lib/app", f"      - ./conf/app{i}.conf:/etc/app/app.conf:ro"]
            if kind in (5, 7, 9):
                out += ["    read_only: true", "    tmpfs:", "      - /tmp"]
            if kind == 4:
                out += ["    user: \"1000:1000\"", "    cap_drop:", "      - ALL", "    cap_add:", "      - NET_BIND_SERVICE"]
            if kind == 5:
                out += ["    networks:", "      - front", "      - back"]
        if i % 10:
            out += ["    depends_on:", f"      - svc{i - i % 10}"]
    out += ["", "networks:", "  front: {}", "  back: {}", "", "volumes:"]
    out += [f"  db{n}: {{}}" for n in range(min(50, services))]
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- the run

def digest(folder: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(folder.rglob("*")):
        if p.is_file():
            h.update(p.name.encode() + b"\0" + p.read_bytes())
    return h.hexdigest()


def timed_round_robin(scenarios: list[Scenario], reps: int, env: dict, timeout: float, label: str):
    for s in scenarios:  # warm-up: page cache, .pyc files, node's compile cache
        run_once(s.cmd, s.cwd, env, timeout)
    for rep in range(reps):
        k = rep % len(scenarios)
        for s in scenarios[k:] + scenarios[:k]:
            s.samples.append(run_once(s.cmd, s.cwd, env, timeout))
        print(f"  {label}: repetition {rep + 1}/{reps} done", flush=True)


def fmt_s(x: float | None) -> str:
    return "timeout" if x is None else f"{x:.3f}"


def ratio(a: float | None, b: float | None) -> str:
    return "n/a" if a is None or b is None or b == 0 else f"{a / b:.2f}x"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reps", type=int, default=5, help="timed repetitions of each corpus run (default 5)")
    ap.add_argument("--scaling-reps", type=int, default=3, help="repetitions of each scaling run (default 3)")
    ap.add_argument("--sizes", default="10,100,1000,5000", help="services per generated file for the scaling run")
    ap.add_argument("--timeout", type=float, default=180.0, help="seconds before a single run is stopped")
    ap.add_argument("--cache", type=Path, default=Path(os.environ.get("HARDENER_BENCH_CACHE", HERE / ".cache")))
    ap.add_argument("--corpus", type=Path, default=CORPUS)
    ap.add_argument("--no-dclint", action="store_true", help="leave dclint out (it is much slower than the others)")
    ap.add_argument("--no-scaling", action="store_true")
    ap.add_argument("--big-services", type=int, default=BIG_SERVICES,
                    help=f"services in the one big file (default {BIG_SERVICES}; 0 leaves the big-file runs out)")
    ap.add_argument("--big-reps", type=int, default=3, help="timed repetitions of each big-file run (default 3)")
    args = ap.parse_args(argv)

    if not args.corpus.is_dir():
        print(f"corpus not found: {args.corpus}", file=sys.stderr)
        return 2
    args.cache.mkdir(parents=True, exist_ok=True)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cpus, Python {platform.python_version()}, "
          f"{platform.system()} {platform.release()}")
    print("peak memory: " + ("GNU time %M (the child's own peak RSS)" if GNU_TIME else
                             "wait4 ru_maxrss, which on Linux includes this script's own RSS (no GNU time found)"))
    print("peers:")
    hardener = hardener_command()
    version = subprocess.run(hardener + ["--version"], capture_output=True, text=True).stdout.strip()
    print(f"  hardener: {version} ({' '.join(hardener)})")
    compose_lint, note = python_peer(args.cache, COMPOSE_LINT, "compose-lint")
    print(f"  {note}")
    dclint, note = (None, "dclint skipped: --no-dclint") if args.no_dclint else npm_peer(args.cache, DCLINT)
    print(f"  {note}")

    work = Path(tempfile.mkdtemp(prefix="hardener-bench-"))
    try:
        return _bench(args, work, hardener, compose_lint, dclint)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _bench(args, work: Path, hardener, compose_lint, dclint) -> int:
    home = work / "home"
    home.mkdir()
    env = clean_env(home)
    corpus = work / "corpus"
    corpus.mkdir()
    names = sorted(p.name for p in args.corpus.iterdir() if p.is_file())
    for name in names:
        shutil.copyfile(args.corpus / name, corpus / name)
    before = digest(corpus)
    print(f"\ncorpus: {len(names)} files, {sum((corpus / n).stat().st_size for n in names) / 1e6:.2f} MB, "
          f"copied to {corpus}; {len(os.sched_getaffinity(0))} cores usable; load average (1, 5, 15 min) "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())} (other work on the machine slows every tool alike only "
          f"roughly: compare ratios of one run, medians)")

    # compose-lint grades each file on its own (no override merge, no .env), and grades files whose
    # include/extends target is missing instead of stopping: the same work hardener does per file.
    cl_check = ["check", "-q", "--no-merge-overrides", "--no-env", "--allow-partial-coverage"]
    # hardener spreads a folder scan over the cores (--jobs 0, the default); the --jobs 1 runs show
    # what one process does, for a comparison of the work itself
    scenarios = [Scenario("hardener check", hardener + ["check", *names], corpus),
                 Scenario("hardener fix --diff --unsafe-fixes", hardener + ["fix", "--diff", "--unsafe-fixes", *names],
                          corpus),
                 Scenario("hardener check --jobs 1", hardener + ["check", "--jobs", "1", *names], corpus),
                 Scenario("hardener fix --diff --jobs 1", hardener + ["fix", "--diff", "--unsafe-fixes", "--jobs", "1",
                                                                      *names], corpus)]
    if compose_lint:
        scenarios.append(Scenario("compose-lint check", compose_lint + cl_check + names, corpus, (0, 1, 2)))
    if dclint:
        scenarios.append(Scenario("dclint", dclint + ["--no-color", *names], corpus, (0, 1)))
    startups = [Scenario("hardener --version", hardener + ["--version"], work, (0,))]
    if compose_lint:
        startups.append(Scenario("compose-lint --version", compose_lint + ["--version"], work, (0,)))
    if dclint:
        startups.append(Scenario("dclint --version", dclint + ["--version"], work, (0,)))

    # one untimed run with output, to show that every tool saw every file
    print("\nwhat each tool reports on the corpus (untimed):")
    for s in scenarios:
        # output goes to a file, not a pipe: node may exit before a pipe has taken all of its output
        with tempfile.TemporaryFile() as out:
            proc = subprocess.run(s.cmd, cwd=s.cwd, env=env, stdout=out, stderr=subprocess.STDOUT, timeout=args.timeout)
            out.seek(0)
            text = out.read().decode("utf-8", "replace")
        if "Traceback (most recent call last)" in text:
            print(f"ERROR: {s.name} crashed:\n{text[-2000:]}", file=sys.stderr)
            return 1
        tail = [line for line in text.splitlines() if line.strip()]
        summary = next((line for line in reversed(tail) if any(w in line for w in ("Found", "scanned", "problems"))),
                       tail[-1] if tail else "")
        print(f"  {s.name:38} exit {proc.returncode}: {summary.strip()[:150]}")

    print(f"\ntimed corpus runs ({args.reps} repetitions, alternating):", flush=True)
    timed_round_robin(scenarios + startups, args.reps, env, args.timeout, "corpus")
    if digest(corpus) != before:
        print("ERROR: a tool changed the corpus copy", file=sys.stderr)
        return 1

    big = _big_file(args, work, env, hardener, compose_lint, cl_check) if args.big_services else []

    scaling = []
    if not args.no_scaling:
        sizes = [int(x) for x in args.sizes.split(",") if x]
        gen = work / "generated"
        gen.mkdir()
        print(f"\nscaling runs ({args.scaling_reps} repetitions; sizes {sizes}):", flush=True)
        for n in sizes:
            name = f"compose-{n}.yaml"
            (gen / name).write_text(generated_compose(n))
            row = [Scenario(f"hardener check ({n})", hardener + ["check", name], gen),
                   Scenario(f"hardener fix --diff ({n})", hardener + ["fix", "--diff", "--unsafe-fixes", name], gen)]
            if compose_lint:
                row.append(Scenario(f"compose-lint check ({n})", compose_lint + cl_check + [name], gen, (0, 1, 2)))
            for s in row:
                s.samples.append(run_once(s.cmd, s.cwd, env, args.timeout))  # the first run counts: big files are slow
            for _ in range(args.scaling_reps - 1):
                for s in row:
                    if s.samples[0].seconds < 20 and s.samples[0].code is not None:
                        s.samples.append(run_once(s.cmd, s.cwd, env, args.timeout))
            scaling.append((n, row))
            print(f"  {n} services done", flush=True)

    report(scenarios, startups, scaling, args, big)
    print(f"load average (1, 5, 15 min) at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    bad = [s for s in scenarios + startups + big if any(x.code is not None and x.code not in s.ok_codes for x in s.samples)]
    for s in bad:
        print(f"WARNING: {s.name} exited with {sorted({x.code for x in s.samples})}", file=sys.stderr)
    return 0


def _big_file(args, work: Path, env, hardener, compose_lint, cl_check) -> list[Scenario]:
    """Time check, fix --diff and compose-lint's check on one generated file of --big-services
    services, alternating, and say whether compose-lint graded all of it."""
    folder = work / "big"
    folder.mkdir()
    name = "compose.yaml"
    (folder / name).write_text(big_compose(args.big_services))
    size = (folder / name).stat().st_size
    print(f"\none big file: {args.big_services} services, {size / 1e6:.2f} MB ({args.big_reps} repetitions, alternating)",
          flush=True)
    row = [Scenario("hardener check (big file)", hardener + ["check", name], folder),
           Scenario("hardener fix --diff --unsafe-fixes (big file)", hardener + ["fix", "--diff", "--unsafe-fixes", name],
                    folder)]
    if compose_lint:
        row.append(Scenario("compose-lint check (big file)", compose_lint + cl_check + [name], folder, (0, 1)))
        proc = subprocess.run(compose_lint + cl_check + [name], cwd=folder, env=env, capture_output=True, text=True,
                              timeout=args.timeout)
        last = next((line for line in reversed(proc.stdout.splitlines()) if line.strip()), "")
        stopped = "grading stopped" in proc.stdout + proc.stderr
        print(f"  compose-lint exit {proc.returncode}: {last.strip()[:120]}"
              + (" -- WARNING: it stopped grading part way (its finding limit)" if stopped else " (graded all of it)"))
    timed_round_robin(row, args.big_reps, env, args.timeout, "big file")
    return row


def report(scenarios, startups, scaling, args, big=()):
    by = {s.name: s for s in scenarios + startups}
    cl = by.get("compose-lint check")
    print("\n" + "=" * 100)
    print(f"{'run':40} {'median s':>9} {'min s':>8} {'max s':>8} {'cpu s':>8} {'peak MB':>8} {'exit':>6}")
    for s in scenarios + startups:
        done = [x.seconds for x in s.samples if x.code is not None]
        codes = ",".join(str(c) for c in sorted({x.code for x in s.samples if x.code is not None}))
        print(f"{s.name:40} {fmt_s(s.median()):>9} {fmt_s(min(done) if done else None):>8} "
              f"{fmt_s(max(done) if done else None):>8} {fmt_s(s.median_cpu()):>8} {s.peak_mb() or 0:8.1f} {codes:>6}")

    print("\nratios (medians of this run)")
    h_check, h_fix = by["hardener check"].median(), by["hardener fix --diff --unsafe-fixes"].median()
    cl_m = cl.median() if cl else None
    rows = [("hardener check / compose-lint check", ratio(h_check, cl_m), "<= 0.50x",
             _met(h_check, cl_m, 0.5)),
            ("hardener fix --diff --unsafe-fixes / compose-lint check", ratio(h_fix, cl_m), "<= 1.00x",
             _met(h_fix, cl_m, 1.0))]
    one_check, one_fix = by["hardener check --jobs 1"].median(), by["hardener fix --diff --jobs 1"].median()
    rows += [("  one process: check --jobs 1 / compose-lint check", ratio(one_check, cl_m), "", ""),
             ("  one process: fix --diff --jobs 1 / compose-lint check", ratio(one_fix, cl_m), "", ""),
             ("  cpu seconds: hardener check / compose-lint check",
              ratio(by["hardener check"].median_cpu(), cl.median_cpu() if cl else None), "", "")]
    if "dclint" in by:
        rows.append(("hardener check / dclint", ratio(h_check, by["dclint"].median()), "", ""))
    h_up = by["hardener --version"].median()
    for peer in ("compose-lint --version", "dclint --version"):
        if peer in by:
            rows.append((f"hardener --version / {peer}", ratio(h_up, by[peer].median()), "", ""))
    for name, value, goal, met in rows:
        print(f"  {name:58} {value:>8} {goal:>9} {met}")

    if big:
        by_big = {s.name.split(" (")[0]: s for s in big}
        print(f"\none big file ({args.big_services} services; medians of {args.big_reps}, peak of every run)")
        print(f"  {'run':44} {'median s':>9} {'cpu s':>8} {'peak MB':>8}")
        for s in big:
            print(f"  {s.name:44} {fmt_s(s.median()):>9} {fmt_s(s.median_cpu()):>8} {s.peak_mb() or 0:8.1f}")
        peer = by_big.get("compose-lint check")
        if peer is not None:
            p_m, p_mb = peer.median(), peer.peak_mb()
            b_check, b_fix = by_big["hardener check"], by_big["hardener fix --diff --unsafe-fixes"]
            rows = [("big file: hardener check / compose-lint check", ratio(b_check.median(), p_m), "<= 0.60x",
                     _met(b_check.median(), p_m, 0.6)),
                    ("big file: fix --diff --unsafe-fixes / compose-lint check", ratio(b_fix.median(), p_m), "<= 1.50x",
                     _met(b_fix.median(), p_m, 1.5)),
                    ("big file: peak MB, check / compose-lint check", ratio(b_check.peak_mb(), p_mb), "<= 1.00x",
                     _met(b_check.peak_mb(), p_mb, 1.0)),
                    ("big file: peak MB, fix --diff / compose-lint check", ratio(b_fix.peak_mb(), p_mb), "<= 1.00x",
                     _met(b_fix.peak_mb(), p_mb, 1.0)),
                    ("  cpu seconds: check / compose-lint check", ratio(b_check.median_cpu(), peer.median_cpu()), "", ""),
                    ("  cpu seconds: fix --diff / compose-lint check", ratio(b_fix.median_cpu(), peer.median_cpu()), "",
                     "")]
            for name, value, goal, met in rows:
                print(f"  {name:58} {value:>8} {goal:>9} {met}")

    if scaling:
        print("\nscaling (generated files; time per service should stay flat)")
        print(f"  {'services':>8} {'tool':28} {'median s':>9} {'ms/service':>11} {'marginal ms/svc':>16}"
              f" {'time ratio (size ratio)':>24} {'peak MB':>8}")
        previous: dict[str, tuple[int, float | None]] = {}
        for n, row in scaling:
            for s in row:
                tool = s.name.rsplit(" (", 1)[0]
                m = s.median()
                per = f"{1000 * m / n:11.2f}" if m is not None else f"{'timeout':>11}"
                step = marginal = ""
                if tool in previous and previous[tool][1] and m is not None:
                    prev_n, prev_m = previous[tool]
                    step = f"{m / prev_m:.1f}x ({n // prev_n}x)"
                    marginal = f"{1000 * (m - prev_m) / (n - prev_n):.2f}"
                print(f"  {n:>8} {tool:28} {fmt_s(m):>9} {per} {marginal:>16} {step:>24} {s.peak_mb() or 0:8.1f}")
                previous[tool] = (n, m)
        print("  marginal ms/svc: extra time per extra service since the previous size (start-up excluded);")
        print("  flat means linear. A 10x larger file taking ~10x the time is linear; ~100x is quadratic.")
    print("=" * 100)


def _met(a, b, goal) -> str:
    if a is None or b is None:
        return ""
    return "met" if a / b <= goal else "NOT met"


if __name__ == "__main__":
    sys.exit(main())
