"""MkDocs hook: show the Sphinx roles of the docstrings (``:class:`~pkg.Name```) as plain code.

mkdocstrings renders docstrings as Markdown, where ``:class:`` would stay as text; the library's
docstrings keep the roles because IDEs and ``help()`` read them. ``~a.b.Name`` shows ``Name``.
"""

from __future__ import annotations

import re
from typing import Any

_ROLE = re.compile(r":(?:class|meth|func|attr|mod|data|exc|obj):<code>~?([^<]*)</code>")


def _shown(match: re.Match[str]) -> str:
    target = match.group(1)
    if match.group(0).startswith((":class:<code>~", ":meth:<code>~", ":func:<code>~")) or target.startswith("."):
        target = target.rsplit(".", 1)[-1]
    return f"<code>{target}</code>"


def on_page_content(html: str, **_: Any) -> str:
    return _ROLE.sub(_shown, html)
