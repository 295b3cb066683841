"""Stand-in for edx-platform's course overview lookup: the courses the test declares."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

COURSES: dict[str, dict[str, Any]] = {}
"""str(course key) -> the overview fields ERB reads (``display_name``...); filled by the test."""


def get_course_overviews(course_keys: Iterable[Any]) -> list[dict[str, Any]]:
    """The overviews of the declared courses among ``course_keys`` (unknown ones are left out)."""
    return [COURSES[str(key)] for key in course_keys if str(key) in COURSES]
