"""The secret key: development reads the one `make install` wrote; production refuses a missing or short
key with one line on stderr and a non-zero exit, from every way the app starts."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from can_crm.config import ConfigError, load_config
from tests.conftest import ROOT

BIN = Path(sys.executable).parent


def test_development_reads_the_instance_secret_key_when_the_variable_is_unset(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SECRET_KEY", raising=False)
    (tmp_path / "secret_key").write_text("k" * 64 + "\n")
    assert load_config(tmp_path, "development").SECRET_KEY == "k" * 64
    monkeypatch.setenv("SECRET_KEY", "from-the-environment")
    assert load_config(tmp_path, "development").SECRET_KEY == "from-the-environment"


def test_development_without_any_key_says_to_run_make_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(ConfigError, match="make install"):
        load_config(tmp_path, "development")


def test_production_never_reads_the_instance_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("DATABASE_URL", "postgresql://can@127.0.0.1/can")
    (tmp_path / "secret_key").write_text("k" * 64)
    with pytest.raises(ConfigError, match="SECRET_KEY is not set"):
        load_config(tmp_path, "production")


def _production_env(secret: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "CAN_ENV")}
    env.update(CAN_ENV="production", DATABASE_URL="postgresql://can@127.0.0.1:5432/unused")
    if secret is not None:
        env["SECRET_KEY"] = secret
    return env


@pytest.mark.parametrize(
    ("secret", "message"),
    [(None, "SECRET_KEY is not set"), ("short", "SECRET_KEY must be at least 32 characters in production")],
)
@pytest.mark.parametrize(
    "command",
    [
        [str(BIN / "flask"), "--app", "wsgi", "create-user", "a@example.gov.uk", "--role", "coordinator"],
        [str(BIN / "gunicorn"), "--bind", "127.0.0.1:0", "wsgi:app"],
    ],
    ids=["flask-cli", "gunicorn"],
)
def test_production_refuses_a_bad_key_in_one_line_without_a_traceback(
    command: list[str], secret: str | None, message: str
) -> None:
    done = subprocess.run(
        command, cwd=ROOT, env=_production_env(secret), capture_output=True, text=True, timeout=120, check=False
    )
    ours = [line for line in done.stderr.splitlines() if line.startswith("CAN CRM cannot start:")]
    assert done.returncode != 0
    assert len(ours) == 1 and message in ours[0], done.stderr[-2000:]
    assert "Traceback" not in done.stderr + done.stdout


def test_sign_in_counts_live_in_redis_when_there_is_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RATELIMIT_STORAGE_URI", raising=False)
    monkeypatch.delenv("REDIS_URL", raising=False)
    assert load_config(tmp_path, "test").RATELIMIT_STORAGE_URI == "memory://"
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/3")
    assert load_config(tmp_path, "test").RATELIMIT_STORAGE_URI == "redis://127.0.0.1:6379/3"
    monkeypatch.setenv("RATELIMIT_STORAGE_URI", "memory://")
    assert load_config(tmp_path, "test").RATELIMIT_STORAGE_URI == "memory://"
