"""``otel-eventtracking catalog``: write the catalog of declared events; check a source tree.

``catalog [SOURCE ...] [--out DIR] [--check PATH ...] [--scan PATH ...]``: SOURCEs are importable
modules or ``.py`` files that declare ``EventType``s and YAML/JSON declaration files (or
directories of them). Writes ``catalog.json``, ``catalog.md`` and ``catalog.html`` to ``--out``
(default ``event-catalog`` unless ``--check`` is given alone). ``--check PATH`` scans the Python
sources under PATH for ``emit("literal.name", ...)`` calls and exits 1, listing ``file:line``,
when a name is not declared. The calls found by ``--check`` and ``--scan`` are listed in the
catalog under each event ("emitted at"). Exit status: 0 fine, 1 check failed, 2 bad declarations
or usage.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..catalog.page import html_page
from ..catalog.registry import EventRegistry, default_registry
from ..catalog.render import catalog_document, render_json, render_markdown
from ..catalog.scan import ScanResult, scan_paths
from ._common import EXIT_FAILED, EXIT_OK, load_sources

DEFAULT_OUT = "event-catalog"
_RENDERERS = {"json": render_json, "md": render_markdown, "html": html_page}


def _formats(value: str) -> list[str]:
    formats = [f.strip().lower() for f in value.split(",") if f.strip()]
    unknown = [f for f in formats if f not in _RENDERERS]
    if unknown or not formats:
        raise argparse.ArgumentTypeError(f"formats are a comma-separated subset of {','.join(_RENDERERS)}")
    return formats


def add_parser(commands: Any) -> None:
    catalog = commands.add_parser(
        "catalog",
        help="write the catalog of declared events; check a source tree for undeclared ones",
        description="Write the catalog of declared event types (JSON, Markdown, HTML) and/or check that every "
        "event name emitted in a source tree is declared.",
        epilog="Exit status: 0 fine, 1 the check failed, 2 a module, file or schema to fix.",
    )
    catalog.add_argument(
        "sources",
        nargs="*",
        metavar="SOURCE",
        help="an importable module or a .py file declaring EventTypes, or a YAML/JSON declarations file or directory",
    )
    catalog.add_argument("-o", "--out", help=f"directory for the catalog files (default: {DEFAULT_OUT})")
    catalog.add_argument("--formats", type=_formats, default=list(_RENDERERS), help="default: json,md,html")
    catalog.add_argument("--title", default="Event catalog", help="title of the Markdown and HTML pages")
    catalog.add_argument(
        "--root", default=None, help="declaration paths in the catalog are relative to this (default: cwd)"
    )
    catalog.add_argument(
        "--check",
        action="append",
        default=[],
        metavar="PATH",
        help="scan the Python files under PATH; fail if an emitted literal event name is not declared",
    )
    catalog.add_argument(
        "--scan",
        action="append",
        default=[],
        metavar="PATH",
        help="scan the Python files under PATH only to list where each event is emitted (no check)",
    )
    catalog.add_argument("--exclude", action="append", default=[], metavar="GLOB", help="paths not to scan")
    catalog.add_argument(
        "--ignore-name", action="append", default=[], metavar="GLOB", help="event names the check accepts undeclared"
    )
    catalog.set_defaults(run=run)


def _write(
    out: Path, formats: Sequence[str], title: str, root: str, registry: EventRegistry, scanned: ScanResult | None
) -> list[Path]:
    document = catalog_document(registry, title=title, root=root, scan=scanned)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for fmt in formats:
        path = out / f"catalog.{fmt}"
        path.write_text(_RENDERERS[fmt](document), encoding="utf-8")
        written.append(path)
    return written


def _check(result: ScanResult, ignore_names: Sequence[str], registry: EventRegistry) -> int:
    missing = result.undeclared(registry, ignore_names)
    for error in result.errors:
        print(f"{error}", file=sys.stderr)
    for call in missing:
        print(f"{call.location()}: event {call.name!r} is emitted ({call.call}) but not declared", file=sys.stderr)
    if missing or result.errors:
        names = sorted({c.name for c in missing})
        print(
            f"catalog check failed: {len(missing)} emit call(s) of {len(names)} undeclared event name(s)"
            + (f", {len(result.errors)} file(s) not scanned" if result.errors else "")
            + ". Declare each name with EventType(...) or in a declarations file given to this command, mark "
            "a call that is not an event with '# catalog: ignore', or pass --ignore-name.",
            file=sys.stderr,
        )
        return EXIT_FAILED
    print(f"catalog check passed: {len(result.calls)} emit call(s) in {result.files} file(s), all declared")
    return EXIT_OK


def run(args: argparse.Namespace) -> int:
    registry = default_registry
    load_sources(args.sources, registry)
    checked = scan_paths(args.check, args.exclude) if args.check else None
    scanned = scan_paths([*args.check, *args.scan], args.exclude) if args.scan else checked
    status = EXIT_OK
    out = args.out if args.out is not None else (None if args.check else DEFAULT_OUT)
    if out is not None:
        root = os.path.abspath(args.root or os.getcwd())
        written = _write(Path(out), args.formats, args.title, root, registry, scanned)
        print(f"wrote {len(registry)} event type(s) to {', '.join(str(p) for p in written)}")
    if checked is not None:
        status = _check(checked, args.ignore_name, registry)
    return status
