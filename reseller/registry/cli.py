"""``flask registry epp-server``: the sandbox registry behind a real EPP server, for our
own EPP client (``REGISTRY_ADAPTER=epp``) and for any registrar software to practise on."""

from __future__ import annotations

import signal
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from reseller.core.jobs import PERIODIC, run

registry_cli = AppGroup("registry", help="The registry: its poll queue, domain sync, the "
                                         "sandbox's EPP server and drift.")


POLL_JOB = "registry.poll"


@registry_cli.command("poll")
def poll() -> None:
    """Read and acknowledge the registry's poll queue now (the ``registry.poll`` job)."""
    # What a message means (a transfer out asked for, one of ours finished) is the domains'
    # business: the job that reads the queue is theirs, run here by its periodic name.
    job = PERIODIC.get(POLL_JOB)
    if job is None:
        raise click.ClickException(f"no {POLL_JOB} job: no feature reads the poll queue")
    click.echo(f"{run(job.path)} message(s) handled")


SYNC_JOB = "registry.sync"


@registry_cli.command("sync")
@click.argument("names", nargs=-1)
def sync(names: tuple[str, ...]) -> None:
    """Read names at the registry and apply what differs (the ``registry.sync`` job):
    NAMEs given (A-label form), else the run's due names."""
    job = PERIODIC.get(SYNC_JOB)
    if job is None:
        raise click.ClickException(f"no {SYNC_JOB} job: no feature keeps domains")
    report = run(job.path, *(n.strip().lower().rstrip(".") for n in names))
    for name, changes in report.changed.items():
        for change in changes:
            click.echo(f"{name}: {change['field']} {change['before']!r} -> {change['after']!r}")
    for name, problem in report.failed.items():
        click.echo(f"{name}: not read ({problem})", err=True)
    click.echo(f"{report.checked} read, {len(report.changed)} changed, "
               f"{len(report.failed)} failed")


@registry_cli.command("epp-server")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=7000, show_default=True,
              help="EPP's own port is 700; an unprivileged one by default.")
@click.option("--cert", type=click.Path(exists=True, dir_okay=False),
              help="Server certificate (PEM). Without it a self-signed one is made.")
@click.option("--key", type=click.Path(exists=True, dir_okay=False),
              help="The certificate's private key (PEM).")
@click.option("--client-ca", type=click.Path(exists=True, dir_okay=False),
              help="Require client certificates signed by this CA (RFC 5734 mutual TLS).")
def epp_server(host: str, port: int, cert: str | None, key: str | None,
               client_ca: str | None) -> None:
    """Serve the sandbox registry over EPP (RFC 5730-5734) with TLS."""
    # Loaded for this command only: the server, its TLS context and schema validation.
    from reseller.registry.epp.server import EppServer, server_context

    app = current_app._get_current_object()
    if bool(cert) != bool(key):
        raise click.UsageError("--cert and --key go together")
    if not cert:
        issued = _dev_certificate(Path(app.config["INSTANCE_DIR"]) / "epp", host)
        cert, key = str(issued.cert), str(issued.key)
        click.echo(f"  self-signed certificate: {cert}\n  key: {key}")
    server = EppServer(app, ssl_context=server_context(cert, key, client_ca), host=host,
                       port=port)
    if not server.clients:
        raise click.ClickException("no EPP logins: set EPP_SERVER_PASSWORD "
                                   "(and/or EPP_SERVER_CLIENTS=id:pw,...)")
    click.echo(f"EPP server on {host}:{port} (TLS{', client certificates required' if client_ca else ''})")
    for client_id, password in server.clients.items():
        shown = password if app.config["SANDBOX"] else "(from the configuration)"
        click.echo(f"  login: clID {client_id} password {shown}")
    signal.signal(signal.SIGTERM, _interrupt)  # finish commands in progress, then exit
    server.serve_forever()


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def _dev_certificate(directory: Path, host: str):
    from reseller.registry.epp.server import tls  # the EPP server's, loaded on demand

    cert, key = directory / "epp-server.pem", directory / "epp-server-key.pem"
    if cert.exists() and key.exists():
        return tls.Issued(cert, key)
    return tls.self_signed(directory, "localhost" if host in ("127.0.0.1", "::1") else host)


# -- drift: the sandbox registry changing names on its own ---------------------------------
sandbox_cli = AppGroup("sandbox", help="Make the sandbox registry change a name on its own, "
                                       "as real registries do (seen over EPP too).")
registry_cli.add_command(sandbox_cli)


def _drift(action, *args, **kwargs):
    from reseller.registry import sandbox_drift  # the sandbox's own rows, on demand
    from reseller.registry.errors import RegistryRejected

    try:
        return getattr(sandbox_drift, action)(*args, **kwargs)
    except (RegistryRejected, ValueError) as error:
        raise click.ClickException(str(error)) from None


@sandbox_cli.command("status")
@click.argument("name")
@click.option("--add", "add", multiple=True, help="A server status to set (serverHold, …).")
@click.option("--remove", "remove", multiple=True, help="A server status to clear.")
def sandbox_status(name: str, add: tuple[str, ...], remove: tuple[str, ...]) -> None:
    """Set or clear NAME's server statuses."""
    statuses = _drift("set_server_statuses", name, add=list(add), remove=list(remove))
    click.echo(f"{name}: {', '.join(statuses) or 'no server statuses'}")


@sandbox_cli.command("renew")
@click.argument("name")
@click.option("--years", type=int, default=1, show_default=True)
def sandbox_renew(name: str, years: int) -> None:
    """Renew NAME at the registry (as a gTLD auto-renew does)."""
    click.echo(f"{name}: expires {_drift('renew', name, years=years)}")


@sandbox_cli.command("nameservers")
@click.argument("name")
@click.argument("nameservers", nargs=-1, required=True)
def sandbox_nameservers(name: str, nameservers: tuple[str, ...]) -> None:
    """Delegate NAME to NAMESERVERS at the registry."""
    _drift("set_nameservers", name, list(nameservers))
    click.echo(f"{name}: {' '.join(nameservers)}")


@sandbox_cli.command("delete")
@click.argument("name")
@click.option("--purge", is_flag=True, help="Gone at once instead of into redemption.")
def sandbox_delete(name: str, purge: bool) -> None:
    """Delete NAME at the registry."""
    _drift("delete", name, purge=purge)
    click.echo(f"{name}: {'purged' if purge else 'in redemption'}")


@sandbox_cli.command("transfer-away")
@click.argument("name")
@click.option("--to", "to", default="other-registrar", show_default=True)
def sandbox_transfer_away(name: str, to: str) -> None:
    """Move NAME to another registrar without a poll message."""
    _drift("transfer_away", name, to=to)
    click.echo(f"{name}: sponsored by {to}")
