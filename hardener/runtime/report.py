"""The verdict as data (the JSON schema of docs/verify.md) and as text (a summary table). Returns
strings; the CLI prints them."""
from __future__ import annotations

import json

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
