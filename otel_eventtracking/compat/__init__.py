"""Run code written for Open edX ``event-tracking`` unchanged: ``import eventtracking`` -> this library.

Call :func:`install` early (settings module, WSGI entry point, test conftest). When the real
``event-tracking`` package is installed, nothing is shimmed: use the legacy bridge instead.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import sys
from types import ModuleType

_PREFIX = "eventtracking"
_TARGET = "otel_eventtracking.compat.eventtracking"


class _AliasLoader(importlib.abc.Loader):
    """Loads ``eventtracking.x`` as the very module object ``otel_eventtracking.compat.eventtracking.x``."""

    def __init__(self, target: str) -> None:
        self.target = target

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        return importlib.import_module(self.target)

    def exec_module(self, module: ModuleType) -> None:
        return None


class ShimFinder(importlib.abc.MetaPathFinder):
    """Resolves ``eventtracking`` and its submodules to the shim modules (and nothing else)."""

    def find_spec(
        self, fullname: str, path: object = None, target: object = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != _PREFIX and not fullname.startswith(_PREFIX + "."):
            return None
        target_name = _TARGET + fullname[len(_PREFIX) :]
        try:
            found = importlib.util.find_spec(target_name)
        except ModuleNotFoundError:
            return None
        if found is None:
            return None
        return importlib.util.spec_from_loader(
            fullname, _AliasLoader(target_name), is_package=found.submodule_search_locations is not None
        )


_finder: ShimFinder | None = None


def real_package_installed() -> bool:
    """True when the real ``event-tracking`` distribution is importable (and the shim is not active)."""
    if _finder is not None:
        return False
    return importlib.util.find_spec(_PREFIX) is not None


def install() -> bool:
    """Make ``import eventtracking`` resolve to the shim. Returns False (and does nothing) when the
    real package is installed; True when the shim is (or already was) active."""
    global _finder
    if _finder is not None:
        return True
    mod = sys.modules.get(_PREFIX)
    if mod is not None or real_package_installed():
        return False
    _finder = ShimFinder()
    sys.meta_path.insert(0, _finder)
    return True


def uninstall() -> None:
    """Remove the shim and forget the ``eventtracking`` modules it provided (for tests)."""
    global _finder
    if _finder is None:
        return
    sys.meta_path[:] = [f for f in sys.meta_path if f is not _finder]
    _finder = None
    for name in [n for n in sys.modules if n == _PREFIX or n.startswith(_PREFIX + ".")]:
        del sys.modules[name]


def is_installed() -> bool:
    return _finder is not None
