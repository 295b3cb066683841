"""The catalog as one self-contained HTML page: an index, a search box, one section per event with
its fields (type, default, constraints), an example payload and where it is declared and emitted.

No network, no external file; readable from 400 px wide up (tables become cards on narrow
screens, long names and paths wrap, code blocks scroll inside themselves).
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from typing import Any

from .render import schema_fields, slug

_STYLE = """
*{box-sizing:border-box}
body{font:15px/1.5 system-ui,sans-serif;margin:0 auto;max-width:64rem;padding:1rem 1.25rem;color:#1b1f24}
h1{margin:.2rem 0}code{background:#f2f4f7;padding:0 .25rem;border-radius:4px;font-size:.92em}
dd,li,p,h2{overflow-wrap:anywhere}td{overflow-wrap:break-word}
input#search{width:100%;font-size:1.05rem;padding:.5rem .7rem;border:1px solid #8c959f;border-radius:6px}
#count{color:#57606a;margin:.4rem 0 .8rem}
nav#index{border:1px solid #d0d7de;border-radius:6px;padding:.4rem .9rem;margin-bottom:1rem}
nav#index h2{font-size:1rem;margin:.3rem 0}nav#index ul{margin:.2rem 0;padding-left:1.1rem}
nav#index li{margin:.15rem 0}nav#index .desc{color:#57606a}
section.event{border-top:1px solid #d0d7de;padding:.6rem 0 1rem}section.event h2{font-size:1.15rem;margin:.3rem 0}
h3{font-size:.95rem;margin:.8rem 0 .3rem}
dl{display:grid;grid-template-columns:max-content minmax(0,1fr);gap:.1rem 1rem;margin:.4rem 0}
dt{color:#57606a}dd{margin:0}dd ul{margin:0;padding-left:1.1rem}
div.fields{overflow-x:auto;margin:.3rem 0}table{border-collapse:collapse;width:100%}
th,td{border:1px solid #d0d7de;padding:.25rem .5rem;text-align:left;vertical-align:top}th{background:#f6f8fa}
pre{background:#f6f8fa;padding:.6rem;overflow:auto;max-width:100%;margin:.3rem 0}
pre.example{white-space:pre-wrap;overflow-wrap:anywhere}
a.top{font-size:.85rem}[hidden]{display:none!important}
@media (max-width:700px){
body{padding:.75rem}
table.fields,table.fields tbody,table.fields tr,table.fields td{display:block;width:100%}
table.fields thead{display:none}
table.fields tr{border:1px solid #d0d7de;border-radius:6px;margin:.5rem 0;padding:.3rem .5rem}
table.fields td{border:0;padding:.1rem 0;display:grid;grid-template-columns:6.5rem minmax(0,1fr);gap:.5rem;
overflow-wrap:anywhere}
table.fields td::before{content:attr(data-label);color:#57606a}
table.fields td:first-child{display:block;font-weight:600;padding-bottom:.2rem}
table.fields td:first-child::before{content:none}
table.fields td.empty{display:none}
dl{gap:.1rem .7rem}
}
"""

# Filters the sections and the index on every keystroke: an event shows when each word typed occurs
# in its name, description, owner, version, fields or schema. "?q=words" in the URL pre-fills it.
_SCRIPT = """
(function () {
  var input = document.getElementById("search");
  var count = document.getElementById("count");
  var events = Array.prototype.slice.call(document.querySelectorAll("section.event"));
  var entries = {};
  Array.prototype.forEach.call(document.querySelectorAll("nav#index li"), function (li) {
    entries[li.getAttribute("data-for")] = li;
  });
  function apply() {
    var words = input.value.toLowerCase().split(/\\s+/).filter(Boolean);
    var shown = 0;
    events.forEach(function (el) {
      var text = el.getAttribute("data-search");
      var match = words.every(function (w) { return text.indexOf(w) !== -1; });
      el.hidden = !match;
      if (entries[el.id]) { entries[el.id].hidden = !match; }
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

_COLUMNS = ("Field", "Type", "Required", "Default", "Constraints", "Description")


def _esc(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _cell(label: str, content: str, cls: str = "") -> str:
    classes = " ".join(c for c in (cls, "" if content else "empty") if c)
    attr = f' class="{classes}"' if classes else ""
    return f'<td data-label="{label}"{attr}><span>{content}</span></td>'


def _constraint(text: str) -> str:
    head, sep, pattern = text.partition("pattern ")
    return f"{_esc(head)}pattern <code>{_esc(pattern)}</code>" if sep else _esc(text)


def _fields_table(e: Mapping[str, Any]) -> str:
    fields = schema_fields(e["schema"], e.get("defaults"))
    if not fields:
        return "<p>No schema declared: any data.</p>" if not e["schema"] else ""
    rows = "".join(
        "<tr>"
        + _cell("Field", f"<code>{_esc(f.path)}</code>")
        + _cell("Type", _esc(f.type))
        + _cell("Required", "yes" if f.required else "no")
        + _cell("Default", f"<code>{_esc(f.default)}</code>" if f.default else "")
        + _cell("Constraints", ", ".join(_constraint(c) for c in f.constraints), "constraints")
        + _cell("Description", _esc(f.description))
        + "</tr>"
        for f in fields
    )
    head = "".join(f"<th>{c}</th>" for c in _COLUMNS)
    table = f'<table class="fields"><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>'
    return f'<div class="fields">{table}</div>'


def _emitted(e: Mapping[str, Any]) -> str:
    if "emitted_at" not in e:
        return ""
    places = e["emitted_at"]
    body = (
        "<ul>" + "".join(f"<li><code>{_esc(p)}</code></li>" for p in places) + "</ul>"
        if places
        else "not found in the scanned sources"
    )
    return f"<dt>Emitted at</dt><dd>{body}</dd>"


def _example(e: Mapping[str, Any]) -> str:
    if e.get("example") is None:
        return "<h3>Example <code>data</code></h3><p>No example could be generated from this schema.</p>"
    payload = _esc(json.dumps(e["example"], indent=2, ensure_ascii=False))
    return f'<h3>Example <code>data</code></h3><pre class="example">{payload}</pre>'


def _section(e: Mapping[str, Any]) -> str:
    anchor = _esc(slug(e["name"]))
    fields = schema_fields(e["schema"])
    searchable = " ".join(
        [e["name"], e["description"], e["owner"], e["version"], e["schema_id"]]
        + [f"{f.path} {f.description}" for f in fields]
    ).lower()
    schema = _esc(json.dumps(e["schema"], indent=2, ensure_ascii=False))
    return (
        f'<section class="event" id="{anchor}" data-name="{_esc(e["name"])}" data-search="{_esc(searchable)}">\n'
        f'<h2><a href="#{anchor}"><code>{_esc(e["name"])}</code></a></h2>\n'
        f"<p>{_esc(e['description'])}</p>\n"
        f"<dl><dt>Version</dt><dd>{_esc(e['version'])}</dd><dt>Schema id</dt><dd><code>{_esc(e['schema_id'])}</code>"
        f"</dd><dt>Owner</dt><dd>{_esc(e['owner'] or '(none)')}</dd><dt>Declared in</dt>"
        f"<dd><code>{_esc(e['source'])}</code></dd>{_emitted(e)}</dl>\n"
        f"{_fields_table(e)}\n{_example(e)}\n"
        f"<details><summary>JSON Schema</summary><pre>{schema}</pre></details>\n"
        '<a class="top" href="#index">back to the index</a>\n</section>'
    )


def _index(events: list[Mapping[str, Any]]) -> str:
    items = "".join(
        f'<li data-for="{_esc(slug(e["name"]))}"><a href="#{_esc(slug(e["name"]))}"><code>{_esc(e["name"])}</code>'
        f"</a>{' <span class=desc>' + _esc(e['description']) + '</span>' if e['description'] else ''}</li>"
        for e in events
    )
    return f'<nav id="index" aria-label="Index of events"><h2>Index</h2><ul>{items}</ul></nav>'


def html_page(document: Mapping[str, Any]) -> str:
    """The page for a catalog document (``render.catalog_document``)."""
    title = _esc(document["title"])
    events = list(document["events"])
    sections = "\n".join(_section(e) for e in events)
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{title}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n"
        f"<h1>{title}</h1>\n<p>Generated by {_esc(document['generator'])}. Exported events of these types carry "
        f"<code>{_esc(document['metadata_key'])}</code> (id and version).</p>\n"
        '<input id="search" type="search" placeholder="Search names, fields, owners, descriptions" '
        'aria-label="Search events" autofocus>\n<p id="count" aria-live="polite"></p>\n'
        f"{_index(events)}\n<main>\n{sections}\n</main>\n<script>{_SCRIPT}</script>\n</body>\n</html>\n"
    )
