"""Web benchmark: the coordinator queue, a request page and the intake API beside the machine's ceiling.

What it does, in one run:
1. creates a fresh PostgreSQL database (`can_bench` by default) and runs the migrations there;
2. seeds 100,000 requests with their residents, volunteers and event history by COPY (not the ORM);
3. serves the real app under gunicorn on 127.0.0.1, and beside it, with the same gunicorn settings,
   a bare Flask app whose one endpoint reads 20 rows from the same database (the machine's ceiling);
4. loads each target from loopback at 16 concurrent connections (threads + http.client; kept alive where the
   worker class keeps them, while gunicorn's sync workers close each one after its response), in
   interleaved rounds, each after an unmeasured warm-up (5 s before a target's first round, 1 s before the
   others: a running server's steady state, not its workers' start-up), bounded by a request count and a time
   limit, and reads from /proc the CPU the app's workers, PostgreSQL and the load generator used meanwhile;
   a signed-in target sends the session cookie the app set last, as a browser does (`Target.keep_cookie`);
5. prints requests/s, p50 and p95 for each target, the ratio of its throughput to the ceiling's and its CPU
   milliseconds per request in the app, PostgreSQL and the load generator (where the time goes),
   as a table and as one JSON line; then drops the database.

Targets: `queue` (one URL, so mostly served by the page cache), `queue_uncached` (a different filter or page
on every call, so every call renders), `request_page` (a different open request on every call).
Goals: the cached queue at >= 30% of the ceiling's throughput; the uncached queue and the request page at
>= 25%; each with p95 under 150 ms.

    .venv/bin/python scripts/bench_web.py [--requests 100000] [--workers 5] [--concurrency 16] [--seconds 10]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pyotp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ADMIN_URL = os.environ.get("BENCH_ADMIN_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
PASSWORD = "bench-password-not-secret-1234"  # noqa: S105 - a throwaway account in a throwaway database
COORDINATOR_EMAIL = "bench.coordinator@example.gov.uk"
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"  # noqa: S105 - the same throwaway account's second factor
USER_AGENT = "can-bench/1.0"
# The cached queue (identical URL) from the CRM core issue; the uncached queue and the request page from the
# "pages, not the cache" goal: each page rendered for real must still reach a quarter of the ceiling.
GOALS = {"queue": 0.30, "queue_uncached": 0.25, "request_page": 0.25}
GOAL_P95_MS = 150.0

# A plausible borough-scale spread: most history is finished, about one request in seven is open.
STATUS_WEIGHTS = {
    "new": 3.0,
    "triaged": 4.0,
    "matched": 2.0,
    "accepted": 2.0,
    "in_progress": 1.0,
    "delivered": 2.0,
    "escalated": 0.5,
    "confirmed": 30.0,
    "closed": 40.0,
    "cancelled": 8.0,
    "unable_to_fulfil": 5.0,
    "handed_off": 2.5,
}
HAPPY_PATH = ["new", "triaged", "matched", "accepted", "in_progress", "delivered"]
PATHS = {
    **{s: HAPPY_PATH[: i + 1] for i, s in enumerate(HAPPY_PATH)},
    "confirmed": [*HAPPY_PATH, "confirmed"],
    "closed": [*HAPPY_PATH, "closed"],
    "escalated": ["new", "escalated"],
    "cancelled": ["new", "triaged", "cancelled"],
    "unable_to_fulfil": ["new", "triaged", "unable_to_fulfil"],
    "handed_off": ["new", "handed_off"],
}
OPEN = {"new", "triaged", "matched", "accepted", "in_progress", "delivered", "escalated"}
SLA_HOURS = {
    "food_parcel": 24,
    "prescription": 24,
    "shopping": 48,
    "transport": 48,
    "dog_walking": 48,
    "befriending": 72,
    "other": 72,
}
CHANNELS = ["web", "phone", "partner", "councillor", "campaign", "api"]
FIRST = ["Margaret", "John", "Aisha", "Tomasz", "Fatima", "David", "Mary", "Olu", "Priya", "George", "Hana", "Sean"]
LAST = ["Okafor", "Smith", "Khan", "Nowak", "Ali", "Jones", "Murphy", "Adeyemi", "Patel", "Brown", "Abdi", "Walsh"]
STREETS = ["Fulham Palace Road", "King Street", "Rylett Road", "Uxbridge Road", "North End Road", "Askew Road"]
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


# -- database ---------------------------------------------------------------------------------------------


def sqlalchemy_url(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


def create_database(name: str) -> str:
    import psycopg

    if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
        raise SystemExit(f"database name must be lower-case letters, digits and _: {name!r}")
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


def drop_database(name: str) -> None:
    import psycopg

    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def postcode_index(workdir: Path) -> Path:
    """The postcode directory `make install` builds, or a small one generated here from real boundaries."""
    installed = ROOT / "instance" / "postcodes.npz"
    if installed.is_file():
        return installed
    from geo.boundaries import Boundaries
    from geo.directory import import_onspd
    from geo.onspd_gen import make_onspd

    boundaries = Boundaries.from_file(ROOT / "data" / "london_boroughs.geojson")
    csv_path = workdir / "onspd.csv"
    make_onspd(boundaries, csv_path, per_borough=400, seed=2020, codes=["E09000013"])
    index = workdir / "postcodes.npz"
    import_onspd(csv_path, index)
    return index


def app_environment(database_url: str, index: Path, secret: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        CAN_ENV="production",
        DATABASE_URL=database_url,
        SECRET_KEY=secret,
        SESSION_COOKIE_SECURE="false",  # plain HTTP on loopback
        POSTCODE_INDEX=str(index),
        PYTHONPATH=os.pathsep.join([str(ROOT), str(ROOT / "scripts")]),
    )
    env.pop("REDIS_URL", None)
    return env


def migrate_and_make_accounts(env: dict[str, str]) -> str:
    """Run the migrations in the new database; create a coordinator and a bearer token. Returns the token."""
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        from flask_migrate import upgrade

        from can_crm import create_app, unit_of_work
        from can_crm.services.accounts import two_factor, users

        app = create_app()
        with app.app_context():
            upgrade(directory=str(ROOT / "migrations"))
            coordinator = users.create_user(COORDINATOR_EMAIL, "Bench Coordinator", "coordinator", PASSWORD)
            two_factor.enrol_known_secret(coordinator, TOTP_SECRET)
            api_user = users.create_user("bench.api@example.gov.uk", "Bench Integration", "coordinator", PASSWORD)
            unit_of_work.commit()
            _, token = users.issue_token(api_user, "benchmark")
            unit_of_work.commit()
        return token
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _postcodes(index: Path) -> list[tuple[str, float, float, str | None, str | None]]:
    from geo.directory import PostcodeDirectory

    directory = PostcodeDirectory.load(index)
    found = []
    for pc in sorted(directory):
        record = directory.geocode(pc)
        found.append((pc, record.lat, record.lon, record.ward_gss or None, record.authority_gss or None))
        if len(found) >= 2000:
            break
    return found


def _reference(rng: random.Random, seen: set[str]) -> str:
    while True:
        chars = "".join(rng.choice(ALPHABET) for _ in range(8))
        ref = f"CAN-{chars[:4]}-{chars[4:]}"
        if ref not in seen:
            seen.add(ref)
            return ref


def seed(database_url: str, index: Path, n_requests: int, rng: random.Random) -> dict[str, Any]:
    """Bulk-load residents, volunteers, requests and their events with COPY. Returns what the load needs."""
    import psycopg

    from geo.cells import h3_cells

    now = datetime.now(UTC)
    places = _postcodes(index)
    n_residents = max(1, n_requests * 2 // 5)
    n_volunteers = max(1, n_requests // 50)
    started = time.perf_counter()
    cells = {pc: h3_cells(lat, lon) for pc, lat, lon, _, _ in places}
    # Each resident's place by id: a request carries a copy of its resident's location (migration 0014).
    homes: list[tuple[str, float, float, str | None, str | None]] = [places[0]]
    with psycopg.connect(database_url) as conn, conn.cursor() as cur:
        coordinator_id = cur.execute("SELECT min(id) FROM users").fetchone()[0]  # type: ignore[index]
        with cur.copy(
            "COPY residents (id, name, address_line1, town, postcode, lat, lon, ward_code, authority_code, phone,"
            " preferred_channel, language, shielding, consent_given, lawful_basis, created_at, updated_at,"
            " h3_fine, h3_map) FROM STDIN"
        ) as copy:
            for rid in range(1, n_residents + 1):
                pc, lat, lon, ward, authority = rng.choice(places)
                homes.append((pc, lat, lon, ward, authority))
                created = now - timedelta(days=rng.uniform(0, 365))
                copy.write_row(
                    (
                        rid,
                        f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                        f"{rng.randint(1, 240)} {rng.choice(STREETS)}",
                        "London",
                        pc,
                        lat,
                        lon,
                        ward,
                        authority,
                        f"+447911{rid % 1_000_000:06d}",
                        rng.choice(["phone", "phone", "sms", "email", "letter"]),
                        "English",
                        rng.random() < 0.4,
                        True,
                        "consent",
                        created,
                        created,
                        *cells[pc],
                    )
                )
        with cur.copy(
            "COPY volunteers (id, name, phone, skills, home_postcode, lat, lon, max_km, capacity, dbs_level,"
            " availability, active, status, identity_checked, created_at, updated_at) FROM STDIN"
        ) as copy:
            # Most are vetted (a council's volunteers are, once the first weeks are over): the request page's
            # drop-down lists the nearest of them, as a coordinator sees it.
            for vid in range(1, n_volunteers + 1):
                pc, lat, lon, _, _ = rng.choice(places)
                skills = json.dumps(
                    sorted(
                        rng.sample(
                            [
                                "driving",
                                "shopping",
                                "befriending",
                                "dog_walking",
                                "pharmacy_collection",
                                "heavy_lifting",
                            ],
                            2,
                        )
                    )
                )
                copy.write_row(
                    (
                        vid,
                        f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                        f"+447911{(vid + 500_000) % 1_000_000:06d}",
                        skills,
                        pc,
                        lat,
                        lon,
                        rng.choice([2.0, 3.0, 5.0, 8.0]),
                        rng.randint(1, 4),
                        rng.choice(["none", "basic", "standard", "enhanced"]),
                        json.dumps({"mon": ["am", "pm"]}),
                        rng.random() < 0.9,
                        "pending" if vid % 7 == 0 else "active",  # by id: the seed's random stream is unchanged
                        True,
                        now,
                        now,
                    )
                )
        statuses = list(STATUS_WEIGHTS)
        weights = list(STATUS_WEIGHTS.values())
        types = list(SLA_HOURS)
        seen: set[str] = set()
        open_refs: list[str] = []
        event_rows: list[tuple[Any, ...]] = []
        with cur.copy(
            "COPY requests (id, reference, resident_id, type, urgency, status, details, required_skills, min_dbs,"
            " due_by, sla_due_at, recurrence, channel, raised_by_id, volunteer_id, created_at, updated_at,"
            " delivered_at, closed_at, version, h3_map, lat, lon) FROM STDIN"
        ) as copy:
            for qid in range(1, n_requests + 1):
                status = rng.choices(statuses, weights)[0]
                rtype = rng.choice(types)
                # Open requests are recent; finished ones spread over the year.
                age = timedelta(hours=rng.uniform(0, 240)) if status in OPEN else timedelta(days=rng.uniform(3, 365))
                created = now - age
                due_by = (created + timedelta(days=rng.randint(1, 7))).date() if rng.random() < 0.3 else None
                sla = created + timedelta(hours=SLA_HOURS[rtype])
                path = PATHS[status]
                has_volunteer = "matched" in path
                delivered = created + timedelta(hours=len(path) * 3) if "delivered" in path else None
                closed = (
                    created + timedelta(hours=len(path) * 4)
                    if status in {"closed", "cancelled", "unable_to_fulfil", "handed_off"}
                    else None
                )
                ref = _reference(rng, seen)
                if status in OPEN:
                    open_refs.append(ref)
                resident_id = rng.randint(1, n_residents)
                home_pc, home_lat, home_lon, _, _ = homes[resident_id]
                copy.write_row(
                    (
                        qid,
                        ref,
                        resident_id,
                        rtype,
                        rng.choice([1, 1, 2, 2, 3]),
                        status,
                        "Synthetic request for the benchmark",
                        json.dumps([]),
                        "none",
                        due_by,
                        sla,
                        "none",
                        rng.choice(CHANNELS),
                        coordinator_id if rng.random() < 0.3 else None,
                        rng.randint(1, n_volunteers) if has_volunteer else None,
                        created,
                        created,
                        delivered,
                        closed,
                        len(path),
                        cells[home_pc][1],
                        home_lat,
                        home_lon,
                    )
                )
                previous = None
                for step, to_status in enumerate(path):
                    event_rows.append(
                        (
                            qid,
                            "created" if step == 0 else "transition",
                            previous,
                            to_status,
                            None,
                            coordinator_id if step else None,
                            "coordinator" if step else "resident",
                            created + timedelta(hours=step * 3),
                        )
                    )
                    previous = to_status
        with cur.copy(
            "COPY request_events (request_id, kind, from_status, to_status, reason, actor_id, actor_role,"
            " created_at) FROM STDIN"
        ) as copy:
            for row in event_rows:
                copy.write_row(row)
        for table in ("residents", "volunteers", "requests"):
            cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")  # noqa: S608 - fixed table names
        conn.commit()
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    log(
        f"seeded {n_residents} residents, {n_volunteers} volunteers, {n_requests} requests, "
        f"{len(event_rows)} events ({len(open_refs)} open) in {time.perf_counter() - started:.1f} s"
    )
    return {"open_refs": open_refs, "postcode": places[0][0]}


def reuse(env: dict[str, str], database_url: str) -> tuple[str, dict[str, Any]]:
    """A database a previous `--keep-database` run left: a fresh token, and its open requests."""
    import psycopg

    saved = dict(os.environ)
    os.environ.update(env)
    try:
        from can_crm import create_app, unit_of_work
        from can_crm.models.user import User
        from can_crm.services.accounts import users

        app = create_app()
        with app.app_context():
            from sqlalchemy import select

            from can_crm.extensions import db

            api_user = db.session.scalar(select(User).where(User.email == "bench.api@example.gov.uk"))
            _, token = users.issue_token(api_user, "benchmark")
            unit_of_work.commit()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    with psycopg.connect(database_url) as conn:
        refs = [
            r[0]
            for r in conn.execute(
                "SELECT reference FROM requests WHERE status IN ('new', 'triaged', 'matched', 'accepted',"
                " 'in_progress', 'delivered', 'escalated') ORDER BY id"
            )
        ]
        postcode = conn.execute("SELECT postcode FROM residents ORDER BY id LIMIT 1").fetchone()[0]  # type: ignore[index]
    return token, {"open_refs": refs, "postcode": postcode}


# -- the ceiling: a bare Flask app reading 20 rows, served by the same gunicorn settings --------------------


def make_ceiling_app(check: str = "pre_ping") -> Any:
    """`gunicorn 'bench_web:make_ceiling_app()'`: one endpoint, 20 rows, through SQLAlchemy's pool and psycopg as
    the app reads its own. Its pool checks each connection at checkout as SQLAlchemy documents for a bare app
    (`pool_pre_ping`: a `SELECT 1`, then psycopg's BEGIN). The app polls the connection's socket instead, one round
    trip fewer (can_crm.extensions.check_on_checkout); `check="poll"` (`--ceiling-check poll`) gives the ceiling
    that too, to see how much of a page's ratio that round trip is."""
    from flask import Flask, jsonify
    from sqlalchemy import create_engine, text

    url = sqlalchemy_url(os.environ["DATABASE_URL"])
    if check == "poll":
        from can_crm.extensions import check_on_checkout

        engine = create_engine(url, pool_size=10)
        check_on_checkout(engine)
    else:
        engine = create_engine(url, pool_pre_ping=True, pool_size=10)
    app = Flask("ceiling")
    query = text("SELECT id, reference, status, type, urgency FROM requests ORDER BY id LIMIT 20")

    @app.get("/rows")
    def rows() -> Any:
        with engine.connect() as conn:
            return jsonify([dict(r._mapping) for r in conn.execute(query)])

    return app


def ceiling_target(args: argparse.Namespace) -> str:
    """The ceiling's gunicorn target for `--ceiling-check`."""
    return f"bench_web:make_ceiling_app({args.ceiling_check!r})"


def add_ceiling_check(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--ceiling-check",
        choices=["pre_ping", "poll"],
        default="pre_ping",
        help="how the ceiling's pool checks a connection at checkout: SQLAlchemy's pool_pre_ping, as a bare app has"
        " it (default), or the app's own check, a poll of the socket",
    )


# -- gunicorn ----------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_gunicorn(
    name: str, target: str, env: dict[str, str], args: argparse.Namespace, workdir: Path, ready_path: str
) -> Server:
    port = free_port()
    log_path = workdir / f"gunicorn-{name}.log"
    cmd = [
        str(Path(sys.executable).with_name("gunicorn")),
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(args.workers),
        "--worker-class",
        args.worker_class,
        "--threads",
        str(args.threads),
        "--keep-alive",
        "5",
        "--backlog",
        "256",
        "--log-level",
        "warning",
        "--chdir",
        str(ROOT),
        target,
    ]
    with open(log_path, "wb") as out:
        process = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)  # noqa: S603
    server = Server(name, port, process, log_path)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn ({name}) exited: see {log_path}\n{log_path.read_text()[-3000:]}")
        try:
            # The master accepts connections before its workers have imported the app: wait for an answer.
            status, _, _ = call(port, "GET", ready_path, timeout=5)
            if status < 500:
                return server
        except OSError:
            pass
        time.sleep(0.5)
    server.stop()
    raise SystemExit(f"gunicorn ({name}) did not start in 180 s: see {log_path}")


# -- HTTP helpers and the load generator ------------------------------------------------------------------


def call(
    port: int,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 60,
) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers={"User-Agent": USER_AGENT, **(headers or {})})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def cookie_pair(set_cookie: str) -> str:
    """The `name=value` of a Set-Cookie header, its attributes dropped: what a browser sends back."""
    return set_cookie.split(";", 1)[0].strip()


def sign_in(port: int, email: str = COORDINATOR_EMAIL) -> str:
    """Sign a benchmark account in through the real form (CSRF and all; staff give their second factor too);
    returns the Cookie header. The coordinator by default; bench_volunteer signs its volunteer in."""
    status, headers, body = call(port, "GET", "/auth/sign-in")
    if status != 200:
        raise SystemExit(f"GET /auth/sign-in answered {status}")
    cookie = cookie_pair(headers.get("set-cookie", ""))
    match = re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"', body) or re.search(
        rb'name="csrf_token"[^>]*value="([^"]+)"', body
    )
    form = {"email": email, "password": PASSWORD}
    if match:
        form["csrf_token"] = match.group(1).decode()
    status, headers, body = call(
        port,
        "POST",
        "/auth/sign-in",
        urlencode(form).encode(),
        {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie},
    )
    if status != 302:
        raise SystemExit(f"sign-in failed with {status}: {body[:300]!r}")
    cookie = cookie_pair(headers.get("set-cookie", "")) or cookie
    if "/auth/two-factor" in headers.get("location", ""):
        # Staff give their second factor: the page's CSRF token, then the current TOTP code.
        status, headers, body = call(port, "GET", "/auth/two-factor", None, {"Cookie": cookie})
        cookie = cookie_pair(headers.get("set-cookie", "")) or cookie
        match = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', body)
        for _ in range(2):  # a code works once: if this run's coordinator used it already, the next one
            code = {"code": pyotp.TOTP(TOTP_SECRET).now(), "csrf_token": match.group(1).decode() if match else ""}
            status, headers, body = call(
                port,
                "POST",
                "/auth/two-factor",
                urlencode(code).encode(),
                {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie},
            )
            if b"used already" not in body:
                break
            time.sleep(30 - time.time() % 30 + 0.5)
        if status != 302:
            raise SystemExit(f"second factor refused with {status}: {body[:300]!r}")
    return cookie_pair(headers.get("set-cookie", "")) or cookie


@dataclass
class Target:
    name: str
    port: int
    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    expect: tuple[int, ...] = (200,)
    # When set, each call takes the next path of this cycle instead of `path` (a page no cache can serve).
    paths: list[str] | None = None
    _next: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def keep_cookie(self, set_cookie: list[str]) -> None:
        """Store a cookie a response sets in place of the one of that name sent, as a browser does. The app moves a
        session's idle clock at most once a minute (can_crm.auth.sessions); a client that never stored the new cookie
        would make every later request rewrite it, a cost no browser's requests carry."""
        sent = self.headers.get("Cookie")
        if not sent or not set_cookie:
            return
        jar: dict[str, str] = {}
        for pair in sent.split(";"):
            name, _, value = pair.strip().partition("=")
            jar[name] = value
        kept = dict(jar)
        for header in set_cookie:
            name, equals, value = cookie_pair(header).partition("=")
            if equals and name in kept:
                kept[name] = value
        if kept != jar:
            # A new dict, swapped in whole: the other connections read `headers` without the lock.
            self.headers = {**self.headers, "Cookie": "; ".join(f"{name}={value}" for name, value in kept.items())}

    def next_path(self) -> str:
        if not self.paths:
            return self.path
        with self._lock:
            path = self.paths[self._next % len(self.paths)]
            self._next += 1
        return path


@dataclass
class Result:
    name: str
    count: int
    errors: int
    seconds: float
    latencies_ms: list[float]
    statuses: dict[int, int]
    # CPU seconds spent while measuring: the app's gunicorn (master and workers), PostgreSQL, this load generator.
    cpu: dict[str, float] = field(default_factory=dict)
    # Requests a second in each interleaved round (one load, one round; `merge` keeps them in order).
    round_rps: list[float] = field(default_factory=list)

    def merge(self, other: Result) -> Result:
        statuses = dict(self.statuses)
        for k, v in other.statuses.items():
            statuses[k] = statuses.get(k, 0) + v
        return Result(
            self.name,
            self.count + other.count,
            self.errors + other.errors,
            self.seconds + other.seconds,
            self.latencies_ms + other.latencies_ms,
            statuses,
            {k: self.cpu.get(k, 0.0) + other.cpu.get(k, 0.0) for k in {*self.cpu, *other.cpu}},
            self.round_rps + other.round_rps,
        )

    @property
    def rps(self) -> float:
        return self.count / self.seconds if self.seconds else 0.0

    def percentile(self, q: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(server_pid: int | None) -> dict[str, float]:
    """CPU seconds so far (user + system, from /proc) of the server's process tree, of PostgreSQL's processes
    and of this process: what each request costs, and where, beside the throughput."""
    app = pg = 0.0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        comm = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        used = (int(fields[11]) + int(fields[12])) / TICKS
        if server_pid is not None and (int(entry) == server_pid or int(fields[1]) == server_pid):
            app += used
        elif comm.startswith("postgres"):
            pg += used
    return {"app": app, "postgres": pg, "client": time.process_time()}


def load(
    target: Target, concurrency: int, seconds: float, max_requests: int, warmup: float, server_pid: int | None = None
) -> Result:
    """`concurrency` threads, each with one connection (reopened when the server closes it), until the time or the
    count runs out."""
    lock = threading.Lock()
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    errors = 0
    issued = 0
    measuring = threading.Event()
    stop = threading.Event()

    def worker() -> None:
        nonlocal errors, issued
        conn = http.client.HTTPConnection("127.0.0.1", target.port, timeout=30)
        mine: list[float] = []
        my_statuses: dict[int, int] = {}
        my_errors = 0
        while not stop.is_set():
            if measuring.is_set():
                with lock:
                    if issued >= max_requests:
                        break
                    issued += 1
            begin = time.perf_counter()
            try:
                headers = {"User-Agent": USER_AGENT, **target.headers}
                conn.request(target.method, target.next_path(), body=target.body, headers=headers)
                response = conn.getresponse()
                response.read()
                status = response.status
                target.keep_cookie(response.msg.get_all("Set-Cookie") or [])
            except (OSError, http.client.HTTPException):
                conn.close()  # http.client reconnects on the next request
                status = 0
            elapsed = (time.perf_counter() - begin) * 1000
            if measuring.is_set():
                mine.append(elapsed)
                my_statuses[status] = my_statuses.get(status, 0) + 1
                if status not in target.expect:
                    my_errors += 1
        conn.close()
        with lock:
            latencies.extend(mine)
            errors += my_errors
            for k, v in my_statuses.items():
                statuses[k] = statuses.get(k, 0) + v

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    for t in threads:
        t.start()
    time.sleep(warmup)
    cpu_before = cpu_seconds(server_pid)
    measuring.set()
    begin = time.perf_counter()
    deadline = begin + seconds
    while time.perf_counter() < deadline and any(t.is_alive() for t in threads):
        time.sleep(0.05)
    elapsed = time.perf_counter() - begin
    stop.set()
    cpu_after = cpu_seconds(server_pid)
    for t in threads:
        t.join(timeout=35)
    cpu = {k: cpu_after[k] - cpu_before[k] for k in cpu_before}
    result = Result(target.name, len(latencies), errors, elapsed, latencies, statuses, cpu)
    result.round_rps.append(result.rps)  # this load is one round
    return result


def queue_paths(rng: random.Random) -> list[str]:
    """Every filter a coordinator might set, on its first five pages, shuffled: thousands of distinct URLs.

    Taken in a cycle far longer than a worker's page cache (256 pages, least recently used first out), so no
    call is ever served from the cache: each one renders the page.
    """
    statuses = ["open", "all", *STATUS_WEIGHTS]
    types = ["", *SLA_HOURS]
    urgencies = ["", "1", "2", "3"]
    paths = []
    for status in statuses:
        for rtype in types:
            for urgency in urgencies:
                for overdue in ("", "true"):
                    for page in range(1, 6):
                        query = {"status": status, "type": rtype, "urgency": urgency, "overdue": overdue}
                        query = {k: v for k, v in query.items() if v}
                        paths.append(f"/coordinator/?{urlencode({**query, 'page': page})}")
    rng.shuffle(paths)
    return paths


def api_available(port: int, token: str) -> bool:
    status, _, _ = call(port, "GET", "/api/v1/openapi.json")
    if status == 404:
        return False
    status, _, _ = call(
        port,
        "POST",
        "/api/v1/requests",
        b"{}",
        {"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    return status not in (404, 405)


# -- main -------------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    cores = os.cpu_count() or 1
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--requests", type=int, default=100_000, help="requests to seed")
    parser.add_argument("--workers", type=int, default=2 * cores + 1, help="gunicorn workers (default 2*cores+1)")
    parser.add_argument("--worker-class", default="sync", choices=["sync", "gthread"])
    parser.add_argument("--threads", type=int, default=1, help="threads per worker (gthread)")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=15.0, help="time limit per target (over all rounds)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds per target")
    parser.add_argument("--max-requests", type=int, default=20_000, help="request limit per target")
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds of unmeasured load before each round")
    parser.add_argument(
        "--first-warmup",
        type=float,
        default=5.0,
        help="unmeasured load before a target's first round: every worker compiles its templates and fills its"
        " caches once, as a server that has been running has (steady state, not start-up)",
    )
    parser.add_argument("--database", default="can_bench")
    parser.add_argument("--keep-database", action="store_true", help="do not drop the database at the end")
    parser.add_argument(
        "--reuse-database",
        action="store_true",
        help="load a database a --keep-database run left (no seeding); keeps it",
    )
    parser.add_argument(
        "--only", nargs="*", choices=["ceiling", "queue", "queue_uncached", "request_page", "api_create"]
    )
    parser.add_argument("--seed", type=int, default=2020)
    add_ceiling_check(parser)
    return parser.parse_args(argv)


@dataclass
class Run:
    servers: list[Server] = field(default_factory=list)

    def stop(self) -> None:
        for server in self.servers:
            server.stop()


def api_body(postcode: str, rng: random.Random) -> Iterator[bytes]:
    while True:
        yield json.dumps(
            {
                "resident": {
                    "name": "Bench Resident",
                    "address": "1 King Street",
                    "postcode": postcode,
                    "phone": "07911 123456",
                    "preferred_channel": "phone",
                },
                "type": "shopping",
                "urgency": rng.choice([1, 2, 3]),
                "details": "Weekly shop",
            }
        ).encode()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    rng = random.Random(args.seed)
    run = Run()
    workdir = Path(tempfile.mkdtemp(prefix="can-bench-"))
    try:
        if args.reuse_database:
            database_url = ADMIN_URL.rsplit("/", 1)[0] + f"/{args.database}"
            index = postcode_index(workdir)
            env = app_environment(database_url, index, secrets.token_urlsafe(48))
            token, seeded = reuse(env, database_url)
            log(f"reusing database {args.database} ({len(seeded['open_refs'])} open requests)")
        else:
            database_url = create_database(args.database)
            log(f"database {args.database} created; logs in {workdir}")
            index = postcode_index(workdir)
            env = app_environment(database_url, index, secrets.token_urlsafe(48))
            token = migrate_and_make_accounts(env)
            seeded = seed(database_url, index, args.requests, rng)

        app_server = start_gunicorn("app", "wsgi:app", env, args, workdir, "/healthz")
        ceiling_server = start_gunicorn("ceiling", ceiling_target(args), env, args, workdir, "/rows")
        run.servers += [app_server, ceiling_server]
        cookie = sign_in(app_server.port)
        reference = rng.choice(seeded["open_refs"])
        targets = {
            "ceiling": Target("ceiling", ceiling_server.port, "GET", "/rows"),
            "queue": Target("queue", app_server.port, "GET", "/coordinator/", {"Cookie": cookie}),
            "queue_uncached": Target(
                "queue_uncached", app_server.port, "GET", "/coordinator/", {"Cookie": cookie}, paths=queue_paths(rng)
            ),
            "request_page": Target(
                "request_page",
                app_server.port,
                "GET",
                f"/coordinator/requests/{reference}",
                {"Cookie": cookie},
                # A different open request on each call, as a coordinator working down the queue.
                paths=[
                    f"/coordinator/requests/{ref}"
                    for ref in rng.sample(seeded["open_refs"], k=min(2000, len(seeded["open_refs"])))
                ],
            ),
        }
        skipped: dict[str, str] = {}
        if api_available(app_server.port, token):
            targets["api_create"] = Target(
                "api_create",
                app_server.port,
                "POST",
                "/api/v1/requests",
                {"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
                next(api_body(seeded["postcode"], rng)),
                expect=(201,),
            )
        else:
            skipped["api_create"] = "POST /api/v1/requests is not there yet (404/405): skipped"
            log(skipped["api_create"])
        for name, target in targets.items():
            status, _, body = call(target.port, target.method, target.path, target.body, target.headers)
            if status not in target.expect:
                raise SystemExit(f"{name}: {target.method} {target.path} answered {status}: {body[:300]!r}")
        servers = {server.port: server.process.pid for server in (app_server, ceiling_server)}
        chosen = {n: t for n, t in targets.items() if not args.only or n in args.only or n == "ceiling"}
        results = run_rounds(chosen, args, servers)
        report(results, skipped, args)
    finally:
        run.stop()
        if not (args.keep_database or args.reuse_database):
            drop_database(args.database)
            log(f"database {args.database} dropped")
    return 0


def run_rounds(targets: dict[str, Target], args: argparse.Namespace, servers: dict[int, int]) -> dict[str, Result]:
    """Load each target in turn, `args.rounds` times over (`servers` maps a port to its gunicorn master's pid).

    Interleaved rounds: on a shared machine, load from other processes then falls on every target alike, so the
    ratios to the ceiling stay meaningful even when the absolute figures move.
    """
    results: dict[str, Result] = {}
    for round_no in range(1, args.rounds + 1):
        for name, target in targets.items():
            where = f"{len(target.paths)} different URLs in turn" if target.paths else target.path
            log(f"round {round_no}/{args.rounds}: {name} ({target.method} {where}) at {args.concurrency} connections")
            part = load(
                target,
                args.concurrency,
                args.seconds / args.rounds,
                args.max_requests // args.rounds,
                args.first_warmup if round_no == 1 else args.warmup,
                servers[target.port],
            )
            results[name] = results[name].merge(part) if name in results else part
    return results


def result_entry(r: Result, ceiling: Result) -> dict[str, Any]:
    """The figures of one target; its ratio to the ceiling over the whole run and in each round (this machine's
    speed moves from one minute to the next: the spread of the rounds shows how far to trust the whole)."""
    ceiling_rps = ceiling.rps or float("nan")
    return {
        "requests": r.count,
        "errors": r.errors,
        "rps": round(r.rps, 1),
        "p50_ms": round(r.percentile(50), 1),
        "p95_ms": round(r.percentile(95), 1),
        "ratio_to_ceiling": round(r.rps / ceiling_rps, 3),
        "ratio_by_round": [round(a / b, 3) if b else None for a, b in zip(r.round_rps, ceiling.round_rps, strict=True)],
        "statuses": {str(k): v for k, v in sorted(r.statuses.items())},
        # Requests finishing just after the window make these a little high; fine for where the time goes.
        "cpu_ms_per_request": {k: round(1000 * v / r.count, 2) for k, v in r.cpu.items()} if r.count else {},
    }


def table_header() -> str:
    return (
        f"\n{'target':<14} {'requests':>9} {'errors':>7} {'req/s':>9} {'p50 ms':>8} {'p95 ms':>8} {'ratio':>7}"
        f"   CPU ms per request: {'app':>5} {'postgres':>8} {'client':>6}   ratio by round"
    )


def table_row(name: str, entry: dict[str, Any]) -> str:
    cpu = entry["cpu_ms_per_request"]
    return (
        f"{name:<14} {entry['requests']:>9} {entry['errors']:>7} {entry['rps']:>9.1f} {entry['p50_ms']:>8.1f} "
        f"{entry['p95_ms']:>8.1f} {entry['ratio_to_ceiling']:>7.2f}"
        f"{'':>23}{cpu.get('app', 0):>5.2f} {cpu.get('postgres', 0):>8.2f} {cpu.get('client', 0):>6.2f}   "
        + " ".join("-" if x is None else f"{x:.2f}" for x in entry["ratio_by_round"])
    )


def report(results: dict[str, Result], skipped: dict[str, str], args: argparse.Namespace) -> None:
    ceiling = results["ceiling"]
    rows = []
    summary: dict[str, Any] = {
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "cores": os.cpu_count(),
        "concurrency": args.concurrency,
        "workers": args.workers,
        "ceiling_check": args.ceiling_check,
        "worker_class": args.worker_class,
        "threads": args.threads,
        "seeded_requests": args.requests,
        "results": {},
        "skipped": skipped,
    }
    print(table_header())
    for name, r in results.items():
        entry = result_entry(r, ceiling)
        summary["results"][name] = entry
        rows.append(entry)
        print(table_row(name, entry))
    for name, why in skipped.items():
        print(f"{name:<14} skipped: {why}")
    summary["goals"] = {}
    for name, minimum in GOALS.items():
        if name not in summary["results"]:
            continue
        r = summary["results"][name]
        met = r["ratio_to_ceiling"] >= minimum and r["p95_ms"] < GOAL_P95_MS and r["errors"] == 0
        summary["goals"][name] = {"ratio_min": minimum, "p95_max_ms": GOAL_P95_MS, "met": met}
        print(
            f"goal ({name} >= {minimum:.0%} of ceiling, p95 < {GOAL_P95_MS:.0f} ms, no errors): "
            f"{'MET' if met else 'MISSED'}"
        )
    print(json.dumps(summary, separators=(",", ":")))


if __name__ == "__main__":
    sys.exit(main())
