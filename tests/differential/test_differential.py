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
XFAIL: dict[str, tuple[str, list[str]]] = {
    "dict_fidelity_keys": (
        "keys a processor removed (timestamp, data) or a plain dict lacked are written back: the "
        "dict is not delivered as given",
        [
            "processor_returns_new_dict",
            "processor_returns_empty_dict",
            "routing_send_partial_dict",
            "routing_process_event_no_processors",
            "edx_tracking_line_server_event",
            "edx_tracking_line_browser_event",
            "edx_tracking_line_minimal_context",
            "edx_tracking_line_event_type_in_data",
            "edx_tracking_replay_shaped_dict",
            "edx_tracking_processed_twice_safe",
            "django_tracker_nested_tree",
            "django_edx_platform_logger_line",
        ],
    ),
    "dict_fidelity_values": (
        "values of a plain dict are replaced: a string timestamp by now, a non-str name by str(), a None "
        "name by 'unknown' (then sent to Segment), a non-dict context by {}",
        [
            "routing_send_string_timestamp",
            "routing_send_non_str_name",
            "routing_send_data_not_a_dict",
            "regex_name_not_a_string",
            "segment_missing_name",
            "logger_line_timestamps",
        ],
    ),
    "process_event_identity": (
        "process_event() returns a new dict and leaves its input untouched; upstream runs the processors "
        "on the given dict and returns it",
        ["routing_process_event_in_place"],
    ),
    "return_values": (
        "RoutingBackend.send() / send_to_backends() return True/False; upstream returns None",
        [
            "routing_send_plain_dict",
            "routing_send_to_backends_no_copy",
            "routing_backend_error_isolated",
            "routing_backend_declines",
            "processor_exit_stops_chain",
        ],
    ),
    "list_processors": (
        "processors called with a list of events (ERB): NameWhitelistProcessor raises AttributeError "
        "instead of filtering the list; RegexFilter raises AttributeError where upstream raises TypeError",
        ["whitelist_list_of_events", "whitelist_list_none_pass", "processor_list_in_chain", "regex_list_of_events"],
    ),
    "exception_types": (
        "configuration errors of another type than upstream's: ImproperlyConfigured (a ValueError) for "
        "NameWhitelistProcessor(whitelist=None|str|int) and RegexFilter(regular_expressions=[5]) where "
        "upstream raises TypeError; Django's ImproperlyConfigured at django.setup() where upstream "
        "raises ValueError",
        [
            "whitelist_none",
            "whitelist_string",
            "whitelist_number",
            "regex_bad_expression",
            "django_unknown_engine_at_startup",
        ],
    ),
    "whitelist_inputs": (
        "NameWhitelistProcessor rejects a generator or a dict as the whitelist; upstream takes any iterable",
        ["whitelist_collection_types"],
    ),
    "contexts_per_tracker": (
        "two trackers in one thread share contexts; upstream contexts belong to each tracker's locator",
        ["tracker_two_trackers_one_thread"],
    ),
    "live_locator_mappings": (
        "locator.get() and tracker.located_context are snapshots, so assigning, deleting or clearing in them "
        "does nothing; Tracker()'s locator is not a DefaultContextLocator",
        [
            "tracker_located_context_live",
            "locator_thread_local_assign_via_get",
            "locator_get_mapping_edits",
            "locator_located_context_is_locator_mapping",
            "locator_default_get",
        ],
    ),
    "context_by_reference": (
        "enter_context() copies the dict; upstream keeps a reference, so later changes to it show in events",
        ["tracker_enter_context_keeps_reference"],
    ),
    "non_dict_processor_results": (
        "a processor returning a non-dict (a string, a list) is treated as an error and skipped; upstream "
        "passes what it returned on to the next processor and the backends",
        ["processor_returns_non_dict"],
    ),
    "backend_registration_order": (
        "register_backend() after construction sorts the backend in by name; upstream calls it last",
        ["routing_register_backend_later"],
    ),
    "segment_mapping": (
        "Segment mapping: empty agent/referer/ip/path left out (upstream sends ''), user_id 0 sent (upstream "
        "sends nothing), datetimes in data converted to UTC / naive ones given +00:00 (upstream: "
        "isoformat() as given), Decimal sent as a string (upstream: a number)",
        ["segment_empty_values", "segment_user_id_kinds", "segment_datetimes_in_data", "segment_numbers_in_data"],
    ),
    "mongo_indexes": (
        "MongoDB index on `timestamp`; upstream indexes `time` (the legacy tracking-log field)",
        ["mongo_indexes"],
    ),
}


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
