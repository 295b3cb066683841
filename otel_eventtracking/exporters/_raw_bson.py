"""Documents this package wrote, handed to pymongo to send as they are.

pymongo's C encoder copies a document's bytes unread when the object's ``_type_marker`` is 101
and its bytes are in ``raw``: that is how it sends a ``RawBSONDocument``. A ``RawBSONDocument``
costs more than its bytes: its constructor re-reads the document's length and checks codec
options, and ``raw`` is a Python property the encoder calls (together ~0.4 us a document, ~5% of
an event's cost to MongoDB). :class:`StoredDocument` is the marker, a ``raw`` slot and a mapping
view for whoever reads it (a command listener). If a pymongo release encodes it differently from
a ``RawBSONDocument`` (checked once, at import), ``RawBSONDocument`` is used.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import bson
from bson.raw_bson import RawBSONDocument

log = logging.getLogger(__name__)


class StoredDocument(Mapping[str, Any]):
    """A whole BSON document (``raw``), which pymongo sends as it sends a ``RawBSONDocument``.

    Read as a mapping (a command listener looking at the ``insert`` it saw), it decodes its
    bytes once, as a ``RawBSONDocument`` would."""

    __slots__ = ("_decoded", "raw")
    _type_marker = 101  # bson's marker of a raw document

    def __init__(self, raw: bytes) -> None:
        self.raw = raw

    def _document(self) -> Mapping[str, Any]:
        try:
            return self._decoded
        except AttributeError:
            self._decoded: Mapping[str, Any] = bson.decode(self.raw)
            return self._decoded

    def __getitem__(self, key: str) -> Any:
        return self._document()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._document())

    def __len__(self) -> int:
        return len(self._document())

    def __repr__(self) -> str:
        return f"StoredDocument({len(self.raw)} bytes)"


def _encoded_as_raw() -> bool:
    """Whether pymongo writes a StoredDocument as the RawBSONDocument of the same bytes."""
    sample = bson.encode({"_id": "a", "n": 1})
    try:
        ours = bson.encode({"d": [StoredDocument(sample)]})
    except Exception as exc:
        log.debug("pymongo does not take StoredDocument (%r): RawBSONDocument is used", exc)
        return False
    return ours == bson.encode({"d": [RawBSONDocument(sample)]})


_AS_RAW = _encoded_as_raw()


def stored_documents(raws: Sequence[bytes | None], max_size: int) -> tuple[list[Any], list[int]]:
    """A document pymongo sends as it is for each of ``raws`` (whole BSON documents this package
    wrote) of at most ``max_size`` bytes, None for a missing or bigger one; and the positions of
    those Nones (``None in documents`` would call each mapping's Python ``__eq__``)."""
    out: list[Any] = [None] * len(raws)
    missing: list[int] = []
    new, cls = object.__new__, StoredDocument
    for i, raw in enumerate(raws):
        if raw is None or len(raw) > max_size:
            missing.append(i)
        elif _AS_RAW:
            doc = out[i] = new(cls)  # what StoredDocument(raw) makes, without a Python __init__ call
            doc.raw = raw
        else:
            out[i] = RawBSONDocument(raw)
    return out, missing
