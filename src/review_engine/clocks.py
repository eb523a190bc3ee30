"""The statutory and guidance timeframes, as one declarative table, and their evaluation.

Part of the pure core (no HTTP, no SQL, no I/O). `CLOCKS` is the single source of truth for
what each timeframe is, what starts it, how long it runs, what meets it, what stops it and
where the rule comes from (the `source` column cites the project's
`docs/statutory-basis.md`, which explains the law or guidance behind it and the readings
chosen). `compute_deadlines` turns a case's `CaseTimeline` into one `Deadline` per
applicable clock, evaluated "as of" a given day so that reports and alerts can ask about
any date, past or future.

"As of" is a replay: the clocks read `timeline.as_of(day)`, the timeline with everything
dated after the day left out, so a clock that was running and late on that day is
`overdue` however the case went on.

Status values, as of a day, in order of precedence:

- `waived`: a timescale waiver recorded by then applies (e.g. the 2020 national
  relaxation); the meeting date, if any, is still reported.
- `met` / `met_late`: the meeting event was recorded on or before / after the due date
  (an advance-copies clock excused by a `late_notice_reason` is `met_late` too).
- `stopped`: the case ended (withdrawn, closed), the partners decided not to notify, the
  publication was withheld or the Panel took a national review while the clock was still
  running; `stopped_on` says when. A stopped clock is never overdue.
- `paused`: an LCSPR paused for parallel criminal or coroner proceedings; the working days
  spent paused extend `due_on` while `statutory_due_on` keeps the original date. A pause
  that starts after the due date has passed extends nothing: a missed deadline stays missed.
- `overdue`: running and the due date has passed.
- `due_soon`: running, due within `due_soon_working_days` working days (or today).
- `pending`: running, more than `due_soon_working_days` working days left.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Annotated, Literal

from dateutil.relativedelta import relativedelta
from pydantic import AfterValidator, WithJsonSchema

from review_engine.calendar import Calendar, default_calendar
from review_engine.timeline import CaseTimeline, RapidReviewClockStart

__all__ = [
    "CLOCKS",
    "ClockContext",
    "ClockName",
    "ClockRule",
    "ClockStatus",
    "WAIVABLE_CLOCKS",
    "WaivableClock",
    "Deadline",
    "DeadlineBasis",
    "compute_deadlines",
    "rapid_review_setting_applies",
]

ClockName = Literal[
    "notification",
    "partners_informed",
    "rapid_review",
    "review_publication",
    "advance_copies",
    "keep_published_until",
]
ClockStatus = Literal[
    "pending", "due_soon", "overdue", "met", "met_late", "waived", "stopped", "paused"
]
Unit = Literal["working_days", "calendar_months", "years"]

# The day the local authority became aware of a notifiable incident: new information after
# a decision not to notify restarts the count from when it arrived.
_AWARENESS = ("new_information_on", "aware_on")
# What ends a case, or decides it was never a notifiable incident.
_CASE_ENDS = ("withdrawn_on", "closed_on")
_NOT_NOTIFIABLE = ("not_notified_on", *_CASE_ENDS)


@dataclass(frozen=True)
class ClockRule:
    """One row of the timeframe table."""

    name: ClockName
    starts_on: tuple[str, ...]  # timeline fields: the first recorded one starts the clock
    length: int  # negative: counted backwards from the start (a "before" deadline)
    unit: Unit
    met_by: tuple[str, ...]  # timeline fields, the earliest of which meets the clock
    stopped_by: tuple[str, ...]  # timeline fields that stop it if it is still running
    kind: Literal["deadline", "constraint"]
    summary: str
    source: str
    pausable: bool = False  # LCSPR pauses extend it


CLOCKS: tuple[ClockRule, ...] = (
    ClockRule(
        name="notification",
        starts_on=_AWARENESS,
        length=5,
        unit="working_days",
        met_by=("notified_on",),
        stopped_by=_NOT_NOTIFIABLE,
        kind="deadline",
        summary="Notify the national Panel within 5 working days of the local authority "
        "becoming aware of the serious incident",
        source="docs/statutory-basis.md#notification (Children Act 2004 s16C(1); Working "
        "Together 2023 ch5; gov.uk 'Report a serious child safeguarding incident')",
    ),
    ClockRule(
        name="partners_informed",
        starts_on=_AWARENESS,
        length=5,
        unit="working_days",
        met_by=("partners_informed_on",),
        stopped_by=_NOT_NOTIFIABLE,
        kind="deadline",
        summary="Tell the safeguarding partners within 5 working days of becoming aware",
        source="docs/statutory-basis.md#partners-informed (Working Together 2023 ch5; "
        "gov.uk 'Report a serious child safeguarding incident')",
    ),
    ClockRule(
        name="rapid_review",
        starts_on=("notified_on",),  # or _AWARENESS, by the case's clock start setting
        length=15,
        unit="working_days",
        met_by=("submitted_on",),
        stopped_by=_NOT_NOTIFIABLE,
        kind="deadline",
        summary="Send the rapid review to the Panel within 15 working days of the "
        "notification (or of awareness, where the partnership counts from that)",
        source="docs/statutory-basis.md#rapid-review (Working Together 2023 ch5; Child "
        "Safeguarding Practice Review Panel practice guidance)",
    ),
    ClockRule(
        name="review_publication",
        starts_on=("decided_on",),
        length=6,
        unit="calendar_months",
        met_by=("published_on", "withheld_on"),
        stopped_by=("escalated_on", *_CASE_ENDS),
        kind="deadline",
        summary="Complete and publish the LCSPR within 6 months of the decision to "
        "initiate it (or record a decision to withhold publication)",
        source="docs/statutory-basis.md#review-publication (Working Together 2023 ch5; "
        "Children Act 2004 s16F; SI 2018/789 Part 3)",
        pausable=True,
    ),
    ClockRule(
        name="advance_copies",
        starts_on=("published_on", "planned_publication_on"),  # the actual date once out
        length=-7,
        unit="working_days",
        met_by=("advance_copies_sent_on",),
        stopped_by=("withheld_on", "escalated_on", *_CASE_ENDS),
        kind="deadline",
        summary="Send the final report to the Panel, the Secretary of State and Ofsted at "
        "least 7 working days before publication",
        source="docs/statutory-basis.md#advance-copies (SI 2018/789 Part 3; Working "
        "Together 2023 ch5)",
    ),
    ClockRule(
        name="keep_published_until",
        starts_on=("published_on",),
        length=1,
        unit="years",
        met_by=(),
        stopped_by=(),
        kind="constraint",
        summary="Keep the published report on the website for at least a year: the "
        "earliest date it may come off",
        source="docs/statutory-basis.md#keep-published (partnership practice; regulation "
        "basis unconfirmed)",
    ),
)


WAIVABLE_CLOCKS: tuple[ClockName, ...] = tuple(
    rule.name for rule in CLOCKS if rule.kind == "deadline"
)
"""Only a clock that can be late can be waived (keep_published_until is a constraint)."""


def _waivable(name: str) -> str:
    if name not in WAIVABLE_CLOCKS:
        raise ValueError(f"must be one of: {', '.join(WAIVABLE_CLOCKS)}")
    return name


WaivableClock = Annotated[
    str,
    AfterValidator(_waivable),
    WithJsonSchema({"type": "string", "enum": list(WAIVABLE_CLOCKS)}),
]
"""The name of a clock that can be waived, as the API accepts it."""


@dataclass(frozen=True)
class ClockContext:
    """What deadlines depend on beyond the case: the deployment's calendar and due-soon
    window, and the day it is (read once, where the partnerships are, by whoever asks)."""

    calendar: Calendar
    due_soon_working_days: int
    today: date


@dataclass(frozen=True)
class DeadlineBasis:
    """How a due date was computed, so it can be reproduced and explained later."""

    rule: str  # the rule's summary and source
    start_event: str  # the timeline field that started the clock
    start_on: date
    length: int
    unit: Unit
    calendar_version: str
    paused_working_days: int = 0
    waiver_reason: str | None = None
    waived_on: date | None = None
    late_notice_reason: str | None = None
    rapid_review_clock_start: RapidReviewClockStart | None = None  # rapid_review only


@dataclass(frozen=True)
class Deadline:
    """One clock of one case, evaluated as of a day."""

    name: ClockName
    kind: Literal["deadline", "constraint"]
    due_on: date
    statutory_due_on: date
    status: ClockStatus
    met_on: date | None
    basis: DeadlineBasis
    stopped_on: date | None = None
    delay_notified_on: date | None = None  # review_publication: the Panel told of a delay


def compute_deadlines(
    timeline: CaseTimeline,
    *,
    as_of: date,
    calendar: Calendar | None = None,
    due_soon_working_days: int = 2,
) -> list[Deadline]:
    """Every clock that applies to the case as of `as_of`, in table order, with its status.

    Only what had happened by the end of `as_of` counts (`timeline.as_of`), so past "as
    of" reports are a faithful replay and reproducible.
    """
    calendar = calendar or default_calendar()
    timeline = timeline.as_of(as_of)
    return [
        deadline
        for rule in CLOCKS
        if (
            deadline := _evaluate(
                rule,
                timeline,
                as_of=as_of,
                calendar=calendar,
                due_soon_working_days=due_soon_working_days,
            )
        )
        is not None
    ]


def rapid_review_setting_applies(timeline: CaseTimeline) -> bool:
    """Whether a change of the partnership's rapid review clock start still applies to the
    case: its rapid review has not been sent and the case has not ended."""
    return (
        timeline.submitted_on is None
        and timeline.rapid_review_required is not False
        and timeline.withdrawn_on is None
        and timeline.closed_on is None
    )


def _evaluate(
    rule: ClockRule,
    timeline: CaseTimeline,
    *,
    as_of: date,
    calendar: Calendar,
    due_soon_working_days: int,
) -> Deadline | None:
    start_event = _start_event(rule, timeline)
    if start_event is None:
        return None
    start_on: date = getattr(timeline, start_event)
    statutory_due = _due(rule, start_on, calendar)
    paused_days, paused_now = _pause_extension(rule, timeline, statutory_due, as_of, calendar)
    due_on = calendar.add_working_days(statutory_due, paused_days) if paused_days else statutory_due
    met_on = _earliest(timeline, rule.met_by)
    stopped_on = _stopped_on(rule, timeline)
    late_reason = timeline.late_notice_reason if rule.name == "advance_copies" else None
    waiver = timeline.waivers.get(rule.name)
    if waiver is not None:
        status: ClockStatus = "waived"
    elif rule.kind == "constraint":
        # Nothing can be late: "met" once the report may come off the website.
        status = "met" if as_of >= due_on else "pending"
    elif met_on is not None:
        status = "met_late" if met_on > due_on or late_reason is not None else "met"
    elif stopped_on is not None:
        status = "stopped"
    elif paused_now:
        status = "paused"
    else:
        status = _running_status(due_on, as_of, calendar, due_soon_working_days)
    return Deadline(
        name=rule.name,
        kind=rule.kind,
        due_on=due_on,
        statutory_due_on=statutory_due,
        status=status,
        met_on=met_on,
        stopped_on=stopped_on if status == "stopped" else None,
        delay_notified_on=_delay_notified_on(rule, timeline),
        basis=DeadlineBasis(
            rule=f"{rule.summary}. Source: {rule.source}",
            start_event=start_event,
            start_on=start_on,
            length=rule.length,
            unit=rule.unit,
            calendar_version=calendar.version,
            paused_working_days=paused_days,
            waiver_reason=waiver.reason if waiver else None,
            waived_on=waiver.waived_on if waiver else None,
            late_notice_reason=late_reason,
            rapid_review_clock_start=(
                timeline.rapid_review_clock_start if rule.name == "rapid_review" else None
            ),
        ),
    )


def _start_event(rule: ClockRule, timeline: CaseTimeline) -> str | None:
    """The timeline field that starts this clock for this case, or None if it doesn't apply."""
    starts_on = rule.starts_on
    if rule.name == "rapid_review":
        if timeline.rapid_review_required is False:
            return None  # a death the Panel does not consider: no rapid review is required
        if timeline.rapid_review_clock_start == "aware":
            starts_on = _AWARENESS
    if rule.name in ("review_publication", "advance_copies") and timeline.review_route != "lcspr":
        return None  # these are LCSPR rules; local learning reviews publish as they choose
    return next((field for field in starts_on if getattr(timeline, field) is not None), None)


def _due(rule: ClockRule, start_on: date, calendar: Calendar) -> date:
    if rule.unit == "working_days":
        return calendar.add_working_days(start_on, rule.length)
    if rule.unit == "calendar_months":
        # relativedelta clamps month ends: 31 Aug + 6 months = 28 Feb (29 in a leap year).
        return start_on + relativedelta(months=rule.length)
    kept_until = start_on + relativedelta(years=rule.length)
    if kept_until.day != start_on.day:
        # Published on 29 February: a full year ends on 1 March, not 28 February.
        kept_until += timedelta(days=1)
    return kept_until


def _pause_extension(
    rule: ClockRule, timeline: CaseTimeline, statutory_due: date, as_of: date, calendar: Calendar
) -> tuple[int, bool]:
    """Working days the clock has been extended by pauses up to `as_of`, and whether a pause
    that counts is open then. A pause counts only if it starts on or before the due date
    as extended so far: a pause cannot revive a deadline that was already missed."""
    if not rule.pausable:
        return 0, False
    total, paused_now, due_on = 0, False, statutory_due
    for pause in timeline.pauses:  # already cut at as_of
        if pause.started_on > due_on:
            continue
        total += calendar.working_days_between(pause.started_on, pause.resumed_on or as_of)
        due_on = calendar.add_working_days(statutory_due, total)
        paused_now = pause.resumed_on is None
    return total, paused_now


def _earliest(timeline: CaseTimeline, fields: tuple[str, ...]) -> date | None:
    recorded = [day for field in fields if (day := getattr(timeline, field)) is not None]
    return min(recorded) if recorded else None


def _stopped_on(rule: ClockRule, timeline: CaseTimeline) -> date | None:
    """When the clock was stopped, if it was. New information after a decision not to
    notify overturns that decision: it no longer stops anything (the clocks run again)."""
    overturned = {"not_notified_on"} if timeline.new_information_on is not None else set()
    stops = [
        day
        for field in rule.stopped_by
        if field not in overturned and (day := getattr(timeline, field)) is not None
    ]
    return min(stops) if stops else None


def _delay_notified_on(rule: ClockRule, timeline: CaseTimeline) -> date | None:
    if rule.name != "review_publication":
        return None
    told = [r.panel_informed_on for r in timeline.reschedules if r.panel_informed_on is not None]
    return max(told) if told else None


def _running_status(
    due_on: date, as_of: date, calendar: Calendar, due_soon_working_days: int
) -> ClockStatus:
    if as_of > due_on:
        return "overdue"
    # "At most N working days left": the (N+1)th working day after as_of is past due_on.
    # Counted forward N+1 days rather than across the whole gap, so a distant as_of is cheap.
    if due_on < calendar.add_working_days(as_of, due_soon_working_days + 1):
        return "due_soon"
    return "pending"
