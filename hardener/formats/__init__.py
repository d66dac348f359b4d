"""Output formats: each module renders FileResults to a string and knows nothing about rules.

What a format may need besides the results is handed in by the CLI as plain data:

- ``rules``: a list of `RuleInfo` (the rules that ran: id, name, severity, attack-tree ids, docstring);
- ``patches``: a list of `Patch` (per file: the original text, the fixed text and their unified diff),
  for the review formats that show the proposed change (markdown, html, suggestions);
- ``rules_url``: where the per-rule documentation pages live (SARIF helpUri, links in Markdown/HTML);
- ``projects``: the groups of paths read together as one project, in merge order (the effective-model
  comparison of markdown, html and json under `fix --diff` needs them; without them files are grouped
  as a folder scan groups them);
- ``diff``: True under `fix --diff` (json then adds the patches and the effective changes);
- ``report_url``: where the full report is (the Markdown comment links to it when it must leave
  findings out);
- ``verification``: a `Verification` (what `hardener verify` saw when it started the project as written
  and as patched on a Docker engine), shown by markdown and html; the CLI reads it from the JSON
  `verify --format json` writes (hardener.runtime.report.verification).

Every module has ``render(results, **options) -> str`` and ignores options it does not use. Modules are
imported only when their format is asked for (jinja2 is loaded by markdown and html only).
"""
from __future__ import annotations

import importlib
import re
from dataclasses import dataclass

FORMATS = ("text", "json", "sarif", "github", "gitlab", "markdown", "html", "suggestions")
DIFF_FORMATS = ("text", "json", "markdown", "html", "suggestions")  # what `fix --diff --format` offers
PATCH_FORMATS = frozenset({"markdown", "html", "suggestions"})  # formats that show the proposed patch
DEFAULT_RULES_URL = "https://github.com/hardener-dev/hardener/blob/main/docs/rules/"

_MODULES = {"text": "text", "json": "json_format", "sarif": "sarif", "github": "github", "gitlab": "gitlab",
            "markdown": "markdown", "html": "html", "suggestions": "suggestions"}


@dataclass(frozen=True)
class RuleInfo:
    """What an output format may know about a rule; the CLI builds these from the rule modules."""

    id: str
    name: str
    severity: str
    confidence: str
    fix: str  # best applicability: safe, unsafe or none
    attack_tree: tuple[str, ...] = ()
    doc: str = ""  # the rule's docstring (Markdown)

    @property
    def summary(self) -> str:
        lines = self.doc.strip().splitlines()
        return lines[0].strip() if lines else self.name

    def section(self, title: str) -> str:
        """The text of a docstring section such as 'Why it matters' (paragraphs start with **Title.**);
        '' when the docstring has no such section."""
        match = re.search(r"^\*\*" + re.escape(title) + r"\.\*\*[ \t]*(.*?)(?=^\*\*[A-Z][^*\n]*\.\*\*|\Z)",
                          self.doc, re.S | re.M)
        return match.group(1).strip() if match else ""

    def url(self, base: str = DEFAULT_RULES_URL) -> str:
        return rule_url(base, self.id)


@dataclass(frozen=True)
class Patch:
    """The change `fix` makes (or would make) to one file."""

    path: str
    before: str
    after: str
    diff: str  # unified diff of before -> after (hardener.diff.unified)


@dataclass(frozen=True)
class VerifiedService:
    """One service in a verification: its state as written and as patched (labels such as `healthy`,
    `exited(1)`), the verdict (ok, regression, not-judged, improved), the rules whose fixes change it,
    and for a service that does not work patched, the evidence lines (log lines from the containers:
    untrusted text)."""

    name: str
    verdict: str
    original: str
    hardened: str
    works: bool  # works patched (healthy, running, or a one-shot job that exited 0)
    healthy: bool  # its healthcheck passes patched
    fixes: tuple[str, ...] = ()
    evidence: tuple[str, ...] = ()


@dataclass(frozen=True)
class DroppedFix:
    """A fix found to stop a service: the rule, the service whose fix it is, the service it stops, how
    that was found, and the evidence (untrusted log lines)."""

    rule: str
    service: str
    broke: str
    reason: str
    evidence: tuple[str, ...] = ()


@dataclass(frozen=True)
class Verification:
    """What `hardener verify` (or `fix --verify`) found on a real engine, as plain data for a report.
    `result` is `ok`, `regression` or `error` (it could not run: `error` says why); `written` is true
    for the patch `fix --verify` settled on (the services' hardened states are then those of that
    patch, and the dropped fixes are left out of it)."""

    result: str
    services: tuple[VerifiedService, ...] = ()
    dropped: tuple[DroppedFix, ...] = ()
    fixes: int = 0  # fixes the verified patch was made of
    kept: int = 0  # of them, those not found to stop a service
    unsafe_fixes: bool = False
    files: tuple[str, ...] = ()
    engine: str = ""  # the engine's version
    seconds: float = 0.0
    written: bool = False
    error: str = ""

    @property
    def working(self) -> int:
        return sum(s.works for s in self.services)

    @property
    def healthy(self) -> int:
        return sum(s.healthy for s in self.services)

    @property
    def regressions(self) -> list[str]:
        return [s.name for s in self.services if s.verdict == "regression"]


def rule_url(base: str, rule_id: str) -> str:
    base = base or DEFAULT_RULES_URL
    return base + ("" if base.endswith("/") else "/") + rule_id + ".md"


def render(name: str, results, **kw) -> str:
    if name not in _MODULES:
        raise ValueError(f"unknown format {name!r}")
    module = importlib.import_module(f"{__name__}.{_MODULES[name]}")
    return module.render(list(results), **kw)
