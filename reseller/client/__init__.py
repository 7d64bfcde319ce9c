"""The reseller client area: server-rendered pages, usable without JavaScript."""

from __future__ import annotations

from flask import Flask

from reseller.client import views


def init_app(app: Flask) -> None:
    app.register_blueprint(views.bp)
