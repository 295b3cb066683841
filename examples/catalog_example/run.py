"""Declared events, validation in warn mode, and a generated catalog, in one command.

Run: python examples/catalog_example/run.py [--out DIR]
Prints the events as JSON lines (each carries "schema": {"id", "version"}), a warning for the one
invalid event, the validation counters, then writes the catalog (catalog.md, catalog.json,
catalog.html; default: the catalog/ folder beside this file) and checks that every event name
emitted in this folder is declared.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import lms  # this folder is on sys.path when run as a script

import otel_eventtracking
from otel_eventtracking import BatchingRoutingBackend, cli
from otel_eventtracking.catalog import SchemaMetadataProcessor, load_file
from otel_eventtracking.exporters import JsonLinesExporter
from otel_eventtracking.processors.validation import ValidationProcessor

HERE = Path(__file__).resolve().parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(HERE / "catalog"), help="where to write the catalog")
    out = parser.parse_args().out
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s", stream=sys.stdout)

    load_file(HERE / "declarations.yaml")  # events.py declared its types when lms imported it
    tracker = otel_eventtracking.configure(
        backends={
            "default": BatchingRoutingBackend(
                {"jsonl": JsonLinesExporter(stream=sys.stdout, include_trace_context=False)},
                # validation in the worker: the request thread pays nothing for it
                processors=[ValidationProcessor(mode="warn")],
            )
        },
        processors=[SchemaMetadataProcessor()],  # schema id and version on every declared event
        emit_log_records=False,
    )
    with tracker.context("request", {"user_id": 42, "course_id": "course-v1:edX+DemoX+2026"}):
        lms.enroll(42, "course-v1:edX+DemoX+2026")
        lms.watch("intro-video")
        lms.open_unit("Week 1: Welcome")
        lms.submit("problem-7", 0)  # invalid: attempts must be >= 1 (warned once, still delivered)
        lms.submit("problem-7", 1)
        tracker.flush(5)
    print("validation:", tracker.stats()["root/default"])

    status = cli.main(["catalog", "--root", str(HERE), "--out", out, "--check", str(HERE)])
    tracker.shutdown(5)
    return status


if __name__ == "__main__":
    sys.exit(main())
