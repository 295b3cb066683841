"""The `otel-eventtracking catalog` command, run as a real subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).parent / "fixtures"
MODULE = "tests.catalog.fixtures.declared_events"
DECLARATIONS = "tests/catalog/fixtures/declarations"
ALL_NAMES = [
    "edx.bi.user.account.registered",
    "edx.course.enrollment.activated",
    "edx.problem.check",
    "edx.ui.lms.outline.selected",
    "edx.video.played",
    "navigation.request",
]


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    return subprocess.run([sys.executable, "-m", "otel_eventtracking.cli", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)  # fmt: skip


@pytest.fixture(scope="module")
def catalog_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("catalog")
    result = run_cli("catalog", MODULE, DECLARATIONS, "--out", str(out), "--title", "LMS events")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"wrote 6 event type(s) to {out / 'catalog.json'}, ")
    return out


class CatalogPage(HTMLParser):
    """Collects what a reader of the page sees: event sections, the search input, the script."""

    def __init__(self) -> None:
        super().__init__()
        self.sections: list[dict[str, str | None]] = []
        self.inputs: list[dict[str, str | None]] = []
        self.scripts: list[str] = []
        self.external: list[str] = []
        self.title = ""
        self._in: str | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "section" and "event" in (attributes.get("class") or ""):
            self.sections.append(attributes)
        elif tag == "input":
            self.inputs.append(attributes)
        elif tag in ("script", "link", "img") and (attributes.get("src") or attributes.get("href")):
            self.external.append(tag)
        self._in = tag

    def handle_endtag(self, tag):
        self._in = None

    def handle_data(self, data):
        if self._in == "script":
            self.scripts.append(data)
        elif self._in == "title":
            self.title += data


def test_json_catalog(catalog_dir):
    document = json.loads((catalog_dir / "catalog.json").read_text())
    assert document["title"] == "LMS events" and document["metadata_key"] == "schema"
    assert [e["name"] for e in document["events"]] == ALL_NAMES
    enrolled = document["events"][1]
    assert enrolled["schema_id"] == "edx.course.enrollment.activated/2"
    assert enrolled["owner"] == "enrollments-team"
    assert enrolled["source"] == "tests/catalog/fixtures/declared_events.py:30"  # relative to the project root
    assert enrolled["schema"]["required"] == ["course_id", "user_id"]
    assert document["events"][2]["source"] == "tests/catalog/fixtures/declarations/third_party.yaml:13"


def test_markdown_catalog(catalog_dir):
    text = (catalog_dir / "catalog.md").read_text()
    assert text.startswith("# LMS events\n")
    assert "| [`edx.video.played`](#event-edx-video-played) | 1 | video-team | A learner started a video. |" in text
    assert '<a id="event-edx-video-played"></a>' in text
    assert "| `answers[].text` | string | no |   |   | the answer as typed |" in text
    assert '| `mode` | one of "audit", "verified", "honor" | no |   |   |   |' in text
    assert "- Schema id: `navigation.request/2024.1`" in text


def test_html_catalog_lists_every_event_with_search(catalog_dir):
    page = CatalogPage()
    page.feed((catalog_dir / "catalog.html").read_text())
    assert page.title == "LMS events"
    assert [s["data-name"] for s in page.sections] == ALL_NAMES
    assert [s["id"] for s in page.sections][1] == "event-edx-course-enrollment-activated"
    enrolled = page.sections[1]["data-search"] or ""
    assert "enrollments-team" in enrolled and "course run key" in enrolled
    assert [(i.get("id"), i.get("type")) for i in page.inputs] == [("search", "search")]
    script = "".join(page.scripts)
    assert 'getElementById("search")' in script and 'addEventListener("input"' in script
    assert page.external == []  # self-contained: no external script, stylesheet or image


@pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="needs /usr/bin/chromium")
def test_html_search_filters_in_a_real_browser(catalog_dir, tmp_path):
    url = (catalog_dir / "catalog.html").as_uri() + "?q=learner%20video"
    result = subprocess.run(
        ["/usr/bin/chromium", "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={tmp_path}",
         "--dump-dom", url],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    page = CatalogPage()
    page.feed(result.stdout)
    visible = [s["data-name"] for s in page.sections if "hidden" not in s]
    assert visible == ["edx.video.played"], result.stderr[-2000:]
    assert '<p id="count" aria-live="polite">1 of 6 event type(s)</p>' in result.stdout


def test_check_fails_listing_undeclared_calls_with_file_and_line():
    result = run_cli("catalog", MODULE, DECLARATIONS, "--check", "tests/catalog/fixtures/scan_tree")
    assert result.returncode == 1
    views = "tests/catalog/fixtures/scan_tree/app/views.py"
    assert result.stderr.splitlines() == [
        f"{views}:19: event 'edx.grades.subsection.grade_calculated' is emitted (emit) but not declared",
        f"{views}:20: event 'edx.cohort.created' is emitted (tracker.emit) but not declared",
        f"{views}:24: event 'edx.forum.thread.created' is emitted (tracker.emit) but not declared",
        "catalog check failed: 3 emit call(s) of 3 undeclared event name(s). Declare each name with EventType(...) "
        "or in a declarations file given to this command, mark a call that is not an event with "
        "'# catalog: ignore', or pass --ignore-name.",
    ]
    assert result.stdout == ""  # --check alone writes no catalog


def test_check_passes_when_everything_is_declared_or_ignored(tmp_path):
    ignore = ["--ignore-name", "edx.grades.*", "--ignore-name", "edx.cohort.created", "--ignore-name", "edx.forum.*"]
    result = run_cli("catalog", MODULE, DECLARATIONS, "--check", "tests/catalog/fixtures/scan_tree", *ignore,
                     "--out", str(tmp_path), "--formats", "json")  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"wrote 6 event type(s) to {tmp_path / 'catalog.json'}",
        "catalog check passed: 6 emit call(s) in 4 file(s), all declared",
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["catalog.json"]


def test_declaration_errors_exit_2_with_the_fix(tmp_path):
    result = run_cli("catalog", "no_such_module_anywhere", "--out", str(tmp_path))
    assert result.returncode == 2
    assert "error: cannot import module 'no_such_module_anywhere' (ModuleNotFoundError" in result.stderr
    assert "the path of a YAML/JSON declarations file" in result.stderr
    bad = tmp_path / "bad.yaml"
    bad.write_text("events:\n  - name: a\n    schema: {type: integr}\n")
    result = run_cli("catalog", str(bad), "--out", str(tmp_path / "out"))
    assert result.returncode == 2
    assert "bad.yaml:2): invalid JSON Schema at type: 'integr' is not valid" in result.stderr
    assert not (tmp_path / "out").exists()


SCRIPT = Path(sys.executable).parent / "otel-eventtracking"


@pytest.mark.skipif(not SCRIPT.exists(), reason="console script not installed ([project.scripts] in pyproject)")
def test_console_script():
    result = subprocess.run([str(SCRIPT), "catalog", "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "--check PATH" in result.stdout


def test_check_fails_on_a_file_it_cannot_parse(tmp_path):
    (tmp_path / "broken.py").write_text("def f(:\n")
    result = run_cli("catalog", "--check", str(tmp_path))
    assert result.returncode == 1
    assert (
        result.stderr.splitlines()[0]
        == f"{tmp_path / 'broken.py'}:1: cannot be parsed (invalid syntax); fix it or --exclude it"
    )
    assert "1 file(s) not scanned" in result.stderr
