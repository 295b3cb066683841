"""A plain Django project's settings (no otel_eventtracking app or middleware), for the
``opentelemetry-instrument`` test: the instrumentors must add the request context on their own."""

SECRET_KEY = "auto-instrumentation-secret"
DEBUG = False
ALLOWED_HOSTS = ["*"]
USE_TZ = True
ROOT_URLCONF = "tests.integrations.django_app.urls"
INSTALLED_APPS = ["django.contrib.auth", "django.contrib.contenttypes"]
SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.middleware.common.CommonMiddleware",
]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
