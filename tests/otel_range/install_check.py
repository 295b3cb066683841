"""CI check: ``pip install otel-eventtracking`` beside an OpenTelemetry app leaves its SDK alone.

For every SDK minor the core accepts (read from pyproject.toml), a fresh venv gets an app's
OpenTelemetry set at the newest patch of that minor, then pip (the newest) resolves this project's
wheel into it, with and without extras, as a dry run. The check fails when the resolution would
install, upgrade or downgrade any of the app's OpenTelemetry distributions, or cannot resolve.

The app sets: the SDK alone (api + sdk), then the same venv with its OTLP exporter added. Needs the
package index and pip >= 25.1 running this script (it acts on each venv through ``--python``; older
pips resolve in another order and move an installed SDK). Usage:
python tests/otel_range/install_check.py [MINOR...]   (default: every minor)
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# app set -> (what the app has installed, which of our installs to resolve beside it)
APP_SETS = {
    "sdk": (("opentelemetry-api", "opentelemetry-sdk"), ("", "[instrument]", "[test]")),
    "sdk+otlp": (("opentelemetry-api", "opentelemetry-sdk", "opentelemetry-exporter-otlp"), ("", "[instrument]")),
}
HELD = re.compile(r"^opentelemetry-(api|sdk|semantic-conventions|exporter-otlp.*|proto)$")
SAME_VERSION_LINE = re.compile(r"^opentelemetry-(api|sdk|exporter-otlp(-proto-.*)?|proto)$")  # versioned 1.N.x


def supported_minors() -> list[str]:
    """Every 1.N from the core's ``opentelemetry-sdk>=1.A,<1.B`` requirement."""
    text = (ROOT / "pyproject.toml").read_text()
    found = re.search(r'"opentelemetry-sdk>=1\.(\d+),<1\.(\d+)"', text)
    if found is None:
        raise SystemExit("pyproject.toml has no opentelemetry-sdk>=1.A,<1.B requirement")
    return [f"1.{n}" for n in range(int(found.group(1)), int(found.group(2)))]


def pip(target: Path | None, *args: str) -> subprocess.CompletedProcess[str]:
    """This interpreter's pip (the newest, in CI), acting on the venv of ``target`` when given."""
    where = ["--python", str(target)] if target is not None else []
    command = [sys.executable, "-m", "pip", "--disable-pip-version-check", *where, *args]
    return subprocess.run(command, capture_output=True, text=True)


def installed(python: Path) -> dict[str, str]:
    listing = json.loads(pip(python, "list", "--format=json").stdout)
    return {p["name"].lower(): p["version"] for p in listing if HELD.match(p["name"].lower())}


def build_wheel(into: Path) -> Path:
    done = pip(None, "wheel", "-q", "--no-deps", "-w", str(into), str(ROOT))
    if done.returncode != 0:
        raise SystemExit(f"building the wheel failed:\n{done.stderr}")
    return next(into.glob("otel_eventtracking-*.whl"))


def check(minor: str, python: Path, app: str, wheel: Path) -> list[str]:
    """Problems found for one minor and one app set (empty: the app's OpenTelemetry stays)."""
    app_packages, extras = APP_SETS[app]
    done = pip(python, "install", "-q", *(f"{name}=={minor}.*" for name in app_packages))
    if done.returncode != 0:
        return [f"installing the app set failed: {done.stderr.strip()[-400:]}"]
    before = installed(python)
    problems = []
    for extra in extras:
        report = python.parent.parent / "report.json"
        done = pip(python, "install", "--dry-run", "-q", "--report", str(report), f"{wheel}{extra}")
        if done.returncode != 0:
            problems.append(f"otel-eventtracking{extra}: pip could not resolve: {done.stderr.strip()[-400:]}")
            continue
        for item in json.loads(report.read_text())["install"]:
            name, version = item["metadata"]["name"].lower(), item["metadata"]["version"]
            if name in before and before[name] != version:
                problems.append(f"otel-eventtracking{extra}: would change {name} {before[name]} -> {version}")
            elif SAME_VERSION_LINE.match(name) and not version.startswith(minor + "."):
                problems.append(f"otel-eventtracking{extra}: would add {name} {version}, not {minor}.x")
    verdict = "keeps" if not problems else "CHANGES"
    sdk = before.get("opentelemetry-sdk", "?")
    names = ", ".join(extra or "core" for extra in extras)
    print(f"SDK {sdk:8} app {app:9} + otel-eventtracking ({names}): pip {verdict} the app's set", flush=True)
    return problems


def main(argv: list[str]) -> int:
    minors = argv or supported_minors()
    started = time.monotonic()
    from pip import __version__ as pip_version

    if tuple(int(x) for x in pip_version.split(".")[:2]) < (25, 1):
        raise SystemExit(f"pip {pip_version} resolves in another order: run this with pip >= 25.1")
    failures = []
    with tempfile.TemporaryDirectory(prefix="otel-install-check-") as tmp:
        work = Path(tmp)
        wheel = build_wheel(work / "dist")
        for minor in minors:
            env_dir = work / f"venv-{minor}"
            venv.EnvBuilder(with_pip=False, clear=True).create(env_dir)
            python = env_dir / "bin" / "python"
            for app in APP_SETS:  # each set adds to the one before, in the same venv
                failures += [f"SDK {minor}, app {app}: {p}" for p in check(minor, python, app, wheel)]
    print(f"install check: {len(minors)} minors x {len(APP_SETS)} app sets in {time.monotonic() - started:.0f} s")
    for failure in failures:
        print("FAIL", failure)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
