"""The event feed: ``GET /api/v1/events?after=CURSOR`` over the core event log."""

from __future__ import annotations

from flask import Flask

from reseller.core.web import add_api
from reseller.events import api, tasks  # noqa: F401  (tasks: the redispatch job)


def init_app(app: Flask) -> None:
    add_api(app, api.bp)
