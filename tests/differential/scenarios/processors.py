"""Processors: in place, new dicts, None, EventEmissionExit, errors; lists of events (ERB);
NameWhitelistProcessor and RegexFilter, including their configuration errors."""

from __future__ import annotations

from typing import Any

from eventtracking.backends.routing import RoutingBackend
from eventtracking.exceptions import ImproperlyConfigured
from eventtracking.processors.exceptions import EventEmissionExit
from eventtracking.processors.regex_filter import RegexFilter
from eventtracking.processors.whitelist import NameWhitelistProcessor

from ..harness import Harness, scenario
from ._common import add_key, fixed_event, names


def _route(h: Harness, processors: list[Any], *events: dict[str, Any]) -> list[Any]:
    rec = h.recorder()
    backend = RoutingBackend(backends={"r": rec}, processors=processors)
    for event in events:
        backend.send(event)
    return rec.events


@scenario()
def processor_mutates_in_place(h: Harness) -> dict[str, Any]:
    """A processor that changes data and context in place and returns None."""

    def mutate(event: Any) -> None:
        event["data"]["added"] = [1, 2]
        event["context"]["org_id"] = "DiffX"
        del event["data"]["answer"]

    return {"received": _route(h, [mutate], fixed_event())}


@scenario()
def processor_returns_new_dict(h: Harness) -> dict[str, Any]:
    """A processor that returns a brand-new dict with other keys: backends get exactly it."""

    def replace(event: Any) -> dict[str, Any]:
        return {"name": event["name"] + ".v2", "payload": event["data"], "version": 2}

    return {"received": _route(h, [replace], fixed_event())}


@scenario()
def processor_returns_empty_dict(h: Harness) -> dict[str, Any]:
    """A processor returning {} (falsy, but not None)."""
    return {"received": _route(h, [lambda event: {}], fixed_event())}


@scenario()
def processor_returns_non_dict(h: Harness) -> dict[str, Any]:
    """A processor returning a string, then a list: what the next processor and backends get."""
    seen: list[Any] = []

    def spy(event: Any) -> None:
        seen.append(h.encode(event))

    string = _route(h, [lambda event: "not an event", spy], fixed_event())
    listed = _route(h, [lambda event: [event], spy], fixed_event())
    return {"string": string, "list": listed, "next_processor_saw": seen}


@scenario()
def processor_chain_order(h: Harness) -> dict[str, Any]:
    """Three processors run in order, each seeing the previous one's result."""
    seen: list[Any] = []

    def step(n: int) -> Any:
        def processor(event: Any) -> Any:
            seen.append([n, sorted(k for k in event if k.startswith("step"))])
            return {**event, f"step{n}": n} if n == 2 else add_key(f"step{n}", n)(event)

        return processor

    received = _route(h, [step(1), step(2), step(3)], fixed_event())
    return {"seen": seen, "received": received}


@scenario()
def processor_identity_through_chain(h: Harness) -> dict[str, Any]:
    """Do processors that return None receive the same dict object one after the other, and
    does the backend receive that object too?"""
    objects: list[Any] = []

    def keep(event: Any) -> None:
        objects.append(event)

    rec = h.recorder()
    RoutingBackend(backends={"r": rec}, processors=[keep, keep]).send(fixed_event())
    return {"p1_is_p2": objects[0] is objects[1], "p2_is_backend": objects[1] is rec.raw[0]}


@scenario()
def processor_exit_stops_chain(h: Harness) -> dict[str, Any]:
    """EventEmissionExit in the first processor: later processors do not run, nothing is sent."""
    ran: list[str] = []

    def drop(event: Any) -> None:
        ran.append("drop")
        raise EventEmissionExit()

    def later(event: Any) -> None:
        ran.append("later")

    rec = h.recorder()
    returned = RoutingBackend(backends={"r": rec}, processors=[drop, later]).send(fixed_event())
    return {"ran": ran, "received": rec.events, "returned": returned}


@scenario()
def processor_exit_subclass(h: Harness) -> dict[str, Any]:
    """A subclass of EventEmissionExit also drops the event."""

    class Filtered(EventEmissionExit):
        pass

    def drop(event: Any) -> None:
        raise Filtered("not wanted")

    return {"received": _route(h, [drop], fixed_event())}


@scenario(isolated=True)  # a fresh process: nothing reported before
def processor_error_isolated(h: Harness) -> dict[str, Any]:
    """A processor that mutates, then raises ValueError: later processors run, the partial
    change stays, the event is delivered; the error is logged by the routing module at ERROR."""

    def half(event: Any) -> None:
        event["data"]["half"] = True
        raise ValueError("processor bug")

    with h.problems_logged() as log:
        received = _route(h, [half, add_key("after", 1)], fixed_event())
    return {"received": received, "levels_logged": sorted({level for level, _ in log.records})}


@scenario()
def processor_list_in_chain(h: Harness) -> dict[str, Any]:
    """ERB's router style: processors called by user code with a list of events, one after the
    other (whitelist first, then a processor of the caller's own that maps each event)."""
    whitelist = NameWhitelistProcessor(whitelist=["keep.me"])

    def shape(events: Any) -> Any:
        return [{"statement": e["name"], "actor": e["context"]["user_id"]} for e in events]

    events = [fixed_event(name="keep.me"), fixed_event(name="drop.me"), fixed_event(name="keep.me")]
    result: Any = events
    outcomes = []
    for processor in (whitelist, shape):
        out = h.outcome(processor, result)
        outcomes.append(out)
        if "raised" in out:
            break
        result = processor(result)
    return {"outcomes": outcomes}


@scenario()
def whitelist_in_routing(h: Harness) -> dict[str, Any]:
    """NameWhitelistProcessor in a routing node: listed names pass, others are dropped."""
    processor = NameWhitelistProcessor(whitelist=["edx.a", "edx.b"])
    events = [fixed_event(name=n) for n in ("edx.a", "edx.c", "edx.b", "edx.a.sub")]
    return {"received": names(_route(h, [processor], *events))}


@scenario()
def whitelist_list_of_events(h: Harness) -> dict[str, Any]:
    """NameWhitelistProcessor called with a list (ERB batching): the filtered list comes back."""
    processor = NameWhitelistProcessor(whitelist=["edx.a"])
    events = [fixed_event(name="edx.a"), fixed_event(name="edx.b"), fixed_event(name="edx.a", data={"n": 2})]
    out = h.outcome(processor, events)
    identity = None
    if "returned" in out:
        result = processor(events)
        identity = [r is events[0] for r in result[:1]]
    return {"outcome": out, "first_is_input_object": identity}


@scenario()
def whitelist_list_none_pass(h: Harness) -> dict[str, Any]:
    """NameWhitelistProcessor with a list where no event is listed, and with an empty list."""
    processor = NameWhitelistProcessor(whitelist=["edx.a"])
    return {
        "none_listed": h.outcome(processor, [fixed_event(name="edx.z")]),
        "empty": h.outcome(processor, []),
    }


@scenario()
def whitelist_direct_single(h: Harness) -> dict[str, Any]:
    """NameWhitelistProcessor called directly with one event: returned as is, or dropped with
    the EventEmissionExit that `except` clauses written for upstream catch."""
    processor = NameWhitelistProcessor(whitelist=["edx.a"])
    event = fixed_event(name="edx.a")
    caught = False
    try:
        processor(fixed_event(name="edx.b"))
    except EventEmissionExit:
        caught = True
    return {
        "listed": h.outcome(processor, event),
        "listed_is_input": processor(event) is event,
        "unlisted": h.outcome(processor, fixed_event(name="edx.b")),
        "caught_as_EventEmissionExit": caught,
    }


@scenario()
def whitelist_collection_types(h: Harness) -> dict[str, Any]:
    """The whitelist as a set, a tuple, a generator, a dict (its keys) and an empty list."""
    event = fixed_event(name="edx.a")
    makers: dict[str, Any] = {
        "set": lambda: {"edx.a"},
        "tuple": lambda: ("edx.a",),
        "generator": lambda: (n for n in ["edx.a"]),
        "dict": lambda: {"edx.a": 1},
        "empty_list": lambda: [],
    }
    out = {}
    for label, make in makers.items():
        made = h.outcome(NameWhitelistProcessor, whitelist=make())
        out[label] = made if "raised" in made else h.outcome(NameWhitelistProcessor(whitelist=make()), event)
    return out


@scenario()
def whitelist_none(h: Harness) -> dict[str, Any]:
    """NameWhitelistProcessor(whitelist=None), and with no argument at all."""
    return {
        "none": h.outcome(NameWhitelistProcessor, whitelist=None, message=False),
        "missing": h.outcome(NameWhitelistProcessor, message=False),
        "caught_as_TypeError": _raises(TypeError, NameWhitelistProcessor, whitelist=None),
    }


@scenario()
def whitelist_string(h: Harness) -> dict[str, Any]:
    """NameWhitelistProcessor(whitelist='edx.a') (a string, not a collection of names)."""
    return {
        "outcome": h.outcome(NameWhitelistProcessor, whitelist="edx.a", message=False),
        "caught_as_TypeError": _raises(TypeError, NameWhitelistProcessor, whitelist="edx.a"),
    }


@scenario()
def whitelist_number(h: Harness) -> dict[str, Any]:
    """NameWhitelistProcessor(whitelist=5)."""
    return {
        "outcome": h.outcome(NameWhitelistProcessor, whitelist=5, message=False),
        "caught_as_TypeError": _raises(TypeError, NameWhitelistProcessor, whitelist=5),
    }


@scenario()
def whitelist_unknown_options(h: Harness) -> dict[str, Any]:
    """NameWhitelistProcessor with options it does not know (settings carry extra keys)."""
    made = h.outcome(NameWhitelistProcessor, whitelist=["edx.a"], backend_name="x", extra=1)
    return {"outcome": made}


def _raises(exc_type: type[BaseException], func: Any, *args: Any, **kwargs: Any) -> bool | str:
    try:
        func(*args, **kwargs)
    except exc_type:
        return True
    except Exception as exc:
        return f"other: {type(exc).__name__}"
    return False


@scenario()
def regex_allowlist(h: Harness) -> dict[str, Any]:
    """RegexFilter allowlist: names matching any expression (re.match, anchored at the start) pass."""
    processor = RegexFilter(filter_type="allowlist", regular_expressions=[r"edx\.video\.", r"problem_.*"])
    events = [fixed_event(name=n) for n in ("edx.video.play", "video.edx.video.x", "problem_check", "edx.problem_x")]
    return {"received": names(_route(h, [processor], *events))}


@scenario()
def regex_blocklist(h: Harness) -> dict[str, Any]:
    """RegexFilter blocklist: names matching an expression are dropped, others pass."""
    processor = RegexFilter(filter_type="blocklist", regular_expressions=[r"^edx\.ui\.", r"heartbeat$"])
    events = [fixed_event(name=n) for n in ("edx.ui.click", "edx.server.heartbeat", "edx.grade", "heartbeat.x")]
    return {"received": names(_route(h, [processor], *events))}


@scenario()
def regex_defaults(h: Harness) -> dict[str, Any]:
    """RegexFilter() with no arguments (an allowlist of nothing), and a blocklist of nothing."""
    return {
        "default": names(_route(h, [RegexFilter()], fixed_event())),
        "empty_blocklist": names(_route(h, [RegexFilter(filter_type="blocklist")], fixed_event())),
        "filter_type": RegexFilter().filter_type,
    }


@scenario()
def regex_direct_call(h: Harness) -> dict[str, Any]:
    """RegexFilter called directly: returns the event itself, or raises EventEmissionExit."""
    processor = RegexFilter(filter_type="allowlist", regular_expressions=["edx"])
    event = fixed_event(name="edx.x")
    return {
        "match": h.outcome(processor, event),
        "match_is_input": processor(event) is event,
        "no_match": h.outcome(processor, fixed_event(name="other")),
    }


@scenario()
def regex_list_of_events(h: Harness) -> dict[str, Any]:
    """RegexFilter called with a list of events (what ERB's routers do with the whitelist)."""
    processor = RegexFilter(filter_type="allowlist", regular_expressions=["edx"])
    return {"outcome": h.outcome(processor, [fixed_event(name="edx.a"), fixed_event(name="other")], message=False)}


@scenario()
def regex_bad_filter_type(h: Harness) -> dict[str, Any]:
    """RegexFilter(filter_type='whitelist'): the error type (eventtracking.exceptions')."""
    return {
        "outcome": h.outcome(RegexFilter, filter_type="whitelist", regular_expressions=["x"], message=False),
        "caught_as_ImproperlyConfigured": _raises(ImproperlyConfigured, RegexFilter, filter_type="whitelist"),
    }


@scenario()
def regex_bad_expression(h: Harness) -> dict[str, Any]:
    """RegexFilter with an invalid regular expression, and with a non-string one."""
    return {
        "invalid": h.outcome(RegexFilter, regular_expressions=["edx.(unclosed"], message=False),
        "caught_as_ImproperlyConfigured": _raises(ImproperlyConfigured, RegexFilter, regular_expressions=["("]),
        "number": h.outcome(RegexFilter, regular_expressions=[5], message=False),
    }


@scenario()
def regex_name_not_a_string(h: Harness) -> dict[str, Any]:
    """A RegexFilter in a routing node given an event whose name is None (send() with a dict)."""
    processor = RegexFilter(filter_type="blocklist", regular_expressions=["x"])
    return {"received": _route(h, [processor], fixed_event(name=None))}
