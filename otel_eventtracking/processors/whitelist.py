"""Pass only events whose name is in a fixed collection (upstream ``NameWhitelistProcessor``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..exceptions import ConfigurationTypeError
from .base import NameFilter


class NameWhitelistProcessor(NameFilter):
    """``whitelist``: the exact event names to keep (any iterable of names but a single string, as
    upstream); everything else is dropped. Anything else raises :class:`ConfigurationTypeError`, a
    ``TypeError`` as upstream's. Unknown options are ignored, as upstream does."""

    def __init__(self, whitelist: Iterable[str] | None = None, **_kwargs: Any) -> None:
        if isinstance(whitelist, str | bytes) or not isinstance(whitelist, Iterable):
            raise ConfigurationTypeError(
                "NameWhitelistProcessor needs whitelist=[...] (a list, set or tuple of event names), "
                f"got {type(whitelist).__name__}"
            )
        self.whitelist = frozenset(whitelist)

    def allows(self, name: str) -> bool:
        return name in self.whitelist

    def __repr__(self) -> str:
        return f"NameWhitelistProcessor(whitelist={sorted(self.whitelist)!r})"
