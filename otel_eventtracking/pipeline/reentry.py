"""When the pipeline must not wait: inside a signal handler, or re-entered on the same thread.

A Python signal handler runs in the main thread between two bytecodes of whatever it was doing,
possibly in the middle of an ``emit`` that holds a lock or waits for room in a full queue. An
``emit`` from that handler must never wait for that lock or that room: the code that would free
them is suspended under the handler, so waiting is a deadlock. The same holds when an exporter or
processor emits again from inside the pipeline (a logging bridge, a recursive backend).

Nothing here costs anything on the hot path: the check walks the stack, and it runs only where the
pipeline would otherwise wait (a contended lock, a full queue with ``on_full="block"``, a log line).
"""

from __future__ import annotations

import signal
import sys
import threading
import types
from collections.abc import Callable
from typing import Any

_entry_codes: set[types.CodeType] = set()

# The C functions under ``signal.getsignal``/``valid_signals``: the public ones turn every number and
# handler into an enum member, which made one check cost ~100 us (62 signals), paid once per wait.
try:
    from _signal import getsignal as _getsignal
    from _signal import valid_signals as _valid_signals
except ImportError:  # pragma: no cover - an interpreter without CPython's module
    _getsignal, _valid_signals = signal.getsignal, signal.valid_signals
_UNCATCHABLE = {getattr(signal, name, None) for name in ("SIGKILL", "SIGSTOP")}
_SIGNALS = tuple(sorted(int(s) for s in _valid_signals() if s not in _UNCATCHABLE))


def entry_point(func: Callable[..., Any]) -> Callable[..., Any]:
    """Mark ``func`` as a way into the pipeline that never nests legitimately (``Tracker.emit``, a
    batching node's ``accept``): twice on one thread's stack, it means the pipeline was
    re-entered there. Returns ``func`` unchanged."""
    code = getattr(func, "__code__", None)
    if isinstance(code, types.CodeType):
        _entry_codes.add(code)
    return func


def _code_of(handler: object) -> types.CodeType | None:
    for candidate in (handler, getattr(handler, "__func__", None), getattr(handler, "func", None)):
        code = getattr(candidate, "__code__", None)
        if isinstance(code, types.CodeType):
            return code
    code = getattr(type(handler).__call__, "__code__", None)  # a callable object
    return code if isinstance(code, types.CodeType) else None


def _handler_codes() -> set[types.CodeType]:
    codes: set[types.CodeType] = set()
    for signum in _SIGNALS:
        try:
            handler = _getsignal(signum)
        except (ValueError, OSError):  # pragma: no cover - a signal this platform cannot query
            continue
        if callable(handler):
            code = _code_of(handler)
            if code is not None:
                codes.add(code)
    return codes


def must_not_wait() -> bool:
    """True when the calling code runs inside a Python signal handler, or inside the pipeline a
    second time on this thread: then it must take what it can at once and never block.

    A function installed as a signal handler and also called directly is taken as a handler then
    too (the pipeline drops instead of waiting): the safe side of the doubt.
    """
    frame: types.FrameType | None = sys._getframe(1)
    handlers = _handler_codes() if threading.current_thread() is threading.main_thread() else set()
    entered: set[types.CodeType] = set()
    while frame is not None:
        code = frame.f_code
        if code in handlers:
            return True
        if code in _entry_codes:
            if code in entered:
                return True
            entered.add(code)
        frame = frame.f_back
    return False


__all__ = ["entry_point", "must_not_wait"]
