#!/usr/bin/env python3
"""compose-lint as an outside judge of hardener's fixes.

Copies every corpus file into a folder of its own three times, then:
  1. leaves copy A as it is,
  2. runs `compose-lint fix --apply` on copy B (compose-lint's own fixer),
  3. runs `hardener fix --unsafe-fixes` on copy C,
and counts what `compose-lint check` still finds in each. The goal (issue 4): on C at most 40% of what
it finds on B. Each file is judged alone (`--no-merge-overrides --no-env --allow-partial-coverage`),
so both tools see exactly the same inputs.

usage: python bench/judge_compose_lint.py [--corpus DIR] [--hardener CMD] [--compose-lint CMD]
compose-lint 0.36.2 is installed into a cache venv when --compose-lint is not given.
"""
from __future__ import annotations

import argparse
import collections
import json
import os
import shutil
import subprocess
import sys
import tempfile
import venv
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_CORPUS = HERE.parents[1] / "shared" / "corpus" / "files"
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "hardener-bench"
FLAGS = ["--no-merge-overrides", "--no-env"]


def compose_lint() -> str:
    target = CACHE / "compose-lint-0.36.2"
    exe = target / "bin" / "compose-lint"
    if not exe.exists():
        venv.create(target, with_pip=True)
        subprocess.run([str(target / "bin" / "pip"), "install", "-q", "compose-lint==0.36.2"], check=True)
    return str(exe)


def copies(corpus: Path, root: Path) -> list[str]:
    paths = []
    for i, name in enumerate(sorted(os.listdir(corpus))):
        folder = root / str(i)
        folder.mkdir(parents=True)
        shutil.copyfile(corpus / name, folder / name)
        paths.append(str(folder / name))
    return paths


def findings(lint: str, path: str) -> collections.Counter:
    proc = subprocess.run([lint, "check", "--format", "json", "--allow-partial-coverage", *FLAGS, path],
                          capture_output=True, text=True)
    try:
        data = json.loads(proc.stdout)
    except ValueError:
        return collections.Counter()
    return collections.Counter(f["rule_id"] for f in data.get("findings", []) if not f.get("suppressed"))


def total(lint: str, paths: list[str]) -> collections.Counter:
    with ThreadPoolExecutor(4) as pool:
        return sum(pool.map(lambda p: findings(lint, p), paths), collections.Counter())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument("--hardener", default=str(Path(sys.executable).parent / "hardener"))
    ap.add_argument("--compose-lint")
    opt = ap.parse_args()
    if not opt.corpus.is_dir():
        print(f"no corpus at {opt.corpus}", file=sys.stderr)
        return 2
    lint = opt.compose_lint or compose_lint()
    work = Path(tempfile.mkdtemp(prefix="judge-"))
    try:
        original, theirs, ours = (copies(opt.corpus, work / n) for n in ("a", "b", "c"))
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(lambda p: subprocess.run([lint, "fix", "--apply", *FLAGS, p], capture_output=True), theirs))
        subprocess.run([opt.hardener, "fix", "--unsafe-fixes", "-q", *ours], capture_output=True)
        before, after_theirs, after_ours = total(lint, original), total(lint, theirs), total(lint, ours)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    n_before, n_theirs, n_ours = (sum(c.values()) for c in (before, after_theirs, after_ours))
    print(f"files: {len(original)}")
    print(f"compose-lint findings on the originals:                {n_before}")
    print(f"after compose-lint fix --apply:                        {n_theirs}")
    print(f"after hardener fix --unsafe-fixes:                     {n_ours}")
    print(f"ratio hardener / compose-lint fixer: {n_ours / n_theirs:.3f} (goal <= 0.40)")
    rules = sorted(set(after_theirs) | set(after_ours), key=lambda r: -(after_theirs[r] + after_ours[r]))
    print("rule      left after compose-lint fix   left after hardener fix")
    for rule in rules:
        print(f"{rule:9} {after_theirs[rule]:>26} {after_ours[rule]:>25}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
