"""Every rule that lets two observations of the same scenario be compared: in this one module.

What legitimately differs between two runs (of one implementation, or of the two) and nothing
else is rewritten:

1. **Now.** A datetime within the run's time window (the clock read by ``emit``, Segment's
   ``sentAt``/``timestamp``) becomes ``<now>``, keeping its *shape*: the UTC offset suffix it
   was written with (``+00:00``, ``Z``, none) and whether it had microseconds. Applies to
   ``{"$datetime": ...}`` values and to ISO 8601 substrings of any string (logger lines), so a
   line keeps being compared byte for byte around its timestamp. Fixed datetimes that scenarios
   pass in (years 2001-2030 but outside the window) are left alone.
2. **Random ids.** Segment's ``messageId`` (a UUID upstream, the event id here) becomes
   ``<message-id>``; a MongoDB ``_id`` that is an ObjectId stays ``{"$type": "ObjectId"}`` and
   one that is a 32-hex-digit event id becomes ``<event-id>`` (the kinds stay distinguishable).
3. **Exceptions (at comparison).** A ``{"$exception": ...}`` on this library's side whose class
   has upstream's class name in its MRO counts as upstream's: code written ``except
   TypeError`` still catches a subclass. The MRO lists are then left out of the comparison.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

_ISO = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})?")
_HEX32 = re.compile(r"[0-9a-f]{32}")
_SLACK = 5.0  # seconds either side of the window


class Window:
    """The wall-clock interval a group of scenarios ran in (epoch seconds)."""

    def __init__(self, start: float, end: float) -> None:
        self.start = start - _SLACK
        self.end = end + _SLACK

    def contains(self, value: dt.datetime) -> bool:
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return self.start <= value.timestamp() <= self.end


def _now_token(match: re.Match[str]) -> str:
    fraction, offset = match.group(1), match.group(2) or ""
    # isoformat() leaves out a zero microsecond: that is the same shape as six digits.
    shape = ".us" if fraction is None or len(fraction) == 7 else f".{len(fraction) - 1}digits"
    return f"<now{shape}{offset}>"


def _parse(text: str) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(text.replace(" ", "T", 1))
    except ValueError:
        return None


def _string(text: str, window: Window) -> str:
    def replace(match: re.Match[str]) -> str:
        parsed = _parse(match.group(0))
        if parsed is not None and window.contains(parsed):
            return _now_token(match)
        return match.group(0)

    return _ISO.sub(replace, text)


def normalize(value: Any, window: Window, key: str | None = None) -> Any:
    """Apply rules 1 and 2 to an encoded observation."""
    if key == "messageId" and isinstance(value, str):
        return "<message-id>"
    if key == "_id" and isinstance(value, str) and _HEX32.fullmatch(value):
        return "<event-id>"
    if isinstance(value, str):
        return _string(value, window)
    if isinstance(value, list):
        return [normalize(v, window) for v in value]
    if isinstance(value, dict):
        if set(value) == {"$datetime"} and isinstance(value["$datetime"], str):
            return {"$datetime": _string(value["$datetime"], window)}
        return {k: normalize(v, window, k) for k, v in value.items()}
    return value


def _is_exception(value: Any) -> bool:
    return isinstance(value, dict) and "$exception" in value


def reconcile(legacy: Any, shim: Any) -> tuple[Any, Any]:
    """Rule 3, walking both observations side by side; returns the pair to compare."""
    if _is_exception(legacy) and _is_exception(shim):
        legacy = {k: v for k, v in legacy.items() if k != "mro"}
        if legacy["$exception"] in shim.get("mro", ()):
            shim = {**shim, "$exception": legacy["$exception"]}
        shim = {k: v for k, v in shim.items() if k != "mro"}
        return legacy, shim
    if isinstance(legacy, dict) and isinstance(shim, dict):
        out_l, out_s = dict(legacy), dict(shim)
        for k in legacy.keys() & shim.keys():
            out_l[k], out_s[k] = reconcile(legacy[k], shim[k])
        return out_l, out_s
    if isinstance(legacy, list) and isinstance(shim, list) and len(legacy) == len(shim):
        pairs = [reconcile(a, b) for a, b in zip(legacy, shim, strict=True)]
        return [a for a, _ in pairs], [b for _, b in pairs]
    return legacy, shim
