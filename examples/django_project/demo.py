"""One command, no server: three requests through the project's full middleware stack, then flush.

Run: python examples/django_project/demo.py   (events on stdout, or over OTLP, see settings.py)
"""

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "example_project.settings")

import django

django.setup()

from django.test import Client  # noqa: E402

import otel_eventtracking  # noqa: E402

client = Client(headers={"user-agent": "demo-browser/1.0", "accept-language": "en-US"})
client.cookies["_ga"] = "GA1.2.1033501218.1368477899"
client.get("/")
client.get("/")
client.get("/courses/course-v1:edX+DemoX+2024/enroll", headers={"referer": "http://localhost/"})
print("delivered:", otel_eventtracking.flush(30), file=sys.stderr)
