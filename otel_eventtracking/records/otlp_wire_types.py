"""The plain record :mod:`.otlp_wire` encodes, its error, and the slow walk that names the value a
failed encoding stumbled on (only run after a failure)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

from ..exceptions import EventTrackingError


class WireRecord(NamedTuple):
    """One log record as plain values (the fields of OTLP ``LogRecord``; 0 / "" mean unset)."""

    time_unix_nano: int
    observed_time_unix_nano: int
    severity_number: int
    severity_text: str
    body: Any
    attributes: Mapping[str, Any]
    trace_id: int = 0
    span_id: int = 0
    flags: int = 0
    event_name: str = ""
    dropped_attributes_count: int = 0


class WireEncodeError(EventTrackingError, ValueError):
    """A record holds a value OTLP (and the SDK's encoder) cannot carry.

    ``index`` is the record's position in the batch (None outside a batch), ``event_name`` its
    name, ``path`` where the value sits (``body['a'][2]``, ``attributes['k']``, ``trace_id``).
    """

    def __init__(self, reason: str, *, path: str, index: int | None = None, event_name: Any = None) -> None:
        self.reason, self.path, self.index, self.event_name = reason, path, index, event_name
        where = f"record {index}" if index is not None else "record"
        super().__init__(f"{where} (event {event_name!r}) cannot be encoded as OTLP: {path}: {reason}")


# --- diagnosis: the slow walk that names the bad value (only run after a failure) ---------------
_BLANK = WireRecord(0, 0, 0, "", None, {})
_SCALARS = tuple(f for f in WireRecord._fields if f not in ("body", "attributes"))


def diagnose(
    record: Any,
    index: int | None,
    exc: BaseException,
    encode_record: Callable[[WireRecord], bytes],
    encode_value: Callable[[Any], bytes],
) -> WireEncodeError:
    """Find which value of ``record`` made its encoding fail, by encoding each part alone."""
    name = getattr(record, "event_name", None)
    if not isinstance(record, tuple) or len(record) != len(WireRecord._fields):
        return WireEncodeError(
            f"not a WireRecord: {type(record).__name__}", path="record", index=index, event_name=name
        )
    record = WireRecord(*record)
    found: tuple[str, BaseException] | None = None
    for field in _SCALARS:
        try:
            encode_record(_BLANK._replace(**{field: getattr(record, field)}))
        except Exception as err:
            found = (field, err)
            break
    if found is None:
        found = _find_bad(record.body, "body", encode_value)
    attrs = record.attributes
    if found is None and attrs:
        if not isinstance(attrs, Mapping):
            found = ("attributes", TypeError(f"attributes is a {type(attrs).__name__}, not a mapping"))
        else:
            for k, v in attrs.items():
                if not isinstance(k, str):
                    found = (f"attributes[{k!r}]", TypeError(f"attribute key is a {type(k).__name__}, not a str"))
                else:
                    found = _find_bad(v, f"attributes[{k!r}]", encode_value)
                if found is not None:
                    break
    path, cause = found if found is not None else ("record", exc)
    return WireEncodeError(f"{type(cause).__name__}: {cause}", path=path, index=index, event_name=name)


def _find_bad(
    value: Any, path: str, encode_value: Callable[[Any], bytes], depth: int = 0
) -> tuple[str, BaseException] | None:
    """The first (path, error) inside an AnyValue tree, or None when it encodes."""
    if depth > 200:
        return path, RecursionError("nesting deeper than 200 levels (a cycle?)")
    try:
        if isinstance(value, (bool, str, int, float, bytes)) or value is None:
            encode_value(value)
            return None
    except Exception as err:
        return path, err
    if isinstance(value, Sequence):
        return next(
            filter(None, (_find_bad(item, f"{path}[{i}]", encode_value, depth + 1) for i, item in enumerate(value))),
            None,
        )
    if isinstance(value, Mapping):
        for k, item in value.items():
            try:
                key = k if type(k) is str else str(k)
                key.encode()
            except Exception as err:
                return f"{path} key {k!r}", err
            found = _find_bad(item, f"{path}[{key!r}]", encode_value, depth + 1)
            if found is not None:
                return found
        return None
    return path, TypeError(f"{type(value).__name__} is not an OTLP AnyValue type")
