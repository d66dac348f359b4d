"""Regenerate the screenshots in docs/images from examples/compose.yaml with a headless Chromium:

    .venv/bin/python scripts/doc_images.py

html-report.png and html-report-phone.png are the HTML review page as hardener writes it, at a
desktop width (1280 px) and a phone width (390 px); markdown-comment.png is the Markdown PR comment
rendered by markdown-it-py (CommonMark + tables, as close to GitHub as is easy offline).
Needs Debian's `chromium` package; markdown-it-py comes with typer's dependencies.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
IMAGES = ROOT / "docs" / "images"
EXAMPLE = "examples/compose.yaml"

COMMENT_CSS = """
body { margin: 0; background: #fff; color: #1f2328; font: 14px/1.5 "DejaVu Sans", Arial, sans-serif; }
.comment { max-width: 860px; margin: 16px; border: 1px solid #d1d9e0; border-radius: 6px; }
.head { padding: 8px 16px; background: #f6f8fa; border-bottom: 1px solid #d1d9e0; color: #59636e; }
.body { padding: 8px 16px 16px; }
table { border-collapse: collapse; margin: 8px 0; }
th, td { border: 1px solid #d1d9e0; padding: 4px 12px; }
code, pre { font-family: "DejaVu Sans Mono", monospace; font-size: 12px; background: #f6f8fa; }
pre { padding: 8px; overflow: hidden; }
details { margin: 4px 0; }
"""


def hardener(*args: str) -> str:
    proc = subprocess.run([sys.executable, "-m", "hardener", *args], cwd=ROOT, capture_output=True, text=True)
    if proc.returncode not in (0, 1):
        sys.exit(proc.stderr)
    return proc.stdout


def screenshot(browser: str, page: Path, out: Path, size: str) -> None:
    profile = tempfile.mkdtemp(prefix="hardener-doc-images-")
    try:
        subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                        "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
                        f"--user-data-dir={profile}", f"--screenshot={out}", f"--window-size={size}",
                        page.as_uri()], check=True, capture_output=True, timeout=120)
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    print(f"wrote {out.relative_to(ROOT)}")


def main() -> None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if browser is None:
        sys.exit("no headless browser: apt-get install -y chromium")
    IMAGES.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp, "report.html")
        page.write_text(hardener("check", "--format", "html", "--patch", "unsafe", EXAMPLE), encoding="utf-8")
        screenshot(browser, page, IMAGES / "html-report.png", "1280,2400")
        screenshot(browser, page, IMAGES / "html-report-phone.png", "390,4800")

        from markdown_it import MarkdownIt

        md = hardener("check", "--format", "markdown", "--patch", "unsafe", EXAMPLE)
        body = MarkdownIt("commonmark", {"html": True}).enable("table").render(md)
        body = body.replace("<details>", "<details open>", 1)  # show one explanation unfolded
        comment = Path(tmp, "comment.html")
        comment.write_text(f"<!DOCTYPE html><meta charset='utf-8'><style>{COMMENT_CSS}</style>"
                           f"<div class='comment'><div class='head'>hardener-bot commented</div>"
                           f"<div class='body'>{body}</div></div>", encoding="utf-8")
        screenshot(browser, comment, IMAGES / "markdown-comment.png", "900,1400")


if __name__ == "__main__":
    main()
