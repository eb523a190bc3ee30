"""Benchmark alert detection and print figures (no pass/fail thresholds).

    python benchmarks/alerts.py                                  # SQLite (a temporary file)
    python benchmarks/alerts.py --postgres postgresql+psycopg://postgres@127.0.0.1:5432/test

For each size (default 10,000 and 100,000 cases), writes that many cases in bulk with the
deadline rows the service keeps: one per deadline clock, all met or stopped except on the
`--due` cases (default 1,000), which have a rapid review running and due within the
ladder's reach. Then times detection: the first run (which records every rung) and a second
(which finds every rung recorded), and prints the plan of the running-deadlines query, which
should use the partial index `ix_case_deadline_running`, so the time follows the deadlines
due, not the cases recorded.
"""

from __future__ import annotations

import argparse
import time
import uuid
from datetime import date, timedelta

from sqlalchemy import Engine, insert, text
from sqlmodel import Session, col, select
from support import database  # benchmarks/support.py, beside this script

from review_engine.alerts.detection import detect
from review_engine.alerts.ladder import Ladder
from review_engine.calendar import Calendar
from review_engine.cases.models import Case, CaseDeadline, running_deadline
from review_engine.clocks import CLOCKS
from review_engine.db import create_db_engine, upgrade_database, utcnow
from review_engine.partnerships.models import Partnership

DEADLINES = [rule.name for rule in CLOCKS if rule.kind == "deadline"]
AS_OF = date(2026, 11, 30)  # a Monday


def _fill(engine: Engine, cases: int, due: int) -> None:
    """`cases` cases, the first `due` with a running rapid review due Tue 1 Dec 2026."""
    partnership_id = uuid.uuid4()
    now = utcnow()
    with engine.begin() as connection:
        connection.execute(
            insert(Partnership).values(
                id=partnership_id, code="bench", name="Bench SCP", created_at=now
            )
        )
        for start in range(0, cases, 5000):
            case_rows, deadline_rows = [], []
            for number in range(start, min(cases, start + 5000)):
                case_id = uuid.uuid4()
                aware_on = AS_OF - timedelta(days=30 + number % 2000)
                case_rows.append(
                    {
                        "id": case_id,
                        "partnership_id": partnership_id,
                        "reference": f"B-{number}",
                        "incident_type": "serious_harm",
                        "aware_on": aware_on,
                        "state": "rapid_review" if number < due else "closed",
                        "version": 1,
                        "themes": [],
                        "children": [],
                        "timeline": {"aware_on": aware_on.isoformat()},
                        "created_at": now,
                        "updated_at": now,
                    }
                )
                for clock in DEADLINES:
                    running = number < due and clock == "rapid_review"
                    due_on = date(2026, 12, 1) if running else aware_on + timedelta(days=21)
                    deadline_rows.append(
                        {
                            "case_id": case_id,
                            "name": clock,
                            "kind": "deadline",
                            "due_on": due_on,
                            "statutory_due_on": due_on,
                            "met_on": None if running else due_on - timedelta(days=1),
                            "stopped_on": None,
                            "waived": False,
                            "paused": False,
                            "start_event": "aware",
                            "start_on": aware_on,
                            "calendar_version": "bench",
                            "computed_at": now,
                        }
                    )
            connection.execute(insert(Case), case_rows)
            connection.execute(insert(CaseDeadline), deadline_rows)


def _plan(engine: Engine, horizon: date) -> str:
    query = select(CaseDeadline.id).where(running_deadline(), col(CaseDeadline.due_on) <= horizon)
    compiled = query.compile(engine, compile_kwargs={"literal_binds": True})
    explain = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN "
    with engine.connect() as connection:
        rows = connection.execute(text(explain + str(compiled))).all()
    return " | ".join(str(row[-1]) for row in rows)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--postgres", help="PostgreSQL server URL (default: SQLite)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--due", type=int, default=1_000)
    args = parser.parse_args()
    calendar, ladder = Calendar(), Ladder()
    for size in args.sizes:
        with database(args.postgres) as url:
            upgrade_database(url)
            engine = create_db_engine(url)
            _fill(engine, size, args.due)
            if engine.dialect.name == "postgresql":
                with engine.connect() as connection:
                    connection.execute(text("ANALYZE"))
                    connection.commit()
            timings = []
            for _ in range(2):
                with Session(engine) as session:
                    started = time.perf_counter()
                    found = detect(
                        session=session,
                        calendar=calendar,
                        ladder=ladder,
                        as_of=AS_OF,
                        started_at=utcnow(),
                    )
                    timings.append((time.perf_counter() - started) * 1000)
                assert found is not None
            print(
                f"{engine.dialect.name}: {size:,} cases, {args.due:,} due: detection "
                f"{timings[0]:.0f} ms (first run, records the rungs), "
                f"{timings[1]:.0f} ms (second run, nothing new)"
            )
            print(f"  plan: {_plan(engine, ladder.horizon(AS_OF, calendar))}")
            engine.dispose()


if __name__ == "__main__":
    main()
