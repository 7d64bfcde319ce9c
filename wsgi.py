"""WSGI entry point: ``gunicorn wsgi:app``."""

from reseller.app import create_app

app = create_app()
