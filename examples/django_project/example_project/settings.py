"""A minimal Django project using otel_eventtracking: the upstream settings, verbatim engine paths.

Events go to stdout as JSON lines, or over OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set.
"""

import os

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "example-only-not-secret")
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
USE_TZ = True
ROOT_URLCONF = "example_project.urls"
WSGI_APPLICATION = "example_project.wsgi.application"

INSTALLED_APPS = [
    "django.contrib.sessions",
    "otel_eventtracking.django",  # builds the default tracker from EVENT_TRACKING_* at start-up
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "otel_eventtracking.django.middleware.RequestContextMiddleware",  # the edx.request context
]
SESSION_ENGINE = "django.contrib.sessions.backends.cache"  # in memory: no database needed
DATABASES = {}

if os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
    # Endpoint, protocol and headers come from the standard OTEL_EXPORTER_OTLP_* variables.
    EXPORTER = {"ENGINE": "otlp", "OPTIONS": {}}
else:
    EXPORTER = {"ENGINE": "jsonl", "OPTIONS": {"path": os.environ.get("EVENTS_PATH", "-")}}

EVENT_TRACKING_ENABLED = True
EVENT_TRACKING_BACKENDS = {
    "default": {
        # Upstream's Celery-backed node; here a background worker batches the events.
        "ENGINE": "eventtracking.backends.async_routing.AsyncRoutingBackend",
        "OPTIONS": {"backend_name": "default", "backends": {"events": EXPORTER}},
    },
}
EVENT_TRACKING_PROCESSORS = [
    {
        "ENGINE": "eventtracking.processors.regex_filter.RegexFilter",
        "OPTIONS": {"filter_type": "blocklist", "regular_expressions": [r"example\.debug\."]},
    }
]
# Behind your own reverse proxy: EVENT_TRACKING_IP_HEADER = "X-Forwarded-For"
