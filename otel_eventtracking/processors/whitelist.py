"""Pass only events whose name is in a fixed collection (upstream ``NameWhitelistProcessor``)."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from ..exceptions import ImproperlyConfigured
from .base import NameFilter


class NameWhitelistProcessor(NameFilter):
    """``whitelist`` is a list, set or tuple of exact event names; everything else is dropped."""

    def __init__(self, whitelist: Collection[str] | None = None, **_ignored: Any) -> None:
        if isinstance(whitelist, str | bytes) or not isinstance(whitelist, list | set | frozenset | tuple):
            raise ImproperlyConfigured(
                "NameWhitelistProcessor needs whitelist=[...] (a list, set or tuple of event names), "
                f"got {type(whitelist).__name__}"
            )
        self.whitelist = frozenset(whitelist)

    def allows(self, name: str) -> bool:
        return name in self.whitelist

    def __repr__(self) -> str:
        return f"NameWhitelistProcessor(whitelist={sorted(self.whitelist)!r})"
