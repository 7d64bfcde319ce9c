"""WHOIS (RFC 3912) for our domains: ``flask whois-server``, and alongside ``flask serve``."""

from __future__ import annotations

from flask import Flask

from reseller.core.demo import add_demo_step
from reseller.whois import cli


def init_app(app: Flask) -> None:
    app.cli.add_command(cli.whois_server)
    add_demo_step(app, order=60, info=cli.demo_info)  # demo.json: where WHOIS answers
