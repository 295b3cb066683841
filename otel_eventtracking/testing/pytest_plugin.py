"""The pytest plugin (entry point ``pytest11``: loaded wherever this package is installed).

Fixtures: ``tracked_events`` (the events emitted during the test, captured in memory,
synchronously; see :func:`~otel_eventtracking.testing.capture_events`), ``clean_tracker_registry``
(no tracker registered during the test, the registry restored and new workers stopped after it)
and ``clean_otel_context`` (the test runs in an empty OpenTelemetry Context).

``@pytest.mark.tracked_events(deliver=True)`` also delivers the captured events to the trackers'
backends. ``--tracked-events-validate`` (ini ``tracked_events_validate = true``) checks every
captured event against the declared catalog and fails the test on an invalid one; the catalog is
what the code under test declares, plus ``--tracked-events-catalog SOURCE`` / ini
``tracked_events_catalog`` (module names, ``.py`` files, YAML/JSON declarations, as for
``otel-eventtracking validate``); ``tracked_events_undeclared = fail`` also fails on undeclared names.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from .capture import CapturedEvents

_CAPTURED = pytest.StashKey["CapturedEvents"]()
_MAX_LISTED = 10


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("otel_eventtracking", "otel_eventtracking: captured events")
    group.addoption(
        "--tracked-events-validate",
        action="store_true",
        default=None,
        help="fail a test when an event captured by the tracked_events fixture does not match its declared schema",
    )
    group.addoption(
        "--tracked-events-catalog",
        action="append",
        default=[],
        metavar="SOURCE",
        help="where events are declared (module, .py file, YAML/JSON declarations), for --tracked-events-validate",
    )
    parser.addini("tracked_events_validate", "validate captured events against the catalog", type="bool",
                  default=False)  # fmt: skip
    parser.addini("tracked_events_catalog", "declaration sources to load for validation", type="linelist",
                  default=[])  # fmt: skip
    parser.addini("tracked_events_undeclared", "allow (default) or fail: an undeclared captured event fails the test",
                  default="allow")  # fmt: skip


@pytest.hookimpl(trylast=True)  # after other plugins (pytest-django) set up what declarations may import
def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "tracked_events(deliver=False): options of the tracked_events fixture for this test"
    )
    undeclared = config.getini("tracked_events_undeclared")
    if undeclared not in ("allow", "fail"):
        raise pytest.UsageError(f"tracked_events_undeclared = {undeclared!r}: use allow or fail")
    if _validating(config):
        _load_catalog(config)


def _validating(config: pytest.Config) -> bool:
    flag = config.getoption("tracked_events_validate")
    return bool(config.getini("tracked_events_validate") if flag is None else flag)


def _load_catalog(config: pytest.Config) -> None:
    """Load the configured declaration sources, once, at start-up (a bad one stops the run)."""
    sources = [*config.getini("tracked_events_catalog"), *config.getoption("tracked_events_catalog")]
    if not sources:
        return
    from ..catalog.registry import default_registry
    from ..cli._common import CommandError, load_sources

    try:
        load_sources(sources, default_registry)
    except CommandError as exc:
        raise pytest.UsageError(f"tracked_events_catalog: {exc}") from None


@pytest.fixture
def tracked_events(request: pytest.FixtureRequest) -> Iterator[CapturedEvents]:
    """The events every tracker emits during the test, as upstream dicts, captured synchronously
    (the trackers' backends get nothing unless ``@pytest.mark.tracked_events(deliver=True)``)."""
    from .capture import capture_events

    marker = request.node.get_closest_marker("tracked_events")
    deliver = bool(marker.kwargs.get("deliver", False)) if marker is not None else False
    with capture_events(deliver=deliver) as captured:
        request.node.stash[_CAPTURED] = captured
        yield captured


@pytest.fixture
def clean_tracker_registry() -> Iterator[None]:
    """No tracker registered during the test (``get_tracker()`` builds a fresh default one); after
    it, the trackers and batching nodes made during it are shut down and the registry restored."""
    from .isolation import clean_registry, stopping_new_nodes

    with stopping_new_nodes(), clean_registry():
        yield


@pytest.fixture
def clean_otel_context() -> Iterator[None]:
    """The test runs in an empty OpenTelemetry Context (no contexts, span or baggage left over)."""
    from .isolation import fresh_otel_context

    with fresh_otel_context():
        yield


def invalid_events(captured: CapturedEvents, undeclared: str) -> list[str]:
    """One line per captured event that fails validation (or is undeclared, when that fails)."""
    from ..catalog.registry import default_registry

    problems = []
    for index, (event, as_dict) in enumerate(captured._pairs()):
        declared = default_registry.get(event.name)
        if declared is None:
            reason = "no event type declares this name" if undeclared == "fail" else None
        else:
            found = declared.validation_error(event.data)
            reason = f"{found} (declared at {declared.source})" if found else None
        if reason is not None:
            data = json.dumps(as_dict.get("data", event.data), default=str, ensure_ascii=False)
            problems.append(f"#{index} {event.name!r}: {reason}\n      data: {data}")
    return problems


def _validation_message(item: pytest.Item) -> str | None:
    captured = item.stash.get(_CAPTURED, None)
    if captured is None or not _validating(item.config):
        return None
    problems = invalid_events(captured, item.config.getini("tracked_events_undeclared"))
    if not problems:
        return None
    shown = "\n".join(f"  {line}" for line in problems[:_MAX_LISTED])
    more = f"\n  ... and {len(problems) - _MAX_LISTED} more" if len(problems) > _MAX_LISTED else ""
    return (f"tracked_events: {len(problems)} of {len(captured)} captured event(s) do not match the declared "
            f"catalog (--tracked-events-validate):\n{shown}{more}")  # fmt: skip


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """After the test body: an invalid captured event fails the test itself, with the reasons."""
    report: Any = yield
    if call.when == "call":
        message = _validation_message(item)
        if message is not None:
            if report.passed:
                report.outcome = "failed"
                report.longrepr = message
            else:
                report.sections.append(("invalid tracked events", message))
    return report
