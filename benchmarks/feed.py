"""Benchmark the public feed and print figures (no pass/fail thresholds).

    python benchmarks/feed.py                                  # SQLite (a temporary file)
    python benchmarks/feed.py --postgres postgresql+psycopg://postgres@127.0.0.1:5432/test

For each size (default 10,000 and 100,000 cases), writes that many cases in bulk, spread
over `--partnerships` partnerships (default 20), with the `published_review` rows the
service keeps for the published ones: in the benchmarked partnership a fixed `--published`
listed reviews (default 200) and `--unlisted` archived ones (default 20); in the others
about one case in five published, most of them listed. Then times, through the real app
(`TestClient`, `--requests` each, default 50), `GET /public/partnerships/{code}/reviews`:
the first page (limit 50), the last page (reached by following `next_cursor`), the RSS
first page, and a revalidation of the first page with If-None-Match (a 304, which still
reads the page to hash it). Prints the plans of the feed queries, which should read
`ix_published_review_feed`, so the time follows the partnership's published reviews, not
the cases recorded.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
import uuid
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import Engine, func, insert, text
from sqlalchemy.sql import Select
from sqlmodel import col, select
from support import database  # benchmarks/support.py, beside this script

from review_engine.app import create_app
from review_engine.cases.models import Case
from review_engine.db import create_db_engine, upgrade_database, utcnow
from review_engine.pagination import decode_cursor
from review_engine.partnerships.models import Partnership
from review_engine.publishing.models import REVIEW_TYPES, PublishedReview
from review_engine.publishing.service import feed_query
from review_engine.settings import Settings

CODE = "bench"  # the partnership whose feed is read
LIMIT = 50
THEMES = ["neglect", "domestic_abuse", "mental_health", "substance_misuse", "sudden_death"]
MODES = ["full", "redacted", "improvements_only"]
FIRST_DAY = date(2012, 1, 2)
DAYS = (date(2026, 6, 30) - FIRST_DAY).days
OTHER_STATES = ["referred", "rapid_review", "awaiting_panel", "lcspr", "not_notified"]


def _review(
    rng: random.Random, case_id: uuid.UUID, partnership_id: uuid.UUID, number: int, listed: bool
) -> dict[str, Any]:
    published_on = FIRST_DAY + timedelta(days=rng.randrange(DAYS))
    return {
        "case_id": case_id,
        "public_id": uuid.uuid4(),
        "partnership_id": partnership_id,
        "listed": listed,
        "review_type": rng.choice(REVIEW_TYPES),
        "title": f"Child {number}",
        "report_url": f"https://scp.example.org/reviews/child-{number}.pdf",
        "learning_summary_url": (
            f"https://scp.example.org/reviews/child-{number}-learning" if number % 3 == 0 else None
        ),
        "publication_mode": rng.choice(MODES),
        "published_on": published_on,
        "themes": rng.sample(THEMES, rng.randint(1, 3)),
        "archived_on": None if listed else published_on + timedelta(days=rng.randint(400, 900)),
        "updated_at": utcnow(),
    }


def _fill(engine: Engine, cases: int, partnerships: int, published: int, unlisted: int) -> int:
    """`cases` cases round-robin over the partnerships (the first is `CODE`), with their
    `published_review` rows; returns how many rows that table holds."""
    rng = random.Random(20261130)
    now = utcnow()
    ids = [uuid.uuid4() for _ in range(partnerships)]
    rows_written = 0
    with engine.begin() as connection:
        connection.execute(
            insert(Partnership),
            [
                {
                    "id": partnership_id,
                    "code": CODE if index == 0 else f"other-{index:02d}",
                    "name": "Bench SCP" if index == 0 else f"Other SCP {index}",
                    "rapid_review_clock_start": "notified",
                    "contribution_due_working_days": 20,
                    "website_origins": [],
                    "created_at": now,
                }
                for index, partnership_id in enumerate(ids)
            ],
        )
        for start in range(0, cases, 5000):
            case_rows, review_rows = [], []
            for number in range(start, min(cases, start + 5000)):
                case_id = uuid.uuid4()
                partnership_id = ids[number % partnerships]
                local = number // partnerships  # its number within its partnership
                if number % partnerships == 0:
                    publish, listed = local < published + unlisted, local < published
                else:
                    publish, listed = number % 5 == 1, number % 50 != 1
                review = _review(rng, case_id, partnership_id, number, listed) if publish else None
                aware_on = date(2026, 6, 1) - timedelta(days=number % 4000)
                timeline: dict[str, Any] = {"aware_on": aware_on.isoformat()}
                if review is not None:
                    timeline.update(
                        published_on=review["published_on"].isoformat(),
                        publication_mode=review["publication_mode"],
                        publication_url=review["report_url"],
                        publication_title=review["title"],
                        learning_summary_url=review["learning_summary_url"],
                    )
                    if review["archived_on"] is not None:
                        timeline["archived_on"] = review["archived_on"].isoformat()
                    review_rows.append(review)
                case_rows.append(
                    {
                        "id": case_id,
                        "partnership_id": partnership_id,
                        "reference": f"B-{number}",
                        "incident_type": "serious_harm",
                        "aware_on": aware_on,
                        "state": (
                            ("closed" if number % 2 else "action_tracking")
                            if review is not None
                            else OTHER_STATES[number % len(OTHER_STATES)]
                        ),
                        "version": 1,
                        "themes": review["themes"] if review is not None else [],
                        "children": [],
                        "timeline": timeline,
                        "created_at": now,
                        "updated_at": now,
                    }
                )
            connection.execute(insert(Case), case_rows)
            if review_rows:
                connection.execute(insert(PublishedReview), review_rows)
            rows_written += len(review_rows)
    return rows_written


def _feed_query(partnership_id: uuid.UUID, after: tuple[date, uuid.UUID] | None) -> Any:
    """The SELECT `service.feed_page` runs."""
    return feed_query(partnership_id, after).limit(LIMIT + 1)


def _at(position: list[Any]) -> tuple[date, uuid.UUID]:
    """A feed cursor's position: the day and public id of the last review shown."""
    day, public_id = position
    return date.fromisoformat(day), uuid.UUID(public_id)


def _plan(engine: Engine, query: Select[Any]) -> str:
    compiled = query.compile(engine, compile_kwargs={"literal_binds": True})
    explain = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN "
    with engine.connect() as connection:
        rows = connection.execute(text(explain + str(compiled))).all()
    return " | ".join(str(row[-1]).strip() for row in rows)


def _timed(requests: int, call: Callable[[], Response], status: int) -> tuple[float, float]:
    """Median and p95 of `requests` calls, in ms (after one untimed warm-up call)."""
    call()
    samples = []
    for _ in range(requests):
        started = time.perf_counter()
        response = call()
        samples.append((time.perf_counter() - started) * 1000)
        if response.status_code != status:
            raise SystemExit(f"expected {status}, got {response.status_code}: {response.text}")
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]


def _measure(url: str, requests: int) -> tuple[dict[str, tuple[float, float]], str, int]:
    """Times the requests; returns the figures, the last page's cursor and how many reviews
    a walk through every page saw."""
    path = f"/public/partnerships/{CODE}/reviews"
    app = create_app(Settings(_env_file=None, database_url=url))  # type: ignore[call-arg]
    figures: dict[str, tuple[float, float]] = {}
    with TestClient(app) as client:
        first = client.get(path, params={"limit": LIMIT})
        first.raise_for_status()
        # Walk to the last page, checking the feed lists what was written.
        cursor, seen, pages, last_cursor = first.json()["next_cursor"], LIMIT, 1, ""
        while cursor is not None:
            last_cursor = cursor
            page = client.get(path, params={"limit": LIMIT, "cursor": cursor})
            page.raise_for_status()
            seen, pages = seen + len(page.json()["items"]), pages + 1
            cursor = page.json()["next_cursor"]
        etag = first.headers["ETag"]
        figures["JSON first page"] = _timed(
            requests, lambda: client.get(path, params={"limit": LIMIT}), 200
        )
        figures[f"JSON page {pages} (cursor)"] = _timed(
            requests, lambda: client.get(path, params={"limit": LIMIT, "cursor": last_cursor}), 200
        )
        figures["RSS first page"] = _timed(
            requests, lambda: client.get(f"{path}.rss", params={"limit": LIMIT}), 200
        )
        figures["JSON 304 (If-None-Match)"] = _timed(
            requests,
            lambda: client.get(path, params={"limit": LIMIT}, headers={"If-None-Match": etag}),
            304,
        )
    return figures, last_cursor, seen


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--postgres", help="PostgreSQL server URL (default: SQLite)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--partnerships", type=int, default=20)
    parser.add_argument("--published", type=int, default=200)
    parser.add_argument("--unlisted", type=int, default=20)
    parser.add_argument("--requests", type=int, default=50)
    args = parser.parse_args()
    if min(args.sizes) < args.partnerships * (args.published + args.unlisted):
        parser.error("each size needs partnerships x (published + unlisted) cases at least")
    results: dict[int, dict[str, tuple[float, float]]] = {}
    dialect = "sqlite"
    for size in args.sizes:
        with database(args.postgres) as url:
            upgrade_database(url)
            engine = create_db_engine(url)
            dialect = engine.dialect.name
            started = time.perf_counter()
            rows = _fill(engine, size, args.partnerships, args.published, args.unlisted)
            if dialect == "postgresql":
                with engine.connect() as connection:
                    connection.execute(text("ANALYZE"))
                    connection.commit()
            filled = time.perf_counter() - started
            figures, last_cursor, seen = _measure(url, args.requests)
            if seen != args.published:
                raise SystemExit(f"the feed listed {seen} reviews, not {args.published}")
            results[size] = figures
            with engine.connect() as connection:
                partnership_id = connection.execute(
                    select(Partnership.id).where(Partnership.code == CODE)
                ).scalar_one()
            print(
                f"{dialect}: {size:,} cases over {args.partnerships} partnerships, "
                f"{rows:,} published_review rows ({CODE!r}: {args.published} listed, "
                f"{args.unlisted} unlisted); filled in {filled:.1f} s; the feed walked "
                f"{seen} reviews"
            )
            print(f"  plan, first page:    {_plan(engine, _feed_query(partnership_id, None))}")
            print(
                "  plan, after cursor:  "
                f"{_plan(engine, _feed_query(partnership_id, decode_cursor(last_cursor, _at)))}"
            )
            changed = select(func.max(PublishedReview.updated_at)).where(
                col(PublishedReview.partnership_id) == partnership_id
            )
            print(f"  plan, Last-Modified: {_plan(engine, changed)}")
            engine.dispose()

    names = list(next(iter(results.values())))
    width = max(len(name) for name in names) + 2
    print(f"\n{dialect}: {args.requests} requests each, ms (median / p95)")
    print(" " * width + "".join(f"{f'{size:,} cases':>18}" for size in results))
    for name in names:
        cells = "".join(
            f"{f'{figures[name][0]:.1f} / {figures[name][1]:.1f}':>18}"
            for figures in results.values()
        )
        print(f"{name:<{width}}{cells}")


if __name__ == "__main__":
    main()
