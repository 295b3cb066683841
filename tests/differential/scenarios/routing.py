"""RoutingBackend: send / send_to_backends / process_event with plain dicts, order, nesting."""

from __future__ import annotations

from typing import Any

from eventtracking.backends.routing import RoutingBackend
from eventtracking.processors.exceptions import EventEmissionExit, NoBackendEnabled, NoTransformerImplemented

from ..harness import Harness, scenario
from ._common import add_key, fixed_event


@scenario()
def routing_send_plain_dict(h: Harness) -> dict[str, Any]:
    """send() with a complete event dict: what the backend gets, whether it is the caller's
    object, and whether the caller's dict was touched."""
    rec = h.recorder()
    event = fixed_event()
    returned = RoutingBackend(backends={"r": rec}).send(event)
    return {
        "received": rec.events,
        "returned": returned,
        "same_object_as_caller": rec.raw[0] is event,
        "caller_dict_after": event,
    }


@scenario()
def routing_send_string_timestamp(h: Harness) -> dict[str, Any]:
    """send() with a timestamp that is an ISO string (what a replayed event carries)."""
    rec = h.recorder()
    RoutingBackend(backends={"r": rec}).send(fixed_event(timestamp="2024-05-06T07:08:09.123456+00:00"))
    return {"received": rec.events}


@scenario()
def routing_send_non_str_name(h: Harness) -> dict[str, Any]:
    """send() with a name that is an int, and one that is None."""
    rec = h.recorder()
    backend = RoutingBackend(backends={"r": rec})
    backend.send(fixed_event(name=42))
    backend.send(fixed_event(name=None))
    return {"received": rec.events}


@scenario()
def routing_send_extra_keys(h: Harness) -> dict[str, Any]:
    """send() with top-level keys beyond name/timestamp/data/context (edx-platform's shape)."""
    rec = h.recorder()
    event = fixed_event(event_type="problem_check", event_source="server", page=None, time=None)
    RoutingBackend(backends={"r": rec}).send(event)
    return {"received": rec.events}


@scenario()
def routing_send_partial_dict(h: Harness) -> dict[str, Any]:
    """send() with only a name (no timestamp, data or context): delivered as given?"""
    rec = h.recorder()
    RoutingBackend(backends={"r": rec}).send({"name": "only.a.name"})
    return {"received": rec.events}


@scenario()
def routing_send_data_not_a_dict(h: Harness) -> dict[str, Any]:
    """send() with data that is a list and context that is a string."""
    rec = h.recorder()
    RoutingBackend(backends={"r": rec}).send(fixed_event(data=[1, 2, (3, 4)], context="not-a-dict"))
    return {"received": rec.events}


@scenario()
def routing_send_to_backends_no_copy(h: Harness) -> dict[str, Any]:
    """send_to_backends() skips processors; do the backends get the caller's very object?"""
    a, b = h.recorder(), h.recorder()
    event = fixed_event()
    returned = RoutingBackend(backends={"a": a, "b": b}, processors=[add_key("p", 1)]).send_to_backends(event)
    return {
        "a": a.events,
        "returned": returned,
        "a_is_caller": a.raw[0] is event,
        "a_is_b": a.raw[0] is b.raw[0],
    }


@scenario()
def routing_siblings_share_object(h: Harness) -> dict[str, Any]:
    """send(): do sibling backends receive one and the same dict?"""
    a, b = h.recorder(), h.recorder()
    RoutingBackend(backends={"a": a, "b": b}).send(fixed_event())
    return {"a": a.events, "b": b.events, "a_is_b": a.raw[0] is b.raw[0]}


@scenario()
def routing_backend_mutation_seen_by_sibling(h: Harness) -> dict[str, Any]:
    """A backend that mutates its event: does the next sibling see the change?"""

    def mutate(event: Any) -> None:
        event["data"]["touched_by_a"] = True
        event["added_by_a"] = 1

    a, b = h.recorder(mutate), h.recorder()
    RoutingBackend(backends={"a": a, "b": b}).send(fixed_event())
    return {"b": b.events}


@scenario()
def routing_backend_order(h: Harness) -> dict[str, Any]:
    """Backends given at construction are called in sorted name order; `backends` keeps it."""
    calls: list[str] = []

    class Named:
        def __init__(self, name: str) -> None:
            self.name = name

        def send(self, event: Any) -> None:
            calls.append(self.name)

    backend = RoutingBackend(backends={n: Named(n) for n in ("m", "b", "z", "a")})
    backend.send(fixed_event())
    return {"calls": calls, "backends": list(backend.backends)}


@scenario()
def routing_register_backend_later(h: Harness) -> dict[str, Any]:
    """register_backend() after construction: is the new backend called last (registration
    order) or in sorted position?"""
    calls: list[str] = []

    class Named:
        def __init__(self, name: str) -> None:
            self.name = name

        def send(self, event: Any) -> None:
            calls.append(self.name)

    backend = RoutingBackend(backends={"m": Named("m")})
    backend.register_backend("a", Named("a"))
    backend.register_processor(add_key("late", True))
    backend.send(fixed_event())
    return {"calls": calls, "backends": list(backend.backends), "processors": len(backend.processors)}


@scenario()
def routing_backend_error_isolated(h: Harness) -> dict[str, Any]:
    """A backend raising ValueError: the other backends still get the event; send() returns."""
    rec = h.recorder()
    bad = h.failing(ValueError("backend down"))
    backend = RoutingBackend(backends={"a_bad": bad, "b_rec": rec})
    outcome = h.outcome(backend.send, fixed_event())
    return {"outcome": outcome, "bad_calls": bad.calls, "received": rec.events}


@scenario()
def routing_backend_declines(h: Harness) -> dict[str, Any]:
    """Backends raising NoTransformerImplemented / NoBackendEnabled (ERB's routers do): isolated."""
    rec = h.recorder()
    backends = {
        "a": h.failing(NoTransformerImplemented("no transformer")),
        "b": h.failing(NoBackendEnabled("disabled")),
        "c": rec,
    }
    outcome = h.outcome(RoutingBackend(backends=backends).send, fixed_event())
    return {"outcome": outcome, "received": rec.events}


@scenario()
def routing_nested(h: Harness) -> dict[str, Any]:
    """Two levels: the outer processor's change reaches the inner node, the inner processor's
    change stays below it."""
    outer_rec, inner_rec = h.recorder(), h.recorder()
    inner = RoutingBackend(backends={"leaf": inner_rec}, processors=[add_key("inner", 2)])
    outer = RoutingBackend(backends={"inner": inner, "sibling": outer_rec}, processors=[add_key("outer", 1)])
    outer.send(fixed_event())
    return {"leaf": inner_rec.events, "sibling": outer_rec.events}


@scenario()
def routing_nested_three_levels_exit_in_middle(h: Harness) -> dict[str, Any]:
    """Three levels; the middle node drops the event: only the branch above it delivers."""

    def drop(event: Any) -> None:
        raise EventEmissionExit()

    top_rec, mid_rec, leaf_rec = h.recorder(), h.recorder(), h.recorder()
    leaf = RoutingBackend(backends={"r": leaf_rec})
    middle = RoutingBackend(backends={"leaf": leaf, "r": mid_rec}, processors=[drop])
    top = RoutingBackend(backends={"middle": middle, "r": top_rec})
    top.send(fixed_event())
    return {"top": len(top_rec.events), "middle": len(mid_rec.events), "leaf": len(leaf_rec.events)}


@scenario()
def routing_backend_without_send(h: Harness) -> dict[str, Any]:
    """A backend with no callable send(): the error raised at construction and at registration."""

    class NoSend:
        send = "not callable"

    return {
        "construct": h.outcome(RoutingBackend, backends={"x": NoSend()}, message=False),
        "register": h.outcome(RoutingBackend().register_backend, "x", object(), message=False),
    }


@scenario()
def routing_processor_not_callable(h: Harness) -> dict[str, Any]:
    """A processor that is not callable: the error raised at construction and registration."""
    return {
        "construct": h.outcome(RoutingBackend, processors=[5], message=False),
        "register": h.outcome(RoutingBackend().register_processor, "not callable", message=False),
    }


@scenario()
def routing_process_event_in_place(h: Harness) -> dict[str, Any]:
    """process_event() with an in-place processor: the result, and whether it is the same dict."""
    event = fixed_event()
    result = RoutingBackend(processors=[add_key("p", 1)]).process_event(event)
    return {"result": result, "result_is_input": result is event, "input_after": event}


@scenario()
def routing_process_event_no_processors(h: Harness) -> dict[str, Any]:
    """process_event() with no processors returns the input itself (a plain, partial dict)."""
    event = {"name": "x", "odd": (1, 2)}
    result = RoutingBackend().process_event(event)
    return {"result": result, "result_is_input": result is event}


@scenario()
def routing_process_event_exit(h: Harness) -> dict[str, Any]:
    """process_event() when a processor drops the event: EventEmissionExit reaches the caller."""

    def drop(event: Any) -> None:
        raise EventEmissionExit()

    out = h.outcome(RoutingBackend(processors=[drop]).process_event, fixed_event())
    caught = False
    try:
        RoutingBackend(processors=[drop]).process_event(fixed_event())
    except EventEmissionExit:
        caught = True
    return {"outcome": out, "caught_as_EventEmissionExit": caught}


@scenario()
def routing_send_leaves_caller_dict(h: Harness) -> dict[str, Any]:
    """send() with a processor mutating in place: the caller's dict stays as it was."""
    event = fixed_event()
    RoutingBackend(backends={"r": h.recorder()}, processors=[add_key("p", 1)]).send(event)
    event_data = event["data"]
    return {"caller_dict_after": event, "nested_untouched": "p" not in event_data}


@scenario()
def routing_backends_property(h: Harness) -> dict[str, Any]:
    """`backends` and `processors` of a node: types, order, identity of what was given."""
    rec = h.recorder()
    processor = add_key("p", 1)
    backend = RoutingBackend(backends={"z": h.recorder(), "r": rec}, processors=[processor])
    return {
        "backends_type": type(backend.backends).__name__,
        "backends": list(backend.backends),
        "r_is_given": backend.backends["r"] is rec,
        "processors_type": type(backend.processors).__name__,
        "processor_is_given": backend.processors[0] is processor,
    }
