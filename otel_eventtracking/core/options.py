"""Constructor options type-checked from their annotations, at construction.

Processors and exporters are often built from configuration (``ENGINE``/``OPTIONS`` trees, Django
settings, environment variables), where ``"30"`` for a number or ``"yes"`` for a flag is an easy
mistake that otherwise surfaces much later, in a worker, as a ``TypeError`` that stops delivery.
:func:`checked` wraps a constructor so that a value of the wrong type raises
:class:`~otel_eventtracking.exceptions.ConfigurationTypeError` naming the class and the option.
Only types are checked here (bools are not ints, ints are floats, ``Literal`` choices are their
values' type); each constructor still checks ranges and choices itself.
"""

from __future__ import annotations

import collections.abc as abc
import functools
import inspect
import os
import sys
import types
import typing
from collections.abc import Callable
from typing import Any

from ..exceptions import ConfigurationTypeError, ImproperlyConfigured

Check = Callable[[Any], bool | None]  # True/False, or None when the annotation cannot be checked
_CONTAINERS = (list, tuple, set, frozenset, abc.Sequence, abc.Iterable, abc.Collection, abc.Set)


def _is(kind: type) -> Check:
    return lambda value: isinstance(value, kind)


def _any_of(checks: list[Check]) -> Check:
    def check(value: Any) -> bool | None:
        results = [c(value) for c in checks]
        return any(r is None or r for r in results)

    return check


def _check_for(hint: Any) -> Check:
    """How to check a value against ``hint`` (checks that cannot be made accept the value)."""
    if hint is Any or isinstance(hint, typing.TypeVar):
        return lambda value: None
    if hint is None or hint is type(None):
        return lambda value: value is None
    if hint is bool:
        return _is(bool)
    if hint is int:
        return lambda value: isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return lambda value: isinstance(value, int | float) and not isinstance(value, bool)
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin is typing.Union or origin is types.UnionType:
        return _any_of([_check_for(arg) for arg in args])
    if origin is typing.Literal:
        kinds = {type(arg) for arg in args}
        return lambda value: type(value) in kinds
    if origin is abc.Callable or hint is abc.Callable:
        return callable
    if origin in _CONTAINERS or hint in _CONTAINERS:
        # a single string: left to the constructor, whose message says to wrap it in a list
        return lambda value: None if isinstance(value, str | bytes) else isinstance(value, abc.Iterable)
    if origin in (dict, abc.Mapping, abc.MutableMapping) or hint in (dict, abc.Mapping):
        return _is(abc.Mapping)
    if hint is os.PathLike or origin is os.PathLike:
        return _is(os.PathLike)
    if isinstance(hint, type) and hint.__module__ != "typing":

        def check(value: Any) -> bool | None:
            try:
                return isinstance(value, hint)
            except TypeError:  # a protocol that cannot be checked at run time
                return None

        return check
    return lambda value: None  # IO[str], forward references...


def _describe(hint: Any) -> str:
    names = {bool: "a bool", int: "an int", float: "a number", str: "a str", bytes: "bytes", type(None): "None"}
    if hint in names:
        return names[hint]
    origin = typing.get_origin(hint)
    if origin is typing.Union or origin is types.UnionType:
        return " or ".join(_describe(arg) for arg in typing.get_args(hint))
    if origin is typing.Literal:
        return "one of " + ", ".join(repr(arg) for arg in typing.get_args(hint))
    if origin in _CONTAINERS or hint in _CONTAINERS:
        return "a list"
    if origin in (dict, abc.Mapping, abc.MutableMapping) or hint in (dict, abc.Mapping):
        return "a mapping"
    return getattr(hint, "__name__", None) or str(hint)


def _shown(value: Any) -> str:
    try:
        text = repr(value)
    except Exception:
        text = "<unprintable>"
    return f"{type(value).__name__} {text[:80]}"


def _checks_of(init: Callable[..., Any]) -> dict[str, tuple[Check, Any]]:
    module = sys.modules.get(getattr(init, "__module__", ""), None)
    namespace = vars(module) if module is not None else {}
    out: dict[str, tuple[Check, Any]] = {}
    for name, raw in inspect.get_annotations(init).items():
        if name == "return":
            continue
        try:
            hint = eval(raw, namespace) if isinstance(raw, str) else raw
        except Exception:  # a name imported for type checking only: not checked
            continue
        out[name] = (_check_for(hint), hint)
    return out


def _refuse(init: Callable[..., None], obj: Any, args: Any, kwargs: Any, message: str) -> None:
    """Raise ConfigurationTypeError: with the constructor's own message when it has a check of its
    own for this option (it raises ImproperlyConfigured), else with ``message``."""
    try:
        init(obj, *args, **kwargs)
    except ConfigurationTypeError:
        raise
    except ImproperlyConfigured as exc:
        raise ConfigurationTypeError(f"{message}: {exc}") from exc
    except Exception as exc:
        raise ConfigurationTypeError(message) from exc
    raise ConfigurationTypeError(message)


def checked(init: Callable[..., None]) -> Callable[..., None]:
    """Wrap a constructor: each option given is checked against its annotation first."""
    signature = inspect.signature(init)
    checks: dict[str, tuple[Check, Any]] | None = None
    plain = {
        name
        for name, p in signature.parameters.items()
        if p.kind not in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    }

    @functools.wraps(init)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> None:
        nonlocal checks
        if checks is None:
            checks = _checks_of(init)
        try:
            bound = signature.bind(self, *args, **kwargs)
        except TypeError:
            return init(self, *args, **kwargs)  # let Python say what is missing or unexpected
        for name, value in list(bound.arguments.items())[1:]:
            if name in plain and name in checks:
                check, hint = checks[name]
                if check(value) is False:
                    _refuse(init, self, args, kwargs, f"{type(self).__name__} option {name!r} must be "
                            f"{_describe(hint)}, got {_shown(value)}")  # fmt: skip
        return init(self, *args, **kwargs)

    return wrapper


def check_subclass_options(cls: type) -> None:
    """For ``__init_subclass__`` of a base class: check the constructor options of this library's
    own subclasses (an application's subclasses are left as their authors wrote them)."""
    init = cls.__dict__.get("__init__")
    if init is not None and cls.__module__.startswith("otel_eventtracking.") and not hasattr(init, "__wrapped__"):
        cls.__init__ = checked(init)  # type: ignore[misc]
