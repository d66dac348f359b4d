"""The checked-in hardened example is what the tool produces, and the README stays true."""
import re
import subprocess
import sys
from pathlib import Path

from hardener import harden
from hardener.host import HOST_CHECKS
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
    listed = set(re.findall(r"^\| \[([A-Z]+[0-9]{3})\]", readme, re.M))
    assert listed == {r.ID for r in RULES} | {h.ID for h in HOST_CHECKS}


def test_generated_docs_are_current():
    from hardener.docs import outputs

    stale = [str(p.relative_to(ROOT)) for p, text in outputs().items()
             if not p.exists() or p.read_text(encoding="utf-8") != text]
    assert not stale, f"run `python -m hardener.docs`: {stale}"


def test_every_attack_tree_node_is_mapped():
    from hardener.attack_tree import NODES
    from hardener.docs import all_checks

    mapped = {n for r in all_checks() for n in r.ATTACK_TREE}
    assert set(NODES) <= mapped, f"unmapped nodes: {sorted(set(NODES) - mapped)}"
    host_nodes = {n.id for n in NODES.values() if n.where == "host"}
    from hardener.host import HOST_CHECKS
    assert host_nodes <= {n for h in HOST_CHECKS for n in h.ATTACK_TREE}


def test_readme_quick_start_command_runs(tmp_path):
    readme = (ROOT / "README.md").read_text()
    command = re.search(r"hardener (fix --diff[^\n]*examples/)", readme).group(1).split()
    proc = subprocess.run([sys.executable, "-m", "hardener", *command], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "+      - \"127.0.0.1:8000:8000\"" in proc.stdout
