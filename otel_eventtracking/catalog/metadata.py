"""Attach the declared type's schema id and version to each event, so analysts can join events to
the catalog."""

from __future__ import annotations

from collections.abc import Mapping

from ..core.event import Event
from ..pipeline.processor import EventProcessor
from .registry import SCHEMA_KEY, EventRegistry, EventType, default_registry
from .render import slug


class SchemaMetadataProcessor(EventProcessor):
    """Adds ``{"id": <schema id>, "version": <version>}`` under the top-level key ``schema`` to
    every event whose name is declared in ``registry``; other events pass unchanged.

    With ``catalog_url`` (where the generated ``catalog.html`` is published) the metadata also
    holds ``"url"``: that page, at the event's entry. The JSON exporters write it as the top-level
    ``schema`` key, OTel log records carry it as the attribute ``event.schema`` (a map). It costs
    a dict lookup and a new Event per declared event: place it in a batching node's processors
    to keep that off the request thread.
    """

    def __init__(self, registry: EventRegistry | None = None, *, catalog_url: str | None = None) -> None:
        self.registry = registry if registry is not None else default_registry
        self.catalog_url = catalog_url
        self._with_url: dict[str, tuple[EventType[...], Mapping[str, str]]] = {}

    def _metadata(self, event_type: EventType[...]) -> Mapping[str, str]:
        if self.catalog_url is None:
            return event_type.metadata
        cached = self._with_url.get(event_type.name)
        if cached is None or cached[0] is not event_type:
            url = f"{self.catalog_url}#{slug(event_type.name)}"
            cached = (event_type, {**event_type.metadata, "url": url})
            self._with_url[event_type.name] = cached
        return cached[1]

    def process(self, event: Event) -> Event | None:
        event_type = self.registry.get(event.name)
        if event_type is None:
            return event
        metadata = self._metadata(event_type)
        return event.replace(extra={**event.extra, SCHEMA_KEY: metadata} if event.extra else {SCHEMA_KEY: metadata})
