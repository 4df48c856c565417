"""Typed configuration, read from the environment only.

One class per environment. Secrets have no defaults: `make install` writes a random key to
`instance/secret_key`, which development and test read when SECRET_KEY is unset (so every command in
the README works as written in the checkout); production takes the key from the environment only.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

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


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from exc
    if value != value or value in (float("inf"), float("-inf")):
        raise ConfigError(f"{name} must be a finite number, got {raw!r}")
    return value


# A food hub: (name, latitude, longitude). Not personal: a public building the rounds start from.
Hub = tuple[str, float, float]
DEFAULT_FOOD_HUBS = "Hammersmith Town Hall@51.4927,-0.2247"


def parse_food_hubs(raw: str) -> tuple[Hub, ...]:
    """`FOOD_HUBS`: one or more `Name@lat,lon`, separated by `;` (e.g. `Town Hall@51.49,-0.22;Depot@51.5,-0.2`)."""
    hubs: list[Hub] = []
    for i, item in enumerate(p.strip() for p in raw.split(";")):
        if not item:
            continue
        name, at, where = item.rpartition("@")
        parts = where.split(",")
        bad = ConfigError(f"FOOD_HUBS item {i + 1} ({item[:60]!r}) must be Name@latitude,longitude")
        if not at or not name.strip() or len(name.strip()) > 80 or len(parts) != 2:
            raise bad
        try:
            lat, lon = float(parts[0]), float(parts[1])
        except ValueError:
            raise bad from None
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise bad
        if name.strip() in {h[0] for h in hubs}:
            raise ConfigError(f"FOOD_HUBS names {name.strip()!r} twice: give each hub its own name")
        hubs.append((name.strip(), lat, lon))
    if not hubs:
        raise ConfigError("FOOD_HUBS must name at least one hub as Name@latitude,longitude")
    return tuple(hubs)


# The hours of the named delivery windows a food-parcel resident can choose (minutes from midnight).
DeliveryWindows = dict[str, tuple[int, int]]
DEFAULT_DELIVERY_WINDOWS = "morning=09:00-12:00;afternoon=12:00-17:00;evening=17:00-20:00"
_WINDOW_NAMES = ("morning", "afternoon", "evening")


def _minutes(text: str) -> int | None:
    hours, sep, mins = text.strip().partition(":")
    if not (sep and hours.isascii() and hours.isdigit() and mins.isascii() and mins.isdigit() and len(mins) == 2):
        return None
    if len(hours) > 2 or int(hours) > 24 or int(mins) > 59 or (int(hours) == 24 and int(mins) > 0):
        return None
    return int(hours) * 60 + int(mins)


def parse_delivery_windows(raw: str) -> DeliveryWindows:
    """`DELIVERY_WINDOWS`: `morning=HH:MM-HH:MM;afternoon=...;evening=...`, each of the three exactly once."""
    windows: DeliveryWindows = {}
    for item in (p.strip() for p in raw.split(";")):
        if not item:
            continue
        name, eq, span = item.partition("=")
        name = name.strip().lower()
        start_text, dash, end_text = span.partition("-")
        bad = ConfigError(f"DELIVERY_WINDOWS item {item[:40]!r} must be like morning=09:00-12:00")
        if not eq or not dash or name not in _WINDOW_NAMES:
            raise bad
        start, end = _minutes(start_text), _minutes(end_text)
        if start is None or end is None:
            raise bad
        if end <= start:
            raise ConfigError(f"DELIVERY_WINDOWS {name} must end later than it starts")
        if name in windows:
            raise ConfigError(f"DELIVERY_WINDOWS gives {name} twice")
        windows[name] = (start, end)
    missing = [n for n in _WINDOW_NAMES if n not in windows]
    if missing:
        raise ConfigError(f"DELIVERY_WINDOWS must give the hours of {', '.join(missing)} (like morning=09:00-12:00)")
    return windows


def _env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name} must be true or false, got {raw!r}")


# The council's clock when TIMEZONE is unset (and outside an app): its days and the times its pages show.
DEFAULT_TIMEZONE = "Europe/London"


def _time_zone() -> str:
    """TIMEZONE: an IANA zone name."""
    name = os.environ.get("TIMEZONE") or DEFAULT_TIMEZONE
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"TIMEZONE must be a time zone name such as Europe/London, got {name!r}") from None
    return name


@dataclass
class BaseConfig:
    """Settings shared by every environment. Upper-case attributes become `app.config` keys."""

    SECRET_KEY: str = ""
    SQLALCHEMY_DATABASE_URI: str = ""
    REDIS_URL: str | None = None
    AUTHORITY_GSS_CODE: str = "E09000013"
    AUTHORITY_NAME: str = "Hammersmith and Fulham"
    TIMEZONE: str = DEFAULT_TIMEZONE
    SESSION_COOKIE_HTTPONLY: bool = True
    SESSION_COOKIE_SAMESITE: str = "Lax"
    SESSION_COOKIE_SECURE: bool = False
    WTF_CSRF_ENABLED: bool = True
    WTF_CSRF_TIME_LIMIT: int | None = None
    RATELIMIT_STORAGE_URI: str = "memory://"
    RATELIMIT_ENABLED: bool = True
    RATELIMIT_STRATEGY: str = "moving-window"  # a fixed window would let twice the limit through at its edge
    # Failed sign-ins only (OWASP ASVS V2.2.1): per account, and per address at a ceiling an office never meets.
    LOGIN_FAILED_ACCOUNT_LIMIT: str = "5 per 15 minutes"
    LOGIN_FAILED_ADDRESS_LIMIT: str = "100 per 15 minutes"
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
    # Matching runs: the engine's budget; past it the best answer found comes back with its proven bound.
    MATCHING_TIME_LIMIT_SECONDS: int = 60
    # Food-parcel delivery rounds: where rounds start and end (FOOD_HUBS, see parse_food_hubs), the planner's
    # budget, the average driving speed, how much longer roads are than the straight line, and the minutes at
    # each door. Distances are straight line x road factor (matching.distances.StraightLine).
    FOOD_HUBS: tuple[Hub, ...] = field(default_factory=lambda: parse_food_hubs(DEFAULT_FOOD_HUBS))
    ROUNDS_TIME_LIMIT_SECONDS: int = 10
    ROUNDS_SPEED_KMH: float = 20.0
    ROUNDS_ROAD_FACTOR: float = 1.3
    ROUNDS_SERVICE_MINUTES: int = 5
    ROUNDS_WORKERS: int = 1
    # When a food-parcel resident can take delivery: the hours of "morning", "afternoon" and "evening".
    DELIVERY_WINDOWS: DeliveryWindows = field(default_factory=lambda: parse_delivery_windows(DEFAULT_DELIVERY_WINDOWS))
    # Track and Trace: the infectious window around onset (days before, days after, inclusive), the
    # default length of a delivery visit when the history gives no start, the cap on a recorded visit
    # (a long in_progress spell includes the shopping, not time at the door), and the retention of case data.
    TRACING_DAYS_BEFORE: int = 2
    TRACING_DAYS_AFTER: int = 10
    TRACING_VISIT_DEFAULT_MINUTES: int = 10
    TRACING_VISIT_MAX_MINUTES: int = 60
    TRACING_RETENTION_DAYS: int = 90
    # Volunteers: how long a resident's address and phone stay in the volunteer's view after delivery.
    VOLUNTEER_DETAILS_HOURS: int = 24
    # A visit is expected to take this long; past it by the margin, coordinators are alerted (lone working).
    VISIT_EXPECTED_MINUTES: int = 90
    LONE_WORKING_MARGIN_MINUTES: int = 30
    # A DBS check counts for this many days after its certificate date (councils recheck every 3 years).
    DBS_VALID_DAYS: int = 1095
    # Messages. With NOTIFY_API_KEY set they go through GOV.UK Notify; without it the outbox provider stores
    # them in the database (admins read them at /admin/outbox). Each Notify template holds ((body)) (and
    # ((subject)) for email): we write the text ourselves, in the resident's language.
    NOTIFY_API_KEY: str | None = None
    NOTIFY_BASE_URL: str = "https://api.notifications.service.gov.uk"
    NOTIFY_CALLBACK_TOKEN: str | None = None
    NOTIFY_SMS_TEMPLATE_ID: str = ""
    NOTIFY_EMAIL_TEMPLATE_ID: str = ""
    NOTIFY_LETTER_TEMPLATE_ID: str = ""
    NOTIFY_TIMEOUT_SECONDS: int = 20
    NOTIFY_MAX_ATTEMPTS: int = 5
    NOTIFY_RETRY_SECONDS: int = 60  # the first back-off; doubled for each later attempt
    # Where links in messages point (the public address of this service).
    PUBLIC_BASE_URL: str = "http://127.0.0.1:5000"
    FEEDBACK_LINK_DAYS: int = 14
    # An invitation to set a password (a volunteer a partner organisation added) works for this many days.
    INVITATION_DAYS: int = 7
    # Rows one volunteers CSV a partner organisation uploads may hold.
    VOLUNTEER_IMPORT_MAX_ROWS: int = 500
    FEEDBACK_FOLLOW_UP_HOURS: int = 72
    # Outreach: the automated-call provider ("fake" until a council contracts one).
    CALL_PROVIDER: str = "fake"
    SHIELDED_IMPORT_MAX_BYTES: int = 50 * 1024 * 1024
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


def _secret_key(instance_path: Path, env: str) -> str:
    secret = os.environ.get("SECRET_KEY", "")
    if env == "production":
        # Production never reads a file left in the checkout: the key is the deployment's to set.
        if not secret:
            raise ConfigError("SECRET_KEY is not set; production needs a random key of 32 characters or more")
        if len(secret) < 32:
            raise ConfigError("SECRET_KEY must be at least 32 characters in production")
        return secret
    key_file = instance_path / "secret_key"
    if not secret and key_file.is_file():
        secret = key_file.read_text(encoding="utf-8").strip()
    if env == "test" and not secret:
        secret = "test-only-secret-key-not-for-use-anywhere"  # noqa: S105 - test environment only
    if not secret:
        raise ConfigError("SECRET_KEY is not set and instance/secret_key is missing; run `make install`")
    return secret


def load_config(instance_path: Path, environment: str | None = None) -> BaseConfig:
    """Build the config for `CAN_ENV` (development, test or production) from the environment."""
    env = environment or os.environ.get("CAN_ENV", "development")
    if env not in {"development", "test", "production"}:
        raise ConfigError(f"CAN_ENV must be development, test or production, got {env!r}")
    secret = _secret_key(instance_path, env)
    cfg = BaseConfig(
        SECRET_KEY=secret,
        SQLALCHEMY_DATABASE_URI=_database_url(instance_path),
        REDIS_URL=os.environ.get("REDIS_URL") or None,
        AUTHORITY_GSS_CODE=os.environ.get("AUTHORITY_GSS_CODE", "E09000013"),
        AUTHORITY_NAME=os.environ.get("AUTHORITY_NAME", "Hammersmith and Fulham"),
        TIMEZONE=_time_zone(),
        SESSION_COOKIE_SECURE=_env_bool("SESSION_COOKIE_SECURE", env == "production"),
        # Several app processes must share one count, so the counts live in Redis whenever there is one.
        RATELIMIT_STORAGE_URI=os.environ.get("RATELIMIT_STORAGE_URI") or os.environ.get("REDIS_URL") or "memory://",
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
        MATCHING_TIME_LIMIT_SECONDS=_env_int("MATCHING_TIME_LIMIT_SECONDS", 60),
        FOOD_HUBS=parse_food_hubs(os.environ.get("FOOD_HUBS") or DEFAULT_FOOD_HUBS),
        ROUNDS_TIME_LIMIT_SECONDS=_env_int("ROUNDS_TIME_LIMIT_SECONDS", 10),
        ROUNDS_SPEED_KMH=_env_float("ROUNDS_SPEED_KMH", 20.0),
        ROUNDS_ROAD_FACTOR=_env_float("ROUNDS_ROAD_FACTOR", 1.3),
        ROUNDS_SERVICE_MINUTES=_env_int("ROUNDS_SERVICE_MINUTES", 5),
        ROUNDS_WORKERS=_env_int("ROUNDS_WORKERS", 1),
        DELIVERY_WINDOWS=parse_delivery_windows(os.environ.get("DELIVERY_WINDOWS") or DEFAULT_DELIVERY_WINDOWS),
        TRACING_DAYS_BEFORE=_env_int("TRACING_DAYS_BEFORE", 2),
        TRACING_DAYS_AFTER=_env_int("TRACING_DAYS_AFTER", 10),
        TRACING_VISIT_DEFAULT_MINUTES=_env_int("TRACING_VISIT_DEFAULT_MINUTES", 10),
        TRACING_VISIT_MAX_MINUTES=_env_int("TRACING_VISIT_MAX_MINUTES", 60),
        TRACING_RETENTION_DAYS=_env_int("TRACING_RETENTION_DAYS", 90),
        VOLUNTEER_DETAILS_HOURS=_env_int("VOLUNTEER_DETAILS_HOURS", 24),
        VISIT_EXPECTED_MINUTES=_env_int("VISIT_EXPECTED_MINUTES", 90),
        LONE_WORKING_MARGIN_MINUTES=_env_int("LONE_WORKING_MARGIN_MINUTES", 30),
        DBS_VALID_DAYS=_env_int("DBS_VALID_DAYS", 1095),
        NOTIFY_API_KEY=os.environ.get("NOTIFY_API_KEY") or None,
        NOTIFY_BASE_URL=os.environ.get("NOTIFY_BASE_URL") or "https://api.notifications.service.gov.uk",
        NOTIFY_CALLBACK_TOKEN=os.environ.get("NOTIFY_CALLBACK_TOKEN") or None,
        NOTIFY_SMS_TEMPLATE_ID=os.environ.get("NOTIFY_SMS_TEMPLATE_ID", ""),
        NOTIFY_EMAIL_TEMPLATE_ID=os.environ.get("NOTIFY_EMAIL_TEMPLATE_ID", ""),
        NOTIFY_LETTER_TEMPLATE_ID=os.environ.get("NOTIFY_LETTER_TEMPLATE_ID", ""),
        NOTIFY_TIMEOUT_SECONDS=_env_int("NOTIFY_TIMEOUT_SECONDS", 20),
        NOTIFY_MAX_ATTEMPTS=_env_int("NOTIFY_MAX_ATTEMPTS", 5),
        NOTIFY_RETRY_SECONDS=_env_int("NOTIFY_RETRY_SECONDS", 60),
        PUBLIC_BASE_URL=(os.environ.get("PUBLIC_BASE_URL") or "http://127.0.0.1:5000").rstrip("/"),
        FEEDBACK_LINK_DAYS=_env_int("FEEDBACK_LINK_DAYS", 14),
        INVITATION_DAYS=_env_int("INVITATION_DAYS", 7),
        VOLUNTEER_IMPORT_MAX_ROWS=_env_int("VOLUNTEER_IMPORT_MAX_ROWS", 500),
        FEEDBACK_FOLLOW_UP_HOURS=_env_int("FEEDBACK_FOLLOW_UP_HOURS", 72),
        CALL_PROVIDER=os.environ.get("CALL_PROVIDER") or "fake",
        SHIELDED_IMPORT_MAX_BYTES=_env_int("SHIELDED_IMPORT_MAX_BYTES", 50 * 1024 * 1024),
        FEDERATION_KEYS_DIR=os.environ.get("FEDERATION_KEYS_DIR") or None,
        HANDOFF_KEY_GRACE_DAYS=_env_int("HANDOFF_KEY_GRACE_DAYS", 30),
        HANDOFF_BUNDLE_TTL_DAYS=_env_int("HANDOFF_BUNDLE_TTL_DAYS", 14),
        HANDOFF_MAX_ATTEMPTS=_env_int("HANDOFF_MAX_ATTEMPTS", 8),
        HANDOFF_RETRY_BASE_SECONDS=_env_int("HANDOFF_RETRY_BASE_SECONDS", 30),
        PEER_CLIENT=os.environ.get("PEER_CLIENT") or "http",
        PEER_TIMEOUT_SECONDS=_env_int("PEER_TIMEOUT_SECONDS", 10),
        PEER_CONCURRENCY=_env_int("PEER_CONCURRENCY", 8),
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
    if not (0 <= cfg.TRACING_DAYS_BEFORE <= 30 and 0 <= cfg.TRACING_DAYS_AFTER <= 30):
        raise ConfigError("TRACING_DAYS_BEFORE and TRACING_DAYS_AFTER must be between 0 and 30")
    if not 1 <= cfg.TRACING_VISIT_DEFAULT_MINUTES <= cfg.TRACING_VISIT_MAX_MINUTES <= 1440:
        raise ConfigError("TRACING_VISIT_DEFAULT_MINUTES must be between 1 and TRACING_VISIT_MAX_MINUTES (<= 1440)")
    if cfg.TRACING_RETENTION_DAYS < 1:
        raise ConfigError("TRACING_RETENTION_DAYS must be at least 1")
    if not 1 <= cfg.MATCHING_TIME_LIMIT_SECONDS <= 3600:
        raise ConfigError("MATCHING_TIME_LIMIT_SECONDS must be between 1 and 3600")
    if not 1 <= cfg.ROUNDS_TIME_LIMIT_SECONDS <= 600:
        raise ConfigError("ROUNDS_TIME_LIMIT_SECONDS must be between 1 and 600")
    if not 1 <= cfg.ROUNDS_SPEED_KMH <= 200:
        raise ConfigError("ROUNDS_SPEED_KMH must be between 1 and 200")
    if not 1 <= cfg.ROUNDS_ROAD_FACTOR <= 5:
        raise ConfigError("ROUNDS_ROAD_FACTOR must be between 1 and 5")
    if not 0 <= cfg.ROUNDS_SERVICE_MINUTES <= 120:
        raise ConfigError("ROUNDS_SERVICE_MINUTES must be between 0 and 120")
    if not 1 <= cfg.ROUNDS_WORKERS <= 64:
        raise ConfigError("ROUNDS_WORKERS must be between 1 and 64")
    if cfg.PEER_CLIENT not in {"http", "fake"}:
        raise ConfigError(f"PEER_CLIENT must be http or fake, got {cfg.PEER_CLIENT!r}")
    sqlite = cfg.SQLALCHEMY_DATABASE_URI.startswith("sqlite")
    if env == "production" and sqlite and not _env_bool("ALLOW_SQLITE", False):
        raise ConfigError("production needs DATABASE_URL (PostgreSQL); set ALLOW_SQLITE=true for a pilot")
    # On by default except in tests; a local security scan turns it off so it measures the app, not the limiter.
    cfg.RATELIMIT_ENABLED = _env_bool("RATELIMIT_ENABLED", env != "test")
    if cfg.NOTIFY_API_KEY and not (cfg.NOTIFY_SMS_TEMPLATE_ID and cfg.NOTIFY_EMAIL_TEMPLATE_ID):
        raise ConfigError("NOTIFY_API_KEY is set: set NOTIFY_SMS_TEMPLATE_ID and NOTIFY_EMAIL_TEMPLATE_ID too")
    if env == "production" and cfg.NOTIFY_API_KEY and not cfg.NOTIFY_CALLBACK_TOKEN:
        raise ConfigError("NOTIFY_API_KEY is set: set NOTIFY_CALLBACK_TOKEN for Notify's callbacks")
    if cfg.SQLALCHEMY_DATABASE_URI.startswith("postgresql"):
        # No pool_pre_ping: each connection is checked at checkout by a poll of its socket (extensions).
        cfg.SQLALCHEMY_ENGINE_OPTIONS = {"pool_size": _env_int("DB_POOL_SIZE", 10)}
    return cfg
