"""The checked-in hardened example is what the tool produces, and the README stays true."""
import re
import subprocess
import sys
from pathlib import Path

from hardener import harden
from hardener.rules import RULES

ROOT = Path(__file__).resolve().parents[1]


def test_hardened_example_is_current():
    source = (ROOT / "examples" / "compose.yaml").read_text()
    expected = (ROOT / "examples" / "hardened" / "compose.yaml").read_text()
    remaining, fixed, output = harden(source, unsafe_fixes=True)
    assert output == expected, "regenerate: cp examples/compose.yaml examples/hardened/ && hardener fix --unsafe-fixes examples/hardened/compose.yaml"
    assert fixed and not [f for f in remaining if f.fix]


def test_readme_lists_every_rule():
    readme = (ROOT / "README.md").read_text()
    listed = set(re.findall(r"^\| ([A-Z]+[0-9]{3}) \|", readme, re.M))
    assert listed == {r.ID for r in RULES}


def test_readme_quick_start_command_runs(tmp_path):
    readme = (ROOT / "README.md").read_text()
    command = re.search(r"hardener (fix --diff[^\n]*examples/)", readme).group(1).split()
    proc = subprocess.run([sys.executable, "-m", "hardener", *command], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "+      - \"127.0.0.1:80:80\"" in proc.stdout
