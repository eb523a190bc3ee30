"""Benchmark the case lists, alert detection and the annual report; print figures and plans
(no pass/fail thresholds).

    python benchmarks/lists.py                                 # SQLite (a temporary file)
    python benchmarks/lists.py --postgres postgresql+psycopg://postgres@127.0.0.1:5432/test
    python benchmarks/lists.py --sizes 10000,100000,1000000 --requests 50 --due 1000

First checks that benchmarks/bulk.py writes what the service writes: one case of each of
its shapes made through the API and one by `bulk.stamp`, their stored rows compared
column by column (references aside; of ids only the type and length; of times which of
the case's changes wrote them), a line per shape. Then, for each size (default 10,000 and
100,000 cases), a fresh database, migrated and filled by `bulk.generate` (`--partnerships`,
default 135; `--due` cases, default 1,000, with a deadline overdue on `bulk.TODAY`, the
day the app is pinned to), ANALYZEd on PostgreSQL, and, through the real app
(`TestClient`, an admin key), each query `--requests` times (default 50) after an untimed
first call, or fewer once `--budget` seconds (default 60) are spent (n says how many):
`GET /cases` with each filter it takes (`overdue=true` and its next page by cursor),
alert detection (`detect`, as benchmarks/alerts.py runs it: the first run records the
rungs, the next find them) and `GET /reports/annual` for the largest partnership. Prints
per size the generation time, the row counts, a table query | size | n | p50 ms | p99 ms
and the load average (other processes skew the figures); then the table for all sizes,
and at the largest size each query's SELECTs, CTEs included (those of its first call,
caught by a `before_cursor_execute` listener; the API key lookup left out), with their
plans: EXPLAIN QUERY PLAN on SQLite, EXPLAIN on PostgreSQL, run with the same parameters.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import re
import statistics
import time
import uuid
from collections.abc import Callable
from datetime import date, timedelta
from functools import partial
from typing import Any

import bulk  # benchmarks/bulk.py, beside this script
from bulk import TODAY, generate, pinned
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, func, select, text
from sqlmodel import Session, col
from support import database  # benchmarks/support.py, beside this script

from review_engine.alerts.detection import detect
from review_engine.alerts.ladder import Ladder
from review_engine.app import create_app
from review_engine.auth.models import Role
from review_engine.auth.service import create_api_key
from review_engine.calendar import Calendar
from review_engine.cases.models import Case, CaseDeadline, running_deadline
from review_engine.db import create_db_engine, upgrade_database, utcnow
from review_engine.partnerships.models import Partnership

Statements = list[tuple[str, Any]]
TABLES = ("review_case", "case_deadline", "case_history", "case_theme", "published_review")


def queries(code: str, reference: str, cursor: str | None) -> list[tuple[str, dict[str, Any]]]:
    """The timed requests: a path and its query parameters."""
    past, soon = TODAY - timedelta(days=30), TODAY + timedelta(days=14)
    filters: list[dict[str, Any]] = [
        {},
        {"overdue": "true"},
        *([{"overdue": "true", "cursor": cursor}] if cursor else []),  # the next page
        {"overdue": "false"},
        {"due_before": soon},
        {"state": "lcspr"},
        {"state": "closed"},
        {"partnership": code},
        {"reference": reference},
        {"theme": "sudi"},
        {"as_of": past},
        {"as_of": past, "overdue": "true"},
    ]
    lists = [("/cases", {"limit": 50, **found}) for found in filters]
    return [*lists, ("/reports/annual", {"partnership": code, "year": 2025})]


def named(path: str, params: dict[str, Any]) -> str:
    shown = {k: "(page 2)" if k == "cursor" else v for k, v in params.items() if k != "limit"}
    return f"GET {path}" + "?" * bool(shown) + "&".join(f"{k}={v}" for k, v in shown.items())


def timed(
    call: Callable[[], Any], *, engine: Engine, requests: int, budget: float
) -> tuple[list[Any], Statements]:
    """The calls' times in ms after a first, untimed call, whose statements are returned
    (or why that first call failed)."""
    caught: Statements = []

    def catch(connection: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        caught.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", catch)
    started = time.perf_counter()
    try:
        call()
    except Exception as error:  # reported in the table; the next query still runs
        return [f"failed: {type(error).__name__}: {str(error).splitlines()[0][:150]}"], caught
    finally:
        event.remove(engine, "before_cursor_execute", catch)
    first = (time.perf_counter() - started) * 1000
    samples: list[float] = []
    while len(samples) < requests and time.perf_counter() - started < budget:
        begun = time.perf_counter()
        call()
        samples.append((time.perf_counter() - begun) * 1000)
    return samples or [first], caught


def client_for(engine: Engine, name: str) -> TestClient:
    """The app on `engine`'s database, with a new admin key called `name`."""
    with Session(engine) as session:
        _, secret = create_api_key(
            session=session, name=name, role=Role.ADMIN, partnership_codes=None
        )
    url = engine.url.render_as_string(hide_password=False)
    app = create_app(bulk.SETTINGS.model_copy(update={"database_url": url}))
    return TestClient(app, headers={"Authorization": f"Bearer {secret}"})


def answered(response: Any) -> Any:
    if response.status_code != 200:
        raise SystemExit(f"{response.request.url}: {response.status_code} {response.text}")
    return response


def measure(url: str, requests: int, budget: float) -> dict[str, tuple[list[Any], Statements]]:
    """Times every query on the filled database at `url`."""
    engine = create_db_engine(url)
    with Session(engine) as session:
        biggest = (
            select(Partnership.code)
            .join(Case, col(Case.partnership_id) == col(Partnership.id))
            .group_by(col(Partnership.code))
            .order_by(func.count().desc())
            .limit(1)
        )
        code = session.execute(biggest).scalar_one()
        reference = session.execute(select(func.max(Case.reference))).scalar_one()
    results: dict[str, tuple[list[Any], Statements]] = {}
    with pinned([TODAY]), client_for(engine, "bench") as client:
        app: Any = client.app
        first = answered(client.get("/cases", params={"overdue": "true", "limit": 50})).json()
        for path, params in queries(code, reference, first["next_cursor"]):
            call = partial(lambda p, q: answered(client.get(p, params=q)), path, params)
            found = timed(call, engine=app.state.engine, requests=requests, budget=budget)
            results[named(path, params)] = found

    def detection(day: date = TODAY) -> Any:
        with Session(engine) as session:
            calendar, ladder, now = Calendar(), Ladder(), utcnow()
            return detect(
                session=session, calendar=calendar, ladder=ladder, as_of=day, started_at=now
            )

    once = partial(timed, engine=engine, requests=0, budget=0)
    results["alert detection (first run, every rung reached)"] = once(detection)
    if isinstance(results["alert detection (first run, every rung reached)"][0][0], str):
        with Session(engine) as session:  # as the daily runner would have: a week at a time
            earliest = select(func.min(CaseDeadline.due_on)).where(running_deadline())
            day = session.execute(earliest).scalar_one()
        while (day := day + timedelta(days=7)) < TODAY:
            try:
                detection(day)
            except Exception:  # too many rungs for one run: that week a day at a time
                for back in range(6, -1, -1):
                    detection(day - timedelta(days=back))
        results["alert detection (after weekly runs up to a week ago)"] = once(detection)
    again = timed(detection, engine=engine, requests=requests, budget=budget)
    results["alert detection (again, nothing new)"] = again
    engine.dispose()
    return results


def condensed(statement: str) -> str:
    """The statement on one line, its select list and long lists of parameters cut short."""
    one_line = " ".join(statement.split())  # a CTE's main SELECT follows its ") "
    statement = re.sub(r"(^|\) )SELECT (.*?) FROM ", r"\1SELECT ... FROM ", one_line)
    item = r"(\?|%\(\w+\)s|\((\?|%\(\w+\)s)(, (\?|%\(\w+\)s))*\))"
    return re.sub(f"({item}, ){{3,}}", "..., ", statement)


def plans(engine: Engine, statements: Statements) -> list[str]:
    """Each distinct SELECT (the API key lookup aside) and its plan."""
    lines: list[str] = []
    sqlite = engine.dialect.name == "sqlite"
    first: dict[str, Any] = {}
    for statement, parameters in statements:
        first.setdefault(statement, parameters)
    for statement, parameters in first.items():
        if not statement.lstrip().startswith(("SELECT", "WITH")) or "FROM api_key" in statement:
            continue
        connection = engine.raw_connection()
        try:
            cursor = connection.cursor()
            cursor.execute(
                ("EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN ") + statement, parameters
            )
            rows = cursor.fetchall()
        finally:
            connection.close()
        lines.append("  SQL: " + condensed(statement))
        depth: dict[int, int] = {0: 0}
        for row in rows:
            if sqlite:
                depth[row[0]] = depth.get(row[1], 0) + 1
                lines.append("    " + "  " * (depth[row[0]] - 1) + str(row[3]))
            else:
                lines.append("    " + str(row[0]))
    return lines


def counts(engine: Engine) -> str:
    with engine.connect() as connection:
        found = [
            f"{connection.execute(text(f'SELECT count(*) FROM {t}')).scalar_one():,} {t}"
            for t in TABLES
        ]
        overdue = select(func.count(func.distinct(CaseDeadline.case_id))).where(
            running_deadline(), col(CaseDeadline.due_on) < TODAY
        )
        found.append(f"{connection.execute(overdue).scalar_one():,} cases overdue on {TODAY}")
    return ", ".join(found)


def print_table(rows: list[tuple[str, int, list[Any]]]) -> None:
    width = max(len(name) for name, _, _ in rows)
    print(f"{'query':<{width}} | {'size':>9} | {'n':>3} | {'p50 ms':>9} | {'p99 ms':>9}")
    for name, size, samples in rows:
        if isinstance(samples[0], str):  # it failed
            print(f"{name:<{width}} | {size:>9,} | {0:>3} | {samples[0]}")
            continue
        ordered = sorted(samples)
        p50, p99 = statistics.median(ordered), ordered[math.ceil(len(ordered) * 0.99) - 1]
        print(f"{name:<{width}} | {size:>9,} | {len(ordered):>3} | {p50:>9.1f} | {p99:>9.1f}")


def check(database_url: str) -> int:
    """Makes one case of each of bulk.py's shapes through the API (today pinned to each
    request's day) and one with `bulk.stamp`; prints where their rows differ."""
    upgrade_database(database_url)
    engine = create_db_engine(database_url)
    (partnership_id,) = bulk.make_partnerships(engine, 1)
    day, problems, themes, driver = [TODAY], 0, ["neglect", "sudi"], engine.url.drivername
    with pinned(day), client_for(engine, bulk.ACTOR) as client:
        for number, shape in enumerate(bulk.SHAPES):
            key = bulk.keys(shape, random.Random(number), 5, driver)[0]
            reference, stamped, day[0] = f"API-{number:02d}", f"BLK-{number:02d}", key.aware_on
            body = {"partnership": "scp-000", "reference": reference, "themes": themes}
            body |= {"incident_type": shape.incident[0], "looked_after": shape.incident[1]}
            body |= {"aware_on": str(key.aware_on), "incident_on": str(key.aware_on - bulk.DAY)}
            made = client.post("/cases", json=body)
            for name, spec in shape.events:
                assert made.is_success, made.text
                sent = bulk.payload(spec, key.aware_on, reference)
                day[0] = bulk.request_day(sent, day[0])
                path = f"/cases/{made.json()['id']}/events/{name}"
                made = client.post(path, json=sent, headers={"If-Match": made.headers["ETag"]})
            assert made.is_success, made.text
            out: bulk.Rows = {name: [] for name in bulk.NAMES}
            bulk_id = bulk.stamp(key, out, partnership_id, stamped, themes, 0.5)
            with engine.begin() as connection:
                bulk.write(connection, out)
            api_id = uuid.UUID(made.json()["id"])
            problems += compare(engine, shape.name, (api_id, reference), (bulk_id, stamped))
    engine.dispose()
    return problems


def compare(engine: Engine, shape: str, *cases: tuple[uuid.UUID, str]) -> int:
    """Prints the columns in which the cases' stored rows differ, references aside; of ids
    only the type and length count, of times which of the case's changes wrote them (the
    number of history entries made before). Returns how many differ."""
    uid = bulk.codecs(engine.url.drivername)["review_case", "id"]
    mark = "?" if engine.dialect.name == "sqlite" else "%s"
    tallies, problems = [], 0
    with engine.connect() as connection:
        for table in bulk.NAMES:
            found = []
            for case_id, reference in cases:
                at = f"SELECT at FROM case_history WHERE case_id = {mark}"
                changes = [row[0] for row in connection.exec_driver_sql(at, (uid(case_id),))]
                column = "id" if table == "review_case" else "case_id"
                query = f"SELECT * FROM {table} WHERE {column} = {mark} ORDER BY 1, 2"
                rows = connection.exec_driver_sql(query, (uid(case_id),)).mappings()
                seen = [{k: _shown(k, v, changes) for k, v in row.items()} for row in rows]
                found.append(json.loads(json.dumps(seen, default=str).replace(reference, "REF")))
            tallies.append(f"{table} {len(found[0])}")
            for api, made in zip(*found, strict=False):
                for column in (c for c in api if api[c] != made[c]):
                    problems += 1
                    print(f"  {shape} {table}.{column}: API {api[column]!r}, bulk {made[column]!r}")
            if len(found[0]) != len(found[1]):
                problems += 1
                print(
                    f"  {shape} {table}: {len(found[0])} rows by the API, {len(found[1])} in bulk"
                )
    print(f"{shape:30} {'DIFFERENT' if problems else 'same'}: {', '.join(tallies)}")
    return problems


def _shown(column: str, value: Any, made: list[Any]) -> Any:
    kind = f"{type(value).__name__} {len(value) if isinstance(value, str) else ''}"
    if column in ("created_at", "updated_at", "at", "computed_at"):
        return f"{kind}, written by change {sum(earlier < value for earlier in made)}"
    return kind if column in ("id", "case_id", "public_id") else value


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--postgres", help="PostgreSQL server URL (default: SQLite)")
    parser.add_argument("--sizes", default="10000,100000", help="case counts, comma separated")
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--due", type=int, default=1_000)
    parser.add_argument("--partnerships", type=int, default=135)
    parser.add_argument("--budget", type=float, default=60.0, help="seconds per query, at most")
    parser.add_argument("--seed", type=int, default=20261130)
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    table: list[tuple[str, int, list[Any]]] = []
    largest: list[str] = []
    print(f"{os.cpu_count()} CPUs, load average (1, 5, 15 min): {os.getloadavg()}")
    with database(args.postgres) as url:
        print("bulk.py's rows against the API's, one case of each shape made both ways:")
        if check(url):
            raise SystemExit("bulk.py does not write what the service writes")
    for size in sizes:
        with database(args.postgres) as url:
            upgrade_database(url)
            started = time.perf_counter()
            generate(url, cases=size, partnerships=args.partnerships, due=args.due, seed=args.seed)
            took = time.perf_counter() - started
            engine = create_db_engine(url)
            if engine.dialect.name == "postgresql":
                with engine.connect() as connection:
                    connection.execute(text("ANALYZE"))
                    connection.commit()
            dialect = engine.dialect.name
            print(f"{dialect}: {size:,} cases generated in {took:.1f} s: {counts(engine)}")
            measured = measure(url, args.requests, args.budget)
            table += [(name, size, samples) for name, (samples, _) in measured.items()]
            print_table(table[-len(measured) :])
            print(f"load average (1, 5, 15 min) after measuring: {os.getloadavg()}", flush=True)
            if size == max(sizes):
                for name, (_, statements) in measured.items():
                    largest += [f"{name} ({size:,} cases)", *plans(engine, statements)]
            engine.dispose()
    print("\nall sizes:")
    names = list(dict.fromkeys(name for name, _, _ in table))
    print_table(sorted(table, key=lambda row: (names.index(row[0]), row[1])))
    print("\nplans at the largest size:")
    print("\n".join(largest))


if __name__ == "__main__":
    main()
