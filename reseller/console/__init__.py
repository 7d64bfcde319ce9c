"""The operator console: applications, resellers, the set-up checklist."""

from __future__ import annotations

from flask import Flask

from reseller.console import views


def init_app(app: Flask) -> None:
    app.register_blueprint(views.bp)
