"""Find the event names a source tree emits, by reading its syntax tree (never running it).

Matched: ``emit("name", ...)`` and ``<anything>.emit("name", ...)`` (``tracker.emit``,
``eventtracking.tracker.emit``...) shaped like the tracker's ``emit(name, data)`` (at most two
arguments, keywords ``name``/``data`` only), with the name as the first argument or ``name=``, given as a
string literal or as a module-level constant assigned a literal (``EVENT = "x"; emit(EVENT)``).
Names built at run time (f-strings, variables) cannot be known statically and are skipped.
A call whose lines carry the comment ``# catalog: ignore`` is skipped (another library's
``emit``, such as a Socket.IO client's).

Typed emits are found too, for the catalog's "emitted at": ``VIDEO_PLAYED.emit(...)`` (or
``events.VIDEO_PLAYED.emit(...)``) where ``VIDEO_PLAYED = EventType("name", ...)`` is assigned
at module level in a scanned file. They are declared by construction, so the check ignores them;
a constant name bound to different events in two files is resolved only in the file defining it.
"""

from __future__ import annotations

import ast
import fnmatch
import os
from collections.abc import Container, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

IGNORE_PRAGMA = "catalog: ignore"
_SKIPPED_DIRS = frozenset({"__pycache__", "node_modules", "site-packages", "build", "dist"})


@dataclass(frozen=True)
class EmitCall:
    """One ``emit`` call with a name known statically."""

    path: str
    line: int
    name: str
    call: str

    def location(self) -> str:
        return f"{self.path}:{self.line}"


@dataclass
class ScanResult:
    """The calls found, the number of files read, and the files that could not be parsed."""

    calls: list[EmitCall] = field(default_factory=list)
    files: int = 0
    errors: list[str] = field(default_factory=list)
    #: ``CONSTANT.emit(...)`` calls of module-level EventType constants (declared by construction).
    typed_calls: list[EmitCall] = field(default_factory=list)

    def all_calls(self) -> list[EmitCall]:
        """Every call found, by name and typed, sorted by place."""
        return sorted([*self.calls, *self.typed_calls], key=lambda c: (c.path, c.line, c.name))

    def undeclared(self, declared: Container[str], ignore_names: Iterable[str] = ()) -> list[EmitCall]:
        """The calls whose name is not in ``declared`` nor matched by a glob of ``ignore_names``."""
        patterns = list(ignore_names)
        return [
            call
            for call in self.calls
            if call.name not in declared and not any(fnmatch.fnmatchcase(call.name, p) for p in patterns)
        ]


def _module_constants(tree: ast.Module) -> dict[str, str]:
    """Module-level ``NAME = "literal"`` (and annotated) assignments."""
    out: dict[str, str] = {}
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign):
            targets, value = stmt.targets, stmt.value
        elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
            targets, value = [stmt.target], stmt.value
        else:
            continue
        for target in targets:
            if isinstance(target, ast.Name):
                if isinstance(value, ast.Constant) and isinstance(value.value, str):
                    out[target.id] = value.value
                else:
                    out.pop(target.id, None)  # reassigned to something else: no longer known
    return out


def _name_argument(call: ast.Call) -> ast.expr | None:
    # Only calls that fit the tracker's signature, emit(name=None, data=None): this keeps out
    # EventType.emit(name=...) data fields and other libraries' emit(event, data, room=...).
    if len(call.args) > 2 or any(kw.arg not in ("name", "data") for kw in call.keywords):
        return None
    if call.args:
        first = call.args[0]
        return None if isinstance(first, ast.Starred) else first
    return next((kw.value for kw in call.keywords if kw.arg == "name"), None)


def _is_emit(func: ast.expr) -> bool:
    return (isinstance(func, ast.Name) and func.id == "emit") or (
        isinstance(func, ast.Attribute) and func.attr == "emit"
    )


def scan_source(source: str | bytes, path: str) -> list[EmitCall]:
    """The emit calls with a static name in one module's source; SyntaxError if it does not parse."""
    tree = ast.parse(source, filename=path)
    text = source.decode("utf-8", "replace") if isinstance(source, bytes) else source
    return _calls_in(tree, text, path)


def _calls_in(tree: ast.Module, text: str, path: str) -> list[EmitCall]:
    lines = text.splitlines()
    constants = _module_constants(tree)
    found: list[EmitCall] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not _is_emit(node.func):
            continue
        arg = _name_argument(node)
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            name = arg.value
        elif isinstance(arg, ast.Name) and arg.id in constants:
            name = constants[arg.id]
        else:
            continue
        span = lines[node.lineno - 1 : (node.end_lineno or node.lineno)]
        if any(IGNORE_PRAGMA in line for line in span):
            continue
        found.append(EmitCall(path, node.lineno, name, ast.unparse(node.func)))
    return sorted(found, key=lambda c: (c.path, c.line, c.name))


def _event_type_constants(tree: ast.Module) -> dict[str, str]:
    """Module-level ``NAME = EventType("literal", ...)`` assignments: constant -> event name."""
    out: dict[str, str] = {}
    for stmt in tree.body:
        value = stmt.value if isinstance(stmt, ast.Assign | ast.AnnAssign) else None
        if isinstance(stmt, ast.Assign):
            targets = stmt.targets
        elif isinstance(stmt, ast.AnnAssign):
            targets = [stmt.target]
        else:
            continue
        if not isinstance(value, ast.Call):
            continue
        func = value.func
        if not ((isinstance(func, ast.Name) and func.id == "EventType") or
                (isinstance(func, ast.Attribute) and func.attr == "EventType")):  # fmt: skip
            continue
        arg = value.args[0] if value.args else next((k.value for k in value.keywords if k.arg == "name"), None)
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            out.update({t.id: arg.value for t in targets if isinstance(t, ast.Name)})
    return out


def _typed_calls(tree: ast.Module, path: str, text: str, types: dict[str, str]) -> list[EmitCall]:
    lines = text.splitlines()
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "emit"):
            continue
        owner = node.func.value
        constant = owner.id if isinstance(owner, ast.Name) else owner.attr if isinstance(owner, ast.Attribute) else None
        if constant not in types:
            continue
        if any(IGNORE_PRAGMA in line for line in lines[node.lineno - 1 : (node.end_lineno or node.lineno)]):
            continue
        found.append(EmitCall(path, node.lineno, types[constant], ast.unparse(node.func)))
    return found


def _is_excluded(rel: str, patterns: list[str]) -> bool:
    return any(fnmatch.fnmatch(rel, p) or fnmatch.fnmatch(os.path.basename(rel), p) for p in patterns)


def python_files(root: Path, exclude: Iterable[str] = ()) -> Iterator[Path]:
    """The ``.py`` files under ``root`` (or ``root`` itself), skipping hidden directories, virtual
    environments, caches and paths matching a glob of ``exclude``, in a stable order."""
    patterns = list(exclude)
    if root.is_file():
        yield root
        return
    for dirpath, dirnames, filenames in os.walk(root):
        base = Path(dirpath)
        dirnames[:] = sorted(
            d
            for d in dirnames
            if not d.startswith(".")
            and d not in _SKIPPED_DIRS
            and not (base / d / "pyvenv.cfg").exists()
            and not _is_excluded(str((base / d).relative_to(root)), patterns)
        )
        for name in sorted(filenames):
            if name.endswith(".py") and not _is_excluded(str((base / name).relative_to(root)), patterns):
                yield base / name


def scan_paths(paths: Iterable[str | os.PathLike[str]], exclude: Iterable[str] = ()) -> ScanResult:
    """Scan every Python file under ``paths``; files that do not parse are listed in ``errors``."""
    result = ScanResult()
    local: dict[str, dict[str, str]] = {}  # file -> its EventType constants
    candidates: list[tuple[str, ast.Module, str]] = []  # files with an .emit( that may be typed
    for raw in paths:
        root = Path(raw)
        if not root.exists():
            result.errors.append(f"{root}: no such file or directory")
            continue
        for path in python_files(root, exclude):
            result.files += 1
            try:
                source = path.read_bytes()
                tree = ast.parse(source, filename=str(path))
            except SyntaxError as exc:
                result.errors.append(f"{path}:{exc.lineno or 0}: cannot be parsed ({exc.msg}); fix it or --exclude it")
                continue
            except (OSError, ValueError) as exc:
                result.errors.append(f"{path}: cannot be read ({exc}); fix it or --exclude it")
                continue
            text = source.decode("utf-8", "replace")
            result.calls.extend(_calls_in(tree, text, str(path)))
            if b"EventType" in source:
                local[str(path)] = _event_type_constants(tree)
            if b".emit(" in source:
                candidates.append((str(path), tree, text))
    known: dict[str, set[str]] = {}
    for constants in local.values():
        for constant, name in constants.items():
            known.setdefault(constant, set()).add(name)
    unambiguous = {constant: next(iter(names)) for constant, names in known.items() if len(names) == 1}
    for where, tree, text in candidates:
        result.typed_calls.extend(_typed_calls(tree, where, text, {**unambiguous, **local.get(where, {})}))
    result.typed_calls.sort(key=lambda c: (c.path, c.line, c.name))
    return result
