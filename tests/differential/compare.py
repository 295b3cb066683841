"""Compare the two sides' observations of one scenario, allowing only declared deviations.

python -m tests.differential.compare LEGACY.json SHIM.json   # counts and the differing list
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from .deviations import ANY, declared
from .normalize import reconcile

IDENTICAL, DEVIATION, DIFFERING, PENDING = "identical", "deliberate deviation", "differing", "pending"


def _split(path: str) -> list[str]:
    return path.split(".") if path else []


def values_at(value: Any, path: str) -> list[Any]:
    """Every value at ``path`` (``*`` = each item of a list or value of a dict)."""
    found = [value]
    for part in _split(path):
        nxt: list[Any] = []
        for v in found:
            if part == "*":
                nxt.extend(v if isinstance(v, list) else v.values() if isinstance(v, dict) else [])
            elif isinstance(v, dict) and part in v:
                nxt.append(v[part])
        found = nxt
    return found


def mask(value: Any, parts: list[str], token: str) -> Any:
    """``value`` with everything at the path replaced by ``token``."""
    if not parts:
        return token
    head, rest = parts[0], parts[1:]
    if isinstance(value, list) and head == "*":
        return [mask(v, rest, token) for v in value]
    if isinstance(value, dict):
        if head == "*":
            return {k: mask(v, rest, token) for k, v in value.items()}
        if head in value:
            return {**value, head: mask(value[head], rest, token)}
    return value


def _matches(expected: Any, actual: Any) -> bool:
    if expected is ANY:
        return True
    if callable(expected):
        return bool(expected(actual))
    return bool(expected == actual)


def compare(name: str, legacy: Any, shim: Any) -> tuple[str, list[str]]:
    """(verdict, problems). Problems are empty for IDENTICAL and DEVIATION."""
    legacy, shim = reconcile(legacy, shim)
    if legacy == shim and not declared(name):
        return IDENTICAL, []
    problems: list[str] = []
    for path, (dev_id, expected) in declared(name).items():
        lv, sv = values_at(legacy, path), values_at(shim, path)
        if lv == sv:
            problems.append(f"deviation {dev_id!r} declared at {path!r} no longer shows (both: {json.dumps(lv)[:300]})")
        bad = [v for v in sv if not _matches(expected, v)]
        if not sv or bad:
            problems.append(f"deviation {dev_id!r} at {path!r}: this library shows {json.dumps(sv)[:300]}")
        legacy = mask(legacy, _split(path), f"<deviation:{dev_id}>")
        shim = mask(shim, _split(path), f"<deviation:{dev_id}>")
    if legacy != shim:
        problems.append("observations differ:\n  upstream: " + json.dumps(legacy) + "\n  shim:     " + json.dumps(shim))
    return (DEVIATION if not problems else DIFFERING), problems


def verdicts(legacy_run: dict[str, Any], shim_run: dict[str, Any]) -> dict[str, tuple[str, list[str]]]:
    out = {}
    for name, l_res in legacy_run["scenarios"].items():
        s_res = shim_run["scenarios"].get(name, {"observation": {"$missing": True}})
        if "pending" in l_res or "pending" in s_res:
            out[name] = (PENDING, [l_res.get("pending") or s_res.get("pending")])
            continue
        out[name] = compare(name, l_res["observation"], s_res["observation"])
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("legacy", type=Path)
    parser.add_argument("shim", type=Path)
    parser.add_argument("-v", "--verbose", action="store_true", help="print the differences too")
    args = parser.parse_args(argv)
    results = verdicts(json.loads(args.legacy.read_text()), json.loads(args.shim.read_text()))
    counts: dict[str, int] = {}
    for verdict, _ in results.values():
        counts[verdict] = counts.get(verdict, 0) + 1
    print(", ".join(f"{n} {v}" for v, n in sorted(counts.items())))
    for name, (verdict, problems) in results.items():
        if verdict in (DIFFERING, PENDING):
            print(f"{verdict}: {name}")
            if args.verbose:
                for problem in problems:
                    print("    " + str(problem)[:2000])
    return 0


if __name__ == "__main__":
    sys.exit(main())
