"""A Flask app that reports the request context its views run in and emits one event per request."""

from __future__ import annotations

import threading
from typing import Any

from flask import Flask, jsonify, request, stream_with_context

from otel_eventtracking import tracker


def create_app(**config: Any) -> Flask:
    app = Flask(__name__)
    app.config.update(config)
    app.barrier: threading.Barrier | None = None  # type: ignore[attr-defined]

    def report():
        t = tracker.get_tracker()
        t.emit("test.request", {"token": request.args.get("token", "")})
        return jsonify(context=t.resolve_context(), contexts=list(t.located_context))

    @app.route("/context", methods=["GET", "POST"])
    def context_view():
        return report()

    @app.get("/async-context")
    async def async_context_view():
        return report()

    @app.get("/boom")
    def boom():
        tracker.emit("test.before_error", {})
        raise RuntimeError("boom")

    @app.get("/barrier")
    def barrier():
        app.barrier.wait(timeout=10)  # type: ignore[attr-defined]
        return report()

    def leak() -> None:
        course = request.args.get("course")
        if course:  # a bug in a view: entered, never exited; it must end with the request
            tracker.get_tracker().enter_context(f"course-{course}", {"course_id": course})

    @app.get("/leaky")
    def leaky():
        leak()
        return report()

    @app.get("/async-leaky")
    async def async_leaky():
        leak()
        return report()

    @app.get("/streaming-leaky")
    def streaming_leaky():
        token = request.args.get("token", "")

        def chunks():
            leak()
            for part in range(3):
                tracker.emit("test.stream", {"token": token, "part": part})
                yield f"{part}\n"

        return app.response_class(stream_with_context(chunks()))

    return app
