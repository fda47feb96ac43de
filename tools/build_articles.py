"""Render the demo articles in tools/articles/*.md to PDFs in articles/.

Each Markdown file becomes articles/<slug>.pdf, built with reportlab's platypus layer.
Only a tiny Markdown subset is understood: a "# Title" line, "## Section" headings,
blank-line-separated paragraphs and **bold** spans. Lists, links, images, code blocks and
tables are left out (rendered as plain text). Output is deterministic (invariant mode).

Usage (from the repo root):  .venv/bin/python tools/build_articles.py
"""

from __future__ import annotations

import re
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.lib.pagesizes import LETTER
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate

REPO_ROOT = Path(__file__).resolve().parent.parent
SOURCE_DIR = REPO_ROOT / "tools" / "articles"
OUTPUT_DIR = REPO_ROOT / "articles"
BOLD = re.compile(r"\*\*(.+?)\*\*")


def inline(text: str) -> str:
    """Escape reportlab markup characters and turn **bold** into <b> tags."""
    return BOLD.sub(r"<b>\1</b>", escape(text))


def parse(markdown: str) -> tuple[str, list[Flowable]]:
    """Turn the Markdown subset into (title, flowables)."""
    styles = getSampleStyleSheet()
    title = ""
    story: list[Flowable] = []
    buffer: list[str] = []

    def flush() -> None:
        if buffer:
            story.append(Paragraph(inline(" ".join(buffer)), styles["BodyText"]))
            buffer.clear()

    for raw in markdown.splitlines():
        line = raw.strip()
        if line.startswith("## "):
            flush()
            story.append(Paragraph(inline(line[3:]), styles["Heading2"]))
        elif line.startswith("# "):
            flush()
            title = title or line[2:]
            story.append(Paragraph(inline(line[2:]), styles["Title"]))
        elif line:
            buffer.append(line)
        else:
            flush()
    flush()
    return title, story


def build(source: Path) -> Path:
    """Render one Markdown article to articles/<slug>.pdf and return the output path."""
    title, story = parse(source.read_text(encoding="utf-8"))
    target = OUTPUT_DIR / f"{source.stem}.pdf"
    doc = SimpleDocTemplate(
        str(target), pagesize=LETTER, title=title, author="shawgpt demo", invariant=1
    )
    doc.build(story)
    return target


def main() -> None:
    OUTPUT_DIR.mkdir(exist_ok=True)
    for source in sorted(SOURCE_DIR.glob("*.md")):
        print(f"wrote {build(source).relative_to(REPO_ROOT)}")


if __name__ == "__main__":
    main()
