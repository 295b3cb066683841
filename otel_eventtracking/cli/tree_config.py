"""Where ``replay`` and ``config check`` get a routing tree: a JSON/YAML file in the ENGINE/OPTIONS
format (``{"backends": {...}, "processors": [...]}``, as ``OTEL_EVENTTRACKING_CONFIG``), or the
``EVENT_TRACKING_BACKENDS`` / ``EVENT_TRACKING_PROCESSORS`` settings of a Django settings module."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..config.engines import build_backends, build_processors
from ..exceptions import ImproperlyConfigured
from ..pipeline.routing import RoutingBackend
from ._common import CommandError

TOP_KEYS = ("backends", "processors")


@dataclass(frozen=True)
class TreeSpec:
    """An unbuilt tree: where it came from (``label``), and its upstream-format parts with the
    names their paths start with in error messages."""

    label: str
    backends: Any
    processors: Any
    backends_path: str = "backends"
    processors_path: str = "processors"


def add_source_arguments(parser: argparse.ArgumentParser, *, config_flag: bool) -> None:
    """``--config CONFIG`` (or a positional CONFIG) and ``--django-settings MODULE``."""
    if config_flag:
        parser.add_argument("--config", metavar="CONFIG", help="a JSON or YAML file {backends: ..., processors: ...}")
    else:
        parser.add_argument("config", nargs="?", metavar="CONFIG", help="a JSON or YAML file {backends, processors}")
    parser.add_argument(
        "--django-settings",
        metavar="MODULE",
        help="read EVENT_TRACKING_BACKENDS / EVENT_TRACKING_PROCESSORS from this Django settings module instead",
    )


def spec_from_args(args: argparse.Namespace) -> TreeSpec:
    """The tree named on the command line; CommandError unless exactly one source is given."""
    if bool(args.config) == bool(args.django_settings):
        raise CommandError("give a CONFIG file or --django-settings MODULE (one of them)")
    if args.django_settings:
        return load_django_settings(args.django_settings)
    return load_config_file(args.config)


def _parse(path: Path) -> Any:
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() in (".yaml", ".yml"):
        try:
            import yaml
        except ImportError:
            raise CommandError(
                f"{path}: reading YAML needs PyYAML: pip install 'otel-eventtracking[catalog]'"
            ) from None
        try:
            return yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise CommandError(f"{path}: not valid YAML: {exc}") from None
    try:
        return json.loads(text)
    except ValueError as exc:
        raise CommandError(f"{path}: not valid JSON: {exc}") from None


def load_config_file(name: str) -> TreeSpec:
    """Read a config file. CommandError when it cannot be read or parsed; ImproperlyConfigured
    (naming the file) when its top level is not ``{"backends": ..., "processors": ...}``."""
    path = Path(name)
    try:
        loaded = _parse(path)
    except FileNotFoundError:
        raise CommandError(f"{name}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CommandError(f"{name}: cannot be read ({exc})") from None
    if not isinstance(loaded, Mapping):
        raise ImproperlyConfigured(f"{name}: expected an object with 'backends' and 'processors', got "
                                   f"{type(loaded).__name__}")  # fmt: skip
    unknown = sorted(set(loaded) - set(TOP_KEYS))
    if unknown:
        raise ImproperlyConfigured(f"{name}: unexpected top-level keys {unknown}; a config has only {list(TOP_KEYS)}")
    return TreeSpec(name, loaded.get("backends"), loaded.get("processors"))


def load_django_settings(module: str) -> TreeSpec:
    """The tree of a Django settings module (Django is set up with it, as ``manage.py`` would)."""
    try:
        import django
        from django.conf import settings
    except ImportError:
        raise CommandError("--django-settings needs Django: pip install 'otel-eventtracking[django]'") from None
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())  # as manage.py: the project's modules import
    os.environ["DJANGO_SETTINGS_MODULE"] = module
    try:
        django.setup()
    except Exception as exc:
        raise CommandError(
            f"--django-settings {module}: Django could not start ({type(exc).__name__}: {exc})"
        ) from None
    return TreeSpec(
        f"DJANGO_SETTINGS_MODULE={module}",
        getattr(settings, "EVENT_TRACKING_BACKENDS", {}),
        getattr(settings, "EVENT_TRACKING_PROCESSORS", []),
        "EVENT_TRACKING_BACKENDS",
        "EVENT_TRACKING_PROCESSORS",
    )


def build_tree(spec: TreeSpec) -> RoutingBackend:
    """The root node of the tree (no tracker around it: no contexts, no log-record branch).
    ImproperlyConfigured names the file and the path in the tree."""
    try:
        backends = build_backends(spec.backends, spec.backends_path)
        processors = build_processors(spec.processors, spec.processors_path)
        return RoutingBackend(backends, processors)
    except ImproperlyConfigured as exc:
        raise ImproperlyConfigured(f"{spec.label}: {exc}") from exc
