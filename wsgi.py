"""WSGI entry point: `gunicorn wsgi:app`, `flask --app wsgi ...`."""

import sys

from can_crm import create_app
from can_crm.config import ConfigError

try:
    app = create_app()
except ConfigError as exc:
    # A configuration mistake is the operator's to fix: one line on stderr, not a traceback. Exit status 3
    # is gunicorn's "worker failed to boot", which stops the arbiter instead of respawning workers forever.
    print(f"CAN CRM cannot start: {exc}", file=sys.stderr)
    sys.exit(3)
