"""Application code: emits through the declared types and, like code we do not own, by name."""

from __future__ import annotations

from events import ENROLLMENT_ACTIVATED, VIDEO_PLAYED

from otel_eventtracking import tracker


def enroll(user_id: int, course_id: str) -> None:
    ENROLLMENT_ACTIVATED.emit(course_id=course_id, user_id=user_id, mode="verified")  # checked by mypy


def watch(video_id: str) -> None:
    VIDEO_PLAYED.emit(video_id, position=12.5)


def open_unit(title: str) -> None:
    tracker.emit("edx.ui.lms.outline.selected", {"target_name": title, "widget_placement": "accordion"})


def submit(problem_id: str, attempts: int) -> None:
    # An XBlock's own emit: nothing checks this call until the ValidationProcessor sees it.
    tracker.emit("edx.problem.check", {"problem_id": problem_id, "attempts": attempts})
