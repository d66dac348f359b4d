"""IMG001 (an unpinned image) is a supply-chain risk: the reports place it under hardener's added
supply-chain node 6.1.1, never under the seed tree's "1.1.1 Unpatched host kernel", which stays the
host audit's (HOST001)."""
from __future__ import annotations

import re

from hardener.attack_tree import BRANCHES, NODES
from hardener.rules import RULES

from conftest import put, run_cli, y

UNPINNED = y("services:", "  web:", "    image: nginx", "  cache:", "    image: redis:latest")


def test_img001_maps_to_the_supply_chain_node_only():
    assert next(r for r in RULES if r.ID == "IMG001").ATTACK_TREE == ("6.1.1",)
    node = NODES["6.1.1"]
    assert node.branch == "6" and "Supply chain" in BRANCHES["6"] and not node.seed
    assert NODES["1.1.1"].where == "host" and NODES["1.1.1"].seed
    assert all(n.seed for n in NODES.values() if n.id != "6.1.1")


def test_reports_group_img001_under_supply_chain(tmp_path):
    put(tmp_path, "compose.yaml", UNPINNED)
    md = run_cli("check", "--select", "IMG001", "-f", "markdown", "compose.yaml", cwd=tmp_path).stdout
    assert re.search(r"^\| 6 Supply chain .*\| 2 \| 6\.1\.1 Unpinned or re-pointable image", md, re.M)
    assert "1.1.1 Unpatched" not in md and "Escape container" not in md
    page = run_cli("check", "--select", "IMG001", "-f", "html", "compose.yaml", cwd=tmp_path).stdout
    branch = page.split("6. Supply chain", 1)[1].split("</ul>", 1)[0]
    assert '<li class="node open">' in branch and "6.1.1" in branch
    kernel = re.search(r'<li class="node (\w+)">\s*<span class="pill \w+">[^<]*</span>\s*<span class="nid">1\.1\.1</span>',
                       page)
    assert kernel and kernel.group(1) == "host", "1.1.1 is the host audit's, not open because of an image"
    sarif = run_cli("check", "--select", "IMG001", "-f", "sarif", "compose.yaml", cwd=tmp_path).stdout
    assert '"6.1.1"' in sarif and '"1.1.1"' not in sarif
