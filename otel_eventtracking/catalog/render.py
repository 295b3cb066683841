"""Write the catalog of declared event types as JSON, Markdown and one self-contained HTML page.

The output depends only on the declarations (no dates, sorted by name, paths relative to a
root), so a generated catalog can be committed and diffed.
"""

from __future__ import annotations

import html
import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..__about__ import VERSION
from .registry import SCHEMA_KEY, EventType

CATALOG_FORMAT_VERSION = 1
_MAX_REF_DEPTH = 8


@dataclass(frozen=True)
class Field:
    """One documented field of an event's data (nested fields have dotted paths, list items ``[]``)."""

    path: str
    type: str
    required: bool
    description: str


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
    types: Iterable[EventType[...]], *, title: str = "Event catalog", root: str | None = None
) -> dict[str, Any]:
    """The catalog as a JSON-ready dict; ``source`` paths (absolute, or relative to the current
    directory) are shown relative to ``root`` when under it."""
    events = []
    for event_type in sorted(types, key=lambda t: t.name):
        entry = event_type.as_dict()
        entry["source"] = _relative(event_type.source, root)
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


def schema_fields(schema: Mapping[str, Any]) -> list[Field]:
    """The fields of ``data`` described by an object schema, nested objects and list items flattened."""
    out: list[Field] = []

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
            out.append(Field(path, type_label(sub, schema), key in required, str(description)))
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
            "",
        ]
        fields = schema_fields(e["schema"])
        if fields:
            lines += ["| Field | Type | Required | Description |", "|---|---|---|---|"]
            lines += [
                f"| `{f.path}` | {_cell(f.type)} | {'yes' if f.required else 'no'} | {_cell(f.description)} |"
                for f in fields
            ]
        elif not e["schema"]:
            lines.append("No schema declared: any data.")
        body = json.dumps(e["schema"], indent=2, ensure_ascii=False)
        lines += ["", "<details><summary>JSON Schema</summary>", "", "```json", body, "```", "", "</details>"]
    return "\n".join(lines) + "\n"


# -- HTML ----------------------------------------------------------------------------------------
_STYLE = """
body{font:15px/1.5 system-ui,sans-serif;margin:0 auto;max-width:60rem;padding:1rem 1.5rem;color:#1b1f24}
h1{margin-bottom:.2rem}input#search{width:100%;font-size:1.05rem;padding:.5rem .7rem;box-sizing:border-box;
border:1px solid #8c959f;border-radius:6px}#count{color:#57606a;margin:.4rem 0 1rem}
section.event{border-top:1px solid #d0d7de;padding:.6rem 0}section.event h2{font-size:1.15rem;margin:.3rem 0}
code{background:#f2f4f7;padding:0 .25rem;border-radius:4px}dl{display:grid;grid-template-columns:max-content auto;
gap:.1rem 1rem;margin:.4rem 0}dt{color:#57606a}dd{margin:0}table{border-collapse:collapse;width:100%;margin:.5rem 0}
th,td{border:1px solid #d0d7de;padding:.25rem .5rem;text-align:left;vertical-align:top}th{background:#f6f8fa}
pre{background:#f6f8fa;padding:.6rem;overflow:auto}[hidden]{display:none!important}
"""

# Filters the sections on every keystroke: an event shows when each word typed occurs in its name,
# description, owner, version, fields or schema. "?q=words" in the URL pre-fills the search.
_SCRIPT = """
(function () {
  var input = document.getElementById("search");
  var count = document.getElementById("count");
  var events = Array.prototype.slice.call(document.querySelectorAll("section.event"));
  function apply() {
    var words = input.value.toLowerCase().split(/\\s+/).filter(Boolean);
    var shown = 0;
    events.forEach(function (el) {
      var text = el.getAttribute("data-search");
      var match = words.every(function (w) { return text.indexOf(w) !== -1; });
      el.hidden = !match;
      if (match) { shown += 1; }
    });
    count.textContent = shown + " of " + events.length + " event type(s)";
  }
  var query = new URLSearchParams(window.location.search).get("q");
  if (query) { input.value = query; }
  input.addEventListener("input", apply);
  apply();
})();
"""


def _esc(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _html_event(e: Mapping[str, Any]) -> str:
    fields = schema_fields(e["schema"])
    searchable = " ".join(
        [e["name"], e["description"], e["owner"], e["version"], e["schema_id"]]
        + [f"{f.path} {f.description}" for f in fields]
    ).lower()
    rows = "".join(
        f"<tr><td><code>{_esc(f.path)}</code></td><td>{_esc(f.type)}</td><td>{'yes' if f.required else 'no'}</td>"
        f"<td>{_esc(f.description)}</td></tr>"
        for f in fields
    )
    table = (
        f"<table><thead><tr><th>Field</th><th>Type</th><th>Required</th><th>Description</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
        if fields
        else ("<p>No schema declared: any data.</p>" if not e["schema"] else "")
    )
    schema = _esc(json.dumps(e["schema"], indent=2, ensure_ascii=False))
    return (
        f'<section class="event" id="{_esc(slug(e["name"]))}" data-name="{_esc(e["name"])}" '
        f'data-search="{_esc(searchable)}">\n'
        f'<h2><a href="#{_esc(slug(e["name"]))}"><code>{_esc(e["name"])}</code></a></h2>\n'
        f"<p>{_esc(e['description'])}</p>\n"
        f"<dl><dt>Version</dt><dd>{_esc(e['version'])}</dd><dt>Schema id</dt><dd><code>{_esc(e['schema_id'])}</code>"
        f"</dd><dt>Owner</dt><dd>{_esc(e['owner'] or '(none)')}</dd><dt>Declared in</dt>"
        f"<dd><code>{_esc(e['source'])}</code></dd></dl>\n"
        f"{table}\n<details><summary>JSON Schema</summary><pre>{schema}</pre></details>\n</section>"
    )


def render_html(document: Mapping[str, Any]) -> str:
    """The catalog as one static HTML page (inline style and script, no network) with search."""
    title = _esc(document["title"])
    sections = "\n".join(_html_event(e) for e in document["events"])
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{title}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n"
        f"<h1>{title}</h1>\n<p>Generated by {_esc(document['generator'])}. Exported events of these types carry "
        f"<code>{_esc(document['metadata_key'])}</code> (id and version).</p>\n"
        '<input id="search" type="search" placeholder="Search names, fields, owners, descriptions" '
        'aria-label="Search events" autofocus>\n<p id="count" aria-live="polite"></p>\n'
        f"<main>\n{sections}\n</main>\n<script>{_SCRIPT}</script>\n</body>\n</html>\n"
    )
