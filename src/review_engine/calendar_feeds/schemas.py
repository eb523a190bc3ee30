"""API shapes for calendar feeds. The feed's URL (which holds its token) appears once, in
the answer that made it."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from review_engine.partnerships.models import CODE_PATTERN

__all__ = ["CalendarFeedCreate", "CalendarFeedCreated", "CalendarFeedPage", "CalendarFeedRead"]

Code = Annotated[str, StringConstraints(pattern=CODE_PATTERN)]


class CalendarFeedCreate(BaseModel):
    """A calendar feed of these partnerships' running deadlines."""

    model_config = ConfigDict(extra="forbid")

    partnerships: list[Code] = Field(min_length=1, max_length=50)


class CalendarFeedRead(BaseModel):
    id: uuid.UUID
    partnerships: list[str]
    created_by: str
    created_at: datetime
    revoked_at: datetime | None


class CalendarFeedCreated(CalendarFeedRead):
    url: str = Field(
        description=(
            "Subscribe to this in Outlook (Add calendar → Subscribe from web). Shown this "
            "once: it holds the feed's secret token. Revoke the feed to stop it."
        )
    )


class CalendarFeedPage(BaseModel):
    items: list[CalendarFeedRead]
