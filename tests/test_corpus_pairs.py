"""Real files read together: pairs of corpus files from the same repository, given as one project
(`--file a --file b`, as `docker compose -f a -f b` reads them), through the real CLI. Same-repository
files share service names, volumes and networks, so Compose's cross-file merge is exercised on
structures nobody wrote for these tests. For each pair: no crash, Compose still accepts the project
when it did before, a second `fix` changes nothing; with the first file read-only it stays
byte-identical."""
from __future__ import annotations

import itertools
import shutil
import subprocess
from collections import defaultdict

import pytest

from compose_tools import CORPUS, load_manifest

PAIRS = 24  # a deterministic sample: about 20 s per mode on 2 cores
DEFAULT_PAIRS = 2  # of them in the default run; the others in the corpus tier (pytest -m corpus)


def _same_repo_pairs() -> list[tuple[str, str]]:
    by_repo = defaultdict(list)
    for row in load_manifest().values():
        if row.accepted and (CORPUS / row.file).is_file():
            by_repo[row.repo].append(row.file)
    pairs = [p for repo in sorted(by_repo) for p in itertools.permutations(sorted(by_repo[repo]), 2)]
    step = max(1, len(pairs) // PAIRS)
    return pairs[::step][:PAIRS]


def _params():
    pairs = _same_repo_pairs()
    if pairs:
        return [pytest.param(a, b, id=f"{a}+{b}", marks=() if i < DEFAULT_PAIRS else pytest.mark.corpus)
                for i, (a, b) in enumerate(pairs)]
    reason = f"shared corpus or its MANIFEST not found at {CORPUS}"
    return [pytest.param(None, None, marks=pytest.mark.skip(reason=reason), id="no-corpus"),
            pytest.param(None, None, marks=[pytest.mark.skip(reason=reason), pytest.mark.corpus],
                         id="no-corpus-tier")]


def _config(binary: str, folder, names) -> int:
    args = [binary] + [arg for name in names for arg in ("-f", name)] + ["config", "--quiet"]
    proc = subprocess.run(args, cwd=folder, capture_output=True, timeout=60,
                          env={"PATH": "/usr/bin:/bin", "HOME": str(folder)})
    return proc.returncode


@pytest.mark.parametrize("read_only", [False, True], ids=["both-writable", "first-read-only"])
@pytest.mark.parametrize("first, second", _params())
def test_a_pair_of_real_files_as_one_project(run_cli, compose_binary, tmp_path, first, second, read_only):
    names = ["a.yaml", "b.yaml"]
    shutil.copyfile(CORPUS / first, tmp_path / "a.yaml")
    shutil.copyfile(CORPUS / second, tmp_path / "b.yaml")
    accepted = _config(compose_binary, tmp_path, names) == 0
    args = ["fix", "--unsafe-fixes", "--isolated", *(["--read-only", "a.yaml"] if read_only else []),
            "--file", "a.yaml", "--file", "b.yaml"]
    first_run = run_cli(*args, cwd=tmp_path, timeout=120)
    assert "Traceback" not in first_run.stderr, first_run.stderr
    assert first_run.returncode in (0, 1, 2), first_run.stderr
    if accepted:
        assert _config(compose_binary, tmp_path, names) == 0, "compose no longer accepts the fixed project"
    if read_only:
        assert (tmp_path / "a.yaml").read_bytes() == (CORPUS / first).read_bytes()
    after = [(tmp_path / n).read_bytes() for n in names]
    second_run = run_cli(*args, cwd=tmp_path, timeout=120)
    assert [(tmp_path / n).read_bytes() for n in names] == after, "a second fix changed the project"
    assert second_run.returncode in (0, 1, 2)
