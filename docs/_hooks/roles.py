"""MkDocs hook: show the Sphinx roles of the docstrings (``:class:`~pkg.Name```) as plain code.

mkdocstrings renders docstrings as Markdown, where ``:class:`` would stay as text; the library's
docstrings keep the roles because IDEs and ``help()`` read them. ``~a.b.Name`` shows ``Name``.
"""

from __future__ import annotations

import re
from typing import Any

_ROLE = re.compile(r":(?:class|meth|func|attr|mod|data|exc|obj):<code>(~?)([^<]*)</code>")


def _shown(match: re.Match[str]) -> str:
    tilde, target = match.groups()
    if tilde or target.startswith("."):  # Sphinx shows the last component of these
        target = target.rsplit(".", 1)[-1]
    return f"<code>{target}</code>"


def on_page_content(html: str, **_: Any) -> str:
    return _ROLE.sub(_shown, html)
