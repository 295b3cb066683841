"""The ``otel-eventtracking`` command (also ``python -m otel_eventtracking.cli``).

``otel-eventtracking catalog [SOURCE ...] [--out DIR] [--check PATH ...]``: SOURCEs are importable
modules that declare ``EventType``s and YAML/JSON declaration files (or directories of them).
Writes ``catalog.json``, ``catalog.md`` and ``catalog.html`` to ``--out`` (default ``event-catalog``
unless ``--check`` is given alone). ``--check PATH`` scans the Python sources under PATH for
``emit("literal.name", ...)`` calls and exits 1, listing ``file:line``, when a name is not declared.
Exit status: 0 fine, 1 check failed, 2 bad declarations or usage.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from .__about__ import VERSION
from .catalog import files as declaration_files
from .catalog.registry import EventRegistry, default_registry
from .catalog.render import catalog_document, render_html, render_json, render_markdown
from .catalog.scan import scan_paths
from .exceptions import EventTrackingError, ImproperlyConfigured

DEFAULT_OUT = "event-catalog"
_RENDERERS = {"json": render_json, "md": render_markdown, "html": render_html}


class CommandError(EventTrackingError):
    """A problem the user must fix (bad module, bad declarations); printed without a traceback."""


def _is_file_source(source: str) -> bool:
    return os.path.exists(source) or source.lower().endswith(declaration_files.SUFFIXES)


def _load_sources(sources: Sequence[str], registry: EventRegistry) -> None:
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())  # as `python -m` does: modules of the current project import
    for source in sources:
        if _is_file_source(source):
            try:
                declaration_files.load_declarations([source], registry)
            except ImproperlyConfigured as exc:
                raise CommandError(str(exc)) from None
            continue
        try:
            importlib.import_module(source)
        except ImproperlyConfigured as exc:
            raise CommandError(f"{source}: {exc}") from None
        except Exception as exc:
            raise CommandError(
                f"cannot import module {source!r} ({type(exc).__name__}: {exc}); give an importable module "
                "(run from the project root or set PYTHONPATH) or the path of a YAML/JSON declarations file"
            ) from None
    try:
        registry.check_schemas()
    except ImproperlyConfigured as exc:
        raise CommandError(str(exc)) from None


def _write(out: Path, formats: Sequence[str], title: str, root: str, registry: EventRegistry) -> list[Path]:
    document = catalog_document(registry, title=title, root=root)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for fmt in formats:
        path = out / f"catalog.{fmt}"
        path.write_text(_RENDERERS[fmt](document), encoding="utf-8")
        written.append(path)
    return written


def _check(paths: Sequence[str], exclude: Sequence[str], ignore_names: Sequence[str], registry: EventRegistry) -> int:
    result = scan_paths(paths, exclude)
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
        return 1
    print(f"catalog check passed: {len(result.calls)} emit call(s) in {result.files} file(s), all declared")
    return 0


def _formats(value: str) -> list[str]:
    formats = [f.strip().lower() for f in value.split(",") if f.strip()]
    unknown = [f for f in formats if f not in _RENDERERS]
    if unknown or not formats:
        raise argparse.ArgumentTypeError(f"formats are a comma-separated subset of {','.join(_RENDERERS)}")
    return formats


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``otel-eventtracking`` command."""
    parser = argparse.ArgumentParser(prog="otel-eventtracking", description="otel_eventtracking tools.")
    parser.add_argument("--version", action="version", version=f"otel-eventtracking {VERSION}")
    commands = parser.add_subparsers(dest="command", required=True)
    catalog = commands.add_parser(
        "catalog",
        help="write the catalog of declared events; check a source tree for undeclared ones",
        description="Write the catalog of declared event types (JSON, Markdown, HTML) and/or check that every "
        "event name emitted in a source tree is declared.",
    )
    catalog.add_argument(
        "sources",
        nargs="*",
        metavar="SOURCE",
        help="an importable module declaring EventTypes, or a YAML/JSON declarations file or directory",
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
    catalog.add_argument("--exclude", action="append", default=[], metavar="GLOB", help="paths not to scan")
    catalog.add_argument(
        "--ignore-name", action="append", default=[], metavar="GLOB", help="event names the check accepts undeclared"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = build_parser().parse_args(argv)
    registry = default_registry
    try:
        _load_sources(args.sources, registry)
    except CommandError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    status = 0
    out = args.out if args.out is not None else (None if args.check else DEFAULT_OUT)
    if out is not None:
        root = os.path.abspath(args.root or os.getcwd())
        written = _write(Path(out), args.formats, args.title, root, registry)
        print(f"wrote {len(registry)} event type(s) to {', '.join(str(p) for p in written)}")
    if args.check:
        status = _check(args.check, args.exclude, args.ignore_name, registry)
    return status


if __name__ == "__main__":
    sys.exit(main())
