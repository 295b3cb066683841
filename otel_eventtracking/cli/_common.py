"""What the commands share: the user-facing error, loading catalog sources, and a progress line."""

from __future__ import annotations

import importlib
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from ..catalog import files as declaration_files
from ..catalog.registry import EventRegistry
from ..exceptions import EventTrackingError, ImproperlyConfigured

#: Seconds of work before a progress line appears (long work only); tests set it to 0.
PROGRESS_AFTER_ENV = "OTEL_EVENTTRACKING_PROGRESS_AFTER"
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class CommandError(EventTrackingError):
    """A problem the user must fix (bad module, file, option); printed without a traceback, exit 2."""


def _is_declaration_file(source: str) -> bool:
    return os.path.exists(source) or source.lower().endswith(declaration_files.SUFFIXES)


def _module_name_of(path: Path) -> tuple[str, Path]:
    """The dotted name of a ``.py`` file and the directory to import it from: the first parent
    without ``__init__.py`` (so a module inside a package keeps its package and relative imports)."""
    parts = [path.stem]
    folder = path.parent
    while (folder / "__init__.py").is_file() and folder.parent != folder:
        parts.insert(0, folder.name)
        folder = folder.parent
    return ".".join(parts), folder


def import_python_file(source: str) -> None:
    """Import a ``.py`` file given by path, as ``python FILE`` would see its neighbours."""
    path = Path(source).resolve()
    if not path.is_file():
        raise CommandError(f"{source}: no such Python file")
    name, folder = _module_name_of(path)
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))
    try:
        module = importlib.import_module(name)
    except ImproperlyConfigured as exc:
        raise CommandError(f"{source}: {exc}") from None
    except Exception as exc:
        raise CommandError(f"cannot import {source} ({type(exc).__name__}: {exc})") from None
    loaded = getattr(module, "__file__", None)
    if loaded is None or Path(loaded).resolve() != path:
        raise CommandError(
            f"{source}: the module name {name!r} is already taken by {loaded or 'a built-in module'}; rename the "
            "file or give its importable module name"
        )


def load_sources(sources: Sequence[str], registry: EventRegistry) -> None:
    """Declare the event types of each SOURCE: an importable module, a ``.py`` file, or a YAML/JSON
    declarations file or directory; then compile every schema. CommandError names what to fix."""
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())  # as `python -m` does: modules of the current project import
    for source in sources:
        if source.lower().endswith(".py"):
            import_python_file(source)
        elif _is_declaration_file(source):
            try:
                declaration_files.load_declarations([source], registry)
            except ImproperlyConfigured as exc:
                raise CommandError(str(exc)) from None
        else:
            try:
                importlib.import_module(source)
            except ImproperlyConfigured as exc:
                raise CommandError(f"{source}: {exc}") from None
            except Exception as exc:
                raise CommandError(
                    f"cannot import module {source!r} ({type(exc).__name__}: {exc}); give an importable module "
                    "(run from the project root or set PYTHONPATH), the path of a .py file, or the path of a "
                    "YAML/JSON declarations file"
                ) from None
    try:
        registry.check_schemas()
    except ImproperlyConfigured as exc:
        raise CommandError(str(exc)) from None


def _human(n: float) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} GB"  # pragma: no cover - the loop returns


class Progress:
    """A one-line progress bar on stderr, redrawn with a carriage return, shown only when stderr is
    a terminal and the work has lasted more than a moment; ``close`` erases it."""

    WIDTH = 24

    def __init__(self, total: int, label: str, stream: TextIO | None = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.total = max(total, 0)
        self.label = label
        self.enabled = bool(getattr(self.stream, "isatty", lambda: False)())
        try:
            self.after = float(os.environ.get(PROGRESS_AFTER_ENV, "0.5"))
        except ValueError:
            self.after = 0.5
        self._start = time.monotonic()
        self._last = 0.0
        self._drawn = 0

    def update(self, done: int, note: str = "") -> None:
        """Say that ``done`` of ``total`` (bytes) are done; draws at most ten times a second."""
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self._start < self.after or now - self._last < 0.1:
            return
        self._last = now
        share = min(done / self.total, 1.0) if self.total else 0.0
        filled = int(share * self.WIDTH)
        bar = "#" * filled + "-" * (self.WIDTH - filled)
        text = f"{self.label} [{bar}] {share:4.0%} {_human(done)}/{_human(self.total)} {note}".rstrip()
        self.stream.write("\r" + text.ljust(self._drawn))
        self.stream.flush()
        self._drawn = len(text)

    def close(self) -> None:
        if self._drawn:
            self.stream.write("\r" + " " * self._drawn + "\r")
            self.stream.flush()
            self._drawn = 0
