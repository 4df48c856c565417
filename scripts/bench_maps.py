"""Benchmark the coordinator map page on a database of 100,000 requests.

Creates a fresh PostgreSQL database (default can_bench_maps on postgresql://postgres@127.0.0.1:5432), migrates
it, bulk-loads residents, volunteers and requests placed inside the real Hammersmith and Fulham boundary with
COPY, then measures through the Flask test client, signed in as a coordinator:

- cold: the first request for the map (a cache miss: the `render_heatmap` job runs, in-process here) until
  the map is served, and the render alone (load + aggregate + render + write);
- hot: p50/p95 of the map page served from cache (the data-version query and one file read).

Prints one JSON line. The database is dropped at the end (--keep to keep it).

    .venv/bin/python scripts/bench_maps.py [--requests 100000] [--residents 30000] [--runs 50]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
EMAIL = "bench.coordinator@example.gov.uk"
PASSWORD = "bench password for maps only"  # noqa: S105 - a throwaway database


def copy_rows(conn: psycopg.Connection[Any], table: str, columns: list[str], rows: Any) -> None:
    with conn.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def seed(url: str, n_requests: int, n_residents: int, n_volunteers: int, seed_no: int) -> None:
    from can_crm.models.enums import OPEN_STATUSES, RequestType, Status
    from geo.boundaries import Boundaries
    from geo.cells import h3_cells_array
    from geo.onspd_gen import random_points_in

    rng = np.random.default_rng(seed_no)
    borough = Boundaries.from_file(ROOT / "data" / "london_boroughs.geojson").geometry("E09000013")
    now = datetime.now(UTC)
    lat, lon = random_points_in(borough, n_residents + n_volunteers, rng)
    fine, coarse = h3_cells_array(lat, lon)
    with psycopg.connect(url) as conn:
        copy_rows(
            conn,
            "residents",
            [
                "id",
                "name",
                "address_line1",
                "postcode",
                "lat",
                "lon",
                "h3_fine",
                "h3_map",
                "authority_code",
                "preferred_channel",
                "language",
                "shielding",
                "consent_given",
                "lawful_basis",
                "created_at",
                "updated_at",
            ],
            (
                (
                    i + 1,
                    "Bench Resident",
                    "1 Bench Street",
                    "W6 9JU",
                    float(lat[i]),
                    float(lon[i]),
                    fine[i],
                    coarse[i],
                    "E09000013",
                    "phone",
                    "English",
                    bool(rng.random() < 0.3),
                    True,
                    "public_task",
                    now,
                    now,
                )
                for i in range(n_residents)
            ),
        )
        copy_rows(
            conn,
            "volunteers",
            [
                "id",
                "name",
                "skills",
                "home_postcode",
                "lat",
                "lon",
                "h3_fine",
                "h3_map",
                "max_km",
                "capacity",
                "dbs_level",
                "availability",
                "active",
                "created_at",
                "updated_at",
            ],
            (
                (
                    j + 1,
                    "Bench Volunteer",
                    "[]",
                    "W6 9JU",
                    float(lat[n_residents + j]),
                    float(lon[n_residents + j]),
                    fine[n_residents + j],
                    coarse[n_residents + j],
                    float(rng.integers(1, 6)),
                    int(rng.integers(1, 5)),
                    "none",
                    "{}",
                    True,
                    now,
                    now,
                )
                for j in range(n_volunteers)
            ),
        )
        statuses = [s.value for s in Status]
        open_set = {s.value for s in OPEN_STATUSES}
        types = [t.value for t in RequestType]
        residents = rng.integers(1, n_residents + 1, n_requests)
        status_pick = rng.integers(0, len(statuses), n_requests)
        type_pick = rng.integers(0, len(types), n_requests)
        age_hours = rng.uniform(1, 24 * 120, n_requests)

        def requests() -> Any:
            for i in range(n_requests):
                created = now - timedelta(hours=float(age_hours[i]))
                status = statuses[int(status_pick[i])]
                delivered = (
                    created + timedelta(hours=float(rng.uniform(1, 96)))
                    if status in ("delivered", "confirmed", "closed")
                    else None
                )
                sla = created + timedelta(hours=48)
                home = int(residents[i]) - 1  # the resident's row: its location is copied onto the request
                yield (
                    i + 1,
                    f"CAN-{i // 10000:04d}-{i % 10000:04d}",
                    int(residents[i]),
                    types[int(type_pick[i])],
                    1,
                    status,
                    "",
                    "[]",
                    "none",
                    sla,
                    "none",
                    "phone",
                    created,
                    created if status in open_set else (delivered or created),
                    delivered,
                    1,
                    coarse[home],
                    float(lat[home]),
                    float(lon[home]),
                )

        copy_rows(
            conn,
            "requests",
            [
                "id",
                "reference",
                "resident_id",
                "type",
                "urgency",
                "status",
                "details",
                "required_skills",
                "min_dbs",
                "sla_due_at",
                "recurrence",
                "channel",
                "created_at",
                "updated_at",
                "delivered_at",
                "version",
                "h3_map",
                "lat",
                "lon",
            ],
            requests(),
        )
        for table in ("residents", "volunteers", "requests"):
            conn.execute(  # table names come from the tuple above, never from input
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"  # noqa: S608
            )
        conn.commit()
        conn.execute("ANALYZE")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--admin-url", default=os.environ.get("BENCH_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    )
    parser.add_argument("--database", default="can_bench_maps")
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--residents", type=int, default=30_000)
    parser.add_argument("--volunteers", type=int, default=1_500)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--layer", default="open-requests")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    url = args.admin_url.rsplit("/", 1)[0] + f"/{args.database}"
    with psycopg.connect(args.admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{args.database}"')
    cache = tempfile.TemporaryDirectory(prefix="can-bench-maps-")
    try:
        os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-" + "x" * 20)
        from flask_migrate import upgrade

        from can_crm import create_app, unit_of_work
        from can_crm.services.accounts import users

        app = create_app(
            {
                "CAN_ENV": "test",
                "TESTING": True,
                "JOB_SWEEP_SECONDS": 0,
                "REDIS_URL": None,
                "JOBS_INLINE": True,
                "WTF_CSRF_ENABLED": False,
                "SQLALCHEMY_DATABASE_URI": url.replace("postgresql://", "postgresql+psycopg://"),
                "HEATMAP_CACHE_DIR": cache.name,
                "RATELIMIT_ENABLED": False,
            }
        )
        with app.app_context():
            upgrade(directory=str(ROOT / "migrations"))
            users.create_user(EMAIL, "Bench Coordinator", "coordinator", PASSWORD, None, None)
            unit_of_work.commit()
        t0 = time.perf_counter()
        seed(url, args.requests, args.residents, args.volunteers, 2020)
        seed_s = time.perf_counter() - t0

        client = app.test_client()
        signed_in = client.post("/auth/sign-in", data={"email": EMAIL, "password": PASSWORD})
        assert signed_in.status_code == 302, signed_in.status_code
        page = f"/coordinator/maps?layer={args.layer}"
        t0 = time.perf_counter()
        first = client.get(page)  # a miss: starts the job, which runs after the commit (JOBS_INLINE)
        second = client.get(page)
        cold_s = time.perf_counter() - t0
        assert first.status_code == 202 and second.status_code == 200, (first.status_code, second.status_code)

        from can_crm.services.maps import render as heatmaps

        with app.app_context():
            filters = heatmaps.MapFilters(args.layer, k=app.config["HEATMAP_K"])
            t0 = time.perf_counter()
            rendered = heatmaps.render_to_cache(filters)
            render_s = time.perf_counter() - t0
            t0 = time.perf_counter()
            heatmaps.load_inputs(filters)
            load_s = time.perf_counter() - t0
        timings = []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            response = client.get(page)
            timings.append((time.perf_counter() - t0) * 1000)
            assert response.status_code == 200
        timings.sort()
        page_bytes = len(second.data)
        print(
            json.dumps(
                {
                    "requests": args.requests,
                    "residents": args.residents,
                    "volunteers": args.volunteers,
                    "layer": args.layer,
                    "seed_s": round(seed_s, 2),
                    "cold_page_s": round(cold_s, 3),
                    "render_s": round(render_s, 3),
                    "load_s": round(load_s, 3),
                    "cells": rendered.cells,
                    "points": rendered.points,
                    "page_bytes": page_bytes,
                    "cached_p50_ms": round(statistics.median(timings), 2),
                    "cached_p95_ms": round(timings[max(0, int(len(timings) * 0.95) - 1)], 2),
                    "cached_max_ms": round(timings[-1], 2),
                    "runs": args.runs,
                }
            )
        )
        with app.app_context():
            from can_crm.extensions import db

            db.engine.dispose()
    finally:
        cache.cleanup()
        if not args.keep:
            with psycopg.connect(args.admin_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')


if __name__ == "__main__":
    main()
