"""GitHub Actions workflow commands: one `::error`/`::warning`/`::notice` line per finding, which the
runner turns into annotations on the pull request's changed files.

    ::error file=compose.yaml,line=12,col=3,title=CAP001 cap-drop-all::service 'web' keeps ...

Values are escaped as the runner expects: in the message '%', CR and LF; in properties also ':' and ','.
Every other control character (ESC, BEL, ...), the Unicode line separators and the bidi overrides are
written as visible escapes (`\\x1b`) first: the runner reads a command per line, so text from a compose
file can neither end the line and start a command of its own (`::stop-commands::`, `::add-mask::`)
nor drive the log viewer's terminal emulation.
"""
from __future__ import annotations

from ._common import display_path, visible

LEVELS = {"critical": "error", "high": "error", "medium": "warning", "low": "notice"}


def escape_data(text: str) -> str:
    return visible(text, keep="\r\n").replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(level: str, message: str, **properties) -> str:
    props = ",".join(f"{key}={escape_property(str(value))}" for key, value in properties.items()
                     if value is not None)
    return f"::{level}{' ' + props if props else ''}::{escape_data(message)}"


def render(results, cwd: str | None = None, **_) -> str:
    lines = []
    for r in results:
        path = display_path(r.path, cwd)
        if r.error is not None:
            line, col, message = "1", "1", r.error
            head, _, rest = r.error.partition(": ")
            if head.count(":") == 1 and all(p.isdigit() for p in head.split(":")):
                (line, col), message = head.split(":"), rest
            lines.append(command("error", message, file=path, line=line, col=col,
                                 title="hardener: file not processed"))
            continue
        for f in r.findings:
            nodes = ", ".join(f.attack_tree)
            message = f.message + (f" (attack tree {nodes})" if nodes else "")
            if f.fix is not None:
                message += f"; {f.fix.applicability.value} fix: {f.fix.description}"
            lines.append(command(LEVELS[f.severity.value], message, file=path, line=f.line, col=f.column,
                                 title=f"{f.rule_id} {f.rule_name} [{f.severity.value}]"))
    return "\n".join(lines) + ("\n" if lines else "")
