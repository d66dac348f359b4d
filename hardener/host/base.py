"""Helpers every host check uses to report; the host-side `rules/base.py`.

A host check is a module with ID, NAME, ATTACK_TREE, SEVERITY, CONFIDENCE, FIX (always
`Applicability.NONE`: the host is reported, never edited), OPTIONS (defaults) and
``check(facts) -> iterable of Finding`` over a `facts.HostFacts`. Its docstring is its doc page.
"""
from __future__ import annotations

import sys

from ..model import Confidence, Finding, Severity
from .advisories import upgrade_target
from .facts import COMPONENT_LABEL
from .versions import parse_kernel, parse_version

COMPONENT_PACKAGE = {"kernel": "the host kernel", "engine": "Docker Engine",
                     "runc": "runc (the containerd.io or runc package)"}


def finding(check_name: str, message: str, file: str, *, line: int = 1, column: int = 1, key_path=(),
            severity: Severity | None = None, confidence: Confidence | None = None,
            attack_tree: tuple[str, ...] | None = None) -> Finding:
    """A finding of the check module `check_name` (its `__name__`) about `file`."""
    check = sys.modules[check_name]
    return Finding(rule_id=check.ID, rule_name=check.NAME, severity=severity or check.SEVERITY,
                   confidence=confidence or check.CONFIDENCE, attack_tree=tuple(attack_tree or check.ATTACK_TREE),
                   message=message, line=line, column=column, key_path=tuple(key_path), file=file)


def daemon_component_findings(check_name: str, facts, component: str):
    """The outdated-version finding of a component whose version the Docker daemon reports (engine,
    runc), if the daemon reported it and an advisory applies."""
    if component in facts.versions:
        f = version_finding(check_name, component, facts.versions[component], facts.docker_label, facts.advisories,
                            authz=facts.authz, key_path=("Server", "Components", component))
        if f:
            yield f


def version_finding(check_name: str, component: str, text: str, file: str, advisories, *,
                    authz: bool | None = None, key_path=()) -> Finding | None:
    """The finding of an outdated-version check (kernel, engine or runc) for one version, or None
    when no advisory of `component` applies."""
    check = sys.modules[check_name]
    version = (parse_kernel if component == "kernel" else parse_version)(text)
    if version is None:
        return None
    matched, unsure = [], []
    for adv in advisories:
        if adv.component != component or not adv.affects(version):
            continue
        if adv.condition == "authz-plugin":
            if authz is False:
                continue
            if authz is None:
                unsure.append(adv)
        matched.append(adv)
    if not matched:
        return None
    by_fix: dict[str, list[str]] = {}
    for adv in matched:
        fix = adv.fix_for(version)
        note = " (only with AuthZ plugins)" if adv in unsure else ""
        by_fix.setdefault(str(fix) if fix else "no listed release", []).append(adv.id + note)
    flaws = "; ".join(f"{', '.join(ids)} (fixed in {fix})" for fix, ids in by_fix.items())
    target = upgrade_target(version, matched)
    upgrade = (f"upgrade {COMPONENT_PACKAGE[component]} to {target} or later" if target
               else f"upgrade {COMPONENT_PACKAGE[component]} to its newest release")
    label = COMPONENT_LABEL[component]
    severity = max((a.severity for a in matched), key=lambda s: s.rank)
    confidence = check.CONFIDENCE
    if version.suffix:
        confidence = Confidence.LOW
        base = text.strip()[:len(text.strip()) - len(version.suffix)]
        if component == "kernel":
            intro = (f"kernel {text} looks like a distribution or vendor build of {base}; upstream {base} "
                     f"lacks the fixes for")
            caveat = ("distributions backport fixes without changing that number, so check your "
                      "distribution's security notices before acting (low confidence)")
        else:
            intro = f"{label} {text} is a {version.suffix!r} build of {base}; upstream {base} lacks the fixes for"
            caveat = "such builds may carry backported fixes, so check the package's changelog (low confidence)"
        message = f"{intro} {flaws}; {caveat}; otherwise {upgrade}"
    else:
        if unsure and len(unsure) == len(matched):
            confidence = Confidence.LOW
        message = f"{label} {text} has known flaws: {flaws}; {upgrade}"
    if unsure:
        message += "; AuthZ plugin use could not be checked without the daemon configuration"
    return finding(check_name, message, file, key_path=key_path, severity=severity, confidence=confidence)
