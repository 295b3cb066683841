"""Store events in MongoDB (upstream ``MongoBackend`` options), batched and acknowledged.

Documents keep the upstream event shape (``name``, ``timestamp`` as a BSON date, ``context``,
``data``, plus keys processors added) with ``trace_id``/``span_id``; ``_id`` is the event id, so
a batch retried after a partial failure, or replayed, never stores an event twice (duplicate-key
answers count as stored).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from ..core.event import Event
from ..exceptions import EventTrackingError, ImproperlyConfigured, UnserializableEventError
from ..otel._sdk import LogRecordExportResult
from ..records.bson import mongo_document
from ..records.bson_fast import encode_document, encode_documents
from ..records.normalize import UnserializablePolicy
from ._parts import cut
from ._raw_bson import StoredDocument, stored_documents
from .base import FAILURE, SUCCESS, EventExporter
from .retry import RetryPolicy

try:
    import bson
    import pymongo
    from bson.raw_bson import RawBSONDocument
    from pymongo import errors as mongo_errors
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError("MongoExporter needs pymongo: pip install 'otel-eventtracking[mongodb]'") from exc

log = logging.getLogger(__name__)

DUPLICATE_KEY = 11000
MAX_BSON_SIZE = 16 * 1024 * 1024
MAX_WRITE_BATCH = 100_000  # documents per insert command (the server's maxWriteBatchSize)
# Bytes an array element adds to its document: type, the index as a C string (up to "99999").
_ELEMENT_OVERHEAD = 7
# Retryable per the server (NotWritablePrimary, NotPrimaryNoSecondaryOk, InterruptedAtShutdown,
# HostUnreachable, PrimarySteppedDown...): as a command's error or as one document's write error.
_TRANSIENT_CODES = frozenset({6, 7, 89, 91, 189, 262, 9001, 10107, 11600, 11602, 13435, 13436})
_TRANSIENT = (mongo_errors.AutoReconnect, mongo_errors.ConnectionFailure, mongo_errors.ExecutionTimeout)


# A batch in flight: its events, their documents (None: dropped) and the positions still to store.
# Positions, not (event, document) pairs: an int is no work for the cyclic garbage collector, a
# tuple per event is (every object a batch keeps alive brings its next run closer).
_Docs = list[RawBSONDocument | StoredDocument | None]


def _is_transient_code(code: object) -> bool:
    return code in _TRANSIENT_CODES


def _is_transient(exc: BaseException) -> bool:
    if isinstance(exc, _TRANSIENT):
        return True
    if isinstance(exc, mongo_errors.OperationFailure) and _is_transient_code(exc.code):
        return True
    has_label = getattr(exc, "has_error_label", None)
    return bool(has_label and (has_label("RetryableWriteError") or has_label("TransientTransactionError")))


class MongoExporter(EventExporter):
    """Options as upstream ``MongoBackend``: ``host``, ``port``, ``user``, ``password``,
    ``database`` (default ``eventtracking``), ``collection`` (default ``events``), ``extra``
    (more ``MongoClient`` keyword arguments); or ``uri`` instead of host/port/user/password.

    Writes are acknowledged (``w=1`` unless ``write_concern``, ``extra`` or the URI's ``w`` says
    otherwise; upstream used ``w=0``, which loses events silently) and go out as one unordered
    ``insert`` command per batch (more if it is over 16 MiB or 100,000 documents). Transient errors
    (network, no primary, retryable write errors) are retried with backoff for ``retry_window``
    seconds; what is still not stored is counted as ``failed`` (and also as ``unconfirmed`` when
    an attempt broke after the request left: the server may hold some of those, so ``failed`` is
    then an upper bound). A document BSON cannot hold is counted as
    ``dropped.unserializable``/``dropped.oversize`` and logged with its event name; a document
    the server rejects is counted as ``dropped.rejected``: neither blocks the rest of the batch.
    Indexes on ``timestamp`` and ``name`` are created once, from the export worker.
    """

    def __init__(
        self,
        host: str = "localhost",
        port: int = 27017,
        user: str | None = None,
        password: str | None = None,
        database: str = "eventtracking",
        collection: str = "events",
        extra: Mapping[str, Any] | None = None,
        uri: str | None = None,
        *,
        write_concern: int | str | None = None,
        retry_window: float = 60.0,
        server_selection_timeout_ms: int = 5000,
        create_indexes: bool = True,
        include_trace_context: bool = True,
        unserializable: UnserializablePolicy = "drop",
    ) -> None:
        super().__init__(unserializable=unserializable)
        if extra is not None and not isinstance(extra, Mapping):
            raise ImproperlyConfigured(f"extra must be a dict of MongoClient options, got {type(extra).__name__}")
        options: dict[str, Any] = {
            "tz_aware": True,
            "w": 1 if write_concern is None else write_concern,
            "serverSelectionTimeoutMS": server_selection_timeout_ms,
            **dict(extra or {}),
        }
        if uri is not None:
            if write_concern is None and _uri_sets_w(uri):
                del options["w"]  # the URI's own write concern: a keyword would override it
            self.client: pymongo.MongoClient[Any] = pymongo.MongoClient(uri, **options)
        else:
            credentials: dict[str, Any] = {"username": user, "password": password} if user is not None else {}
            self.client = pymongo.MongoClient(host=host, port=port, **credentials, **options)
        self.collection = self.client[database][collection]
        self.retry = RetryPolicy(window=retry_window)
        self.include_trace_context = include_trace_context
        self._indexes_pending = create_indexes
        self._stop = threading.Event()

    # -- documents ------------------------------------------------------------------------------
    def document(self, event: Event) -> dict[str, Any]:
        """The document stored for ``event`` (raises UnserializableEventError per the policy)."""
        return mongo_document(event, policy=self.unserializable, include_trace=self.include_trace_context)

    def encode(self, event: Event, *, fast: bool = True) -> RawBSONDocument:
        """The BSON document for ``event``; UnserializableEventError if BSON cannot hold it.
        ``fast=False``: through the reference rules (:meth:`document`), which tests compare with."""
        try:
            if fast and event.upstream is None:
                raw = encode_document(
                    event, policy=self.unserializable, include_trace_context=self.include_trace_context
                )
            else:
                raw = bson.encode(self.document(event))
        except UnserializableEventError:
            raise
        except (bson.errors.InvalidDocument, OverflowError, UnicodeError) as exc:
            raise UnserializableEventError(event.name, "document", f"cannot be encoded as BSON: {exc}") from exc
        return _checked(raw)

    # -- export ---------------------------------------------------------------------------------
    def export_events(self, events: Sequence[Event]) -> LogRecordExportResult:
        # The batch path first; what it could not take is encoded alone, which names the problem.
        raws = encode_documents(events, policy=self.unserializable, include_trace_context=self.include_trace_context)
        docs: _Docs
        docs, missing = stored_documents(raws, MAX_BSON_SIZE)
        for i in missing:
            alone = docs[i] = self._alone(events[i], raws[i])
            raws[i] = b"" if alone is None else bytes(alone.raw)
        sizes = [len(raw or b"") for raw in raws]  # by position: every entry is bytes by now
        pending = [i for i, doc in enumerate(docs) if doc is not None] if missing else list(range(len(docs)))
        if not pending:
            return SUCCESS
        self._ensure_indexes()
        waits = self.retry.waits(self._stop)
        maybe_sent = False  # a request that broke after it left: the server may hold some of it
        while True:
            pending, error = self._insert(events, docs, sizes, pending)
            if not pending:
                return SUCCESS
            maybe_sent = maybe_sent or not isinstance(error, mongo_errors.ServerSelectionTimeoutError)
            if next(waits, None) is None:
                break
            self.counters.add("retries")
        self.counters.add("failed", len(pending))
        if maybe_sent:  # counted lost, but some may be stored: an upper bound, said as such
            self.counters.add("unconfirmed", len(pending))
        self.report("failed", len(pending), "%d event(s) not stored after retrying for %ss: %r",
                    len(pending), self.retry.window, error)  # fmt: skip
        return FAILURE

    def _alone(self, event: Event, raw: bytes | None) -> RawBSONDocument | None:
        """The document of an event the batch path left out (or whose ``raw`` it found too big:
        ``_checked`` says so); None: dropped, counted."""
        try:
            return self.encode(event) if raw is None else _checked(raw)
        except UnserializableEventError as exc:
            self.drop(event, "unserializable", "event %r not stored: %s", event.name, exc)
        except _Oversize as exc:
            self.drop(event, "oversize", "event %r not stored: %d bytes is over MongoDB's 16 MiB", event.name,
                      exc.size)  # fmt: skip
        except Exception as exc:  # a value whose conversion raises: poison, alone
            self.drop(event, "poison", "event %r not stored: building its document raised %r", event.name, exc)
        return None

    def _insert(
        self, events: Sequence[Event], docs: _Docs, sizes: list[int], pending: list[int]
    ) -> tuple[list[int], BaseException | None]:
        """One attempt at every part of the batch; returns what is left to retry and the last error.

        Each part is one ``insert`` command of raw documents (not ``insert_many``: its per-document
        Python work cost 0.9 us of the ~2.5 us pymongo spent per event). pymongo's own write
        retry is not needed: the retry loop above sends again and ``_id`` makes a copy harmless."""
        retry: list[int] = []
        error: BaseException | None = None
        collection = self.collection  # read per batch: replacing the attribute redirects the writes
        concern = collection.write_concern.document
        parts = _parts(sizes, pending)
        for number, part in enumerate(parts):
            try:
                command = {"insert": collection.name, "documents": [docs[i] for i in part], "ordered": False}
                if concern:
                    command["writeConcern"] = concern
                reply = collection.database.command(command)
            except mongo_errors.PyMongoError as exc:
                error = exc
                if _is_transient(exc):  # this part and the ones not tried yet
                    retry.extend(item for later in parts[number:] for item in later)
                    return retry, error
                self.counters.add("failed", len(part))
                self.report("error", len(part), "%d event(s) not stored: %r", len(part), exc)
                continue
            left = self._after_reply(events, part, reply)
            if left:
                retry.extend(left)
                error = _ReplyError(reply)
        return retry, error

    def _after_reply(self, events: Sequence[Event], part: list[int], reply: Mapping[str, Any]) -> list[int]:
        """Count what one ``insert`` reply stored or rejected; return what to write again."""
        if reply.get("writeConcernError"):
            # Written but not confirmed as required: write again; duplicates count as stored.
            return part
        errors = reply.get("writeErrors")
        if not errors:
            self.counters.add("exported", len(part))
            return []
        failed_at: dict[int, Mapping[str, Any]] = {e.get("index", -1): e for e in errors}
        retry: list[int] = []
        stored = 0
        for index, item in enumerate(part):
            error = failed_at.get(index)
            if error is None or error.get("code") == DUPLICATE_KEY:
                stored += 1  # written now, or by an earlier attempt of this batch
            elif _is_transient_code(error.get("code")):
                retry.append(item)
            else:
                self.drop(events[item], "rejected", "event %r rejected by MongoDB: %s", events[item].name,
                          error.get("errmsg"))  # fmt: skip
        self.counters.add("exported", stored)
        return retry

    def _ensure_indexes(self) -> None:
        if not self._indexes_pending:
            return
        try:
            self.collection.create_index("name")
            self.collection.create_index("time")  # upstream's index: the legacy tracking-log shape has `time`
            self.collection.create_index([("timestamp", pymongo.DESCENDING)])
        except mongo_errors.PyMongoError as exc:
            log.debug("index creation deferred: %r", exc)
            return
        self._indexes_pending = False

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True

    def shutdown(self) -> None:
        self._stop.set()
        self.client.close()


class _Oversize(EventTrackingError):
    def __init__(self, size: int) -> None:
        self.size = size


def _checked(raw: bytes) -> RawBSONDocument:
    """A document's bytes as pymongo sends them; _Oversize if MongoDB would refuse its size."""
    if len(raw) > MAX_BSON_SIZE:
        raise _Oversize(len(raw))
    return RawBSONDocument(raw)


def _uri_sets_w(uri: str) -> bool:
    """Whether a MongoDB URI's options name ``w`` (read without resolving a ``mongodb+srv`` host)."""
    query = uri.partition("?")[2]
    return any(pair.partition("=")[0].lower() == "w" for pair in query.replace(";", "&").split("&"))


class _ReplyError(EventTrackingError):
    """What an ``insert`` reply said about the documents it did not store."""

    def __init__(self, reply: Mapping[str, Any]) -> None:
        concern = reply.get("writeConcernError")
        errors = reply.get("writeErrors") or []
        said = f"write concern error: {concern.get('errmsg')}" if concern else f"{len(errors)} write error(s)"
        first = "" if concern or not errors else f", first: {errors[0].get('errmsg')}"
        super().__init__(said + first)


def _parts(sizes: list[int], pending: list[int]) -> list[list[int]]:
    """``pending`` cut into ``insert`` commands a server takes: each under MongoDB's 16 MiB
    (a document alone can be that big: the command's own fields fit in pymongo's allowance) and
    at most MAX_WRITE_BATCH documents. ``sizes``: each document's bytes, by position."""
    if len(pending) <= MAX_WRITE_BATCH and sum(sizes) + _ELEMENT_OVERHEAD * len(sizes) <= MAX_BSON_SIZE:
        return [pending]  # the usual batch: one command, no per-document sizes to add up
    return cut(pending, [sizes[i] + _ELEMENT_OVERHEAD for i in pending], MAX_BSON_SIZE, MAX_WRITE_BATCH)


MongoBackend = MongoExporter
