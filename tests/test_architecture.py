"""The layout's rules, checked on the source: no import cycles, small modules, one door to the
SDK's private API, one exception root."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import otel_eventtracking
from otel_eventtracking import exceptions

PACKAGE = Path(otel_eventtracking.__file__).parent
PRIVATE_OTEL = (
    "opentelemetry._logs",
    "opentelemetry.sdk._logs",
    # the OTLP exporters' internals (encoder, HTTP client) and the API's private span key
    "opentelemetry.exporter.otlp.proto.common._log_encoder",
    "opentelemetry.exporter.otlp.proto.common._internal",
    "opentelemetry.exporter.otlp.proto.http._common",
    "opentelemetry.exporter.otlp.common",
    "opentelemetry.trace.propagation._SPAN_KEY",
)
MAX_LINES = 400


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(module: str, path: Path) -> set[str]:
    """Every module of the package ``module`` imports, at any depth (functions included), except
    under ``if TYPE_CHECKING:``."""
    tree = ast.parse(path.read_text())
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            return
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            names = [f"{target}.{a.name}" for a in node.names]
            found.update(names)
            found.add(target)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def _parents_of(module: str) -> set[str]:
    parts = module.split(".")
    return {".".join(parts[:i]) for i in range(1, len(parts))}


def _graph() -> dict[str, set[str]]:
    """module -> the modules importing it runs. Importing ``a.b.c`` also runs the ``__init__`` of
    ``a.b`` (an edge), except for the importer's own ancestors, which Python has run already."""
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets = set()
        own = _parents_of(name)
        for imported in _imports(name, path):
            # "from .x import y": y may be a module or a name; keep the longest module prefix.
            while imported and imported not in modules:
                imported = imported.rpartition(".")[0]
            if not imported or imported == name:
                continue
            targets |= {m for m in {imported} | _parents_of(imported) if m in modules and m not in own}
        targets.discard(name)
        graph[name] = targets
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def strongconnect(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                strongconnect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in graph:
        if v not in index:
            strongconnect(v)
    return out


def test_no_import_cycles():
    assert _cycles(_graph()) == []


def test_the_checker_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == [["a", "b", "c"]]


@pytest.mark.parametrize("name", sorted(_modules()))
def test_modules_stay_small(name):
    lines = len(_modules()[name].read_text().splitlines())
    assert lines <= MAX_LINES, f"{name} has {lines} lines: split it by responsibility"


def test_only_one_module_touches_the_sdks_private_logs_api():
    users = {
        name
        for name, path in _modules().items()
        if any(i == p or i.startswith(p + ".") for i in _imports(name, path) for p in PRIVATE_OTEL)
    }
    assert users == {"otel_eventtracking.otel._sdk"}


def test_every_exception_derives_from_the_root():
    import otel_eventtracking.processors.validation  # noqa: F401 - defines StrictValidationError

    found = []
    for name in _modules():
        if "compat" in name or "django" in name or name.endswith("__main__"):
            continue  # the shim and Django need set-up; __main__ runs the CLI
        module = __import__(name, fromlist=["_"])
        for obj in vars(module).values():
            # type(obj), not isinstance/inspect: a lazy object (Django's settings) would evaluate itself
            if issubclass(type(obj), type) and issubclass(obj, BaseException) and obj.__module__.startswith(name):
                found.append(obj)
    assert found, "no exception classes found: the check is broken"
    rogue = [
        c for c in found if not issubclass(c, exceptions.EventTrackingError) and c.__name__ != "StrictValidationError"
    ]
    assert rogue == []
