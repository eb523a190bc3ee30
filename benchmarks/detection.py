"""Time alert detection runs that find nothing new, as the runner's rounds mostly do; print
figures (no pass/fail thresholds).

    python benchmarks/detection.py                        # SQLite, 1,000,000 cases
    python benchmarks/detection.py --postgres postgresql+psycopg://postgres@127.0.0.1:5432/test
    python benchmarks/detection.py --size 100000 --runs 30
    python benchmarks/detection.py --database sqlite:////tmp/detection.db   # kept

Fills a throwaway database with `benchmarks/bulk.py` (`--size` cases, 1,000 of them due;
ANALYZE on PostgreSQL), or the `--database` named, if it holds no case yet (if it does, it
is used as it is). Then, as of `bulk.TODAY`, times one run (the first records every rung
reached) and `--runs` more with nothing new, and prints the deadlines on the ladder, the
p50 and the slowest run. To time an earlier commit on the same data, fill a `--database`
first, then run this file again with `PYTHONPATH` pointing at that checkout's `src`.
"""

from __future__ import annotations

import argparse
import statistics
import time
from contextlib import ExitStack

from bulk import TODAY, generate  # benchmarks/bulk.py, beside this script
from sqlalchemy import Engine, inspect, text
from sqlmodel import Session
from support import database, migrated_with_admin_key

from review_engine.alerts.detection import Detected, detect
from review_engine.alerts.ladder import Ladder
from review_engine.calendar import Calendar
from review_engine.db import create_db_engine, utcnow


def timed_run(engine: Engine) -> tuple[float, Detected]:
    """One run, on one engine for all (as the runner keeps its own)."""
    with Session(engine) as session:
        started = time.perf_counter()
        found = detect(session=session, calendar=Calendar(), ladder=Ladder(),
                       as_of=TODAY, started_at=utcnow())  # fmt: skip
        elapsed = (time.perf_counter() - started) * 1000
    assert found is not None, "another runner holds the detection lock"
    return elapsed, found


def filled(url: str) -> bool:
    engine = create_db_engine(url)
    try:
        with engine.connect() as connection:
            if not inspect(connection).has_table("review_case"):
                return False
            return connection.execute(text("SELECT 1 FROM review_case LIMIT 1")).first() is not None
    finally:
        engine.dispose()


def fill(url: str, size: int) -> None:
    migrated_with_admin_key(url)
    started = time.perf_counter()
    generate(url, cases=size, partnerships=135, due=1_000, seed=20261130)
    print(f"generated {size:,} cases in {time.perf_counter() - started:.0f} s")
    engine = create_db_engine(url)
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("ANALYZE"))
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--postgres", help="PostgreSQL server URL (default: SQLite)")
    parser.add_argument("--database", help="a database bulk.py filled before (not refilled)")
    parser.add_argument("--size", type=int, default=1_000_000, help="cases to generate")
    parser.add_argument("--runs", type=int, default=30, help="runs with nothing new")
    args = parser.parse_args()
    with ExitStack() as stack:
        url = args.database or stack.enter_context(database(args.postgres))
        if not filled(url):
            fill(url, args.size)
        engine = create_db_engine(url)
        stack.callback(engine.dispose)
        first, found = timed_run(engine)
        print(f"first run {first:,.0f} ms: {found}")
        times = sorted(timed_run(engine)[0] for _ in range(args.runs))
        print(
            f"{args.runs} runs with nothing new: {found.deadlines:,} deadlines on the ladder, "
            f"p50 {statistics.median(times):.1f} ms, slowest {times[-1]:.1f} ms"
        )


if __name__ == "__main__":
    main()
