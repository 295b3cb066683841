"""Upstream-style processor and backend of the test project (plain classes, as plug-ins write them)."""

import datetime
import json
import threading


def to_json(value):
    """JSON for what a backend receives, keeping the type of a datetime visible."""
    if isinstance(value, datetime.datetime):
        return {"$datetime": value.isoformat()}
    raise TypeError(f"{type(value).__name__} in a recorded event")


class Mark:
    """Adds ``context[key] = True``: shows which processors an event went through."""

    def __init__(self, key):
        self.key = key

    def __call__(self, event):
        event["context"] = dict(event.get("context") or {}, **{self.key: True})
        return event


class FileRecorder:
    """Appends every event it is sent to a JSON lines file (with the thread that sent it)."""

    def __init__(self, path):
        self.path = path
        self.lock = threading.Lock()

    def send(self, event):
        line = json.dumps({"event": event, "thread": threading.current_thread().name}, default=to_json)
        with self.lock, open(self.path, "a", encoding="utf-8") as fh:
            fh.write(line + "\n")
