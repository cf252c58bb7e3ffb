"""gunicorn entry point: `gunicorn pillpal_meds.wsgi:app`."""

from .app import create_app

app = create_app()
