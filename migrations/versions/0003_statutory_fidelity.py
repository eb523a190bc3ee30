"""Statutory fidelity: care leavers, stopped clocks, dated waivers, the clock start kept on
each case, reschedules and advance copies kept as dated records

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 12:00:00

Schema: `review_case.care_leaver` and `case_deadline.stopped_on`. Data: each stored
timeline gains the partnership's `rapid_review_clock_start` (kept on the case from now on),
its waivers gain the date they were recorded (from the case history), and its advance
copies and publication reschedules become dated records (rebuilt from the history), so that
"as of" replays can see when each happened. The stored deadline rows are recomputed after
the upgrade by `review-engine db upgrade` (they are an index of the timelines).
"""

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
import sqlmodel
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ALL_RECIPIENTS = ["panel", "secretary_of_state", "ofsted"]

_partnership = sa.table(
    "partnership", sa.column("id", sa.Uuid()), sa.column("rapid_review_clock_start", sa.String())
)
_case = sa.table(
    "review_case",
    sa.column("id", sa.Uuid()),
    sa.column("partnership_id", sa.Uuid()),
    sa.column("timeline", sa.JSON()),
    sa.column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime()),
)
_history = sa.table(
    "case_history",
    sa.column("case_id", sa.Uuid()),
    sa.column("version", sa.Integer()),
    sa.column("at", sqlmodel.sql.sqltypes.UTCDateTime()),
    sa.column("action", sa.String()),
    sa.column("event", sa.String()),
    sa.column("details", sa.JSON()),
)


def upgrade() -> None:
    """Upgrade schema and stored timelines."""
    with op.batch_alter_table("review_case", schema=None) as batch_op:
        batch_op.add_column(sa.Column("care_leaver", sa.Boolean(), nullable=True))
    with op.batch_alter_table("case_deadline", schema=None) as batch_op:
        batch_op.add_column(sa.Column("stopped_on", sa.Date(), nullable=True))

    connection = op.get_bind()
    partnerships = sa.select(_partnership.c.id, _partnership.c.rapid_review_clock_start)
    settings = {row.id: row.rapid_review_clock_start for row in connection.execute(partnerships)}
    cases = connection.execute(
        sa.select(_case.c.id, _case.c.partnership_id, _case.c.timeline, _case.c.updated_at)
    ).all()
    for case_id, partnership_id, timeline, updated_at in cases:
        history = connection.execute(
            sa.select(_history.c.at, _history.c.action, _history.c.event, _history.c.details)
            .where(_history.c.case_id == case_id)
            .order_by(_history.c.version)
        ).all()
        upgraded = _upgrade_timeline(
            dict(timeline), settings[partnership_id], history, updated_at.date()
        )
        connection.execute(sa.update(_case).where(_case.c.id == case_id).values(timeline=upgraded))


def _upgrade_timeline(
    timeline: dict[str, Any], clock_start: str, history: Sequence[Any], updated_on: date
) -> dict[str, Any]:
    aware_on = timeline["aware_on"]
    timeline["rapid_review_clock_start"] = clock_start
    waived_on: dict[str, str] = {}
    plans: list[str] = []
    reschedules: list[dict[str, Any]] = []
    for at, action, event, details in history:
        day = _on_or_after(at, aware_on)
        if action == "waiver":
            waived_on[details["clock"]] = day
        elif event == "approve_final_report":
            plans = [details["planned_publication_on"]]
        elif event == "reschedule_publication" and plans:
            reschedules.append(
                {
                    "rescheduled_on": max(day, timeline.get("approved_on") or day),
                    "planned_publication_on": details["planned_publication_on"],
                    "previous_planned_on": plans[-1],
                    "reason": details.get("reason", "Not recorded"),
                    "panel_informed_on": None,
                }
            )
            plans.append(details["planned_publication_on"])
    fallback = max(updated_on.isoformat(), aware_on)
    timeline["waivers"] = {
        clock: {"reason": reason, "waived_on": waived_on.get(clock, fallback)}
        for clock, reason in (timeline.get("waivers") or {}).items()
    }
    sent_on = timeline.pop("advance_copies_sent_on", None)
    timeline["advance_copies"] = (
        [{"sent_on": sent_on, "recipients": ALL_RECIPIENTS}] if sent_on else []
    )
    timeline["reschedules"] = reschedules
    return timeline


def _on_or_after(at: datetime, aware_on: str) -> str:
    return max(at.date().isoformat(), aware_on)


_DROPPED_BY_DOWNGRADE = (
    "rapid_review_clock_start",
    "new_information_on",
    "escalated_on",
    "reschedules",
    "advance_copies",
)


def downgrade() -> None:
    """Downgrade schema and stored timelines (the dated records added here are dropped)."""
    connection = op.get_bind()
    for case_id, timeline in connection.execute(sa.select(_case.c.id, _case.c.timeline)).all():
        downgraded = {k: v for k, v in timeline.items() if k not in _DROPPED_BY_DOWNGRADE}
        sends = timeline.get("advance_copies") or []
        # Before 0003 the date stood for copies to everyone; the latest send is the nearest.
        downgraded["advance_copies_sent_on"] = sends[-1]["sent_on"] if sends else None
        downgraded["waivers"] = {
            clock: waiver["reason"] for clock, waiver in (timeline.get("waivers") or {}).items()
        }
        connection.execute(
            sa.update(_case).where(_case.c.id == case_id).values(timeline=downgraded)
        )
    with op.batch_alter_table("case_deadline", schema=None) as batch_op:
        batch_op.drop_column("stopped_on")
    with op.batch_alter_table("review_case", schema=None) as batch_op:
        batch_op.drop_column("care_leaver")
