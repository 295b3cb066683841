"""Named contexts kept in the OpenTelemetry Context (contextvars), projected to baggage and spans.

Each locator keeps its contexts under a key of its own, so two trackers never see each other's
contexts. Each ``enter`` attaches a new OTel Context holding an immutable :class:`ContextStack`,
so contexts are isolated per thread and per asyncio task, travel with
``contextvars.copy_context()`` and with any OTel context propagation, and cost one dict lookup
to read at emit time. ``get()`` returns a live mapping, as upstream locators do: assigning or
deleting through it enters or exits contexts.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any

from opentelemetry import baggage, trace
from opentelemetry import context as otel_context

from ..otel import _sdk
from ..pipeline.stats import Counters, SummaryLog
from .event import snapshot

log = logging.getLogger(__name__)
_summary = SummaryLog(log)
counters = Counters()
"""``unreadable`` (contexts entered empty: reading them raised), ``projection_errors`` (values not
copied to baggage: a key or value raised)."""

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


def _as_values(name: str, ctx: Any) -> dict[str, Any]:
    if isinstance(ctx, Mapping):
        return _read(name, ctx)
    if isinstance(ctx, Iterable) and not isinstance(ctx, str | bytes):
        try:
            pairs = dict(ctx)
        except (TypeError, ValueError):
            pass
        except Exception:  # its iteration raised: unreadable, as a broken mapping is
            return _read(name, None)
        else:
            return _read(name, pairs)
    raise TypeError(
        f"context {name!r} must be a mapping of keys to values (e.g. {{'user_id': 42}}), got {type(ctx).__name__}"
    )


def _read(name: str, ctx: Mapping[str, Any] | None) -> dict[str, Any]:
    """A snapshot of the context's values; a mapping that raises when read (its iteration, a nested
    mapping's) is entered empty, counted (``unreadable``) and logged: entering never fails."""
    if ctx is not None:
        try:
            return snapshot(dict(ctx))
        except Exception:
            pass
    counters.add("unreadable")
    _summary.report(f"unreadable:{name}", 1, "context %r could not be read; entered without values", name,
                    exc_info=True)  # fmt: skip
    return {}


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
    try:
        return str(value)
    except Exception:
        return f"<unprintable {type(value).__name__}>"


def _project_to_span(values: Mapping[str, Any], projection: Projection) -> None:
    span = trace.get_current_span()
    if not span.is_recording():
        return
    prefix = projection.span_attribute_prefix
    try:
        span.set_attributes({f"{prefix}{k}": _span_value(v) for k, v in values.items() if v is not None})
    except Exception:  # a span-attribute copy must never fail the code entering the context
        _summary.report("span-attributes", 1, "context values not set as span attributes", exc_info=True)


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


def _baggage_or_not(
    ctx: otel_context.Context, keys: Iterable[str], merged: Mapping[str, Any], projection: Projection
) -> otel_context.Context:
    try:
        return _set_baggage(ctx, keys, merged, projection)
    except Exception:  # a hostile key (its __eq__ raised): no baggage for this context, never an error
        counters.add("projection_errors")
        _summary.report("baggage-error", 1, "context values not set as baggage", exc_info=True)
        return ctx


EMPTY_STACK = ContextStack(())


class OTelContextLocator:
    """Contexts on the OpenTelemetry Context, under this locator's own key.

    ``projection`` says where entered values are also copied (span attributes, allow-listed
    baggage); a tracker built with this locator sets it. ``get()`` is a live mapping of
    name -> context for the current thread/task.
    """

    def __init__(self, projection: Projection | None = None) -> None:
        self.key = otel_context.create_key("otel_eventtracking.contexts")
        self.projection = projection if projection is not None else Projection()
        self._view = LiveContexts(self)

    def stack(self, ctx: otel_context.Context | None = None) -> ContextStack:
        """The context stack in ``ctx`` (default: the current OTel Context)."""
        found = (ctx if ctx is not None else _sdk.current_context()).get(self.key)
        return found if isinstance(found, ContextStack) else EMPTY_STACK

    def get(self) -> LiveContexts:
        """The live mapping of this locator's contexts (the same object each time, as upstream)."""
        return self._view

    def enter(self, name: str, ctx: Any) -> None:
        """Enter (or replace, keeping its position) the context called ``name``."""
        values = _as_values(name, ctx)
        projection = self.projection
        current = _sdk.current_context()
        stack = self.stack(current)
        frame = _Frame(name, values)
        if stack.find(name) is not None:
            frames = tuple(frame if f.name == name else f for f in stack.frames)
        else:
            frames = (*stack.frames, frame)
        new_stack = ContextStack(frames)
        new_ctx = otel_context.set_value(self.key, new_stack, current)
        if projection.baggage_keys:
            new_ctx = _baggage_or_not(new_ctx, values, new_stack.merged, projection)
        frame.attached = new_ctx
        frame.token = otel_context.attach(new_ctx)
        if projection.span_attributes and values:
            _project_to_span(values, projection)

    def exit(self, name: str) -> None:
        """Remove the context called ``name``; KeyError when it was never entered (as upstream)."""
        current = _sdk.current_context()
        stack = self.stack(current)
        frame = stack.find(name)
        if frame is None:
            raise KeyError(name)
        # Strictly nested use (context(), middleware): undo our own attach, restoring the exact state.
        if stack.frames[-1] is frame and frame.attached is current and _sdk.reset_token(frame.token):
            frame.attached = None
            stack = self.stack()
            if stack.find(name) is None:
                return
            current = _sdk.current_context()
        # Out-of-order exit, or the name was re-entered: attach a context without it.
        removed = stack.find(name)
        assert removed is not None
        new_stack = ContextStack(tuple(f for f in stack.frames if f.name != name))
        new_ctx = otel_context.set_value(self.key, new_stack, current)
        if self.projection.baggage_keys:
            new_ctx = _baggage_or_not(new_ctx, removed.values, new_stack.merged, self.projection)
        removed.attached = None
        otel_context.attach(new_ctx)


class LiveContexts(MutableMapping[str, Any]):
    """A locator's contexts in the current thread/task, name -> values, oldest first. Live, as
    upstream's: ``contexts['x'] = {...}`` enters ``x``, ``del contexts['x']`` exits it, and
    changing a context's values (``contexts['x']['k'] = 1``) re-enters it with the change."""

    __slots__ = ("_locator",)

    def __init__(self, locator: OTelContextLocator) -> None:
        self._locator = locator

    def __getitem__(self, name: str) -> LiveValues:
        frame = self._locator.stack().find(name)
        if frame is None:
            raise KeyError(name)
        return LiveValues(self._locator, name)

    def __setitem__(self, name: str, values: Any) -> None:
        self._locator.enter(name, values)

    def __delitem__(self, name: str) -> None:
        self._locator.exit(name)

    def __iter__(self) -> Iterator[str]:
        return iter([f.name for f in self._locator.stack().frames])

    def __len__(self) -> int:
        return len(self._locator.stack().frames)

    def copy(self) -> OrderedDict[str, dict[str, Any]]:
        """A plain snapshot."""
        return self._locator.stack().as_ordered_dict()

    def __repr__(self) -> str:
        return repr(self.copy())


class LiveValues(MutableMapping[str, Any]):
    """One entered context's values; a change re-enters the context with it."""

    __slots__ = ("_locator", "_name")

    def __init__(self, locator: OTelContextLocator, name: str) -> None:
        self._locator = locator
        self._name = name

    def _values(self) -> dict[str, Any]:
        frame = self._locator.stack().find(self._name)
        if frame is None:
            raise KeyError(self._name)
        return frame.values

    def __getitem__(self, key: str) -> Any:
        return self._values()[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self._locator.enter(self._name, {**self._values(), key: value})

    def __delitem__(self, key: str) -> None:
        values = dict(self._values())
        del values[key]
        self._locator.enter(self._name, values)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._values()))

    def __len__(self) -> int:
        return len(self._values())

    def __repr__(self) -> str:
        return repr(self._values())


DEFAULT_LOCATOR = OTelContextLocator()
"""The contexts of the default tracker (``get_tracker()``): request middleware enters them, and
a tracker that replaces the default one keeps seeing them."""
