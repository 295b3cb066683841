"""The events the producer emits, and what a consumer must receive for each (written by hand).

Event ``i`` uses template ``i % len(TEMPLATES)``: its name, its data plus ``{"seq": i}``, emitted
inside the context ``context_for(i)``, at ``CLOCK_START + i`` milliseconds.
"""

import datetime as dt

UTC = dt.UTC
PLUS_TWO = dt.timezone(dt.timedelta(hours=2))
CLOCK_START = dt.datetime(2025, 3, 4, 5, 6, 7, 123456, tzinfo=UTC)

ALLOWED = ("edx.video.played", "edx.course.enrollment.activated", "edx.grades.problem.submitted")
NOT_ALLOWED = ("edx.ui.lms.link_clicked", "problem_check")

# (name, data as emitted, data as the consumer must see it after the bus)
TEMPLATES = [
    (
        "edx.video.played",
        {"id": "v-1", "position": 12.5, "speed": "1.0"},
        {"id": "v-1", "position": 12.5, "speed": "1.0"},
    ),
    ("edx.ui.lms.link_clicked", {"target_url": "https://example.org/x"}, {"target_url": "https://example.org/x"}),
    (
        "edx.course.enrollment.activated",
        {
            "course_id": "course-v1:edX+DemoX+2024",
            "mode": "audit",
            "user_id": 41,
            "enrolled_at": dt.datetime(2025, 1, 2, 3, 4, 5),
        },
        {
            "course_id": "course-v1:edX+DemoX+2024",
            "mode": "audit",
            "user_id": 41,
            "enrolled_at": "2025-01-02T03:04:05+00:00",
        },
    ),
    ("problem_check", {"answers": {"q1": "a"}, "grade": 1}, {"answers": {"q1": "a"}, "grade": 1}),
    (
        "edx.grades.problem.submitted",
        {
            "nested": {"list": [1, 2.25, None, True, "x", (3, 4)], "deep": {"deeper": {"deepest": []}}},
            "unicode": "é✓ 中文 \U0001f600",
            "when": dt.datetime(2025, 6, 7, 10, 0, 0, 5, tzinfo=PLUS_TWO),
            "day": dt.date(2025, 6, 7),
            "big": 2**62,
            "neg": -17,
            "empty": {},
        },
        {
            "nested": {"list": [1, 2.25, None, True, "x", [3, 4]], "deep": {"deeper": {"deepest": []}}},
            "unicode": "é✓ 中文 \U0001f600",
            "when": "2025-06-07T08:00:00.000005+00:00",
            "day": "2025-06-07",
            "big": 2**62,
            "neg": -17,
            "empty": {},
        },
    ),
]


def event(i):
    """(name, data as emitted, data as received) of event ``i``."""
    name, data, received = TEMPLATES[i % len(TEMPLATES)]
    return name, {"seq": i, **data}, {"seq": i, **received}


def context_for(i):
    """(context entered around event ``i``, that context as received)."""
    started = dt.datetime(2025, 3, 4, 5, 0, 0)
    entered = {"user_id": i % 7, "course_id": "course-v1:edX+DemoX+2024", "session_started": started}
    received = {
        "user_id": i % 7,
        "course_id": "course-v1:edX+DemoX+2024",
        "session_started": "2025-03-04T05:00:00+00:00",
    }
    return entered, received


def timestamp(i):
    return CLOCK_START + dt.timedelta(milliseconds=i)
