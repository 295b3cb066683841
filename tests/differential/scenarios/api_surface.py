"""The public names of event-tracking 4.0.2, module by module: is each there, and is it the same
kind of thing with the same call signature.

NAMES lists every name the modules of 4.0.2 hold (their test modules aside; the event bus
modules are another scenario group's), written down for this suite from the installed package.
A signature is observed as what code written for upstream can pass: each parameter's name, kind
and default, without annotations and without keyword-only parameters that have a default
(options of this library that upstream callers cannot pass). Classes: their constructor and the
public members upstream's classes have (MEMBERS); exception classes: whether they are Exceptions.
Objects from other packages (``logging``, ``pymongo.MongoClient``...) are observed by identity.
"""

from __future__ import annotations

import importlib
import inspect
import sys
from typing import Any

from ..harness import Harness, scenario

GROUP = "api"

NAMES: dict[str, tuple[str, ...]] = {
    "eventtracking.tracker": ("DEFAULT_TRACKER_NAME", "DefaultContextLocator", "LOG", "RoutingBackend", "TRACKERS",
                              "Tracker", "UNKNOWN_EVENT_TYPE", "UTC", "contextmanager", "datetime", "emit",
                              "get_tracker", "logging", "register_tracker"),
    "eventtracking.locator": ("DefaultContextLocator", "OrderedDict", "ThreadLocalContextLocator", "threading"),
    "eventtracking.exceptions": ("ImproperlyConfigured",),
    "eventtracking.tasks": ("COUNTDOWN", "MAX_RETRIES", "NoBackendEnabled", "NoTransformerImplemented", "get_tracker",
                            "send_event"),
    "eventtracking.backends.routing": ("EventEmissionExit", "LOG", "NoBackendEnabled", "NoTransformerImplemented",
                                       "OrderedDict", "RoutingBackend", "deepcopy", "logging"),
    "eventtracking.backends.async_routing": ("AsyncRoutingBackend", "EventEmissionExit", "RoutingBackend", "logger",
                                             "logging", "send_event"),
    "eventtracking.backends.logger": ("DateTimeJSONEncoder", "LoggerBackend", "MAX_EVENT_SIZE", "UTC", "date",
                                      "datetime", "json", "logging"),
    "eventtracking.backends.mongodb": ("BSONError", "MongoBackend", "MongoClient", "PyMongoError", "log", "logging",
                                       "pymongo"),
    "eventtracking.backends.segment": ("SegmentBackend", "analytics", "urlunsplit"),
    "eventtracking.processors.exceptions": ("EventEmissionExit", "NoBackendEnabled", "NoTransformerImplemented"),
    "eventtracking.processors.regex_filter": ("ALLOWLIST", "BLOCKLIST", "EventEmissionExit", "ImproperlyConfigured",
                                              "RegexFilter", "getLogger", "logger", "re"),
    "eventtracking.processors.whitelist": ("EventEmissionExit", "NameWhitelistProcessor"),
    "eventtracking.django": ("DjangoTracker",),
    "eventtracking.django.django_tracker": ("DJANGO_BACKEND_SETTING_NAME", "DJANGO_ENABLED_SETTING_NAME",
                                            "DJANGO_PROCESSOR_SETTING_NAME", "DjangoTracker",
                                            "ThreadLocalContextLocator", "Tracker", "import_module",
                                            "override_default_tracker", "settings", "tracker"),
    "eventtracking.django.apps": ("AppConfig", "EventTrackingConfig"),
}  # fmt: skip

_TRACKER = (
    "backends",
    "context",
    "emit",
    "enter_context",
    "exit_context",
    "get_backend",
    "located_context",
    "processors",
    "resolve_context",
)
_ROUTER = ("process_event", "register_backend", "register_processor", "send", "send_to_backends")
MEMBERS: dict[str, tuple[str, ...]] = {
    "Tracker": _TRACKER,
    "DjangoTracker": (*_TRACKER, "create_backends_from_settings", "create_processors_from_settings"),
    "DefaultContextLocator": ("get",),
    "ThreadLocalContextLocator": ("get",),
    "RoutingBackend": _ROUTER,
    "AsyncRoutingBackend": _ROUTER,
    "LoggerBackend": ("send",),
    "MongoBackend": ("send",),
    "SegmentBackend": ("send",),
    "DateTimeJSONEncoder": ("default",),
    "EventTrackingConfig": ("label", "name", "ready"),
}
_OURS = ("eventtracking", "otel_eventtracking")


def params(func: Any) -> Any:
    """[name, kind, default] per parameter upstream callers can pass (see the module docstring)."""
    try:
        signature = inspect.signature(func)
    except (TypeError, ValueError):
        return "<no signature>"
    out = []
    for p in signature.parameters.values():
        if p.kind is p.KEYWORD_ONLY and p.default is not p.empty:
            continue
        default = "<required>" if p.default is p.empty else repr(p.default)
        out.append(
            [p.name, p.kind.name, default] if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL) else [p.name, p.kind.name]
        )
    return out


def _module_name(module: Any) -> str:
    """The module's dotted name: the most qualified name it is registered under (the legacy side
    also has ``segment.analytics`` as ``analytics``, see legacy_path/), leaving out the shim's own
    package name (the shim registers each module under ``eventtracking.*`` too)."""
    names = [n for n, m in list(sys.modules.items()) if m is module and not n.startswith("otel_eventtracking.")]
    return max(names, key=lambda n: (n.count("."), n)) if names else "<unregistered module>"


def describe(name: str, value: Any) -> Any:
    """What is observed of one public name."""
    if inspect.ismodule(value):
        return {"module": _module_name(value)}
    module = getattr(value, "__module__", None) or ""
    if (inspect.isclass(value) or inspect.isfunction(value)) and not module.startswith(_OURS):
        return {"from": f"{module}.{value.__qualname__}"}
    if inspect.isclass(value):
        if issubclass(value, BaseException):
            return {"exception": True, "is_Exception": issubclass(value, Exception)}
        members = {}
        for member in MEMBERS.get(name, ()):
            static = inspect.getattr_static(value, member, None)
            if static is None:
                members[member] = "<missing>"
            elif isinstance(static, property):
                members[member] = "property"
            elif callable(static):
                members[member] = params(getattr(value, member))
            else:
                members[member] = {"value": static}
        return {"class": params(value), "members": members}
    if inspect.isfunction(value):
        return {"function": params(value)}
    if callable(value):  # a task object
        return {"callable": params(value), "has": [a for a in ("delay", "apply_async", "run") if hasattr(value, a)]}
    if hasattr(value, "utcoffset"):
        return {"tzinfo_offset": str(value.utcoffset(None))}
    if isinstance(value, str | int | float | bool) or value is None:
        return {"value": value}
    return {"type": type(value).__name__}


def _observe(prefix: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for module_name, names in NAMES.items():
        if not module_name.startswith(prefix):
            continue
        key = module_name.replace(".", "/")
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            out[key] = {"$import_error": type(exc).__name__}
            continue
        out[key] = {n: describe(n, getattr(module, n)) if hasattr(module, n) else "<absent>" for n in names}
    return out


@scenario(GROUP)
def api_tracker_and_locators(h: Harness) -> dict[str, Any]:
    """eventtracking.tracker, .locator, .exceptions, .tasks: every public name."""
    return {
        **_observe("eventtracking.tracker"),
        **_observe("eventtracking.locator"),
        **_observe("eventtracking.exceptions"),
        **_observe("eventtracking.tasks"),
    }


@scenario(GROUP)
def api_backends(h: Harness) -> dict[str, Any]:
    """eventtracking.backends.*: every public name, constructors and members."""
    return _observe("eventtracking.backends")


@scenario(GROUP)
def api_processors(h: Harness) -> dict[str, Any]:
    """eventtracking.processors.*: every public name."""
    return _observe("eventtracking.processors")


@scenario(GROUP, isolated=True)
def api_django(h: Harness) -> dict[str, Any]:
    """eventtracking.django, .django_tracker, .apps: every public name (with Django set up)."""
    h.django()
    return _observe("eventtracking.django")


@scenario(GROUP)
def api_instance_attributes(h: Harness) -> dict[str, Any]:
    """The attributes upstream's objects have once built (the ones code reads): present, and of
    which type."""
    from eventtracking.backends.logger import LoggerBackend
    from eventtracking.backends.routing import RoutingBackend
    from eventtracking.processors.regex_filter import RegexFilter
    from eventtracking.processors.whitelist import NameWhitelistProcessor
    from eventtracking.tracker import Tracker

    def attrs(obj: Any, *names: str) -> dict[str, Any]:
        return {n: type(getattr(obj, n)).__name__ if hasattr(obj, n) else "<absent>" for n in names}

    regex = RegexFilter("blocklist", ["^edx\\.", "x$"])
    return {
        "RegexFilter": {
            **attrs(regex, "regular_expressions", "compiled_expressions", "filter_type"),
            "values": [
                sorted(regex.regular_expressions),
                regex.filter_type,
                sorted(p.pattern for p in regex.compiled_expressions),
            ],
        },
        "NameWhitelistProcessor": {**attrs(NameWhitelistProcessor(whitelist=["a", "b"]), "whitelist")},
        "RoutingBackend": attrs(RoutingBackend(), "backends", "processors"),
        "Tracker": attrs(Tracker(), "routing_backend", "context_locator"),
        "LoggerBackend": {
            **attrs(LoggerBackend(name="x"), "max_event_size", "event_logger", "log"),
            "max_event_size": LoggerBackend(max_event_size=7).max_event_size,
        },
    }
