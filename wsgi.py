"""WSGI entry point in a checkout (``flask --app wsgi``); installed: ``reseller.wsgi:app``."""

from reseller.wsgi import app

__all__ = ["app"]
