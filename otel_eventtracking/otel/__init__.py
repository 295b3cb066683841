"""OpenTelemetry glue: the SDK's private API (``_sdk``, the only module that touches it), the
log-record backend (events on a ``LoggerProvider``) and the pipeline's own metrics."""
