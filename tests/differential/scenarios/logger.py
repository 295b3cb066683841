"""LoggerBackend: the line the logger writes is a wire contract (log shippers regex-parse it),
compared byte for byte; sizes, levels, and values JSON has no form for."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from typing import Any

from eventtracking.backends.logger import LoggerBackend
from eventtracking.backends.routing import RoutingBackend
from eventtracking.tracker import Tracker

from ..harness import Harness, scenario
from ._common import FIXED_TIME, add_key, fixed_event

LOGGER = "tracking"


def _lines(h: Harness, events: list[dict[str, Any]], processors: Any = None, **options: Any) -> list[str]:
    """Send each event through RoutingBackend -> LoggerBackend(name='tracking', **options)."""
    with h.captured(LOGGER) as log:
        backend = RoutingBackend(backends={"log": LoggerBackend(name=LOGGER, **options)}, processors=processors)
        for event in events:
            backend.send(event)
    return log.lines


@scenario()
def logger_line_basic(h: Harness) -> dict[str, Any]:
    """The exact line for a plain event: key order, separators, timestamp format."""
    return {"lines": _lines(h, [fixed_event()])}


@scenario()
def logger_line_timestamps(h: Harness) -> dict[str, Any]:
    """Naive and non-UTC datetimes (as timestamp and in data), dates, and a string timestamp."""
    paris = dt.timezone(dt.timedelta(hours=2))
    events = [
        fixed_event(timestamp=dt.datetime(2024, 5, 6, 7, 8, 9)),
        fixed_event(timestamp=dt.datetime(2024, 5, 6, 9, 8, 9, 5, tzinfo=paris)),
        fixed_event(data={"when": dt.datetime(2020, 1, 1, 12, 0, tzinfo=paris), "day": dt.date(2020, 2, 3)}),
        fixed_event(timestamp="2024-05-06T07:08:09.123456+00:00"),
    ]
    return {"lines": _lines(h, events)}


@scenario()
def logger_line_unicode(h: Harness) -> dict[str, Any]:
    """Non-ASCII text, quotes, backslashes, control characters and an emoji."""
    data = {"title": "Économie — 経済", "quote": 'say "hi"\\ok', "ctrl": "a\tb\nc\x00", "emoji": "🎓"}
    return {"lines": _lines(h, [fixed_event(data=data)])}


@scenario()
def logger_line_keys(h: Harness) -> dict[str, Any]:
    """Keys that are not strings (int, float, bool, None) and insertion order of data keys."""
    data = {"z": 1, 1: "int", 2.5: "float", False: "bool", None: "none", "a": 2}
    return {"lines": _lines(h, [fixed_event(data=data)])}


@scenario()
def logger_line_containers(h: Harness) -> dict[str, Any]:
    """Tuples, nested lists, empty containers, big ints, floats, booleans and None."""
    data = {"tuple": (1, 2), "nested": [[1], [2, [3]]], "empty": {}, "big": 2**70, "f": 0.1, "t": True, "n": None}
    return {"lines": _lines(h, [fixed_event(data=data)])}


@scenario()
def logger_line_extra_keys(h: Harness) -> dict[str, Any]:
    """Keys a processor added next to name/timestamp/data/context come out in the line."""
    return {"lines": _lines(h, [fixed_event()], processors=[add_key("event_type", "x"), add_key("z_last", [1])])}


@scenario()
def logger_max_event_size_boundary(h: Harness) -> dict[str, Any]:
    """An event whose line is exactly max_event_size characters is written; one more is not."""
    base = fixed_event(data={"pad": ""})
    size = len(_lines(h, [base], max_event_size=None)[0])
    exact = fixed_event(data={"pad": "x" * 20})
    over = fixed_event(data={"pad": "x" * 21})
    return {"lines": _lines(h, [exact, over], max_event_size=size + 20)}


@scenario()
def logger_default_max_event_size(h: Harness) -> dict[str, Any]:
    """The default limit (1024): a 900-character payload passes, a 1100-character one does
    not; max_event_size=None has no limit; both drops are silent or logged?"""
    small, big = fixed_event(data={"pad": "x" * 900}), fixed_event(data={"pad": "x" * 1100})
    default = _lines(h, [small, big])
    unlimited = _lines(h, [big], max_event_size=None)
    return {"default_lengths": [len(x) for x in default], "unlimited_lengths": [len(x) for x in unlimited]}


@scenario()
def logger_level(h: Harness) -> dict[str, Any]:
    """level='warning' writes at WARNING; level='DEBUG' (upper case) at DEBUG."""
    out = {}
    for level in ("warning", "DEBUG", "info"):
        with h.captured(LOGGER) as log:
            RoutingBackend(backends={"log": LoggerBackend(name=LOGGER, level=level)}).send(fixed_event())
        out[level] = [lvl for lvl, _ in log.records]
    return out


@scenario()
def logger_nan_and_infinity(h: Harness) -> dict[str, Any]:
    """NaN and infinities in data."""
    return {"lines": _lines(h, [fixed_event(data={"nan": float("nan"), "inf": float("inf"), "ninf": -float("inf")})])}


@scenario()
def logger_unserializable_values(h: Harness) -> dict[str, Any]:
    """A UUID, a Decimal, a set, bytes and an arbitrary object in data: one event each."""
    values = {
        "uuid": uuid.UUID("12345678-1234-5678-1234-567812345678"),
        "decimal": decimal.Decimal("1.50"),
        "set": {"only"},
        "bytes": b"\x00\x01",
        "object": object(),
    }
    out: dict[str, Any] = {}
    for label, value in values.items():
        with h.problems_logged():
            out[label] = _lines(h, [fixed_event(data={"v": value})])
    return out


@scenario()
def logger_unknown_options(h: Harness) -> dict[str, Any]:
    """LoggerBackend with an option it does not know (a misspelt `max_event_sise`)."""
    return {"outcome": h.outcome(lambda: type(LoggerBackend(name=LOGGER, max_event_sise=10)).__name__, message=False)}


@scenario()
def logger_attributes(h: Harness) -> dict[str, Any]:
    """Attributes code reads: max_event_size (default and given), the logger object's name."""
    default, given = LoggerBackend(name=LOGGER), LoggerBackend(name="other", max_event_size=None)
    return {
        "default_max": default.max_event_size,
        "given_max": given.max_event_size,
        "logger_name": default.event_logger.name,
    }


@scenario()
def logger_via_tracker(h: Harness) -> dict[str, Any]:
    """Tracker -> LoggerBackend: the line for an emitted event (timestamp normalised) with a
    context entered."""
    with h.captured(LOGGER) as log:
        tracker = Tracker(backends={"log": LoggerBackend(name=LOGGER)})
        with tracker.context("request", {"user_id": 3, "path": "/courses"}):
            tracker.emit("edx.diff.logged", {"grade": 0.5})
    return {"lines": log.lines}


@scenario()
def logger_fixed_clock_through_send(h: Harness) -> dict[str, Any]:
    """The same event sent twice: two identical lines (no ids or extra keys appear)."""
    event = fixed_event(timestamp=FIXED_TIME)
    return {"lines": _lines(h, [event, event])}


@scenario()
def logger_oversize_reported(h: Harness) -> dict[str, Any]:
    """An event over max_event_size: is it reported anywhere (a warning on any logger)?"""
    with h.problems_logged() as problems:
        lines = _lines(h, [fixed_event(data={"text": "x" * 200})], max_event_size=100)
    return {"lines": lines, "warnings": [level for level, _ in problems.records]}
