"""Run every differential scenario in this interpreter and write what was observed as JSON.

    python -m tests.differential.run --out F.json [--only NAME ...] [--list]

Run from the repository root. The side is this interpreter's: with the real ``event-tracking``
installed, upstream is observed (and ``legacy_path/`` is put on ``sys.path`` for upstream's
``import analytics``); without it, ``otel_eventtracking.compat.install()`` makes ``eventtracking``
this library's shim. Every group of scenarios runs in its own child process (forked from this
one after the common imports, two at a time), so process-wide state (Django settings, the
default tracker, the Segment client) never leaks from one group into another.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import importlib.metadata
import json
import logging
import os
import pkgutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
CHILD_TIMEOUT = 120.0
PARALLEL = 2


def setup_side() -> str:
    """Decide which implementation ``eventtracking`` is here, and make it importable."""
    try:
        importlib.metadata.distribution("event-tracking")
    except importlib.metadata.PackageNotFoundError:
        from otel_eventtracking import compat

        if not compat.install():
            raise SystemExit("could not install the eventtracking shim") from None
        return "shim"
    sys.path.insert(0, str(HERE / "legacy_path"))
    return "legacy"


def load_scenarios() -> dict[str, Any]:
    from . import scenarios
    from .harness import SCENARIOS

    for info in pkgutil.iter_modules(scenarios.__path__):
        importlib.import_module(f"{scenarios.__name__}.{info.name}")
    return SCENARIOS


def versions(side: str) -> dict[str, str]:
    out = {"python": sys.version.split()[0]}
    for dist in ("event-tracking", "otel-eventtracking", "Django", "segment-analytics-python", "pymongo", "celery"):
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            out[dist] = importlib.metadata.version(dist)
    out["side"] = side
    return out


def _reset_between_scenarios() -> None:
    """Forget what the previous scenario of the group left in process-wide places."""
    import eventtracking.tracker

    eventtracking.tracker.TRACKERS.clear()
    try:
        from opentelemetry import context as otel_context
    except ImportError:
        return
    otel_context.attach(otel_context.Context())  # this library keeps contexts on the OTel Context


def run_group(side: str, names: list[str]) -> dict[str, Any]:
    """Run scenarios in this process, in order; each result normalised with the group's window."""
    from .encode import encode, exception
    from .harness import Harness, Pending
    from .normalize import Window, normalize

    registry = load_scenarios()
    # Both implementations log their failures (by design); scenarios that observe logging attach
    # their own handlers. Without one on the root, Python would print every record to stderr.
    logging.getLogger().addHandler(logging.NullHandler())
    harness = Harness(side)
    raw: dict[str, dict[str, Any]] = {}
    start = time.time()
    for name in names:
        item = registry[name]
        _reset_between_scenarios()
        began = time.perf_counter()
        try:
            result: dict[str, Any] = {"observation": encode(item.func(harness))}
        except Pending as exc:
            result = {"pending": str(exc)}
        except Exception as exc:
            result = {"observation": {"$scenario_raised": exception(exc)}, "traceback": traceback.format_exc()}
        result["seconds"] = round(time.perf_counter() - began, 4)
        raw[name] = result
    window = Window(start, time.time())
    for result in raw.values():
        if "observation" in result:
            result["observation"] = normalize(result["observation"], window)
    return raw


def _preload() -> None:
    """Import, once in the parent, what most groups import (nothing is configured or started):
    every forked child then starts in milliseconds instead of importing Django and the SDK."""
    for module in ("django", "django.conf", "django.apps", "segment.analytics", "pymongo", "celery"):
        with contextlib.suppress(ImportError):
            importlib.import_module(module)


def _run_forked(side: str, names: list[str], out: Path) -> int:
    """Run a group in a forked child (process-wide state stays in the child); its exit status."""
    pid = os.fork()
    if pid == 0:  # the child
        status = 1
        try:
            out.write_text(json.dumps({"scenarios": run_group(side, names)}))
            status = 0
        except BaseException:
            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(status)
    deadline = time.monotonic() + CHILD_TIMEOUT
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return -signal.SIGKILL
        time.sleep(0.005)


def _run_child(side: str, group: str, names: list[str]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="differential-") as tmp:
        out = Path(tmp) / "out.json"
        if hasattr(os, "fork"):
            code, detail = _run_forked(side, names, out), "see the runner's stderr"
        else:  # no fork: a fresh interpreter per group
            cmd = [sys.executable, "-m", "tests.differential.run", "--child", "--out", str(out), *names]
            proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=CHILD_TIMEOUT, check=False)
            code, detail = proc.returncode, proc.stderr[-3000:]
        if code == 0 and out.exists():
            return dict(json.loads(out.read_text())["scenarios"])
    problem = f"group {group!r} failed (exit status {code}): {detail}"
    return {name: {"observation": {"$group_failed": problem}} for name in names}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, help="where to write the observations (JSON)")
    parser.add_argument("--only", action="append", default=[], metavar="NAME", help="run only these scenarios")
    parser.add_argument("--list", action="store_true", help="print the scenarios and their groups")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("names", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    os.chdir(ROOT)
    side = setup_side()
    registry = load_scenarios()
    if args.list:
        for item in registry.values():
            print(f"{item.name}\t{item.group}\t{item.doc}")
        return 0
    if args.out is None:
        parser.error("--out is required")
    began = time.perf_counter()
    if args.child:
        results = run_group(side, args.names)
    else:
        unknown = sorted(set(args.only) - set(registry))
        if unknown:
            parser.error(f"unknown scenario(s): {', '.join(unknown)}")
        wanted = [n for n in registry if not args.only or n in args.only]
        groups: dict[str, list[str]] = {}
        for name in wanted:
            groups.setdefault(registry[name].group, []).append(name)
        _preload()
        results = {}
        with ThreadPoolExecutor(PARALLEL) as pool:
            order = sorted(groups, key=lambda g: -len(groups[g]))
            for part in pool.map(lambda g: _run_child(side, g, groups[g]), order):
                results.update(part)
        results = {name: {**results[name], "group": registry[name].group} for name in wanted}
    payload = {"versions": versions(side), "seconds": round(time.perf_counter() - began, 2), "scenarios": results}
    args.out.write_text(json.dumps(payload, indent=1, sort_keys=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
