"""The WSGI entry point of an installed Tunnus: ``gunicorn reseller.wsgi:app``."""

from reseller.app import create_app

app = create_app()
