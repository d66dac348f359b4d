"""Runs the rules over a document and applies their fixes. Never prints; returns FileResults.

Fixing works in passes: every fix whose edits do not overlap another's is applied at once, the new text
is parsed again and compared with the old one (only the paths the edits declared may differ), and the
rules run again on the result until no applicable fix is left. That is what makes `fix` idempotent.
"""
from __future__ import annotations

import bisect
from collections import Counter
from dataclasses import dataclass, field, replace
from types import MappingProxyType

from .compose import Context, Project, is_extension, is_override_name, service_maps
from .inputs import Included, decode_parse, extends_bases, project_includes
from .interpolation import project_env
from .model import Applicability, FileResult, Finding, Fix, Status
from .rules import RULES, unused_suppression
from .settings import Settings, matches
from .suppressions import parse_suppressions
from .yamltext import (Document, EditConflict, Scalar, YamlInputError, apply_edits, digest, merge_inserts, parse,
                       unexpected_changes, unexpected_changes_from)

MAX_PASSES = 50  # a pass applies all compatible fixes; only conflicts need more than a few


class InternalFixError(Exception):
    pass


# --------------------------------------------------------------------------- running the rules
# run_rules is a pipeline: the rules' findings pass through named policies, each a small function
# (finding, rule, Run) -> finding or None; then the policies over the whole list (unused
# suppressions, baseline). A Run holds what they read about one pass over one document.


@dataclass
class Run:
    """One pass of the rules over one document: its context, what silences whom, where marks sit."""

    settings: Settings
    ctx: Context  # what the rules' fixes are judged in (this file's services, with `silenced`)
    view: Context  # what the rules see: ctx plus the services of included files
    rules: list
    marks: list  # this file's suppression comments
    used: set  # ids of the marks that silenced something
    partial: frozenset  # names of this file's partial services (settings they lack belong elsewhere)
    service_lines: dict  # 0-based line of a service's name -> its name
    key_lines: dict  # 0-based line of a service's key -> (service, key)
    silenced: dict  # rule id -> names of the services where it is silenced (here or elsewhere)
    silenced_elsewhere: dict  # rule id -> names silenced on their name line in another file
    included_only: frozenset  # services only an included file defines (read-only here)
    # the fixes come back without their edits (nothing will apply them): see Settings.keep_edits
    edits: bool = True
    fixing: bool = False  # a fix pass: the fixes it may apply keep their edits in any case
    # (id(fix), rule id) -> (fix, the fix as judged, or None), for the rule that runs now: a rule's
    # findings share fixes, those of two rules never do, so it is emptied after each rule and does
    # not keep every original fix (and its edits) alive until the end
    reached: dict = field(default_factory=dict)
    # one object per distinct value of what many judged fixes repeat: a rule builds the same fix
    # description for every service (18 texts in 18,000 strings on a big file) and a reach per finding
    # (4,000 services in 21,000 tuples); the findings hold them to the end of the run
    shared: dict = field(default_factory=dict)

    def share(self, value):
        return self.shared.setdefault(value, value)


def run_rules(doc: Document, settings: Settings, project=None, included=None, edits: bool = True,
              fixing: bool = False) -> list[Finding]:
    """Every enabled rule's findings, less those silenced by comments or configuration. A fix whose
    edits reach a service where its rule is silenced (directly or through a shared anchor), or that
    would rewrite an `x-` extension block, is dropped: such places are never edited. `included`
    (an Included) adds the services of included files to what the rules see, read-only. `edits`
    False: the fixes come without their edits, let go as soon as each finding is judged (a baseline
    in the settings needs them to the end: then the caller drops them), except with `fixing` the
    fixes the settings apply (safe ones, or unsafe with --unsafe-fixes or extend-safe-fixes)."""
    if doc.root is None:
        return []
    run = _prepare(doc, settings, project, included)
    run.edits, run.fixing = edits or settings.baseline is not None, fixing
    findings = []
    for rule in run.rules:
        for f in rule.check(run.view):
            for policy in FINDING_POLICIES:
                f = policy(f, rule, run)
                if f is None:
                    break
            else:
                findings.append(f)
        run.reached.clear()
        if fixing:  # a fix pass holds a second text and the fixed findings: memory before speed
            run.view.release_views()
    _name_marks_hold_elsewhere(run, project)
    findings += _unused(run)
    if settings.baseline is not None:
        findings = _leave_recorded(findings, settings.baseline)
    findings.sort(key=lambda f: (f.line, f.column, f.rule_id))
    return findings


def _prepare(doc: Document, settings: Settings, project, included) -> Run:
    marks = parse_suppressions(doc.text)
    # built once: services, foreign nodes
    base_ctx = Context.of(doc, settings.options, project=project, env=settings.env, profiles=settings.profiles)
    services = base_ctx.services
    service_lines = {svc.key.line: svc.name for svc in services}
    rules = [rule for rule in RULES if settings.wants(rule)]
    elsewhere = _name_marks_elsewhere(project)
    silenced_elsewhere = {rule.ID: frozenset(name for name, found in elsewhere.items()
                                             if any(m.covers(rule) for m in found)) for rule in rules}
    # asked only of the marks and the services the configuration names (a big file has neither)
    ignoring = [svc.name for svc in services if svc.name in settings.service_ignores]
    silenced = {rule.ID: frozenset({service_lines[m.line] for m in marks
                                    if m.line in service_lines and m.covers(rule)}
                                   | {name for name in ignoring if settings.ignores_service(rule, name)})
                | silenced_elsewhere[rule.ID]
                for rule in rules}
    ctx = replace(base_ctx, silenced=MappingProxyType(silenced))
    view, included_only = _with_included(ctx, included)
    return Run(settings, ctx, view, rules, marks, set(),
               partial=frozenset(svc.name for svc in services if svc.partial),
               service_lines=service_lines,
               # only a mark reads it: a file without any leaves it empty (on a big file it is megabytes)
               key_lines={k.line: (svc.name, k.value) for svc in services for k, _ in svc.node.pairs
                          if isinstance(k, Scalar)} if marks else {},
               silenced=silenced, silenced_elsewhere=silenced_elsewhere, included_only=included_only)


# ----------------------------------------------------------------------- policies over one finding

def _in_its_own_file(f: Finding, rule, run: Run):
    """A value written in another file of the project is reported in that file."""
    return None if f.elsewhere else f


def _where_defined(f: Finding, rule, run: Run):
    """A setting missing from a partial service (a finding the rule marked `missing`) is reported
    where the service is defined, in the first layer hardener may write. What a partial mapping
    writes itself, or overrides of a read-only file, stay here, wherever they point."""
    return None if f.missing and f.service in run.partial else f


def _not_suppressed(f: Finding, rule, run: Run):
    """Configuration (per-service ignores) and this file's `# hardener: ignore` comments."""
    if run.settings.ignores_service(rule, f.service):
        return None
    hit = False
    for m in run.marks:
        if not m.covers(rule):
            continue
        key = run.key_lines.get(m.line)
        if (m.whole_file or run.service_lines.get(m.line) == f.service or m.line == f.line - 1
                or (key and key[0] == f.service and f.key_path[2:3] == (key[1],))):
            run.used.add(id(m))
            hit = True
    return None if hit else f


def _not_silenced_elsewhere(f: Finding, rule, run: Run):
    """A mark on the service's name line in another file of the project holds here too."""
    return None if f.service in run.silenced_elsewhere[rule.ID] else f


def _read_only_file(f: Finding, rule, run: Run):
    """A file the user marked read-only is reported where it is, never written."""
    return f.with_fix(None) if f.fix and run.settings.read_only else f


def _reach(f: Finding, rule, run: Run):
    """A fix is kept only when every service its edits reach (through anchors and merge keys) may
    be changed by this rule, it does not rewrite an `x-` block, and it edits no service that only an
    included file defines; the services it reaches are recorded on it."""
    if not f.fix:
        return f
    # one fix may be shared by many findings (NET001 moves every back end in one fix): judged once
    known = run.reached.get((id(f.fix), rule.ID))
    if known is not None and known[0] is f.fix:
        return f.with_fix(known[1])
    paths = [p for e in f.fix.edits for p in e.paths]
    reach = run.ctx.reach(paths)
    blocked = (reach & run.silenced[rule.ID] or any(is_extension(p) for p in paths)
               or (run.included_only
                   and any(p[:1] == ("services",) and p[1:2] and p[1] in run.included_only for p in paths)))
    edits = f.fix.edits if run.edits or run.fixing and _applicable(f.fix.applicability, rule, run.settings) else ()
    fix = None if blocked else Fix(f.fix.applicability, edits, run.share(f.fix.description),
                                   run.share(tuple(sorted(reach))))
    run.reached[(id(f.fix), rule.ID)] = (f.fix, fix)
    return f.with_fix(fix)


FINDING_POLICIES = (_in_its_own_file, _where_defined, _not_suppressed, _not_silenced_elsewhere, _read_only_file,
                    _reach)


# ----------------------------------------------------------------------- policies over the findings

def _name_marks_hold_elsewhere(run: Run, project) -> None:
    """A mark on a service's name line also silences that service in the project's other files: it
    is used when another file defines the service."""
    defined_elsewhere = _names_elsewhere(project)
    for m in run.marks:
        if run.service_lines.get(m.line) in defined_elsewhere:
            run.used.add(id(m))


def _leave_recorded(findings, recorded) -> list[Finding]:
    """The findings a baseline does not record. Recorded ones are left alone: not reported, not
    fixed, and a new finding whose fix shares an edit with theirs (an anchor or a network several
    findings fix together) loses its fix, which would change them too."""
    new, old = recorded.split(findings)
    frozen = {e for f in old if f.fix for e in f.fix.edits}
    return [replace(f, fix=None) if f.fix and frozen.intersection(f.fix.edits) else f for f in new]


def _with_included(ctx: Context, included: Included | None):
    """(the rules' view of the file, names of the services in it that only an included file defines).
    A service this file defines itself is not taken from an included file."""
    own = {svc.name for svc in ctx.services}
    extra = tuple(svc for svc in included.services if svc.name not in own) if included else ()
    if not extra:
        return ctx, frozenset()
    return (replace(ctx, services=ctx.services + extra, foreign=ctx.foreign | included.nodes),
            frozenset(svc.name for svc in extra))


def _name_marks_elsewhere(project) -> dict:
    """Service name -> the ignore marks written on its name line in the project's other files."""
    out: dict = {}
    for i, other in enumerate(project.docs if project is not None else ()):
        if i != project.index:
            for name, found in _name_line_marks(other, project.memo).items():
                out.setdefault(name, []).extend(found)
    return out


def _names_elsewhere(project) -> set:
    """Names of the services the project's other files define."""
    if project is None:
        return set()
    return {name for i, d in enumerate(project.docs) if i != project.index for name in service_maps(d)}


def _name_line_marks(doc: Document, memo: dict) -> dict:
    """Service name -> the marks on its name line in one document; kept in the project's memo, since
    the project's other files stay as they are for many passes."""
    cached = memo.get(("name marks", id(doc)))
    if cached is not None and cached[0] is doc:
        return cached[1]
    marks = parse_suppressions(doc.text)
    out = {}
    for name, (key, _, _) in service_maps(doc).items():
        found = [m for m in marks if m.line == key.line and not m.whole_file]
        if found:
            out[name] = tuple(found)
    memo[("name marks", id(doc))] = (doc, out)
    return out


def _unused(run: Run) -> list[Finding]:
    """HRD001: the marks of this file that silenced nothing."""
    settings, marks = run.settings, run.marks
    if not settings.wants(unused_suppression):
        return []
    enabled = {key for r in RULES if settings.wants(r) for key in (r.ID, r.NAME)}
    known = {key for r in RULES for key in (r.ID, r.NAME)}
    out = []
    for m in marks:
        # unused unless it names a known rule that is turned off (then it may matter in another run)
        if id(m) not in run.used and not (m.rules & (known - enabled)):
            out.append(Finding(unused_suppression.ID, unused_suppression.NAME, unused_suppression.SEVERITY,
                               unused_suppression.CONFIDENCE, (), f"suppression '{m.text}' silences nothing",
                               m.line + 1, m.column + 1))
    return out


def _applies(finding: Finding, settings: Settings) -> bool:
    if finding.fix is None:
        return False
    if finding.fix.applicability is Applicability.SAFE or settings.unsafe_fixes:
        return True
    rule = next((r for r in RULES if r.ID == finding.rule_id), None)
    return rule is not None and matches(rule, settings.extend_safe_fixes)


def _applicable(applicability: Applicability, rule, settings: Settings) -> bool:
    """_applies for a fix of this rule, before its finding is made."""
    return applicability is Applicability.SAFE or settings.unsafe_fixes or matches(rule, settings.extend_safe_fixes)


class _Taken:
    """The edits chosen for one pass, indexed by position so that checking a new edit against them
    costs a bisection, not a scan (a file with thousands of services has thousands of edits)."""

    def __init__(self):
        self.edits: list = []
        self._index: dict = {}  # edit -> its place in self.edits
        self._starts: list = []  # sorted (start, end, index)
        self._longest = 0
        self.replaced = 0  # how many chosen edits a merged one took the place of
        self._removed: list = []  # those chosen edits, in order
        self._held: dict = {}  # id(edits) -> [edits, set of them, len(_removed)] when all were taken (holds_all)

    def add(self, edit) -> None:
        if edit in self._index:
            return
        self._index[edit] = len(self.edits)
        self.edits.append(edit)
        bisect.insort(self._starts, (edit.start, edit.end, len(self.edits) - 1))
        self._longest = max(self._longest, edit.end - edit.start)

    def __contains__(self, edit) -> bool:
        return edit in self._index

    def replace(self, old, new) -> None:
        """Put a merged insertion in the place of a chosen one (both insert at the same point)."""
        index = self._index.pop(old)
        self.edits[index] = new
        self._index[new] = index
        self.replaced += 1
        self._removed.append(old)

    def holds_all(self, edits) -> bool:
        """all(e in self for e in edits). A fix shared by many findings (NET001's, thousands of edits)
        is asked about again for each of them: once all its edits were taken, only the chosen edits a
        merge has taken the place of since can change the answer, so only those are looked at."""
        if len(edits) < 2:
            return all(e in self._index for e in edits)
        known = self._held.get(id(edits))
        if known is not None and known[0] is edits:
            if not any(old in known[1] for old in self._removed[known[2]:]):
                known[2] = len(self._removed)
                return True
        if all(e in self._index for e in edits):
            self._held[id(edits)] = [edits, known[1] if known is not None and known[0] is edits else set(edits),
                                     len(self._removed)]
            return True
        self._held.pop(id(edits), None)
        return False

    def near(self, edit):
        """Chosen edits that start close enough to the new one to touch it."""
        starts, edits = self._starts, self.edits
        for k in range(bisect.bisect_left(starts, (edit.start - self._longest, -1, -1)), len(starts)):
            start, _, index = starts[k]
            if start > edit.end:
                break
            yield edits[index]


def _conflicts(edit, taken):
    """The chosen edits (a _Taken, or any list of edits) that an edit cannot share a pass with."""
    for other in taken.near(edit) if isinstance(taken, _Taken) else taken:
        if other == edit:
            continue
        if edit.start == other.start and set(edit.paths) & set(other.paths):
            yield other  # two edits writing the same key at one point
        elif edit.start < other.end and other.start < edit.end:
            yield other
        elif edit.start == edit.end and other.start < edit.start < other.end:
            yield other
        elif other.start == other.end and edit.start < other.start < edit.end:
            yield other


def _overlaps(edit, taken) -> bool:
    return next(_conflicts(edit, taken), None) is not None


def _joined(edits, taken):
    """How these edits join the pass: (edits to add, {chosen edit: merged edit}), or None when one of
    them conflicts with the chosen ones in a way no merge settles (the next pass sees it again)."""
    if isinstance(taken, _Taken) and taken.holds_all(edits):
        return [], {}  # a fix shared by several findings, chosen already: its edits settled their clashes
    new, merges = [], {}
    for edit in edits:
        clashes = list(_conflicts(edit, taken))
        if not clashes:
            new.append(edit)
            continue
        merged = merge_inserts(merges.get(clashes[0], clashes[0]), edit) if len(clashes) == 1 else None
        if merged is None:
            return None
        merges[clashes[0]] = merged
    return new, merges


def _declared(edits) -> set:
    """The paths the edits declare they change."""
    return {tuple(p) for e in edits for p in e.paths}


def _verify(before: Document, after: Document, allowed: set) -> None:
    """Refuse a result that differs from the original anywhere the edits did not declare (`allowed`,
    see _declared). Subtrees under the declared paths are not compared (whatever changes there is
    allowed); everything else is compared node by node (`yamltext.unexpected_changes`)."""
    for path in unexpected_changes(before.root, after.root, allowed):
        raise InternalFixError("a fix would change " + ".".join(map(str, path)) + ", which it did not mean to")


def _identity(f: Finding):
    """A finding's identity across passes (positions move when earlier lines grow)."""
    return (f.rule_id, f.service, f.key_path, f.message)


def _repeated(findings) -> dict:
    """How many findings share an identity, for the identities more than one finding has: the others
    have one (a pass needs the count of each applied finding's identity; nearly all are alone, and a
    count of every identity would be megabytes on a big file)."""
    return {i: n for i, n in Counter(map(_identity, findings)).items() if n > 1}


def _fix_key(f: Finding):
    return (_identity(f), f.fix.description)


def _one_pass(doc: Document, findings, settings, rejected: set):
    """Apply every non-conflicting applicable fix once; return (new doc, applied findings). When the
    combined result fails verification, apply the first fix that verifies on its own instead."""
    chosen, edits = _choose(findings, settings, rejected)
    return _apply_pass(doc, chosen, edits, rejected)


def _choose(findings, settings, rejected: set):
    """(the findings whose fixes one pass applies, their edits): every applicable fix that conflicts
    with none chosen before it."""
    chosen, taken = [], _Taken()
    fixed_here: set = set()  # services a chosen fix edits directly
    through_anchor: set = set()  # services a chosen fix changes through a shared anchor
    # a fix shared by several findings (NET001 moves every back end in one fix of thousands of edits):
    # once chosen, and while no merge has replaced a chosen edit, its edits are all taken
    settled: dict = {}  # id(fix) -> (fix, the services it edits directly, taken.replaced when chosen)
    directs: dict = {}  # id(edits) -> (edits, the services they edit directly), for edits shared by findings
    for f in findings:
        if not _applies(f, settings) or _fix_key(f) in rejected:
            continue
        known = settled.get(id(f.fix))
        if known is not None and known[0] is f.fix and known[2] == taken.replaced:
            direct = known[1]
            chosen.append(f)
            fixed_here |= direct | {f.service}
            through_anchor |= set(f.fix.reach) - direct - {f.service}
            continue
        joined = _joined(f.fix.edits, taken)
        if joined is None:
            continue  # the next pass sees it again on the new text
        direct = _direct(f.fix.edits, directs)
        heirs = set(f.fix.reach) - direct - {f.service}
        if not taken.holds_all(f.fix.edits) and (f.service in through_anchor or heirs & fixed_here):
            continue  # an anchor edit and an heir's own edit in one pass would clash: judge it again next pass
        chosen.append(f)
        new, merges = joined
        for old, merged in merges.items():
            taken.replace(old, merged)
        for e in new:
            taken.add(e)
        fixed_here |= direct | {f.service}
        through_anchor |= heirs
        if len(f.fix.edits) > 1:
            settled[id(f.fix)] = (f.fix, direct, taken.replaced)
    return chosen, taken.edits


def _direct(edits, memo: dict) -> set:
    """The services the edits change in their own mappings (`services.<name>...` paths)."""
    known = memo.get(id(edits))
    if known is not None and known[0] is edits:
        return known[1]
    direct = {p[1] for e in edits for p in e.paths if p[:1] == ("services",) and len(p) > 1}
    if len(edits) > 1:
        memo[id(edits)] = (edits, direct)
    return direct


def _apply_pass(doc: Document, chosen, edits, rejected: set):
    if not chosen:
        return doc, []
    new = _verified(doc, edits)
    return (new, chosen) if new is not None else _first_verified(doc, chosen, rejected)


def _first_verified(doc: Document, chosen, rejected: set):
    """(new doc, [finding]) for the first chosen fix that verifies on its own; the ones before it are
    rejected (never written; their findings stay in the report). (doc, []) when none does."""
    for f in chosen:
        new = _verified(doc, f.fix.edits)
        if new is not None:
            return new, [f]
        rejected.add(_fix_key(f))
    return doc, []


def _verified(doc: Document, edits) -> "Document | None":
    """The document the edits make, or None when they conflict or the result does not verify."""
    try:
        return _apply_checked(doc, edits)
    except (InternalFixError, EditConflict, YamlInputError):
        return None


def _apply_checked(doc: Document, edits) -> Document:
    return _parse_checked(doc, apply_edits(doc, edits), _declared(edits))


def _parse_verified(picture, text: str, bom: bool, allowed: set) -> "Document | None":
    """`text` parsed, if it differs from the text `picture` (yamltext.digest) was made of only under
    the `allowed` paths; None when it does not, or cannot be parsed."""
    try:
        new = parse(text, bom)
    except YamlInputError:
        return None
    return None if unexpected_changes_from(picture, new.root, allowed) else new


def _parse_checked(doc: Document, text: str, allowed: set) -> Document:
    """`text` parsed and verified against `doc` (it may differ only under the `allowed` paths)."""
    new = parse(text, doc.bom)
    _verify(doc, new, allowed)
    return new


def _fix_to_fixpoint(doc: Document, settings: Settings, project_of=None, included=None):
    """Apply passes of fixes to one document until none applies; project_of(doc) gives the project
    view with this document in its place (None for a lone file).

    Memory: a pass holds one node tree and one list of findings at a time: the new text is verified
    against a digest of the old tree (yamltext.digest), which goes before the new text is parsed.
    Before that, the pass lets go of the findings
    no fix of it uses and of the fixes' edits (the chosen findings stay for the report, without
    their edits unless settings.keep_edits), the old tree before the rules run on the new one; the
    rare pass that must be done again (a fix that does not resolve its finding, or no fix that
    verifies together with the others) runs the rules on the old text again. The caller passes the
    only reference to `doc`."""
    def rules(d):
        return run_rules(d, settings, project_of(d) if project_of else None, included, settings.keep_edits, True)

    def reported(chosen):  # what the rest of the pass keeps of the chosen findings
        return chosen if settings.keep_edits else [f.without_edits() for f in chosen]

    findings = rules(doc)
    fixed: list[Finding] = []
    rejected: set = set()
    for _ in range(MAX_PASSES):
        chosen, edits = _choose(findings, settings, rejected)
        if not chosen:
            break
        before = _repeated(findings)
        findings = None
        try:
            text, allowed = apply_edits(doc, edits), _declared(edits)
        except EditConflict:
            text = allowed = None
        applied = reported(chosen)
        del chosen, edits
        old_text, bom = doc.text, doc.bom
        new_doc = None
        if text is not None:
            # the old tree goes before the new text is parsed: verification needs only its digest
            picture = digest(doc.root, allowed)
            doc = None
            new_doc = _parse_verified(picture, text, bom, allowed)
            del picture
        del text, allowed
        if new_doc is None:  # rare: the fixes together do not verify; the first that does on its own
            if doc is None:
                doc = parse(old_text, bom)
            findings = rules(doc)
            new_doc, applied = _first_verified(doc, _choose(findings, settings, rejected)[0], rejected)
            if not applied:  # none verified: the findings of this text are the result
                break
            findings, applied = None, reported(applied)
        text = old_text
        doc = None
        new_findings = rules(new_doc)
        after = Counter(map(_identity, new_findings))
        still = {i for i in map(_identity, applied) if after[i] >= before.get(i, 1)}
        if still:  # a fix that does not resolve its own finding would loop: drop it, redo the pass
            rejected |= {_fix_key(f) for f in applied if _identity(f) in still}
            del new_doc, new_findings
            doc = parse(text, bom)
            findings = rules(doc)
            continue
        doc, findings = new_doc, new_findings
        fixed.extend(applied)
    return doc, findings, fixed


def _taken(docs: list, i: int) -> Document:
    """docs[i], leaving None in its place: the fix passes then hold the only reference to it."""
    doc, docs[i] = docs[i], None
    return doc


def harden_text(text: str, settings: Settings, fix: bool, path: str = "") -> tuple[list[Finding], list[Finding], str]:
    """(remaining findings, fixed findings, new text). Raises YamlInputError for bad input."""
    doc = parse(text)
    view = (lambda d: Project((d,), 0, fragment_file=True)) if is_override_name(path) else None
    if not fix:
        findings, fixed = run_rules(doc, settings, view(doc) if view else None, edits=settings.keep_edits), []
    else:
        doc, findings, fixed = _fix_to_fixpoint(doc, settings, view)
    if not settings.keep_edits:
        findings, fixed = [f.without_edits() for f in findings], [f.without_edits() for f in fixed]
    return findings, fixed, doc.text if fix else text


def _error(path: str, exc: Exception) -> FileResult:
    if isinstance(exc, YamlInputError):
        return FileResult(path, Status.ERROR, error=f"{exc.line}:{exc.column}: {exc.message}")
    return FileResult(path, Status.ERROR, error="1:1: nesting too deep")


def _result(path, original, doc, findings, fixed, fix, edits: bool = True) -> FileResult:
    findings = tuple(f.with_file(path) if edits else f.without_edits().with_file(path) for f in findings)
    fixed = tuple(f.with_file(path) if edits else f.without_edits().with_file(path) for f in fixed)
    if fix and doc.text != original:
        return FileResult(path, Status.FIXED, findings, fixed, original=original, output=doc.text)
    return FileResult(path, Status.FINDINGS if findings else Status.CLEAN, findings, original=original)


def process(path: str, data: bytes, settings: Settings, fix: bool) -> FileResult:
    """Check or fix one input's bytes; never raises for bad input."""
    return process_project([(path, data)], settings, fix)[0]


def _with_env(inputs, settings):
    """The settings with the project's variables: what its first file's settings give, or the env
    files Compose would read for it (`.env` beside the first file, or the --env-file files)."""
    first = settings[0] if isinstance(settings, (list, tuple)) else settings
    if not inputs or first is None:
        return settings
    env = first.env if first.env is not None else project_env(inputs[0][0], first.env_files)
    if isinstance(settings, (list, tuple)):
        return [replace(s, env=env) for s in settings]
    return replace(settings, env=env)


def process_project(inputs, settings, fix: bool) -> list[FileResult]:
    """Check or fix files that Compose reads together (base then overrides, like `-f a -f b`): each
    file is judged with the others in view, so a setting made in one file is not reported missing in
    another, and a missing setting is fixed where the service is defined. A file that cannot be read
    is reported and the others are judged without it. `settings` is one Settings for every file, or a
    list with one per input (each file keeps its own configuration)."""
    settings = _with_env(inputs, settings)
    per_input = dict(zip((p for p, _ in inputs), settings)) if isinstance(settings, (list, tuple)) else {}
    parsed, results = [], {}
    for path, data in inputs:
        try:
            parsed.append((path, *decode_parse(path, data)))
        except (YamlInputError, RecursionError) as exc:
            results[path] = _error(path, exc)
    docs = [doc for _, _, doc in parsed]
    notes = {path: [] for path, _, _ in parsed}
    bases = [extends_bases(path, doc, notes[path]) for path, _, doc in parsed]
    included = project_includes(parsed, notes)
    for i in range(len(docs)):  # a service an included file defines is the base of its overrides
        for name in service_maps(docs[i]):
            bases[i].setdefault(name, included.mappings.get(name, ()))
        bases[i] = {name: found for name, found in bases[i].items() if found}

    read_only = frozenset(i for i, (path, _, _) in enumerate(parsed) if per_input.get(path, settings).read_only)

    def project_of(i):
        fragment = is_override_name(parsed[i][0])
        if len(docs) == 1 and not bases[i] and not fragment:
            return None
        memo: dict = {}  # shared by every pass over this file
        return lambda d: Project(tuple(docs[:i] + [d] + docs[i + 1:]), i, MappingProxyType(bases[i]), fragment,
                                 read_only, memo)

    outcome = {}
    parsed = [(path, text) for path, text, _ in parsed]  # the trees live in docs only
    for i, (path, text) in enumerate(parsed):
        view = project_of(i)
        if fix:
            docs[i], findings, fixed = _fix_to_fixpoint(_taken(docs, i), per_input.get(path, settings), view,
                                                        included.context)
        else:
            here = per_input.get(path, settings)
            findings = run_rules(docs[i], here, view(docs[i]) if view else None, included.context, here.keep_edits)
            fixed = []
        outcome[path] = (text, findings, fixed)
    for i, (path, text) in enumerate(parsed):
        _, findings, fixed = outcome[path]
        if fix and len(parsed) > 1:  # later files' fixes may have settled findings of earlier ones
            view = project_of(i)
            here = per_input.get(path, settings)
            findings = run_rules(docs[i], here, view(docs[i]) if view else None, included.context, here.keep_edits)
        results[path] = replace(_result(path, text, docs[i], findings, fixed, fix,
                                        per_input.get(path, settings).keep_edits), notes=tuple(notes[path]))
    return [results[path] for path, _ in inputs]
