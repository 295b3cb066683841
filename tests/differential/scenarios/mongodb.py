"""MongoBackend: the stored document's shape and the indexes, read back with pymongo from the
local MongoDB wire server (nx-27017).

Write concern: upstream's MongoBackend defaults to unacknowledged writes (w=0), which nx-27017
mishandles (the document is not stored and the next operation fails). The scenarios pass
`extra={'w': 1}`, an option upstream's backend documents (`extra` goes to MongoClient), on both
sides; nothing else about upstream's backend is changed."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from eventtracking.backends.mongodb import MongoBackend
from eventtracking.backends.routing import RoutingBackend

from ..harness import Harness, scenario
from ._common import fixed_event

GROUP = "mongo"
_collections = itertools.count(1)


def _backend(h: Harness) -> tuple[Any, Any]:
    """A MongoBackend on a fresh collection, and that collection as read by a plain client."""
    import pymongo

    server = h.mongo()
    name = f"events_{next(_collections)}"
    extra = {"w": 1, "serverSelectionTimeoutMS": 3000}
    backend = MongoBackend(host="127.0.0.1", port=server.port, database="differential", collection=name, extra=extra)
    reader = pymongo.MongoClient(server.uri, tz_aware=True)["differential"][name]
    return backend, reader


def _documents(reader: Any) -> list[Any]:
    return list(reader.find({}))


@scenario(GROUP)
def mongo_document_shape(h: Harness) -> dict[str, Any]:
    """The document stored for an event with nested data, through a RoutingBackend."""
    backend, reader = _backend(h)
    RoutingBackend(backends={"mongo": backend}).send(fixed_event())
    return {"documents": _documents(reader)}


@scenario(GROUP)
def mongo_values_in_data(h: Harness) -> dict[str, Any]:
    """Naive and non-UTC datetimes, a date, a tuple and a big int in data, as stored."""
    backend, reader = _backend(h)
    data = {
        "naive": dt.datetime(2024, 1, 2, 3, 4, 5),
        "plus2": dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.timezone(dt.timedelta(hours=2))),
        "tuple": (1, 2),
        "int64": 2**62,
    }
    RoutingBackend(backends={"mongo": backend}).send(fixed_event(data=data))
    return {"documents": [d.get("data") for d in _documents(reader)]}


@scenario(GROUP)
def mongo_indexes(h: Harness) -> dict[str, Any]:
    """The indexes the backend creates (their keys; index names differ on nx-27017)."""
    backend, reader = _backend(h)
    RoutingBackend(backends={"mongo": backend}).send(fixed_event())
    keys = sorted(sorted([k, int(d)] for k, d in info["key"]) for info in reader.index_information().values())
    return {"index_keys": keys}


@scenario(GROUP)
def mongo_sibling_after_insert(h: Harness) -> dict[str, Any]:
    """A backend registered after the MongoBackend: does its event dict gain the `_id` that
    insert_one adds?"""
    backend, reader = _backend(h)
    rec = h.recorder()
    RoutingBackend(backends={"a_mongo": backend, "b_rec": rec}).send(fixed_event())
    return {"sibling_keys": sorted(rec.events[0]), "stored": len(_documents(reader))}


@scenario(GROUP)
def mongo_send_directly(h: Harness) -> dict[str, Any]:
    """MongoBackend.send(event) called directly, and whether the caller's dict gains `_id`."""
    backend, reader = _backend(h)
    event = fixed_event()
    outcome = h.outcome(backend.send, event)
    return {"outcome": outcome, "caller_keys": sorted(event), "stored": len(_documents(reader))}


@scenario(GROUP)
def mongo_unknown_options(h: Harness) -> dict[str, Any]:
    """An option MongoBackend does not know (a typo of `database`)."""
    server = h.mongo()
    extra = {"w": 1, "serverSelectionTimeoutMS": 3000}
    return {"outcome": h.outcome(MongoBackend, host="127.0.0.1", port=server.port, extra=extra, databse="typo")}


@scenario(GROUP)
def mongo_default_write_concern(h: Harness) -> dict[str, Any]:
    """The write concern a MongoBackend built without `w` in `extra` writes with."""
    server = h.mongo()
    backend = MongoBackend(host="127.0.0.1", port=server.port, collection=f"events_{next(_collections)}",
                           extra={"serverSelectionTimeoutMS": 3000})  # fmt: skip
    return {"write_concern": backend.collection.write_concern.document}
