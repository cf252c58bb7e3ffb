"""gunicorn entry point: `gunicorn pillpal_auth.wsgi:app`."""

from .app import create_app

app = create_app()
