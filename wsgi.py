"""WSGI entry point: `gunicorn wsgi:app`, `flask --app wsgi ...`."""

from can_crm import create_app

app = create_app()
