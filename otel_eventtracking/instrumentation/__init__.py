"""Web framework integrations shared by Django and Flask, and the OpenTelemetry instrumentors.

:mod:`.request_context` builds and scopes the per-request context (one builder for every
framework); :mod:`.settings` turns ``EVENT_TRACKING_*`` settings into a tracker. The
instrumentors (:mod:`.django`, :mod:`.flask`, :mod:`.legacy`) need ``opentelemetry-instrumentation``
and are loaded by ``opentelemetry-instrument`` through the ``opentelemetry_instrumentor`` entry
points; nothing here imports them (or any web framework) eagerly.
"""
