"""Routes for calendar feeds: managers make and revoke them; the feed itself is read by a
calendar at `/calendar-feeds/{token}.ics`, with no key (the URL's token is the credential).
Thin: parse, call the service, shape the answer."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Request, Response, status
from fastapi.responses import JSONResponse

from review_engine.auth.dependencies import ManagerDep, ViewerDep
from review_engine.calendar_feeds import service
from review_engine.calendar_feeds.ics import calendar_document
from review_engine.calendar_feeds.models import CalendarFeed
from review_engine.calendar_feeds.schemas import (
    CalendarFeedCreate,
    CalendarFeedCreated,
    CalendarFeedPage,
    CalendarFeedRead,
)
from review_engine.db import SessionDep, utcnow
from review_engine.deadline_context import ClockContextDep
from review_engine.errors import problem_responses
from review_engine.idempotency import IdempotencyClaimDep
from review_engine.request_checks import api_base_url

router = APIRouter(prefix="/calendar-feeds", tags=["calendar feeds"])

ICS = "text/calendar"
FEED_PATH = "/{token}.ics"
Token = Annotated[
    str, Path(pattern=r"^cal_[A-Za-z0-9_-]{43}$", description="The feed's token, from its URL.")
]


def _read(feed: CalendarFeed) -> CalendarFeedRead:
    return CalendarFeedRead.model_validate(feed, from_attributes=True)


@router.get(
    FEED_PATH,
    summary="The feed's running deadlines as an iCalendar (for Outlook; the URL is the key)",
    response_class=Response,
    responses={
        200: {
            "description": "Every running deadline of the feed's partnerships, all-day events.",
            "content": {ICS: {"schema": {"type": "string"}}},
        },
        **problem_responses(404, 410, 422),
    },
)
def read_feed(
    request: Request, token: Token, session: SessionDep, context: ClockContextDep
) -> Response:
    feed = service.feed_for_token(session=session, token=token)
    entries = service.feed_entries(
        session=session, feed=feed, today=context.today, base_url=api_base_url(request)
    )
    document = calendar_document(
        entries, name=f"Review deadlines: {', '.join(feed.partnerships)}", stamp=utcnow()
    )
    return Response(document, media_type=f"{ICS}; charset=utf-8")


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=CalendarFeedCreated,
    summary="Make a calendar feed of partnerships' deadlines (managers); its URL is shown once",
    responses=problem_responses(401, 403, 422),
)
def create_feed(
    request: Request,
    body: CalendarFeedCreate,
    principal: ManagerDep,
    session: SessionDep,
    claim: IdempotencyClaimDep,
) -> Response:
    def created(feed: CalendarFeed, token: str) -> Response:
        url = f"{api_base_url(request)}{router.prefix}/{token}.ics"
        read = CalendarFeedCreated(**_read(feed).model_dump(), url=url)
        return JSONResponse(
            read.model_dump(mode="json"),
            status_code=status.HTTP_201_CREATED,
            headers={"Location": f"{router.prefix}/{feed.id}"},
        )

    return service.create_feed(
        session=session, principal=principal, body=body, render=created, claim=claim
    )


@router.get(
    "",
    summary="The calendar feeds of the key's partnerships (never their URLs)",
    responses=problem_responses(401, 422),
)
def list_feeds(principal: ViewerDep, session: SessionDep) -> CalendarFeedPage:
    feeds = service.list_feeds(session=session, principal=principal)
    return CalendarFeedPage(items=[_read(feed) for feed in feeds])


@router.get(
    "/{feed_id:uuid}",
    summary="One calendar feed (never its URL)",
    responses=problem_responses(401, 404, 422),
)
def read_feed_settings(
    feed_id: uuid.UUID, principal: ViewerDep, session: SessionDep
) -> CalendarFeedRead:
    return _read(service.get_feed(session=session, principal=principal, feed_id=feed_id))


@router.delete(
    "/{feed_id:uuid}",
    summary="Revoke a calendar feed: its URL stops working at once (managers)",
    responses=problem_responses(401, 403, 404, 422),
)
def revoke_feed(feed_id: uuid.UUID, principal: ManagerDep, session: SessionDep) -> CalendarFeedRead:
    return _read(service.revoke_feed(session=session, principal=principal, feed_id=feed_id))
