"""Differential test: the real event-tracking 4.0.2 and this library's shim run the same scenarios
(tests/differential/scenarios) and must observe the same things, or differ only as declared in
deviations.py. One test id per scenario.

The upstream side runs in .venv-diff (built by run_legacy.sh on first use, reused after); this
side in the interpreter running pytest, which must not have the real package. Scenarios that
differ today are marked xfail(strict=True) in XFAIL below, grouped by cause: fixing a cause turns
its scenarios into XPASS failures, so the entry must then be removed.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path
from typing import Any

import pytest

from .compare import DEVIATION, IDENTICAL, PENDING, compare
from .deviations import DEVIATIONS

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
LEGACY_VENV = ROOT / os.environ.get("DIFFERENTIAL_VENV", ".venv-diff")
RUN_TIMEOUT = 300

# cause -> (reason, scenarios that differ because of it). Keep each scenario under one cause.
XFAIL: dict[str, tuple[str, list[str]]] = {}


def scenario_names() -> list[str]:
    """The registered scenario names, read from the scenario modules' source (no import: the
    `eventtracking` they import is only set up in the runner's processes)."""
    names = []
    for path in sorted((HERE / "scenarios").glob("*.py")):
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.FunctionDef) and any(_is_scenario(d) for d in node.decorator_list):
                names.append(node.name)
    return names


def _is_scenario(decorator: ast.expr) -> bool:
    target = decorator.func if isinstance(decorator, ast.Call) else decorator
    return isinstance(target, ast.Name) and target.id == "scenario"


def _xfail_reasons() -> dict[str, str]:
    out: dict[str, str] = {}
    for cause, (reason, names) in XFAIL.items():
        for name in names:
            out[name] = f"{cause}: {reason}"
    return out


def _params() -> list[Any]:
    reasons = _xfail_reasons()
    return [
        pytest.param(name, marks=pytest.mark.xfail(strict=True, reason=reasons[name])) if name in reasons else name
        for name in scenario_names()
    ]


def _legacy_python() -> Path:
    """The upstream venv's interpreter, built by run_legacy.sh if it is not there yet."""
    python = LEGACY_VENV / "bin" / "python"
    script = HERE / "run_legacy.sh"
    try:
        proc = subprocess.run(["bash", str(script)], cwd=ROOT, capture_output=True, text=True, timeout=900, check=False)
    except subprocess.TimeoutExpired:
        pytest.skip(f"could not build the upstream venv {LEGACY_VENV} in 900 s (bash {script})")
    if proc.returncode != 0 or not python.exists():
        pytest.skip(f"could not build the upstream venv {LEGACY_VENV}: bash {script} said:\n{proc.stderr[-2000:]}")
    return python


def _run(python: Path, out: Path) -> dict[str, Any]:
    cmd = [str(python), "-m", "tests.differential.run", "--out", str(out)]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=RUN_TIMEOUT, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited with {proc.returncode}:\n{proc.stderr[-4000:]}")
    return dict(json.loads(out.read_text()))


@pytest.fixture(scope="module")
def observations(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    try:
        distribution("event-tracking")
    except PackageNotFoundError:
        pass
    else:
        pytest.skip("the real event-tracking is installed in this interpreter: the shim side needs the main .venv")
    legacy_python = _legacy_python()
    tmp = tmp_path_factory.mktemp("differential")
    with ThreadPoolExecutor(2) as pool:
        legacy = pool.submit(_run, legacy_python, tmp / "legacy.json")
        shim = pool.submit(_run, Path(sys.executable), tmp / "shim.json")
        return {"legacy": legacy.result(), "shim": shim.result()}


@pytest.mark.parametrize("name", _params())
def test_scenario(observations: dict[str, dict[str, Any]], name: str) -> None:
    legacy = observations["legacy"]["scenarios"].get(name)
    shim = observations["shim"]["scenarios"].get(name)
    assert legacy is not None and shim is not None, f"{name} was not run on both sides"
    if "pending" in legacy or "pending" in shim:
        pytest.skip(f"{PENDING}: upstream: {legacy.get('pending', 'runs')}; shim: {shim.get('pending', 'runs')}")
    verdict, problems = compare(name, legacy["observation"], shim["observation"])
    for side, result in (("upstream", legacy), ("shim", shim)):
        if "traceback" in result:
            problems.append(f"the scenario raised on the {side} side:\n{result['traceback']}")
    assert verdict in (IDENTICAL, DEVIATION), f"{name}: " + "\n".join(problems)


def test_tables_name_real_scenarios() -> None:
    """XFAIL and the deviations table only name scenarios that exist, each cause once."""
    names = set(scenario_names())
    assert len(names) >= 60
    listed = [n for _, members in XFAIL.values() for n in members]
    assert len(listed) == len(set(listed)), "a scenario is listed under two causes"
    assert set(listed) <= names, sorted(set(listed) - names)
    declared = {n for d in DEVIATIONS for n in d.scenarios}
    assert declared <= names, sorted(declared - names)
