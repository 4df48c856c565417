"""Benchmark handoff between two local instances: Hammersmith and Fulham hands 10,000 requests to Kensington and
Chelsea in one bulk run, over HTTP, signatures checked on arrival.

Makes two fresh PostgreSQL databases (can_bench_handoff_hf, can_bench_handoff_kc), migrates both, gives each its own
Ed25519 key and registers each as the other's partner. Seeds H&F with 10,000 requests (COPY) for residents living in
K&C. Serves K&C with gunicorn in a subprocess (its own processes, as in production). Then, timed end to end:

- H&F hands all of them off in one action (`sending.hand_off`: each request signed into a bundle, moved to handed_off,
  and queued), and its push jobs (in-process) deliver the bundles to K&C's inbox, which checks schema, sender,
  receiver and signature and creates each request; the acknowledgements come back and H&F records them;
- until every handoff is acknowledged.

Checks that K&C created exactly one request per bundle and that both data-sharing logs hold one row per handoff, then
prints the time and the rate. The databases are dropped at the end (--keep to keep them).

    .venv/bin/python scripts/bench_handoff.py [--requests 10000] [--workers 2] [--threads 8]
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
HF = ("E09000013", "Hammersmith and Fulham")
KC = ("E09000020", "Kensington and Chelsea")
AGREEMENT = "ISA-BENCH-1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def recreate(admin_url: str, name: str) -> str:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return admin_url.rsplit("/", 1)[0] + f"/{name}"


def drop(admin_url: str, name: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def postcodes_in(index: Path, gss: str, count: int) -> list[str]:
    from geo.directory import PostcodeDirectory

    directory = PostcodeDirectory.load(index)
    found = [pc for pc in sorted(directory) if directory.geocode(pc).authority_gss == gss]
    return found[:count]


def seed(url: str, n: int, postcodes: list[str]) -> list[str]:
    """n residents living in K&C, each with one triaged request on H&F's books, and its history. Returns references."""
    from can_crm.services.requests.references import new_reference

    now = datetime.now(UTC)
    references: set[str] = set()
    while len(references) < n:
        references.add(new_reference())
    ordered = sorted(references)
    types = ["food_parcel", "shopping", "prescription", "befriending", "transport", "dog_walking", "other"]
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        with cur.copy(
            "COPY residents (id, name, address_line1, town, postcode, authority_code, phone, email, preferred_channel,"
            " language, accessibility_needs, vulnerabilities, shielding, consent_given, lawful_basis, created_at,"
            " updated_at) FROM STDIN"
        ) as copy:
            for i in range(n):
                copy.write_row(
                    (
                        i + 1,
                        f"Resident {chr(65 + i % 26)}{chr(97 + (i // 26) % 26)} Bench",
                        f"{i % 200 + 1} Nevern Square",
                        "London",
                        postcodes[i % len(postcodes)],
                        KC[0],
                        "+447911123456",
                        f"resident{i}@example.org",
                        "phone",
                        "English",
                        "Step-free access" if i % 3 == 0 else None,
                        "Lives alone" if i % 4 == 0 else None,
                        i % 2 == 0,
                        True,
                        "public_task",
                        now,
                        now,
                    )
                )
        with cur.copy(
            "COPY requests (id, reference, resident_id, type, urgency, status, details, required_skills, min_dbs,"
            " due_by, sla_due_at, recurrence, channel, created_at, updated_at, version) FROM STDIN"
        ) as copy:
            for i, reference in enumerate(ordered):
                copy.write_row(
                    (
                        i + 1,
                        reference,
                        i + 1,
                        types[i % len(types)],
                        i % 3 + 1,
                        "triaged",
                        f"Help needed, case {i}",
                        '["shopping"]' if i % 5 == 0 else "[]",
                        "none",
                        (now + timedelta(days=3)).date() if i % 2 else None,
                        now + timedelta(hours=48),
                        "none",
                        "phone",
                        now,
                        now,
                        1,
                    )
                )
        with cur.copy(
            "COPY request_events (request_id, kind, from_status, to_status, reason, actor_role, created_at) FROM STDIN"
        ) as copy:
            for i in range(n):
                copy.write_row((i + 1, "created", None, "new", "Received by phone", "coordinator", now))
                copy.write_row((i + 1, "transition", "new", "triaged", "Triaged", "coordinator", now))
        for table in ("residents", "requests", "request_events"):
            # S608: the table names are the fixed tuple above, never input
            cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")  # noqa: S608
        conn.commit()
    return ordered


def process_cpu_s(pid: int) -> float:
    """CPU seconds (user + system) used so far by a process and its children processes (gunicorn's workers)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    pids = [pid]
    try:
        with open(f"/proc/{pid}/task/{pid}/children", encoding="ascii") as handle:
            pids += [int(p) for p in handle.read().split()]
    except OSError:
        pass
    for one in pids:
        try:
            with open(f"/proc/{one}/stat", encoding="ascii") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks
        except (OSError, IndexError, ValueError):
            continue
    return total


def wait_until_up(url: str, process: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the receiving instance exited with {process.returncode}")
        try:
            if requests.get(f"{url}/api/v1/schemas/can-handoff-1.json", timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise RuntimeError("the receiving instance did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--admin-url", default=os.environ.get("BENCH_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    )
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes for the receiver")
    parser.add_argument("--threads", type=int, default=8, help="threads per receiver worker")
    parser.add_argument("--concurrency", type=int, default=8, help="bundles in flight per push job")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()

    names = {"hf": "can_bench_handoff_hf", "kc": "can_bench_handoff_kc"}
    urls = {key: recreate(args.admin_url, name) for key, name in names.items()}
    workdir = tempfile.TemporaryDirectory(prefix="can-bench-handoff-")
    index = ROOT / "instance" / "postcodes.npz"
    secret = os.environ.get("SECRET_KEY") or "bench-only-secret-" + secrets.token_hex(16)
    os.environ["SECRET_KEY"] = secret
    receiver: subprocess.Popen[bytes] | None = None
    try:
        if not index.is_file():
            from geo.boundaries import Boundaries
            from geo.directory import import_onspd
            from geo.onspd_gen import make_onspd

            csv_path = Path(workdir.name) / "onspd.csv"
            boundaries = Boundaries.from_file(ROOT / "data" / "london_boroughs.geojson")
            make_onspd(boundaries, csv_path, per_borough=400, seed=2020, codes=[HF[0], KC[0]])
            index = Path(workdir.name) / "postcodes.npz"
            import_onspd(csv_path, index)

        from flask_migrate import upgrade

        from can_crm import create_app, unit_of_work
        from can_crm.extensions import db
        from can_crm.models.federation import DataSharingEntry, Handoff
        from can_crm.models.request import HelpRequest
        from can_crm.services.federation import keys, partners, sending

        def app_for(key: str, authority: tuple[str, str]) -> Any:
            return create_app(
                {
                    "CAN_ENV": "development",
                    "SQLALCHEMY_DATABASE_URI": urls[key].replace("postgresql://", "postgresql+psycopg://"),
                    "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 20},
                    "REDIS_URL": None,
                    "JOB_SWEEP_SECONDS": 0,
                    "POSTCODE_INDEX": str(index),
                    "AUTHORITY_GSS_CODE": authority[0],
                    "AUTHORITY_NAME": authority[1],
                    "FEDERATION_KEYS_DIR": str(Path(workdir.name) / f"keys-{key}"),
                    "PEER_CONCURRENCY": args.concurrency,
                }
            )

        hf, kc = app_for("hf", HF), app_for("kc", KC)
        port = free_port()
        kc_url = f"http://127.0.0.1:{port}"
        public = {}
        for key, app in (("hf", hf), ("kc", kc)):
            with app.app_context():
                upgrade(directory=str(ROOT / "migrations"))
                public[key] = keys.current_public_key()
        for app, other, other_key, url in ((hf, KC, "kc", kc_url), (kc, HF, "hf", None)):
            with app.app_context():
                partners.save_partner(
                    {
                        "gss_code": other[0],
                        "name": other[1],
                        "base_url": url,
                        "public_key": public[other_key],
                        "agreement_ref": AGREEMENT,
                        "lawful_basis": "public_task",
                    }
                )
                unit_of_work.commit()
        references = seed(urls["hf"], args.requests, postcodes_in(index, KC[0], 300))

        env = {
            **os.environ,
            "CAN_ENV": "development",
            "DATABASE_URL": urls["kc"],
            "DB_POOL_SIZE": str(args.threads + 2),
            "AUTHORITY_GSS_CODE": KC[0],
            "AUTHORITY_NAME": KC[1],
            "FEDERATION_KEYS_DIR": str(Path(workdir.name) / "keys-kc"),
            "POSTCODE_INDEX": str(index),
            "JOB_SWEEP_SECONDS": "0",
            "REDIS_URL": "",
        }
        receiver = subprocess.Popen(  # noqa: S603 - our own gunicorn, fixed arguments
            [
                str(Path(sys.executable).parent / "gunicorn"),
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(args.workers),
                "--threads",
                str(args.threads),
                "--log-level",
                "warning",
                "wsgi:app",
            ],
            cwd=ROOT,
            env=env,
        )
        wait_until_up(kc_url, receiver)

        with hf.app_context():
            queue = hf.extensions["can_queue"]
            sender_cpu0, receiver_cpu0 = time.process_time(), process_cpu_s(receiver.pid)
            t0 = time.perf_counter()
            made = sending.hand_off(None, references, KC[0], "Bench: residents who moved to Kensington and Chelsea")
            unit_of_work.commit()
            prepared_s = time.perf_counter() - t0
            queue.wait(timeout=600)
            elapsed = time.perf_counter() - t0
            sender_cpu = time.process_time() - sender_cpu0
            receiver_cpu = process_cpu_s(receiver.pid) - receiver_cpu0
            db.session.remove()
            states = dict(
                db.session.execute(
                    db.select(Handoff.state, db.func.count()).where(Handoff.direction == "out").group_by(Handoff.state)
                ).all()
            )
            hf_log = db.session.scalar(db.select(db.func.count()).select_from(DataSharingEntry))
        with kc.app_context():
            kc_requests = db.session.scalar(
                db.select(db.func.count()).select_from(HelpRequest).where(HelpRequest.channel == "handoff")
            )
            kc_log = db.session.scalar(db.select(db.func.count()).select_from(DataSharingEntry))
        ok = states == {"acknowledged": args.requests} and kc_requests == hf_log == kc_log == args.requests
        print(
            json.dumps(
                {
                    "handoffs": len(made),
                    "acknowledged": states.get("acknowledged", 0),
                    "created_at_receiver": kc_requests,
                    "sharing_log_rows": {"sender": hf_log, "receiver": kc_log},
                    "prepare_and_sign_s": round(prepared_s, 2),
                    "total_s": round(elapsed, 2),
                    "handoffs_per_s": round(len(made) / elapsed, 1),
                    "receiver": f"gunicorn {args.workers} workers x {args.threads} threads",
                    # CPU spent per handoff, both sides (the rate a machine gives depends on how many cores are free).
                    "cpu_ms_per_handoff": {
                        "sender": round(1000 * sender_cpu / len(made), 2),
                        "receiver": round(1000 * receiver_cpu / len(made), 2),
                    },
                    "load_average_1m": round(os.getloadavg()[0], 1),
                    "cpus": os.cpu_count(),
                    "all_checks_passed": ok,
                }
            )
        )
        print(f"Handed off {len(made)} requests in {elapsed:.2f} s: {len(made) / elapsed:.1f} handoffs/s end to end")
        for app in (hf, kc):
            with app.app_context():
                db.engine.dispose()
        if not ok:
            raise SystemExit(1)
    finally:
        if receiver is not None:
            receiver.send_signal(signal.SIGTERM)
            receiver.wait(timeout=30)
        workdir.cleanup()
        if not args.keep:
            for name in names.values():
                drop(args.admin_url, name)


if __name__ == "__main__":
    main()
