"""The HTML review page: a contents list, findings grouped by service with the hunks of the patch that
fix them beside them and the service's effective changes, severity and rule filters from one inline
script allowed by its hash (the content is all there without JavaScript), checked in headless
Chromium at desktop and phone widths."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from html.parser import HTMLParser

import pytest

from hardener.formats import suggestions

from conftest import REPO, put, run_cli

EXAMPLE = REPO / "examples" / "compose.yaml"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="no headless browser: install Debian's `chromium` "
                                    "package (apt-get install -y chromium)")


class Page(HTMLParser):
    """Service blocks with their finding rows and hunks, the contents links and the ids."""

    def __init__(self):
        super().__init__()
        self.blocks, self.ids, self.links, self.rows_outside = [], set(), [], 0
        self._block = None
        self._depth = 0
        self._in_h4 = False
        self._in_head = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "a" and a.get("href", "").startswith("#"):
            self.links.append(a["href"][1:])
        classes = (a.get("class") or "").split()
        if tag == "section" and "svc" in classes:
            self._block = {"id": a["id"], "title": "", "rows": [], "hunks": 0, "effective": 0}
            self.blocks.append(self._block)
            self._depth = 0
        if self._block is not None and tag == "section":
            self._depth += 1
        if tag == "tr" and "finding" in classes:
            if self._block is None:
                self.rows_outside += 1
            else:
                self._block["rows"].append((a["data-severity"], a["data-rule"]))
        if self._block is not None:
            if "hunk-box" in classes:
                self._block["hunks"] += 1
            if tag == "td" and "epath" in classes:
                self._block["effective"] += 1
            self._in_h4 = self._in_h4 or tag == "h4"

    def handle_endtag(self, tag):
        if tag == "h4":
            self._in_h4 = False
        if self._block is not None and tag == "section":
            self._depth -= 1
            if self._depth == 0:
                self._block = None

    def handle_data(self, data):
        if self._block is not None and self._in_h4:
            self._block["title"] += data


@pytest.fixture(scope="module")
def example(tmp_path_factory):
    work = tmp_path_factory.mktemp("page")
    put(work, "compose.yaml", EXAMPLE.read_text())
    (work / "nginx.conf").write_text((REPO / "examples" / "nginx.conf").read_text())
    proc = run_cli("check", "--unsafe-fixes", "-f", "html", "compose.yaml", cwd=work)
    assert proc.returncode == 1, proc.stderr
    page = Page()
    page.feed(proc.stdout)
    return work, proc.stdout, page


def test_findings_grouped_by_service_with_contents(example):
    work, html, page = example
    data = json.loads(run_cli("check", "--unsafe-fixes", "-f", "json", "compose.yaml", cwd=work).stdout)
    assert page.rows_outside == 0, "every finding sits in its service's block"
    by_service: dict = {}
    for f in data["findings"]:
        by_service.setdefault(f["service"], []).append((f["severity"], f["rule_id"]))
    titles = {b["title"].replace("service ", "").strip(): b for b in page.blocks}
    for service, found in by_service.items():
        block = titles["whole file" if service is None else service]
        assert sorted(block["rows"]) == sorted(found), service
        ranks = [("low", "medium", "high", "critical").index(sev) for sev, _ in block["rows"]]
        assert ranks == sorted(ranks, reverse=True), "most severe first within a service"
    assert set(page.links) <= page.ids and {b["id"] for b in page.blocks} <= set(page.links)
    assert '<nav id="contents"' in html


def test_patch_beside_the_findings_and_effective_changes(example):
    work, html, page = example
    from hardener.engine import process
    from hardener.settings import Settings

    text = (work / "compose.yaml").read_text()
    fixed = process("compose.yaml", text.encode(), Settings(unsafe_fixes=True), fix=True).output
    expected = len(suggestions.hunks(text, fixed))
    other = html.count('class="patch hunk-box"') - sum(b["hunks"] for b in page.blocks)
    assert sum(b["hunks"] for b in page.blocks) + other == expected
    assert sum(b["hunks"] for b in page.blocks) >= expected - other > 0
    assert all(b["effective"] for b in page.blocks if b["rows"]), "each service shows what Docker will run differently"
    diff = json.loads(run_cli("fix", "--diff", "--unsafe-fixes", "-f", "json", "compose.yaml", cwd=work).stdout)
    for item in diff["effective_changes"]:
        block = next(b for b in page.blocks if b["title"].strip() == f"service {item['service']}")
        assert block["effective"] == len(item["changes"]), item["service"]


def _chromium(url: str, *args: str) -> str:
    profile = tempfile.mkdtemp(prefix="hardener-chromium-")
    try:
        proc = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                               "--disable-component-update", "--disable-sync", "--no-first-run",
                               f"--user-data-dir={profile}", *args, url], capture_output=True, timeout=120)
        return proc.stdout.decode("utf-8", "replace")
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def _rows(dom: str) -> list[tuple[str, bool]]:
    """(severity, hidden?) of every finding row in a DOM dump."""
    return [(re.search(r'data-severity="(\w+)"', tag).group(1), " hidden" in tag)
            for tag in re.findall(r'<tr class="finding"[^>]*>', dom)]


@needs_chromium
def test_filters_work_in_chromium_and_the_page_reads_without_javascript(example, tmp_path):
    work, html, page = example
    file = tmp_path / "review.html"
    file.write_text(html)
    total = sum(len(b["rows"]) for b in page.blocks)
    # JavaScript on: the script runs under the page's CSP, shows the filters, applies the preset
    dom = _chromium(file.as_uri() + "#severity=high", "--dump-dom", "--window-size=1280,2000")
    rows = _rows(dom)
    assert len(rows) == total
    assert all(hidden == (sev != "high") for sev, hidden in rows), "only high findings stay visible"
    highs = sum(sev == "high" for sev, _ in rows)
    assert f"{highs} of {total} findings shown" in dom
    assert re.search(r'<form id="filters" class="filters">', dom), "the script unhid the filters"
    # JavaScript off: the page as served shows every finding and hides the filters that would not work
    rows_off = _rows(html)
    assert len(rows_off) == total and not any(hidden for _, hidden in rows_off)
    assert '<form id="filters" class="filters" hidden>' in html


@needs_chromium
@pytest.mark.parametrize("width", [1280, 390])
def test_page_renders_at_desktop_and_phone_width(example, tmp_path, width):
    work, html, _ = example
    file = tmp_path / "review.html"
    file.write_text(html)
    shot = tmp_path / f"shot-{width}.png"
    _chromium(file.as_uri(), f"--screenshot={shot}", f"--window-size={width},2400", "--hide-scrollbars")
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 40_000
    assert int.from_bytes(data[16:20], "big") == width


def test_documentation_screenshots_exist():
    for name in ("html-report.png", "html-report-phone.png", "markdown-comment.png"):
        data = (REPO / "docs" / "images" / name).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert int.from_bytes((REPO / "docs" / "images" / "html-report-phone.png").read_bytes()[16:20], "big") == 390
    doc = (REPO / "docs" / "outputs.md").read_text()
    assert "images/html-report-phone.png" in doc
