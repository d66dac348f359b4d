#!/usr/bin/env python3
"""Where `hardener check` spends its time on the corpus.

    .venv/bin/python bench/profile_check.py [--fix] [--top 25]

Three views, all measured in this one run:
1. start-up: `python -c pass`, `hardener --version` and `python -X importtime` of a one-file check,
   with the modules whose import costs the most;
2. the whole command in process under cProfile: self time grouped by package/module (yamltext,
   engine, each rule, output formats, ruamel, typer/click...), and each rule's `check` cumulative time;
3. the functions with the most self time.
"""
from __future__ import annotations

import argparse
import contextlib
import cProfile
import io
import os
import pstats
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
CORPUS = HERE.parent.parent / "shared" / "corpus" / "files"


def wall(cmd, cwd, reps=5) -> float:
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        subprocess.run(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def import_times(cmd, cwd) -> list[tuple[int, int, str]]:
    """(self us, cumulative us, module) from -X importtime."""
    proc = subprocess.run([sys.executable, "-X", "importtime", *cmd], cwd=cwd, capture_output=True, text=True)
    rows = []
    for line in proc.stderr.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)", line)
        if m:
            rows.append((int(m[1]), int(m[2]), len(m[3]), m[4]))
    return rows


def group_of(filename: str) -> str:
    f = filename.replace(os.sep, "/")
    if "/hardener/rules/" in f:
        return "hardener.rules." + Path(f).stem
    if "/hardener/formats/" in f:
        return "hardener.formats"
    if "/hardener/yamltext/" in f:
        return "hardener.yamltext"
    if "/hardener/" in f:
        return "hardener." + Path(f).stem
    for lib in ("ruamel", "typer", "click", "jinja2", "deepdiff", "rich", "yaml"):
        if f"/{lib}/" in f:
            return lib
    if f.startswith("~") or f.startswith("<"):
        return "builtins"
    return "stdlib/other"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", type=Path, default=CORPUS)
    ap.add_argument("--fix", action="store_true", help="profile `fix --diff --unsafe-fixes` instead of `check`")
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--big", type=int, default=0, metavar="N",
                    help="profile one generated file of N services (run.py's big file) instead of the corpus")
    ap.add_argument("--memory", action="store_true",
                    help="also trace allocations (tracemalloc): peak, and the lines holding the most at the end")
    args = ap.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="hardener-profile-"))
    try:
        if args.big:
            sys.path.insert(0, str(HERE))
            from run import big_compose

            names = ["compose.yaml"]
            (work / names[0]).write_text(big_compose(args.big))
        else:
            names = sorted(p.name for p in args.corpus.iterdir() if p.is_file())
            for name in names:
                shutil.copyfile(args.corpus / name, work / name)
        command = ["fix", "--diff", "--unsafe-fixes"] if args.fix else ["check"]
        hardener = [sys.executable, "-m", "hardener"]

        print(f"== 1. start-up and whole-command wall time (medians of 5, {len(names)} files)")
        base = wall([sys.executable, "-c", "pass"], work)
        version = wall(hardener + ["--version"], work)
        one = wall(hardener + ["check", names[0]], work)
        total = wall(hardener + command + names, work)
        print(f"  python -c pass                      {base * 1000:8.0f} ms")
        print(f"  hardener --version                  {version * 1000:8.0f} ms")
        print(f"  hardener check <one file>           {one * 1000:8.0f} ms   (start-up + imports of a real run)")
        print(f"  hardener {' '.join(command):26} {total * 1000:8.0f} ms   (whole corpus)")
        print(f"  => per-file work ~{(total - one) * 1000 / max(len(names) - 1, 1):.2f} ms/file; start-up and imports "
              f"are {100 * one / total:.0f}% of the corpus run")

        rows = import_times(["-m", "hardener", "check", names[0]], work)
        top_level = defaultdict(int)
        for self_us, cum_us, depth, module in rows:
            if depth == 1:  # a module imported directly by the top level (not nested)
                top_level[module.split(".")[0]] += cum_us
        print(f"\n  -X importtime: {sum(r[0] for r in rows) / 1000:.0f} ms of imports in total; by top-level package:")
        for module, us in sorted(top_level.items(), key=lambda kv: -kv[1])[:12]:
            print(f"    {module:30} {us / 1000:8.1f} ms")
        print("  slowest single modules (self time):")
        for self_us, cum_us, depth, module in sorted(rows, key=lambda r: -r[0])[:10]:
            print(f"    {module:45} self {self_us / 1000:6.1f} ms  cumulative {cum_us / 1000:6.1f} ms")

        print(f"\n== 2. in-process cProfile of `hardener {' '.join(command)}` over the corpus")
        from hardener import cli

        profiler = cProfile.Profile()
        old_argv, old_cwd = sys.argv, os.getcwd()
        # one process: cProfile sees only the process it runs in
        sys.argv = ["hardener", *command, "--jobs", "1", *names]
        os.chdir(work)
        sink = io.StringIO()
        start = time.perf_counter()
        try:
            with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(io.StringIO()):
                profiler.enable()
                try:
                    cli.main()
                except SystemExit:
                    pass
                finally:
                    profiler.disable()
        finally:
            sys.argv = old_argv
            os.chdir(old_cwd)
        elapsed = time.perf_counter() - start
        stats = pstats.Stats(profiler)
        raw = stats.stats  # {(file, line, func): (cc, nc, tt, ct, callers)}
        by_group = defaultdict(float)
        for (filename, _, _), (_, _, tt, _, _) in raw.items():
            by_group[group_of(filename)] += tt
        profiled = sum(by_group.values())
        print(f"  profiled run: {elapsed:.2f} s under cProfile (profiling inflates small calls); self time by group:")
        for group, tt in sorted(by_group.items(), key=lambda kv: -kv[1])[:20]:
            print(f"    {group:40} {tt:7.3f} s  {100 * tt / profiled:5.1f}%")

        print("\n  cumulative time of each rule's check() and of the main phases:")
        wanted = {}
        for (filename, line, func), (_, nc, tt, ct, _) in raw.items():
            f = filename.replace(os.sep, "/")
            if "/hardener/rules/" in f and func == "check":
                wanted[f"rule {Path(f).stem}.check"] = (ct, nc)
            elif "/hardener/yamltext/" in f and func in ("parse", "_compose", "decode"):
                wanted[f"yamltext.{func}"] = (ct, nc)
            elif f.endswith("/hardener/engine.py") and func in ("run_rules", "process", "process_project",
                                                                "_fix_to_fixpoint", "_verify", "_one_pass"):
                wanted[f"engine.{func}"] = (ct, nc)
            elif f.endswith("/hardener/compose.py") and func == "of":
                wanted["compose.Context.of"] = (ct, nc)
            elif "/hardener/formats/" in f and func in ("render", "render_text", "finding_line", "summary"):
                wanted[f"formats {Path(f).stem}.{func}"] = (ct, nc)
            elif "/hardener/suppressions" in f and func == "parse_suppressions":
                wanted["suppressions.parse_suppressions"] = (ct, nc)
        for name, (ct, nc) in sorted(wanted.items(), key=lambda kv: -kv[1][0]):
            print(f"    {name:40} {ct:7.3f} s  ({nc} calls)")

        print(f"\n== 3. top {args.top} functions by self time")
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(args.top)
        text = out.getvalue()
        print(text[text.index("   ncalls"):].rstrip() if "   ncalls" in text else text)

        if args.memory:
            memory(command, names, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


def memory(command, names, work) -> None:
    """The same command once more under tracemalloc: the traced peak, and the source lines whose
    allocations are still held when the engine has the results (nodes, findings, edits...)."""
    import tracemalloc

    from hardener import cli, engine

    held = []
    process_project = engine.process_project

    def traced(*a, **k):
        out = process_project(*a, **k)
        if not held:
            held.append(tracemalloc.take_snapshot())
        return out

    engine.process_project = traced
    old_argv, old_cwd = sys.argv, os.getcwd()
    sys.argv = ["hardener", *command, "--jobs", "1", *names]
    os.chdir(work)
    tracemalloc.start()
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            try:
                cli.main()
            except SystemExit:
                pass
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        engine.process_project = process_project
        sys.argv = old_argv
        os.chdir(old_cwd)
    print(f"\n== 4. memory: traced peak {peak / 1e6:.1f} MB (interpreter and imports not included)")
    if held:
        print("  held when the results were ready, by source line:")
        for stat in held[0].statistics("lineno")[:20]:
            frame = stat.traceback[0]
            print(f"    {stat.size / 1e6:7.2f} MB {stat.count:8} blocks  {frame.filename.split('/hardener/')[-1]}:{frame.lineno}")


if __name__ == "__main__":
    sys.exit(main())
