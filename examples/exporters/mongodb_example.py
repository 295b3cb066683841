"""Events into MongoDB, batched. Starts a local MongoDB wire-protocol server (nx-27017) unless
MONGODB_URI points at a real one.

Run: python examples/exporters/mongodb_example.py   (needs: pip install -e ".[test]")
"""

import os

import pymongo

import otel_eventtracking
from otel_eventtracking.testing import LocalMongo


def main(uri: str) -> None:
    tracker = otel_eventtracking.configure(
        backends={
            "mongo": {
                "ENGINE": "eventtracking.backends.async_routing.AsyncRoutingBackend",  # batched, off-thread
                "OPTIONS": {
                    "backends": {
                        "store": {
                            "ENGINE": "eventtracking.backends.mongodb.MongoBackend",
                            "OPTIONS": {"uri": uri, "database": "example", "collection": "events"},
                        }
                    }
                },
            }
        },
        emit_log_records=False,
    )
    with tracker.context("edx.request", {"user_id": 42, "course_id": "course-v1:edX+DemoX+2024"}):
        for attempt in range(3):
            tracker.emit("problem.check", {"problem": "p1", "attempt": attempt, "correct": attempt == 2})
    print("delivered:", otel_eventtracking.flush(30))
    for doc in pymongo.MongoClient(uri, tz_aware=True)["example"]["events"].find().sort("data.attempt", 1):
        print(doc["name"], doc["timestamp"].isoformat(), doc["context"]["user_id"], doc["data"])


if __name__ == "__main__":
    if os.environ.get("MONGODB_URI"):
        main(os.environ["MONGODB_URI"])
    else:
        with LocalMongo() as server:
            main(server.uri)
