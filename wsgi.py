"""WSGI entry point: `gunicorn wsgi:app`."""

from citizencenter import create_app

app = create_app()
