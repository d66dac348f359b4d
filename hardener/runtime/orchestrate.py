"""Starting variants of a project on a real engine and watching them until each service settles.

A Run is one variant (the project as written, as hardened, or with some fixes only) in its own copy of
the project's folder, under its own project name, from the resolved model `docker compose config`
gives, isolated (see project.isolate). Several runs are started together, watched together (each
service until healthy, unhealthy, exited, crash-looping, or running for the settle time without a
healthcheck) and always torn down together with `down -v --remove-orphans`: on success, on error, on
Ctrl-C and on SIGTERM. Nothing here prints: progress goes to the caller's callback."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from . import project as proj
from .engine_api import Engine, EngineError
from .project import CannotRun
from .states import ABSENT, CREATED, ServiceRun, State, at_deadline, classify, evidence, worst

RUN_FILE = ".hardener-run.json"


def _nothing(_message: str) -> None:
    pass


@dataclass
class Options:
    timeout: float = 120.0  # seconds to wait for every service of a batch of runs to settle
    settle: float = 8.0  # seconds a service without healthcheck must stay up without restarting
    pull: bool = False
    runtime_files: tuple = ()  # compose files merged at run time only (absolute paths)
    compose: tuple = ()  # the compose command (found when empty)
    progress: Callable[[str], None] = _nothing
    prefix: str = proj.PREFIX  # project names start with this


@dataclass
class Run:
    """One variant: `texts` maps each compose file (relative to the copied folder) to its text."""

    label: str
    root: Path  # the user's project folder (copied, never written)
    files: list  # compose files, relative to root, in merge order
    texts: dict  # relative path -> text to write into the copy (the variant's files)
    options: Options
    token: str = ""
    only: tuple = ()  # start only these services (and what they depend on)
    name: str = ""
    workdir: Path | None = None
    model: dict = field(default_factory=dict)
    services: dict = field(default_factory=dict)  # name -> ServiceRun once finished
    up_error: list = field(default_factory=list)  # the last lines of `up` when it failed
    seconds: float = 0.0
    _up: subprocess.Popen | None = None
    _up_log: Path | None = None
    _started: float = 0.0
    _states: dict = field(default_factory=dict)

    # -- preparing

    def prepare(self, engine: Engine) -> None:
        self.name = proj.project_name(self.label, self.token or None, self.options.prefix)
        self.workdir = proj.make_workdir()
        copy = self.workdir / "project"
        proj.copy_project(self.root, copy)
        for rel, text in self.texts.items():
            target = copy / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8", newline="")
        args = [a for f in self.files for a in ("-f", str(copy / f))]
        args += [a for f in self.options.runtime_files for a in ("-f", str(f))]
        proc = self._compose(["-p", self.name, *args, "config", "--format", "json"], cwd=copy, timeout=120)
        if proc.returncode != 0:
            raise CannotRun(f"docker compose config failed for the {self.label} files: "
                            + _last_line(proc.stderr, str(copy) + os.sep))
        model = json.loads(proc.stdout)
        if self.only:
            model = _only(model, self.only)
        self.model = proj.isolate(model, self.name)
        if not self.options.pull:  # before anything can be started (the run file is what `down` needs)
            for service, image in proj.images_needed(self.model).items():
                try:
                    present = engine.image_present(image)
                except EngineError as exc:
                    raise CannotRun(str(exc)) from None
                if not present:
                    raise CannotRun(f"image {image} (service {service}) is not on the engine; "
                                    "give --pull to let verify pull it")
        (copy / RUN_FILE).write_text(json.dumps(self.model, indent=1), encoding="utf-8")

    # -- compose

    def _compose(self, args, cwd, timeout: float) -> subprocess.CompletedProcess:
        return subprocess.run([*self.options.compose, *args], cwd=cwd, capture_output=True, text=True,
                              timeout=timeout, start_new_session=True)

    def _base_args(self) -> list:
        copy = self.workdir / "project"
        return ["-p", self.name, "-f", str(copy / RUN_FILE), "--project-directory", str(copy)]

    def start(self) -> None:
        self._up_log = self.workdir / "up.log"
        with open(self._up_log, "wb") as log:
            self._up = subprocess.Popen(
                [*self.options.compose, *self._base_args(), "up", "-d", "--pull",
                 "missing" if self.options.pull else "never"],
                cwd=self.workdir / "project", stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True)
        self._started = time.monotonic()

    @property
    def up_running(self) -> bool:
        return self._up is not None and self._up.poll() is None

    def stop_up(self) -> None:
        if self.up_running:
            self._up.terminate()
            try:
                self._up.wait(10)
            except subprocess.TimeoutExpired:
                self._up.kill()
                self._up.wait()

    @property
    def prepared(self) -> bool:
        """Whether the run got as far as its run file: only then may something of it be on the engine."""
        return bool(self.name) and self.workdir is not None and (self.workdir / "project" / RUN_FILE).exists()

    def down(self) -> None:
        if not self.prepared:
            return
        self.stop_up()
        # an interrupted `up` may still get a container created, and a network still in use by it is not
        # removed: look again until nothing labelled with the project is left
        for attempt in range(3):
            try:
                self._compose([*self._base_args(), "down", "-v", "--remove-orphans", "-t", "3"],
                              cwd=self.workdir / "project", timeout=180)
            except subprocess.TimeoutExpired:
                pass
            try:
                time.sleep(1.0 if attempt < 2 else 0)
                if not Engine().project_resources(self.name):
                    break
            except EngineError:
                break

    def cleanup(self) -> None:
        if self.workdir is not None:
            proj.remove_workdir(self.workdir)

    # -- watching

    def poll(self, engine: Engine) -> bool:
        """Update each service's state; True when every service has settled."""
        by_service: dict = {}
        for c in engine.project_containers(self.name):
            service = (c.get("Labels") or {}).get("com.docker.compose.service")
            if service is None or (c.get("Labels") or {}).get("com.docker.compose.oneoff") == "True":
                continue
            data = engine.inspect(c["Id"])
            if data is not None:
                by_service.setdefault(service, []).append((c["Id"], classify(data, self.options.settle)))
        up_done = not self.up_running
        for service in self.model.get("services") or {}:
            found = by_service.get(service, [])
            state = worst([s for _, s in found]) if found else State(ABSENT, final=up_done)
            if state.state == CREATED and not up_done:
                state = State(CREATED, final=False)
            self._states[service] = (state, [cid for cid, _ in found])
        return all(s.final for s, _ in self._states.values())

    def finish(self, engine: Engine, secrets: list) -> None:
        """Fix every service's final state and gather the logs and evidence of those that failed."""
        self.seconds = time.monotonic() - self._started
        secrets = sorted(set(secrets) | set(proj.secret_values(self.model)), key=len, reverse=True)
        if self._up_log is not None and self._up is not None and self._up.poll() not in (None, 0):
            text = self._up_log.read_text("utf-8", "replace")
            self.up_error = [proj_mask(line, secrets) for line in text.splitlines()
                             if "rror" in line or "failed" in line or "denied" in line][-3:]
        for service, (state, ids) in self._states.items():
            state = at_deadline(state)
            logs = []
            if not state.ok:
                for cid in ids:
                    try:
                        logs += engine.logs(cid)
                    except EngineError:
                        pass
            ev = evidence(state, logs, secrets) if not state.ok else []
            if not state.ok and state.state in (CREATED, ABSENT):
                ev = [f"up: {line}" for line in self.up_error] + ev
            self.services[service] = ServiceRun(service, state, logs[-30:], ev)

    def states(self) -> dict:
        return {name: s for name, (s, _) in self._states.items()}

    def containers(self) -> dict:
        """service -> ids of its containers (as last seen)."""
        return {name: list(ids) for name, (_, ids) in self._states.items()}


def proj_mask(line: str, secrets: list) -> str:
    for value in secrets:
        line = line.replace(value, "***")
    return line.strip()[:240]


def _only(model: dict, services) -> dict:
    """The model reduced to some services and everything they depend on."""
    keep, todo = set(), list(services)
    all_services = model.get("services") or {}
    while todo:
        name = todo.pop()
        if name in keep or name not in all_services:
            continue
        keep.add(name)
        svc = all_services[name]
        todo += list((svc.get("depends_on") or {}).keys())
        for key in ("network_mode",):
            value = svc.get(key) or ""
            if value.startswith("service:"):
                todo.append(value.split(":", 1)[1])
    out = dict(model)
    out["services"] = {k: v for k, v in all_services.items() if k in keep}
    return out


def _last_line(text: str, strip: str = "") -> str:
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    return (lines[-1] if lines else "no output").replace(strip, "")


@contextmanager
def _teardown_signals():
    """While runs are up, SIGTERM (and SIGHUP) interrupt like Ctrl-C so that the teardown runs."""
    def interrupt(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")

    saved = {}
    try:
        for sig in (signal.SIGTERM, signal.SIGHUP):
            saved[sig] = signal.signal(sig, interrupt)
    except ValueError:  # not the main thread: nothing to install
        saved = {}
    try:
        yield
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)


@contextmanager
def _shielded():
    """Ctrl-C and SIGTERM wait while the runs are torn down (a second Ctrl-C must not leave them up)."""
    saved = {}
    try:
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            saved[sig] = signal.signal(sig, signal.SIG_IGN)
    except ValueError:
        saved = {}
    try:
        yield
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)


def run_all(runs: list[Run], engine: Engine, options: Options, secrets: list, during=None) -> list[Run]:
    """Prepare, start and watch these runs together until each service settles or the time is up,
    then tear every one down (whatever happens) and delete their copies. `during(runs)` is called
    once every service has settled (or the time is up), while the runs are still up."""
    say = options.progress
    try:
        with _teardown_signals():
            for run in runs:
                run.prepare(engine)
            for run in runs:
                say(f"starting {run.label} as project {run.name} ({len(run.model.get('services') or {})} services)")
                run.start()
            deadline = time.monotonic() + options.timeout
            settled = {run.name: False for run in runs}
            reported: dict = {}
            while True:
                for run in runs:
                    if not settled[run.name]:
                        settled[run.name] = run.poll(engine)
                    for service, state in run.states().items():
                        key = (run.name, service)
                        # "waiting" once per service, then each settled state as it changes
                        label = state.label() if state.final else ("waiting" if state.state != "absent" else "")
                        if label and reported.get(key) != label and not (label == "waiting" and key in reported):
                            reported[key] = label
                            say(f"{run.label}: {service} {label}")
                if all(settled.values()) or time.monotonic() >= deadline:
                    break
                time.sleep(1.0)
            if not all(settled.values()):
                say(f"time is up after {options.timeout:.0f}s: services still starting count as not working")
            for run in runs:
                run.finish(engine, secrets)
            if during is not None:
                during(runs)
    except EngineError as exc:
        raise CannotRun(str(exc)) from None
    finally:
        with _shielded():
            for run in runs:
                if run.prepared:
                    say(f"removing {run.name}")
                try:
                    run.down()
                finally:
                    run.cleanup()
    return runs
