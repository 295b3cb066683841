"""Declare event types from YAML or JSON files: for events emitted by code we do not own.

A file holds a list of entries, either at the top level or under ``events`` (with an optional
top-level ``owner`` used by entries that name none)::

    owner: analytics
    events:
      - name: edx.video.played
        description: A learner started a video.
        version: 2
        schema:                      # a JSON Schema for data, or a path to one (relative to this file)
          type: object
          properties:
            video_id: {type: string}
          required: [video_id]

Entry keys: ``name`` (required), ``description``, ``owner``, ``version`` (default 1), ``schema``.
Errors name the file and line of the entry and what to fix.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from ..exceptions import ImproperlyConfigured
from .registry import EventRegistry, EventType

YAML_SUFFIXES = (".yaml", ".yml")
SUFFIXES = (*YAML_SUFFIXES, ".json")
_ENTRY_KEYS = frozenset({"name", "description", "owner", "version", "schema"})
_TOP_KEYS = frozenset({"events", "owner"})


def _yaml() -> Any:
    try:
        import yaml
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise ImproperlyConfigured(
            "YAML declarations need PyYAML: pip install 'otel-eventtracking[catalog]' (or write the file as JSON)"
        ) from exc
    return yaml


def _parse(path: Path) -> Any:
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise ImproperlyConfigured(f"{path}:{exc.lineno}: invalid JSON: {exc.msg}") from None
    yaml = _yaml()
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or exc
        raise ImproperlyConfigured(f"{path}{line}: invalid YAML: {problem}") from None


def _entry_lines(path: Path) -> list[int]:
    """The line of each entry (best effort: JSON is read as YAML for this; [] when that fails)."""
    try:
        yaml = _yaml()
        root = yaml.compose(path.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
    except Exception:
        return []
    node = root
    if isinstance(root, yaml.MappingNode):
        node = next((v for k, v in root.value if getattr(k, "value", None) == "events"), None)
    if not isinstance(node, yaml.SequenceNode):
        return []
    return [item.start_mark.line + 1 for item in node.value]


def _entries(doc: Any, path: Path) -> tuple[list[Any], str]:
    if isinstance(doc, list):
        return doc, ""
    if isinstance(doc, Mapping):
        unknown = sorted(set(doc) - _TOP_KEYS)
        if unknown:
            raise ImproperlyConfigured(
                f"{path}: unknown top-level key(s) {', '.join(map(repr, unknown))}; expected 'events' (a list of "
                "event declarations) and optionally 'owner'"
            )
        events = doc.get("events")
        owner = doc.get("owner", "")
        if not isinstance(events, list):
            raise ImproperlyConfigured(f"{path}: 'events' must be a list of event declarations")
        if not isinstance(owner, str):
            raise ImproperlyConfigured(f"{path}: 'owner' must be a string")
        return events, owner
    if doc is None:
        return [], ""
    raise ImproperlyConfigured(f"{path}: expected a list of event declarations or a mapping with 'events'")


def _schema(value: Any, path: Path, where: str) -> Mapping[str, Any] | None:
    if value is None or isinstance(value, Mapping):
        return value
    if isinstance(value, str):
        schema_path = (path.parent / value).resolve()
        if not schema_path.is_file():
            raise ImproperlyConfigured(f"{where}: schema file {value!r} not found (looked for {schema_path})")
        loaded = _parse(schema_path)
        if not isinstance(loaded, Mapping):
            raise ImproperlyConfigured(f"{where}: schema file {value!r} does not hold a JSON Schema object")
        return loaded
    raise ImproperlyConfigured(f"{where}: 'schema' must be a JSON Schema mapping or a path to a schema file")


def load_file(path: str | os.PathLike[str], registry: EventRegistry | None = None) -> list[EventType[...]]:
    """Declare the event types of one YAML or JSON file in ``registry`` (default: the process-wide one)."""
    path = Path(path)
    if path.suffix.lower() not in SUFFIXES:
        raise ImproperlyConfigured(f"{path}: declaration files must end in {', '.join(SUFFIXES)}")
    if not path.is_file():
        raise ImproperlyConfigured(f"{path}: no such declarations file")
    entries, default_owner = _entries(_parse(path), path)
    lines = _entry_lines(path)
    declared: list[EventType[...]] = []
    for i, entry in enumerate(entries):
        where = f"{path}:{lines[i]}" if i < len(lines) else f"{path} (entry {i})"
        if not isinstance(entry, Mapping):
            raise ImproperlyConfigured(f"{where}: each event declaration must be a mapping with at least 'name'")
        unknown = sorted(set(entry) - _ENTRY_KEYS)
        if unknown:
            raise ImproperlyConfigured(
                f"{where}: unknown key(s) {', '.join(map(repr, unknown))}; allowed: {', '.join(sorted(_ENTRY_KEYS))}"
            )
        if "name" not in entry:
            raise ImproperlyConfigured(f"{where}: the declaration has no 'name'")
        try:
            event_type: EventType[...] = EventType(
                entry["name"],
                schema=_schema(entry.get("schema"), path, where),
                description=str(entry.get("description") or ""),
                owner=str(entry.get("owner") or default_owner),
                version=entry.get("version", 1),
                registry=registry,
                source=where,
            )
        except ImproperlyConfigured as exc:
            message = str(exc)
            raise ImproperlyConfigured(message if where in message else f"{where}: {message}") from None
        declared.append(event_type)
    return declared


def declaration_files(paths: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """The declaration files named by ``paths``: files as given, directories' YAML/JSON files sorted."""
    out: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            out.extend(sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in SUFFIXES))
        else:
            out.append(path)
    return out


def load_declarations(
    paths: Iterable[str | os.PathLike[str]], registry: EventRegistry | None = None
) -> list[EventType[...]]:
    """Load every declarations file (or directory of them) in ``paths``; the types declared."""
    return [event_type for path in declaration_files(paths) for event_type in load_file(path, registry)]
