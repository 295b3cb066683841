"""Requests to a plain Django project, run under ``opentelemetry-instrument`` by the tests. Like
``manage.py``, it sets DJANGO_SETTINGS_MODULE itself (after the instrumentors ran) unless given."""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.integrations.django_app.auto_settings")
django.setup()

from django.test import Client  # noqa: E402

client = Client()
for i in range(2):
    assert client.get(f"/context/?token={i}", headers={"user-agent": f"auto-{i}"}).status_code == 200
