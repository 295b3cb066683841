"""Signatures for the shim's thin subclasses, derived from the classes they extend (no copied defaults)."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any


def forward_signature(init: Callable[..., Any], parent: Callable[..., Any], leading: Sequence[str] = ()) -> None:
    """Give ``init`` (an ``__init__(self, *leading, **options)`` that forwards to ``parent``) the
    signature it really accepts: ``self``, the ``leading`` parameters positionally in that order,
    then every other parameter of ``parent`` as keyword-only, with the parent's defaults. Lets
    ``inspect.signature(cls).bind(...)`` (how ``configure()`` checks OPTIONS) see a typo."""
    params = list(inspect.signature(parent).parameters.values())
    by_name = {p.name: p for p in params}
    first = [params[0].replace(kind=inspect.Parameter.POSITIONAL_OR_KEYWORD)]  # self
    head = [by_name[n].replace(kind=inspect.Parameter.POSITIONAL_OR_KEYWORD) for n in leading]
    rest = [
        p if not leading or p.kind is inspect.Parameter.VAR_KEYWORD else p.replace(kind=inspect.Parameter.KEYWORD_ONLY)
        for p in params[1:]
        if p.name not in leading
    ]
    init.__signature__ = inspect.Signature([*first, *head, *rest])  # type: ignore[attr-defined]
