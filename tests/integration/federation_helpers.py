"""Two authorities running CAN CRM side by side: Hammersmith and Fulham (E09000013) and Kensington and Chelsea
(E09000020), each with its own PostgreSQL database, its own signing key, and a real HTTP server on localhost."""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from flask import Flask
from sqlalchemy import text
from werkzeug.serving import BaseWSGIServer, make_server

ROOT = Path(__file__).resolve().parents[2]
ADMIN_URL = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
HF = ("E09000013", "Hammersmith and Fulham")
KC = ("E09000020", "Kensington and Chelsea")
AGREEMENT = "ISA-2026-014"
PASSWORD = "correct horse battery staple"
KC_WINDOWS = {"morning": (8 * 60, 11 * 60), "afternoon": (12 * 60, 17 * 60), "evening": (17 * 60, 20 * 60)}


@dataclass
class Instance:
    gss: str
    name: str
    app: Flask
    url: str
    db_name: str
    server: BaseWSGIServer | None = None
    thread: threading.Thread | None = None

    def public_key(self) -> str:
        from can_crm.services.federation import keys

        with self.app.app_context():
            return keys.current_public_key()

    def reset(self) -> None:
        from can_crm.extensions import db

        with self.app.app_context():
            self.app.extensions["can_queue"].wait()
            tables = ", ".join(t.name for t in db.metadata.sorted_tables)
            db.session.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
            db.session.commit()
            db.session.remove()

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


def _database(label: str) -> tuple[str, str]:
    name = f"can_fed_{re.sub(r'[^a-z0-9]', '', label.lower())}_{os.getpid()}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return name, ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


def drop_database(name: str) -> None:
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def make_instance(
    authority: tuple[str, str], postcode_index: Path, keys_dir: Path, *, serve: bool = True, **config: Any
) -> Instance:
    from flask_migrate import upgrade

    from can_crm import create_app

    gss, name = authority
    db_name, url = _database(gss)
    app = create_app(
        {
            "CAN_ENV": "test",
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": url.replace("postgresql://", "postgresql+psycopg://"),
            "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 10},
            "WTF_CSRF_ENABLED": False,
            "REDIS_URL": None,
            "POSTCODE_INDEX": str(postcode_index),
            "AUTHORITY_GSS_CODE": gss,
            "AUTHORITY_NAME": name,
            "FEDERATION_KEYS_DIR": str(keys_dir),
            "HANDOFF_RETRY_BASE_SECONDS": 1,
            **config,
        }
    )
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
    instance = Instance(gss, name, app, "", db_name)
    if serve:
        server = make_server("127.0.0.1", 0, app, threaded=True)
        instance.server = server
        instance.url = f"http://127.0.0.1:{server.server_port}"
        instance.thread = threading.Thread(target=server.serve_forever, name=f"serve-{gss}", daemon=True)
        instance.thread.start()
    return instance


def link(a: Instance, b: Instance, *, url: bool = True) -> None:
    """Register each authority as the other's partner, with the same agreement."""
    from can_crm import unit_of_work
    from can_crm.services.federation import partners

    for me, other in ((a, b), (b, a)):
        with me.app.app_context():
            partners.save_partner(
                {
                    "gss_code": other.gss,
                    "name": other.name,
                    "base_url": other.url if url and other.url else None,
                    "public_key": other.public_key(),
                    "agreement_ref": AGREEMENT,
                    "lawful_basis": "public_task",
                }
            )
            unit_of_work.commit()


def coordinator_token(instance: Instance, role: str = "coordinator") -> str:
    from can_crm import unit_of_work
    from can_crm.services.accounts import users

    with instance.app.app_context():
        count = len(users.list_users())
        user = users.create_user(f"{role}{count}@{instance.gss.lower()}.gov.uk", f"Test {role}", role, PASSWORD)
        _token, plain = users.issue_token(user, "tests")
        unit_of_work.commit()
        return plain


@pytest.fixture(scope="module")
def two_authorities(
    postcode_index: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Instance, Instance]]:
    keys = tmp_path_factory.mktemp("keys")
    hf = make_instance(HF, postcode_index, keys / "hf")
    # Kensington and Chelsea's morning starts an hour earlier: a handed-off window must keep the resident's hours.
    kc = make_instance(KC, postcode_index, keys / "kc", DELIVERY_WINDOWS=KC_WINDOWS)
    yield hf, kc
    for instance in (hf, kc):
        instance.stop()
        with instance.app.app_context():
            instance.app.extensions["can_queue"].wait()
            from can_crm.extensions import db

            db.session.remove()
            db.engine.dispose()
        drop_database(instance.db_name)


@pytest.fixture
def linked(two_authorities: tuple[Instance, Instance]) -> Iterator[tuple[Instance, Instance]]:
    hf, kc = two_authorities
    link(hf, kc)
    yield hf, kc
    hf.reset()
    kc.reset()
