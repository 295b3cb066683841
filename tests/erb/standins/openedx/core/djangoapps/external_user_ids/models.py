"""Stand-in for edx-platform's external user ids: one stable UUID per user and id type."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

_NAMESPACE = uuid.UUID("0d6b8a43-61b1-4f54-9a49-3ab6b0d1e4f7")


class ExternalIdType:
    """The id types ERB asks for."""

    XAPI = "xapi"
    CALIPER = "caliper"
    LTI = "lti"


@dataclass(frozen=True)
class ExternalId:
    """An anonymous id of ``user`` for one type."""

    user_id: int
    external_id_type: str
    external_user_id: uuid.UUID

    @classmethod
    def add_new_user_id(cls, user: Any, type_name: str) -> tuple[ExternalId, bool]:
        """The user's id of that type (made from the user's primary key: the same on every call)."""
        value = uuid.uuid5(_NAMESPACE, f"{type_name}:{user.pk}")
        return cls(user.pk, type_name, value), False
