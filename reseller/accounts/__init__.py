"""Reseller accounts, their users and roles, machine credentials, login and the client-area
account pages."""

from __future__ import annotations

from flask import Flask

from reseller.accounts import (  # noqa: F401  (tasks: periodic jobs; models: tables)
    account_pages,
    api,
    cli,
    models,
    oauth,
    services,
    sessions,
    tasks,
    throttling,
    views,
)
from reseller.accounts.directory import DIRECTORY
from reseller.core.directory import set_reseller_directory
from reseller.core.throttle import store_from_config
from reseller.core.web import add_api
from reseller.core.web.auth import set_authenticator
from reseller.core.web.session import set_user_loader


def init_app(app: Flask) -> None:
    """The account API, OAuth token endpoint, the client-area pages (sign-in, users,
    credentials, settings), sign-in throttling, the `staff` commands and the periodic
    closure work; hands the web shell the API token resolver and the client area's
    session user; hands the wallet and white label the reseller directory."""
    app.extensions["tunnus.guard"] = throttling.guard_from_config(
        app.config, store_from_config(app.config))
    set_authenticator(app, services.authenticate_token)
    set_user_loader(app, sessions.load_user)
    set_reseller_directory(app, DIRECTORY)
    add_api(app, api.bp)
    app.register_blueprint(views.bp)
    oauth.init_app(app)
    app.cli.add_command(cli.staff_cli)
