"""Django: EVENT_TRACKING_BACKENDS / _PROCESSORS / _ENABLED, the `eventtracking.django` app and
DjangoTracker. Each scenario configures Django once, so each runs in its own process."""

from __future__ import annotations

from typing import Any, ClassVar

from ..harness import Harness, Recorder, scenario

HERE = __name__
APP = "eventtracking.django"


class SettingsRecorder(Recorder):
    """A backend built from settings (ENGINE path); every instance is kept, with its options."""

    instances: ClassVar[list[SettingsRecorder]] = []

    def __init__(self, **options: Any) -> None:
        super().__init__()
        self.options = options
        SettingsRecorder.instances.append(self)


class SettingsProcessor:
    """A processor built from settings: adds `key` to the context, in place."""

    def __init__(self, key: str = "from_settings", value: Any = True) -> None:
        self.key, self.value = key, value

    def __call__(self, event: dict[str, Any]) -> None:
        event["context"][self.key] = self.value


def _recorder_node(**options: Any) -> dict[str, Any]:
    return {"ENGINE": f"{HERE}.SettingsRecorder", "OPTIONS": options}


def _last() -> SettingsRecorder:
    return SettingsRecorder.instances[-1]


@scenario(isolated=True)
def django_app_builds_default_tracker(h: Harness) -> dict[str, Any]:
    """INSTALLED_APPS = ['eventtracking.django'] with EVENT_TRACKING_ENABLED: the default tracker
    is a DjangoTracker built from the settings, at start-up; an emit reaches the backend."""
    h.django(
        INSTALLED_APPS=[APP],
        EVENT_TRACKING_ENABLED=True,
        EVENT_TRACKING_BACKENDS={"rec": _recorder_node(label="one")},
        EVENT_TRACKING_PROCESSORS=[{"ENGINE": f"{HERE}.SettingsProcessor", "OPTIONS": {"key": "p"}}],
    )
    from eventtracking import tracker

    default = tracker.get_tracker()
    default.emit("edx.django.app", {"k": 1})
    return {
        "type": type(default).__name__,
        "backends": list(default.backends),
        "options": _last().options,
        "received": _last().events,
        "built_at_setup": len(SettingsRecorder.instances),
    }


@scenario(isolated=True)
def django_app_disabled(h: Harness) -> dict[str, Any]:
    """The app installed but EVENT_TRACKING_ENABLED false: no tracker is built or registered."""
    h.django(INSTALLED_APPS=[APP], EVENT_TRACKING_ENABLED=False, EVENT_TRACKING_BACKENDS={"rec": _recorder_node()})
    from eventtracking import tracker

    return {
        "built": len(SettingsRecorder.instances),
        "get_tracker": h.outcome(lambda: type(tracker.get_tracker()).__name__),
    }


@scenario(isolated=True)
def django_tracker_nested_tree(h: Harness) -> dict[str, Any]:
    """DjangoTracker() with edx-platform's tree: RoutingBackend nodes whose OPTIONS hold more
    ENGINE nodes (backends dicts, processors lists), built recursively."""
    h.django(
        EVENT_TRACKING_BACKENDS={
            "tracking_logs": {
                "ENGINE": "eventtracking.backends.routing.RoutingBackend",
                "OPTIONS": {
                    "backends": {"local": _recorder_node(branch="tracking_logs")},
                    "processors": [{"ENGINE": "tests.differential.scenarios.edx.LegacyShapeProcessor"}],
                },
            },
            "segmentio": {
                "ENGINE": "eventtracking.backends.routing.RoutingBackend",
                "OPTIONS": {
                    "backends": {"segment": _recorder_node(branch="segmentio")},
                    "processors": [
                        {
                            "ENGINE": "eventtracking.processors.whitelist.NameWhitelistProcessor",
                            "OPTIONS": {"whitelist": ["edx.listed"]},
                        }
                    ],
                },
            },
        },
    )
    from eventtracking.django.django_tracker import DjangoTracker

    tracker = DjangoTracker()
    tracker.enter_context("edx.request", {"user_id": 4, "username": "u4", "ip": "192.0.2.4"})
    tracker.emit("edx.listed", {"k": 1})
    tracker.emit("edx.unlisted", {"k": 2})
    by_branch = {r.options["branch"]: r.events for r in SettingsRecorder.instances}
    return {"backends": list(tracker.backends), "received": by_branch}


@scenario(isolated=True)
def django_tracker_custom_setting_names(h: Harness) -> dict[str, Any]:
    """DjangoTracker(backends_settings_name=..., processors_settings_name=...) reads those."""
    h.django(
        MY_BACKENDS={"mine": _recorder_node(label="mine")},
        MY_PROCESSORS=[{"ENGINE": f"{HERE}.SettingsProcessor", "OPTIONS": {"key": "mine"}}],
        EVENT_TRACKING_BACKENDS={"not_this": _recorder_node(label="default")},
    )
    from eventtracking.django.django_tracker import DjangoTracker

    tracker = DjangoTracker(backends_settings_name="MY_BACKENDS", processors_settings_name="MY_PROCESSORS")
    tracker.emit("edx.custom.names")
    return {"backends": list(tracker.backends), "received": {r.options["label"]: r.events for r in _instances()}}


def _instances() -> list[SettingsRecorder]:
    return SettingsRecorder.instances


@scenario(isolated=True)
def django_tracker_no_settings(h: Harness) -> dict[str, Any]:
    """DjangoTracker() with none of the settings defined: no backends, no processors."""
    h.django()
    from eventtracking.django.django_tracker import DjangoTracker

    tracker = DjangoTracker()
    return {"backends": list(tracker.backends), "processors": len(tracker.processors)}


@scenario(isolated=True)
def django_tracker_threads(h: Harness) -> dict[str, Any]:
    """A DjangoTracker's contexts are per thread (upstream gives it a ThreadLocalContextLocator)."""
    h.django(EVENT_TRACKING_BACKENDS={"rec": _recorder_node()})
    from eventtracking.django.django_tracker import DjangoTracker

    tracker = DjangoTracker()
    tracker.enter_context("request", {"user_id": 1})
    seen = h.in_thread(lambda: dict(tracker.resolve_context()))
    return {"thread_sees": seen, "main_sees": tracker.resolve_context()}


@scenario(isolated=True)
def django_settings_whitelist_set(h: Harness) -> dict[str, Any]:
    """EVENT_TRACKING_PROCESSORS with a NameWhitelistProcessor whose whitelist is a set."""
    h.django(
        EVENT_TRACKING_BACKENDS={"rec": _recorder_node()},
        EVENT_TRACKING_PROCESSORS=[
            {"ENGINE": "eventtracking.processors.whitelist.NameWhitelistProcessor", "OPTIONS": {"whitelist": {"a"}}}
        ],
    )
    from eventtracking.django.django_tracker import DjangoTracker

    tracker = DjangoTracker()
    tracker.emit("a")
    tracker.emit("b")
    return {"received": [e["name"] for e in _last().events]}


@scenario(isolated=True)
def django_unknown_engine(h: Harness) -> dict[str, Any]:
    """An ENGINE path that cannot be imported: the error DjangoTracker() raises."""
    h.django(EVENT_TRACKING_BACKENDS={"broken": {"ENGINE": "no.such.module.Backend"}})
    from eventtracking.django.django_tracker import DjangoTracker

    return {
        "outcome": h.outcome(DjangoTracker, message=False),
        "caught_as_ValueError": _caught(ValueError, DjangoTracker),
    }


@scenario(isolated=True)
def django_unknown_engine_at_startup(h: Harness) -> dict[str, Any]:
    """The same broken ENGINE with the app installed and enabled: django.setup() fails."""
    outcome = h.outcome(
        h.django,
        INSTALLED_APPS=[APP],
        EVENT_TRACKING_ENABLED=True,
        EVENT_TRACKING_BACKENDS={"broken": {"ENGINE": "no.such.module.Backend"}},
        message=False,
    )
    return {"outcome": outcome}


@scenario(isolated=True)
def django_misspelt_option(h: Harness) -> dict[str, Any]:
    """A LoggerBackend OPTIONS key with a typo (`max_event_sise`)."""
    h.django(
        EVENT_TRACKING_BACKENDS={
            "logger": {
                "ENGINE": "eventtracking.backends.logger.LoggerBackend",
                "OPTIONS": {"name": "tracking", "max_event_sise": 10},
            }
        }
    )
    from eventtracking.django.django_tracker import DjangoTracker

    return {"outcome": h.outcome(lambda: list(DjangoTracker().backends), message=False)}


@scenario(isolated=True)
def django_edx_platform_logger_line(h: Harness) -> dict[str, Any]:
    """edx-platform's tracking_logs branch from settings, the app installed: the `tracking`
    logger's line for an event emitted on the default tracker."""
    h.django(
        INSTALLED_APPS=[APP],
        EVENT_TRACKING_ENABLED=True,
        EVENT_TRACKING_BACKENDS={
            "tracking_logs": {
                "ENGINE": "eventtracking.backends.routing.RoutingBackend",
                "OPTIONS": {
                    "backends": {
                        "local": {
                            "ENGINE": "eventtracking.backends.logger.LoggerBackend",
                            "OPTIONS": {"name": "tracking", "max_event_size": 50000},
                        }
                    },
                    "processors": [
                        {"ENGINE": "tests.differential.scenarios.edx.LegacyShapeProcessor"},
                        {"ENGINE": "tests.differential.scenarios.edx.SourcePrefixProcessor"},
                    ],
                },
            }
        },
    )
    from eventtracking import tracker

    from .edx import REQUEST_CONTEXT

    with h.captured("tracking") as log:
        default = tracker.get_tracker()
        with default.context("edx.request", dict(REQUEST_CONTEXT)):
            default.emit("edx.video.loaded", {"id": "v1"})
    return {"lines": log.lines}


def _caught(exc_type: type[BaseException], func: Any) -> bool | str:
    try:
        func()
    except exc_type:
        return True
    except Exception as exc:
        return f"other: {type(exc).__name__}"
    return False
