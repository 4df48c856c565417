"""CAN CRM: community aid and volunteer matching for UK local authorities."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from flask import Flask
from jinja2 import ChoiceLoader, FileSystemLoader, PackageLoader, PrefixLoader

from can_crm.config import PROJECT_ROOT, load_config


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """The only application factory. `config` overrides settings read from the environment (tests)."""
    app = Flask(
        __name__,
        instance_path=str(PROJECT_ROOT / "instance"),
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=None,
    )
    environment = (config or {}).get("CAN_ENV")
    app.config.from_mapping(load_config(Path(app.instance_path), environment).as_mapping())
    if config:
        app.config.from_mapping(config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    if app.config.get("LOG_FILE"):
        # The deployment's log file: the same lines as the console (ids only, never personal data).
        handler = logging.FileHandler(app.config["LOG_FILE"])
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
        app.logger.addHandler(handler)
        logging.getLogger("werkzeug").addHandler(handler)

    app.jinja_loader = ChoiceLoader(
        [
            FileSystemLoader(str(PROJECT_ROOT / "templates")),
            PrefixLoader(
                {
                    "govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja"),
                    "govuk_frontend_wtf": PackageLoader("govuk_frontend_wtf"),
                }
            ),
        ]
    )

    # why: importing the package (models, scripts, the RQ worker) must not build the web layer; the factory does
    from can_crm import extensions, templating, web

    # Before anything reads app.jinja_env (extensions add template globals), so the environment is ours.
    app.jinja_environment = templating.Environment
    extensions.db.init_app(app)
    with app.app_context():
        extensions.check_on_checkout(extensions.db.engine)
    extensions.migrate.init_app(app, extensions.db, directory=str(PROJECT_ROOT / "migrations"))
    extensions.login_manager.init_app(app)
    extensions.csrf.init_app(app)
    extensions.limiter.init_app(app)
    for key, value in extensions.COMPRESS_SETTINGS.items():
        app.config.setdefault(key, value)
    extensions.compress.init_app(app)
    web.init_app(app)

    from can_crm.jobs.dispatch import init_queue  # why: as above

    init_queue(app)

    from can_crm.cli import register_commands  # why: as above

    register_commands(app)
    return app
