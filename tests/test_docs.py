"""The README's links into the documentation resolve (mkdocs build --strict, in .ci/run, checks the
links between the pages themselves), and every page is in the site's navigation."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINK = re.compile(r"\]\(((?!https?://)[^)#\s]+)(?:#([^)\s]+))?\)")


def _anchors(page: Path) -> set[str]:
    """Heading anchors as MkDocs' toc extension makes them (lower case, punctuation dropped)."""
    text = re.sub(r"```.*?```", "", page.read_text(), flags=re.S)
    out = set()
    for heading in re.findall(r"^#+ (.+)$", text, flags=re.M):
        slug = re.sub(r"[^\w\- ]", "", heading.lower()).strip()
        out.add(re.sub(r"\s+", "-", slug))
    return out


def test_readme_links_resolve() -> None:
    readme = (ROOT / "README.md").read_text()
    links = LINK.findall(readme)
    assert len(links) > 20, "the README should point into the docs"
    for target, anchor in links:
        path = ROOT / target
        assert path.exists(), f"README links to {target}, which does not exist"
        if anchor:
            assert anchor in _anchors(path), f"README links to {target}#{anchor}: no such heading"


def test_every_page_is_in_the_nav() -> None:
    nav = (ROOT / "mkdocs.yml").read_text()
    pages = {p.relative_to(ROOT / "docs").as_posix() for p in (ROOT / "docs").rglob("*.md")}
    missing = sorted(p for p in pages if f" {p}" not in nav)
    assert not missing, f"docs pages not in mkdocs.yml nav: {missing}"
