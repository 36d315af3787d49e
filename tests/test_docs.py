"""The documentation's relative links lead to files that exist, and their #anchors to headings."""

from __future__ import annotations

import re
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from markdown_it import MarkdownIt
from markdown_it.token import Token

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
_MD = MarkdownIt("commonmark").enable("table")


def _walk(tokens: list[Token]) -> Iterator[Token]:
    for token in tokens:
        yield token
        yield from _walk(token.children or [])


def _slug(text: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", text.strip().lower()).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    tokens = _MD.parse(page.read_text(encoding="utf-8"))
    found: set[str] = set()
    for heading, inline in pairwise(tokens):
        if heading.type == "heading_open":
            text = "".join(t.content for t in _walk(inline.children or []) if t.content)
            slug, n = _slug(text), 0
            while (slug if n == 0 else f"{slug}-{n}") in found:  # repeats get -1, -2, ...
                n += 1
            found.add(slug if n == 0 else f"{slug}-{n}")
    return found


def broken_links(page: Path) -> list[str]:
    """Every relative link (or image) of ``page`` that leads nowhere, as written."""
    problems = []
    for token in _walk(_MD.parse(page.read_text(encoding="utf-8"))):
        href = token.attrGet({"link_open": "href", "image": "src"}.get(token.type, ""))
        if not isinstance(href, str):
            continue
        url = urlsplit(href)
        if url.scheme or url.netloc:
            continue
        target = (page.parent / unquote(url.path)).resolve() if url.path else page
        if not target.exists():
            problems.append(f"{href}: no such file")
        elif url.fragment and target.suffix == ".md" and url.fragment not in anchors(target):
            problems.append(f"{href}: no such heading in {target.name}")
    return problems


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(ROOT)) for p in PAGES])
def test_relative_links_lead_somewhere(page: Path) -> None:
    assert broken_links(page) == []


def test_the_rules_page_is_checked() -> None:
    assert ROOT / "docs" / "contract.md" in PAGES


def test_broken_links_are_found(tmp_path: Path) -> None:
    (tmp_path / "other.md").write_text("# Some `code` & Title\n\n## Some code & Title\n")
    page = tmp_path / "page.md"
    page.write_text(
        "# Top\n\n[a](other.md#some-code--title) [b](other.md#some-code--title-1) [c](#top)\n"
        "[d](missing.md) [e](other.md#nowhere) [f](#gone) [g](https://example.com/x.md)\n"
    )
    assert broken_links(page) == [
        "missing.md: no such file",
        "other.md#nowhere: no such heading in other.md",
        "#gone: no such heading in page.md",
    ]
