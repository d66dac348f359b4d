"""`hardener verify` and `hardener fix --verify`: start the project as written and as `fix` would write
it, compare each service, and for a regression find the fix responsible (bisect: the fixes rule by rule,
then service by service) with the log lines that show it.

The fixes are applied in memory (engine.process_project) with the settings the CLI chose for each of
the user's files; the variants are written only into private copies of the project's folder."""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, field, replace
from types import MappingProxyType

from . import project as proj
from .engine_api import Engine, EngineError
from .orchestrate import Options, Run, run_all
from .project import CannotRun
from .states import REGRESSION, compare

SCHEMA_VERSION = 1
BATCH = 5  # bisect variants started together


@dataclass(frozen=True)
class AppliedFix:
    rule: str
    name: str
    service: str | None
    services: tuple  # every service the fix changes (anchors, networks)
    file: str
    line: int
    description: str


@dataclass(frozen=True)
class Culprit:
    """A fix that stops a service working: the rule, the service whose fix it is, the service that
    stopped working, how it was found, and the evidence."""

    rule: str
    service: str  # the service whose fix is dropped
    broken: str  # the service that stopped working
    reason: str
    evidence: tuple = ()


@dataclass
class Verdict:
    files: list
    runtime_files: list
    engine: dict
    unsafe_fixes: bool
    services: dict = field(default_factory=dict)  # name -> {"original": ServiceRun, "hardened": ServiceRun, ...}
    fixes: list = field(default_factory=list)  # AppliedFix
    culprits: list = field(default_factory=list)  # Culprit
    runs: list = field(default_factory=list)  # (label, project, seconds)
    seconds: float = 0.0
    outputs: dict = field(default_factory=dict)  # user path -> text that `fix --verify` writes
    confirmed: dict = field(default_factory=dict)  # service -> state label of the written patch's run
    originals: dict = field(default_factory=dict)  # user path -> original text

    @property
    def regressions(self) -> list:
        return [name for name, s in self.services.items() if s["verdict"] == REGRESSION]

    @property
    def dropped(self) -> list:
        return self.culprits


class Project:
    """The user's files as one project: their texts, the folder that is copied for a run, and how
    hardener's fixes are applied to them."""

    def __init__(self, files: list[str], settings_for):
        from ..engine import process_project

        if any(f == "-" for f in files):
            raise CannotRun("verify needs compose files on disk, not standard input")
        self.files = list(files)
        self.root = proj.copy_root(self.files)
        self.rel = [os.path.relpath(os.path.abspath(f), self.root) for f in self.files]
        self.raw = {}
        for f in self.files:
            try:
                with open(f, "rb") as fh:
                    self.raw[f] = fh.read()
            except OSError as exc:
                raise CannotRun(f"{f}: {exc.strerror or exc}") from None
        self.settings = {f: settings_for(f) for f in self.files}
        self._process = process_project
        self.texts = {}
        for r in process_project(list(self.raw.items()), [self.settings[f] for f in self.files], False):
            if r.error:
                raise CannotRun(f"{r.path}:{r.error}")
            self.texts[r.path] = r.original

    def variant(self, only_rule: str | None = None, only_service: str | None = None, drop=(),
                services=()) -> tuple[dict, list]:
        """({relative path: text}, [AppliedFix]) of the project with fixes applied: all the settings
        allow, or one rule's only (optionally on one service only), less the dropped (rule, service)
        pairs."""
        pairs = set(drop)
        if only_rule and only_service:
            pairs |= {(only_rule, other) for other in services if other != only_service}
        settings = []
        for f in self.files:
            s = settings_without(self.settings[f], pairs)
            settings.append(replace(s, select=frozenset({only_rule})) if only_rule else s)
        results = self._process(list(self.raw.items()), settings, True)
        texts, applied = {}, []
        for rel, r in zip(self.rel, results):
            if r.error:
                raise CannotRun(f"{r.path}:{r.error}")
            texts[rel] = r.output if r.output is not None else r.original
            for f in r.fixed:
                reach = tuple(f.fix.reach) if f.fix else ()
                applied.append(AppliedFix(f.rule_id, f.rule_name, f.service, reach or ((f.service,) if f.service else ()),
                                          r.path, f.line, f.fix.description if f.fix else f.message))
        return texts, applied

    def original(self) -> dict:
        return {rel: self.texts[f] for f, rel in zip(self.files, self.rel)}

    def outputs(self, texts: dict) -> dict:
        """user path -> text, for the files a variant changes."""
        return {f: texts[rel] for f, rel in zip(self.files, self.rel) if texts[rel] != self.texts[f]}


def settings_without(settings, pairs):
    """The settings with these (rule, service) fixes left out: each pair becomes a per-service
    ignore, as `[tool.hardener.per-service-ignores]` would write it."""
    if not pairs:
        return settings
    ignores = dict(settings.service_ignores)
    for rule, service in pairs:
        current = ignores.get(service)
        if current is not None and not current:
            continue  # the service already ignores every rule
        ignores[service] = frozenset(current or ()) | {rule}
    return replace(settings, service_ignores=MappingProxyType(ignores))


def select_project(groups: list[list[str]], folder: str | None) -> list[str]:
    """The one project verify runs: the only group, or the one directly in the folder named."""
    if folder and len(groups) > 1:
        top = [g for g in groups if os.path.dirname(os.path.abspath(g[0])) == os.path.abspath(folder)]
        groups = top or groups
    if not groups:
        raise CannotRun("no compose file found")
    if len(groups) > 1:
        raise CannotRun(f"{len(groups)} projects found: name one compose file (or --file) to verify")
    return groups[0]


def verify(files: list[str], settings_for, options: Options, unsafe_fixes: bool, write: bool = False) -> Verdict:
    """Run the project as written and hardened and judge each service; find what broke a regressed
    service. With `write`, also work out the patch that keeps every service working (outputs) and
    start it once more to confirm."""
    started = time.monotonic()
    say = options.progress
    if not options.compose:
        options.compose = tuple(proj.compose_binary())
    project = Project(files, settings_for)  # bad input is reported before the engine is asked
    try:
        engine = Engine()
        version = engine.ping()
    except EngineError as exc:
        raise CannotRun(str(exc)) from None
    hardened, applied = project.variant()
    verdict = Verdict(files=list(files), runtime_files=[str(f) for f in options.runtime_files],
                      engine={"host": engine.host, "version": version}, unsafe_fixes=unsafe_fixes, fixes=applied,
                      originals=dict(project.texts))
    token = proj.secrets.token_hex(4)
    if not applied:
        say("no fix applies: nothing to verify beyond the project as written")
    orig = Run("original", project.root, project.rel, project.original(), options, token=token)
    hard = Run("hardened", project.root, project.rel, hardened, options, token=token)
    runs = run_all([orig, hard] if applied else [orig], engine, options, [])
    secrets = proj.secret_values(orig.model)
    verdict.runs += [(r.label, r.name, round(r.seconds, 1)) for r in runs]
    if not any(s.state.ok for s in orig.services.values()):
        failed = ", ".join(f"{n} {s.state.label()}" for n, s in orig.services.items())
        raise CannotRun(f"the project does not work as written ({failed}): nothing to compare")
    hard_services = hard.services if applied else orig.services
    for name, o in orig.services.items():
        h = hard_services.get(name) or o
        verdict.services[name] = {"original": o, "hardened": h, "verdict": compare(o.state, h.state),
                                  "fixes": sorted({f.rule for f in applied if name in f.services})}
    regressed = verdict.regressions
    if regressed:
        say(f"regression in {', '.join(regressed)}: finding the fixes responsible")
        verdict.culprits = _bisect(project, applied, regressed, orig, hard, engine, options, secrets, token)
    if write:
        _settle_patch(project, verdict, engine, options, secrets, token)
    verdict.seconds = round(time.monotonic() - started, 1)
    return verdict


def _bisect(project: Project, applied, regressed, orig: Run, hard: Run, engine, options, secrets, token) -> list:
    """Rule by rule (each rule's fixes alone, starting only the regressed services and what they
    depend on), then service by service (a responsible rule applied to the broken service alone) when
    the rule also changed other services. A service that no single rule breaks loses every fix that
    reached it (the fixes only break it together)."""
    say = options.progress
    services = list(orig.model.get("services") or {})
    rules = sorted({f.rule for f in applied if set(f.services) & set(regressed) or not f.services})
    runs = []
    for rule in rules:
        texts, _ = project.variant(only_rule=rule)
        runs.append((rule, Run(f"only-{rule}", project.root, project.rel, texts, options, token=token,
                               only=tuple(regressed))))
    responsible: dict = {}  # service -> [(rule, evidence)]
    for i in range(0, len(runs), BATCH):
        batch = runs[i:i + BATCH]
        say("bisect: " + ", ".join(rule for rule, _ in batch) + " alone")
        run_all([r for _, r in batch], engine, options, secrets)
        for rule, run in batch:
            for service in regressed:
                got = run.services.get(service)
                if got is not None and compare(orig.services[service].state, got.state) == REGRESSION:
                    responsible.setdefault(service, []).append((rule, got))
    culprits = []
    checks = []
    for service in regressed:
        found = responsible.get(service, [])
        if not found:
            ev = tuple(hard.services[service].evidence)
            for rule in sorted({f.rule for f in applied if service in f.services}):
                culprits.append(Culprit(rule, service, service, "no single rule breaks it; the fixes together do", ev))
            continue
        for rule, got in found:
            reach = {s for f in applied if f.rule == rule for s in f.services}
            if not _needs_service_check(rule, service, applied, orig.model):
                culprits.append(Culprit(rule, service, service, f"{rule} alone stops it: {got.state.label()}",
                                        tuple(got.evidence)))
            else:
                checks.append((rule, service, reach, got))
    if checks:
        runs = []
        for rule, service, reach, got in checks:
            texts, _ = project.variant(only_rule=rule, only_service=service, services=services)
            runs.append((rule, service, reach, got, Run(f"only-{rule}-{service}", project.root, project.rel, texts,
                                                        options, token=token, only=(service,))))
        for i in range(0, len(runs), BATCH):
            batch = runs[i:i + BATCH]
            say("bisect: " + ", ".join(f"{rule} on {service} alone" for rule, service, *_ in batch))
            run_all([b[-1] for b in batch], engine, options, secrets)
            for rule, service, reach, got, run in batch:
                alone = run.services.get(service)
                if alone is not None and compare(orig.services[service].state, alone.state) == REGRESSION:
                    culprits.append(Culprit(rule, service, service, f"{rule} on {service} stops it: "
                                            f"{alone.state.label()}", tuple(alone.evidence)))
                else:
                    for other in sorted(reach - {service}):
                        culprits.append(Culprit(rule, other, service, f"{rule} on {other} stops {service}: "
                                                f"{got.state.label()}", tuple(got.evidence)))
    return _unique(culprits)


def _needs_service_check(rule: str, service: str, applied, model: dict) -> bool:
    """Whether a rule that broke a service must be tried on that service alone to know whose fix it
    is: when one of its fixes on the service also changes other services (an anchor, a network), or
    when it also changed a service this one depends on."""
    if any(f.rule == rule and service in f.services and set(f.services) != {service} for f in applied):
        return True
    deps = _dependencies(model, service)
    return any(f.rule == rule and set(f.services) & deps for f in applied)


def _dependencies(model: dict, service: str) -> set:
    """Every service this one depends on, directly or not (depends_on, network_mode: service:)."""
    services = model.get("services") or {}
    out, todo = set(), [service]
    while todo:
        svc = services.get(todo.pop()) or {}
        found = list((svc.get("depends_on") or {}).keys())
        mode = svc.get("network_mode") or ""
        if mode.startswith("service:"):
            found.append(mode.split(":", 1)[1])
        for name in found:
            if name not in out and name != service:
                out.add(name)
                todo.append(name)
    return out


def _unique(culprits):
    seen, out = set(), []
    for c in culprits:
        if (c.rule, c.service) not in seen:
            seen.add((c.rule, c.service))
            out.append(c)
    return out


def _settle_patch(project: Project, verdict: Verdict, engine, options, secrets, token) -> None:
    """The patch `fix --verify` writes: every fix less the culprits; when fixes were dropped, it is
    started once more, and a service that still fails loses every fix that reached it (twice at most);
    if it still fails then, nothing is written."""
    say = options.progress
    drop = {(c.rule, c.service) for c in verdict.culprits}
    if not drop:
        texts, _ = project.variant()
        verdict.outputs = project.outputs(texts)
        verdict.confirmed = {n: s["hardened"].state.label() for n, s in verdict.services.items()}
        return
    services = list(verdict.services)
    for attempt in range(3):
        texts, applied = project.variant(drop=drop)
        run = Run(f"patch{attempt + 1}" if attempt else "patch", project.root, project.rel, texts, options,
                  token=token)
        say("starting the patch without the dropped fixes")
        run_all([run], engine, options, secrets)
        verdict.runs.append((run.label, run.name, round(run.seconds, 1)))
        still = [n for n in services if n in run.services
                 and compare(verdict.services[n]["original"].state, run.services[n].state) == REGRESSION]
        if not still:
            verdict.outputs = project.outputs(texts)
            verdict.confirmed = {n: s.state.label() for n, s in run.services.items()}
            return
        for service in still:
            for f in applied:
                if service in f.services and (f.rule, f.service or service) not in drop:
                    drop.add((f.rule, f.service or service))
                    verdict.culprits.append(Culprit(f.rule, f.service or service, service,
                                                    "still failing with the other fixes: every fix reaching it dropped",
                                                    tuple(run.services[service].evidence)))
    verdict.outputs = {}
    verdict.confirmed = {}
