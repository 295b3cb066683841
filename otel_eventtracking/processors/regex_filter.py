"""Keep or drop events whose name matches regular expressions (upstream ``RegexFilter``)."""

from __future__ import annotations

import re
from collections.abc import Iterable

from ..exceptions import ConfigurationTypeError, ImproperlyConfigured
from .base import NameFilter

ALLOWLIST = "allowlist"
BLOCKLIST = "blocklist"


class RegexFilter(NameFilter):
    """``filter_type="allowlist"`` passes only names matching one expression; ``"blocklist"``
    drops them. Expressions match at the start of the name (``re.match``), as upstream; anchor
    with ``$`` for a whole-name match. Expressions are compiled once, at construction.
    """

    def __init__(self, filter_type: str = ALLOWLIST, regular_expressions: Iterable[str] | None = None) -> None:
        if filter_type not in (ALLOWLIST, BLOCKLIST):
            raise ImproperlyConfigured(
                f"RegexFilter filter_type must be {ALLOWLIST!r} or {BLOCKLIST!r}, got {filter_type!r}"
            )
        if isinstance(regular_expressions, str | bytes):
            raise ImproperlyConfigured(
                "RegexFilter regular_expressions must be a list of patterns, got the single string "
                f"{regular_expressions!r}: wrap it in a list"
            )
        patterns = list(regular_expressions or ())
        not_text = [p for p in patterns if not isinstance(p, str | bytes)]
        if not_text:
            raise ConfigurationTypeError(
                f"RegexFilter regular_expressions must be strings, got {', '.join(map(repr, not_text))}"
            )
        compiled, invalid = [], []
        for pattern in patterns:
            try:
                compiled.append(re.compile(pattern))
            except (re.error, TypeError) as exc:
                invalid.append(f"{pattern!r} ({exc})")
        if invalid:
            raise ImproperlyConfigured(f"RegexFilter has invalid regular expressions: {', '.join(invalid)}")
        self.filter_type = filter_type
        self.regular_expressions = frozenset(patterns)  # as upstream: a frozenset, and the compiled list
        self.compiled_expressions = compiled
        self._compiled = compiled
        self._allowlist = filter_type == ALLOWLIST

    def matches(self, name: str) -> bool:
        return any(regex.match(name) for regex in self._compiled)

    def allows(self, name: str) -> bool:
        return self.matches(name) == self._allowlist

    def __repr__(self) -> str:
        return f"RegexFilter({self.filter_type!r}, {sorted(self.regular_expressions, key=str)!r})"
