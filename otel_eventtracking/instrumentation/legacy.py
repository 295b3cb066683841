"""``LegacyEventTrackingInstrumentor``: events of a real installed ``event-tracking`` as OTel log records.

When the real package is installed (and the compat shim is therefore off), it wraps
``eventtracking.tracker.Tracker.emit`` with wrapt. Each call first hands a snapshot of the
event to a batching node and then runs the original ``emit`` untouched, so the package's own
processors and backends see exactly what they saw before. On the request thread that costs
one small object and a queue append; the log record is built and emitted in the node's worker,
on the ``logger_provider`` given to ``instrument()`` (default: the global one; nothing is
queued while no SDK provider is installed).

The record is the event as the application emitted it: its name, the upstream tracker's clock
(``eventtracking.tracker.datetime``, so patched clocks apply), ``data`` as body, and as
attributes the upstream tracker's resolved context over the contexts entered on the OTel
Context (e.g. this library's ``edx.request``); the trace and span ids are those active at emit.
The upstream tracker's processors do not apply to it: filter on the OTel side if needed.
"""

from __future__ import annotations

import datetime as _dt
import importlib
import logging
from collections.abc import Callable
from types import ModuleType
from typing import Any

import wrapt

from ..core.context import DEFAULT_LOCATOR
from ..core.event import UNKNOWN_EVENT_TYPE, Event, datetime_to_ns, snapshot
from ..otel import _sdk
from ..otel.log_records import LogRecordBackend
from ..pipeline.stats import SummaryLog
from .base import SafeInstrumentor

log = logging.getLogger(__name__)
_summary = SummaryLog(log)


def _arguments(name: Any = None, data: Any = None) -> tuple[Any, Any]:
    return name, data


class LegacyEventTrackingInstrumentor(SafeInstrumentor):
    """Bridges a real ``event-tracking`` installation into OpenTelemetry (see module docs).

    ``instrument(logger_provider=None)``; ``flush(timeout)`` delivers what was bridged so far.
    """

    dependencies = ("event-tracking >= 4.0, < 5",)

    def __init__(self) -> None:
        if not hasattr(self, "_node"):  # BaseInstrumentor is a singleton: __init__ runs again
            self._node: LogRecordBackend | None = None
            self._module: ModuleType | None = None

    def instrument_safely(self, **kwargs: Any) -> None:
        from .. import compat

        if compat.is_installed() or not compat.real_package_installed():
            log.debug("the real event-tracking package is not installed: nothing to bridge")
            return
        module = importlib.import_module("eventtracking.tracker")
        if module.Tracker.__module__.startswith("otel_eventtracking"):
            return  # the shim: its events are already log records
        self._node = LogRecordBackend(kwargs.get("logger_provider"))
        self._module = module
        wrapt.wrap_function_wrapper(module, "Tracker.emit", self._emit)

    def uninstrument_safely(self, **kwargs: Any) -> None:
        from opentelemetry.instrumentation.utils import unwrap

        module, node = self._module, self._node
        self._module = self._node = None
        if module is not None:
            unwrap(module.Tracker, "emit")
        if node is not None:
            node.shutdown(timeout=10)

    def flush(self, timeout: float | None = None) -> bool:
        """Deliver every bridged event to the LoggerProvider; False if some were lost."""
        return self._node.force_flush(timeout) if self._node is not None else True

    def _now_ns(self) -> int:
        module = self._module
        clock = getattr(module, "datetime", _dt.datetime)
        return datetime_to_ns(clock.now(getattr(module, "UTC", _dt.UTC)))

    def _capture(self, legacy_tracker: Any, name: Any, data: Any) -> Event:
        context = legacy_tracker.resolve_context()
        ours = DEFAULT_LOCATOR.stack().merged
        if ours:
            context = {**ours, **context}
        return Event(
            str(name) if name else UNKNOWN_EVENT_TYPE,
            self._now_ns(),
            snapshot(context),
            snapshot(data) if data else {},
            _sdk.current_context().get(_sdk.SPAN_KEY),
        )

    def _emit(self, wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any) -> Any:
        node = self._node
        if node is not None:
            try:
                node.accept(self._capture(instance, *_arguments(*args, **kwargs)))
            except Exception:
                _summary.report("capture", 1, "event not bridged to OpenTelemetry", exc_info=True)
        return wrapped(*args, **kwargs)
