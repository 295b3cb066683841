"""Configuration: upstream ``ENGINE``/``OPTIONS`` trees (:mod:`.engines`), the default tree and the
``OTEL_EVENTTRACKING_*`` environment (:mod:`.environment`). ``configure()`` itself lives with the
registry (``otel_eventtracking.configure``)."""

from .engines import ENGINE_ALIASES, build, build_backends, build_processors, import_engine
from .environment import default_backends, tracker_from_environment

__all__ = [
    "ENGINE_ALIASES",
    "build",
    "build_backends",
    "build_processors",
    "default_backends",
    "import_engine",
    "tracker_from_environment",
]
