"""Values and small building blocks shared by the scenarios."""

from __future__ import annotations

import datetime as dt
from typing import Any

FIXED_TIME = dt.datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=dt.UTC)


def fixed_event(**changes: Any) -> dict[str, Any]:
    """A complete upstream-shaped event dict with a fixed timestamp (for ``send()``)."""
    event: dict[str, Any] = {
        "name": "edx.diff.fixed",
        "timestamp": FIXED_TIME,
        "data": {"answer": 42, "nested": {"list": [1, "two", None]}},
        "context": {"user_id": 7, "course_id": "course-v1:Diff+D1+2024"},
    }
    event.update(changes)
    return event


def add_key(key: str, value: Any) -> Any:
    """A processor that sets ``event[key] = value`` in place and returns None."""

    def processor(event: Any) -> None:
        event[key] = value

    processor.__name__ = f"add_{key}"
    return processor


def names(events: list[Any]) -> list[Any]:
    """The ``name`` of each recorded (encoded) event."""
    return [e.get("name") if isinstance(e, dict) else e for e in events]
