"""The shape of hardener/host/ (issue 16): one module per host check like hardener/rules/, an explicit
registry that lists every check module, checks that import no other check and read no input
themselves, and reading kept apart from judging."""
from __future__ import annotations

import ast
import pkgutil
from pathlib import Path

import pytest

from hardener import host, rules
from hardener.host import HOST_CHECKS, HostFacts, HostInputs, audit
from hardener.model import Applicability

HOST_DIR = Path(host.__file__).parent
RULES_DIR = Path(rules.__file__).parent
# the modules of hardener/host/ that are not checks: the layers below the checks
HOST_SUPPORT = {"base", "facts", "inputs", "versions", "advisories"}


def module_names(folder: Path) -> set[str]:
    return {m.name for m in pkgutil.iter_modules([str(folder)])}


def imported_modules(path: Path) -> set[str]:
    """The sibling modules and top-level modules a source file imports (relative names resolved to
    their last part: `from . import base` -> base, `from .facts import X` -> facts)."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level == 1 and node.module is None:
                out.update(alias.name for alias in node.names)
            elif node.level == 1:
                out.add(node.module.split(".")[0])
            elif node.level == 0:
                out.add(node.module.split(".")[0])
        elif isinstance(node, ast.Import):
            out.update(alias.name.split(".")[0] for alias in node.names)
    return out


def test_registry_lists_every_check_module_once():
    checks = module_names(HOST_DIR) - HOST_SUPPORT
    assert sorted(c.__name__.rsplit(".", 1)[1] for c in HOST_CHECKS) == sorted(checks)
    assert len(set(HOST_CHECKS)) == len(HOST_CHECKS)
    for check in HOST_CHECKS:
        assert check.__name__.rsplit(".", 1)[1] == check.NAME.replace("-", "_")
        assert check.FIX is Applicability.NONE and callable(check.check)


@pytest.mark.parametrize("name", sorted(module_names(HOST_DIR) - HOST_SUPPORT))
def test_a_check_imports_no_other_check_and_reads_nothing(name):
    imports = imported_modules(HOST_DIR / f"{name}.py")
    others = module_names(HOST_DIR) - HOST_SUPPORT - {name}
    assert not imports & others
    # input reading belongs in inputs.py: a check runs no command and opens no file
    assert not imports & {"inputs", "os", "subprocess", "shutil", "platform", "pathlib", "io"}


def test_support_modules_know_no_check():
    checks = module_names(HOST_DIR) - HOST_SUPPORT
    for name in HOST_SUPPORT:
        assert not imported_modules(HOST_DIR / f"{name}.py") & checks, name


@pytest.mark.parametrize("name", sorted(module_names(RULES_DIR) - {"base"}))
def test_a_rule_imports_no_other_rule(name):
    others = module_names(RULES_DIR) - {"base", name}
    assert not imported_modules(RULES_DIR / f"{name}.py") & others


def test_a_check_sees_only_its_facts():
    """The daemon checks judge the daemon facts alone: a kernel or capture that is not there is not
    asked for, and each check answers for its own ID."""
    cfg = {"hosts": ["tcp://0.0.0.0:2375"]}
    facts = HostFacts(HostInputs(daemon=cfg, daemon_label="daemon.json", daemon_text='{"hosts": ["tcp://0.0.0.0:2375"]}'))
    found = {check.ID: [f.rule_id for f in check.check(facts)] for check in HOST_CHECKS}
    assert found == {"HOST001": [], "HOST002": [], "HOST003": [], "HOST004": ["HOST004"], "HOST005": ["HOST005"],
                     "HOST006": ["HOST006"], "HOST007": ["HOST007"], "HOST008": ["HOST008"],
                     "HOST009": ["HOST009"], "HOST010": []}
    (api,) = daemon_api = list(host.daemon_api_without_tls.check(facts))
    assert daemon_api and (api.line, api.column, api.file) == (1, 2, "daemon.json")


def test_audit_runs_the_registry(monkeypatch):
    """audit asks every registered check and nothing else: a check taken out of the registry no
    longer reports."""
    inputs = HostInputs(daemon={}, daemon_label="daemon.json")
    everything = {f.rule_id for f in audit(inputs).findings}
    assert everything == {"HOST005", "HOST006", "HOST007", "HOST008", "HOST009"}
    monkeypatch.setattr(host, "HOST_CHECKS", tuple(c for c in HOST_CHECKS if c.ID != "HOST007"))
    assert {f.rule_id for f in audit(inputs).findings} == everything - {"HOST007"}
