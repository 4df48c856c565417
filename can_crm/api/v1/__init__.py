"""JSON API v1 (placeholder: being built)."""

from __future__ import annotations

from flask import Flask


def init_api(app: Flask) -> None:
    return None
