"""The canonical encoder: any value a backend or caller can see, as JSON that keeps types visible.

Both sides of the differential run encode what they observe with this module, so that a JSON
comparison is a comparison of values *and* types: a datetime is not its ISO string, a tuple is
not a list, a Decimal is not a float, a dict with an int key is not one with a str key.

Forms (anything JSON has natively stays as it is):

* ``{"$datetime": iso}``, ``{"$date": iso}``, ``{"$time": iso}``, ``{"$timedelta": seconds}``
* ``{"$float": "nan" | "inf" | "-inf"}`` for the floats JSON cannot hold
* ``{"$tuple": [...]}``, ``{"$set": [...]}`` (items sorted by their JSON), ``{"$frozenset": [...]}``
* ``{"$dict": [[key, value], ...]}`` for a dict with a key that is not a str
* ``{"$mapping": type name, "items": [[key, value], ...]}`` for a mapping that is not a plain dict
* ``{"$decimal": str}``, ``{"$uuid": str}``, ``{"$bytes": hex}``, ``{"$str": type name, "value": s}``
* ``{"$exception": name, "mro": [...], "message": str}`` (see :func:`exception`)
* ``{"$type": type name}`` for anything else (its value is not comparable across processes)
* ``{"$cycle": true}`` where a container contains itself
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import math
import uuid
from collections.abc import Mapping
from typing import Any

_MAX_DEPTH = 60


def type_name(cls: type) -> str:
    """A class name comparable across the two sides: Django's classes are prefixed with
    ``django.`` (its ``ImproperlyConfigured`` is not ``eventtracking``'s), others are bare."""
    if cls.__module__.startswith("django."):
        return f"django.{cls.__qualname__}"
    return cls.__qualname__


def exception(exc: BaseException, message: bool = True) -> dict[str, Any]:
    """An exception as ``{"$exception": name, "mro": [names], "message": str}``.

    ``mro`` lets the comparison accept a subclass of what upstream raises (an ``except`` clause
    written for upstream still catches it); ``message=False`` leaves out wording that is not a
    contract (upstream's and this library's texts differ)."""
    out: dict[str, Any] = {
        "$exception": type_name(type(exc)),
        "mro": [type_name(c) for c in type(exc).__mro__ if c not in (object, BaseException)],
    }
    if message:
        out["message"] = str(exc)
    return out


def _sort_key(item: Any) -> str:
    return json.dumps(item, sort_keys=True)


def encode(value: Any, _seen: frozenset[int] = frozenset(), _depth: int = 0) -> Any:
    """``value`` as canonical JSON-able data (see the module docstring)."""
    if value is None or value is True or value is False:
        return value
    t = type(value)
    if t is str or t is int:
        return value
    if t is float:
        if math.isfinite(value):
            return value
        return {"$float": "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")}
    if isinstance(value, BaseException):
        return exception(value)
    if isinstance(value, dt.datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, dt.date):
        return {"$date": value.isoformat()}
    if isinstance(value, dt.time):
        return {"$time": value.isoformat()}
    if isinstance(value, dt.timedelta):
        return {"$timedelta": value.total_seconds()}
    if isinstance(value, decimal.Decimal):
        return {"$decimal": str(value)}
    if isinstance(value, uuid.UUID):
        return {"$uuid": str(value)}
    if isinstance(value, bytes | bytearray):
        return {"$bytes": bytes(value).hex()}
    if isinstance(value, str):
        return {"$str": type_name(t), "value": str(value)}
    if isinstance(value, int):
        return {"$int": type_name(t), "value": int(value)}
    if isinstance(value, float):
        return {"$floatsub": type_name(t), "value": encode(float(value))}
    if id(value) in _seen or _depth > _MAX_DEPTH:
        return {"$cycle": True}
    seen = _seen | {id(value)}
    depth = _depth + 1
    if t is dict:
        if all(type(k) is str for k in value):
            return {k: encode(v, seen, depth) for k, v in value.items()}
        return {"$dict": [[encode(k, seen, depth), encode(v, seen, depth)] for k, v in value.items()]}
    if isinstance(value, Mapping):
        items = [[encode(k, seen, depth), encode(v, seen, depth)] for k, v in value.items()]
        return {"$mapping": type_name(t), "items": items}
    if t is list:
        return [encode(v, seen, depth) for v in value]
    if t is tuple:
        return {"$tuple": [encode(v, seen, depth) for v in value]}
    if t is set or t is frozenset:
        items = sorted((encode(v, seen, depth) for v in value), key=_sort_key)
        return {"$set" if t is set else "$frozenset": items}
    return {"$type": type_name(t)}
