"""Extension instances, bound to an app in `create_app`. Nothing here touches an app at import time."""

from __future__ import annotations

import sqlite3
from typing import Any

from flask_babel import Babel
from flask_compress import Compress
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData, event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    # Named constraints so that migrations are reproducible and services can map a violation to a field.
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
compress = Compress()
babel = Babel()
limiter = Limiter(key_func=get_remote_address, default_limits=[])


# SQLite (the embedded default): Python's sqlite3 module starts and ends transactions on its own, which breaks
# SAVEPOINT (a RELEASE outside its BEGIN would commit). Let SQLAlchemy own BEGIN, as its documentation advises,
# and use write-ahead logging so the in-process job threads and page reads do not block each other. SQLite also
# overwrites deleted content with zeros, so erased personal data does not linger in free pages.
@event.listens_for(Engine, "connect")
def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA secure_delete = ON")
        cursor.close()


@event.listens_for(Engine, "begin")
def _sqlite_on_begin(connection: Connection) -> None:
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN")


# Assets and pages are compressed (br, else gzip). Pages carry the CSRF token beside text people typed, the mix
# a compression side channel (BREACH) reads; that needs the attacker to make the victim's browser fetch the page
# many times with its cookie, which the SameSite=Lax session cookie refuses for cross-site requests. Files are
# sent as streams, which Flask-Compress compresses as they go (br, zstd or deflate).
COMPRESS_SETTINGS = {
    "COMPRESS_MIMETYPES": ["text/html", "text/css", "text/javascript", "application/javascript", "image/svg+xml"],
    "COMPRESS_ALGORITHM": ["br", "gzip"],
    "COMPRESS_ALGORITHM_STREAMING": ["br", "zstd", "deflate"],
}
