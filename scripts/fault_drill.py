"""Fault drill: under steady API load, kill -9 an RQ worker, wipe Redis (FLUSHALL), and stop PostgreSQL
with `-m immediate` and start it again. Then check, and print as counts:

- every request the API acknowledged with 201 is in the database afterwards;
- every job started during the drill ran exactly once in effect (the selftest job's audit line, written once);
- the app recovered by itself (201s again after each fault, without restarting the web server).

It never touches the shared services: PostgreSQL is its own cluster (`--cluster drill`, port 5433, created
with trust auth if missing; `--cluster main --pg-port 5432` drills the main one, with its own database) and
Redis is its own `redis-server` on `--redis-port`. Whatever happens, the cluster is started again at the end.

    .venv/bin/python scripts/fault_drill.py [--cluster drill] [--phase-seconds 8] [--clients 4]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PG_VERSION = "15"


def sh(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), capture_output=True, text=True, check=check)  # noqa: S603


def pg_ctl(cluster: str, action: str, *extra: str) -> None:
    sh("pg_ctlcluster", "--skip-systemctl-redirect", PG_VERSION, cluster, action, *extra)


def cluster_online(cluster: str) -> bool:
    listing = sh("pg_lsclusters", "--no-header", check=False).stdout
    return any(line.split()[1] == cluster and "online" in line for line in listing.splitlines() if line.strip())


def ensure_cluster(cluster: str, port: int) -> None:
    listing = sh("pg_lsclusters", "--no-header", check=False).stdout
    if not any(line.split()[1] == cluster for line in listing.splitlines() if line.strip()):
        sh("pg_createcluster", PG_VERSION, cluster, "-p", str(port), "--", "--auth=trust")
    if not cluster_online(cluster):
        pg_ctl(cluster, "start")


def psql(port: int, sql: str) -> None:
    sh("psql", "-q", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "-c", sql)


@dataclass
class Load:
    """API clients creating requests; what the API acknowledged, and every other outcome, by phase."""

    base: str
    headers: dict[str, str]
    postcode: str
    phase: str = "warmup"
    acknowledged: list[str] = field(default_factory=list)
    outcomes: Counter[str] = field(default_factory=Counter)
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def client(self) -> None:
        session = requests.Session()
        body = {
            "resident": {
                "name": "Drill Person",
                "address": "1 Drill Road",
                "postcode": self.postcode,
                "phone": "07911 123456",
                "preferred_channel": "phone",
            },
            "type": "shopping",
            "urgency": 1,
            "details": "fault drill",
        }
        while not self.stop.is_set():
            phase = self.phase
            try:
                response = session.post(f"{self.base}/api/v1/requests", json=body, headers=self.headers, timeout=10)
                outcome = str(response.status_code)
                if response.status_code == 201:
                    with self.lock:
                        self.acknowledged.append(response.json()["reference"])
            except requests.RequestException:
                outcome = "no answer"
            with self.lock:
                self.outcomes[f"{phase} {outcome}"] += 1
            time.sleep(0.02)


def main() -> int:  # noqa: PLR0915 - one linear drill reads best as one function
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cluster", default="drill")
    parser.add_argument("--pg-port", type=int, default=5433)
    parser.add_argument("--redis-port", type=int, default=6391)
    parser.add_argument("--app-port", type=int, default=5078)
    parser.add_argument("--phase-seconds", type=float, default=8.0)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--drain-seconds", type=float, default=300.0)
    args = parser.parse_args()

    database = f"can_drill_{secrets.token_hex(3)}"
    queue = "drill"
    processes: list[subprocess.Popen[bytes]] = []
    workers: list[subprocess.Popen[bytes]] = []
    logs = ROOT / "artifacts" / "fault_drill"
    logs.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "CAN_ENV": "development",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "DATABASE_URL": f"postgresql://postgres@127.0.0.1:{args.pg_port}/{database}",
        "REDIS_URL": f"redis://127.0.0.1:{args.redis_port}/0",
        "RQ_QUEUE": queue,
        "RATELIMIT_ENABLED": "false",
        "JOB_SWEEP_SECONDS": "2",
        "JOB_STALE_SECONDS": "10",
        "JOB_LOST_SECONDS": "20",
        "POSTCODE_INDEX": os.environ.get("POSTCODE_INDEX", str(ROOT / "instance" / "postcodes.npz")),
        "DB_POOL_SIZE": "5",
    }

    def spawn(name: str, command: list[str]) -> subprocess.Popen[bytes]:
        log = (logs / f"{name}.log").open("ab")
        process = subprocess.Popen(  # noqa: S603
            command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        processes.append(process)
        return process

    def start_worker(n: int) -> subprocess.Popen[bytes]:
        worker = spawn(
            f"worker{n}",
            [
                str(BIN / "rq"),
                "worker",
                "-w",
                "can_crm.jobs.worker.Worker",
                queue,
                "--url",
                env["REDIS_URL"],
                "--serializer",
                "rq.serializers.JSONSerializer",
            ],
        )
        workers.append(worker)
        return worker

    report: dict[str, Any] = {}
    try:
        ensure_cluster(args.cluster, args.pg_port)
        psql(args.pg_port, f'CREATE DATABASE "{database}"')
        spawn("redis", ["redis-server", "--port", str(args.redis_port), "--save", "", "--appendonly", "no"])
        subprocess.run(  # noqa: S603
            [str(BIN / "flask"), "--app", "wsgi", "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True
        )
        os.environ.update(env)
        sys.path.insert(0, str(ROOT))
        # why: the app reads DATABASE_URL and friends when it is built, after the environment is set above
        from sqlalchemy import func, select, text

        from can_crm import create_app, unit_of_work
        from can_crm.extensions import db
        from can_crm.models.audit import AuditEntry
        from can_crm.models.job import Job
        from can_crm.services.accounts import users
        from can_crm.services.common.jobs import start_job

        app = create_app({"JOB_SWEEP_SECONDS": 0})
        with app.app_context():
            user = users.create_user("drill@example.gov.uk", "Drill Coordinator", "coordinator", "drill-password-2026")
            _, token = users.issue_token(user, "drill", None, 1)
            unit_of_work.commit()
            user_id = user.id
            from geo.directory import PostcodeDirectory

            directory = PostcodeDirectory.load(Path(env["POSTCODE_INDEX"]))
            postcode = next(
                pc
                for pc in sorted(directory)
                if directory.geocode(pc).authority_gss == app.config["AUTHORITY_GSS_CODE"]
            )

        spawn(
            "web",
            [
                str(BIN / "gunicorn"),
                "--bind",
                f"127.0.0.1:{args.app_port}",
                "--workers",
                "2",
                "--threads",
                "4",
                "wsgi:app",
            ],
        )
        for n in range(args.workers):
            start_worker(n)
        base = f"http://127.0.0.1:{args.app_port}"
        for _ in range(120):
            try:
                if requests.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(0.5)

        load = Load(base, {"Authorization": f"Bearer {token}"}, postcode)
        clients = [threading.Thread(target=load.client, daemon=True) for _ in range(args.clients)]
        for thread in clients:
            thread.start()
        started_jobs: list[int] = []
        job_failures = Counter[str]()

        def start_jobs() -> None:
            while not load.stop.is_set():
                try:
                    with app.app_context():
                        job = start_job("selftest", {"record": True, "steps": 4, "delay": 0.25}, user_id)
                        unit_of_work.commit()
                        started_jobs.append(job.id)
                except Exception:  # noqa: BLE001 - the database is down on purpose: count and carry on
                    job_failures[load.phase] += 1
                    with app.app_context():
                        db.session.remove()
                time.sleep(0.3)

        jobs_thread = threading.Thread(target=start_jobs, daemon=True)
        jobs_thread.start()

        def phase(name: str) -> None:
            load.phase = name
            time.sleep(args.phase_seconds)

        phase("warmup")
        victim = workers[0]
        os.killpg(victim.pid, signal.SIGKILL)  # the worker and any work horse it forked
        victim.wait()
        start_worker(99)  # what a process supervisor does
        phase("after kill -9 worker")
        sh("redis-cli", "-p", str(args.redis_port), "FLUSHALL")
        phase("after Redis FLUSHALL")
        load.phase = "PostgreSQL down"
        pg_ctl(args.cluster, "stop", "-m", "immediate")
        time.sleep(3)
        pg_ctl(args.cluster, "start")
        phase("after PostgreSQL restart")
        load.stop.set()
        for thread in [*clients, jobs_thread]:
            thread.join(timeout=15)

        # Let the sweeper and workers finish what is left (a loaded machine forks slowly).
        deadline = time.monotonic() + args.drain_seconds
        with app.app_context():
            while time.monotonic() < deadline:
                db.session.remove()
                pending = db.session.scalar(
                    select(func.count())
                    .select_from(Job)
                    .where(Job.id.in_(started_jobs), Job.state.in_(["queued", "running"]))
                )
                if not pending:
                    break
                time.sleep(1)
            db.session.remove()
            acknowledged = set(load.acknowledged)
            stored = set(
                db.session.scalars(
                    text("SELECT reference FROM requests WHERE reference = ANY(:refs)"), {"refs": list(acknowledged)}
                )
            )
            states = Counter(db.session.scalars(select(Job.state).where(Job.id.in_(started_jobs))))
            effects = dict(
                db.session.execute(
                    select(AuditEntry.object_id, func.count())
                    .where(AuditEntry.action == "job.selftest", AuditEntry.object_id.in_(started_jobs))
                    .group_by(AuditEntry.object_id)
                ).all()
            )
            attempts = Counter(db.session.scalars(select(Job.attempts).where(Job.id.in_(started_jobs))))
        once = sum(1 for j in started_jobs if effects.get(j) == 1)
        twice = sum(1 for j in started_jobs if effects.get(j, 0) > 1)
        never = sum(1 for j in started_jobs if effects.get(j, 0) == 0)
        recovered = {
            name: load.outcomes.get(f"{name} 201", 0)
            for name in ("warmup", "after kill -9 worker", "after Redis FLUSHALL", "after PostgreSQL restart")
        }
        report = {
            "acknowledged_201": len(acknowledged),
            "acknowledged_in_database": len(stored & acknowledged),
            "acknowledged_missing": len(acknowledged - stored),
            "outcomes": dict(sorted(load.outcomes.items())),
            "jobs_started": len(started_jobs),
            "job_starts_refused_while_down": dict(job_failures),
            "job_states": dict(states),
            "job_attempts": {str(k): v for k, v in sorted(attempts.items())},
            "jobs_effect_exactly_once": once,
            "jobs_effect_more_than_once": twice,
            "jobs_effect_never": never,
            "201s_per_phase": recovered,
            "recovered_by_itself": all(recovered.values()),
        }
    finally:
        if not cluster_online(args.cluster):
            pg_ctl(args.cluster, "start")
        for process in processes:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.CalledProcessError):
            psql(args.pg_port, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        print(f"PostgreSQL cluster {args.cluster} online at the end: {cluster_online(args.cluster)}")
    for key, value in report.items():
        print(f"{key}: {value}")
    print(json.dumps(report))
    ok = (
        report.get("acknowledged_missing") == 0
        and report.get("jobs_effect_exactly_once") == report.get("jobs_started")
        and report.get("recovered_by_itself")
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
