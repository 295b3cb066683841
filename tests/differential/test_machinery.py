"""The differential suite's own machinery: the encoder keeps types apart, normalisation touches
only what legitimately differs, and the comparison catches differences and stale deviations."""

from __future__ import annotations

import datetime as dt
import decimal
import time
from collections import OrderedDict
from pathlib import Path

from .compare import DEVIATION, DIFFERING, IDENTICAL, compare, mask, values_at
from .deviations import DEVIATIONS, markdown_table
from .encode import encode
from .normalize import Window, normalize, reconcile

ROOT = Path(__file__).resolve().parents[2]


def test_encoder_keeps_types_apart() -> None:
    when = dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    assert encode(when) != encode(when.isoformat())
    assert encode((1, 2)) != encode([1, 2])
    assert encode(decimal.Decimal("1.5")) != encode(1.5)
    assert encode({1: "a"}) != encode({"1": "a"})
    assert encode(OrderedDict(a=1)) != encode({"a": 1})
    assert encode(float("nan")) == {"$float": "nan"}
    assert encode({"b", "a"}) == {"$set": ["a", "b"]}
    cyclic: list[object] = []
    cyclic.append(cyclic)
    assert encode(cyclic) == [{"$cycle": True}]


def test_now_is_normalised_keeping_its_shape_and_fixed_times_are_not() -> None:
    now = time.time()
    window = Window(now, now)
    current = dt.datetime.fromtimestamp(now, dt.UTC)
    line = f'{{"timestamp": "{current.isoformat()}", "fixed": "2024-05-06T07:08:09.123456+00:00"}}'
    assert normalize(line, window) == '{"timestamp": "<now.us+00:00>", "fixed": "2024-05-06T07:08:09.123456+00:00"}'
    assert normalize({"$datetime": current.replace(tzinfo=None).isoformat()}, window) == {"$datetime": "<now.us>"}
    ms = current.isoformat(timespec="milliseconds")
    assert normalize({"sentAt": ms}, window) == {"sentAt": "<now.3digits+00:00>"}
    assert normalize({"messageId": "x", "_id": "ab" * 16}, window) == {"messageId": "<message-id>", "_id": "<event-id>"}


def test_subclass_of_upstreams_exception_counts_as_it() -> None:
    upstream = {"raised": {"$exception": "TypeError", "mro": ["TypeError", "Exception"]}}
    subclass = {"raised": {"$exception": "Bad", "mro": ["Bad", "ValueError", "TypeError", "Exception"]}}
    other = {"raised": {"$exception": "Bad", "mro": ["Bad", "ValueError", "Exception"]}}
    legacy, shim = reconcile(upstream, subclass)
    assert legacy == shim
    legacy, shim = reconcile(upstream, other)
    assert legacy != shim


def test_paths() -> None:
    value = {"posted": [{"t": 1, "k": 2}, {"t": 3}]}
    assert values_at(value, "posted.*.t") == [1, 3]
    assert mask(value, ["posted", "*", "t"], "X") == {"posted": [{"t": "X", "k": 2}, {"t": "X"}]}


def test_compare_verdicts() -> None:
    assert compare("no_such_scenario", {"a": 1}, {"a": 1})[0] == IDENTICAL
    verdict, problems = compare("no_such_scenario", {"a": 1}, {"a": 2})
    assert verdict == DIFFERING and "observations differ" in problems[0]
    # A declared deviation: allowed where declared and as declared, nowhere else, and not when stale.
    legacy = {"a_is_b": True, "a": [1]}
    assert compare("routing_siblings_share_object", legacy, {"a_is_b": False, "a": [1]})[0] == DEVIATION
    assert compare("routing_siblings_share_object", legacy, {"a_is_b": False, "a": [2]})[0] == DIFFERING
    assert compare("routing_siblings_share_object", legacy, {"a_is_b": "other", "a": [1]})[0] == DIFFERING
    verdict, problems = compare("routing_siblings_share_object", {"a_is_b": False}, {"a_is_b": False})
    assert verdict == DIFFERING and "no longer shows" in problems[0]


def test_deviation_tables_are_deviations_py() -> None:
    """The deviations tables of the README and of docs/compatibility.md are generated from
    deviations.py: same rows, same order, same text (python -m tests.differential.deviations prints it)."""
    for page in (ROOT / "README.md", ROOT / "docs" / "compatibility.md"):
        text = page.read_text()
        start, end = "<!-- deviations:start -->\n", "<!-- deviations:end -->"
        assert start in text and end in text, f"{page.name} lost its deviations table markers"
        table = text.split(start, 1)[1].split(end, 1)[0]
        ids = [line.split("`")[1] for line in table.splitlines() if line.startswith("| `")]
        assert ids == [d.id for d in DEVIATIONS], f"{page.name}: rows and deviations.py ids differ"
        assert table == markdown_table(), f"{page.name}: stale table: paste `python -m tests.differential.deviations`"
    assert "(docs/compatibility.md#deviations-from-event-tracking-402)" in (ROOT / "README.md").read_text()
    assert (ROOT / "docs" / "moving-from-event-tracking.md").is_file()
