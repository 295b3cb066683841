"""Stand-in for edx-platform's retired-user lookup: this test retires nobody."""

from __future__ import annotations

from typing import Any


def get_potentially_retired_user_by_username(username: str) -> Any:
    """edx-platform finds users renamed at retirement; here there are none, so nobody is found."""
    from django.contrib.auth import get_user_model

    raise get_user_model().DoesNotExist(f"no user {username!r}")
