"""Named contexts kept in the OpenTelemetry Context (contextvars), projected to baggage and spans.

Each ``enter`` attaches a new OTel Context holding an immutable :class:`ContextStack`, so contexts
are isolated per thread and per asyncio task, travel with ``contextvars.copy_context()`` and with
any OTel context propagation, and cost one dict lookup to read at emit time.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from opentelemetry import baggage, trace
from opentelemetry import context as otel_context

from . import _otel
from .event import snapshot
from .stats import SummaryLog

log = logging.getLogger(__name__)
_summary = SummaryLog(log)

STACK_KEY = otel_context.create_key("otel_eventtracking.contexts")
# W3C baggage limits: 4096 bytes per entry, 180 entries, 8192 bytes per header.
BAGGAGE_MAX_ENTRY = 4096
BAGGAGE_MAX_ENTRIES = 180
_SCALARS = (str, bool, int, float)


@dataclass(frozen=True)
class Projection:
    """Where context values are copied besides the stack.

    ``baggage_keys``: the allow-list of keys whose scalar values become W3C baggage (and so leave
    the process in outgoing requests); empty by default. ``span_attributes``: set context values
    on the span active at enter time, keys prefixed with ``span_attribute_prefix``.
    """

    baggage_keys: frozenset[str] = frozenset()
    span_attributes: bool = True
    span_attribute_prefix: str = ""


class _Frame:
    __slots__ = ("attached", "name", "token", "values")

    def __init__(self, name: str, values: dict[str, Any]) -> None:
        self.name = name
        self.values = values
        self.token: object = None
        self.attached: otel_context.Context | None = None


class ContextStack:
    """An immutable ordered set of named contexts and their merge (later contexts win)."""

    __slots__ = ("frames", "merged")

    def __init__(self, frames: tuple[_Frame, ...]) -> None:
        self.frames = frames
        merged: dict[str, Any] = {}
        for frame in frames:
            merged.update(frame.values)
        self.merged = merged

    def find(self, name: str) -> _Frame | None:
        for frame in self.frames:
            if frame.name == name:
                return frame
        return None

    def as_ordered_dict(self) -> OrderedDict[str, dict[str, Any]]:
        return OrderedDict((f.name, dict(f.values)) for f in self.frames)


EMPTY_STACK = ContextStack(())


def stack_in(ctx: otel_context.Context) -> ContextStack:
    """The context stack stored in an OTel Context (empty when none was entered)."""
    stack = ctx.get(STACK_KEY)
    return stack if isinstance(stack, ContextStack) else EMPTY_STACK


def current_stack() -> ContextStack:
    return stack_in(_otel.current_context())


def _as_values(name: str, ctx: Any) -> dict[str, Any]:
    if isinstance(ctx, Mapping):
        return snapshot(dict(ctx))
    if isinstance(ctx, Iterable) and not isinstance(ctx, str | bytes):
        try:
            return snapshot(dict(ctx))
        except (TypeError, ValueError):
            pass
    raise TypeError(
        f"context {name!r} must be a mapping of keys to values (e.g. {{'user_id': 42}}), got {type(ctx).__name__}"
    )


def _baggage_value(key: str, value: Any) -> str | None:
    if value is None or not isinstance(value, _SCALARS):
        return None
    text = str(value).lower() if isinstance(value, bool) else str(value)
    if len(key) + len(text.encode()) + 1 > BAGGAGE_MAX_ENTRY:
        _summary.report(
            f"baggage-size:{key}",
            1,
            "context key %r not sent as baggage: the W3C limit is %d bytes per entry",
            key,
            BAGGAGE_MAX_ENTRY,
        )
        return None
    return text


def _span_value(value: Any) -> Any:
    if isinstance(value, _SCALARS):
        return value
    if (
        isinstance(value, list | tuple)
        and value
        and isinstance(value[0], _SCALARS)
        and all(type(v) is type(value[0]) for v in value)
    ):
        return tuple(value)
    return str(value)


def _project_to_span(values: Mapping[str, Any], projection: Projection) -> None:
    span = trace.get_current_span()
    if not span.is_recording():
        return
    prefix = projection.span_attribute_prefix
    span.set_attributes({f"{prefix}{k}": _span_value(v) for k, v in values.items() if v is not None})


def _set_baggage(
    ctx: otel_context.Context, keys: Iterable[str], merged: Mapping[str, Any], projection: Projection
) -> otel_context.Context:
    for key in keys:
        if key not in projection.baggage_keys:
            continue
        text = _baggage_value(key, merged.get(key))
        if text is None:
            ctx = baggage.remove_baggage(key, ctx)
        elif len(baggage.get_all(ctx)) < BAGGAGE_MAX_ENTRIES or baggage.get_baggage(key, ctx) is not None:
            ctx = baggage.set_baggage(key, text, ctx)
        else:
            _summary.report("baggage-count", 1, "baggage full (%d entries): %r not sent", BAGGAGE_MAX_ENTRIES, key)
    return ctx


def enter(name: str, ctx: Any, projection: Projection) -> None:
    """Enter (or replace, keeping its position) the context called ``name``."""
    values = _as_values(name, ctx)
    current = _otel.current_context()
    stack = stack_in(current)
    frame = _Frame(name, values)
    if stack.find(name) is not None:
        frames = tuple(frame if f.name == name else f for f in stack.frames)
    else:
        frames = (*stack.frames, frame)
    new_stack = ContextStack(frames)
    new_ctx = otel_context.set_value(STACK_KEY, new_stack, current)
    if projection.baggage_keys:
        new_ctx = _set_baggage(new_ctx, values, new_stack.merged, projection)
    frame.attached = new_ctx
    frame.token = otel_context.attach(new_ctx)
    if projection.span_attributes and values:
        _project_to_span(values, projection)


def exit(name: str, projection: Projection) -> None:
    """Remove the context called ``name``; KeyError when it was never entered (as upstream)."""
    current = _otel.current_context()
    stack = stack_in(current)
    frame = stack.find(name)
    if frame is None:
        raise KeyError(name)
    # Strictly nested use (context(), middleware): undo our own attach, restoring the exact state.
    if stack.frames[-1] is frame and frame.attached is current and _otel.reset_token(frame.token):
        frame.attached = None
        stack = current_stack()
        if stack.find(name) is None:
            return
        current = _otel.current_context()
    # Out-of-order exit, or the name was re-entered: attach a context without it.
    removed = stack.find(name)
    assert removed is not None
    new_stack = ContextStack(tuple(f for f in stack.frames if f.name != name))
    new_ctx = otel_context.set_value(STACK_KEY, new_stack, current)
    if projection.baggage_keys:
        new_ctx = _set_baggage(new_ctx, removed.values, new_stack.merged, projection)
    removed.attached = None
    otel_context.attach(new_ctx)


class OTelContextLocator:
    """The default context locator: contexts live in the OpenTelemetry Context.

    ``get()`` returns a snapshot ``OrderedDict`` of name -> context for the current thread/task;
    changing that snapshot has no effect (use ``enter_context``/``exit_context``).
    """

    def get(self) -> OrderedDict[str, dict[str, Any]]:
        return current_stack().as_ordered_dict()
