"""The core: the event record, contexts on the OpenTelemetry Context, the tracker and the registry
of named trackers. (This ``__init__`` imports nothing, so its modules can be imported alone.)"""
