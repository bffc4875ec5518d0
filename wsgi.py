"""WSGI entry point: `gunicorn wsgi:app`."""

from citizencenter import create_served_app

app = create_served_app()
