"""gunicorn entry point: `gunicorn pillpal_gateway.wsgi:app`."""

from .app import create_app

app = create_app()
