"""Typed configuration, read from the environment only.

One class per environment. Secrets have no defaults: `make run` writes a random key to
`instance/secret_key` and exports it, so nothing here ever falls back to a guessable key.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class ConfigError(RuntimeError):
    """The environment describes a configuration the app cannot start with."""


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from exc


def _env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name} must be true or false, got {raw!r}")


@dataclass
class BaseConfig:
    """Settings shared by every environment. Upper-case attributes become `app.config` keys."""

    SECRET_KEY: str = ""
    SQLALCHEMY_DATABASE_URI: str = ""
    REDIS_URL: str | None = None
    AUTHORITY_GSS_CODE: str = "E09000013"
    AUTHORITY_NAME: str = "Hammersmith and Fulham"
    SESSION_COOKIE_HTTPONLY: bool = True
    SESSION_COOKIE_SAMESITE: str = "Lax"
    SESSION_COOKIE_SECURE: bool = False
    WTF_CSRF_ENABLED: bool = True
    WTF_CSRF_TIME_LIMIT: int | None = None
    RATELIMIT_STORAGE_URI: str = "memory://"
    RATELIMIT_ENABLED: bool = True
    LOGIN_RATE_LIMIT: str = "10 per minute"
    JOBS_INLINE: bool = False
    JOB_MAX_ATTEMPTS: int = 3
    JOB_STALE_SECONDS: int = 120
    JOB_LOST_SECONDS: int = 120
    JOB_SWEEP_SECONDS: int = 60
    JOB_TIMEOUT_SECONDS: int = 600
    RQ_QUEUE: str = "can_crm"
    ASSETS_DIR: str = str(PROJECT_ROOT / "node_modules")
    BOUNDARIES_FILE: str = str(PROJECT_ROOT / "data" / "london_boroughs.geojson")
    # A council's ward boundaries (GeoJSON, Shapefile or GeoPackage); when set, shared maps use wards.
    WARD_BOUNDARIES_FILE: str | None = None
    POSTCODE_INDEX: str = ""
    MAP_TILE_URL: str | None = None
    HEATMAP_K: int = 5
    HEATMAP_INLINE_MAX_ROWS: int = 5000
    HEATMAP_CACHE_DIR: str | None = None
    MAP_TILE_ATTRIBUTION: str = ""
    QUEUE_PAGE_SIZE: int = 50
    LOG_FILE: str | None = None
    # Days each record type is kept (see can_crm/services/privacy/retention.py); warn this many days before.
    RETENTION_DAYS: dict[str, int] = field(default_factory=dict)
    RETENTION_WARN_DAYS: int = 14
    # Sessions: signed out after this much idle time, and after this long whatever happens.
    SESSION_IDLE_MINUTES: int = 30
    SESSION_ABSOLUTE_HOURS: int = 12
    # Password re-entry is asked again for sensitive actions when the last one is older than this.
    REAUTH_MINUTES: int = 5
    TWO_FACTOR_ROLES: tuple[str, ...] = ("admin", "coordinator", "partner", "councillor")
    TWO_FACTOR_RATE_LIMIT: str = "10 per minute"
    PUBLIC_FORM_RATE_LIMIT: str = "20 per minute"
    API_RATE_LIMIT: str = "600 per minute"
    API_TOKEN_DAYS: int = 90
    # Reads of more resident records than this in READ_ALERT_MINUTES flag the user for an admin's review.
    READ_ALERT_RECORDS: int = 50
    READ_ALERT_MINUTES: int = 10
    # The Art. 30 record of processing: who the controller is and whom to contact.
    CONTROLLER_NAME: str = ""
    DPO_CONTACT: str = ""
    SQLALCHEMY_ENGINE_OPTIONS: dict[str, object] = field(default_factory=dict)

    def as_mapping(self) -> dict[str, object]:
        return {k: v for k, v in vars(self).items() if k.isupper()}


def _retention_days() -> dict[str, int]:
    """RETENTION_DAYS_<RECORD_TYPE>=N overrides one schedule, e.g. RETENTION_DAYS_CLOSED_REQUESTS=400."""
    prefix = "RETENTION_DAYS_"
    return {k.removeprefix(prefix).lower(): _env_int(k, 0) for k in os.environ if k.startswith(prefix)}


def _database_url(instance_path: Path) -> str:
    url = os.environ.get("DATABASE_URL", "")
    if not url:
        # The embedded default: a SQLite file, for a pilot or a demo on one machine.
        return f"sqlite:///{instance_path / 'can_crm.sqlite'}"
    if url.startswith("postgres://"):
        url = "postgresql://" + url.removeprefix("postgres://")
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


def load_config(instance_path: Path, environment: str | None = None) -> BaseConfig:
    """Build the config for `CAN_ENV` (development, test or production) from the environment."""
    env = environment or os.environ.get("CAN_ENV", "development")
    if env not in {"development", "test", "production"}:
        raise ConfigError(f"CAN_ENV must be development, test or production, got {env!r}")
    secret = os.environ.get("SECRET_KEY", "")
    if env == "test" and not secret:
        secret = "test-only-secret-key-not-for-use-anywhere"  # noqa: S105 - test environment only
    if not secret:
        raise ConfigError("SECRET_KEY is not set. `make run` creates one in instance/secret_key.")
    if env == "production" and len(secret) < 32:
        raise ConfigError("SECRET_KEY must be at least 32 characters in production")
    cfg = BaseConfig(
        SECRET_KEY=secret,
        SQLALCHEMY_DATABASE_URI=_database_url(instance_path),
        REDIS_URL=os.environ.get("REDIS_URL") or None,
        AUTHORITY_GSS_CODE=os.environ.get("AUTHORITY_GSS_CODE", "E09000013"),
        AUTHORITY_NAME=os.environ.get("AUTHORITY_NAME", "Hammersmith and Fulham"),
        SESSION_COOKIE_SECURE=_env_bool("SESSION_COOKIE_SECURE", env == "production"),
        RATELIMIT_STORAGE_URI=os.environ.get("RATELIMIT_STORAGE_URI", "memory://"),
        JOB_MAX_ATTEMPTS=_env_int("JOB_MAX_ATTEMPTS", 3),
        JOB_STALE_SECONDS=_env_int("JOB_STALE_SECONDS", 120),
        JOB_LOST_SECONDS=_env_int("JOB_LOST_SECONDS", _env_int("JOB_STALE_SECONDS", 120)),
        JOB_SWEEP_SECONDS=_env_int("JOB_SWEEP_SECONDS", 0 if env == "test" else 60),
        JOB_TIMEOUT_SECONDS=_env_int("JOB_TIMEOUT_SECONDS", 600),
        RQ_QUEUE=os.environ.get("RQ_QUEUE") or "can_crm",
        POSTCODE_INDEX=os.environ.get("POSTCODE_INDEX", str(instance_path / "postcodes.npz")),
        MAP_TILE_URL=os.environ.get("MAP_TILE_URL") or None,
        WARD_BOUNDARIES_FILE=os.environ.get("WARD_BOUNDARIES_FILE") or None,
        HEATMAP_K=_env_int("HEATMAP_K", 5),
        HEATMAP_INLINE_MAX_ROWS=_env_int("HEATMAP_INLINE_MAX_ROWS", 5000),
        HEATMAP_CACHE_DIR=os.environ.get("HEATMAP_CACHE_DIR") or None,
        MAP_TILE_ATTRIBUTION=os.environ.get("MAP_TILE_ATTRIBUTION", ""),
        QUEUE_PAGE_SIZE=_env_int("QUEUE_PAGE_SIZE", 50),
        LOG_FILE=os.environ.get("LOG_FILE") or None,
        RETENTION_DAYS=_retention_days(),
        RETENTION_WARN_DAYS=_env_int("RETENTION_WARN_DAYS", 14),
        SESSION_IDLE_MINUTES=_env_int("SESSION_IDLE_MINUTES", 30),
        SESSION_ABSOLUTE_HOURS=_env_int("SESSION_ABSOLUTE_HOURS", 12),
        API_TOKEN_DAYS=_env_int("API_TOKEN_DAYS", 90),
        READ_ALERT_RECORDS=_env_int("READ_ALERT_RECORDS", 50),
        READ_ALERT_MINUTES=_env_int("READ_ALERT_MINUTES", 10),
        CONTROLLER_NAME=os.environ.get("CONTROLLER_NAME", ""),
        DPO_CONTACT=os.environ.get("DPO_CONTACT", ""),
    )
    if cfg.REDIS_URL and cfg.RATELIMIT_STORAGE_URI == "memory://":
        # Limits must hold across processes: count in Redis whenever there is one.
        cfg.RATELIMIT_STORAGE_URI = cfg.REDIS_URL
    sqlite = cfg.SQLALCHEMY_DATABASE_URI.startswith("sqlite")
    if env == "production" and sqlite and not _env_bool("ALLOW_SQLITE", False):
        raise ConfigError("production needs DATABASE_URL (PostgreSQL); set ALLOW_SQLITE=true for a pilot")
    # On by default except in tests; a local security scan turns it off so it measures the app, not the limiter.
    cfg.RATELIMIT_ENABLED = _env_bool("RATELIMIT_ENABLED", env != "test")
    if cfg.SQLALCHEMY_DATABASE_URI.startswith("postgresql"):
        cfg.SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True, "pool_size": _env_int("DB_POOL_SIZE", 10)}
    return cfg
