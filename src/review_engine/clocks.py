"""The statutory and guidance timeframes, as one declarative table, and their evaluation.

Part of the pure core (no HTTP, no SQL, no I/O). `CLOCKS` is the single source of truth for
what each timeframe is, what starts it, how long it runs, what meets it and where the rule
comes from (the `source` column cites `shared/reference/domain.md`, which cites the law or
guidance). `compute_deadlines` turns a case's `CaseTimeline` into one `Deadline` per
applicable clock, evaluated "as of" a given day so that reports and alerts can ask about
any date, past or future.

Status values, as of a day:

- `pending`: running, more than `due_soon_working_days` working days left.
- `due_soon`: running, due within `due_soon_working_days` working days (or today).
- `overdue`: running and the due date has passed.
- `met` / `met_late`: the meeting event was recorded on or before / after the due date
  (an advance-copies clock excused by a `late_notice_reason` is `met_late` too).
- `waived`: a timescale waiver with a recorded reason applies (e.g. the 2020 national
  relaxation); the meeting date, if any, is still reported.
- `paused`: an LCSPR paused for parallel criminal or coroner proceedings; the working days
  spent paused extend `due_on` while `statutory_due_on` keeps the original date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from dateutil.relativedelta import relativedelta

from review_engine.calendar import Calendar, default_calendar
from review_engine.timeline import CaseTimeline

__all__ = [
    "CLOCKS",
    "ClockName",
    "ClockRule",
    "ClockStatus",
    "Deadline",
    "DeadlineBasis",
    "RapidReviewClockStart",
    "compute_deadlines",
]

ClockName = Literal[
    "notification",
    "partners_informed",
    "rapid_review",
    "review_publication",
    "advance_copies",
    "keep_published_until",
]
ClockStatus = Literal["pending", "due_soon", "overdue", "met", "met_late", "waived", "paused"]
Unit = Literal["working_days", "calendar_months", "years"]
RapidReviewClockStart = Literal["notified", "aware"]


@dataclass(frozen=True)
class ClockRule:
    """One row of the timeframe table."""

    name: ClockName
    starts_on: str  # the timeline field whose date starts the clock (day 0)
    length: int  # negative: counted backwards from the start (a "before" deadline)
    unit: Unit
    met_by: tuple[str, ...]  # timeline fields, any of which meets the clock
    kind: Literal["deadline", "constraint"]
    summary: str
    source: str


CLOCKS: tuple[ClockRule, ...] = (
    ClockRule(
        name="notification",
        starts_on="aware_on",
        length=5,
        unit="working_days",
        met_by=("notified_on",),
        kind="deadline",
        summary="Notify the national Panel within 5 working days of the local authority "
        "becoming aware of the serious incident",
        source="domain.md §1 step 1 (CA 2004 s16C(1); Working Together 2023 ch5; gov.uk "
        "'Report a serious child safeguarding incident'); §6 'must or should'",
    ),
    ClockRule(
        name="partners_informed",
        starts_on="aware_on",
        length=5,
        unit="working_days",
        met_by=("partners_informed_on",),
        kind="deadline",
        summary="Tell the safeguarding partners within 5 working days of becoming aware",
        source="domain.md §1 step 2 (Working Together 2023 ch5; gov.uk guidance)",
    ),
    ClockRule(
        name="rapid_review",
        starts_on="notified_on",  # or aware_on, by the partnership's setting (see below)
        length=15,
        unit="working_days",
        met_by=("submitted_on",),
        kind="deadline",
        summary="Send the rapid review to the Panel within 15 working days of the "
        "notification (or of awareness, where the partnership counts from that)",
        source="domain.md §1 steps 5-6 (Panel practice guidance and FAQs); §6 'when the "
        "15-day clock starts' (configurable per partnership, default the notification)",
    ),
    ClockRule(
        name="review_publication",
        starts_on="decided_on",
        length=6,
        unit="calendar_months",
        met_by=("published_on", "withheld_on"),
        kind="deadline",
        summary="Complete and publish the LCSPR within 6 months of the decision to "
        "commission it (or record a decision to withhold publication)",
        source="domain.md §1 steps 10, 11 and 13 (Working Together 2023 ch5; CA 2004 s16F(4)-(5))",
    ),
    ClockRule(
        name="advance_copies",
        starts_on="planned_publication_on",  # the actual published_on once published
        length=-7,
        unit="working_days",
        met_by=("advance_copies_sent_on",),
        kind="deadline",
        summary="Send the final report to the Panel and the Secretary of State at least "
        "7 working days before publication",
        source="domain.md §1 step 12 (Working Together 2023 ch5)",
    ),
    ClockRule(
        name="keep_published_until",
        starts_on="published_on",
        length=1,
        unit="years",
        met_by=(),
        kind="constraint",
        summary="Keep the published report on the website for at least a year: the "
        "earliest date it may come off",
        source="domain.md §1 step 14 (partnership practice; regulation basis unconfirmed)",
    ),
)


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
    late_notice_reason: str | None = None


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


def compute_deadlines(
    timeline: CaseTimeline,
    *,
    as_of: date,
    calendar: Calendar | None = None,
    rapid_review_clock_start: RapidReviewClockStart = "notified",
    due_soon_working_days: int = 2,
) -> list[Deadline]:
    """Every clock that applies to the case, in table order, with its status as of `as_of`.

    Events recorded after `as_of` are ignored (as of then, they had not happened: no
    `met_on`, no pause), so past "as of" reports are reproducible.
    """
    calendar = calendar or default_calendar()
    deadlines = []
    for rule in CLOCKS:
        start_event = _start_event(rule, timeline, rapid_review_clock_start)
        if start_event is None:
            continue
        start_on = getattr(timeline, start_event)
        statutory_due = _due(rule, start_on, calendar)
        paused_days, paused_now = _paused(rule, timeline, as_of, calendar)
        due_on = (
            calendar.add_working_days(statutory_due, paused_days) if paused_days else statutory_due
        )
        met_on = _met_on(rule, timeline)
        if met_on is not None and met_on > as_of:
            met_on = None  # as of then, it had not happened yet
        late_reason = timeline.late_notice_reason if rule.name == "advance_copies" else None
        waiver = timeline.waivers.get(rule.name)
        status = _status(
            rule,
            due_on=due_on,
            met_on=met_on,
            as_of=as_of,
            paused_now=paused_now,
            waived=waiver is not None,
            excused_late=late_reason is not None,
            calendar=calendar,
            due_soon_working_days=due_soon_working_days,
        )
        basis = DeadlineBasis(
            rule=f"{rule.summary}. Source: {rule.source}",
            start_event=start_event,
            start_on=start_on,
            length=rule.length,
            unit=rule.unit,
            calendar_version=calendar.version,
            paused_working_days=paused_days,
            waiver_reason=waiver,
            late_notice_reason=late_reason,
        )
        deadlines.append(
            Deadline(
                name=rule.name,
                kind=rule.kind,
                due_on=due_on,
                statutory_due_on=statutory_due,
                status=status,
                met_on=met_on,
                basis=basis,
            )
        )
    return deadlines


def _start_event(
    rule: ClockRule, timeline: CaseTimeline, rapid_review_clock_start: RapidReviewClockStart
) -> str | None:
    """The timeline field that starts this clock for this case, or None if it doesn't apply."""
    not_notified = timeline.not_notified_on is not None
    start_event = rule.starts_on
    if rule.name in ("notification", "partners_informed") and not_notified:
        return None  # the partners decided the criteria were not met: nothing to notify
    if rule.name == "rapid_review":
        if not_notified or timeline.rapid_review_required is False:
            return None
        if timeline.withdrawn_on is not None and timeline.submitted_on is None:
            return None  # withdrawn before a rapid review was due: the clock is moot
        if rapid_review_clock_start == "aware":
            start_event = "aware_on"
        elif timeline.notified_on is None:
            return None
    if rule.name in ("review_publication", "advance_copies") and timeline.review_route != "lcspr":
        return None  # these are LCSPR rules; local learning reviews publish as they choose
    if rule.name == "advance_copies" and timeline.published_on is not None:
        start_event = "published_on"  # measured against the date it actually went out
    if getattr(timeline, start_event) is None:
        return None
    return start_event


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


def _paused(
    rule: ClockRule, timeline: CaseTimeline, as_of: date, calendar: Calendar
) -> tuple[int, bool]:
    """Working days the clock has spent paused up to `as_of`, and whether it is paused then."""
    if rule.name != "review_publication":
        return 0, False
    total, paused_now = 0, False
    for pause in timeline.pauses:
        if pause.started_on > as_of:
            continue
        if pause.resumed_on is None or pause.resumed_on > as_of:
            paused_now = True
            total += calendar.working_days_between(pause.started_on, as_of)
        else:
            total += calendar.working_days_between(pause.started_on, pause.resumed_on)
    return total, paused_now


def _met_on(rule: ClockRule, timeline: CaseTimeline) -> date | None:
    dates = [getattr(timeline, field) for field in rule.met_by]
    recorded = [day for day in dates if day is not None]
    return min(recorded) if recorded else None


def _status(
    rule: ClockRule,
    *,
    due_on: date,
    met_on: date | None,
    as_of: date,
    paused_now: bool,
    waived: bool,
    excused_late: bool,
    calendar: Calendar,
    due_soon_working_days: int,
) -> ClockStatus:
    if waived:
        return "waived"
    if rule.kind == "constraint":
        # Nothing can be late: "met" once the report may come off the website.
        return "met" if as_of >= due_on else "pending"
    if met_on is not None:
        return "met_late" if met_on > due_on or excused_late else "met"
    if paused_now:
        return "paused"
    if as_of > due_on:
        return "overdue"
    # "At most N working days left": the (N+1)th working day after as_of is past due_on.
    # Counted forward N+1 days rather than across the whole gap, so a distant as_of is cheap.
    if due_on < calendar.add_working_days(as_of, due_soon_working_days + 1):
        return "due_soon"
    return "pending"
