"""``flask dns``: the DNS update gate (``flask dns gate``) and putting every zone key on
the server again after the gate is switched on or off (``flask dns install-keys``)."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from reseller.core.db import unit_of_work
from reseller.core.jobs import enqueue
from reseller.dns.gate_server import GateServer
from reseller.dns.publishers import host_port

dns_cli = AppGroup("dns", help="DNS hosting: the update gate, zone keys on the server.")


def gate_address(config: dict) -> tuple[str, int] | None:
    """``DNS_GATE_LISTEN``, else every address on the port of ``DNS_GATE_SERVER``; None
    when no gate is configured."""
    if config.get("DNS_GATE_LISTEN"):
        return host_port(config["DNS_GATE_LISTEN"])
    if config.get("DNS_GATE_SERVER"):
        return "0.0.0.0", host_port(config["DNS_GATE_SERVER"])[1]
    return None


@dns_cli.command("gate")
@click.option("--listen", metavar="HOST:PORT",
              help="Default: DNS_GATE_LISTEN, else 0.0.0.0 on DNS_GATE_SERVER's port.")
def gate(listen: str | None) -> None:
    """Run the DNS update gate (RFC 2136 over UDP and TCP) for ACME zone keys."""
    app = current_app._get_current_object()
    try:
        address = host_port(listen) if listen else gate_address(app.config)
    except ValueError as bad:
        raise click.BadParameter("use HOST:PORT ([::]:53 for IPv6)", param_hint="--listen"
                                 ) from bad
    if address is None:  # tunnus.target starts the unit everywhere: not an error
        click.echo("DNS_GATE_SERVER is not set: no DNS update gate to run.")
        return
    host, port = address
    try:
        server = GateServer(app, host, port)
    except RuntimeError as refused:
        raise click.ClickException(str(refused)) from refused
    if app.config.get("DNS_GATE_SERVER"):
        with unit_of_work():  # ACME keys leave Knot where the gate now guards them
            enqueue("reseller.dns.tasks.install_all_keys")
    click.echo(f"DNS update gate on {host}:{server.port} (UDP and TCP) -> "
               f"{app.config['DNS_SERVER']}")
    server.start()
    try:
        server.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


@dns_cli.command("install-keys")
def install_keys() -> None:
    """Put every zone key on the server again (after DNS_GATE_SERVER changed)."""
    with unit_of_work():
        enqueue("reseller.dns.tasks.install_all_keys")
    click.echo("queued: reseller.dns.tasks.install_all_keys")
