"""``flask`` commands: the time machine, jobs and the scheduler, demo data, serving."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import click
from cryptography.fernet import Fernet
from flask import Flask, current_app
from flask.cli import AppGroup, FlaskGroup
from werkzeug.serving import run_simple
from werkzeug.utils import import_string

from reseller import demo, worker
from reseller.core import crypto
from reseller.core.clock import clock, parse_duration
from reseller.core.db import unit_of_work
from reseller.core.errors import DomainError
from reseller.core.extensions import db
from reseller.core.jobs import PERIODIC, ThreadScheduler, run
from reseller.whois.cli import start_alongside

clock_cli = AppGroup("clock", help="The sandbox time machine.")
jobs_cli = AppGroup("jobs", help="Background and periodic jobs.")
demo_cli = AppGroup("demo", help="Demo data for the embedded default.")
secrets_cli = AppGroup("secrets", help="Secrets encrypted at rest (DATA_ENCRYPTION_KEYS).")


@secrets_cli.command("new-key")
def secrets_new_key() -> None:
    """Print a new random key to put first in DATA_ENCRYPTION_KEYS."""
    click.echo(Fernet.generate_key().decode())


@secrets_cli.command("rotate")
def secrets_rotate() -> None:
    """Re-encrypt every stored secret with the first key of DATA_ENCRYPTION_KEYS.

    Run it once every process has the new key first (docs/operations.md, key rotation);
    when `flask secrets status` then exits 0, the old keys can go.
    """
    with unit_of_work():
        counts = crypto.rotate_all(db.session, db.metadata)
    for column, count in counts.items():
        click.echo(f"{column}: {count} re-encrypted")


@secrets_cli.command("status")
def secrets_status() -> None:
    """Count stored secrets by key; exit 1 while any is not under the first key.

    An old key may leave DATA_ENCRYPTION_KEYS once this exits 0.
    """
    usage = crypto.key_usage(db.session, db.metadata)
    for column, counts in usage.items():
        click.echo(f"{column}: " + ", ".join(f"{n} {what}" for what, n in counts.items()))
    behind = sum(c["older keys"] + c["plaintext"] + c["unreadable"] for c in usage.values())
    if behind:
        raise click.ClickException(f"{behind} stored secrets are not under the first key: "
                                   "run `flask secrets rotate` (after every process has "
                                   "the new key first)")
    click.echo("every stored secret is under the first key; older keys can be removed")


@clock_cli.command("show")
def clock_show() -> None:
    """Print the current (sandbox) time in ISO 8601."""
    click.echo(clock.now().isoformat(timespec="seconds"))


def _sandbox_only(what: str) -> None:
    """Refuse a demo or time-machine command outside sandbox mode, saying why."""
    if not current_app.config.get("SANDBOX"):
        raise click.ClickException(
            f"{what} works only in sandbox mode (TUNNUS_ENV=sandbox); this is production. "
            "Production starts empty: see the install runbook in docs/operations.md.")


def _move(action) -> None:
    _sandbox_only("the time machine (flask clock)")
    try:
        with unit_of_work():
            moment = action()
    except DomainError as error:
        raise click.ClickException(str(error.title)) from error
    click.echo(moment.isoformat(timespec="seconds"))


@clock_cli.command("set")
@click.argument("moment")
def clock_set(moment: str) -> None:
    """Move the sandbox clock to MOMENT (ISO 8601; UTC if no offset is given)."""
    try:
        parsed = datetime.fromisoformat(moment)
    except ValueError as error:
        raise click.BadParameter(f"not an ISO 8601 time: {moment}") from error
    _move(lambda: clock.set(parsed))


@clock_cli.command("advance")
@click.argument("duration")
def clock_advance(duration: str) -> None:
    """Move the sandbox clock forward by DURATION (e.g. 30d, 12h, 2w)."""
    try:
        delta = parse_duration(duration)
    except ValueError as error:
        raise click.BadParameter(str(error)) from error
    _move(lambda: clock.advance(delta))


@clock_cli.command("reset")
def clock_reset() -> None:
    """Back to real time."""
    _move(lambda: (clock.set_offset(timedelta(0)), clock.now())[1])


@jobs_cli.command("list")
def jobs_list() -> None:
    """List periodic jobs and their schedules."""
    for job in sorted(PERIODIC.values(), key=lambda j: j.name):
        click.echo(f"{job.name:28} {job.cron:16} {job.path}")


@jobs_cli.command("run")
@click.argument("name")
def jobs_run(name: str) -> None:
    """Run one periodic job now, in this process."""
    if name not in PERIODIC:
        raise click.BadParameter(f"unknown job {name!r}; see 'flask jobs list'")
    run(PERIODIC[name].path)
    _drain()
    click.echo(f"ran {name}")


def _drain() -> None:
    runner = current_app.extensions["tunnus.jobs"]
    if hasattr(runner, "drain"):
        runner.drain()


@demo_cli.command("load")
def demo_load() -> None:
    """Create the demo operator and resellers (idempotent) and write demo.json."""
    _sandbox_only("flask demo load")
    with unit_of_work():
        info = demo.load(current_app.config)
    _drain()
    path = demo.write_demo_json(current_app.config, info)
    click.echo(f"demo data ready; logins in {path}")


@click.command("serve")
@click.option("--host", default="127.0.0.1")
@click.option("--port", type=int, default=None)
def serve(host: str, port: int | None) -> None:
    """Serve the client area and API with in-process jobs (the embedded default)."""
    app = current_app._get_current_object()
    port = port or app.config["PORT"]
    ThreadScheduler(app).start()
    if start_alongside(app, host):
        click.echo(f"  WHOIS: whois -h {host} -p {app.config['WHOIS_PORT']} <domain>")
    info_path = demo.demo_json_path(app.config)
    if info_path.exists():
        info = json.loads(info_path.read_text())
        click.echo(demo.banner(info))
    run_simple(host, port, app, threaded=True, use_reloader=False)


def init_app(app: Flask) -> None:
    """The commands that span features (each feature adds its own in its ``init_app``)."""
    for command in (clock_cli, jobs_cli, demo_cli, secrets_cli, worker.worker_command,
                    worker.scheduler_command, serve):
        app.cli.add_command(command)


def main() -> None:
    """``tunnus``: the ``flask`` command line bound to the app (``tunnus db upgrade``,
    ``tunnus staff create``, ``tunnus worker`` …), usable from any directory."""
    # The factory by name, as ``flask --app`` takes it: it registers these commands.
    FlaskGroup(name="tunnus", create_app=import_string(worker.FACTORY), load_dotenv=False,
               help="Tunnus: the flask commands of the installed application.")()
