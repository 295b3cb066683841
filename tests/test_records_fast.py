"""The fast JSON and BSON paths (``records.json_fast``, ``records.bson_fast``) against the reference
rules (``records.json``, ``records.normalize``, ``MongoExporter``): same bytes, same errors, on generated
hostile events.

CI runs the ``records-ci`` profile; ``RECORDS_PROFILE=records-thorough`` runs 2,500 examples a test.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import bson
import orjson
import pytest
from hypothesis import HealthCheck, currently_in_test_context, event, given, settings
from hypothesis import strategies as st
from opentelemetry.trace import SpanContext

from otel_eventtracking.core.event import Event, ns_to_datetime
from otel_eventtracking.exceptions import UnserializableEventError
from otel_eventtracking.exporters import JsonLinesExporter, LoggerExporter
from otel_eventtracking.exporters.mongodb import MongoExporter
from otel_eventtracking.records import bson_fast, json_fast, json_lines
from otel_eventtracking.records._walk import BsonWalker, FragmentWalker, OtlpWalker, Walker
from otel_eventtracking.records.json import dumps, json_record
from otel_eventtracking.records.normalize import Normalizer, format_datetime
from otel_eventtracking.records.otlp import otlp_body, otlp_body_reference

from .fixtures.hostile_values import (
    ASCII,
    ODD_TEXT,
    Color,
    F,
    I,
    Level,
    Mode,
    Opaque,
    S,
    any_values,
    depths,
    floats,
    friendly_keys,
    friendly_texts,
    friendly_values,
    keys,
    opaque,
    pick,
    policies,
    texts,
)  # fmt: skip

settings.register_profile("records-ci", max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
settings.register_profile("records-thorough", max_examples=2500, deadline=None,
                          suppress_health_check=list(HealthCheck))  # fmt: skip
PROFILE = settings.get_profile(os.environ.get("RECORDS_PROFILE", "records-ci"))


# -- comparing outcomes -----------------------------------------------------------------------
def outcome(fn: Callable[[], Any]) -> tuple[Any, ...]:
    """What a call gave: its result, or its exception's type and message (with the path for ours)."""
    try:
        result: tuple[Any, ...] = ("ok", fn())
    except UnserializableEventError as exc:
        result = ("unserializable", exc.event_name, exc.path, exc.reason, str(exc))
    except Exception as exc:
        result = ("raised", type(exc), str(exc))
    if currently_in_test_context():  # what was covered, in --hypothesis-show-statistics
        event(result[0] if result[0] != "raised" else f"raised {result[1].__name__}")
    return result


def strict(value: Any) -> Any:
    """A comparable view that tells 1 from 1.0 and True, -0.0 from 0.0, a list from a tuple."""
    if isinstance(value, dict):
        return ("dict", [(type(k), k, strict(v)) for k, v in value.items()])
    if isinstance(value, list | tuple):
        return (type(value).__name__, [strict(v) for v in value])
    if isinstance(value, float):
        return ("float", repr(value))
    if isinstance(value, orjson.Fragment):  # compares by identity: compare what it writes
        return ("fragment", orjson.dumps(value))
    return (type(value), value)


def reference_record(items: list[tuple[str, Any]], name: str, policy: str, max_depth: int) -> dict[str, Any]:
    def normalizer(key: str) -> Normalizer:
        return Normalizer(name, otlp=False, policy="str" if key in {"context"} else policy, max_depth=max_depth)  # type: ignore[arg-type]

    return {k: normalizer(k).convert(v, k) for k, v in items}


def items_of(values: st.SearchStrategy[Any]) -> st.SearchStrategy[list[tuple[str, Any]]]:
    return st.lists(st.tuples(st.sampled_from(["name", "data", "context", "extra", "event_id"]), values), max_size=5)


items_strategy = items_of(any_values)


def no_fallback(record: Any) -> str:
    raise AssertionError("the stdlib encoder wrote this record, not orjson")


@PROFILE
@given(items=items_strategy, name=texts, policy=policies, max_depth=depths, compact=st.booleans())
def test_encode_record_is_byte_for_byte_the_reference(items, name, policy, max_depth, compact):
    expected = outcome(lambda: dumps(reference_record(items, name, policy, max_depth), compact=compact))
    got = outcome(lambda: json_fast.encode_record(items, event_name=name, policy=policy, compact=compact,
                                                  max_depth=max_depth))  # fmt: skip
    assert got == expected
    if got[0] == "ok":
        assert got[1].isascii() and "\n" not in got[1]
        json.loads(got[1])


@PROFILE
@given(items=items_strategy, name=texts, policy=policies, max_depth=depths)
def test_normalize_items_is_the_reference_tree(items, name, policy, max_depth):
    expected = outcome(lambda: strict(reference_record(items, name, policy, max_depth)))
    got = outcome(lambda: strict(json_fast.normalize_items(items, event_name=name, policy=policy,
                                                           max_depth=max_depth)))  # fmt: skip
    assert got == expected


@PROFILE
@given(items=items_strategy, name=texts, policy=policies, compact=st.booleans())
def test_stdlib_only_path_is_the_reference_too(items, name, policy, compact):
    # Where orjson is missing or refuses a record the stdlib encoder writes it: run that path alone.
    expected = outcome(lambda: dumps(reference_record(items, name, policy, 100), compact=compact))
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(json_fast, "_orjson_dumps", None)
        got = outcome(lambda: json_fast.encode_record(items, event_name=name, policy=policy, compact=compact))
    assert got == expected


@PROFILE
@given(items=items_of(friendly_values), name=friendly_texts, policy=policies, max_depth=depths)
def test_orjson_writes_what_it_can_itself(items, name, policy, max_depth):
    # With the stdlib encoder swapped for one that fails, orjson (after the walk, with the
    # escaping pass) must have written each line: this is the path most JSON lines take.
    expected = outcome(lambda: dumps(reference_record(items, name, policy, max_depth), compact=True))
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(json_fast, "_STD_COMPACT", no_fallback)
        got = outcome(lambda: json_fast.encode_record(items, event_name=name, policy=policy, compact=True,
                                                      max_depth=max_depth))  # fmt: skip
    assert got == expected


@PROFILE
@given(numbers=st.lists(st.one_of(floats, st.floats(min_value=1e-6, max_value=1e-4), st.floats(min_value=1e15)),
                        max_size=8))  # fmt: skip
def test_floats_are_spelled_as_repr_by_orjson(numbers):
    items = [("data", {"list": numbers, **{str(i): x for i, x in enumerate(numbers)}})]
    expected = dumps(reference_record(items, "ev", "drop", 100), compact=True)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(json_fast, "_STD_COMPACT", no_fallback)
        assert json_fast.encode_record(items, event_name="ev", compact=True) == expected


# -- events through the exporters' own format() ----------------------------------------------
names = st.one_of(texts, st.builds(S, texts), st.none(), st.integers(), st.binary(max_size=3),
                  pick([Color.RED, Mode.A, Level.HIGH, uuid.UUID(int=3), dt.datetime(2020, 1, 1), opaque]))  # fmt: skip
times = st.one_of(
    st.integers(min_value=-62135596800 * 10**9, max_value=253402300799 * 10**9 + 999_999_999),
    st.sampled_from([0, -1, 999, 1000, -1001, 1_700_000_000_000_000_000, 253402300800 * 10**9, -62135596801 * 10**9]),
)
spans = st.one_of(st.none(), st.builds(lambda t, s: SpanContext(t, s, is_remote=False),
                                       st.integers(1, 2**128 - 1), st.integers(1, 2**64 - 1)))  # fmt: skip


def event_args(
    event_names: st.SearchStrategy[Any] = names, values: st.SearchStrategy[Any] = any_values, keys=keys
) -> st.SearchStrategy[tuple[Any, ...]]:
    extra_keys = st.one_of(keys, st.sampled_from(["event_id", "_id", "trace_id"]))
    extras = st.one_of(st.none(), st.dictionaries(extra_keys, values, max_size=3))
    contexts = st.one_of(st.dictionaries(keys, values, max_size=4), values)
    return st.tuples(event_names, times, contexts, values, spans, extras)


def make_event(args: tuple[Any, ...]) -> Event:
    # Built in the test, not by the strategy: Event.__repr__ raises for an out-of-range time,
    # which would hide a failing example behind hypothesis's own report.
    name, time_ns, context, data, span, extra = args
    return Event(name, time_ns, context, data, span, extra, event_id="0123456789abcdef0123456789abcdef")


@PROFILE
@given(args=event_args(), policy=policies)
def test_event_lines_are_what_the_exporters_write(args, policy):
    event = make_event(args)
    jsonl = JsonLinesExporter(unserializable=policy)
    logger = LoggerExporter(unserializable=policy)
    line = outcome(lambda: json_fast.encode_event(event, compact=True, policy=policy, include_trace=True,
                                                  include_event_id=True))  # fmt: skip
    assert line == outcome(lambda: jsonl.format(event))
    assert line == outcome(lambda: jsonl._line_encoder()(event))  # what export_events writes with
    assert outcome(lambda: json_fast.encode_event(event, compact=False, policy=policy)) == outcome(
        lambda: logger.format(event)
    )
    assert outcome(lambda: logger._line_encoder()(event)) == outcome(lambda: logger.format(event))
    assert outcome(lambda: strict(json_fast.event_record(event, policy=policy))) == outcome(
        lambda: strict(json_record(event, policy=policy))
    )


@PROFILE
@given(args=event_args(texts), policy=policies, compact=st.booleans())
def test_event_items_with_encode_record_reproduce_the_exporters(args, policy, compact):
    event = make_event(args)
    fmt = JsonLinesExporter(unserializable=policy) if compact else LoggerExporter(unserializable=policy)
    trace = compact  # JSON lines carry the trace and the id, the logger line does not (its defaults)
    if event.extra and "context" in event.extra:
        return  # an extra named "context" gets the data policy in json_record; items cannot say that

    def fast_line() -> str:
        items = json_fast.event_items(event, include_trace=trace, include_event_id=trace)
        return json_fast.encode_record(items, event_name=event.name, policy=policy, compact=compact)

    fast = outcome(fast_line)
    assert fast == outcome(lambda: fmt.format(event))


@PROFILE
@given(args=event_args(friendly_texts, friendly_values, friendly_keys), policy=policies)
def test_orjson_writes_json_lines_events_itself(args, policy):
    event = make_event(args)
    expected = outcome(lambda: JsonLinesExporter(unserializable=policy).format(event))
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(json_fast, "_STD_COMPACT", no_fallback)
        got = outcome(lambda: json_fast.encode_event(event, compact=True, policy=policy, include_trace=True,
                                                     include_event_id=True))  # fmt: skip
    assert got == expected


@pytest.fixture(scope="module")
def mongo() -> Iterator[MongoExporter]:
    # No server is contacted: document()/encode() are pure; the client only needs a URI.
    exporter = MongoExporter(uri="mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=1", create_indexes=False)
    yield exporter
    exporter.shutdown()


@PROFILE
@given(args=event_args(), policy=policies, trace=st.booleans())
def test_bson_documents_are_what_the_mongo_exporter_stores(mongo, args, policy, trace):
    event = make_event(args)
    mongo.unserializable = policy
    mongo.include_trace_context = trace
    expected = outcome(lambda: bytes(mongo.encode(event, fast=False).raw))
    got = outcome(lambda: bson_fast.encode_document(event, policy=policy, include_trace_context=trace))
    assert got == expected


@PROFILE
@given(batch=st.lists(event_args(), min_size=1, max_size=5), policy=policies, trace=st.booleans())
def test_a_batch_encoded_in_one_call_gives_each_events_document(batch, policy, trace):
    # encode_documents cuts the documents out of one encoder call: each one must be the bytes
    # encode_document gives alone, and only an event that cannot be written that way is left out.
    events = [make_event(args) for args in batch]
    got = bson_fast.encode_documents(events, policy=policy, include_trace_context=trace)
    alone = [outcome(lambda e=e: bson_fast.encode_document(e, policy=policy, include_trace_context=trace))
             for e in events]  # fmt: skip
    for raw, expected in zip(got, alone, strict=True):
        assert raw is None or ("ok", raw) == expected
    common = [not e.extra and type(e.name) is str and type(e.data) is dict for e in events]
    if all(common) and all(result[0] == "ok" for result in alone):
        assert None not in got  # the whole batch went through the one call
    for raw, is_common, result in zip(got, common, alone, strict=True):
        if raw is None and is_common and result[0] == "ok":
            assert any(r[0] != "ok" for r in alone)  # left out only because another document failed


@PROFILE
@given(batch=st.lists(event_args(), min_size=1, max_size=6), policy=policies, trace=st.booleans(), share=st.booleans())
def test_a_batch_of_json_lines_is_each_events_line(batch, policy, trace, share):
    # encode_lines looks the walkers, the context's fragment, the second of the timestamp and the
    # trace ids up once per batch: each line must still be the one the exporter's format writes
    # for that event, and only an event that the per-event path must write (or reject) is left out.
    if share:  # the events of one request: one context object, one span
        batch = [(*args[:2], batch[0][2], args[3], batch[0][4], args[5]) for args in batch]
    events = [make_event(args) for args in batch]
    exporter = JsonLinesExporter(unserializable=policy, include_trace_context=trace)
    got = json_lines.encode_lines(events, (policy, trace, True, 100))
    expected = [outcome(lambda e=e: exporter.format(e)) for e in events]
    for line, result in zip(got, expected, strict=True):
        assert line is None or ("ok", line.decode("ascii")) == (result[0], f"{result[1]}\n")  # with its newline
    for line, e, result in zip(got, events, expected, strict=True):
        if line is None and result[0] == "ok" and not e.extra and type(e.name) is str:
            # left out only where orjson cannot write the record as json.dumps does
            assert outcome(lambda e=e: orjson.dumps(json_fast._event_record(FragmentWalker, e, policy, trace, True,
                                                                            100, True)))[0] != "ok"  # fmt: skip


def test_a_batch_reports_the_renamed_keys_of_the_events_it_writes_once():
    from otel_eventtracking.records.normalize import counting_collisions

    clash, poison = {1: "a", "1": "b"}, {1: "a", "1": object(), "big": 2**70}
    events = [Event("ev", 1_700_000_000_000_000_000, {}, data, event_id=f"{i:032x}")
              for i, data in enumerate([{"n": 1}, clash, poison])]  # fmt: skip
    seen: list[str] = []
    with counting_collisions(seen.append):
        got = json_lines.encode_lines(events, ("str", False, True, 100))
    assert got[0] is not None and got[1] is not None and got[2] is None  # 2**70: orjson refuses it
    assert json.loads(got[1])["data"] == {"1": "b", "1~int": "a"}
    assert seen == ["1~int"]  # the written event's renamed key; the left-out one's is reported by its own path


def test_a_document_with_no_bson_form_sends_only_its_chunk_to_be_encoded_alone():
    # Batches are encoded CHUNK documents per call: a NUL in a key (which only the encoder sees)
    # fails its chunk's call, so that chunk's events come back None; the others keep their bytes.
    n, bad = 3 * bson_fast.CHUNK + 5, bson_fast.CHUNK + 6
    events = [Event("ev", 1_700_000_000_000_000_000 + i, {"c": 1}, {"bad\x00key" if i == bad else "n": i},
                    event_id=f"{i:032x}") for i in range(n)]  # fmt: skip
    got = bson_fast.encode_documents(events)
    chunk = range(bson_fast.CHUNK, 2 * bson_fast.CHUNK)
    assert [i for i, raw in enumerate(got) if raw is None] == list(chunk)
    assert all(raw == bson_fast.encode_document(e) for e, raw in zip(events, got, strict=True) if raw is not None)
    with pytest.raises(UnserializableEventError):
        bson_fast.encode_document(events[bad])


@PROFILE
@given(time_ns=times)
def test_format_time_ns_is_format_datetime(time_ns):
    assert outcome(lambda: json_fast.format_time_ns(time_ns)) == outcome(
        lambda: format_datetime(ns_to_datetime(time_ns))
    )
    # and again within the same second, from the cached prefix
    same_second = time_ns - time_ns % 10**9 + 123_456_000
    assert outcome(lambda: json_fast.format_time_ns(same_second)) == outcome(
        lambda: format_datetime(ns_to_datetime(same_second))
    )


# -- named cases ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "value",
    [
        {1: "int", "1": "str"},  # one key after conversion: the later value, at the first place
        {True: 1, "true": 2, None: 3, "null": 4, 1.5: 5, "1.5": 6, math.nan: 7, math.inf: 8},
        [1e-07, 1e-05, 1.5e-05, 9.999e-05, 1e16, -0.0, 5e-324, 1.7976931348623157e308, math.nan, -math.inf, F(1e-9)],
        {"big": 2**64, "neg": -(2**63) - 1, "i64": 2**63 - 1},
        {"s": ODD_TEXT, ODD_TEXT: "key"},
        {"ascii": ASCII, ASCII: "\x7f", "\x7f": ["\x7f\x00"]},  # orjson writes these two
        {"del": "\x7f", "text": ["caf\u00e9\x7f\U0001f600", "\u2028\x85"]},
        {1, "a", 2.5, (1,)},
        frozenset({3, 1, 2}),
    ],
    ids=[
        "duplicate-keys",
        "special-keys",
        "floats",
        "big-ints",
        "odd-text",
        "ascii",
        "non-ascii",
        "mixed-set",
        "sorted-set",
    ],
)
@pytest.mark.parametrize("compact", [True, False])
def test_named_cases(value, compact):
    items = [("data", value), ("context", {"c": value})]
    expected = dumps(reference_record(items, "ev", "drop", 100), compact=compact)
    assert json_fast.encode_record(items, event_name="ev", compact=compact) == expected


@pytest.mark.parametrize(
    "value",
    [2**63 - 1, 2**63, -(2**63), -(2**63) - 1, [2**64], (1, 2**63), {2**63, 1}, Level.HIGH, I(2**63), math.nan, b"\x00",
     dt.datetime(2020, 1, 1), dt.datetime(2020, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=3)))],
)  # fmt: skip
def test_bson_named_cases(mongo, value):
    mongo.unserializable, mongo.include_trace_context = "drop", True
    event = Event("ev", 1_700_000_000_123_456_789, {"c": value}, {"d": {"e": value}}, SPAN_CONTEXT, event_id="0" * 32)
    assert bson_fast.encode_document(event) == bytes(mongo.encode(event).raw)


def nested(levels: int) -> dict[str, Any]:
    """Data whose containers nest ``levels`` deep (the data dict itself is the first level)."""
    tree: Any = []
    for _ in range(levels - 2):
        tree = [tree]
    return {"k": tree} if levels > 1 else {}


@pytest.mark.parametrize(
    "data",
    [{"n": math.nan}, {"l": [1.5, [math.inf]]}, {"m": -math.inf, "none": None}, {"none": None, "neg": -1, "c": "\x7f"},
     {"u": uuid.UUID(int=7)}, {"e": Level.LOW}, {"e": Level.HIGH}, {"m": Mode.A}, {"c": Color.BOX}, {"t": (1, (2, 3))},
     {"f": orjson.Fragment(b"1")}, {"i": 2**63}, {"i": 2**64 - 1}, nested(5), nested(6), nested(3),
     {"k": [[[[Level.LOW]]]]}, {"k": [[[Mode.A]]]}],
    ids=["nan", "inf-in-list", "-inf-and-null", "null-and-0xff-bytes", "uuid", "int-enum", "huge-int-enum",
         "str-enum", "tuple-enum", "tuples", "fragment", "int-2**63", "int-2**64-1", "depth-limit",
         "past-depth-limit", "short-and-deep", "enum-at-depth-limit", "enum-within-depth-limit"],
)  # fmt: skip
@pytest.mark.parametrize("policy", ["drop", "str"])
def test_data_passed_as_it_is_is_stored_as_the_walk_stores_it(data, policy):
    # encode_documents hands data orjson accepts (refusing subclasses and dates) to bson.encode
    # unwalked: what either writes differently from the walk must still end as the walk's bytes,
    # or leave out only its own event (neighbours in the same encoder call keep the batch path;
    # a NUL in a key, which no walk changes, fails the whole call: see the chunk test above).
    events = [Event("ev", 1_700_000_000_000_000_000, {"c": 1}, d, SPAN_CONTEXT, event_id=f"{i:032x}")
              for i, d in enumerate([{"n": 1}, data, {"n": 2}])]  # fmt: skip
    got = bson_fast.encode_documents(events, policy=policy, max_depth=5)
    alone = [outcome(lambda e=e: bson_fast.encode_document(e, policy=policy, max_depth=5)) for e in events]
    assert got[0] is not None and got[2] is not None
    assert [("ok", raw) for raw in got[::2]] == alone[::2]
    assert ("ok", got[1]) == alone[1] if got[1] is not None else alone[1][0] != "ok"


@pytest.mark.parametrize(
    "data",
    [{"f": 1e-5}, {"l": [1.5, [1e16]]}, {"f": -1.5e-300}, {"n": math.nan}, {"i": -math.inf}, {"none": None},
     {"s": "2e5 null"}, {"u": uuid.UUID(int=7)}, {"e": Level.LOW}, {"m": Mode.A}, {"c": Color.BOX}, {"t": (1, (2,))},
     {"f": orjson.Fragment(b"1")}, {"i": 2**64 - 1}, {"k": "\x7f\u00e9\u2028"}, nested(100), nested(101)],
    ids=["small-float", "big-float", "tiny-float", "nan", "-inf", "none", "looks-like", "uuid", "int-enum",
         "str-enum", "tuple-enum", "tuples", "fragment", "int-2**64-1", "escapes", "depth-limit", "past-depth-limit"],
)  # fmt: skip
@pytest.mark.parametrize("policy", ["drop", "str"])
def test_a_batch_line_of_values_orjson_writes_its_own_way_is_the_exporters_line(data, policy):
    # Values orjson writes otherwise than json.dumps (NaN, floats it spells without an exponent,
    # enums, UUIDs, its Fragment) must still come out of the batch path as the exporter's line.
    exporter = JsonLinesExporter(unserializable=policy)
    event = Event("ev", 1_700_000_000_000_000_000, {"c": 1}, data, SPAN_CONTEXT, event_id="0" * 32)
    (line,) = json_lines.encode_lines([event], (policy, True, True, 100))
    expected = outcome(lambda: exporter.format(event))
    assert ("ok", line.decode("ascii")[:-1]) == expected if line is not None else expected[0] != "ok"
    assert line is None or line.endswith(b"}\n")


SPAN_CONTEXT = SpanContext(0x5B8AA5A2D2C872E8321CF37308D69DF2, 0x051581BF3CB55C13, is_remote=False)


@PROFILE
@given(datas=st.lists(any_values, min_size=2, max_size=4), context=st.dictionaries(keys, any_values, max_size=3),
       span=spans, depth=st.sampled_from([2, 100]), policy=policies)  # fmt: skip
def test_events_sharing_a_context_and_a_span_reuse_their_encoded_parts(mongo, datas, context, span, depth, policy):
    # Events of one request share the merged context and the span context objects: the fast
    # paths encode those parts once and reuse them, so every event must still be the reference.
    # A second depth limit on the same objects must not reuse the first one's parts.
    mongo.unserializable, mongo.include_trace_context = policy, True
    for max_depth in (depth, 100 if depth != 100 else 2):
        for i, data in enumerate(datas):
            event = Event("ev", 1_700_000_000_123_456_789 + i, context, data, span, event_id=f"{i:032x}")
            assert_fast_paths_match(event, policy, max_depth)


def assert_fast_paths_match(event: Event, policy: Any, max_depth: int) -> None:
    fast = outcome(lambda: bson_fast.encode_document(event, policy=policy, max_depth=max_depth))
    assert fast == outcome(lambda: reference_bson(event, policy, max_depth))
    (batch,) = bson_fast.encode_documents([event], policy=policy, max_depth=max_depth)
    assert batch is None or ("ok", batch) == fast
    if max_depth == 100:  # the JSON-lines exporter's limit
        line = outcome(lambda: json_fast.encode_event(event, compact=True, policy=policy, include_trace=True,
                                                      include_event_id=True, max_depth=max_depth))  # fmt: skip
        assert line == outcome(lambda: JsonLinesExporter(unserializable=policy).format(event))


def reference_bson(event: Event, policy: Any, max_depth: int) -> bytes:
    """The document at a depth limit through the whole dict (``bson_fast.document``, whose rules
    the test above compares with the exporter's reference), errors as ``MongoExporter`` gives them."""
    try:
        return bson.encode(bson_fast.document(event, policy=policy, include_trace_context=True, max_depth=max_depth))
    except (bson.errors.InvalidDocument, OverflowError, UnicodeError) as exc:
        raise UnserializableEventError(event.name, "document", f"cannot be encoded as BSON: {exc}") from exc


plain_trees = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), floats, texts),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(texts, inner, max_size=3)),
    max_leaves=12,
)


@PROFILE
@given(value=st.one_of(plain_trees, any_values), depth=st.sampled_from([1, 2, 3, 100]),
       kind=st.sampled_from([Walker, FragmentWalker, BsonWalker, OtlpWalker]), str_policy=st.booleans())  # fmt: skip
def test_a_walker_gives_plain_trees_back_only_when_the_walk_would_copy_them(value, depth, kind, str_policy):
    walker = kind(depth, str_policy)
    walked = outcome(lambda: strict(walker.value(value, 0)))
    given_back: list[Any] = []

    def tree() -> Any:
        got = walker.tree(value)
        given_back.append(got is value)
        return strict(got)

    assert outcome(tree) == walked  # strict: a tuple given back for the walk's list would differ
    if given_back and given_back[0] and type(value) in (dict, list):
        event("container given back, not copied")


def test_an_int_too_long_for_text_is_unserializable_on_both_paths():
    items = [("data", {"n": 10**5000})]
    expected = outcome(lambda: dumps(reference_record(items, "ev", "drop", 100), compact=True))
    assert expected[0] == "unserializable" and expected[2] == "data.n"
    assert outcome(lambda: json_fast.encode_record(items, event_name="ev", compact=True)) == expected
    assert outcome(lambda: json_fast.encode_record(items, event_name="ev", compact=False)) == outcome(
        lambda: dumps(reference_record(items, "ev", "drop", 100))
    )


def test_the_rejection_path_names_the_value():
    items = [("data", {"a": [0, {"b": {Opaque()}}]})]
    with pytest.raises(UnserializableEventError) as caught:
        json_fast.encode_record(items, event_name="ev", compact=True)
    assert caught.value.path == "data.a[1].b[]"
    assert "has type Opaque" in caught.value.reason


def test_orjson_is_in_use():
    # The encoder choice is part of the contract of this module (see the module docstring).
    assert json_fast.USES_ORJSON


@PROFILE
@given(args=event_args(), policy=policies)
def test_the_otlp_body_walk_is_the_reference(args, policy):
    event = make_event(args)
    got = outcome(lambda: strict(otlp_body(event, policy=policy)))
    assert got == outcome(lambda: strict(otlp_body_reference(event, policy=policy)))


@PROFILE
@given(args=event_args(event_names=st.text(max_size=8)), other=st.booleans())
def test_wire_records_with_cached_context_attributes_encode_as_the_plain_mapping(args, other):
    """The OTLP path encodes a context's attributes once per context object; the bytes must be
    those of encoding each record's attribute mapping (which tests/test_otlp_wire.py holds to the
    SDK's encoder)."""
    from opentelemetry.sdk.resources import Resource

    from otel_eventtracking.otel import _sdk
    from otel_eventtracking.records.otlp import otlp_attributes, wire_record
    from otel_eventtracking.records.otlp_wire import LogsRequestEncoder

    event = make_event(args)
    if other:  # first a record under another context, so the cache holds something else
        outcome(lambda: wire_record(make_event(("o", 0, {"k": 1}, {}, None, None))))
    encoder = LogsRequestEncoder.from_sdk(Resource.create({"service.name": "t"}), _sdk.SCOPE)

    def plain() -> bytes:
        return encoder.encode_record(wire_record(event)._replace(attributes=otlp_attributes(event)))

    assert outcome(lambda: encoder.encode_record(wire_record(event))) == outcome(plain)
