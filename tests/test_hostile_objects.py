"""emit() never raises into the caller, whatever the data, name or context values: objects whose
dunder methods raise, arrays with an ambiguous truth value, huge ints, cycles, mappings whose
iteration raises; also entered as contexts inside a recording span. Every event is written or
counted under a reason. Filters fail closed; options are type-checked at construction."""

from __future__ import annotations

import io
import json
import os
from collections.abc import Mapping

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from otel_eventtracking import BatchingRoutingBackend, Tracker
from otel_eventtracking.exceptions import ConfigurationTypeError
from otel_eventtracking.exporters import JsonLinesExporter, LoggerExporter
from otel_eventtracking.processors import LimitsProcessor, NameWhitelistProcessor, RedactionProcessor, RegexFilter
from otel_eventtracking.records.normalize import Normalizer


class Boom(Exception):
    pass


def _raise(*_args: object) -> object:
    raise Boom("hostile")


class Hostile:
    """Each instance raises from the dunder methods named at construction."""

    def __init__(self, *methods: str) -> None:
        self.methods = set(methods)

    def __getattribute__(self, name: str) -> object:
        return object.__getattribute__(self, name)

    def __str__(self) -> str:
        return _raise() if "str" in self.methods else "hostile"  # type: ignore[return-value]

    def __repr__(self) -> str:
        return _raise() if "repr" in self.methods else "Hostile()"  # type: ignore[return-value]

    def __eq__(self, other: object) -> bool:
        return _raise() if "eq" in self.methods else self is other  # type: ignore[return-value]

    def __hash__(self) -> int:
        return object.__hash__(self)

    def __len__(self) -> int:
        return _raise() if "len" in self.methods else 1  # type: ignore[return-value]

    def __bool__(self) -> bool:
        return _raise() if "bool" in self.methods else True  # type: ignore[return-value]

    def __iter__(self):  # type: ignore[no-untyped-def]
        return _raise() if "iter" in self.methods else iter([1])


class AmbiguousArray:
    """Like a numpy array: truth value ambiguous, == elementwise."""

    def __bool__(self) -> bool:
        raise ValueError("The truth value of an array with more than one element is ambiguous")

    def __eq__(self, other: object) -> AmbiguousArray:  # type: ignore[override]
        return AmbiguousArray()

    __hash__ = None  # type: ignore[assignment]

    def __len__(self) -> int:
        return 3


class BrokenMapping(Mapping):
    def __getitem__(self, key: object) -> object:
        raise Boom(key)

    def __iter__(self):  # type: ignore[no-untyped-def]
        raise Boom("iteration")

    def __len__(self) -> int:
        return 2


def _cycle() -> object:
    loop: list[object] = []
    loop.append({"again": loop})
    return loop


dunders = st.sets(st.sampled_from(["str", "repr", "eq", "len", "bool", "iter"]), max_size=6)
hostile = st.one_of(
    dunders.map(lambda m: Hostile(*m)),
    st.just(AmbiguousArray()),
    st.builds(BrokenMapping),
    st.integers(min_value=10**4400, max_value=10**4500),
    st.builds(_cycle),
)
plain = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=8), st.binary(max_size=4))
values = st.recursive(
    st.one_of(plain, hostile),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.one_of(st.text(max_size=4), st.integers()),
                                                                           inner, max_size=3)),
    max_leaves=8,
)  # fmt: skip
names = st.one_of(st.text(max_size=12), st.none(), st.integers(), st.binary(max_size=6), hostile)
contexts = st.dictionaries(st.one_of(st.text(max_size=4), st.integers(), dunders.map(lambda m: Hostile(*m))), values,
                           max_size=3)  # fmt: skip


@settings(max_examples=int(os.environ.get("HYPOTHESIS_EXAMPLES", "150")), deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])  # fmt: skip
@given(name=names, data=st.one_of(values, hostile), context=st.one_of(contexts, st.builds(BrokenMapping)))
def test_emit_never_raises_and_every_event_is_written_or_counted(name, data, context, tracer):
    stream = io.StringIO()
    jsonl = JsonLinesExporter(stream=stream)
    logger = LoggerExporter(name="tests.hostile", max_event_size=None)
    node = BatchingRoutingBackend({"jsonl": jsonl, "logger": logger}, schedule_delay=0.01)
    t = Tracker(backends={"n": node}, processors=[RegexFilter("blocklist", ["^secret"])], emit_log_records=False)
    with tracer.start_as_current_span("request"), t.context("hostile", context):  # a recording span
        t.emit(name, data)  # never raises into the caller
    t.emit("after", {"ok": True})
    t.flush(10)
    lines = stream.getvalue().splitlines()
    for line in lines:
        json.loads(line)
    assert json.loads(lines[-1])["name"] == "after"  # the pipeline goes on
    root, jsonl_counts = t.stats()["root"], t.stats()["root/n/jsonl"]
    # every event: written, or counted under a reason on the way
    accounted = len(lines) + sum(v for k, v in {**root, **jsonl_counts}.items() if k.startswith("dropped."))
    assert accounted == 2


def test_specific_hostile_cases_are_counted_not_raised(tracer):
    stream = io.StringIO()
    t = Tracker(backends={"jsonl": JsonLinesExporter(stream=stream)}, emit_log_records=False)
    with tracer.start_as_current_span("s"), t.context("c", {"k": Hostile("str", "repr"), Hostile("str"): 1}):
        t.emit("in.span", {})
    t.enter_context("broken", BrokenMapping())  # entered empty, counted, logged
    t.exit_context("broken")
    t.emit("array", AmbiguousArray())
    t.emit("mapping", BrokenMapping())
    t.emit(10**5000, {"big": 10**5000})
    t.emit("collide", {1: "int", "1": "str", None: "none", "null": "text"})
    t.flush(5)
    rows = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert rows[0]["context"] == {"k": "<unprintable Hostile>", "<unprintable Hostile>": 1}
    assert rows[-1]["data"] == {"1~int": "int", "1": "str", "null~NoneType": "none", "null": "text"}
    counts = t.stats()["root/jsonl"]
    assert counts["dropped.unserializable"] == 2 and t.stats()["root"]["dropped.emit_error"] == 1


def test_normalizer_reports_each_key_collision():
    seen: list[str] = []
    out = Normalizer("e", otlp=False, on_collision=seen.append).convert({1: "a", "1": "b", 2: {2: "c", "2": "d"}})
    assert out == {"1~int": "a", "1": "b", "2": {"2~int": "c", "2": "d"}}
    assert seen == ["data.2.2~int", "data.1~int"] or sorted(seen) == ["data.1~int", "data.2.2~int"]


@pytest.mark.parametrize("bad_name", [b"secret.x", 42, None])
def test_filters_fail_closed_on_names_they_cannot_judge(bad_name):
    stream = io.StringIO()
    blocklist = RegexFilter("blocklist", ["^secret"])
    t = Tracker(backends={"jsonl": JsonLinesExporter(stream=stream)}, processors=[blocklist], emit_log_records=False)
    t.emit(bad_name, {})
    t.flush(5)
    if bad_name is None:  # no name is the name "unknown": judged, and passed
        assert stream.getvalue().count("\n") == 1
        return
    assert stream.getvalue() == ""
    assert t.stats()["root"]["dropped.unjudged"] == 1
    assert "filtered" not in t.stats()["root"]  # counted once, as a loss, not also as a choice


def test_a_filter_whose_check_raises_drops_and_counts():
    broken = RegexFilter("blocklist", [b"secret"])  # a bytes pattern cannot match a str name
    assert broken.judge("anything") is False and broken.counters.get("dropped.unjudged") == 1


def test_filtering_log_record_processor_fails_closed(log_pipeline):
    from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor

    from otel_eventtracking.otel._sdk import SDKLoggerProvider

    exporter = InMemoryLogRecordExporter()
    allow = NameWhitelistProcessor(whitelist=["ok"])
    provider = SDKLoggerProvider()
    provider.add_log_record_processor(allow.as_log_record_processor(SimpleLogRecordProcessor(exporter)))
    logger = provider.get_logger("t")
    logger.emit(event_name="ok", body="1")
    logger.emit(event_name=b"ok", body="2")  # type: ignore[arg-type]  # not a str: cannot be judged
    assert [r.log_record.body for r in exporter.get_finished_logs()] == ["1"]
    assert allow.counters.get("dropped.unjudged") == 1


@pytest.mark.parametrize(
    ("build", "option"),
    [
        (lambda: LimitsProcessor(max_depth=True), "max_depth"),
        (lambda: LimitsProcessor(action=3), "action"),  # type: ignore[arg-type]
        (lambda: RegexFilter(filter_type=3), "filter_type"),  # type: ignore[arg-type]
        (lambda: RedactionProcessor(["data.x"], mask=5), "mask"),  # type: ignore[arg-type]
        (lambda: JsonLinesExporter(fsync="yes"), "fsync"),  # type: ignore[arg-type]
        (lambda: JsonLinesExporter(max_bytes="10"), "max_bytes"),  # type: ignore[arg-type]
        (lambda: LoggerExporter(max_event_size="1024"), "max_event_size"),  # type: ignore[arg-type]
        (lambda: LoggerExporter(include_event_id=1), "include_event_id"),  # type: ignore[arg-type]
        (lambda: JsonLinesExporter(unserializable=["drop"]), "unserializable"),  # type: ignore[arg-type]
    ],
)
def test_options_of_the_wrong_type_are_refused_at_construction(build, option):
    with pytest.raises(ConfigurationTypeError, match=f"option '{option}'"):
        build()
