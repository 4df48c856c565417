"""Volunteer benchmark: "Offered to me", "My tasks" and "Nearby" beside the machine's ceiling, in one run.

What it does:
1. creates a fresh PostgreSQL database (`can_bench_volunteer`), runs the migrations, and seeds 100,000 requests with
   their residents and history by COPY (scripts/bench_web.py's seed: residents with their H3 cells, each request
   with a copy of its resident's location), then adds volunteers by COPY up to 20,000, all vetted, with cells;
2. opens shopping and dog walking for self-service and signs one volunteer in, with a few offers and tasks;
3. serves the real app under gunicorn and, with the same settings, the bare 20-row ceiling app;
4. loads each page at 16 concurrent connections in interleaved rounds (bench_web's load generator);
5. prints req/s, p50, p95 and the ratio to the ceiling per page, the goal verdict (each >= 30% of the ceiling
   with p95 < 150 ms), and the EXPLAIN (ANALYZE) of the Nearby query; then drops the database.

    .venv/bin/python scripts/bench_volunteer.py [--requests 100000] [--volunteers 20000] [--seconds 15]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import bench_web as bw  # noqa: E402 - the shared benchmark machinery, importable once the path is set

PAGES = {"offers": "/volunteer/", "tasks": "/volunteer/tasks", "nearby": "/volunteer/nearby"}
# What marks one row on each page: the form that acts on it.
ROW_MARKERS = {"offers": b'/accept"', "tasks": b'/progress"', "nearby": b'/claim"'}
SELF_SERVICE = ("shopping", "dog_walking")
EMAIL = "bench.volunteer@example.org"


def add_cells_and_volunteers(database_url: str, index: Path, total: int, rng: random.Random) -> None:
    """Volunteers up to `total`, all vetted, with their H3 cells (bench_web's seed places residents and copies
    their location onto their requests, as the app does; its volunteers have no cells)."""
    import psycopg

    from geo.cells import h3_cells

    places = bw._postcodes(index)
    now = datetime.now(UTC)
    with psycopg.connect(database_url) as conn, conn.cursor() as cur:
        existing = cur.execute("SELECT count(*), coalesce(max(id), 0) FROM volunteers").fetchone()
        assert existing is not None
        count, top = existing
        with cur.copy(
            "COPY volunteers (id, name, phone, skills, home_postcode, lat, lon, max_km, capacity, dbs_level,"
            " availability, active, status, identity_checked, created_at, updated_at) FROM STDIN"
        ) as copy:
            for vid in range(top + 1, top + 1 + max(0, total - count)):
                pc, lat, lon, _, _ = rng.choice(places)
                copy.write_row(
                    (
                        vid,
                        "Bench Volunteer",
                        f"+447700{vid % 1_000_000:06d}",
                        json.dumps(["shopping"]),
                        pc,
                        lat,
                        lon,
                        rng.choice([2.0, 3.0, 5.0]),
                        rng.randint(1, 4),
                        "basic",
                        json.dumps({}),
                        True,
                        "active",
                        True,
                        now,
                        now,
                    )
                )
        cur.execute("SELECT setval(pg_get_serial_sequence('volunteers', 'id'), (SELECT max(id) FROM volunteers))")
        cur.execute("UPDATE volunteers SET status = 'active', identity_checked = true")
        vrows = cur.execute("SELECT id, lat, lon FROM volunteers WHERE h3_fine IS NULL AND lat IS NOT NULL").fetchall()
        cur.execute("CREATE TEMP TABLE vcells (id int PRIMARY KEY, fine text, map text)")
        with cur.copy("COPY vcells (id, fine, map) FROM STDIN") as copy:
            for vid, lat, lon in vrows:
                copy.write_row((vid, *h3_cells(lat, lon)))
        cur.execute("UPDATE volunteers v SET h3_fine = c.fine, h3_map = c.map FROM vcells c WHERE c.id = v.id")
        for kind in SELF_SERVICE:
            cur.execute("INSERT INTO self_service_types (type, opened_at) VALUES (%s, now())", (kind,))
        conn.commit()
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


def make_bench_volunteer(env: dict[str, str]) -> dict[str, Any]:
    """A volunteer account linked to the seeded volunteer with the most open work; the Nearby EXPLAIN."""
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        from sqlalchemy import func, select, text

        from can_crm import create_app, unit_of_work
        from can_crm.extensions import db
        from can_crm.models.request import HelpRequest
        from can_crm.models.volunteer import Volunteer
        from can_crm.services.accounts import users
        from can_crm.services.volunteers import nearby

        app = create_app()
        with app.app_context():
            busiest = db.session.execute(
                select(HelpRequest.volunteer_id, func.count())
                .where(HelpRequest.status.in_(["matched", "accepted", "in_progress"]))
                .group_by(HelpRequest.volunteer_id)
                .order_by(func.count().desc(), HelpRequest.volunteer_id)
                .limit(1)
            ).one()
            volunteer = db.session.get(Volunteer, busiest[0])
            user = users.create_user(EMAIL, "Bench Volunteer", "volunteer", bw.PASSWORD)
            volunteer.user_id = user.id
            volunteer.max_km = 5.0
            # Room for more: at their own limit a volunteer's Nearby shows why, not the list this measures.
            volunteer.capacity = busiest[1] + 5
            volunteer.max_per_day = None
            unit_of_work.commit()
            counts = dict(
                db.session.execute(
                    select(HelpRequest.status, func.count())
                    .where(HelpRequest.volunteer_id == volunteer.id)
                    .group_by(HelpRequest.status)
                ).all()
            )
            query = nearby.nearby_query(volunteer, list(SELF_SERVICE), nearby.first_read())
            sql = str(query.compile(db.engine, compile_kwargs={"literal_binds": True}))
            plan = db.session.execute(text("EXPLAIN (ANALYZE, BUFFERS) " + sql)).scalars().all()
            pool = db.session.scalar(
                select(func.count()).where(
                    HelpRequest.status == "triaged",
                    HelpRequest.volunteer_id.is_(None),
                    HelpRequest.type.in_(SELF_SERVICE),
                )
            )
            return {
                "volunteer_id": volunteer.id,
                "counts": counts,
                "plan": plan,
                "pool": pool,
            }
    finally:
        os.environ.clear()
        os.environ.update(saved)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    cores = os.cpu_count() or 1
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--volunteers", type=int, default=20_000)
    parser.add_argument("--workers", type=int, default=2 * cores + 1)
    parser.add_argument("--worker-class", default="sync", choices=["sync", "gthread"])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=15.0, help="time limit per target (over all rounds)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--max-requests", type=int, default=20_000)
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--first-warmup", type=float, default=5.0, help="as bench_web's: steady state, not start-up")
    parser.add_argument("--database", default="can_bench_volunteer")
    parser.add_argument("--keep-database", action="store_true")
    parser.add_argument("--seed", type=int, default=2020)
    bw.add_ceiling_check(parser)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    rng = random.Random(args.seed)
    run = bw.Run()
    workdir = Path(tempfile.mkdtemp(prefix="can-bench-volunteer-"))
    try:
        database_url = bw.create_database(args.database)
        bw.log(f"database {args.database} created; logs in {workdir}")
        index = bw.postcode_index(workdir)
        env = bw.app_environment(database_url, index, secrets.token_urlsafe(48))
        bw.migrate_and_make_accounts(env)
        bw.seed(database_url, index, args.requests, rng)
        add_cells_and_volunteers(database_url, index, args.volunteers, rng)
        found = make_bench_volunteer(env)
        bw.log(f"volunteer #{found['volunteer_id']}: {found['counts']}; self-service pool {found['pool']} requests")
        app_server = bw.start_gunicorn("app", "wsgi:app", env, args, workdir, "/healthz")
        ceiling = bw.start_gunicorn("ceiling", bw.ceiling_target(args), env, args, workdir, "/rows")
        run.servers += [app_server, ceiling]
        cookie = bw.sign_in(app_server.port, EMAIL)
        targets = {"ceiling": bw.Target("ceiling", ceiling.port, "GET", "/rows")}
        for name, path in PAGES.items():
            targets[name] = bw.Target(name, app_server.port, "GET", path, {"Cookie": cookie})
        for name, target in targets.items():
            status, _, body = bw.call(target.port, target.method, target.path, None, target.headers)
            if status != 200:
                raise SystemExit(f"{name}: GET {target.path} answered {status}: {body[:300]!r}")
            if name in ROW_MARKERS:
                shown = body.count(ROW_MARKERS[name])
                bw.log(f"{name}: {shown} rows, {len(body)} bytes")
                if shown == 0:
                    raise SystemExit(f"{name}: GET {target.path} lists nothing, so its cost would not be measured")
        servers = {server.port: server.process.pid for server in (app_server, ceiling)}
        results = bw.run_rounds(targets, args, servers)
        report(results, args, found)
    finally:
        run.stop()
        if not args.keep_database:
            bw.drop_database(args.database)
            bw.log(f"database {args.database} dropped")
    return 0


# Issue 8: each volunteer page at least 30% of the ceiling's throughput, p95 under bench_web's 150 ms.
GOAL_RATIO = 0.30


def report(results: dict[str, bw.Result], args: argparse.Namespace, found: dict[str, Any]) -> None:
    ceiling = results["ceiling"]
    summary: dict[str, Any] = {
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "cores": os.cpu_count(),
        "concurrency": args.concurrency,
        "workers": args.workers,
        "ceiling_check": args.ceiling_check,
        "seeded_requests": args.requests,
        "volunteers": args.volunteers,
        "results": {},
    }
    print(bw.table_header())
    met = True
    for name, r in results.items():
        entry = bw.result_entry(r, ceiling)
        summary["results"][name] = entry
        if name != "ceiling":
            met = met and entry["ratio_to_ceiling"] >= GOAL_RATIO and entry["p95_ms"] < bw.GOAL_P95_MS
            met = met and r.errors == 0
        print(bw.table_row(name, entry))
    summary["goal_met"] = met
    verdict = "MET" if met else "MISSED"
    print(f"\ngoal (each page >= {GOAL_RATIO:.0%} of ceiling, p95 < {bw.GOAL_P95_MS:.0f} ms, no errors): {verdict}")
    print("\nEXPLAIN (ANALYZE, BUFFERS) of the Nearby query:")
    for line in found["plan"]:
        print("  " + line)
    print(json.dumps(summary, separators=(",", ":")))


if __name__ == "__main__":
    sys.exit(main())
