"""Declared event types: ``EventType`` (name, description, owner, version, data schema) and the
registry that processors, the validation step and the catalog look names up in."""

from __future__ import annotations

import dataclasses
import json
import os
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Generic, ParamSpec, overload

from ..core.registry import get_tracker
from ..core.tracker import Tracker
from ..exceptions import EventTrackingError, ImproperlyConfigured
from ..records.normalize import Normalizer
from .schema import class_description, is_dataclass_type, is_typeddict, schema_for_type

P = ParamSpec("P")

#: The top-level key (upstream dict, JSON lines) holding ``{"id": ..., "version": ...}`` of an
#: event's declared type; on OTel log records it is the attribute ``event.schema``.
SCHEMA_KEY = "schema"
_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
_MAX_MESSAGE = 300


class ValidationFailure:
    """What a failed validation says: the event, its schema id, the reason (mixed into errors)."""

    def __init__(self, event_name: str, schema_id: str | None, reason: str) -> None:
        self.event_name = event_name
        self.schema_id = schema_id
        self.reason = reason
        where = f" (schema {schema_id})" if schema_id else ""
        super().__init__(f"event {event_name!r}{where}: {reason}")  # type: ignore[call-arg]  # the exception base


class EventValidationError(ValidationFailure, EventTrackingError, ValueError):
    """``data`` does not match the declared schema of its event type (or the type is undeclared)."""


def _source_of_caller() -> str:
    """``path:line`` of the first frame outside this package: where the event type was declared."""
    frame = sys._getframe(1)
    while frame.f_back is not None and os.path.dirname(os.path.abspath(frame.f_code.co_filename)) == _PACKAGE_DIR:
        frame = frame.f_back
    return f"{frame.f_code.co_filename}:{frame.f_lineno}"


def compile_validator(schema: Mapping[str, Any], what: str) -> Any:
    """A jsonschema validator for ``schema`` (its ``$schema`` draft, else 2020-12), formats checked.

    Raises ImproperlyConfigured naming ``what`` when the schema itself is invalid or jsonschema is
    not installed.
    """
    try:
        from jsonschema import validators
        from jsonschema.exceptions import SchemaError
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise ImproperlyConfigured(
            "schema validation needs the jsonschema package: pip install 'otel-eventtracking[catalog]'"
        ) from exc
    cls = validators.validator_for(schema, default=validators.Draft202012Validator)
    try:
        cls.check_schema(schema)
    except SchemaError as exc:
        at = "/".join(str(p) for p in exc.absolute_path) or "(root)"
        raise ImproperlyConfigured(f"{what}: invalid JSON Schema at {at}: {exc.message}") from None
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def _json_copy(value: Mapping[str, Any], what: str) -> dict[str, Any]:
    """A deep copy of a JSON document; ImproperlyConfigured if it holds values JSON cannot."""
    try:
        copied: dict[str, Any] = json.loads(json.dumps(value, allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise ImproperlyConfigured(f"{what} must hold only JSON values: {exc}") from None
    return copied


def _error_path(path: Any) -> str:
    out = "data"
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


class EventType(Generic[P]):
    """An event type declared once, next to the code that emits it.

    ``data`` is a TypedDict or dataclass: the JSON Schema is derived from it and ``emit`` takes
    its fields as keyword arguments, checked by mypy at every call site. Or give ``schema`` (a
    JSON Schema dict) directly; ``emit`` then takes any keywords. ``version`` is the version of
    the data's shape (bump it on incompatible changes). The type registers itself in
    ``registry`` (default: the process-wide one that processors and the catalog use).
    """

    @overload
    def __init__(
        self: EventType[P],
        name: str,
        data: Callable[P, Any],
        *,
        schema: Mapping[str, Any] | None = None,
        description: str = "",
        owner: str = "",
        version: int | str = 1,
        registry: EventRegistry | None = None,
        tracker: Tracker | str | None = None,
        source: str | None = None,
    ) -> None: ...

    @overload
    def __init__(
        self: EventType[...],
        name: str,
        data: None = None,
        *,
        schema: Mapping[str, Any] | None = None,
        description: str = "",
        owner: str = "",
        version: int | str = 1,
        registry: EventRegistry | None = None,
        tracker: Tracker | str | None = None,
        source: str | None = None,
    ) -> None: ...

    def __init__(
        self,
        name: str,
        data: Any = None,
        *,
        schema: Mapping[str, Any] | None = None,
        description: str = "",
        owner: str = "",
        version: int | str = 1,
        registry: EventRegistry | None = None,
        tracker: Tracker | str | None = None,
        source: str | None = None,
    ) -> None:
        if not isinstance(name, str) or not name.strip():
            raise ImproperlyConfigured(f"an event type needs a non-empty name, got {name!r}")
        if isinstance(version, bool) or not isinstance(version, int | str) or not str(version).strip():
            raise ImproperlyConfigured(f"event {name!r}: version must be an int or a non-empty string, got {version!r}")
        if schema is not None and not isinstance(schema, Mapping):
            raise ImproperlyConfigured(
                f"event {name!r}: schema must be a JSON Schema dict, got {type(schema).__name__}"
            )
        if data is not None and not (is_typeddict(data) or is_dataclass_type(data)):
            raise ImproperlyConfigured(
                f"event {name!r}: data must be a TypedDict or a dataclass class, got {data!r} "
                "(or leave it out and pass schema={...})"
            )
        self.name = name
        self.data_type: type | None = data
        self._dataclass: type | None = data if is_dataclass_type(data) else None
        if schema is not None:
            self.schema: dict[str, Any] = _json_copy(schema, f"event {name!r}: schema")
        else:
            self.schema = schema_for_type(data) if data is not None else {}
        self.description = description or (class_description(data) if data is not None else "")
        self.owner = owner
        self.version = str(version)
        self.source = source or _source_of_caller()
        self.tracker = tracker
        self._validator: Any = None
        self._lock = threading.Lock()
        schema_id = self.schema.get("$id")
        self.schema_id: str = schema_id if isinstance(schema_id, str) and schema_id else f"{name}/{self.version}"
        #: What travels with each event under ``SCHEMA_KEY`` (shared: never mutate it).
        self.metadata: Mapping[str, str] = {"id": self.schema_id, "version": self.version}
        (registry if registry is not None else default_registry).register(self)

    # -- emitting -------------------------------------------------------------------------------
    def build_data(self, *args: P.args, **fields: P.kwargs) -> dict[str, Any]:
        """The ``data`` dict that ``emit`` sends for these fields (a dataclass fills its defaults)."""
        if self._dataclass is not None:
            return dataclasses.asdict(self._dataclass(*args, **fields))
        if args:
            raise TypeError(f"{self.name}.emit() takes the data fields as keyword arguments only")
        return dict(fields)

    def emit(self, *args: P.args, **fields: P.kwargs) -> None:
        """Emit this event with these data fields on its tracker (default: the default tracker)."""
        tracker = self.tracker
        if not isinstance(tracker, Tracker):
            tracker = get_tracker(tracker or "default")
        tracker.emit(self.name, self.build_data(*args, **fields))

    # -- validation -----------------------------------------------------------------------------
    @property
    def validator(self) -> Any:
        """The compiled jsonschema validator, built once on first use and kept."""
        validator = self._validator
        if validator is None:
            with self._lock:
                if self._validator is None:
                    self._validator = compile_validator(self.schema, f"event {self.name!r} ({self.source})")
                validator = self._validator
        return validator

    def _as_json(self, data: Any) -> Any:
        return Normalizer(self.name, otlp=False, policy="str").convert(data, "data")

    def is_valid(self, data: Any) -> bool:
        """True when ``data`` matches the schema, judged in the form the exporters write it.

        The raw value is checked first (the common, cheap case); only when it fails and its JSON
        form differs (datetimes, tuples, Decimals...) is the JSON form checked too.
        """
        validator = self.validator
        if validator.is_valid(data):
            return True
        as_json = self._as_json(data)
        return bool(as_json != data and validator.is_valid(as_json))

    def validation_error(self, data: Any) -> str | None:
        """Why ``data`` does not match the schema (``data.path: message``), or None when it does."""
        if self.is_valid(data):
            return None
        from jsonschema.exceptions import best_match

        errors = list(self.validator.iter_errors(self._as_json(data)))
        error = best_match(errors)
        if error is None:  # pragma: no cover - is_valid said there is one
            return "does not match its schema"
        message = error.message if len(error.message) <= _MAX_MESSAGE else error.message[:_MAX_MESSAGE] + "…"
        more = f" (and {len(errors) - 1} more error(s))" if len(errors) > 1 else ""
        return f"{_error_path(error.absolute_path)}: {message}{more}"

    def validate(self, data: Any) -> None:
        """Raise EventValidationError when ``data`` does not match this type's schema."""
        reason = self.validation_error(data)
        if reason is not None:
            raise EventValidationError(self.name, self.schema_id, reason)

    # -- description ------------------------------------------------------------------------------
    def as_dict(self) -> dict[str, Any]:
        """The catalog entry of this type (JSON-ready)."""
        return {
            "name": self.name,
            "version": self.version,
            "schema_id": self.schema_id,
            "description": self.description,
            "owner": self.owner,
            "source": self.source,
            "schema": self.schema,
        }

    def _definition(self) -> str:
        entry = self.as_dict()
        del entry["source"]
        return json.dumps(entry, sort_keys=True, default=str)

    def __repr__(self) -> str:
        return f"EventType({self.name!r}, version={self.version!r}, source={self.source!r})"


class EventRegistry:
    """Event types by name. Declaring a name again is allowed only with the same definition
    (a module imported twice); a different one raises, naming both places."""

    def __init__(self) -> None:
        self._types: dict[str, EventType[...]] = {}
        self._lock = threading.Lock()

    def register(self, event_type: EventType[Any]) -> EventType[Any]:
        """Add ``event_type``; ImproperlyConfigured if its name is declared differently elsewhere."""
        with self._lock:
            existing = self._types.get(event_type.name)
            if existing is not None and existing is not event_type:
                if existing._definition() != event_type._definition():
                    raise ImproperlyConfigured(
                        f"event {event_type.name!r} is declared twice with different definitions: at "
                        f"{existing.source} and at {event_type.source}; keep one declaration (or bump the "
                        "version in the one place that declares it)"
                    )
                return existing
            self._types[event_type.name] = event_type
            return event_type

    def get(self, name: str) -> EventType[...] | None:
        """The type declared under ``name``, or None."""
        return self._types.get(name)

    def __contains__(self, name: object) -> bool:
        return name in self._types

    def __iter__(self) -> Iterator[EventType[...]]:
        """The declared types, sorted by name."""
        with self._lock:
            types = sorted(self._types.values(), key=lambda t: t.name)
        return iter(types)

    def __len__(self) -> int:
        return len(self._types)

    def names(self) -> list[str]:
        """The declared names, sorted."""
        return [t.name for t in self]

    def validate(self, name: str, data: Any) -> None:
        """Raise EventValidationError when ``name`` is undeclared or ``data`` does not match its schema."""
        event_type = self._types.get(name)
        if event_type is None:
            raise EventValidationError(name, None, "this event type is not declared")
        event_type.validate(data)

    def check_schemas(self) -> None:
        """Compile every declared schema; ImproperlyConfigured for the first invalid one."""
        for event_type in self:
            event_type.validator  # noqa: B018 - compiled for its error


#: The process-wide registry: EventType declarations, declaration files, processors and the
#: catalog use it unless given another.
default_registry = EventRegistry()
