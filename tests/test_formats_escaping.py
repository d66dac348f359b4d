"""Nothing from a compose file or a path reaches the github, markdown or html output raw: control
characters (ESC, BEL, CR, LF, NEL, U+2028/2029, bidi overrides) become visible escapes, workflow-command
values are escaped as the runner expects, so a file can neither start a command of its own
(`::stop-commands::`) nor drive a terminal; through the real CLI, with hostile service names, values
and folder names."""
from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from conftest import put, run_cli, y

# what a reader of the output must never receive raw (tab and LF are allowed where a format uses them)
FORBIDDEN = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")

HOSTILE = y(
    "services:",
    '  "web\\e[2J\\a\\n::stop-commands::tok\\r\\n::error::pwned\\u2028::add-mask::x\\u202e\\x85":',
    '    image: "nginx\\e]0;title\\a"',
    "    ports:",
    '      - "8080:80"',
    "    environment:",
    '      NOTE: "\\e[31mred\\e[0m"',
    '  "db\\r::warning file=x::fake":',
    "    image: postgres",
)
NAMES = ("web\x1b[2J", "::stop-commands::tok", "::error::pwned", "db\r::warning")


@pytest.fixture()
def hostile(tmp_path) -> Path:
    folder = tmp_path / "dir\x1b[31m\n::stop-commands::tok2"  # a folder name can hold these too
    put(folder, "compose.yaml", HOSTILE)
    put(tmp_path / "bad\x07\n::error::x", "compose.yaml", "services:\n  a: [\n")
    return tmp_path


def runner_commands(out: str) -> list[str]:
    """What the Actions runner would execute: every line (split on any line end it or a log viewer
    could honour) that starts with '::' is a command; the name is what stands before ' ' or '::'."""
    lines = re.split("\r\n|\r|\n|\x85|\u2028|\u2029", out)
    return [re.match(r"::([^ :]*)", line).group(1) for line in lines if line.startswith("::")]


def test_github_output_has_only_our_commands(hostile):
    proc = run_cli("check", "-f", "github", ".", cwd=hostile)
    assert proc.returncode == 2  # the broken file
    out = proc.stdout
    assert not FORBIDDEN.search(out)
    commands = runner_commands(out)
    assert set(commands) <= {"error", "warning", "notice"}
    assert len(commands) == len(out.splitlines()) > 5
    assert "stop-commands" not in commands and "add-mask" not in commands
    for line in out.splitlines():
        head, sep, message = line[2:].partition("::")
        assert sep and re.fullmatch(r"(error|warning|notice) file=[^ ,:]+,line=\d+,col=\d+,title=[^:,]+", head), line
    assert "\\x1b[2J" in out and "%0A::stop-commands::tok%0D%0A" in out and "\\u202e" in out
    assert "dir\\x1b[31m%0A%3A%3Astop-commands%3A%3Atok2/compose.yaml" in out  # the folder, in a property
    assert "file=bad\\x07%0A%3A%3Aerror%3A%3Ax/compose.yaml" in out


def test_markdown_has_no_raw_control_characters_or_html(hostile):
    proc = run_cli("check", "-f", "markdown", "--patch", "unsafe", ".", cwd=hostile)
    md = proc.stdout
    assert md.startswith("<!-- hardener-report -->") and "```diff" in md
    assert not FORBIDDEN.search(md)
    assert "web\\x1b[2J" in md and "\\u202e" in md
    markdown_it = pytest.importorskip("markdown_it")
    html = markdown_it.MarkdownIt("commonmark", {"html": True}).enable("table").render(md)
    assert not FORBIDDEN.search(html)
    tags = set(re.findall(r"<([a-zA-Z][a-zA-Z0-9]*)", html))
    assert tags <= {"h2", "h3", "table", "thead", "tbody", "tr", "th", "td", "p", "code", "pre", "strong",
                    "em", "a", "br", "details", "summary", "b", "ul", "li"}, tags


class _Collect(HTMLParser):
    def __init__(self):
        super().__init__()
        self.text, self.tags = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)

    def handle_data(self, data):
        self.text.append(data)


def test_html_has_no_raw_control_characters(hostile):
    proc = run_cli("check", "-f", "html", "--patch", "unsafe", ".", cwd=hostile)
    page = proc.stdout
    assert page.startswith("<!DOCTYPE html>") and not FORBIDDEN.search(page)
    parser = _Collect()
    parser.feed(page)
    text = "".join(parser.text)
    assert "web\\x1b[2J" in text and "\\u202e" in text and "\\x07" in text
    assert "::stop-commands::tok" in text  # shown as text, harmless in a page
    assert not {"iframe", "img", "object", "embed", "base"} & set(parser.tags)

