"""Golden files: the reports of the insecure example stack (examples/compose.yaml) in every output format
`check` knows (hardener.formats.FORMATS), and `fix --diff --unsafe-fixes`, compared byte for byte with
tests/golden/. A format without a golden file fails too, so a new format gets one.

After an intended change of the output (a message, a rule's documentation, a new rule, a format):

    HARDENER_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_golden.py    # or --update-golden

rewrites the files; review them with `git diff tests/golden/` before committing. The tool's version is
written as <version> and the checkout's folder as <repo>, so that neither a release nor another clone
changes them.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

import hardener
from hardener.formats import FORMATS

from conftest import REPO, run_cli

GOLDEN = Path(__file__).resolve().parent / "golden"
EXAMPLE = "examples/compose.yaml"
SUFFIX = {"text": "txt", "json": "json", "sarif": "sarif", "github": "txt", "gitlab": "json", "markdown": "md", "html": "html",
          "suggestions": "json"}

CASES = [pytest.param(("check", "--isolated", "--format", fmt, EXAMPLE), f"check.{fmt}.{SUFFIX.get(fmt, 'txt')}",
                      id=f"check-{fmt}") for fmt in FORMATS]
CASES.append(pytest.param(("fix", "--isolated", "--diff", "--unsafe-fixes", EXAMPLE), "fix-diff-unsafe.patch",
                          id="fix-diff"))
# the verification section (hardener verify --format json of a real run on the runtime tier's engine:
# the example stack healthy with its unsafe fixes, and nginx under an unknown name that they stop)
VERIFIED = "tests/fixtures/verification/"
CASES += [pytest.param(("check", "--isolated", "--format", fmt, "--patch", "unsafe", "--verification", VERIFIED + json_file,
                        target), f"check-verified{suffix}.{fmt}.{SUFFIX[fmt]}", id=f"check-verified{suffix}-{fmt}")
          for fmt in ("markdown", "html")
          for json_file, target, suffix in (("example.json", EXAMPLE, ""),
                                            ("nginx-unknown/verification.json", VERIFIED + "nginx-unknown", "-regression"))]


def normalized(output: str) -> str:
    """The output with what depends on the machine or release replaced: the checkout's folder (SARIF's
    base URI) and the tool's version."""
    return (output.replace(REPO.as_uri() + "/", "file:///<repo>/").replace(str(REPO), "<repo>")
            .replace(hardener.__version__, "<version>"))


def updating(request) -> bool:
    return bool(request.config.getoption("update_golden") or os.environ.get("HARDENER_UPDATE_GOLDEN"))


@pytest.mark.parametrize("args, name", CASES)
def test_output_matches_the_golden_file(request, args, name):
    proc = run_cli(*args, cwd=REPO)
    assert proc.returncode == 1, proc.stderr  # the example has findings: exit 1 in every format
    output = normalized(proc.stdout)
    assert output, proc.stderr
    path = GOLDEN / name
    if updating(request):
        path.write_bytes(output.encode("utf-8"))
        return
    assert path.is_file(), (f"no golden file {path.relative_to(REPO)} for {' '.join(args)}: "
                            "HARDENER_UPDATE_GOLDEN=1 pytest tests/test_golden.py")
    expected = path.read_bytes().decode("utf-8")
    assert output == expected, (f"`hardener {' '.join(args)}` differs from {path.relative_to(REPO)}; if the change "
                                "is intended: HARDENER_UPDATE_GOLDEN=1 pytest tests/test_golden.py, then review "
                                "git diff tests/golden/")


def test_every_golden_file_belongs_to_a_case():
    names = {p.values[1] for p in CASES}
    stray = sorted(p.name for p in GOLDEN.iterdir() if p.name not in names)
    assert not stray, f"golden files no test compares (a format was renamed or removed?): {stray}"
