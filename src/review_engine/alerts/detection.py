"""Detection: every running deadline whose ladder has begun, as of a day, and the rungs it
has reached recorded once each. Idempotent: a rung already recorded is left alone (the
unique constraint `uq_alert_rung` decides, not a read before the write), so two runs, a
restart, or two runners at once record each rung exactly once.

Reads only running deadlines due by the ladder's horizon, each through a partial index
(`ix_case_deadline_running`, `ix_action_running`, `ix_contribution_outstanding`): the cost
grows with the deadlines running, not with everything ever recorded. The rungs already
recorded are read summed up per deadline (its years of weekly reminders are part of one
row), and reminders known recorded are not worked out again (`reached(known_reminders=)`),
so a run that finds nothing new costs about the same for a deadline overdue for years as
for one due today (the database still reads each recorded row once, through
`uq_alert_rung`'s index). A case's clocks are read from its stored deadline rows, which
hold for any day from the day they were written, so detection is meant for today (or
later: `--as-of` simulates days ahead).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import case, func, text
from sqlalchemy import select as columns
from sqlmodel import Session, col, select

from review_engine.actions.models import Action, running_action
from review_engine.alerts.inserts import insert_new
from review_engine.alerts.ladder import REMINDER, RUNGS, Ladder, Rung, reached, reminders_reached
from review_engine.alerts.models import ACTION_CLOCK, CONTRIBUTION_CLOCK, Alert, AlertRun
from review_engine.alerts.outbox import enqueue, enqueue_digests
from review_engine.calendar import Calendar
from review_engine.cases.models import Case, CaseDeadline, running_deadline
from review_engine.contributions.models import Contribution, outstanding_contribution
from review_engine.db import utcnow

__all__ = ["UNIQUE_RUNG", "Detected", "RunningDeadline", "detect", "running_deadlines"]

UNIQUE_RUNG = ("subject_type", "subject_id", "clock", "rung", "sequence", "due_on")
# Any fixed number works; it only has to be the same for every runner on this database.
_LOCK = 0x7265766965770002


@dataclass(frozen=True)
class RunningDeadline:
    """A deadline still running, wherever it comes from."""

    subject_type: str
    subject_id: uuid.UUID
    clock: str
    due_on: date
    partnership_id: uuid.UUID
    case_id: uuid.UUID | None


@dataclass(frozen=True)
class Detected:
    """What a run found: deadlines whose ladder had begun, and rungs newly recorded."""

    as_of: date
    deadlines: int
    raised: int
    skipped: int
    deliveries: int = 0  # added to the outbox: of the raised alerts, and the day's digests


def running_deadlines(*, session: Session, horizon: date, as_of: date) -> Iterator[RunningDeadline]:
    """Every running deadline due by `horizon`: a case's clocks, actions, contributions."""
    # Columns, not objects, through Core: this runs every round over every deadline running.
    cases = session.connection().execute(
        columns(
            col(CaseDeadline.case_id),
            col(CaseDeadline.name),
            col(CaseDeadline.due_on),
            col(Case.partnership_id),
        )
        .join(Case, col(Case.id) == col(CaseDeadline.case_id))
        .where(running_deadline(), col(CaseDeadline.due_on) <= horizon)
    )
    for case_id, clock, due_on, partnership_id in cases:
        yield RunningDeadline("case", case_id, clock, due_on, partnership_id, case_id)
    actions = session.connection().execute(
        columns(
            col(Action.id), col(Action.due_on), col(Action.partnership_id), col(Action.case_id)
        ).where(running_action(), col(Action.due_on) <= horizon)
    )
    for action_id, due_on, partnership_id, action_case in actions:
        yield RunningDeadline(
            "action", action_id, ACTION_CLOCK, due_on, partnership_id, action_case
        )
    contributions = session.connection().execute(
        columns(
            col(Contribution.id),
            col(Contribution.due_on),
            col(Contribution.partnership_id),
            col(Contribution.case_id),
        ).where(
            outstanding_contribution(),
            col(Contribution.due_on) <= horizon,
            col(Contribution.requested_on) <= as_of,
        )
    )
    for contribution_id, due_on, partnership_id, case_id in contributions:
        yield RunningDeadline(
            "contribution", contribution_id, CONTRIBUTION_CLOCK, due_on, partnership_id, case_id
        )


def _only_runner(session: Session) -> bool:
    """On PostgreSQL, whether this transaction holds the detection lock (another runner
    holding it is detecting now). SQLite serialises writers: always True."""
    if session.get_bind().dialect.name != "postgresql":
        return True
    held = session.execute(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": _LOCK})
    return bool(held.scalar_one())


def detect(
    *,
    session: Session,
    calendar: Calendar,
    ladder: Ladder,
    as_of: date,
    started_at: datetime,
    digests: bool = True,
    runner: str | None = None,
) -> Detected | None:
    """Records, for every running deadline, the furthest rung it has reached by `as_of` as
    raised and any earlier rung not recorded before as skipped; with `digests`, on a working
    day, the day's digests too; commits with a run record (naming the `runner`). None when
    another runner is detecting at this moment (PostgreSQL)."""
    if not _only_runner(session):
        session.rollback()
        return None
    horizon = ladder.horizon(as_of, calendar)
    deadlines = list(running_deadlines(session=session, horizon=horizon, as_of=as_of))
    recorded = _recorded(session, deadlines)
    raised: list[dict[str, object]] = []
    skipped: list[dict[str, object]] = []
    begun = 0
    furthest: dict[uuid.UUID, set[str]] = {}  # by partnership: what a digest would list
    for deadline in deadlines:
        key = (deadline.subject_type, deadline.subject_id, deadline.clock, deadline.due_on)
        mine = recorded.get(key, _Recorded(set()))
        last = reminders_reached(deadline.due_on, as_of, ladder, calendar)
        # The reminders recorded already are not worked out again.
        rungs = reached(deadline.due_on, as_of, ladder, calendar, known_reminders=mine.contiguous)
        if not rungs:
            continue
        begun += 1
        furthest.setdefault(deadline.partnership_id, set()).add(
            REMINDER if last else rungs[-1].name
        )
        for rung in rungs:
            if mine.has(rung):
                continue
            top = rung == rungs[-1] and rung.sequence == last  # the furthest rung reached
            row = {
                "id": uuid.uuid4(),
                "subject_type": deadline.subject_type,
                "subject_id": deadline.subject_id,
                "clock": deadline.clock,
                "rung": rung.name,
                "sequence": rung.sequence,
                "due_on": deadline.due_on,
                "starts_on": rung.starts_on,
                "state": "raised" if top else "skipped",
                "partnership_id": deadline.partnership_id,
                "case_id": deadline.case_id,
                "detected_on": as_of,
                "created_at": utcnow(),
            }
            (raised if top else skipped).append(row)
    # Only the rows this run inserted count; a concurrent runner's are ignored. The
    # deliveries of the raised ones commit with them (the outbox).
    skipped_ids = insert_new(session, Alert, skipped, UNIQUE_RUNG)
    raised_ids = insert_new(session, Alert, raised, UNIQUE_RUNG)
    new_alerts = session.exec(select(Alert).where(col(Alert.id).in_(raised_ids))).all()
    deliveries = enqueue(session, new_alerts)
    if digests and calendar.is_working_day(as_of):
        deliveries += enqueue_digests(session, digest_on=as_of, reached=furthest, now=utcnow())
    found = Detected(
        as_of=as_of,
        deadlines=begun,
        skipped=len(skipped_ids),
        raised=len(raised_ids),
        deliveries=deliveries,
    )
    session.add(
        AlertRun(
            as_of=as_of,
            started_at=started_at,
            deadlines=found.deadlines,
            raised=found.raised,
            skipped=found.skipped,
            runner=runner,
        )
    )
    session.commit()
    return found


@dataclass
class _Recorded:
    """The rungs recorded for one deadline (subject, clock, due date): the others by name,
    and the reminders, `1..contiguous` all of them, any others listed (never in practice:
    each run records every earlier rung)."""

    names: set[str]
    contiguous: int = 0
    reminders: frozenset[int] = frozenset()

    def has(self, rung: Rung) -> bool:
        if rung.name != REMINDER:
            return rung.name in self.names
        return rung.sequence <= self.contiguous or rung.sequence in self.reminders


RecordedKey = tuple[str, uuid.UUID, str, date]  # subject type and id, clock, due date


def _recorded(session: Session, deadlines: list[RunningDeadline]) -> dict[RecordedKey, _Recorded]:
    """The rungs already recorded for these deadlines (a shortcut: the constraint decides),
    summed up in the database, through `uq_alert_rung`'s index: a row per deadline, so a
    deadline's years of reminders cost one row."""
    found: dict[RecordedKey, _Recorded] = {}
    gaps: set[tuple[str, uuid.UUID]] = set()
    subjects: dict[str, set[uuid.UUID]] = {}
    for deadline in deadlines:
        subjects.setdefault(deadline.subject_type, set()).add(deadline.subject_id)
    reminder = col(Alert.rung) == REMINDER
    named = [name for name in RUNGS if name != REMINDER]
    for subject_type, ids in subjects.items():
        ordered = sorted(ids, key=lambda subject_id: subject_id.int)  # UUID's < is slow
        for start in range(0, len(ordered), 500):
            summary = session.connection().execute(
                columns(
                    col(Alert.subject_id),
                    col(Alert.clock),
                    col(Alert.due_on),
                    func.max(case((reminder, col(Alert.sequence)), else_=0)),
                    func.count(case((reminder, 1))),
                    *(func.max(case((col(Alert.rung) == name, 1), else_=0)) for name in named),
                )
                .where(
                    col(Alert.subject_type) == subject_type,
                    col(Alert.subject_id).in_(ordered[start : start + 500]),
                )
                .group_by(col(Alert.subject_id), col(Alert.clock), col(Alert.due_on))
            )
            for subject_id, clock, due_on, highest, count, *flags in summary:
                entry = _Recorded({name for name, flag in zip(named, flags, strict=True) if flag})
                found[(subject_type, subject_id, clock, due_on)] = entry
                if highest == count:  # sequences are unique and start at 1: no gaps
                    entry.contiguous = highest
                else:
                    gaps.add((subject_type, subject_id))
    for subject_type, subject_id in gaps:  # read those reminders one by one
        rows = session.connection().execute(
            columns(col(Alert.clock), col(Alert.due_on), col(Alert.sequence)).where(
                col(Alert.subject_type) == subject_type,
                col(Alert.subject_id) == subject_id,
                col(Alert.rung) == REMINDER,
            )
        )
        listed: dict[tuple[str, date], set[int]] = {}
        for clock, due_on, sequence in rows:
            listed.setdefault((clock, due_on), set()).add(sequence)
        for (clock, due_on), sequences in listed.items():
            entry = found[(subject_type, subject_id, clock, due_on)]
            if not entry.contiguous:  # this deadline's were the ones with gaps
                entry.reminders = frozenset(sequences)
    return found
