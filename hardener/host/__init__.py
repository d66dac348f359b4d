"""`hardener host`: audit the machine that runs the containers, not a compose file.

Four threats of the attack tree cannot be seen in a compose file: an unpatched kernel (1.1.1), an
unpatched Docker daemon (1.2.1), a daemon API open to the network (1.2.2) and a vulnerable runc (1.3.2).
The host checks report them (and the daemon settings that contain them) as the same `Finding` records
the compose rules make, so every output format renders them unchanged.

The package has the shape of `hardener/rules/`:

- one module per check (`outdated_kernel.py` ... `end_of_life_branch.py`) with `ID`, `NAME`,
  `ATTACK_TREE`, `SEVERITY`, `CONFIDENCE`, `FIX`, `OPTIONS`, its documentation page as docstring and
  `check(facts)`; `base.py` is what every check uses to report; a check never imports another;
- `HOST_CHECKS` below, the explicit registry;
- reading apart from judging: `inputs.py` reads the machine or files into `HostInputs`, `facts.py`
  parses them once into the `HostFacts` the checks ask, `versions.py` orders version numbers and
  `advisories.py` holds the tables shipped in `hardener/data/advisories.json`.

Nothing here prints: `run_host` returns a `HostReport` (results for the formats, notes on what could
not be read, an exit code) and the CLI does the talking.
"""
from __future__ import annotations

import datetime
from dataclasses import dataclass

from ..model import FileResult, Finding, Status
from . import (daemon_api_without_tls, daemon_icc, daemon_no_live_restore, daemon_no_log_rotation,
               daemon_no_new_privileges, daemon_no_userns_remap, end_of_life_branch, outdated_engine,
               outdated_kernel, outdated_runc)
from . import base as _base
from .advisories import (Advisory, Branch, Branches, load_advisories, load_branches, parse_advisories,
                         parse_branches, upgrade_target)
from .end_of_life_branch import branch_finding
from .facts import HostFacts
from .inputs import DAEMON_JSON, DOCKER_TIMEOUT, HOST, HostInputs, collect_live, load_offline
from .versions import Version, parse_kernel, parse_version

__all__ = ["HOST", "DAEMON_JSON", "DOCKER_TIMEOUT", "HOST_CHECKS", "HOST_BY_KEY", "Advisory", "Branch", "Branches",
           "HostFacts", "HostInputs", "HostReport", "Version", "audit", "branch_finding", "collect_live",
           "daemon_findings", "load_advisories", "load_branches", "load_offline", "parse_advisories",
           "parse_branches", "parse_kernel", "parse_version", "run_host", "upgrade_target", "version_finding"]

HOST_CHECKS = (
    outdated_kernel,           # HOST001
    outdated_engine,           # HOST002
    outdated_runc,             # HOST003
    daemon_api_without_tls,    # HOST004
    daemon_icc,                # HOST005
    daemon_no_userns_remap,    # HOST006
    daemon_no_log_rotation,    # HOST007
    daemon_no_live_restore,    # HOST008
    daemon_no_new_privileges,  # HOST009
    end_of_life_branch,        # HOST010
)

HOST_BY_KEY = {key: check for check in HOST_CHECKS for key in (check.ID, check.NAME)}
_ORDER = {check.ID: i for i, check in enumerate(HOST_CHECKS)}
_VERSION_CHECK = {"kernel": outdated_kernel, "engine": outdated_engine, "runc": outdated_runc}


@dataclass(frozen=True)
class HostReport:
    results: tuple[FileResult, ...]  # one per input that was read or failed, for the output formats
    notes: tuple[str, ...] = ()  # what could not be read or was not checked, in plain words
    read_anything: bool = False
    checked: tuple[str, ...] = ()  # what was checked, e.g. "kernel 6.1.0-18-amd64 (host)"

    @property
    def findings(self) -> tuple[Finding, ...]:
        return tuple(f for r in self.results for f in r.findings)

    @property
    def exit_code(self) -> int:
        """0 nothing found, 1 findings, 2 only when nothing at all could be read."""
        if not self.read_anything:
            return 2
        return 1 if self.findings else 0


def audit(inputs: HostInputs, advisories=None, branches: Branches | None = None,
          today: datetime.date | None = None) -> HostReport:
    """Run every host check over what `inputs` hold, against the advisory table, the branch support
    table (as of `today`) and the daemon settings."""
    facts = HostFacts(inputs, load_advisories() if advisories is None else advisories,
                      load_branches() if branches is None else branches,
                      datetime.date.today() if today is None else today)
    findings = [f for check in HOST_CHECKS for f in check.check(facts)]
    findings.sort(key=lambda f: (_ORDER[f.rule_id], f.line, f.column))
    results = []
    for label in facts.read():
        mine = tuple(f for f in findings if f.file == label)
        results.append(FileResult(label, Status.FINDINGS if mine else Status.CLEAN, findings=mine))
    results += [FileResult(path, Status.ERROR, error=message) for path, message in inputs.errors]
    return HostReport(tuple(results), tuple(facts.notes()), inputs.read_anything, tuple(facts.checked()))


def run_host(docker_version: str | None = None, daemon_config: str | None = None, kernel: str | None = None,
             **live) -> HostReport:
    """The `hardener host` command without the printing: offline when any input is given, else live
    (keyword arguments go to `collect_live`)."""
    if docker_version is None and daemon_config is None and kernel is None:
        inputs = collect_live(**live)
    else:
        inputs = load_offline(docker_version, daemon_config, kernel)
    return audit(inputs)


# ------------------------------------------------------------------ single checks, for callers and tests

def version_finding(component: str, text: str, file: str, advisories, *, authz: bool | None = None,
                    key_path=()) -> Finding | None:
    """The outdated-version finding (HOST001 kernel, HOST002 engine, HOST003 runc) for one version, or
    None when no advisory applies."""
    return _base.version_finding(_VERSION_CHECK[component].__name__, component, text, file, advisories,
                                 authz=authz, key_path=key_path)


def daemon_findings(cfg: dict, text: str, file: str, defaults: bool = False) -> list[Finding]:
    """The daemon-setting checks' findings for a daemon configuration (`{}` with defaults=True when no
    daemon.json exists), in registry order."""
    facts = HostFacts(HostInputs(daemon=cfg, daemon_label=file, daemon_text=text, daemon_defaults=defaults))
    return [f for check in HOST_CHECKS for f in check.check(facts)]
