"""Runtime proof on a real Docker engine: start a project as written and hardened, in private copies
under fresh project names, and compare each service (`hardener verify`, `hardener fix --verify`).

Modules: engine_api (reading container state and logs over the Engine API), project (names, copies,
isolating the resolved model), states (states, verdicts, evidence), orchestrate (starting, watching and
always tearing down runs), verify (the variants and the bisect), report (JSON and text)."""
__all__ = ["CannotRun", "Options"]


def __getattr__(name):  # imported on first use: `check` reads runtime.observed without the engine client
    if name == "Options":
        from .orchestrate import Options

        return Options
    if name == "CannotRun":
        from .project import CannotRun

        return CannotRun
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
