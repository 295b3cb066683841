"""Settings of the Django app the integration tests run (in-process and in subprocesses)."""

import os
import tempfile

SECRET_KEY = "integration-tests-secret"
DEBUG = False
ALLOWED_HOSTS = ["*"]
USE_TZ = True
ROOT_URLCONF = "tests.integrations.django_app.urls"
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "otel_eventtracking.django",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "otel_eventtracking.django.middleware.RequestContextMiddleware",
]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("OTEL_ET_TEST_DB") or os.path.join(tempfile.gettempdir(), f"otel-et-{os.getpid()}.db"),
    }
}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EVENT_TRACKING_ENABLED = False
