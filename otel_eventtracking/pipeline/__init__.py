"""The pipeline between ``emit`` and the exporters: routing nodes (processors, then children),
batching nodes (a queue drained by a worker), the memory queue and the disk spool, adapters for
upstream-shaped processors and backends, and the process-wide exit and fork hooks.

Public faces: :class:`~.routing.RoutingBackend`, :class:`~.batching.BatchingRoutingBackend`
(also ``AsyncRoutingBackend``) and :class:`~.batching.SpooledBatchingRoutingBackend`. This
package's ``__init__`` imports nothing, so low-level modules can use ``pipeline.stats``.
"""
