"""Remove, hash or mask personal data in events before any exporter sees them."""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Iterable, Mapping
from typing import Any, Literal

from ..core.event import Event
from ..exceptions import ImproperlyConfigured
from ..pipeline.processor import EventProcessor

Action = Literal["drop", "hash", "mask"]
HASH_KEY_ENV = "OTEL_EVENTTRACKING_REDACTION_KEY"
_ROOTS = ("data", "context")


def _parse(path: str) -> tuple[str, tuple[str, ...]]:
    parts = tuple(path.split("."))
    if len(parts) < 2 or parts[0] not in _ROOTS or any(not p for p in parts):
        raise ImproperlyConfigured(
            f"redaction path {path!r} must start with 'data.' or 'context.' and name a field, "
            "e.g. 'data.email', 'context.username', 'data.answers.*.text' ('*': every key or list item)"
        )
    return parts[0], parts[1:]


class RedactionProcessor(EventProcessor):
    """Redact named fields of ``data`` and ``context``.

    ``fields``: dotted paths such as ``context.username``, ``data.user.email`` or
    ``data.answers.*.text`` (``*`` matches every key of a mapping or every item of a list).
    ``action``: ``"drop"`` removes the field, ``"mask"`` replaces it with ``mask``, ``"hash"``
    replaces it with a keyed hash (HMAC-SHA256, hex, first ``hash_length`` characters) so that
    analysts can still join on it without learning it; the key comes from ``key`` or
    ``OTEL_EVENTTRACKING_REDACTION_KEY`` and is required for hashing (an unkeyed hash of a user id
    is reversible by brute force). Only the copies along redacted paths are new objects: the
    caller's data and the shared context are never changed.
    """

    def __init__(
        self,
        fields: Iterable[str],
        action: Action = "mask",
        *,
        key: str | bytes | None = None,
        mask: str = "[redacted]",
        hash_length: int = 32,
    ) -> None:
        if isinstance(fields, str):
            raise ImproperlyConfigured("fields must be a list of paths, got a single string: wrap it in a list")
        if action not in ("drop", "hash", "mask"):
            raise ImproperlyConfigured(f"action must be 'drop', 'hash' or 'mask', got {action!r}")
        self.paths = [_parse(p) for p in fields]
        if not self.paths:
            raise ImproperlyConfigured("RedactionProcessor needs at least one field path")
        self.action = action
        self.mask = mask
        self.hash_length = hash_length
        raw_key = key if key is not None else os.environ.get(HASH_KEY_ENV)
        if action == "hash" and not raw_key:
            raise ImproperlyConfigured(
                f"action='hash' needs key=... or {HASH_KEY_ENV} (a secret, kept out of the events)"
            )
        self._key = raw_key.encode() if isinstance(raw_key, str) else raw_key

    def _replacement(self, value: Any) -> Any:
        if self.action == "mask":
            return self.mask
        assert self._key is not None
        digest = hmac.new(self._key, str(value).encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()
        return digest[: self.hash_length]

    def _redact(self, value: Any, path: tuple[str, ...]) -> Any:
        """A copy of ``value`` with ``path`` redacted (``value`` itself when nothing matched)."""
        head, rest = path[0], path[1:]
        if isinstance(value, Mapping):
            keys = list(value) if head == "*" else [k for k in value if str(k) == head]
            if not keys:
                return value
            out = dict(value)
            for k in keys:
                if rest:
                    out[k] = self._redact(out[k], rest)
                elif self.action == "drop":
                    del out[k]
                else:
                    out[k] = self._replacement(out[k])
            return out
        if isinstance(value, list | tuple) and head == "*":
            if not rest:
                return [] if self.action == "drop" else [self._replacement(v) for v in value]
            return [self._redact(v, rest) for v in value]
        return value

    def process(self, event: Event) -> Event | None:
        data, context = event.data, event.context
        for root, path in self.paths:
            if root == "data":
                data = self._redact(data, path)
            else:
                context = self._redact(context, path)
        if data is event.data and context is event.context:
            return event
        return event.replace(context=context, data=data)
