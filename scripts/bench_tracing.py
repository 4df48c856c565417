"""Benchmark the two-degree contact trace on 1,000,000 interactions among 100,000 people in PostgreSQL.

Creates a fresh database (default can_bench_tracing on postgresql://postgres@127.0.0.1:5432), migrates it,
loads residents and volunteers and then the interactions with COPY (random pairs of people, spread evenly over
--days days, so each person has about 2 * interactions / people of them), ANALYZEs, and traces --cases random
index cases to the second degree through the app's own service (`can_crm.services.tracing.trace.trace`, with
the default window: onset - 2 days to onset + 10 days). Prints one JSON line with p50 and p95.

The graph method is two batched queries per trace (first degree, then every first-degree person at once), each
a UNION ALL of two index range scans on (a_key, occurred_at) and (b_key, occurred_at). With --compare the
script then drops those two indexes and traces the first --compare-cases cases again, to show what they buy.

    .venv/bin/python scripts/bench_tracing.py [--interactions 1000000] [--people 100000] [--days 30] [--cases 100]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def copy_rows(conn: psycopg.Connection[Any], table: str, columns: list[str], rows: Any) -> None:
    with conn.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def seed(url: str, n_people: int, n_interactions: int, days: int, rng: np.random.Generator, now: datetime) -> None:
    n_volunteers = n_people // 10
    n_residents = n_people - n_volunteers
    with psycopg.connect(url) as conn:
        copy_rows(
            conn,
            "residents",
            [
                "id",
                "name",
                "address_line1",
                "postcode",
                "preferred_channel",
                "language",
                "shielding",
                "consent_given",
                "lawful_basis",
                "created_at",
                "updated_at",
            ],  # fmt: skip
            (
                (
                    i,
                    "Bench Resident",
                    "1 Bench Street",
                    "W6 9JU",
                    "phone",
                    "English",
                    False,
                    True,
                    "public_task",
                    now,
                    now,
                )
                for i in range(1, n_residents + 1)
            ),  # fmt: skip
        )
        copy_rows(
            conn,
            "volunteers",
            [
                "id",
                "name",
                "skills",
                "home_postcode",
                "max_km",
                "capacity",
                "dbs_level",
                "availability",
                "active",
                "created_at",
                "updated_at",
            ],  # fmt: skip
            (
                (j, "Bench Volunteer", "[]", "W6 9JU", 3.0, 1, "none", "{}", True, now, now)
                for j in range(1, n_volunteers + 1)
            ),  # fmt: skip
        )
        a = rng.integers(0, n_people, n_interactions)
        b = (a + rng.integers(1, n_people, n_interactions)) % n_people  # never the same person
        offsets = rng.uniform(0, days * 86400, n_interactions)
        minutes = rng.integers(5, 120, n_interactions)
        inside = rng.random(n_interactions) < 0.3

        def person(i: int) -> tuple[int | None, int | None]:
            # people 0..n_residents-1 are residents 1..; the rest volunteers 1..
            return (i + 1, None) if i < n_residents else (None, i - n_residents + 1)

        def rows() -> Any:
            start = now - timedelta(days=days)
            for k in range(n_interactions):
                ra, va = person(int(a[k]))
                rb, vb = person(int(b[k]))
                yield (
                    ra,
                    va,
                    rb,
                    vb,
                    start + timedelta(seconds=float(offsets[k])),
                    int(minutes[k]),
                    "inside" if inside[k] else "doorstep",
                    "other",
                    now,
                )

        copy_rows(
            conn,
            "interactions",
            [
                "resident_a_id",
                "volunteer_a_id",
                "resident_b_id",
                "volunteer_b_id",
                "occurred_at",
                "duration_minutes",
                "setting",
                "kind",
                "created_at",
            ],  # fmt: skip
            rows(),
        )
        conn.commit()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.array(values), q))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--admin-url", default=os.environ.get("BENCH_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    )
    parser.add_argument("--database", default="can_bench_tracing")
    parser.add_argument("--interactions", type=int, default=1_000_000)
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=30, help="Interactions are spread over this many days")
    parser.add_argument("--cases", type=int, default=100)
    parser.add_argument("--compare", action="store_true", help="Then trace again without the (key, time) indexes")
    parser.add_argument("--compare-cases", type=int, default=10)
    parser.add_argument("--seed", type=int, default=2020)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    url = args.admin_url.rsplit("/", 1)[0] + f"/{args.database}"
    with psycopg.connect(args.admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{args.database}"')
    try:
        os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-" + "x" * 20)
        from flask_migrate import upgrade

        from can_crm import create_app
        from can_crm.extensions import db
        from can_crm.services.tracing.people import RESIDENT, VOLUNTEER, Person
        from can_crm.services.tracing.trace import Window, trace

        app = create_app(
            {
                "CAN_ENV": "test",
                "TESTING": True,
                "JOB_SWEEP_SECONDS": 0,
                "REDIS_URL": None,
                "SQLALCHEMY_DATABASE_URI": url.replace("postgresql://", "postgresql+psycopg://"),
            }
        )
        with app.app_context():
            upgrade(directory=str(ROOT / "migrations"))
        rng = np.random.default_rng(args.seed)
        now = datetime.now(UTC)
        t0 = time.perf_counter()
        seed(url, args.people, args.interactions, args.days, rng, now)
        load_s = time.perf_counter() - t0

        n_volunteers = args.people // 10
        n_residents = args.people - n_volunteers
        picks = rng.integers(0, args.people, args.cases)
        first_day = (now - timedelta(days=args.days)).date()
        onsets = [first_day + timedelta(days=int(d)) for d in rng.integers(2, max(3, args.days - 2), args.cases)]
        index_cases = [
            (Person(RESIDENT, int(p) + 1) if p < n_residents else Person(VOLUNTEER, int(p) - n_residents + 1), onset)
            for p, onset in zip(picks, onsets, strict=True)
        ]

        def run(cases: list[tuple[Person, date]]) -> tuple[list[float], list[int], list[int]]:
            times, first, second = [], [], []
            with app.app_context():
                trace(*cases[0], 2, Window())  # warm the connection pool and statement cache
                db.session.rollback()
                for person, onset in cases:
                    t = time.perf_counter()
                    contacts = trace(person, onset, 2, Window())
                    times.append((time.perf_counter() - t) * 1000)
                    first.append(sum(1 for c in contacts if c.degree == 1))
                    second.append(sum(1 for c in contacts if c.degree == 2))
                    db.session.rollback()
            return times, first, second

        times, first, second = run(index_cases)
        result: dict[str, Any] = {
            "interactions": args.interactions,
            "people": args.people,
            "days": args.days,
            "cases": args.cases,
            "load_s": round(load_s, 1),
            "p50_ms": round(statistics.median(times), 1),
            "p95_ms": round(percentile(times, 95), 1),
            "max_ms": round(max(times), 1),
            "mean_first_degree": round(statistics.mean(first), 1),
            "mean_second_degree": round(statistics.mean(second), 1),
            "max_contacts": max(f + s for f, s in zip(first, second, strict=True)),
            "method": "2 batched queries, UNION ALL of range scans on (a_key, occurred_at) and (b_key, occurred_at)",
        }
        if args.compare:
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute("DROP INDEX ix_interactions_a_key_time")
                conn.execute("DROP INDEX ix_interactions_b_key_time")
                conn.execute("ANALYZE interactions")
            slow, _, _ = run(index_cases[: args.compare_cases])
            result["without_key_time_indexes"] = {
                "cases": len(slow),
                "p50_ms": round(statistics.median(slow), 1),
                "max_ms": round(max(slow), 1),
            }
        print(json.dumps(result))
    finally:
        if not args.keep:
            with psycopg.connect(args.admin_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')


if __name__ == "__main__":
    main()
