"""The static scan of a source tree for emitted event names (ast, never importing the code)."""

from __future__ import annotations

from pathlib import Path

import pytest

from otel_eventtracking.catalog import scan_paths, scan_source

TREE = Path(__file__).parent / "fixtures" / "scan_tree"


def test_scan_finds_literal_and_constant_names_with_their_lines():
    result = scan_paths([TREE])
    assert result.errors == []
    assert result.files == 4
    found = [(Path(c.path).name, c.line, c.name, c.call) for c in result.calls]
    assert found == [
        ("views.py", 11, "edx.course.enrollment.activated", "tracker.emit"),
        ("views.py", 15, "edx.ui.lms.outline.selected", "tracker.get_tracker().emit"),
        ("views.py", 19, "edx.grades.subsection.grade_calculated", "emit"),
        ("views.py", 20, "edx.cohort.created", "tracker.emit"),
        ("views.py", 24, "edx.forum.thread.created", "tracker.emit"),
        ("ok.py", 5, "edx.video.played", "tracker.emit"),
    ]  # nothing from not_events.py: dynamic names, other libraries' emit, the ignore pragma


def test_undeclared_lists_calls_not_declared_nor_ignored():
    result = scan_paths([TREE / "app"])
    declared = {"edx.course.enrollment.activated", "edx.ui.lms.outline.selected"}
    missing = result.undeclared(declared, ignore_names=["edx.forum.*"])
    assert [(c.location(), c.name) for c in missing] == [
        (f"{TREE / 'app' / 'views.py'}:19", "edx.grades.subsection.grade_calculated"),
        (f"{TREE / 'app' / 'views.py'}:20", "edx.cohort.created"),
    ]


@pytest.mark.parametrize(
    ("source", "names"),
    [
        ("emit('a.b')", ["a.b"]),
        ("x.emit(name='a.b', data={})", ["a.b"]),
        ("x.emit('a.b', {}, 'third')", []),  # not the tracker's signature
        ("sio.emit('a.b', {}, room='r')", []),
        ("E.emit(course_id='c')", []),  # an EventType's data fields
        ("N = 'a.b'\nN = compute()\nemit(N)", []),  # reassigned: no longer known
        ("N: str = 'a.b'\nemit(N, {})", ["a.b"]),
        ("emit(*args)", []),
        ("emit(\n  'a.b',  # catalog: ignore\n  {})", []),
    ],
)
def test_call_shapes(source, names):
    assert [c.name for c in scan_source(source, "m.py")] == names


def test_unparsable_and_missing_files_are_reported(tmp_path):
    (tmp_path / "broken.py").write_text("def f(:\n    pass\n")
    (tmp_path / "fine.py").write_text("emit('a.b')\n")
    venv = tmp_path / "venv"
    venv.mkdir()
    (venv / "pyvenv.cfg").write_text("")
    (venv / "lib.py").write_text("emit('from.a.venv')\n")
    result = scan_paths([tmp_path, tmp_path / "nope"])
    assert [c.name for c in result.calls] == ["a.b"]
    assert result.errors == [
        f"{tmp_path / 'broken.py'}:1: cannot be parsed (invalid syntax); fix it or --exclude it",
        f"{tmp_path / 'nope'}: no such file or directory",
    ]
    assert scan_paths([tmp_path], exclude=["broken.py"]).errors == []


def test_typed_emits_are_located_across_files(tmp_path):
    (tmp_path / "events.py").write_text(
        "from otel_eventtracking.catalog import EventType\n"
        "PLAYED = EventType('video.played', schema={})\n"
        "DONE = EventType('a.done', schema={})\n"
    )
    (tmp_path / "other.py").write_text("import catalog\nDONE = catalog.EventType(name='b.done')\nDONE.emit()\n")
    (tmp_path / "app.py").write_text(
        "import events\nfrom events import PLAYED\n\n"
        "PLAYED.emit(video_id='v')\n"
        "events.PLAYED.emit(video_id='w')\n"
        "DONE.emit()  # two files bind DONE to different events: not resolved here\n"
        "PLAYED.emit()  # catalog: ignore\n"
    )
    result = scan_paths([tmp_path])
    assert [(Path(c.path).name, c.line, c.name, c.call) for c in result.typed_calls] == [
        ("app.py", 4, "video.played", "PLAYED.emit"),
        ("app.py", 5, "video.played", "events.PLAYED.emit"),
        ("other.py", 3, "b.done", "DONE.emit"),  # resolved in the file that defines it
    ]
    assert result.calls == []  # typed calls are declared by construction: the check never sees them
