"""Detection: every running deadline whose ladder has begun, as of a day, and the rungs it
has reached recorded once each. Idempotent: a rung already recorded is left alone (the
unique constraint `uq_alert_rung` decides, not a read before the write), so two runs, a
restart, or two runners at once record each rung exactly once.

A run checks only the deadlines that may have something new: each checked deadline's
`AlertProgress` row says when its next rung starts, so the next run passes it by until
then (a deadline with no row, whose due date moved, or worked out on another ladder or
calendar is checked). A run with nothing new reads no deadline, only counts them: its cost
is the deadlines with a rung starting, not all those running, still less everything ever
recorded. Each source is read through a partial index (`ix_case_deadline_running`,
`ix_action_running`, `ix_contribution_outstanding`). For a deadline checked, the rungs
already recorded are read summed up per deadline (its years of weekly reminders are part
of one row), and reminders known recorded are not worked out again
(`reached(known_reminders=)`). A daily digest needs every deadline's furthest rung: they
are worked out only while a digest subscription has no digest for the day yet.

A case's clocks are read from its stored deadline rows, which hold for any day from the
day they were written, so detection is meant for today (or later: `--as-of` simulates
days ahead).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import case, func, text
from sqlalchemy import delete as sa_delete
from sqlalchemy import select as columns
from sqlmodel import Session, col, select

from review_engine.alerts.inserts import insert_new, upsert
from review_engine.alerts.ladder import (
    REMINDER,
    RUNGS,
    Ladder,
    Rung,
    furthest_rung,
    next_rung_on,
    reached,
    reminders_reached,
)
from review_engine.alerts.models import Alert, AlertProgress, AlertRun
from review_engine.alerts.outbox import enqueue, enqueue_digests
from review_engine.alerts.running import RunningDeadline, on_the_ladder, running_deadlines
from review_engine.calendar import Calendar
from review_engine.db import utcnow

__all__ = ["PROGRESS_KEPT", "UNIQUE_RUNG", "Detected", "detect"]

UNIQUE_RUNG = ("subject_type", "subject_id", "clock", "rung", "sequence", "due_on")
PROGRESS_KEY = ("subject_type", "subject_id", "clock", "due_on")
PROGRESS_KEPT = timedelta(days=31)
"""A progress row not checked for this long is deleted (a deadline that stopped running,
or one with no rung to come): should its deadline still run, the next run checks it."""
# Any fixed number works; it only has to be the same for every runner on this database.
_LOCK = 0x7265766965770002
_MANY = 1000  # progress rows written in one run that call for fresh planner statistics


@dataclass(frozen=True)
class Detected:
    """What a run found: deadlines whose ladder had begun, and rungs newly recorded."""

    as_of: date
    deadlines: int
    raised: int
    skipped: int
    deliveries: int = 0  # added to the outbox: of the raised alerts, and the day's digests


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
    another runner is detecting at this moment (PostgreSQL). Only deadlines that may have
    something new are checked (see the module docstring)."""
    if not _only_runner(session):
        session.rollback()
        return None
    horizon = ladder.horizon(as_of, calendar)
    fingerprint = ladder.fingerprint(calendar)
    deadlines = list(
        running_deadlines(session=session, horizon=horizon, as_of=as_of, unchecked_on=fingerprint)
    )
    recorded = _recorded(session, deadlines)
    raised: list[dict[str, object]] = []
    skipped: list[dict[str, object]] = []
    progress: list[dict[str, object]] = []
    for deadline in deadlines:
        key = (deadline.subject_type, deadline.subject_id, deadline.clock, deadline.due_on)
        progress.append(
            dict(
                zip(PROGRESS_KEY, key, strict=True),
                next_on=next_rung_on(deadline.due_on, as_of, ladder, calendar),
                ladder=fingerprint,
                checked_on=as_of,
            )
        )
        mine = recorded.get(key, _Recorded(set()))
        last = reminders_reached(deadline.due_on, as_of, ladder, calendar)
        # The reminders recorded already are not worked out again.
        rungs = reached(deadline.due_on, as_of, ladder, calendar, known_reminders=mine.contiguous)
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
    # deliveries of the raised ones commit with them (the outbox), and so does the progress.
    skipped_ids = insert_new(session, Alert, skipped, UNIQUE_RUNG)
    raised_ids = insert_new(session, Alert, raised, UNIQUE_RUNG)
    new_alerts = session.exec(select(Alert).where(col(Alert.id).in_(raised_ids))).all()
    deliveries = enqueue(session, new_alerts)
    upsert(session, AlertProgress, progress, PROGRESS_KEY, ("next_on", "ladder", "checked_on"))
    if len(progress) >= _MANY and session.get_bind().dialect.name == "postgresql":
        # Fresh statistics now, not at autovacuum's next pass: planned on an empty table's,
        # the next run's read of 8,331 deadlines took 811 ms (a merge join on the due date
        # alone); on these, 10 ms.
        session.execute(text("ANALYZE alert_progress"))
    session.exec(
        sa_delete(AlertProgress).where(col(AlertProgress.checked_on) < as_of - PROGRESS_KEPT)
    )
    if digests and calendar.is_working_day(as_of):

        def furthest() -> dict[uuid.UUID, set[str]]:  # by partnership: what a digest lists
            return _furthest(session, calendar=calendar, ladder=ladder, as_of=as_of)

        deliveries += enqueue_digests(session, digest_on=as_of, reached=furthest, now=utcnow())
    begun = on_the_ladder(session=session, horizon=horizon, as_of=as_of)
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


def _furthest(
    session: Session, *, calendar: Calendar, ladder: Ladder, as_of: date
) -> dict[uuid.UUID, set[str]]:
    """The furthest rung each running deadline has reached by `as_of`, by partnership."""
    horizon = ladder.horizon(as_of, calendar)
    found: dict[uuid.UUID, set[str]] = {}
    for deadline in running_deadlines(session=session, horizon=horizon, as_of=as_of):
        name = furthest_rung(deadline.due_on, as_of, ladder, calendar)
        if name is not None:
            found.setdefault(deadline.partnership_id, set()).add(name)
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
