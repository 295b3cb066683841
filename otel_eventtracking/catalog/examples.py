"""What the catalog shows beside a schema: the defaults of a dataclass, a readable summary of each
field's constraints, and an example payload generated from the schema (checked against it).

The example prefers what the declaration says (``examples``, ``default``, ``const``, ``enum``,
dataclass defaults), then values that satisfy the type, bounds, lengths, formats and patterns.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping
from typing import Any

from .registry import EventType, compile_validator

_MAX_DEPTH = 8
_FORMATS = {
    "date-time": "2026-01-02T03:04:05+00:00",
    "date": "2026-01-02",
    "time": "03:04:05+00:00",
    "uuid": "123e4567-e89b-42d3-a456-426614174000",
    "email": "learner@example.com",
    "uri": "https://example.com/",
    "hostname": "example.com",
    "ipv4": "192.0.2.1",
    "ipv6": "2001:db8::1",
}
# Open edX names whose values have a recognisable shape; anything else is "text".
_NAMED = {
    "course_id": "course-v1:edX+DemoX+2026",
    "course_key": "course-v1:edX+DemoX+2026",
    "org_id": "edX",
    "username": "learner42",
    "user_id": 42,
    "video_id": "intro-video",
    "problem_id": "problem-7",
    "block_id": "block-v1:edX+DemoX+2026+type@problem+block@7",
    "url": "https://example.com/",
    "path": "/courses/",
    "language": "en",
}


def dataclass_defaults(event_type: EventType[...]) -> dict[str, Any]:
    """The defaults of the event's dataclass fields, as JSON values (a factory is called once)."""
    data_type = event_type.data_type
    if data_type is None or not dataclasses.is_dataclass(data_type):
        return {}
    out: dict[str, Any] = {}
    for f in dataclasses.fields(data_type):
        if f.default is not dataclasses.MISSING:
            value = f.default
        elif f.default_factory is not dataclasses.MISSING:
            try:
                value = f.default_factory()
            except Exception:  # a factory with side effects or needs: show nothing rather than fail
                continue
        else:
            continue
        out[f.name] = json.loads(json.dumps(value, default=str))
    return out


def _number(value: float) -> str:
    return json.dumps(value)


def constraints(schema: Mapping[str, Any], depth: int = 0) -> list[str]:
    """The constraints of one field in words: ``≥ 0``, ``> 0``, ``length ≤ 200``, ``pattern ^a``..."""
    out = []
    bounds = (("minimum", "≥"), ("exclusiveMinimum", ">"), ("maximum", "≤"), ("exclusiveMaximum", "<"))
    out += [f"{sign} {_number(schema[key])}" for key, sign in bounds if isinstance(schema.get(key), int | float)]
    if isinstance(schema.get("multipleOf"), int | float):
        out.append(f"multiple of {_number(schema['multipleOf'])}")
    for what, low, high in (("length", "minLength", "maxLength"), ("items", "minItems", "maxItems")):
        lo, hi = schema.get(low), schema.get(high)
        if isinstance(lo, int) and isinstance(hi, int):
            out.append(f"{what} {lo}" if lo == hi else f"{what} {lo}\N{EN DASH}{hi}")
        elif isinstance(lo, int):
            out.append(f"{what} ≥ {lo}")
        elif isinstance(hi, int):
            out.append(f"{what} ≤ {hi}")
    if schema.get("uniqueItems") is True:
        out.append("unique items")
    if isinstance(schema.get("pattern"), str):
        out.append(f"pattern {schema['pattern']}")
    if schema.get("additionalProperties") is False and isinstance(schema.get("properties"), Mapping):
        out.append("no other keys")
    items = schema.get("items")
    if isinstance(items, Mapping) and not isinstance(items.get("properties"), Mapping) and depth < _MAX_DEPTH:
        out += [f"each item {c}" for c in constraints(items, depth + 1)]
    return out


# -- strings matching a pattern ------------------------------------------------------------------
def pattern_example(pattern: str) -> str | None:
    """A short string that ``re.search(pattern, ...)`` accepts, or None when the pattern is beyond
    this small generator (lookarounds, backreferences)."""
    try:
        from re import _parser as parser  # type: ignore[attr-defined]  # the stdlib's own regex parser

        tree = parser.parse(pattern)
        text = _emit(tree, 0)
    except Exception:
        return None
    return text if re.search(pattern, text) else None


def _emit(items: Any, depth: int) -> str:
    if depth > 20:
        raise ValueError("pattern too deep")
    out = []
    for op, arg in items:
        name = str(op)
        if name == "LITERAL":
            out.append(chr(arg))
        elif name == "NOT_LITERAL":
            out.append("a" if chr(arg) != "a" else "b")
        elif name == "ANY":
            out.append("a")
        elif name == "IN":
            out.append(_class_member(arg))
        elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            low, high, sub = arg
            out.append(_emit(sub, depth + 1) * min(max(low, 1), high))
        elif name == "SUBPATTERN":
            out.append(_emit(arg[-1], depth + 1))
        elif name == "ATOMIC_GROUP":
            out.append(_emit(arg, depth + 1))
        elif name == "BRANCH":
            out.append(_emit(arg[1][0], depth + 1))
        elif name == "AT":
            continue
        else:
            raise ValueError(f"unsupported regex construct {name}")
    return "".join(out)


def _class_member(items: Any) -> str:
    negate = False
    for op, arg in items:
        name = str(op)
        if name == "NEGATE":
            negate = True
        elif negate:
            break
        elif name == "LITERAL":
            return chr(arg)
        elif name == "RANGE":
            return chr(arg[0])
        elif name == "CATEGORY":
            return {"CATEGORY_DIGIT": "0", "CATEGORY_SPACE": " "}.get(str(arg), "a")
    if negate:
        excluded = {chr(arg) for op, arg in items if str(op) == "LITERAL"}
        return next(c for c in "az0_-" if c not in excluded)
    raise ValueError("empty character class")


# -- example payloads ----------------------------------------------------------------------------
class _Generator:
    def __init__(self, root: Mapping[str, Any]) -> None:
        self.root = root

    def resolve(self, schema: Mapping[str, Any]) -> Mapping[str, Any]:
        for _ in range(_MAX_DEPTH):
            ref = schema.get("$ref")
            if not isinstance(ref, str) or not ref.startswith("#"):
                break
            target: Any = self.root
            for part in (p for p in ref[1:].split("/") if p):
                target = target.get(part.replace("~1", "/").replace("~0", "~")) if isinstance(target, Mapping) else None
            if not isinstance(target, Mapping):
                break
            schema = target
        return schema

    def value(self, schema: Any, key: str, depth: int, full: bool) -> Any:
        if not isinstance(schema, Mapping) or depth > _MAX_DEPTH:
            return None
        schema = self.resolve(schema)
        if "const" in schema:
            return schema["const"]
        if isinstance(schema.get("examples"), list) and schema["examples"]:
            return schema["examples"][0]
        if "default" in schema:
            return schema["default"]
        if isinstance(schema.get("enum"), list) and schema["enum"]:
            return schema["enum"][0]
        for word in ("anyOf", "oneOf"):
            if isinstance(schema.get(word), list) and schema[word]:
                options = [o for o in schema[word] if not (isinstance(o, Mapping) and o.get("type") == "null")]
                return self.value((options or schema[word])[0], key, depth + 1, full)
        if isinstance(schema.get("allOf"), list):
            merged: dict[str, Any] = {}
            for part in schema["allOf"]:
                if isinstance(part, Mapping):
                    merged.update(self.resolve(part))
            return self.value({**merged, **{k: v for k, v in schema.items() if k != "allOf"}}, key, depth + 1, full)
        kind = schema.get("type")
        if isinstance(kind, list):
            kind = next((k for k in kind if k != "null"), "null" if kind else None)
        if kind is None:
            kind = "object" if "properties" in schema else "string" if "pattern" in schema else None
        return self.typed(kind, schema, key, depth, full)

    def typed(self, kind: Any, schema: Mapping[str, Any], key: str, depth: int, full: bool) -> Any:
        if kind == "object":
            return self.object(schema, depth, full)
        if kind == "array":
            return self.array(schema, key, depth, full)
        if kind in ("integer", "number"):
            return self.number(kind, schema, key)
        if kind == "string":
            return self.string(schema, key)
        if kind == "boolean":
            return True
        return None

    def object(self, schema: Mapping[str, Any], depth: int, full: bool) -> dict[str, Any]:
        properties = schema.get("properties")
        listed = schema.get("required")
        required: list[Any] = listed if isinstance(listed, list) else []
        out: dict[str, Any] = {}
        if isinstance(properties, Mapping):
            for name, sub in properties.items():
                if full or name in required:
                    out[name] = self.value(sub, name, depth + 1, full)
        extra = schema.get("additionalProperties")
        if not out and isinstance(extra, Mapping) and extra:
            out["key"] = self.value(extra, "key", depth + 1, full)
        return out

    def array(self, schema: Mapping[str, Any], key: str, depth: int, full: bool) -> list[Any]:
        prefix = schema.get("prefixItems")
        if isinstance(prefix, list):
            return [self.value(s, key, depth + 1, full) for s in prefix]
        items = schema.get("items")
        if not isinstance(items, Mapping):
            return []
        count = max(1, schema.get("minItems", 1) if isinstance(schema.get("minItems"), int) else 1)
        if isinstance(schema.get("maxItems"), int):
            count = min(count, schema["maxItems"])
        item = self.value(items, key.rstrip("s"), depth + 1, full)
        return [item] * count

    def number(self, kind: str, schema: Mapping[str, Any], key: str) -> int | float:
        named = _NAMED.get(key)
        value: float = named if isinstance(named, int) else 1
        step = 1 if kind == "integer" else 0.5
        low, high = schema.get("minimum"), schema.get("maximum")
        if isinstance(schema.get("exclusiveMinimum"), int | float):
            low = schema["exclusiveMinimum"] + step
        if isinstance(schema.get("exclusiveMaximum"), int | float):
            high = schema["exclusiveMaximum"] - step
        if isinstance(low, int | float) and value < low:
            value = low
        if isinstance(high, int | float) and value > high:
            value = high
        multiple = schema.get("multipleOf")
        if isinstance(multiple, int | float) and multiple > 0:
            value = -(-value // multiple) * multiple
        if kind == "integer":
            return int(value)
        return float(value)

    def string(self, schema: Mapping[str, Any], key: str) -> str:
        fmt = schema.get("format")
        named = _NAMED.get(key)
        text = _FORMATS.get(fmt, "") if isinstance(fmt, str) else ""
        if not text:
            text = named if isinstance(named, str) else "text"
        if schema.get("contentEncoding") == "base64":
            text = "AAEC"
        pattern = schema.get("pattern")
        if isinstance(pattern, str) and not re.search(pattern, text):
            text = pattern_example(pattern) or text
        low, high = schema.get("minLength"), schema.get("maxLength")
        if isinstance(low, int) and len(text) < low:
            text = (text * (low // max(len(text), 1) + 1))[: max(low, len(text))]
        if isinstance(high, int) and len(text) > high:
            text = text[:high]
        return text


def example_payload(schema: Mapping[str, Any], defaults: Mapping[str, Any] | None = None) -> Any:
    """A ``data`` value valid against ``schema``: every documented field, else the required ones
    only; None when neither validates (the page then shows no example)."""
    if not schema:
        return {}
    generator = _Generator(schema)
    try:
        validator = compile_validator(schema, "example")
    except Exception:
        return None
    for full in (True, False):
        value = generator.value(schema, "", 0, full)
        if isinstance(value, dict) and defaults:
            value.update({k: v for k, v in defaults.items() if full or k in value})
        try:
            if validator.is_valid(value):
                return value
        except Exception:  # a $ref to nowhere: the schema compiles, yet cannot judge a value
            return None
    return None
