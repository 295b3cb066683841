"""Event types declared next to the code that emits them: one declaration, typed call sites."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Literal, NotRequired, TypedDict

from otel_eventtracking.catalog import EventType


class EnrollmentActivated(TypedDict):
    """A learner enrolled in a course run (or re-activated an enrollment)."""

    course_id: Annotated[str, "course run key, e.g. course-v1:edX+DemoX+2026"]
    user_id: int
    mode: NotRequired[Annotated[Literal["audit", "verified", "honor"], "enrollment track"]]


@dataclass
class VideoPlayed:
    """A learner pressed play."""

    video_id: str
    position: Annotated[float, "seconds from the start", {"minimum": 0}] = 0.0
    speed: Annotated[float, {"exclusiveMinimum": 0}] = 1.0
    transcripts: list[str] = field(default_factory=list, metadata={"description": "transcript languages shown"})


ENROLLMENT_ACTIVATED = EventType(
    "edx.course.enrollment.activated", EnrollmentActivated, owner="enrollments-team", version=2
)
VIDEO_PLAYED = EventType("edx.video.played", VideoPlayed, owner="video-team")
