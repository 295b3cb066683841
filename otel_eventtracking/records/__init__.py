"""One place where an event becomes a record: the JSON shape, OTLP AnyValues, BSON documents and
spool records are all built here, from :mod:`.shape` (which keys, in which order) and
:mod:`.normalize` (how each value is written)."""
