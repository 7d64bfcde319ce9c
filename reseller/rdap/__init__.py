"""RDAP (RFC 9082/9083, the ICANN gTLD profile) for our domains, at ``/rdap``."""

from __future__ import annotations

from flask import Flask

from reseller.rdap import contact, views  # noqa: F401  (contact: its listener)


def init_app(app: Flask) -> None:
    app.register_blueprint(views.bp)
