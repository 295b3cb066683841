"""A plain Flask app (no integration code) run under ``opentelemetry-instrument`` by the tests."""

from flask import Flask, request

from otel_eventtracking import tracker

app = Flask(__name__)


@app.get("/hello")
def hello():
    tracker.emit("test.hello", {"token": request.args.get("token", "")})
    return {"context": tracker.get_tracker().resolve_context()}


if __name__ == "__main__":
    client = app.test_client()
    for i in range(2):
        assert client.get(f"/hello?token={i}", headers={"User-Agent": f"auto-{i}"}).status_code == 200
