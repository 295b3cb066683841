"""Code written for the real event-tracking, unchanged; run under opentelemetry-instrument by the tests."""

from eventtracking import tracker


class PrintBackend:
    def send(self, event):
        print("sent to the legacy backend:", event["name"])


tracker.register_tracker(tracker.Tracker(backends={"print": PrintBackend()}))
with tracker.get_tracker().context("course", {"course_id": "c1"}):
    tracker.emit("edx.legacy.hello", {"n": 1})
