"""The base of this package's instrumentors: instrumenting never raises.

``opentelemetry-instrument`` loads instrumentors one after the other and stops loading the rest
when one raises, so a failure here is logged and the application starts without our part.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from typing import Any

from opentelemetry.instrumentation.instrumentor import BaseInstrumentor  # type: ignore[attr-defined]

log = logging.getLogger(__name__)


class SafeInstrumentor(BaseInstrumentor):
    """A ``BaseInstrumentor`` whose ``_instrument``/``_uninstrument`` log errors instead of raising.

    Subclasses implement :meth:`instrument_safely` and :meth:`uninstrument_safely`.
    """

    dependencies: Collection[str] = ()

    def instrumentation_dependencies(self) -> Collection[str]:
        return self.dependencies

    def _instrument(self, **kwargs: Any) -> None:
        try:
            self.instrument_safely(**kwargs)
        except Exception:
            log.exception("%s failed; the application runs without it", type(self).__name__)

    def _uninstrument(self, **kwargs: Any) -> None:
        try:
            self.uninstrument_safely(**kwargs)
        except Exception:
            log.exception("%s could not be fully undone", type(self).__name__)

    def instrument_safely(self, **kwargs: Any) -> None:
        raise NotImplementedError

    def uninstrument_safely(self, **kwargs: Any) -> None:
        raise NotImplementedError
