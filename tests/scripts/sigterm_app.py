"""A plain ``python app.py`` that a test ends with a real SIGTERM (as ``docker stop`` does).

``python sigterm_app.py OUT [options]``: emits ``--events`` events into a batching node (JSON lines
to OUT, ``schedule_delay=30`` so that nothing is delivered before the signal unless flushed), prints
``ready``, then sleeps (or, with ``--loop``, emits without pause). Options:

* ``--install``: call ``otel_eventtracking.install_signal_handlers(timeout=...)``;
* ``--app-handler before|after|flag``: the application's own SIGTERM handler, installed before or
  after ours (it writes a line to ``OUT.handler`` and calls ``sys.exit(0)``), or one that only sets
  a flag that the main loop polls (then the program returns normally);
* ``--spool DIR``: a spooled node instead of the memory one;
* ``--slow SECONDS``: each export takes that long (a stuck exporter: the exit budget is exercised);
* ``--timeout SECONDS``: the exit flush budget passed to ``install_signal_handlers``.

At exit (after the library's flush) writes ``OUT.exit``: events whose ``emit`` returned, and the
node's counters.
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import signal
import sys
import time

import otel_eventtracking
from otel_eventtracking import BatchingRoutingBackend, SpooledBatchingRoutingBackend, Tracker
from otel_eventtracking.exporters import JsonLinesExporter

parser = argparse.ArgumentParser()
parser.add_argument("out")
parser.add_argument("--install", action="store_true")
parser.add_argument("--app-handler", choices=["before", "after", "flag"])
parser.add_argument("--spool")
parser.add_argument("--slow", type=float, default=0.0)
parser.add_argument("--timeout", type=float)
parser.add_argument("--events", type=int, default=3)
parser.add_argument("--loop", action="store_true")
args = parser.parse_args()

done = 0
stop = False


def write_exit_report() -> None:  # registered first: runs after the library's exit flush
    with open(args.out + ".exit", "w") as fh:
        json.dump({"returned": done, "stats": node.node_stats()}, fh)


atexit.register(write_exit_report)


class SlowJsonLines(JsonLinesExporter):
    def export_events(self, events):  # type: ignore[no-untyped-def]
        time.sleep(args.slow)
        return super().export_events(events)


def app_handler(signum, frame):  # type: ignore[no-untyped-def]
    global stop
    with open(args.out + ".handler", "a") as fh:
        fh.write(f"handled {signum}\n")
    if args.app_handler == "flag":
        stop = True
        return
    sys.exit(0)


exporter = SlowJsonLines(args.out) if args.slow else JsonLinesExporter(args.out)
options = {"schedule_delay": 30.0, "max_batch_size": 512}
if args.spool:
    node = SpooledBatchingRoutingBackend({"j": exporter}, spool_dir=args.spool, **options)
else:
    node = BatchingRoutingBackend({"j": exporter}, **options)
tracker = Tracker(backends={"n": node}, emit_log_records=False)

if args.app_handler in ("before", "flag"):
    signal.signal(signal.SIGTERM, app_handler)
if args.install:
    print(json.dumps(otel_eventtracking.install_signal_handlers(timeout=args.timeout)), file=sys.stderr)
if args.app_handler == "after":
    signal.signal(signal.SIGTERM, app_handler)

for i in range(args.events):
    tracker.emit("sigterm.test", {"i": i})
    done = i + 1
print("ready", os.getpid(), flush=True)
i = args.events
while not stop:
    if args.loop:
        tracker.emit("sigterm.test", {"i": i})
        i += 1
        done = i
    else:
        time.sleep(0.01)
