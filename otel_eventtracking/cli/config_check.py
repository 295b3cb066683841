"""``otel-eventtracking config check``: build a routing tree from its configuration and print it.

The tree is printed as a tree: each node with the class it is built as (upstream engine paths
show what they map to) and the options it was given; values of secret-looking options
(passwords, write keys, tokens, authorization headers, passwords inside URIs) are masked.
Exit status: 0 the tree builds, 1 it does not (the error names the place in the tree), 2 the file
cannot be read.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Mapping
from typing import Any

from ..config.engines import ENGINE_ALIASES, import_engine
from ..exceptions import ImproperlyConfigured
from ._common import EXIT_FAILED, EXIT_OK
from .tree_config import TreeSpec, add_source_arguments, build_tree, spec_from_args

MASK = "****"
SECRET_KEY = re.compile(r"pass(word|wd)?|secret|token|(write|api|access|private)[_-]?key|credential|auth", re.I)
URI_PASSWORD = re.compile(r"(?P<head>[a-z][a-z0-9+.-]*://[^:/@\s]*:)(?P<password>[^@/\s]+)(?P<tail>@)", re.I)


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "config",
        help="check a routing-tree configuration (config check CONFIG)",
        description="Work with routing-tree configurations in the ENGINE/OPTIONS format.",
    )
    actions = parser.add_subparsers(dest="config_command", required=True, metavar="ACTION")
    check = actions.add_parser(
        "check",
        help="build the tree and print it, with each node's class and options",
        description="Build the tree a configuration describes (as the application would at start-up: exporters "
        "may open their files or clients) and print it, with each node's class and options; secrets are masked.",
        epilog="Exit status: 0 the tree builds, 1 it does not (the error names the path in the tree), 2 bad usage "
        "or a file that cannot be read.",
    )
    add_source_arguments(check, config_flag=False)
    check.set_defaults(run=run)


def mask(key: str, value: Any) -> Any:
    """``value`` with secrets hidden: the whole value of a secret-looking key, passwords in URIs,
    recursively inside dicts and lists."""
    if SECRET_KEY.search(key) and value not in (None, "", {}, []):
        if isinstance(value, Mapping):
            return {k: MASK for k in value}
        return MASK
    if isinstance(value, str):
        return URI_PASSWORD.sub(lambda m: f"{m['head']}{MASK}{m['tail']}", value)
    if isinstance(value, Mapping):
        return {k: mask(str(k), v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask(key, v) for v in value]
    return value


def _is_node(value: Any) -> bool:
    return isinstance(value, Mapping) and "ENGINE" in value


def _holds_nodes(value: Any) -> bool:
    if isinstance(value, Mapping):
        return _is_node(value) or any(_holds_nodes(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(_holds_nodes(v) for v in value)
    return False


def _class_of(engine: Any) -> str:
    built = import_engine(engine, "ENGINE")
    name = f"{getattr(built, '__module__', '?')}.{getattr(built, '__qualname__', repr(built))}"
    short = getattr(built, "__qualname__", str(engine))
    origin = f"{engine} -> {name}" if engine in ENGINE_ALIASES else name
    return f"{short} ({origin})"


class _Tree:
    """Lines of a tree drawing: each item is (label, option lines, children)."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def item(self, label: str, value: Any, prefix: str, last: bool) -> None:
        self.lines.append(f"{prefix}{'└── ' if last else '├── '}{label}")
        inner = prefix + ("    " if last else "│   ")
        options, children = self._parts(value)
        for key, shown in options:
            self.lines.append(f"{inner}{'  ' if not children else '│ '} {key}: {shown}")
        for i, (child_label, child) in enumerate(children):
            self.item(child_label, child, inner, i == len(children) - 1)

    def _parts(self, value: Any) -> tuple[list[tuple[str, str]], list[tuple[str, Any]]]:
        """(options to list, children to draw) of a node, a dict of nodes or a list of nodes."""
        if _is_node(value):
            raw = value.get("OPTIONS") or {}
            options = raw.items() if isinstance(raw, Mapping) else []
            listed = [(str(k), repr(mask(str(k), v))) for k, v in options if not _holds_nodes(v)]
            return listed, [(str(k), _Branch(v)) for k, v in options if _holds_nodes(v)]
        if isinstance(value, _Branch):
            return [], _children(value.value)
        return [], []


class _Branch:
    """An option (or top-level part) holding nodes: drawn as a branch named after it."""

    def __init__(self, value: Any) -> None:
        self.value = value


def _children(value: Any) -> list[tuple[str, Any]]:
    if _is_node(value):
        return [(_class_of(value["ENGINE"]), value)]
    if isinstance(value, Mapping):
        return [(f"{k}: {_class_of(v['ENGINE'])}" if _is_node(v) else str(k), v if _is_node(v) else _Branch(v))
                for k, v in value.items()]  # fmt: skip
    if isinstance(value, list | tuple):
        return [(f"[{i}] {_class_of(v['ENGINE'])}" if _is_node(v) else f"[{i}]", v if _is_node(v) else _Branch(v))
                for i, v in enumerate(value)]  # fmt: skip
    return []


def render(spec: TreeSpec) -> list[str]:
    """The tree drawing of a configuration that builds (its engines import)."""
    tree = _Tree()
    tree.lines.append(spec.label)
    parts = [(spec.processors_path, spec.processors), (spec.backends_path, spec.backends)]
    parts = [(name, value) for name, value in parts if value]
    for i, (name, value) in enumerate(parts):
        tree.item(name, _Branch(value), "", i == len(parts) - 1)
    return tree.lines


def _count(value: Any) -> int:
    if _is_node(value):
        return 1 + sum(_count(v) for v in (value.get("OPTIONS") or {}).values())
    if isinstance(value, Mapping):
        return sum(_count(v) for v in value.values())
    if isinstance(value, list | tuple):
        return sum(_count(v) for v in value)
    return 0


def run(args: argparse.Namespace) -> int:
    try:
        spec = spec_from_args(args)
        root = build_tree(spec)
    except ImproperlyConfigured as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    try:
        print("\n".join(render(spec)))
        nodes = _count(spec.backends) + _count(spec.processors)
        print(f"\nOK: {nodes} node(s) built ({len(root.backends)} backend(s) and {len(root.processors)} "
              "processor(s) at the root)")  # fmt: skip
    finally:
        root.shutdown(5.0)
    return EXIT_OK
