"""Write cases in bulk exactly as the service would write them (for the list benchmarks).

    python benchmarks/bulk.py --url sqlite:///bench.db --cases 100000 [--partnerships 135]
    python benchmarks/bulk.py --url postgresql+psycopg://postgres@127.0.0.1:5432/bench --due 1000

`generate` spreads `cases` over `partnerships` (made by the service, `scp-000` the largest)
in the `SHAPES`: most finished long ago (closed, withdrawn, published), their history
piled up, a minority running, and exactly `due` with a deadline overdue on `TODAY`. Each
shape, on a sample of days of awareness, goes once through the engine's own code as the
service makes each change, on the day the change records: `workflow.fire`, then
`deadlines.evaluate` and `store`, `store_publication` and `record_history` on a stand-in
session. Its rows, encoded by SQLAlchemy's bind processors, are the template each case
of that shape and day is stamped from, with its own id, reference, themes and times
(change v made at 08:00 on its day plus 10 minutes a version; every row carries the time
of the change that last wrote it). A transaction per chunk of cases: executemany, or COPY
on PostgreSQL. The CLI migrates the database first and prints the time taken.
benchmarks/lists.py checks these rows against the API's before it measures (`check`).
"""

from __future__ import annotations

import argparse
import builtins
import json
import random
import re
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from functools import cache, partial
from typing import Any
from unittest import mock

from sqlalchemy import JSON, Connection, Engine, event
from sqlalchemy.engine import make_url
from sqlmodel import Session, SQLModel

from review_engine import deadline_context, workflow
from review_engine.auth.models import Principal, Role
from review_engine.cases.changes import record_history
from review_engine.cases.deadlines import evaluate, has_overdue, store
from review_engine.cases.models import Case, CaseDeadline, CaseHistoryEntry
from review_engine.db import create_db_engine, upgrade_database
from review_engine.partnerships.schemas import PartnershipCreate
from review_engine.partnerships.service import create_partnership
from review_engine.publishing.index import store_publication
from review_engine.publishing.models import PublishedReview
from review_engine.settings import Settings
from review_engine.timeline import CaseTimeline, IncidentFacts

TODAY = date(2026, 11, 30)  # the benchmark's today (a Monday): pin the app to it
ACTOR = "caseworker"  # the API key name the history records
THEMES = ["neglect", "domestic_abuse", "mental_health", "substance_misuse", "sudi", "online"]
PH = "zzref"  # stands for the case's reference in publication titles and addresses
CHUNK = 2000
DAY, SECOND = timedelta(days=1), timedelta(seconds=1)
MACROS = {
    "PUB": f"url=https://scp.example.org/reviews/{PH}.pdf title=Child-{PH}",
    "RR": "notify_panel notified_on=2; inform_partners partners_informed_on=3",
    "AGREED": "submit_rapid_review submitted_on=17 recommendation=lcspr; "
    "record_panel_response received_on=30 outcome=agreed",
    "COPIES": "approve_final_report approved_on=150 planned_publication_on=200; "
    "send_advance_copies sent_on=170",
    "PAUSE": "pause started_on=60 reason=criminal-trial panel_informed_on=61",
    "NOT": "decide_not_to_notify decided_on=4 reason=criteria-not-met",
}
# name, weight, aware_on between `oldest` and `newest` days before TODAY, whether overdue on
# TODAY (and otherwise not): events `name field=value ...` (numbers: days after aware_on).
SHAPES_TABLE = """
no_review_closed 30 5400 91 - {RR}; submit_rapid_review submitted_on=16
  recommendation=no_further_review; record_panel_response received_on=29 outcome=agreed;
  close closed_on=90
lcspr_published_closed 15 5400 421 - {RR}; {AGREED}; {COPIES}; publish published_on=200
  mode=full {PUB}; close closed_on=420
lcspr_published_tracking 5 5400 201 - {RR}; {AGREED}; {COPIES}; publish published_on=200
  mode=full {PUB}
lcspr_paused_withheld_closed 3 5400 401 - {RR}; {AGREED}; {PAUSE}; resume resumed_on=150;
  approve_final_report approved_on=260 planned_publication_on=300; withhold_publication
  reason=trial panel_informed_on=280; close closed_on=400
not_notified_closed 20 5400 41 - {NOT}; close closed_on=40
learning_review_closed 10 5400 251 - {NOT}; start_learning_review started_on=20;
  complete_learning_review completed_on=160 published_on=170 mode=redacted {PUB};
  close closed_on=250
challenged_learning_closed 4 5400 261 - {RR}; submit_rapid_review submitted_on=17
  recommendation=learning_review; record_panel_response received_on=31 outcome=challenged;
  submit_rapid_review submitted_on=45 recommendation=learning_review; record_panel_response
  received_on=60 outcome=agreed; complete_learning_review completed_on=200; close closed_on=260
national_review_closed 2 5400 401 - {RR}; submit_rapid_review submitted_on=17
  recommendation=national_review; record_panel_response received_on=30 outcome=national_review;
  complete_national_review completed_on=330 published_on=340 {PUB}; close closed_on=400
withdrawn 5 5400 13 - {RR}; withdraw withdrawn_on=12 reason=not-notifiable
death_no_rapid_review 3 5400 3 - notify_panel notified_on=2 rapid_review_required=false
referred 1 7 0 -
rapid_review 2 18 3 - {RR}
awaiting_panel 2 90 17 - {RR}; submit_rapid_review submitted_on=17 recommendation=lcspr
lcspr 4 200 30 - {RR}; {AGREED}
lcspr_paused 1 500 61 - {RR}; {AGREED}; {PAUSE}
pre_publication 1 200 171 - {RR}; {AGREED}; {COPIES}
referred_late 2 60 9 due
rapid_review_late 5 120 25 due {RR}
lcspr_late 3 700 220 due {RR}; {AGREED}
"""


@dataclass(frozen=True)
class Shape:
    """A path through the workflow (a line of `SHAPES_TABLE`)."""

    name: str
    weight: int
    window: tuple[int, int]  # aware_on: oldest and newest, in days before TODAY
    due: bool
    events: list[tuple[str, dict[str, Any]]]

    @property
    def incident(self) -> tuple[str, bool | None]:  # the case's incident_type, looked_after
        return ("death", True) if self.name.startswith("death") else ("serious_harm", None)


def _value(text: str) -> Any:
    return int(text) if text.isdigit() else {"true": True, "false": False}.get(text, text)


def _shape(line: str) -> Shape:
    name, weight, oldest, newest, due, *path = line.format(**MACROS).split(maxsplit=5)
    steps = [step.split() for step in "".join(path).split(";") if step.strip()]
    events = [(e, {k: _value(v) for k, v in (f.split("=", 1) for f in fs)}) for e, *fs in steps]
    return Shape(name, int(weight), (int(oldest), int(newest)), due == "due", events)


SHAPES = [_shape(line) for line in re.split(r"\n(?! )", SHAPES_TABLE.strip())]
SETTINGS = Settings(_env_file=None)  # type: ignore[call-arg]
CONTEXT = replace(deadline_context.clock_context(SETTINGS), today=TODAY)
NAMES = ("review_case", "case_theme", "case_deadline", "case_history", "published_review")
PUBLIC = ("title", "report_url", "learning_summary_url")  # PH stands for the reference
OWN = {  # the columns each case sets itself, first in its rows
    "review_case": ("id", "partnership_id", "reference", "themes", "incident_on")
    + ("created_at", "updated_at", "timeline"),
    "case_theme": ("case_id", "theme"),
    "case_deadline": ("case_id", "computed_at"),
    "case_history": ("case_id", "at", "details"),
    "published_review": ("case_id", "public_id", "partnership_id", "themes", "updated_at") + PUBLIC,
}
REST = {  # the columns every case of a key shares (its template), after them
    name: [c.name for c in SQLModel.metadata.tables[name].c if c.name not in (*OWN[name], "id")]
    for name in NAMES
}
Rows = dict[str, list[tuple[Any, ...]]]  # by table name: OWN then REST columns


def pinned(day: list[date]) -> Any:
    """The app's today is `day[0]` while it is used (the tests pin it the same way)."""
    return mock.patch.object(deadline_context, "today_in", side_effect=lambda _: day[0])


@cache
def codecs(driver: str) -> dict[tuple[str, str], Any]:
    """Each column's encoding as `driver` stores it: SQLAlchemy's bind processor (for COPY
    on PostgreSQL, JSON as SQLAlchemy's JSON type encodes it, the rest as it is)."""
    dialect, copy = make_url(f"{driver}://").get_dialect()(), driver.startswith("postgresql")
    found = {}
    for name in NAMES:
        for column in SQLModel.metadata.tables[name].c:
            processor = column.type.dialect_impl(dialect).bind_processor(dialect)
            if copy:
                processor = json.dumps if isinstance(column.type, JSON) else None
            found[name, column.name] = processor or (lambda value: value)
    return found


class _Session:
    """Stands in for the service's Session on one case's rows: keeps those its row builders
    add, and gives back, changes and deletes them as they ask."""

    def __init__(self) -> None:
        self.added: list[Any] = []

    def execute(self, statement: Any) -> None:  # a DELETE of the case's rows of a table
        self.added = [row for row in self.added if row.__tablename__ != statement.table.name]

    def exec(self, statement: Any) -> list[Any]:  # a SELECT of the case's rows of a model
        return self.rows(statement.column_descriptions[0]["entity"])

    def get(self, model: type[SQLModel], key: Any) -> Any:
        return next(iter(self.rows(model)), None)

    def add(self, row: SQLModel) -> None:
        self.added += [] if any(row is old for old in self.added) else [row]

    def delete(self, row: SQLModel) -> None:
        self.added = [old for old in self.added if old is not row]

    def rows(self, model: type[SQLModel]) -> list[Any]:
        return [row for row in self.added if isinstance(row, model)]


@dataclass
class Key:
    """What the service writes for a shape and a day of awareness, encoded for `driver`,
    less what each case sets itself (OWN): the template its cases are stamped from."""

    shape: Shape
    aware_on: date
    driver: str
    days: list[date]  # the day each version was made
    overdue: bool  # on TODAY
    timeline: str
    case: tuple[Any, ...]
    history: list[tuple[str, tuple[Any, ...]]]  # details, the rest
    deadlines: list[tuple[int, tuple[Any, ...]]]  # the version that wrote it, the rest
    review: list[tuple[int, tuple[str | None, ...], tuple[Any, ...]]]  # version, PUBLIC, rest


def payload(spec: dict[str, Any], aware_on: date, reference: str = PH) -> dict[str, Any]:
    """An event's request body: day numbers as dates, the reference in place of PH."""
    days = {k: str(aware_on + timedelta(days=v)) for k, v in spec.items() if type(v) is int}
    named = {k: v.replace(PH, reference) if isinstance(v, str) else v for k, v in spec.items()}
    return named | days


def request_day(sent: dict[str, Any], after: date) -> date:
    """The day a change is made: the latest date it records (a plan is not one)."""
    dated = (v for k, v in sent.items() if k.endswith("_on") and k != "planned_publication_on")
    return max([after, *map(date.fromisoformat, dated)])


def compute(shape: Shape, aware_on: date, driver: str) -> Key:
    """Takes the shape through the workflow and the service's row builders, as the service
    makes each change (`create_case`, `stage_change`) on the day it records."""
    kind, looked_after = shape.incident
    timeline = CaseTimeline.model_validate({"aware_on": aware_on})
    case = Case(incident_type=kind, aware_on=aware_on, looked_after=looked_after)
    case.timeline, rows = timeline.model_dump(mode="json"), _Session()
    principal = Principal(ACTOR, Role.ADMIN, None)
    record = partial(record_history, session=rows, case=case, principal=principal)
    incident = IncidentFacts.model_validate({"incident_type": kind, "looked_after": looked_after})
    fire = partial(workflow.fire, calendar=CONTEXT.calendar, incident=incident)
    days, written = [aware_on], {}  # row -> its timestamp object, the version that set it
    for version, (name, spec) in enumerate([("create", {}), *shape.events]):
        if version:
            sent = payload(spec, aware_on)
            days.append(request_day(sent, days[-1]))
            done = fire(state=case.state, timeline=timeline, event=name, payload=sent)
            timeline, case.state, case.version = done.timeline, done.target, case.version + 1
            case.timeline = timeline.model_dump(mode="json")
        context = replace(CONTEXT, today=days[-1])
        store(
            session=rows, case=case, deadlines=evaluate(timeline, context=context, as_of=days[-1])
        )  # type: ignore[arg-type]
        if version:
            store_publication(session=rows, case=case)  # type: ignore[arg-type]
            record(action="event", event=name, from_state=done.source, details=done.recorded)
        else:
            record(action="create", from_state=None)
        for row in rows.rows(CaseDeadline) + rows.rows(PublishedReview):
            stamp = getattr(row, "computed_at", None) or row.updated_at
            if id(row) not in written or written[id(row)][1] is not stamp:
                written[id(row)] = (row, stamp, version)
    assert days[-1] <= TODAY, (shape.name, aware_on)
    codec = codecs(driver)

    def encoded(table: str, row: Any) -> tuple[Any, ...]:
        return tuple(codec[table, name](getattr(row, name)) for name in REST[table])

    details, history = codec["case_history", "details"], rows.rows(CaseHistoryEntry)
    templates = (
        [(details(row.details), encoded("case_history", row)) for row in history],
        [(written[id(row)][2], encoded("case_deadline", row)) for row in rows.rows(CaseDeadline)],
        [(written[id(row)][2], tuple(getattr(row, n) for n in PUBLIC),
          encoded("published_review", row)) for row in rows.rows(PublishedReview)],
    )  # fmt: skip
    overdue = has_overdue(evaluate(timeline, context=CONTEXT, as_of=TODAY))
    rows_of_case = (codec["review_case", "timeline"](case.timeline), encoded("review_case", case))
    return Key(shape, aware_on, driver, days, overdue, *rows_of_case, *templates)


def keys(shape: Shape, rng: random.Random, count: int, driver: str, pool: Any = None) -> list[Key]:
    """Up to `count` keys, on days of the shape's window when the case is overdue on TODAY
    exactly if the shape says so."""
    oldest, newest = shape.window
    days = sorted(rng.sample(range(newest, oldest + 1), min(count, oldest + 1 - newest)))
    aware = [TODAY - timedelta(days=d) for d in reversed(days)]
    found = (pool or builtins).map(partial(compute, shape, driver=driver), aware)
    if not (fitting := [key for key in found if key.overdue == shape.due]):
        raise SystemExit(f"shape {shape.name}: no day of its window fits")
    return fitting


def stamp(
    key: Key, out: Rows, owner: uuid.UUID, reference: str, themes: list[str], jitter: float
) -> uuid.UUID:
    """Adds one case's rows to `out` (incident the day before awareness); returns its id.
    Version v was made at 08:00 on its day, plus 10 minutes a version and `jitter` s."""
    codec, case_id = codecs(key.driver), uuid.uuid4()
    uid, when = codec["review_case", "id"], codec["review_case", "created_at"]
    row_id, partnership, tags = uid(case_id), uid(owner), codec["review_case", "themes"](themes)
    at = [
        when(datetime(d.year, d.month, d.day, 8, tzinfo=UTC) + (600 * v + jitter) * SECOND)
        for v, d in enumerate(key.days)
    ]
    incident = codec["review_case", "incident_on"](key.aware_on - DAY)
    timeline = key.timeline.replace(PH, reference)
    out["review_case"].append(
        (row_id, partnership, reference, tags, incident, at[0], at[-1], timeline, *key.case)
    )
    out["case_theme"].extend((row_id, theme) for theme in themes)
    kind = key.shape.incident[0]
    created = codec["case_history", "details"]({"reference": reference, "incident_type": kind})
    for v, (details, rest) in enumerate(key.history):
        out["case_history"].append(
            (row_id, at[v], details.replace(PH, reference) if v else created, *rest)
        )
    out["case_deadline"].extend((row_id, at[v], *rest) for v, rest in key.deadlines)
    for v, public, rest in key.review:
        named = (value.replace(PH, reference) if value else value for value in public)
        out["published_review"].append(
            (row_id, uid(uuid.uuid4()), partnership, tags, at[v], *named, *rest)
        )
    return case_id


def write(connection: Connection, out: Rows) -> None:
    """One chunk's rows, in the caller's transaction: executemany, or COPY on PostgreSQL."""
    for table, rows in ((table, rows) for table, rows in out.items() if rows):
        names = ", ".join((*OWN[table], *REST[table]))
        if connection.dialect.name == "postgresql":
            cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
            with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join("?" * len(rows[0]))
            statement = f"INSERT INTO {table} ({names}) VALUES ({marks})"
            connection.exec_driver_sql(statement, rows)  # type: ignore[arg-type]


def make_partnerships(engine: Engine, count: int) -> list[uuid.UUID]:
    """`count` partnerships, made by the service: scp-000, scp-001, ..."""
    made = []
    with Session(engine) as session:
        for n in range(count):
            data = PartnershipCreate(code=f"scp-{n:03d}", name=f"Partnership {n}")
            made.append(create_partnership(session=session, data=data).id)
    return made


def generate(database_url: str, *, cases: int, partnerships: int, due: int, seed: int) -> None:
    """Fills a migrated, empty database (see the module docstring)."""
    rng = random.Random(seed)
    engine = create_db_engine(database_url)
    driver = engine.url.drivername
    if engine.dialect.name == "sqlite":  # a loader's settings, after the app's own
        loading = "PRAGMA synchronous = OFF; PRAGMA cache_size = -262144"
        event.listen(engine, "connect", lambda connection, _: connection.executescript(loading))
    ids = make_partnerships(engine, partnerships)
    per_shape = min(100, max(20, cases // 2000))  # days of awareness a shape is made on
    with ProcessPoolExecutor() as pool:  # ~10 ms a key: the workflow is slow to build
        pools = {s.name: keys(s, rng, per_shape, driver, pool) for s in SHAPES}
    due_shapes, others = [s for s in SHAPES if s.due], [s for s in SHAPES if not s.due]
    shapes = rng.choices(due_shapes, [s.weight for s in due_shapes], k=due)
    shapes += rng.choices(others, [s.weight for s in others], k=cases - due)
    sizes = [1 / (n + 1) ** 0.5 for n in range(partnerships)]  # scp-000 the largest
    owners = rng.choices(range(partnerships), sizes, k=cases)
    plan = [
        (rng.choice(pools[s.name]), rng.random() * 600, o)
        for s, o in zip(shapes, owners, strict=True)
    ]
    plan.sort(key=lambda item: (item[0].aware_on, item[1]))  # written as they were made
    for start in range(0, cases, CHUNK):
        out: Rows = {name: [] for name in NAMES}
        for number, (key, jitter, owner) in enumerate(plan[start : start + CHUNK], start):
            themes = rng.sample(THEMES, rng.randint(0, 3))
            stamp(key, out, ids[owner], f"C{number:07d}", themes, jitter)
        with engine.begin() as connection:
            write(connection, out)
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", required=True, help="the database to migrate and fill")
    for name, default in (("cases", 10_000), ("partnerships", 135), ("due", 1_000)):
        parser.add_argument(f"--{name}", type=int, default=default)
    parser.add_argument("--seed", type=int, default=20261130)
    args = parser.parse_args()
    upgrade_database(args.url)
    started = time.perf_counter()
    generate(args.url, **{k: getattr(args, k) for k in ("cases", "partnerships", "due", "seed")})
    print(f"{args.cases:,} cases in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
