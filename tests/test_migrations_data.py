"""Data migrations. 0003 upgrades what 0002 stored: the clock start kept on each case, dated
waivers, advance copies and reschedules as dated records; `db upgrade` then recomputes the
stored deadline rows; and the downgrade gives 0002's shape back."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

import pytest
import sqlalchemy as sa
import sqlmodel
from alembic import command
from typer.testing import CliRunner

from review_engine.cli import app as cli
from review_engine.db import alembic_config, create_db_engine
from review_engine.timeline import AdvanceCopies, CaseTimeline, Reschedule, Waiver

_partnership = sa.table(
    "partnership",
    sa.column("id", sa.Uuid()),
    sa.column("code", sa.String()),
    sa.column("name", sa.String()),
    sa.column("rapid_review_clock_start", sa.String()),
    sa.column("created_at", sqlmodel.sql.sqltypes.UTCDateTime()),
)
_case = sa.table(
    "review_case",
    sa.column("id", sa.Uuid()),
    sa.column("partnership_id", sa.Uuid()),
    sa.column("reference", sa.String()),
    sa.column("incident_type", sa.String()),
    sa.column("aware_on", sa.Date()),
    sa.column("state", sa.String()),
    sa.column("version", sa.Integer()),
    sa.column("themes", sa.JSON()),
    sa.column("children", sa.JSON()),
    sa.column("timeline", sa.JSON()),
    sa.column("created_at", sqlmodel.sql.sqltypes.UTCDateTime()),
    sa.column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime()),
)
_history = sa.table(
    "case_history",
    sa.column("case_id", sa.Uuid()),
    sa.column("version", sa.Integer()),
    sa.column("at", sqlmodel.sql.sqltypes.UTCDateTime()),
    sa.column("actor", sa.String()),
    sa.column("action", sa.String()),
    sa.column("event", sa.String()),
    sa.column("from_state", sa.String()),
    sa.column("to_state", sa.String()),
    sa.column("details", sa.JSON()),
)
_deadline = sa.table(
    "case_deadline",
    sa.column("case_id", sa.Uuid()),
    sa.column("name", sa.String()),
    sa.column("due_on", sa.Date()),
    sa.column("stopped_on", sa.Date()),
)

# An LCSPR stored by 0002: approved 1 Jun 2026 for 1 Jul, moved on 10 Jun to 1 Sep, copies
# sent 15 Jun, the rapid review clock waived on 12 Jun.
OLD_PUBLISHING = {
    "aware_on": "2026-01-05",
    "notified_on": "2026-01-07",
    "rapid_review_required": True,
    "submitted_on": "2026-01-26",
    "recommendation": "lcspr",
    "panel_response_on": "2026-02-05",
    "panel_outcome": "agreed",
    "review_route": "lcspr",
    "decided_on": "2026-02-05",
    "pauses": [],
    "approved_on": "2026-06-01",
    "planned_publication_on": "2026-09-01",
    "advance_copies_sent_on": "2026-06-15",
    "waivers": {"rapid_review": "national relaxation"},
}
# A case withdrawn by 0002's rules: the partners were never told.
OLD_WITHDRAWN = {
    "aware_on": "2026-01-05",
    "notified_on": "2026-01-07",
    "rapid_review_required": True,
    "withdrawn_on": "2026-01-20",
    "withdrawn_reason": "criteria not met",
    "pauses": [],
    "waivers": {},
}


def _at(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(hour=10, tzinfo=UTC)


def _seed(connection: sa.Connection) -> tuple[uuid.UUID, uuid.UUID]:
    partnership_id, publishing_id, withdrawn_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    connection.execute(
        sa.insert(_partnership).values(
            id=partnership_id,
            code="wessex",
            name="W",
            rapid_review_clock_start="aware",
            created_at=_at("2026-01-01"),
        )
    )
    for case_id, reference, state, timeline in [
        (publishing_id, "OLD-1", "pre_publication", OLD_PUBLISHING),
        (withdrawn_id, "OLD-2", "withdrawn", OLD_WITHDRAWN),
    ]:
        connection.execute(
            sa.insert(_case).values(
                id=case_id,
                partnership_id=partnership_id,
                reference=reference,
                incident_type="serious_harm",
                aware_on=date(2026, 1, 5),
                state=state,
                version=4,
                themes=[],
                children=[],
                timeline=timeline,
                created_at=_at("2026-01-05"),
                updated_at=_at("2026-06-15"),
            )
        )
    history: list[dict[str, Any]] = [
        {"version": 1, "at": _at("2026-01-05"), "action": "create", "event": None, "details": {}},
        {
            "version": 2,
            "at": _at("2026-06-01"),
            "action": "event",
            "event": "approve_final_report",
            "details": {"approved_on": "2026-06-01", "planned_publication_on": "2026-07-01"},
        },
        {
            "version": 3,
            "at": _at("2026-06-10"),
            "action": "event",
            "event": "reschedule_publication",
            "details": {"planned_publication_on": "2026-09-01", "reason": "Trial"},
        },
        {
            "version": 4,
            "at": _at("2026-06-12"),
            "action": "waiver",
            "event": None,
            "details": {"clock": "rapid_review", "reason": "national relaxation"},
        },
    ]
    for entry in history:
        connection.execute(
            sa.insert(_history).values(
                case_id=publishing_id, actor="t", from_state=None, to_state="x", **entry
            )
        )
    return publishing_id, withdrawn_id


def _timeline(connection: sa.Connection, case_id: uuid.UUID) -> dict[str, Any]:
    stored: dict[str, Any] = connection.execute(
        sa.select(_case.c.timeline).where(_case.c.id == case_id)
    ).scalar_one()
    return stored


def test_0003_upgrades_stored_timelines_and_db_upgrade_refreshes_the_deadlines(
    blank_database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    command.upgrade(alembic_config(blank_database_url), "0002")
    engine = create_db_engine(blank_database_url)
    try:
        with engine.begin() as connection:
            publishing_id, withdrawn_id = _seed(connection)

        monkeypatch.setenv("REVIEW_ENGINE_DATABASE_URL", blank_database_url)
        result = CliRunner().invoke(cli, ["db", "upgrade"])
        assert result.exit_code == 0, result.output

        with engine.connect() as connection:
            upgraded = CaseTimeline.model_validate(_timeline(connection, publishing_id))
            assert upgraded.rapid_review_clock_start == "aware"  # the partnership's setting
            assert upgraded.waivers == {
                "rapid_review": Waiver(reason="national relaxation", waived_on=date(2026, 6, 12))
            }
            assert upgraded.advance_copies == (
                AdvanceCopies(
                    sent_on=date(2026, 6, 15),
                    recipients=("panel", "secretary_of_state", "ofsted"),
                ),
            )
            assert upgraded.reschedules == (
                Reschedule(
                    rescheduled_on=date(2026, 6, 10),
                    planned_publication_on=date(2026, 9, 1),
                    previous_planned_on=date(2026, 7, 1),
                    reason="Trial",
                ),
            )
            CaseTimeline.model_validate(_timeline(connection, withdrawn_id))
            # The stored deadline rows were recomputed under the new rules: the withdrawn
            # case's partners clock (due Mon 12 Jan) is stopped on 20 Jan, not overdue.
            rows = connection.execute(
                sa.select(_deadline.c.name, _deadline.c.due_on, _deadline.c.stopped_on).where(
                    _deadline.c.case_id == withdrawn_id
                )
            ).all()
            assert ("partners_informed", date(2026, 1, 12), date(2026, 1, 20)) in rows

        command.downgrade(alembic_config(blank_database_url), "0002")
        with engine.connect() as connection:
            downgraded = _timeline(connection, publishing_id)
            assert downgraded["waivers"] == {"rapid_review": "national relaxation"}
            assert downgraded["advance_copies_sent_on"] == "2026-06-15"
            assert "reschedules" not in downgraded
            assert "rapid_review_clock_start" not in downgraded
    finally:
        engine.dispose()


def test_0004_repairs_cases_stored_with_null_lists(
    blank_database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A case stored with `children: null` (as a PATCH once could) reads again after it."""
    command.upgrade(alembic_config(blank_database_url), "0003")
    engine = create_db_engine(blank_database_url)
    try:
        with engine.begin() as connection:
            publishing_id, _ = _seed(connection)
            connection.execute(
                sa.update(_case)
                .where(_case.c.id == publishing_id)
                .values(children=None, themes=None, timeline={**OLD_WITHDRAWN, "waivers": {}})
            )
        command.upgrade(alembic_config(blank_database_url), "head")
        with engine.connect() as connection:
            children, themes = connection.execute(
                sa.select(_case.c.children, _case.c.themes).where(_case.c.id == publishing_id)
            ).one()
        assert (children, themes) == ([], [])
    finally:
        engine.dispose()
