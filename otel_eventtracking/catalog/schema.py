"""Derive a JSON Schema for ``data`` from a TypedDict or a dataclass, so a type is declared once.

The schema describes the JSON the exporters write (``otel_eventtracking.records``): datetimes
are ISO 8601 strings, tuples and sets arrays, Decimal and UUID strings, enums their values.
``Annotated[T, "text"]`` adds a description, ``Annotated[T, {"minimum": 0}]`` extra keywords;
a dataclass field's ``metadata`` may hold ``description`` and ``schema`` the same way.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import decimal
import enum
import types
import typing
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from ..exceptions import ImproperlyConfigured

JSONSchema = dict[str, Any]

_SCALARS: dict[Any, JSONSchema] = {
    str: {"type": "string"},
    bool: {"type": "boolean"},
    int: {"type": "integer"},
    float: {"type": "number"},
    type(None): {"type": "null"},
    _dt.datetime: {"type": "string", "format": "date-time"},
    _dt.date: {"type": "string", "format": "date"},
    _dt.time: {"type": "string", "format": "time"},
    _dt.timedelta: {"type": "string"},
    uuid.UUID: {"type": "string", "format": "uuid"},
    decimal.Decimal: {"type": "string"},
    bytes: {"type": "string", "contentEncoding": "base64"},
}
_ARRAYS = (list, tuple, set, frozenset, Sequence, typing.Sequence, typing.List, typing.Set)  # noqa: UP006
_MAPPINGS = (dict, Mapping, typing.Mapping, typing.Dict)  # noqa: UP006
# TypedDict key qualifiers: they say whether a key is required, not what its value is.
_QUALIFIERS = tuple(q for q in (typing.Required, typing.NotRequired, getattr(typing, "ReadOnly", None)) if q)


def is_typeddict(tp: object) -> bool:
    """True for a TypedDict class (typing's or typing_extensions')."""
    return isinstance(tp, type) and issubclass(tp, dict) and hasattr(tp, "__required_keys__")


def is_dataclass_type(tp: object) -> bool:
    """True for a dataclass class (not an instance)."""
    return isinstance(tp, type) and dataclasses.is_dataclass(tp)


def class_description(tp: type) -> str:
    """The class docstring, first paragraph, or "" (dataclasses' generated signature doc is ignored)."""
    doc = tp.__doc__ or ""
    if not doc or doc.startswith(f"{tp.__name__}("):
        return ""
    return " ".join(doc.strip().split("\n\n")[0].split())


def schema_for_type(tp: type) -> JSONSchema:
    """The JSON Schema of a TypedDict or dataclass used as an event's ``data``."""
    if not (is_typeddict(tp) or is_dataclass_type(tp)):
        raise ImproperlyConfigured(
            f"cannot derive a schema from {tp!r}: give a TypedDict or a dataclass, or pass schema={{...}} "
            "(a JSON Schema dict) instead"
        )
    head: JSONSchema = {"$schema": "https://json-schema.org/draft/2020-12/schema"}
    description = class_description(tp)
    if description:
        head["description"] = description
    return {**head, **_Deriver().object_schema(tp)}


class _Deriver:
    """One derivation: remembers the classes being expanded to refuse recursive types clearly."""

    def __init__(self) -> None:
        self._expanding: list[type] = []

    def object_schema(self, tp: type) -> JSONSchema:
        if tp in self._expanding:
            chain = " -> ".join(t.__name__ for t in [*self._expanding, tp])
            raise ImproperlyConfigured(f"recursive type {chain}: give an explicit JSON Schema with schema={{...}}")
        self._expanding.append(tp)
        try:
            try:
                hints = typing.get_type_hints(tp, include_extras=True)
            except NameError as exc:
                raise ImproperlyConfigured(
                    f"cannot resolve the annotations of {tp.__qualname__} ({exc}): define the types it uses at "
                    "module level, where they can be looked up"
                ) from None
            properties: dict[str, JSONSchema] = {}
            required: list[str] = []
            if is_typeddict(tp):
                required_keys = tp.__required_keys__  # type: ignore[attr-defined]
                for key, hint in hints.items():
                    properties[key] = self.schema(hint, f"{tp.__name__}.{key}")
                    # With postponed annotations Python < 3.14 cannot see NotRequired/Required when
                    # the class is made, so __required_keys__ is wrong for them: trust the hint.
                    qualifier = typing.get_origin(hint)
                    if qualifier is typing.Required or (key in required_keys and qualifier is not typing.NotRequired):
                        required.append(key)
            else:
                for field in dataclasses.fields(tp):
                    prop = self.schema(hints.get(field.name, Any), f"{tp.__name__}.{field.name}")
                    prop.update(_field_metadata(field))
                    properties[field.name] = prop
                    no_default = field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING
                    if no_default:
                        required.append(field.name)
        finally:
            self._expanding.pop()
        out: JSONSchema = {"type": "object", "properties": properties}
        if required:
            out["required"] = required
        out["additionalProperties"] = False
        return out

    def schema(self, hint: Any, where: str) -> JSONSchema:
        origin = typing.get_origin(hint)
        args = typing.get_args(hint)
        if origin is typing.Annotated:
            out = self.schema(args[0], where)
            for extra in args[1:]:
                if isinstance(extra, str):
                    out["description"] = extra
                elif isinstance(extra, Mapping):
                    out.update(extra)
            return out
        if hint is Any or hint is object:
            return {}
        if origin in _QUALIFIERS:
            return self.schema(args[0], where)
        if hint in _SCALARS:
            return dict(_SCALARS[hint])
        if isinstance(hint, type) and issubclass(hint, enum.Enum):
            return {"enum": [member.value for member in hint]}
        if is_typeddict(hint) or is_dataclass_type(hint):
            return self.object_schema(hint)
        if origin is typing.Literal:
            return {"enum": list(args)}
        if origin is typing.Union or origin is types.UnionType:
            return _union([self.schema(arg, where) for arg in args])
        if origin is tuple and args and args[-1] is not Ellipsis:
            items = [self.schema(arg, f"{where}[{i}]") for i, arg in enumerate(args)]
            return {"type": "array", "prefixItems": items, "minItems": len(items), "maxItems": len(items)}
        if hint in _ARRAYS or origin in _ARRAYS:
            return {"type": "array", "items": self.schema(args[0], f"{where}[]")} if args else {"type": "array"}
        if hint in _MAPPINGS or origin in _MAPPINGS:
            if len(args) == 2:
                return {"type": "object", "additionalProperties": self.schema(args[1], f"{where}.*")}
            return {"type": "object"}
        if isinstance(hint, type) and issubclass(hint, str | int | float):
            return self.schema(next(t for t in (bool, int, float, str) if issubclass(hint, t)), where)
        raise ImproperlyConfigured(
            f"{where}: no JSON Schema for type {hint!r}; use a JSON type (str, int, float, bool, None, list, dict, "
            "TypedDict, dataclass, Literal, Enum, datetime...) or give schema={...} explicitly"
        )


def _field_metadata(field: dataclasses.Field[Any]) -> JSONSchema:
    out: JSONSchema = {}
    meta = field.metadata
    if isinstance(meta.get("schema"), Mapping):
        out.update(meta["schema"])
    if isinstance(meta.get("description"), str):
        out["description"] = meta["description"]
    return out


def _union(options: list[JSONSchema]) -> JSONSchema:
    # Plain types merge into one "type" list (["string", "null"]); anything richer needs anyOf.
    if all(set(o) == {"type"} and isinstance(o["type"], str) for o in options):
        kinds = list(dict.fromkeys(o["type"] for o in options))
        return {"type": kinds[0] if len(kinds) == 1 else kinds}
    return {"anyOf": options}
