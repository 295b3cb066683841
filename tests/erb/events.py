"""Tracking events in the shape edx-platform emits them (name, data, and the request context the
LMS enters), written for this test: what a learner's session produces, plus events that ERB
leaves alone by design. Each entry: (name, data, context changes, what ERB should make of it)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

COURSE = "course-v1:OpenedX+Otel101+2026_T1"
OTHER_COURSE = "course-v1:OpenedX+Unknown+2026"  # not in the catalogue: ERB cannot name it
USERS = {41: "ada", 42: "grace"}
COURSES = {COURSE: "Events on OpenTelemetry"}
BLOCK = "block-v1:OpenedX+Otel101+2026_T1+type@problem+block@8f3c0b1e4a2d4c6e9b7a5d3c1e0f2a4b"
VIDEO = "block-v1:OpenedX+Otel101+2026_T1+type@video+block@0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d"
SEQUENCE = "block-v1:OpenedX+Otel101+2026_T1+type@sequential+block@5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b"
COURSE_URL = f"https://lms.example.org/courses/{COURSE}"


def request_context(user_id: int = 41, course_id: str = COURSE, **more: Any) -> dict[str, Any]:
    """What the LMS puts in the context of an event emitted during a learner's request."""
    return {
        "course_id": course_id,
        "org_id": "OpenedX",
        "user_id": user_id,
        "username": USERS.get(user_id, f"user{user_id}"),
        "session": "a1b2c3d4e5f60718293a4b5c6d7e8f90",
        "ip": "192.0.2.44",
        "agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0",
        "host": "lms.example.org",
        "path": f"/courses/{course_id}/courseware/",
        "referer": f"{COURSE_URL}/course/",
        "accept_language": "en-GB,en;q=0.8",
        "client_id": "GA1.2.1189543210.1764000000",
        "enterprise_uuid": "",
        **more,
    }


@dataclass(frozen=True)
class Sample:
    """One event to emit. ``expect`` is ``"statement"`` (ERB should send xAPI), or why not."""

    name: str
    data: Any
    context: dict[str, Any] = field(default_factory=dict)
    expect: str = "statement"


_TRANSACTION = {
    "event_transaction_id": "3c9d2f0e-5a1b-4c7d-8e6f-0a1b2c3d4e5f",
    "event_transaction_type": "edx.grades.problem.submitted",
}
_THREAD_ID = "6751f0c3b2a1d4e5f6a7b8c9"
_THREAD_URL = f"{COURSE_URL}/discussion/forum/course/threads/{_THREAD_ID}"
_VIDEO_ID = "0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d"


def _video(name: str, **data: Any) -> Sample:
    base = {"id": _VIDEO_ID, "code": "html5", "duration": 312.4, "current_time": 73.2}
    return Sample(name, {**base, **data}, {"event_source": "browser", "path": "/event"})


SAMPLES: tuple[Sample, ...] = (
    Sample(
        "edx.course.enrollment.activated",
        {"course_id": COURSE, "user_id": 41, "mode": "audit"},
        {"event_source": "server"},
    ),
    Sample(
        "edx.course.enrollment.mode_changed",
        {"course_id": COURSE, "user_id": 41, "mode": "verified"},
        {"event_source": "server"},
    ),
    Sample(
        "problem_check",
        {
            "problem_id": BLOCK,
            "attempts": 2,
            "grade": 1,
            "max_grade": 2,
            "success": "incorrect",
            "answers": {f"{BLOCK}_2_1": "choice_3"},
            "correct_map": {f"{BLOCK}_2_1": {"correctness": "incorrect"}},
            "submission": {
                f"{BLOCK}_2_1": {
                    "question": "Which signal carries events?",
                    "answer": "Metrics",
                    "response_type": "multiplechoiceresponse",
                    "input_type": "choicegroup",
                    "correct": False,
                    "variant": "",
                    "group_label": "",
                }
            },
            "state": {"seed": 1, "student_answers": {}},
            "course_id": COURSE,
        },
        {"event_source": "server", "module": {"display_name": "Signals"}},
    ),
    Sample("problem_check", f"input_{BLOCK}_2_1=choice_3", {"event_source": "browser"}, expect="statement"),
    Sample("showanswer", {"problem_id": BLOCK}, {"event_source": "server"}),
    Sample(
        "edx.problem.hint.demandhint_displayed",
        {"module_id": BLOCK, "hint_index": 0, "hint_len": 2, "hint_text": "Think of log records."},
        {"event_source": "server"},
    ),
    _video("load_video"),
    _video("play_video"),
    _video("pause_video"),
    _video("seek_video", old_time=73.2, new_time=120.0, type="onSlideSeek"),
    _video("speed_change_video", old_speed="1.0", new_speed="1.5"),
    _video("complete_video"),
    _video("stop_video"),
    _video("show_transcript"),
    Sample(
        "edx.grades.subsection.grade_calculated",
        {
            "user_id": 41,
            "course_id": COURSE,
            "block_id": SEQUENCE,
            "course_version": "6a1b",
            "weighted_total_earned": 3.0,
            "weighted_total_possible": 4.0,
            "weighted_graded_earned": 3.0,
            "weighted_graded_possible": 4.0,
            "first_attempted": "2026-11-25T07:00:00+00:00",
            "subtree_edited_timestamp": "2026-11-20T10:00:00+00:00",
            **_TRANSACTION,
            "visible_blocks_hash": "k1Wj",
            "grading_policy_hash": "p0Lc",
        },
        {"event_source": "server"},
    ),
    Sample(
        "edx.grades.course.grade_calculated",
        {
            "user_id": 41,
            "course_id": COURSE,
            "course_version": "6a1b",
            "percent_grade": 0.75,
            "letter_grade": "Pass",
            "course_edited_timestamp": "2026-11-20T10:00:00+00:00",
            "grading_policy_hash": "p0Lc",
            **_TRANSACTION,
        },
        {"event_source": "server"},
    ),
    Sample("edx.course.grade.passed.first_time", {"user_id": 41, "course_id": COURSE}, {"event_source": "server"}),
    Sample(
        "edx.completion.block_completion.changed",
        {"user_id": 41, "course_id": COURSE, "block_id": BLOCK, "block_type": "problem", "completion": 1.0},
        {"event_source": "server"},
    ),
    Sample(
        "edx.forum.thread.created",
        {
            "id": _THREAD_ID,
            "title": "Where do spans go?",
            "body": "Asking for a friend.",
            "commentable_id": "course",
            "discussion": {"id": "course"},
            "thread_type": "question",
            "anonymous": False,
            "anonymous_to_peers": False,
            "options": {"followed": True},
            "truncated": False,
            "title_truncated": False,
            "user_forums_roles": ["Student"],
            "user_course_roles": [],
            "url": _THREAD_URL,
        },
        {"event_source": "server", "path": f"/courses/{COURSE}/discussion/course/threads/create"},
    ),
    Sample(
        "edx.ui.lms.link_clicked",
        {"current_url": f"{COURSE_URL}/courseware/", "target_url": "https://opentelemetry.io/docs/"},
        {"event_source": "browser", "path": "/event"},
    ),
    Sample(
        "edx.ui.lms.sequence.next_selected",
        {
            "id": SEQUENCE,
            "current_tab": 2,
            "tab_count": 5,
            "new": 3,
            "old": 2,
            "target_tab": 3,
            "widget_placement": "top",
        },
        {"event_source": "browser", "path": "/event"},
    ),
    Sample(
        "edx.ui.lms.outline.selected",
        {"target_url": f"{COURSE_URL}/jump_to/{SEQUENCE}", "target_name": "Signals", "widget_placement": "accordion"},
        {"event_source": "browser"},
    ),
    Sample(
        "edx.course.enrollment.deactivated",
        {"course_id": COURSE, "user_id": 42, "mode": "audit"},
        {"event_source": "server", "user_id": 42, "username": "grace"},
    ),
    # Left alone by ERB by design:
    Sample(
        "edx.bi.user.account.updated",
        {"setting": "name", "old": "Ada", "new": "Ada L."},
        {"event_source": "server"},
        expect="not in ERB's whitelist",
    ),
    Sample("page_close", {}, {"event_source": "browser"}, expect="not in ERB's whitelist"),
    Sample(
        "edx.forum.thread.viewed",
        {
            "id": _THREAD_ID,
            "title": "Where do spans go?",
            "discussion": {"id": "course"},
            "commentable_id": "course",
            "url": _THREAD_URL,
        },
        {"event_source": "server", "path": f"/courses/{COURSE}/discussion/course/threads/{_THREAD_ID}"},
    ),
    Sample(
        "play_video",
        {"id": _VIDEO_ID, "code": "html5", "duration": 10.0, "current_time": 0},
        {"event_source": "browser", "course_id": OTHER_COURSE},
        expect="course unknown to the LMS",
    ),
)
