"""Write the catalog of declared event types as JSON, Markdown and one self-contained HTML page.

The output depends only on the declarations (no dates, sorted by name, paths relative to a
root), so a generated catalog can be committed and diffed.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..__about__ import VERSION
from .examples import constraints, dataclass_defaults, example_payload
from .registry import SCHEMA_KEY, EventType
from .scan import ScanResult

CATALOG_FORMAT_VERSION = 1
_MAX_REF_DEPTH = 8


@dataclass(frozen=True)
class Field:
    """One documented field of an event's data (nested fields have dotted paths, list items ``[]``)."""

    path: str
    type: str
    required: bool
    description: str
    #: The default as JSON text ("" when there is none): the schema's ``default`` or the dataclass's.
    default: str = ""
    constraints: tuple[str, ...] = ()


def slug(name: str) -> str:
    """A stable HTML/Markdown anchor for an event name."""
    return "event-" + re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def _relative(source: str, root: str | None) -> str:
    if root is None:
        return source
    path, sep, line = source.rpartition(":")
    if not sep or not line.isdigit():
        path, line = source, ""
    absolute = os.path.abspath(path)
    if os.path.exists(absolute):  # a file (not "<string>"): shown relative to root when under it
        rel = os.path.relpath(absolute, root)
        if not rel.startswith(".."):
            path = rel.replace(os.sep, "/")
    return f"{path}:{line}" if line else path


def catalog_document(
    types: Iterable[EventType[...]],
    *,
    title: str = "Event catalog",
    root: str | None = None,
    scan: ScanResult | None = None,
) -> dict[str, Any]:
    """The catalog as a JSON-ready dict; ``source`` paths (absolute, or relative to the current
    directory) are shown relative to ``root`` when under it. With ``scan``, each event lists the
    ``file:line`` of the calls that emit it (``emitted_at``)."""
    emitted: dict[str, list[str]] = {}
    if scan is not None:
        for call in scan.all_calls():
            emitted.setdefault(call.name, []).append(_relative(call.location(), root))
    events = []
    for event_type in sorted(types, key=lambda t: t.name):
        entry = event_type.as_dict()
        entry["source"] = _relative(event_type.source, root)
        entry["defaults"] = dataclass_defaults(event_type)
        entry["example"] = example_payload(event_type.schema, entry["defaults"])
        if scan is not None:
            entry["emitted_at"] = sorted(set(emitted.get(event_type.name, [])), key=_location_key)
        events.append(entry)
    return {
        "catalog_format": CATALOG_FORMAT_VERSION,
        "generator": f"otel-eventtracking {VERSION}",
        "title": title,
        "metadata_key": SCHEMA_KEY,
        "events": events,
    }


# -- schema summaries --------------------------------------------------------------------------
def _resolve(schema: Mapping[str, Any], root: Mapping[str, Any]) -> Mapping[str, Any]:
    ref = schema.get("$ref")
    for _ in range(_MAX_REF_DEPTH):
        if not isinstance(ref, str) or not ref.startswith("#"):
            return schema
        target: Any = root
        for part in (p for p in ref[1:].split("/") if p):
            key = part.replace("~1", "/").replace("~0", "~")
            target = target.get(key) if isinstance(target, Mapping) else None
        if not isinstance(target, Mapping):
            return schema
        schema, ref = target, target.get("$ref")
    return schema


def type_label(schema: Any, root: Mapping[str, Any] | None = None, _depth: int = 0) -> str:
    """A short human description of a schema's type: ``string (date-time)``, ``array of integer``..."""
    if not isinstance(schema, Mapping) or _depth > _MAX_REF_DEPTH:
        return "any"
    schema = _resolve(schema, root if root is not None else schema)
    if "const" in schema:
        return f"= {json.dumps(schema['const'])}"
    if "enum" in schema:
        return "one of " + ", ".join(json.dumps(v) for v in schema["enum"])
    for key in ("anyOf", "oneOf"):
        if isinstance(schema.get(key), list):
            return " | ".join(type_label(s, root, _depth + 1) for s in schema[key])
    kind = schema.get("type")
    kinds = kind if isinstance(kind, list) else [kind] if isinstance(kind, str) else []
    labels = []
    for k in kinds:
        if k == "array" and isinstance(schema.get("items"), Mapping):
            labels.append(f"array of {type_label(schema['items'], root, _depth + 1)}")
        elif k == "string" and isinstance(schema.get("format"), str):
            labels.append(f"string ({schema['format']})")
        else:
            labels.append(str(k))
    return " | ".join(labels) or "any"


def _location_key(location: str) -> tuple[str, int]:
    path, _, line = location.rpartition(":")
    return (path, int(line)) if line.isdigit() else (location, 0)


def schema_fields(schema: Mapping[str, Any], defaults: Mapping[str, Any] | None = None) -> list[Field]:
    """The fields of ``data`` described by an object schema, nested objects and list items flattened,
    with their defaults (the schema's ``default``, else ``defaults[path]``) and constraints."""
    out: list[Field] = []
    known = defaults or {}

    def walk(node: Mapping[str, Any], prefix: str, depth: int) -> None:
        node = _resolve(node, schema)
        properties = node.get("properties")
        if depth > _MAX_REF_DEPTH or not isinstance(properties, Mapping):
            return
        listed = node.get("required")
        required: list[Any] = listed if isinstance(listed, list) else []
        for key, sub in properties.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            sub = _resolve(sub, schema) if isinstance(sub, Mapping) else {}
            description = sub.get("description", "")
            default = ""
            if "default" in sub or path in known:
                default = json.dumps(sub["default"] if "default" in sub else known[path])
            rules = tuple(constraints(sub))
            out.append(Field(path, type_label(sub, schema), key in required, str(description), default, rules))
            walk(sub, path, depth + 1)
            items = sub.get("items")
            if isinstance(items, Mapping):
                walk(items, f"{path}[]", depth + 1)

    walk(schema, "", 0)
    return out


# -- JSON ----------------------------------------------------------------------------------------
def render_json(document: Mapping[str, Any]) -> str:
    """The catalog document as indented JSON (sorted events, stable key order)."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


# -- Markdown ------------------------------------------------------------------------------------
def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|") or " "


def render_markdown(document: Mapping[str, Any]) -> str:
    """The catalog as Markdown: an index table, then one section per event with its fields."""
    events = document["events"]
    key = document["metadata_key"]
    lines = [
        f"# {document['title']}",
        "",
        f"{len(events)} declared event type(s). Each exported event of a declared type carries "
        f'`{key}: {{"id": <schema id>, "version": <version>}}` (log record attribute `event.{key}`).',
        "",
        "| Event | Version | Owner | Description |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| [`{e['name']}`](#{slug(e['name'])}) | {_cell(e['version'])} | {_cell(e['owner'])} | "
        f"{_cell(e['description'])} |"
        for e in events
    ]
    for e in events:
        lines += ["", f'<a id="{slug(e["name"])}"></a>', "", f"## `{e['name']}`", ""]
        if e["description"]:
            lines += [e["description"], ""]
        lines += [
            f"- Version: {e['version']}",
            f"- Schema id: `{e['schema_id']}`",
            f"- Owner: {e['owner'] or '(none)'}",
            f"- Declared in: `{e['source']}`",
        ]
        if "emitted_at" in e:
            places = ", ".join(f"`{p}`" for p in e["emitted_at"]) or "not found in the scanned sources"
            lines.append(f"- Emitted at: {places}")
        lines.append("")
        fields = schema_fields(e["schema"], e.get("defaults"))
        if fields:
            lines += [
                "| Field | Type | Required | Default | Constraints | Description |",
                "|---|---|---|---|---|---|",
            ]
            lines += [
                f"| `{f.path}` | {_cell(f.type)} | {'yes' if f.required else 'no'} | "
                f"{_cell(f'`{f.default}`' if f.default else '')} | {_cell(', '.join(f.constraints))} | "
                f"{_cell(f.description)} |"
                for f in fields
            ]
        elif not e["schema"]:
            lines.append("No schema declared: any data.")
        if e.get("example") is not None:
            example = json.dumps(e["example"], indent=2, ensure_ascii=False)
            lines += ["", "Example `data`:", "", "```json", example, "```"]
        body = json.dumps(e["schema"], indent=2, ensure_ascii=False)
        lines += ["", "<details><summary>JSON Schema</summary>", "", "```json", body, "```", "", "</details>"]
    return "\n".join(lines) + "\n"


__all__ = ["Field", "catalog_document", "render_json", "render_markdown", "schema_fields", "slug"]
