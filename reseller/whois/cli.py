"""``flask whois-server``: the WHOIS server on its own; ``flask serve`` also starts it on
``WHOIS_PORT`` (the embedded default), and demo.json records that port."""

from __future__ import annotations

import logging
from typing import Any

import click
from flask import Flask, current_app

from reseller.whois.server import WhoisServer, start_in_thread

log = logging.getLogger(__name__)


@click.command("whois-server")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=None, help="Default: WHOIS_PORT (4343).")
def whois_server(host: str, port: int | None) -> None:
    """Answer WHOIS (RFC 3912) queries for our domains."""
    app = current_app._get_current_object()
    port = port or app.config["WHOIS_PORT"]
    server = WhoisServer(app, host, port, app.config["WHOIS_RATE_LIMIT"])
    click.echo(f"WHOIS server on {host}:{port}")
    try:
        server.serve_forever()
    finally:
        server.server_close()


def start_alongside(app: Flask, host: str) -> WhoisServer | None:
    """For ``flask serve``: a WHOIS thread; a busy port is reported, not fatal."""
    try:
        return start_in_thread(app, host, app.config["WHOIS_PORT"])
    except OSError as error:
        log.warning("WHOIS server not started on port %s: %s", app.config["WHOIS_PORT"], error)
        return None


def demo_info(config: Any) -> dict[str, Any]:
    return {"whois_port": config["WHOIS_PORT"]}
