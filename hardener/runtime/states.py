"""What a service's containers are doing, in the words of the verdict (healthy, running, unhealthy,
restarting, exited with a code, OOM-killed, never started), when that state is final, how two runs of
one service compare, and which log lines are evidence of why a service failed."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, UTC

HEALTHY, RUNNING, STARTING, UNHEALTHY, RESTARTING, EXITED, OOMKILLED, CREATED, ABSENT = (
    "healthy", "running", "starting", "unhealthy", "restarting", "exited", "oomkilled", "created", "absent")
# states that mean the service works: healthy (its healthcheck passes), running (no healthcheck; up and
# not restarting for the settle time), and a one-shot job that exited 0
RESTARTS_FINAL = 2  # a container restarted this many times is crash-looping


@dataclass(frozen=True)
class State:
    state: str  # one of the names above
    exit_code: int | None = None
    restarts: int = 0
    oom_killed: bool = False
    health_output: str = ""  # the last healthcheck's output, for evidence
    final: bool = True  # nothing will change without an outside event

    @property
    def ok(self) -> bool:
        return self.state in (HEALTHY, RUNNING) or (self.state == EXITED and self.exit_code == 0)

    def label(self) -> str:
        if self.state == EXITED:
            return f"exited({self.exit_code})"
        if self.state == OOMKILLED:
            return f"oomkilled({self.exit_code})" if self.exit_code is not None else "oomkilled"
        if self.state == RESTARTING:
            return f"restarting({self.exit_code})" if self.exit_code not in (None, 0) else "restarting"
        return self.state


def _started_seconds(started_at: str, now: datetime) -> float:
    """Seconds since a container started (the engine writes RFC 3339 with nanoseconds)."""
    m = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?Z", started_at or "")
    if not m:
        return 0.0
    start = datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
    return max(0.0, (now - start).total_seconds())


def classify(inspect: dict, settle: float, now: datetime | None = None) -> State:
    """One container's state from its `docker inspect` document. Running without a healthcheck counts
    only after `settle` seconds up without a restart; before that it is still `starting`."""
    now = now or datetime.now(UTC)
    st = inspect.get("State") or {}
    restarts = int(inspect.get("RestartCount") or 0)
    code = st.get("ExitCode")
    health = st.get("Health") or {}
    log = health.get("Log") or []
    output = (log[-1].get("Output") or "").strip() if log else ""
    oom = bool(st.get("OOMKilled"))
    status = st.get("Status") or ""
    if status == "created":
        return State(CREATED, None, restarts, oom, output, final=True)
    if st.get("Restarting") or (status == "running" and restarts >= RESTARTS_FINAL and not health):
        return State(OOMKILLED if oom else RESTARTING, code, restarts, oom, output, final=restarts >= RESTARTS_FINAL)
    if status in ("exited", "dead"):
        return State(OOMKILLED if oom else EXITED, code, restarts, oom, output, final=True)
    if status == "running":
        if health:
            hs = health.get("Status")
            if hs == "healthy":
                return State(HEALTHY, None, restarts, oom, output, final=True)
            if hs == "unhealthy":
                return State(UNHEALTHY, None, restarts, oom, output, final=True)
            return State(STARTING, None, restarts, oom, output, final=False)
        if _started_seconds(st.get("StartedAt", ""), now) >= settle:
            return State(RUNNING, None, restarts, oom, output, final=True)
        return State(STARTING, None, restarts, oom, output, final=False)
    return State(STARTING if status in ("restarting", "paused", "removing") else status or ABSENT, code, restarts,
                 oom, output, final=False)


RANK = {HEALTHY: 0, RUNNING: 0, EXITED: 1, STARTING: 2, UNHEALTHY: 3, RESTARTING: 4, OOMKILLED: 5, CREATED: 6,
        ABSENT: 7}


def worst(states: list[State]) -> State:
    """A service with several containers (replicas) is as good as its worst one."""
    if not states:
        return State(ABSENT)
    return max(states, key=lambda s: (0 if s.ok else 1, RANK.get(s.state, 8), s.restarts))


def at_deadline(state: State) -> State:
    """What a state that is still changing counts as when the time is up: a container still waiting
    for its healthcheck, or up for less than the settle time, did not prove it works."""
    if state.final:
        return state
    if state.state == STARTING:
        return State(STARTING, state.exit_code, state.restarts, state.oom_killed, state.health_output, final=True)
    return State(state.state, state.exit_code, state.restarts, state.oom_killed, state.health_output, final=True)


# ---- comparing a service's two runs

OK, REGRESSION, NOT_JUDGED, IMPROVED = "ok", "regression", "not-judged", "improved"


def compare(original: State, hardened: State) -> str:
    """The verdict for one service: `ok` when it works both ways (the same way: a healthcheck that
    passes as written passes hardened), `regression` when it works as written and not hardened,
    `not-judged` when it does not work as written either, `improved` when only the hardened run works."""
    if original.ok:
        if not hardened.ok:
            return REGRESSION
        if original.state == HEALTHY and hardened.state != HEALTHY:
            return REGRESSION
        if original.state == EXITED and hardened.state != EXITED:
            return REGRESSION
        return OK
    return IMPROVED if hardened.ok else NOT_JUDGED


# ---- evidence

EVIDENCE = re.compile(
    r"operation not permitted|read-only file system|permission denied|not permitted|cannot|can't|could not|"
    r"unable to|no such file|out of memory|oom|killed|fatal|panic|error|failed|denied|refused|"
    r"too many|resource temporarily unavailable|no space left", re.I)
STRONG = re.compile(r"operation not permitted|read-only file system|permission denied|out of memory|"
                    r"resource temporarily unavailable|no space left", re.I)
MAX_LINES = 6
MAX_LINE = 240


def mask(line: str, secrets: list[str]) -> str:
    for value in secrets:
        if value in line:
            line = line.replace(value, "***")
    return line


def evidence(state: State, logs: list[str], secrets: list[str] = ()) -> list[str]:
    """The lines that show why a service failed: the telling log lines (errors about permissions,
    read-only files, memory; then other errors), the kill by the memory limit, the exit code and
    restarts, and the last healthcheck's output. Only matching lines are kept, shortened and with the
    values of secret-looking variables masked."""
    strong = [line for line in logs if STRONG.search(line)]
    weak = [line for line in logs if EVIDENCE.search(line) and not STRONG.search(line)]
    picked = []
    for line in strong + weak:
        line = mask(line.strip(), list(secrets))[:MAX_LINE]
        if line and line not in picked:
            picked.append(line)
        if len(picked) >= MAX_LINES:
            break
    out = []
    if state.oom_killed:
        out.append("OOMKilled: the container was killed by its memory limit")
    if state.state in (EXITED, RESTARTING, OOMKILLED) and state.exit_code not in (None,):
        out.append(f"exit code {state.exit_code}" + (f" after {state.restarts} restart(s)" if state.restarts else ""))
    elif state.restarts:
        out.append(f"restarted {state.restarts} time(s)")
    if state.state in (UNHEALTHY, STARTING) and state.health_output:
        out.append("healthcheck: " + mask(state.health_output.splitlines()[-1], list(secrets))[:MAX_LINE])
    return out + picked


@dataclass
class ServiceRun:
    """One service in one run: its final state, and the tail of its logs."""

    service: str
    state: State
    logs: list = field(default_factory=list)
    evidence: list = field(default_factory=list)
