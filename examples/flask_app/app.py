"""A minimal Flask app using otel_eventtracking: config keys mirror the Django settings.

Serve:  python examples/flask_app/app.py          (http://127.0.0.1:5000/, events on stdout)
Demo:   python examples/flask_app/app.py --demo   (three requests through the test client, then exit)
Events go to stdout as JSON lines, or over OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set.
Stopped with SIGTERM (``docker stop``, systemd) it delivers every queued event, then exits with 143.
Under gunicorn (``gunicorn 'app:create_app()'``) the workers already exit cleanly on SIGTERM.
"""

from __future__ import annotations

import os
import sys

from flask import Flask, jsonify, session

import otel_eventtracking
from otel_eventtracking import tracker
from otel_eventtracking.flask import EventTracking

if os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
    # Endpoint, protocol and headers come from the standard OTEL_EXPORTER_OTLP_* variables.
    EXPORTER = {"ENGINE": "otlp", "OPTIONS": {}}
else:
    EXPORTER = {"ENGINE": "jsonl", "OPTIONS": {"path": os.environ.get("EVENTS_PATH", "-")}}


def create_app() -> Flask:
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=os.environ.get("FLASK_SECRET_KEY", "example-only-not-secret"),
        EVENT_TRACKING_ENABLED=True,
        EVENT_TRACKING_BACKENDS={
            "default": {
                "ENGINE": "eventtracking.backends.async_routing.AsyncRoutingBackend",
                "OPTIONS": {"backend_name": "default", "backends": {"events": EXPORTER}},
            }
        },
        # Behind your own reverse proxy: EVENT_TRACKING_IP_HEADER="X-Forwarded-For"
    )
    # With Flask-Login: user_getter=lambda: (current_user.id, current_user.username)
    #                   if current_user.is_authenticated else None
    EventTracking(app, user_getter=lambda: (session["user_id"], session["username"]) if "user_id" in session else None)

    @app.get("/")
    def home():
        tracker.emit("example.page.viewed", {"page": "home"})
        return jsonify(ok=True)

    @app.get("/login/<username>")
    def login(username: str):
        session.update(user_id=len(username), username=username)  # a stand-in for real authentication
        tracker.emit("edx.user.login", {"method": "demo"})
        return jsonify(user=username)

    @app.get("/courses/<course_id>/enroll")
    def enroll(course_id: str):
        tracker.emit("edx.course.enrollment.activated", {"course_id": course_id, "mode": "audit"})
        return jsonify(enrolled=course_id)

    return app


def demo(app: Flask) -> None:
    client = app.test_client()
    client.set_cookie("_ga", "GA1.2.1033501218.1368477899")
    headers = {"User-Agent": "demo-browser/1.0", "Accept-Language": "en-US"}
    client.get("/", headers=headers)
    client.get("/login/ada", headers=headers)
    client.get("/courses/course-v1:edX+DemoX+2024/enroll", headers={**headers, "Referer": "http://localhost/"})
    print("delivered:", otel_eventtracking.flush(30), file=sys.stderr)


if __name__ == "__main__":
    if "--demo" in sys.argv:
        demo(create_app())
    else:
        # A plain `python app.py` dies on SIGTERM without running atexit hooks: make it exit cleanly,
        # so the queued events are delivered first (within 8 s: below `docker stop`'s 10 s).
        otel_eventtracking.install_signal_handlers(timeout=8)
        create_app().run(host="127.0.0.1", port=int(os.environ.get("PORT", "5000")))
