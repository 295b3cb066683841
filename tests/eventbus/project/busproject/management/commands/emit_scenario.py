"""``manage.py emit_scenario --count N``: emit the scenario's events through the default tracker and
record every ``TRACKING_EVENT_EMITTED`` signal this process sends (to ``$BUS_OUT/signals.jsonl``)."""

import datetime as dt
import json
import threading

from django.conf import settings
from django.core.management.base import BaseCommand
from openedx_events.analytics.signals import TRACKING_EVENT_EMITTED

from busproject import scenario


class _Clock(dt.datetime):
    """``eventtracking.tracker.datetime`` for both implementations: the scenario's fixed times."""

    ticks = iter(())

    @classmethod
    def now(cls, tz=None):
        return next(cls.ticks).astimezone(tz)


def _record(path):
    lock = threading.Lock()

    def receiver(sender, signal, **kwargs):
        log = kwargs["tracking_log"]
        line = {
            "name": log.name,
            "timestamp": log.timestamp.isoformat(),
            "data": log.data,
            "context": log.context,
            "from_event_bus": kwargs.get("from_event_bus"),
            "thread": threading.current_thread().name,
        }
        with lock, open(path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(line) + "\n")

    return receiver


class Command(BaseCommand):
    help = "Emit the event-bus scenario"

    def add_arguments(self, parser):
        parser.add_argument("--count", type=int, default=50)

    def handle(self, *args, **options):
        import eventtracking.tracker as tracker_module

        receiver = _record(settings.OUT / "signals.jsonl")
        TRACKING_EVENT_EMITTED.connect(receiver, weak=False)
        count = options["count"]
        _Clock.ticks = iter([scenario.timestamp(i) for i in range(count)])
        tracker_module.datetime = _Clock
        tracker = tracker_module.get_tracker()
        for i in range(count):
            name, data, _ = scenario.event(i)
            context, _ = scenario.context_for(i)
            tracker.enter_context("scenario", context)
            tracker.emit(name, data)
            tracker.exit_context("scenario")
        flush = getattr(tracker, "flush", None)  # only this library's tracker has one (batching)
        if flush is not None and not flush(30):
            raise SystemExit("the tracker did not deliver every event")
        self.stdout.write(f"emitted {count}")
