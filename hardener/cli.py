"""The command line: the only place that prints. Exit codes: 0 clean, 1 findings or files rewritten,
2 when an input could not be processed (the others are still processed)."""
from __future__ import annotations

import functools
import os
import sys
from typing import List, Optional

import typer

from . import __version__
from .model import Status

app = typer.Typer(add_completion=True, no_args_is_help=True, rich_markup_mode=None,
                  help="Find risky settings in Docker Compose files and fix them in place.")

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
EDIT_FORMATS = ("sarif", "suggestions", "html")  # the report formats that show each fix's own edits (html: beside its findings)

PathsArg = typer.Argument(None, help="Compose files or folders to search; '-' reads standard input.")
FileOpt = typer.Option(None, "--file", help="Compose files read together as one project, in merge order "
                       "(like docker compose -f a -f b); repeatable.")
SelectOpt = typer.Option(None, "--select", help="Only these rules (id, name or id prefix); repeatable or comma-separated.")
IgnoreOpt = typer.Option(None, "--ignore", help="Skip these rules (id, name or id prefix).")
UnsafeOpt = typer.Option(False, "--unsafe-fixes", help="Also apply fixes that may change how a service runs.")
FormatOpt = typer.Option("text", "--format", "-f", help="Output format: text or json.")
OutputOpt = typer.Option(None, "--output", "-o", help="Write the report to this file instead of standard output.")
ExitZeroOpt = typer.Option(False, "--exit-zero", help="Exit 0 even when findings remain.")
QuietOpt = typer.Option(False, "--quiet", "-q", help="Print findings only, no summary.")
ConfigOpt = typer.Option(None, "--config", help="Use this pyproject.toml or .hardener.yaml instead of searching upward.")
IsolatedOpt = typer.Option(False, "--isolated", help="Ignore every configuration file.")
ReportFormatOpt = typer.Option("text", "--format", "-f",
                               help="Report format: text (grouped, with source lines), concise (one line per "
                               "finding), json, sarif, github, gitlab, markdown, html or suggestions.")
DiffFormatOpt = typer.Option("text", "--format", "-f",
                             help="The report of what remains: text (grouped) or concise (one line per finding); "
                             "with --diff also json, markdown, html or suggestions.")
StatisticsOpt = typer.Option(False, "--statistics", help="Print how many findings each rule has instead of the findings.")
PatchOpt = typer.Option(None, "--patch", metavar="[safe|unsafe|none]",
                        help="The patch markdown, html and suggestions propose (default: unsafe with --unsafe-fixes, else safe).")
RulesUrlOpt = typer.Option(None, "--rules-url", envvar="HARDENER_RULES_URL",
                           help="Base URL of the per-rule documentation pages (SARIF helpUri, report links).")
ReadOnlyOpt = typer.Option(None, "--read-only", metavar="PATTERN",
                           help="Files that are not yours (a vendor's compose file): judged, never written; "
                           "fixes go into the project's other files. A glob on the path from the current "
                           "folder or the file name; repeatable.")
FailOnOpt = typer.Option(None, "--fail-on", metavar="SEVERITY",
                         help="Exit 1 only for findings of this severity or above (low, medium, high, "
                         "critical); the others are still reported. Also `fail-on` in the configuration.")
NoOverrideOpt = typer.Option(False, "--no-override", help="A named compose.yaml is read alone, without the "
                             "compose.override.yaml beside it (which is read with it by default, as docker compose does).")
EnvFileOpt = typer.Option(None, "--env-file", metavar="PATH",
                          help="The env file Compose interpolates the project with, as `docker compose --env-file` "
                          "(instead of the .env beside the first compose file); repeatable, later files win. Its "
                          "values are only compared (a port written ${PORT}), never printed.")
JobsOpt = typer.Option(0, "--jobs", "-j", envvar="HARDENER_JOBS", min=0,
                       help="Worker processes for many files (0: one per core when the input is big enough; 1: none).")

RuntimeFileOpt = typer.Option(None, "--runtime-file", metavar="FILE",
                              help="verify: a compose file merged only at run time, never edited (healthchecks, "
                              "test credentials, stand-in images); repeatable.")
TimeoutOpt = typer.Option(120.0, "--timeout", min=1, help="verify: seconds to wait for the services of a run to settle.")
SettleOpt = typer.Option(8.0, "--settle", min=0, help="verify: seconds a service without healthcheck must stay up.")
PullOpt = typer.Option(False, "--pull", help="verify: pull missing images (never done otherwise).")

VerificationOpt = typer.Option(None, "--verification", metavar="FILE",
                               help="markdown, html: add the verification `hardener verify --format json -o FILE` "
                               "wrote (how each service ran as written and as patched, what was dropped and why).")

ObservedOpt = typer.Option(None, "--observed", metavar="FILE",
                           help="Use this observation (hardener observe) instead of hardener-observed.json beside the input.")
NoObservedOpt = typer.Option(False, "--no-observed", help="Ignore any observation file.")
HeadroomOpt = typer.Option(1.5, "--headroom", metavar="X", help="Limits from an observation: the observed peak "
                           "times X (at least 1; memory never below 128M).")
ImageFactsOpt = typer.Option(False, "--image-facts", help="Read the configuration of images present on the Docker "
                             "engine to recognise unknown names built like a known image (never pulls).")


def _term(text) -> str:
    """Text from a file or a path, for the terminal: control characters escaped (see escape.py)."""
    from .escape import terminal

    return terminal(text)


def _version(value: bool):
    if value:
        typer.echo(f"hardener {__version__}")
        raise typer.Exit()


@app.callback()
def _main(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                       help="Show the version and exit.")):
    pass


def _split(values) -> frozenset:
    return frozenset(v.strip() for value in values or () for v in value.split(",") if v.strip())


class _Choice:
    """What the command line chose; per file it is combined with the nearest configuration."""

    def __init__(self, select, ignore, unsafe, config_file=None, isolated=False, files=None, read_only=None):
        from .rules import BY_KEY, RULES

        self.files = list(files or ())
        self.read_only = tuple(read_only or ())
        self.select, self.ignore, self.unsafe = _split(select), _split(ignore), unsafe
        for name in self.select | self.ignore:
            if name not in BY_KEY and not any(r.ID.startswith(name) for r in RULES if name.isupper()):
                _fail(f"unknown rule '{name}' (see `hardener rules`)")
        self.isolated = isolated
        self._fixed = self._load(config_file) if config_file else None
        self._found: dict = {}  # configuration file -> Config
        self._config_of: dict = {}  # input path -> Config
        self._config_in: dict = {}  # folder as written -> Config (finding it resolves the folder: once per folder)
        self._settings_of: dict = {}  # input path -> its Settings before this run's additions (see for_file)
        self.leave_baselined = False  # fix: findings a baseline records are neither fixed nor reported
        self.baseline = None  # the --baseline file; without it each file's configured baseline
        self._baselines: dict = {}
        self.said = 0  # how many of the problems were printed
        self.problems: list = []  # what went wrong around the inputs (a helper process died...): exit 2
        self.groups = None  # the projects, once computed (see _groups)
        self.override = True  # a named compose.yaml brings its compose.override.yaml (--no-override: not)
        self.fail_on = None  # --fail-on: the lowest severity that fails the run (else the configuration's)
        self.roots: dict = {}  # input path -> the real path of the tree it was found in (see _groups)
        self.env_files: tuple = ()  # --env-file, absolute: read instead of each project's .env
        self.profiles: dict = {}  # image profiles measured for this run (observation, image facts): Settings.profiles

    def config_for(self, path: str):
        from . import config

        if self.isolated or path == "-":
            return self._fixed or config.Config()
        if self._fixed is not None:
            return self._fixed
        if path not in self._config_of:
            # config.find looks from the file's folder: the files of one folder share the answer
            folder = path if os.path.isdir(path) else os.path.dirname(os.path.abspath(path))
            if folder not in self._config_in:
                found = config.find(folder)
                if found not in self._found:
                    self._found[found] = self._load(found) if found else config.Config()
                self._config_in[folder] = self._found[found]
            self._config_of[path] = self._config_in[folder]
        return self._config_of[path]

    def for_file(self, path: str):
        """The file's Settings: its configuration with the command line's choices (computed once per
        file: a scan asks before the helpers start, in them, and again for the report), then what this
        run adds (env files, baseline, measured profiles), which may be set after the first call."""
        from dataclasses import replace
        from types import MappingProxyType

        settings = self._settings_of.get(path)
        if settings is None:
            settings = self._settings_of[path] = self.config_for(path).settings_for(
                path, self.select, self.ignore, self.unsafe, self.read_only)
        if self.env_files:
            settings = replace(settings, env_files=self.env_files)
        recorded = self._recorded(path) if self.leave_baselined else None
        if self.profiles:
            settings = replace(settings, profiles=MappingProxyType(dict(self.profiles)))
        return replace(settings, baseline=recorded) if recorded else settings

    def _recorded(self, path: str):
        """What the baseline that applies to this file records about it (baseline.Recorded), or None."""
        from pathlib import Path

        from . import baseline as bl

        file = Path(self.baseline) if self.baseline else self.config_for(path).baseline
        if file is None:
            return None
        if file not in self._baselines:
            try:
                self._baselines[file] = bl.load(file)
            except (OSError, ValueError) as exc:
                _fail(f"{file}: cannot read baseline: {exc}")
        return bl.Recorded(self._baselines[file], file, "<stdin>" if path == "-" else path)

    @staticmethod
    def _load(path):
        from pathlib import Path

        from . import config

        try:
            return config.load(Path(path))
        except OSError as exc:
            _fail(f"{path}: {exc.strerror or exc}")
        except config.ConfigError as exc:
            _fail(str(exc))


def _settings(select, ignore, unsafe, config_file=None, isolated=False, files=None, read_only=None):
    return _Choice(select, ignore, unsafe, config_file, isolated, files, read_only)


def _env_files(paths) -> tuple:
    """--env-file paths, absolute; a missing one stops the run (exit 2), as it stops docker compose."""
    out = []
    for path in paths or ():
        if not os.path.isfile(path):
            _fail(f"--env-file {_term(path)}: no such file")
        out.append(os.path.abspath(path))
    return tuple(out)


def _need_inputs(paths, files):
    if not paths and not files:
        _fail("no input: name compose files or folders, '-' for standard input, or --file")


def _refuse_inputs_as_outputs(paths, choice, outputs):
    """Exit 2 before anything is read or written when a report or baseline file (given as
    (option, path)) is one of the inputs, by name, through a symlink or as a hard link: writing it
    would replace a compose file with a report."""
    outputs = [(option, path) for option, path in outputs if path and path != "-"]
    if not outputs:
        return
    inputs = [p for group in _groups(paths, choice) for p in group if p != "-"]
    real = {os.path.realpath(p): p for p in inputs}
    for option, path in outputs:
        hit = real.get(os.path.realpath(path))
        if hit is None and os.path.exists(path):
            hit = next((p for p in inputs if os.path.exists(p) and os.path.samefile(p, path)), None)
        if hit is not None:
            _fail(f"{option} {_term(path)} is the input {_term(hit)}: refusing to overwrite it with a report")


def _fail(message: str):
    typer.echo(f"hardener: error: {_term(message)}", err=True)
    raise typer.Exit(EXIT_ERROR)


def _read(path: str) -> bytes:
    """The input's bytes, at most one byte more than the engine accepts (it reports larger files);
    devices, pipes and folders given as files are refused before reading."""
    import stat

    from .inputs import MAX_BYTES

    if path == "-":
        return sys.stdin.buffer.read(MAX_BYTES + 1)
    mode = os.stat(path).st_mode
    if stat.S_ISDIR(mode):
        os.listdir(path)  # an unreadable folder raises its own PermissionError here
        raise OSError("a folder, not a compose file")
    if not stat.S_ISREG(mode):
        raise OSError("not a regular file")
    with open(path, "rb") as fh:
        return fh.read(MAX_BYTES + 1)


def _groups(paths, choice) -> list[list[str]]:
    """Inputs as projects: the files given with --file form one; base and override files found side
    by side form one each; every other file stands alone. A base file named on the command line
    (compose.yaml...) brings the override file beside it (compose.override.yaml), as `docker compose`
    reads it, unless --no-override. A file is read once however often it is named or reached
    (`--file a --file a`, an override that is a symlink to its base): the second name of the same
    real file is dropped. Each file's scanned tree (the folder searched, or a named file's own folder)
    is kept in choice.roots: `fix` writes no symlink that points out of it. A folder without any
    compose file is a problem (exit 2). Computed once per run."""
    if choice.groups is not None:
        return choice.groups
    from .discovery import SEARCHED, expand, group_projects, override_of

    roots, found = choice.roots, []
    for path in list(paths or ()):
        if path != "-" and os.path.isdir(path):
            top, files = os.path.realpath(path), expand([path])
            if not files:
                choice.problems.append(f"{_term(path)}: no compose file found (searched for {', '.join(SEARCHED)}); "
                                       "name a file to check it whatever its name")
            for file in files:
                roots.setdefault(file, top)
            found += files
        else:
            found.append(path)
            if path != "-" and choice.override:
                override = override_of(path)
                if override is not None and override not in found:
                    found.append(override)
    real_folders: dict = {}  # a folder's real path, resolved once for all its files
    for path in list(choice.files or ()) + found:
        if path != "-" and path not in roots:
            folder = os.path.dirname(os.path.abspath(path))
            if folder not in real_folders:
                real_folders[folder] = os.path.realpath(folder)
            roots[path] = real_folders[folder]
    files = list(choice.files or ())
    groups = ([files] if files else []) + group_projects(list(dict.fromkeys(found)))
    seen, out = set(), []
    for group in groups:
        kept = []
        for path in group:
            key = path if path == "-" else os.path.realpath(path)
            if key not in seen:
                seen.add(key)
                kept.append(path)
        if kept:
            out.append(kept)
    choice.groups = out
    return out


def _process_group(group, choice, fix: bool, texts=None, edits: bool = True):
    """The results of one project, from its files or from `texts` (path -> text already read);
    without the fixes' edits when the caller will not show them (they are costly to send between
    processes)."""
    from dataclasses import replace

    from .engine import process_project
    from .model import FileResult

    inputs, failed = [], []
    for path in group:
        name = "<stdin>" if path == "-" else path
        if texts is not None:
            if name in texts:
                inputs.append((name, texts[name].encode("utf-8")))
            continue
        try:
            inputs.append((name, _read(path)))
        except OSError as exc:
            failed.append(FileResult(path, Status.ERROR, error=f"1:1: {exc.strerror or exc.args[0] if exc.args else exc}"))
    settings = [choice.for_file("-" if name == "<stdin>" else name) for name, _ in inputs]
    if not edits:  # the engine lets the edits go as soon as it can (see Settings.keep_edits)
        settings = [replace(s, keep_edits=False) for s in settings]
    try:
        results = process_project(inputs, settings, fix) if inputs else []
    except RecursionError:  # a chain of merge keys or aliases too long to follow
        results = [FileResult(name, Status.ERROR, error="1:1: nesting too deep (a chain of merge keys or "
                              "aliases longer than hardener follows)") for name, _ in inputs]
    except MemoryError:
        results = [FileResult(name, Status.ERROR, error="1:1: out of memory") for name, _ in inputs]
    except Exception as exc:  # a defect of hardener: the project is reported as not processed, the others go on
        results = [FileResult(name, Status.ERROR, error=f"1:1: internal error ({type(exc).__name__}: {exc}); "
                              "nothing was written; please report this file") for name, _ in inputs]
    results = [_with_typo_notes(r) for r in results]
    return results + failed


def _with_typo_notes(result):
    """A note for each `# hardener: ...` comment that is no directive (a typo silences nothing)."""
    if result.original is None or "hardener" not in result.original.lower():
        return result
    from dataclasses import replace

    from .suppressions import misspelled

    typos = misspelled(result.original)
    if not typos:
        return result
    notes = tuple(f"line {line + 1}:{column + 1}: '{text}' is not a hardener directive (known: ignore, "
                  "ignore[RULES], ignore-file, ignore-file[RULES]): it silences nothing" for line, column, text in typos)
    return replace(result, notes=result.notes + notes)


def _apply_baseline(results, choice, baseline, write_baseline):
    """Write a baseline of the current findings (they are recorded, so none is left to report), or
    hide the findings a baseline records."""
    from dataclasses import replace
    from pathlib import Path

    from . import baseline as bl

    if write_baseline:
        target = Path(write_baseline)
        try:
            if target.is_dir():
                raise IsADirectoryError(21, "a folder, not a file")
            if str(target.parent) not in ("", "."):
                target.parent.mkdir(parents=True, exist_ok=True)
            count = bl.write(target, results)
        except OSError as exc:
            _fail(f"{_term(write_baseline)}: cannot write the baseline: {_term(exc.strerror or exc)}")
        files = len({f.file for r in results for f in r.findings})
        typer.echo(f"Wrote {count} finding{'s' * (count != 1)} of {files} file{'s' * (files != 1)} to the "
                   f"baseline {_term(write_baseline)}", err=True)
        return [replace(r, findings=()) for r in results]
    given = Path(baseline) if baseline else None
    by_baseline: dict = {}  # each file is matched against its own baseline (--baseline, or configured)
    for index, r in enumerate(results):
        path = given or choice.config_for(r.path).baseline
        if path is not None:
            by_baseline.setdefault(Path(path), []).append(index)
    out = list(results)
    for path, indexes in by_baseline.items():
        try:
            known = bl.load(path)
        except (OSError, ValueError) as exc:
            _fail(f"{path}: cannot read baseline: {exc}")
        for index, kept in zip(indexes, bl.hide([results[i] for i in indexes], known, path)):
            out[index] = kept
    return out


def _report_errors(results, notes: bool = True):
    for r in results:
        if r.status is Status.ERROR:
            typer.echo(f"{_term(r.path)}:{_term(r.error)}", err=True)
    if notes:
        sys.stderr.write("".join(_note_lines(results)))


def _note_lines(results) -> list[str]:
    """What was not read for context (an include outside the folder, a remote or missing file...)."""
    return [f"{_term(r.path)}: note: {_term(note)}\n" for r in results for note in r.notes]


def _emit(text: str, output: Optional[str]):
    if output:
        try:
            folder = os.path.dirname(output)
            if folder:
                os.makedirs(folder, exist_ok=True)
            with open(output, "w", encoding="utf-8") as fh:
                fh.write(text)
        except OSError as exc:
            _fail(f"{output}: cannot write the report: {exc.strerror or exc}")
    else:
        # in slices: the stream encodes what it is given at once, and a big file's report is megabytes
        for start in range(0, len(text), 1 << 18):
            sys.stdout.write(text[start:start + (1 << 18)])


SEVERITIES = ("low", "medium", "high", "critical")


def _severity(value: Optional[str]) -> Optional[str]:
    if value is None:
        return None
    if value.lower() not in SEVERITIES:
        _fail(f"--fail-on {_term(value)}: choose from {', '.join(SEVERITIES)}")
    return value.lower()


def _exit_code(results, changed: bool, exit_zero: bool, choice=None) -> int:
    """2 when an input or the run had a problem; else 1 when files were rewritten or a finding at or
    above the fail-on severity (--fail-on, else each file's configuration, else low) remains."""
    if any(r.status is Status.ERROR for r in results) or choice is not None and choice.problems:
        return EXIT_ERROR
    if exit_zero:
        return EXIT_CLEAN
    if changed:
        return EXIT_FINDINGS
    for r in results:
        if r.findings:
            least = (choice.fail_on or choice.config_for("-" if r.path == "<stdin>" else r.path).fail_on
                     if choice is not None else None) or "low"
            if any(f.severity.rank >= SEVERITIES.index(least) for f in r.findings):
                return EXIT_FINDINGS
    return EXIT_CLEAN


# ---- report helpers of `check` and `fix` (output formats, progress, rule metadata)

def _scan(paths, choice, fix: bool, quiet: bool, jobs: int = 0, texts=None, edits: bool = True, then=None):
    """Every input's results, project by project, on several cores when there are many; with a
    progress bar on stderr when it is a terminal and there are many files. `then(results)`, when
    given, is what a project gives instead of its results: work done in the process that made them."""
    from . import parallel
    from .formats.text import PROGRESS_MIN_FILES, progress_clear, progress_line

    groups = _groups(paths, choice)
    sizes = [_size(g, texts) for g in groups]
    reads_stdin = texts is None and any("-" in g for g in groups)
    workers = 1 if reads_stdin else parallel.workers_for(jobs, sizes)
    if workers > 1:
        from . import engine  # noqa: F401  (imported once here, not again in every helper)

        for group in groups:  # configuration errors stop the run here, before any worker starts
            for path in group:
                choice.for_file(path)
    total = sum(len(g) for g in groups)
    show = not quiet and sys.stderr.isatty() and total >= PROGRESS_MIN_FILES
    done, slots = 0, [None] * len(groups)
    if then is None:
        work = lambda i: _process_group(groups[i], choice, fix, texts, edits)  # noqa: E731
    else:
        work = lambda i: then(_process_group(groups[i], choice, fix, texts, edits))  # noqa: E731
    for index, results in parallel.run_all(work, sizes, workers, choice.problems):
        slots[index] = results
        done += len(groups[index])
        if show:
            sys.stderr.write(progress_line(done, total))
            sys.stderr.flush()
    if show:
        sys.stderr.write(progress_clear(total=total))
    for problem in choice.problems[choice.said:]:
        typer.echo(f"hardener: error: {_term(problem)}", err=True)
    choice.said = len(choice.problems)
    return [r for results in slots for r in results]


def _size(group, texts=None) -> int:
    total = 0
    for path in group:
        try:
            if texts is not None:
                total += len(texts.get("<stdin>" if path == "-" else path) or "")
            elif path != "-":
                total += os.stat(path).st_size
        except OSError:
            pass  # reported when the file is read
    return total


def _rule_infos(choice, results):
    """What the output formats may know about the rules: those that ran on at least one file."""
    from .formats import RuleInfo
    from .rules import RULES

    settings = [choice.for_file("-" if r.path == "<stdin>" else r.path) for r in results
                if r.status is not Status.ERROR] or [choice.for_file("-")]
    return [RuleInfo(r.ID, r.NAME, r.SEVERITY.value, r.CONFIDENCE.value, r.FIX.value, tuple(r.ATTACK_TREE),
                     r.__doc__ or "") for r in RULES if any(s.wants(r) for s in settings)]


def _rerun(paths, results, choice, fix: bool, jobs: int = 0, edits: bool = True):
    """The same inputs, project by project, from the texts already read (standard input cannot be read
    twice, and files may have changed since)."""
    texts = {r.path: r.original for r in results if r.original is not None}
    return _scan(paths, choice, fix, True, jobs, texts, edits)


def _patches(fixed_results):
    from .diff import unified
    from .formats import Patch

    return [Patch(r.path, r.original, r.output, unified(r.original, r.output, r.path))
            for r in fixed_results if r.status is Status.FIXED]


def _patch_mode(patch: Optional[str], unsafe: bool) -> str:
    mode = patch or ("unsafe" if unsafe else "safe")
    if mode not in ("safe", "unsafe", "none"):
        _fail(f"unknown --patch '{mode}' (choose from safe, unsafe, none)")
    return mode


@app.command()
def check(paths: List[str] = PathsArg, select: Optional[List[str]] = SelectOpt,
          ignore: Optional[List[str]] = IgnoreOpt, fmt: str = ReportFormatOpt, output: Optional[str] = OutputOpt,
          exit_zero: bool = ExitZeroOpt, quiet: bool = QuietOpt,
          unsafe_fixes: bool = typer.Option(False, "--unsafe-fixes", hidden=True),
          config_file: Optional[str] = ConfigOpt, isolated: bool = IsolatedOpt,
          files: Optional[List[str]] = FileOpt,
          baseline: Optional[str] = typer.Option(None, "--baseline", help="Hide findings recorded in this baseline file."),
          write_baseline: Optional[str] = typer.Option(None, "--write-baseline", help="Record the current findings as a baseline file."),
          statistics: bool = StatisticsOpt, patch: Optional[str] = PatchOpt, rules_url: Optional[str] = RulesUrlOpt,
          jobs: int = JobsOpt, read_only: Optional[List[str]] = ReadOnlyOpt,
          observed: Optional[str] = ObservedOpt, no_observed: bool = NoObservedOpt,
          image_facts: bool = ImageFactsOpt, headroom: float = HeadroomOpt,
          report_url: Optional[str] = typer.Option(None, "--report-url", envvar="HARDENER_REPORT_URL",
                                                   help="Where the full report is; a Markdown comment too long "
                                                   "for GitHub links to it for the findings it leaves out."),
          fail_on: Optional[str] = FailOnOpt, no_override: bool = NoOverrideOpt,
          verification: Optional[str] = VerificationOpt, env_file: Optional[List[str]] = EnvFileOpt):
    """Report findings; nothing is written."""
    from .formats import DEFAULT_RULES_URL, FORMATS, PATCH_FORMATS, render
    from .formats.text import use_color

    concise = fmt == "concise"  # the text report, one line per finding
    fmt = "text" if concise else fmt
    if fmt not in FORMATS:
        _fail(f"unknown format '{fmt}' (choose from {', '.join(FORMATS[:1] + ('concise',) + FORMATS[1:])})")
    if statistics and fmt not in ("text", "json"):
        _fail(f"--statistics prints a table of counts: use it with --format text or json, not {fmt}")
    mode = _patch_mode(patch, unsafe_fixes)
    verified = _verification(verification, fmt)
    choice = _settings(select, ignore, unsafe_fixes, config_file, isolated, files, read_only)
    choice.override, choice.fail_on = not no_override, _severity(fail_on)
    choice.env_files = _env_files(env_file)
    _need_inputs(paths, files)
    _refuse_inputs_as_outputs(paths, choice, [("-o", output), ("--write-baseline", write_baseline)])
    choice.profiles = _use_observation(paths, files, observed, no_observed, image_facts, headroom)
    color = not output and use_color()
    # the grouped text report: each file's part is made where the file is checked (_text_blocks)
    blocks_first = fmt == "text" and not concise and not statistics and not baseline and not write_baseline
    then = functools.partial(_text_blocks, choice=choice, color=color) if blocks_first else None
    scanned = _scan(paths, choice, False, quiet, jobs, edits=fmt in EDIT_FORMATS, then=then)
    blocks = [block for _, block in scanned] if blocks_first else None
    results = _promote_extended([r for r, _ in scanned] if blocks_first else scanned, choice)
    results = _apply_baseline(results, choice, baseline, write_baseline)
    _report_errors(results)
    if statistics:
        from .formats.text import render_statistics
        from .formats.text import statistics as rule_counts

        if fmt == "json":
            import json

            text = json.dumps(rule_counts(results), indent=2) + "\n"
        else:
            text = render_statistics(results, color=color, quiet=quiet)
    else:
        patches = []
        if fmt in PATCH_FORMATS and mode != "none":
            patch_choice = _settings(select, ignore, mode == "unsafe", config_file, isolated, files, read_only)
            # the proposed patch leaves alone what the baseline records, as `fix --baseline` does
            patch_choice.leave_baselined, patch_choice.baseline = not write_baseline, baseline
            patch_choice.groups, patch_choice.roots, patch_choice.override = choice.groups, choice.roots, choice.override
            patch_choice.env_files = choice.env_files
            patch_choice.profiles = choice.profiles
            patches = _patches(_rerun(paths, results, patch_choice, True, jobs, edits=False))
        text = render(fmt, results, color=color, quiet=quiet, concise=concise, rules=_rule_infos(choice, results), blocks=blocks, patches=patches,
                      patch_mode=mode, rules_url=rules_url or DEFAULT_RULES_URL, report_url=report_url,
                      projects=_groups(paths, choice) if patches else None, verification=verified)
    _emit(text, output)
    raise typer.Exit(_exit_code(results, False, exit_zero, choice))


@app.command()
def fix(paths: List[str] = PathsArg, select: Optional[List[str]] = SelectOpt,
        ignore: Optional[List[str]] = IgnoreOpt, unsafe_fixes: bool = UnsafeOpt,
        diff: bool = typer.Option(False, "--diff", help="Print a unified diff of the fixes; write nothing."),
        exit_zero: bool = ExitZeroOpt, quiet: bool = QuietOpt,
        config_file: Optional[str] = ConfigOpt, isolated: bool = IsolatedOpt,
        files: Optional[List[str]] = FileOpt, fmt: str = DiffFormatOpt, output: Optional[str] = OutputOpt,
        rules_url: Optional[str] = RulesUrlOpt, jobs: int = JobsOpt,
        baseline: Optional[str] = typer.Option(None, "--baseline", help="Leave the findings recorded in this "
                                               "baseline file alone: neither fixed nor reported."),
        read_only: Optional[List[str]] = ReadOnlyOpt,
        verify_run: bool = typer.Option(False, "--verify", help="Start the project as written and fixed on the "
                                        "Docker engine first; write only the fixes that keep every service working."),
        runtime_files: Optional[List[str]] = RuntimeFileOpt, timeout: float = TimeoutOpt, settle: float = SettleOpt,
        pull: bool = PullOpt, observed: Optional[str] = ObservedOpt, no_observed: bool = NoObservedOpt,
        image_facts: bool = ImageFactsOpt, headroom: float = HeadroomOpt,
        fail_on: Optional[str] = FailOnOpt, no_override: bool = NoOverrideOpt,
        verification: Optional[str] = VerificationOpt,
        write_verification: Optional[str] = typer.Option(
            None, "--write-verification", metavar="FILE",
            help="With --verify: save the verification as JSON (verify's schema, with the patch written) for "
            "`check --verification FILE`."),
        env_file: Optional[List[str]] = EnvFileOpt):
    """Apply fixes in place (safe ones; unsafe ones too with --unsafe-fixes). '-' reads standard input
    and writes the fixed text to standard output. With --verify, only fixes proven on a real engine."""

    from .writing import FileChanged, encode, write_atomic
    from .formats import DEFAULT_RULES_URL, DIFF_FORMATS, render
    from .formats.text import finding_line, full_lines, summary

    concise = fmt == "concise"
    fmt = "text" if concise else fmt
    if fmt not in DIFF_FORMATS:
        _fail(f"unknown format '{fmt}' for fix (choose from text, concise, {', '.join(DIFF_FORMATS[1:])})")
    if fmt != "text" and not diff:
        _fail(f"--format {fmt} shows the proposed patch: add --diff")
    verified = _verification(verification, fmt)
    choice = _settings(select, ignore, unsafe_fixes, config_file, isolated, files, read_only)
    choice.leave_baselined, choice.baseline = True, baseline  # the engine filters before choosing fixes
    choice.override, choice.fail_on = not no_override, _severity(fail_on)
    choice.env_files = _env_files(env_file)
    _need_inputs(paths, files)
    _refuse_inputs_as_outputs(paths, choice, [("-o", output)])
    choice.profiles = _use_observation(paths, files, observed, no_observed, image_facts, headroom)
    if write_verification and not verify_run:
        _fail("--write-verification saves what --verify found: add --verify")
    if verify_run:
        _refuse_inputs_as_outputs(paths, choice, [("--write-verification", write_verification)])
        paths, jobs = _verified(paths, choice, runtime_files, timeout, settle, pull, unsafe_fixes, write_verification)
        choice.groups = None  # the projects are the verified ones now
    dry_run = diff and fmt == "text"
    scanned = _scan(paths, choice, True, quiet, jobs, edits=False, then=_dry_run if dry_run else None)
    results = [r for r, _ in scanned] if dry_run else scanned
    _report_errors(results, notes=fmt != "text")  # in text, notes go with the findings of the report
    if fmt != "text":
        # the review formats show the findings as `check` reports them (positions in the original text)
        # next to the patch of this run
        found = _rerun(paths, results, choice, False, jobs, edits=fmt in EDIT_FORMATS) + [r for r in results if r.status is Status.ERROR]
        _emit(render(fmt, found, rules=_rule_infos(choice, found), patches=_patches(results),
                     patch_mode="unsafe" if unsafe_fixes else "safe", rules_url=rules_url or DEFAULT_RULES_URL,
                     projects=_groups(paths, choice), diff=True, verification=verified),
              output)
        changed = any(r.status is Status.FIXED for r in results)
        raise typer.Exit(_exit_code(results, changed, exit_zero, choice))
    unwritten = set()
    changed = write_failed = False
    if diff:  # nothing is written: the diffs, and the remaining findings at lines of the files as they are (_dry_run)
        changed = any(r.status is Status.FIXED for r in results)
        _emit("".join(text for r, text in scanned if r.status is Status.FIXED), output)
    for r in results if not diff else ():  # writing the fixed files
        if r.status is Status.ERROR:
            continue
        if r.path == "<stdin>":
            sys.stdout.write(r.output if r.output is not None else r.original)
            changed |= r.status is Status.FIXED
            continue
        if r.status is not Status.FIXED:
            continue
        changed = True
        outside = _outside_tree(r.path, choice)
        if outside:
            typer.echo(f"{_term(r.path)}: note: {outside}", err=True)
            unwritten.add(r.path)
            continue
        same = functools.partial(_same_text, original=r.original)
        try:
            raw = _read(r.path)
            if not same(raw):
                raise FileChanged(0, "changed", r.path)
            write_atomic(r.path, encode(r.output, raw.startswith(b"\xef\xbb\xbf")), unchanged=same)
        except FileChanged:
            typer.echo(f"{_term(r.path)}: changed while hardener ran; not written", err=True)
            write_failed = True
            unwritten.add(r.path)
            continue
        except OSError as exc:
            typer.echo(f"{_term(r.path)}:1:1: cannot write the fixed file: {_term(exc.strerror or exc)}", err=True)
            write_failed = True
            unwritten.add(r.path)
            continue
        typer.echo(f"Fixed {_term(r.path)}", err=True)
    if not diff:  # a file that was not written is reported as it is: its fixes were not applied
        results = [_not_written(r) if r.path in unwritten else r for r in results]
    if concise:
        lines = [finding_line(f) + "\n" for r in results for f in r.findings]
    else:  # positions are in the fixed text when it was written, in the original for a dry run
        lines = [line + "\n" for line in full_lines(results, rules=_rule_infos(choice, results),
                                                       source=lambda r: r.original if diff else r.output or r.original)]
    lines = _note_lines(results) + lines
    if not quiet:
        lines.append(summary(results, dry_run=diff) + "\n")
    if output and not diff:
        _emit("".join(lines), output)
    else:
        report = sys.stderr if diff or any(r.path == "<stdin>" for r in results) else sys.stdout
        report.write("".join(lines))
    raise typer.Exit(EXIT_ERROR if write_failed else _exit_code(results, changed, exit_zero, choice))


@app.command("verify")
def verify_command(path: Optional[str] = typer.Argument(None, help="A compose file or the folder of one project "
                                                        "(with --file: the folder the files are relative to)."),
                   select: Optional[List[str]] = SelectOpt, ignore: Optional[List[str]] = IgnoreOpt,
                   unsafe_fixes: bool = UnsafeOpt, files: Optional[List[str]] = FileOpt,
                   runtime_files: Optional[List[str]] = RuntimeFileOpt, timeout: float = TimeoutOpt,
                   settle: float = SettleOpt, pull: bool = PullOpt, fmt: str = FormatOpt,
                   output: Optional[str] = OutputOpt, config_file: Optional[str] = ConfigOpt,
                   isolated: bool = IsolatedOpt, observed: Optional[str] = ObservedOpt,
                   no_observed: bool = NoObservedOpt, image_facts: bool = ImageFactsOpt,
                   headroom: float = HeadroomOpt):
    """Start the project as written and as `fix` would write it on the Docker engine (DOCKER_HOST), in
    temporary copies under fresh project names, and compare each service. Exit 0: every service that
    works as written works hardened; 1: a regression (the fixes responsible are named); 2: it could not
    run."""
    from .runtime import report

    if fmt not in ("text", "json"):
        _fail(f"unknown format '{fmt}' for verify (choose from text, json)")
    choice = _settings(select, ignore, unsafe_fixes, config_file, isolated, _under(path, files))
    choice.profiles = _use_observation([path] if path else [], choice.files, observed, no_observed, image_facts,
                                       headroom)
    # a JSON report file says why there is no verdict too (a report made from it can tell)
    failed = (lambda message: _emit(report.as_json_error(message), output)) if fmt == "json" and output else None
    verdict = _run_verify(path, choice, runtime_files, timeout, settle, pull, unsafe_fixes, write=False,
                          failed=failed)
    _emit(report.as_json(verdict) if fmt == "json" else report.as_text(verdict), output)
    raise typer.Exit(EXIT_FINDINGS if verdict.regressions else EXIT_CLEAN)


@app.command("observe")
def observe_command(path: Optional[str] = typer.Argument(None, help="A compose file or the folder of one project."),
                    duration: float = typer.Option(60.0, "--duration", help="Seconds to watch the running stack."),
                    files: Optional[List[str]] = FileOpt, runtime_files: Optional[List[str]] = RuntimeFileOpt,
                    timeout: float = TimeoutOpt, settle: float = SettleOpt, pull: bool = PullOpt,
                    output: Optional[str] = typer.Option(None, "--output", "-o", help="Where to save the observation "
                                                         "(default: hardener-observed.json beside the first file)."),
                    config_file: Optional[str] = ConfigOpt, isolated: bool = IsolatedOpt,
                    probe_caps: bool = typer.Option(False, "--probe-caps", help="Then start it once more with "
                                                    "cap_drop ALL and the capabilities inferred for each service, "
                                                    "and record whether each still works (probed, not inferred).")):
    """Start the project as written on the Docker engine (isolated as for verify), watch it run, and
    save what each service needed: memory and pids peaks, CPU, paths written outside volumes, users,
    listening ports, with the image each came from. Exit 0: saved; 2: it could not run."""
    import json

    from .runtime import CannotRun, observe

    choice = _settings(None, None, False, config_file, isolated, _under(path, files))
    options = _runtime_options(runtime_files, timeout, settle, pull, "observe")
    try:
        group = _one_project(path, choice)
        doc = observe.observe(group, options, duration, choice.for_file, probe_caps=probe_caps)
    except CannotRun as exc:
        _fail(str(exc))
    except KeyboardInterrupt:
        typer.echo("hardener: interrupted; the runs it started were removed", err=True)
        raise typer.Exit(130) from None
    target = output or os.path.join(os.path.dirname(os.path.abspath(group[0])), observe.FILE_NAME)
    try:
        observe.save(target, json.dumps(doc, indent=2) + "\n")
    except OSError as exc:
        _fail(f"{target}: cannot write the observation: {exc.strerror or exc}")
    typer.echo(observe.render_text(doc), nl=False)
    typer.echo(f"Saved {target}", err=True)


def _runtime_options(runtime_files, timeout, settle, pull, word: str):
    from .runtime import Options

    for f in runtime_files or ():
        if not os.path.isfile(f):
            _fail(f"{f}: no such runtime file")
    return Options(timeout=timeout, settle=settle, pull=pull,
                   runtime_files=tuple(os.path.abspath(f) for f in runtime_files or ()),
                   progress=lambda message: typer.echo(f"{word}: {_term(message)}", err=True),
                   prefix=os.environ.get("HARDENER_VERIFY_PREFIX") or f"hardener-{word}")


def _verification(path, fmt):
    """The verification a markdown or html report shows (--verification FILE), read before anything runs."""
    if path is None:
        return None
    if fmt not in ("markdown", "html"):
        _fail(f"--verification is shown by --format markdown and html, not {fmt}")
    from .runtime.report import VerificationError, read_verification

    try:
        return read_verification(path)
    except VerificationError as exc:
        _fail(str(exc))


def _one_project(path, choice):
    from .runtime.verify import select_project

    _need_inputs([path] if path else None, choice.files)
    groups = [list(choice.files)] if choice.files else _groups([path], choice)
    return select_project(groups, None if choice.files or not os.path.isdir(path) else path)


def _use_observation(paths, files, observed, no_observed, image_facts=False, headroom=1.5):
    """Image profiles measured by `hardener observe` (from --observed FILE, else hardener-observed.json
    beside the first input) and, with --image-facts, read from the images on the engine; what they set
    is said on stderr. An observation wins over image facts for the same image. Returns the profiles
    (repository name -> ImageProfile) for this run's Settings."""
    from .runtime.observed import find_beside

    if not headroom >= 1.0:  # NaN too
        _fail(f"--headroom {headroom:g}: a limit below the observed peak would stop the service (at least 1)")
    profiles = {}
    if image_facts:
        from .runtime import facts

        profiles, notes = facts.engine_profiles()
        for note in notes:
            typer.echo(f"hardener: image facts: {note}", err=True)
    path = None if no_observed else observed or find_beside(list(files or ()) + list(paths or ()))
    if path is not None:
        from .runtime import derive

        try:
            doc = derive.load(path)
            found = derive.derive(doc, path, headroom=headroom, current=derive.current_image_ids(doc))
        except derive.ObservationError as exc:
            _fail(str(exc))
        profiles.update(found.profiles)
        typer.echo(f"hardener: using the observation {path} ({found.observed_at}):", err=True)
        for note in found.notes:
            typer.echo(f"  {note}", err=True)
    return profiles


def _under(path, files):
    """--file paths, relative to PATH when PATH is a folder and they are not found from here."""
    if not files or not path or not os.path.isdir(path):
        return files
    return [f if os.path.exists(f) else os.path.join(path, f) for f in files]


def _run_verify(path, choice, runtime_files, timeout, settle, pull, unsafe, write, failed=None):
    from .runtime import CannotRun
    from .runtime.verify import verify

    options = _runtime_options(runtime_files, timeout, settle, pull, "verify")
    try:
        return verify(_one_project(path, choice), choice.for_file, options, unsafe, write)
    except CannotRun as exc:
        if failed is not None:
            failed(str(exc))
        _fail(str(exc))
    except KeyboardInterrupt:
        typer.echo("hardener: interrupted; the runs it started were removed", err=True)
        raise typer.Exit(130) from None


def _verified(paths, choice, runtime_files, timeout, settle, pull, unsafe, save=None):
    """fix --verify: run verify on the one project, leave out the fixes that stopped a service, print
    which were dropped and why (and save it as JSON to `save`); the paths and jobs the fix then runs with."""
    from .runtime import report
    from .runtime.verify import settings_without

    if paths and len(paths) > 1:
        _fail("fix --verify takes one project: one compose file or folder (or --file)")
    failed = (lambda message: _emit(report.as_json_error(message), save)) if save else None
    verdict = _run_verify(paths[0] if paths else None, choice, runtime_files, timeout, settle, pull, unsafe, write=True,
                          failed=failed)
    typer.echo(report.as_text(verdict, written=True), err=True, nl=False)
    if save:
        _emit(report.as_json(verdict, written=True), save)
    if verdict.culprits and not verdict.confirmed:
        _fail("no verified patch: nothing written")
    drop = {(c.rule, c.service) for c in verdict.culprits}
    base = choice.for_file
    choice.for_file = lambda p: settings_without(base(p), drop)
    return ([] if choice.files else list(verdict.files)), 1


def _dry_run(results) -> list:
    """fix --diff (text): (result, its diff) for each result of a project, the remaining findings moved
    to lines of the original; done where the project was fixed (a helper process on many files), with
    one comparison of the texts for both."""
    from .diff import compare, unified

    out = []
    for r in results:
        if r.status is Status.FIXED:
            compared = compare(r.original, r.output)
            out.append((_at_original_lines(r, compared), unified(r.original, r.output, r.path, compared)))
        else:
            out.append((r, ""))
    return out


def _text_blocks(results, choice, color: bool) -> list:
    """check (grouped text): (result, its part of the report) for each result of a project, made in
    the process that checked it (a helper on many files) after the promotion check applies to it
    (_promote_extended); None for a file whose configuration names a baseline, which may still hide
    some of its findings: the report makes that part itself."""
    from .formats.text import file_block

    out = []
    for r in _promote_extended(results, choice):
        baselined = r.findings and choice.config_for("-" if r.path == "<stdin>" else r.path).baseline is not None
        out.append((r, None if baselined else file_block(r, color)))
    return out


def _at_original_lines(result, compared=None):
    """A fixed result's remaining findings moved from lines of the fixed text to lines of the
    original (for a dry run, whose fixed text exists nowhere). `compared`: diff.compare of the texts."""
    from dataclasses import replace

    from .diff import line_map

    if result.status is not Status.FIXED or not result.findings:
        return result
    to_before = line_map(result.original, result.output, compared)
    moved = []
    for f in result.findings:
        line, same = to_before(f.line)
        moved.append(f if (line, same) == (f.line, True) else replace(f, line=line, column=f.column if same else 1))
    return replace(result, findings=tuple(moved))


def _promote_extended(results, choice):
    """Unsafe fixes of the rules a file's configuration lists in extend-safe-fixes are applied by a
    plain `fix`: `check` reports them as safe fixes, so that what it counts is what `fix` does."""
    from dataclasses import replace

    from .model import Applicability, Fix
    from .rules import RULES
    from .settings import matches

    out = []
    for r in results:
        extended = choice.config_for("-" if r.path == "<stdin>" else r.path).extend_safe_fixes if r.findings else ()
        if extended:
            promoted = frozenset(rule.ID for rule in RULES if matches(rule, extended))
            r = replace(r, findings=tuple(
                f.with_fix(Fix(Applicability.SAFE, f.fix.edits, f.fix.description, f.fix.reach))
                if f.rule_id in promoted and f.applicability is Applicability.UNSAFE else f for f in r.findings))
        out.append(r)
    return out


def _not_written(result):
    """A fixed result whose file was not written, as the report should show it: every finding still
    there (at lines of the file as it is), nothing counted as fixed."""
    from dataclasses import replace

    moved = _at_original_lines(result)
    findings = sorted(moved.findings + result.fixed, key=lambda f: (f.line, f.column, f.rule_id))
    return replace(moved, status=Status.FINDINGS, findings=tuple(findings), fixed=(), output=None)


def _same_text(data: bytes, original: str) -> bool:
    """Whether a file's bytes still hold the text the fixes were computed on."""
    from .yamltext import YamlInputError, decode

    try:
        return decode(data)[0] == original
    except YamlInputError:
        return False


def _outside_tree(path: str, choice) -> str:
    """Why a file is not written: a symlink whose target lies outside the tree that was scanned (the
    folder searched, or a named file's own folder), as `include:` refuses to read there; '' otherwise."""
    root = choice.roots.get(path)
    if root is None:
        return ""
    real = os.path.realpath(path)
    if real.startswith(root.rstrip(os.sep) + os.sep):
        return ""
    return (f"a symlink to {_term(real)}, outside the folder it was found in ({_term(root)}): not written "
            "(include: does not read there either)")


@app.command("rules")
def list_rules(fmt: str = FormatOpt):
    """List every rule and host check with its attack-tree nodes, severity and fix safety."""
    RULES = _all_checks()

    if fmt == "json":
        import json

        data = [{"id": r.ID, "name": r.NAME, "attack_tree": list(r.ATTACK_TREE), "severity": r.SEVERITY.value,
                 "fix": r.FIX.value, "options": r.OPTIONS, "summary": _summary(r)} for r in RULES]
        typer.echo(json.dumps(data, indent=2))
        return
    for r in RULES:
        typer.echo(f"{r.ID:8} {r.NAME:24} {','.join(r.ATTACK_TREE):14} {r.SEVERITY.value:8} "
                   f"{'fix: ' + r.FIX.value:13} {_summary(r)}")


def _summary(rule) -> str:
    return (rule.__doc__ or "").strip().splitlines()[0]


@app.command()
def explain(rule: str = typer.Argument(..., help="Rule id or name, e.g. CAP001 or cap-drop-all.")):
    """Print a rule's documentation."""
    from .attack_tree import NODES

    by_key = {key: r for r in _all_checks() for key in (r.ID, r.NAME)}
    r = by_key.get(rule) or by_key.get(rule.upper())
    if r is None:
        _fail(f"unknown rule '{rule}' (see `hardener rules`)")
    typer.echo(f"{r.ID} {r.NAME}\n")
    typer.echo(f"Severity: {r.SEVERITY.value}    Confidence: {r.CONFIDENCE.value}    Fix: {r.FIX.value}")
    for node_id in r.ATTACK_TREE:
        n = NODES[node_id]
        typer.echo(f"Attack tree {n.id} {n.name}: likelihood {n.likelihood}; impact {n.impact}; effort "
                   f"{n.effort}; skill {n.skill}; detection {n.detection}")
    if r.OPTIONS:
        typer.echo("Options: " + ", ".join(f"{k} = {v!r}" for k, v in r.OPTIONS.items()))
    typer.echo("\n" + (r.__doc__ or "").strip())


@app.command("host")
def host_command(fmt: str = typer.Option("text", "--format", "-f", help="Output format: text or json."),
                 docker_version: Optional[str] = typer.Option(
                     None, "--docker-version", metavar="FILE",
                     help="Read this output of `docker version --format '{{json .}}'` instead of running docker."),
                 daemon_config: Optional[str] = typer.Option(
                     None, "--daemon-config", metavar="FILE",
                     help="Read this daemon.json instead of /etc/docker/daemon.json."),
                 kernel: Optional[str] = typer.Option(
                     None, "--kernel", metavar="RELEASE", help="Check this kernel release (as `uname -r` prints it).")):
    """Audit the Docker host: kernel, Docker Engine, runc and daemon.json. Without options it looks at
    this machine; with any option it reads only what is given. Exit 0: nothing found, 1: findings,
    2: nothing at all could be read."""
    from .formats import render
    from .host import parse_kernel, run_host

    if fmt not in ("text", "json"):
        _fail(f"unknown format '{fmt}' for host (choose from text, json)")
    if kernel is not None and parse_kernel(kernel) is None:
        _fail(f"--kernel {_term(kernel)!s}: not a kernel release as `uname -r` prints it (e.g. 6.1.0-18-amd64)")
    report = run_host(docker_version, daemon_config, kernel)
    for r in report.results:
        if r.status is Status.ERROR:
            typer.echo(f"{_term(r.path)}:{_term(r.error)}", err=True)
    for line in report.checked:
        typer.echo(f"hardener host: checked {_term(line)}", err=True)
    for note in report.notes:
        typer.echo(f"hardener host: {_term(note)}", err=True)
    typer.echo(render(fmt, report.results), nl=False)
    raise typer.Exit(report.exit_code)


def _all_checks():
    """Compose rules, then host checks: everything `rules` lists and `explain` documents."""
    from .host import HOST_CHECKS
    from .rules import RULES

    return tuple(RULES) + tuple(HOST_CHECKS)


EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report a command stopped by Ctrl-C


def main():
    """The entry point: every outcome ends here as an exit code and, for failures, one line on stderr.
    Ctrl-C exits 130 without a traceback (typer turns a KeyboardInterrupt inside a command into exit
    130; a file being written is finished first, see writing.py; helper processes are stopped); a
    standard output that cannot be written (a full disk, /dev/full, a closed pipe) exits 2."""
    os.environ.setdefault("_TYPER_STANDARD_TRACEBACK", "1")
    _tune_collector()
    code = 0
    try:
        try:
            app(prog_name="hardener")
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else EXIT_ERROR)
        sys.stdout.flush()
    except KeyboardInterrupt:  # after the command, while the output is flushed
        _quiet_stdout()
        code = EXIT_INTERRUPTED
    except OSError as exc:  # writing the report or the fixed text failed (stdout on a full device...)
        import errno

        _quiet_stdout()
        if exc.errno != errno.EPIPE:  # a reader that stopped reading (| head) wants no message
            sys.stderr.write(f"hardener: error: cannot write the output: {exc.strerror or exc}\n")
        code = EXIT_ERROR
    sys.exit(code)


def _quiet_stdout():
    """Point standard output at /dev/null so that the interpreter's final flush of what is still
    buffered neither fails again nor prints 'Exception ignored'."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass


def _tune_collector():
    """A compose file becomes tens of thousands of small, long-lived nodes. With the default
    thresholds the cyclic collector keeps re-scanning them and a 3000-service file took twice as long
    as without it (time grew faster than the file); collecting every 50,000 allocations instead, with
    the imported modules frozen out of its sight, keeps the time linear at the same peak memory."""
    import gc

    gc.freeze()
    gc.set_threshold(50_000, 30, 30)
