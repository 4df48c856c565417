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
    SQLALCHEMY_ENGINE_OPTIONS: dict[str, object] = field(default_factory=dict)
    # Handoff between authorities: where our Ed25519 keys live (default: instance/federation), how long a
    # retired key still verifies, how long a bundle is valid, and how hard a push to a partner tries.
    FEDERATION_KEYS_DIR: str | None = None
    HANDOFF_KEY_GRACE_DAYS: int = 30
    HANDOFF_BUNDLE_TTL_DAYS: int = 14
    HANDOFF_MAX_ATTEMPTS: int = 8
    HANDOFF_RETRY_BASE_SECONDS: int = 30
    PEER_CLIENT: str = "http"
    PEER_TIMEOUT_SECONDS: int = 10
    PEER_CONCURRENCY: int = 8

    def as_mapping(self) -> dict[str, object]:
        return {k: v for k, v in vars(self).items() if k.isupper()}


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
        FEDERATION_KEYS_DIR=os.environ.get("FEDERATION_KEYS_DIR") or None,
        HANDOFF_KEY_GRACE_DAYS=_env_int("HANDOFF_KEY_GRACE_DAYS", 30),
        HANDOFF_BUNDLE_TTL_DAYS=_env_int("HANDOFF_BUNDLE_TTL_DAYS", 14),
        HANDOFF_MAX_ATTEMPTS=_env_int("HANDOFF_MAX_ATTEMPTS", 8),
        HANDOFF_RETRY_BASE_SECONDS=_env_int("HANDOFF_RETRY_BASE_SECONDS", 30),
        PEER_CLIENT=os.environ.get("PEER_CLIENT") or "http",
        PEER_TIMEOUT_SECONDS=_env_int("PEER_TIMEOUT_SECONDS", 10),
        PEER_CONCURRENCY=_env_int("PEER_CONCURRENCY", 8),
    )
    if cfg.PEER_CLIENT not in {"http", "fake"}:
        raise ConfigError(f"PEER_CLIENT must be http or fake, got {cfg.PEER_CLIENT!r}")
    sqlite = cfg.SQLALCHEMY_DATABASE_URI.startswith("sqlite")
    if env == "production" and sqlite and not _env_bool("ALLOW_SQLITE", False):
        raise ConfigError("production needs DATABASE_URL (PostgreSQL); set ALLOW_SQLITE=true for a pilot")
    if env == "test":
        cfg.RATELIMIT_ENABLED = _env_bool("RATELIMIT_ENABLED", False)
    if cfg.SQLALCHEMY_DATABASE_URI.startswith("postgresql"):
        cfg.SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True, "pool_size": _env_int("DB_POOL_SIZE", 10)}
    return cfg
