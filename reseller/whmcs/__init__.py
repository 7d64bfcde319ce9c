"""The WHMCS registrar-module endpoint ``/whmcs/v1/<Function>`` over the domain services."""

from __future__ import annotations

from flask import Flask

from reseller.core.extensions import csrf
from reseller.whmcs import views


def init_app(app: Flask) -> None:
    app.register_blueprint(views.bp)
    csrf.exempt(views.bp)  # API tokens from the WHMCS module, no session
