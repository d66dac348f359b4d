"""The verdict as data (the JSON schema of docs/verify.md) and as text (a summary table), and that JSON
read back as the plain `formats.Verification` the Markdown and HTML reports show. Returns strings and
objects; the CLI prints them."""
from __future__ import annotations

import json

from ..escape import terminal
from ..formats import DroppedFix, VerifiedService, Verification

from .states import REGRESSION
from .verify import SCHEMA_VERSION, Verdict


def _state(run) -> dict:
    s = run.state
    return {"state": s.state, "label": s.label(), "exit_code": s.exit_code, "restarts": s.restarts,
            "oom_killed": s.oom_killed, "evidence": list(run.evidence)}


def as_dict(v: Verdict, written: bool = False) -> dict:
    dropped = {(c.rule, c.service) for c in v.culprits}
    return {
        "version": SCHEMA_VERSION,
        "result": "regression" if v.regressions and not written else "ok",
        "files": v.files,
        "runtime_files": v.runtime_files,
        "engine": v.engine,
        "unsafe_fixes": v.unsafe_fixes,
        "services": [
            {"service": name, "verdict": s["verdict"], "original": _state(s["original"]),
             "hardened": _state(s["hardened"]), "fixes": s["fixes"],
             "responsible": [{"rule": c.rule, "service": c.service, "reason": c.reason, "evidence": list(c.evidence)}
                             for c in v.culprits if c.broken == name]}
            for name, s in v.services.items()],
        "fixes": [{"rule": f.rule, "name": f.name, "service": f.service, "services": list(f.services), "file": f.file,
                   "line": f.line, "description": f.description,
                   "kept": not any((f.rule, s) in dropped for s in (f.services or (f.service,)))}
                  for f in v.fixes],
        "dropped": [{"rule": c.rule, "service": c.service, "broke": c.broken, "reason": c.reason,
                     "evidence": list(c.evidence)} for c in v.culprits],
        "patch": ({"files": sorted(v.outputs), "services": v.confirmed} if written else None),
        "runs": [{"label": label, "project": name, "seconds": seconds} for label, name, seconds in v.runs],
        "seconds": v.seconds,
    }


def as_json(v: Verdict, written: bool = False) -> str:
    return json.dumps(as_dict(v, written), indent=2) + "\n"


def as_text(v: Verdict, written: bool = False) -> str:
    """The summary table and the evidence for a terminal. Service names and log lines are untrusted:
    their control characters (a colour code, a cursor move, a carriage return) are shown as escapes."""
    return "".join(terminal(line) + "\n" for line in _plain_text(v, written).split("\n")[:-1])


def _plain_text(v: Verdict, written: bool = False) -> str:
    rows = [("SERVICE", "AS WRITTEN", "HARDENED", "VERDICT", "FIXES")]
    for name, s in v.services.items():
        rows.append((name, s["original"].state.label(), s["hardened"].state.label(), s["verdict"],
                     ",".join(s["fixes"]) or "-"))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(r[:-1], widths)) + "  " + r[-1] for r in rows]
    for c in v.culprits:
        what = "dropped" if written else "responsible"
        lines.append(f"{what}: {c.rule} on {c.service} ({c.reason})")
        lines += [f"    {line}" for line in c.evidence]
    for name, s in v.services.items():
        if s["verdict"] == REGRESSION and not any(c.broken == name for c in v.culprits):
            lines += [f"{name}: {line}" for line in s["hardened"].evidence]
    healthy = sum(1 for s in v.services.values() if s["hardened"].state.ok)
    if written:
        if v.confirmed or not v.culprits:
            ok = sum(1 for label in v.confirmed.values() if label in ("healthy", "running") or label == "exited(0)")
            lines.append(f"patch: {len(v.fixes) - _dropped_count(v)} of {len(v.fixes)} fixes kept; "
                         f"{ok} of {len(v.services)} services work with it")
        else:
            lines.append("patch: no combination of fixes kept every service working; nothing written")
    elif v.regressions:
        lines.append(f"regression: {', '.join(v.regressions)} stop(s) working hardened "
                     f"({healthy} of {len(v.services)} services work hardened)")
    else:
        lines.append(f"ok: {len(v.fixes)} fixes; {healthy} of {len(v.services)} services work hardened "
                     f"as they do as written ({v.seconds:.0f}s)")
    for name, s in v.services.items():
        if s["verdict"] == "not-judged":
            why = "; ".join(s["original"].evidence[:2])
            lines.append(f"not judged: {name} does not work as written ({s['original'].state.label()}"
                         + (f": {why}" if why else "") + ")")
    return "\n".join(lines) + "\n"


def _dropped_count(v: Verdict) -> int:
    dropped = {(c.rule, c.service) for c in v.culprits}
    return sum(1 for f in v.fixes if any((f.rule, s) in dropped for s in (f.services or (f.service,))))


def error_document(message: str) -> dict:
    """What `verify --format json -o FILE` writes when it could not run (exit 2): the reason, so that a
    report made from the file can say why there is no verdict."""
    return {"version": SCHEMA_VERSION, "result": "error", "error": message}


def as_json_error(message: str) -> str:
    return json.dumps(error_document(message), indent=2) + "\n"


class VerificationError(ValueError):
    """A file that is not a verification of this schema version."""


def _strings(value, what: str) -> tuple:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise VerificationError(f"{what} is not a list of strings")
    return tuple(value)


def _works(run: dict) -> bool:
    state = run.get("state")
    return state in ("healthy", "running") or (state == "exited" and run.get("exit_code") == 0)


def verification(doc) -> Verification:
    """The verification a report shows, from the JSON `hardener verify --format json` writes (schema
    version 1; or its error document). Raises VerificationError for anything else."""
    if not isinstance(doc, dict) or doc.get("version") != SCHEMA_VERSION:
        found = doc.get("version") if isinstance(doc, dict) else None
        raise VerificationError(f"not a hardener verify report of schema version {SCHEMA_VERSION} "
                                f"(version: {json.dumps(found)})")
    result = doc.get("result")
    if result == "error":
        return Verification(result="error", error=str(doc.get("error") or "verify could not run"))
    if result not in ("ok", "regression"):
        raise VerificationError(f"unknown result {json.dumps(result)}")
    try:
        patch = doc.get("patch")
        confirmed = dict((patch or {}).get("services") or {})
        # fix --verify wrote its patch when a run confirmed it (or nothing had to be dropped); otherwise
        # nothing was written and the report is that of the full patch
        written = patch is not None and (bool(confirmed) or not doc.get("dropped"))
        services = []
        for s in doc["services"]:
            name, hard = s["service"], s["hardened"]
            label = confirmed.get(name, hard["label"])
            works = label in ("healthy", "running", "exited(0)") if name in confirmed else _works(hard)
            verdict = str(s["verdict"])
            if name in confirmed and _works(s["original"]):  # the patch fix --verify wrote, not the full one
                verdict = "ok" if works else "regression"
            services.append(VerifiedService(
                name=str(name), verdict=verdict, original=str(s["original"]["label"]), hardened=str(label),
                works=works, healthy=(label == "healthy") if name in confirmed else hard.get("state") == "healthy",
                fixes=_strings(s.get("fixes", []), "fixes"),
                evidence=() if works else _strings(hard.get("evidence", []), "evidence")))
        dropped = tuple(DroppedFix(str(d["rule"]), str(d["service"]), str(d["broke"]), str(d.get("reason", "")),
                                   _strings(d.get("evidence", []), "evidence")) for d in doc.get("dropped", []))
        fixes = doc.get("fixes", [])
        return Verification(
            result=result, services=tuple(services), dropped=dropped, fixes=len(fixes),
            kept=sum(1 for f in fixes if f.get("kept", True)), unsafe_fixes=bool(doc.get("unsafe_fixes")),
            files=_strings(doc.get("files", []), "files"), engine=str((doc.get("engine") or {}).get("version", "")),
            seconds=float(doc.get("seconds") or 0), written=written)
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        if isinstance(exc, VerificationError):
            raise
        raise VerificationError(f"not a hardener verify report: {type(exc).__name__} {exc}") from None


def read_verification(path: str) -> Verification:
    """The verification in a file; VerificationError (with the path) when it cannot be read or is not one."""
    try:
        with open(path, encoding="utf-8") as fh:
            doc = json.load(fh)
    except OSError as exc:
        raise VerificationError(f"{path}: cannot read the verification: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise VerificationError(f"{path}: not JSON: {exc}") from None
    try:
        return verification(doc)
    except VerificationError as exc:
        raise VerificationError(f"{path}: {exc}") from None
