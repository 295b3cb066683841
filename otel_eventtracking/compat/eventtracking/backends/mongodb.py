"""Shim of ``eventtracking.backends.mongodb`` (acknowledged, batched writes; see MongoExporter).

``MongoClient`` is a module attribute, as upstream's. With pymongo's own ``MongoClient`` there, the
backend is this library's MongoExporter. When a test replaces it (``mock.patch(
"eventtracking.backends.mongodb.MongoClient")``, or a client such as mongomock's) before the
backend is built, the backend talks to the replacement exactly as upstream's does: it is built
with ``host``, ``port``, ``w=0`` (unless ``extra`` says otherwise), ``tz_aware=True`` and ``extra``,
authenticates on the database when a user or password is given, creates upstream's indexes
(``time`` descending, ``name``), and stores each event with ``insert_one(event)``, logging
``PyMongoError``/``BSONError`` on this module's ``log``.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Mapping, Sequence
from typing import Any

import pymongo
from bson.errors import BSONError
from pymongo import MongoClient
from pymongo.errors import PyMongoError

from otel_eventtracking.compat._signatures import forward_signature
from otel_eventtracking.core.event import Event
from otel_eventtracking.exporters.base import FAILURE, SUCCESS, EventExporter
from otel_eventtracking.exporters.mongodb import MongoExporter
from otel_eventtracking.otel._sdk import LogRecordExportResult

log = logging.getLogger(__name__)

_PYMONGO_CLIENT = MongoClient
_SIGNATURE = inspect.signature(MongoExporter.__init__)


class MongoBackend(MongoExporter):
    """``MongoExporter``, or upstream's protocol with a replaced module ``MongoClient`` (above).
    ``connection``, ``database`` and ``collection`` are the client, database and collection used."""

    def __init__(self, *args: Any, **options: Any) -> None:
        factory = globals()["MongoClient"]
        self.upstream_protocol = factory is not _PYMONGO_CLIENT
        if not self.upstream_protocol:
            super().__init__(*args, **options)
            self.connection = self.client
            self.database = self.collection.database
            return
        bound = _SIGNATURE.bind(self, *args, **options)  # the same TypeError as the exporter's
        bound.apply_defaults()
        arg = bound.arguments
        EventExporter.__init__(self, unserializable=arg["unserializable"])
        kwargs: dict[str, Any] = dict(arg["extra"] or {})
        kwargs.setdefault("w", 0)
        kwargs.setdefault("tz_aware", True)
        if arg["uri"] is not None:
            self.connection = factory(arg["uri"], **kwargs)
        else:
            self.connection = factory(host=arg["host"], port=arg["port"], **kwargs)
        self.client = self.connection
        self.database = self.connection[arg["database"]]
        if arg["user"] or arg["password"]:
            self.database.authenticate(arg["user"] or "", arg["password"] or "")
        self.collection = self.database[arg["collection"]]
        self.collection.create_index([("time", pymongo.DESCENDING)])
        self.collection.create_index("name")

    def send(self, event: Event | Mapping[str, Any]) -> None:
        if self.upstream_protocol and not isinstance(event, Event):
            self._insert_one(event)  # the caller's own dict, as upstream stores it
        else:
            super().send(event)

    def export_events(self, events: Sequence[Event]) -> LogRecordExportResult:
        if not self.upstream_protocol:
            return super().export_events(events)
        ok = True
        for event in events:
            ok = self._insert_one(event.to_dict()) and ok
        return SUCCESS if ok else FAILURE

    def _insert_one(self, event: Mapping[str, Any]) -> bool:
        try:
            self.collection.insert_one(event)
        except (PyMongoError, BSONError):
            self.counters.add("failed")
            log.exception("Error inserting to MongoDB event tracker backend")
            return False
        self.counters.add("exported")
        return True

    def shutdown(self) -> None:
        if self.upstream_protocol:
            return  # the replacement's life is its owner's
        super().shutdown()


forward_signature(MongoBackend.__init__, MongoExporter.__init__)

__all__ = ["BSONError", "MongoBackend", "MongoClient", "PyMongoError", "log", "pymongo"]
