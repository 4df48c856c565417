"""`flask --app wsgi <command>`: one module per domain, each adding its commands (or its group) here."""

from __future__ import annotations

from flask import Flask

from can_crm.cli import accounts, demo, federation, maps, matching, outreach, privacy, tracing


def register_commands(app: Flask) -> None:
    for domain in (accounts, demo, federation, maps, matching, outreach, privacy, tracing):
        domain.register(app.cli)
