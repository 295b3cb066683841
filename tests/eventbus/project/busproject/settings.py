"""Settings of the producer and consumer processes, chosen by environment variables set by the test.

``BUS_ROLE``: ``producer`` or ``consumer``. ``BUS_MODE`` (producer): ``routing`` (upstream's
EventBusRoutingBackend on the request thread) or ``native`` (EventBusExporter in a batching
worker); (consumer) ``shim`` (``eventtracking.django``) or ``native`` (``otel_eventtracking.django``).
``BUS_REDIS_URL``, ``BUS_TOPIC_PREFIX``, ``BUS_OUT`` (a directory for the output files),
``BUS_TOGGLE`` (``1``/``0``) and ``BUS_ALLOW`` (comma-separated event names).

The same settings run under this library's shim and under the real event-tracking 4.0.2 (in
its own venv, where otel_eventtracking is not installed).
"""

import os
from pathlib import Path

try:
    from otel_eventtracking import compat
except ImportError:  # the venv with the real event-tracking: nothing to shim
    REAL_EVENT_TRACKING = True
else:
    REAL_EVENT_TRACKING = not compat.install()

ROLE = os.environ.get("BUS_ROLE", "producer")
MODE = os.environ.get("BUS_MODE", "routing")
OUT = Path(os.environ.get("BUS_OUT", "."))

SECRET_KEY = "event-bus-test-only"
USE_TZ = True
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(OUT / f"{ROLE}.sqlite3")}}
NATIVE_APP = ROLE == "consumer" and MODE == "native"
INSTALLED_APPS = ["otel_eventtracking.django" if NATIVE_APP else "eventtracking.django", "openedx_events", "busproject"]

# openedx-events and its Redis bus.
EVENT_BUS_PRODUCER = "edx_event_bus_redis.create_producer"
EVENT_BUS_CONSUMER = "edx_event_bus_redis.RedisEventConsumer"
EVENT_BUS_REDIS_CONNECTION_URL = os.environ.get("BUS_REDIS_URL", "redis://127.0.0.1:6379/0")
EVENT_BUS_TOPIC_PREFIX = os.environ.get("BUS_TOPIC_PREFIX", "test")
EVENT_BUS_REDIS_CONSUMER_POLL_TIMEOUT = 1
EVENT_BUS_PRODUCER_CONFIG = {
    "org.openedx.analytics.tracking.event.emitted.v1": {
        "analytics": {"event_key_field": "tracking_log.name", "enabled": True},
    },
}

# event-tracking, as an Open edX service configures it for the bus.
EVENT_TRACKING_ENABLED = True
SEND_TRACKING_EVENT_EMITTED_SIGNAL = os.environ.get("BUS_TOGGLE", "1") == "1"
EVENT_BUS_TRACKING_LOGS = [name for name in os.environ.get("BUS_ALLOW", "").split(",") if name]
EVENT_TRACKING_PROCESSORS = [{"ENGINE": "busproject.recording.Mark", "OPTIONS": {"key": "root_processor"}}]

_ENGINE = "eventtracking.backends.event_bus.EventBusRoutingBackend"
_RECORDER = "busproject.recording.FileRecorder"
if ROLE == "producer" and MODE == "native":
    EVENT_TRACKING_BACKENDS = {
        "event_bus": {
            "ENGINE": "otel_eventtracking.pipeline.batching.BatchingRoutingBackend",
            "OPTIONS": {
                "backend_name": "event_bus",
                "backends": {"bus": {"ENGINE": "otel_eventtracking.exporters.event_bus.EventBusExporter"}},
            },
        },
    }
elif ROLE == "producer":
    # The node's own processors and backends must not run here: they run on the consumer side.
    EVENT_TRACKING_BACKENDS = {
        "event_bus": {
            "ENGINE": _ENGINE,
            "OPTIONS": {
                "processors": [{"ENGINE": "busproject.recording.Mark", "OPTIONS": {"key": "producer_bus_node"}}],
                "backends": {
                    "record": {"ENGINE": _RECORDER, "OPTIONS": {"path": str(OUT / "producer-node.jsonl")}},
                },
            },
        },
    }  # fmt: skip
else:
    EVENT_TRACKING_BACKENDS = {
        "event_bus": {
            "ENGINE": "otel_eventtracking.exporters.event_bus.EventBusRoutingBackend" if NATIVE_APP else _ENGINE,
            "OPTIONS": {
                "processors": [{"ENGINE": "busproject.recording.Mark", "OPTIONS": {"key": "consumer_bus_node"}}],
                "backends": {
                    "logger": {
                        "ENGINE": "eventtracking.backends.logger.LoggerBackend"
                        if not NATIVE_APP else "otel_eventtracking.exporters.logger.LoggerExporter",
                        "OPTIONS": {"name": "tracking", "max_event_size": 1_000_000},
                    },
                    "record": {"ENGINE": _RECORDER, "OPTIONS": {"path": str(OUT / "consumer.jsonl")}},
                },
            },
        },
    }  # fmt: skip

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"raw": {"format": "%(message)s"}, "plain": {"format": "%(asctime)s %(name)s %(message)s"}},
    "handlers": {
        "tracking": {"class": "logging.FileHandler", "filename": str(OUT / f"{ROLE}-tracking.log"), "formatter": "raw"},
        "console": {"class": "logging.StreamHandler", "formatter": "plain"},
    },
    "loggers": {
        "tracking": {"handlers": ["tracking"], "level": "INFO", "propagate": False},
        "": {"handlers": ["console"], "level": "WARNING"},
    },
}  # fmt: skip
