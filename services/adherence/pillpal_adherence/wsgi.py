"""gunicorn entry point: `gunicorn pillpal_adherence.wsgi:app`."""

from .app import create_app

app = create_app()
