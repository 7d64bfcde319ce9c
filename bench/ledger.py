"""Ledger benchmark: the purchase path against pgbench on the same PostgreSQL.

N client processes each run the real purchase path for a fixed time: ``hold_funds`` (the
conditional UPDATE that checks and reserves the balance) committed, then ``capture_hold``
committed — two ledger transfers, two transactions, as orders do in production. Then
``pgbench -M prepared`` (built-in tpcb-like) runs with the same client count. Everything
written is checked afterwards (every transfer balances, every wallet equals its entries and
the purchases counted by its client).

    .venv/bin/python bench/ledger.py [--clients 4] [--seconds 15]

Also prints two ceilings: the same two ledger functions driven by pgbench itself (C, no
application) and by a bare psycopg client (Python, the same statements and transactions as
``wallet.fastpath``, no SQLAlchemy session); the gap between the app and the bare client is
what the ORM session's unit of work costs per transaction. Last lines: ``violations=N`` and
``transfers_per_s=… pgbench_tps=… ratio=…``.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import re
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support import servers  # noqa: E402

FUNDS = Decimal("10000000.00")
NET = Decimal("10.00")
RATE = Decimal("0.255")
NET_CENTS = int(NET.scaleb(2))  # what the ledger functions take (the pgbench script too)
VAT_CENTS = int((NET * RATE).quantize(Decimal("0.01")).scaleb(2))


def make_app(url: str, instance: str):
    from reseller.app import create_app
    from reseller.core.config import engine_options

    return create_app({
        "SQLALCHEMY_DATABASE_URI": url, "SQLALCHEMY_ENGINE_OPTIONS": engine_options(url),
        "INSTANCE_DIR": instance, "JOBS_MODE": "collect", "SANDBOX": True,
        "TUNNUS_ENV": "sandbox", "MAIL_ADAPTER": "sandbox", "REDIS_URL": None,
        "RATELIMIT_ENABLED": False,
    })


def prepare(url: str, instance: str, clients: int) -> list[int]:
    """Migrate, and give each client a funded prepaid wallet of its own reseller."""
    from flask_migrate import upgrade

    from reseller.accounts.models import Reseller
    from reseller.core.db import unit_of_work
    from reseller.core.extensions import db
    from wallet import services
    from wallet.money import Money

    app = make_app(url, instance)
    ids = []
    with app.app_context():
        upgrade(revision="heads")
        for n in range(clients):
            with unit_of_work():
                reseller = Reseller(company_name=f"Bench {n} Oy", country="FI",
                                    business_id="2464491-9", language="fi", tier="standard",
                                    status="active", contact_email=f"b{n}@bench.example")
                db.session.add(reseller)
                db.session.flush()
                services.open_wallet(reseller_id=reseller.id)
                services.adjust_funds(reseller_id=reseller.id, amount=Money.of(FUNDS),
                                      reason="bench", actor="bench", reference=f"bench-{n}")
                ids.append(reseller.id)
    return ids


def client(reseller_id: int, ready, go, results: mp.Queue, seconds: float, url: str,
           instance: str, together: bool) -> None:
    import logging

    logging.disable(logging.INFO)
    from reseller.core.db import unit_of_work
    from wallet import services
    from wallet.money import Money

    app = make_app(url, instance)
    net = Money.of(NET)
    with app.app_context():
        done = 0
        services.available(reseller_id=reseller_id)  # connected and warm
        ready.release()
        go.wait()
        end = time.time() + seconds
        while time.time() < end:
            reference = f"bench-{reseller_id}-{done}"
            if together:  # hold and capture in one transaction (an immediate purchase)
                with unit_of_work():
                    services.hold_funds(reseller_id=reseller_id, net=net, vat_rate=RATE,
                                        reference=reference, description="bench purchase")
                    services.capture_hold(reference=reference)
            else:  # as orders do: hold, (registry), capture — two transactions
                with unit_of_work():
                    services.hold_funds(reseller_id=reseller_id, net=net, vat_rate=RATE,
                                        reference=reference, description="bench purchase")
                with unit_of_work():
                    services.capture_hold(reference=reference)
            done += 1
    results.put((reseller_id, done))


def check(url: str, instance: str, counts: dict[int, int]) -> list[str]:
    """Every invariant over everything written, plus each wallet against its client."""
    import sqlalchemy as sa

    from reseller.core.extensions import db
    from wallet import ledger, services
    from wallet.models import Hold, Purchase
    from wallet.money import Money
    from wallet.services import split_gross

    app = make_app(url, instance)
    _net, _vat, gross = split_gross(Money.of(NET), RATE)
    with app.app_context():
        problems = ledger.verify()
        for reseller_id, purchases in counts.items():
            wallet = services.get_wallet(reseller_id=reseller_id)
            expected = FUNDS - gross * purchases
            if wallet.funds_amount != expected or wallet.held_amount != 0:
                problems.append(f"wallet {reseller_id}: funds {wallet.funds_amount} held "
                                f"{wallet.held_amount}, expected {expected} and 0")
            captured = db.session.scalar(sa.select(sa.func.count()).select_from(Purchase)
                                         .where(Purchase.reseller_id == reseller_id))
            if captured != purchases:
                problems.append(f"reseller {reseller_id}: {captured} purchases, "
                                f"client counted {purchases}")
        active = db.session.scalar(sa.select(sa.func.count()).select_from(Hold)
                                   .where(Hold.state == "active"))
        if active:
            problems.append(f"{active} holds left active")
    return problems


def _pgbench_tps(server: servers.Postgres, database: str, *args: str) -> float:
    """Run pgbench (prepared statements) against ``database`` and read its tps."""
    out = subprocess.run([str(servers.PGBIN / "pgbench"), "-M", "prepared", *args,
                          "-h", "127.0.0.1", "-p", str(server.port), "-U", "postgres",
                          database], check=True, capture_output=True, text=True).stdout
    match = re.search(r"tps = ([0-9.]+) \(without initial connection time\)", out) \
        or re.search(r"tps = ([0-9.]+)", out)
    if match is None:
        raise RuntimeError(f"cannot read pgbench output:\n{out}")
    return float(match.group(1))


def pgbench(server: servers.Postgres, clients: int, seconds: int) -> float:
    server.create_database("pgbench")
    subprocess.run([str(servers.PGBIN / "pgbench"), "-i", "-q", "-s", str(clients),
                    "-h", "127.0.0.1", "-p", str(server.port), "-U", "postgres", "pgbench"],
                   check=True, capture_output=True)
    return _pgbench_tps(server, "pgbench", "-b", "tpcb-like", "-c", str(clients),
                        "-j", str(clients), "-T", str(seconds))


_FUNCTIONS_SCRIPT = """\\set r random(1, 2000000000)
\\set rid {first} + (:client_id % {count})
BEGIN;
SELECT outcome FROM wallet_hold(:rid, 'c-' || :client_id || '-' || :r, {net}, {vat}, {rate},
  'bench purchase', NULL, now() + interval '1 day', now());
COMMIT;
BEGIN;
SELECT outcome FROM wallet_capture('c-' || :client_id || '-' || :r, NULL, now());
COMMIT;
"""


def functions_from_c(server: servers.Postgres, url: str, ids: list[int], seconds: int
                     ) -> float:
    """Transfers/s when pgbench (C, prepared statements) calls the same two ledger
    functions in the same two transactions: the ceiling for any client of this schema,
    so the gap to it is the application's own cost."""
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as script:
        script.write(_FUNCTIONS_SCRIPT.format(first=min(ids), count=len(ids), net=NET_CENTS,
                                              vat=VAT_CENTS, rate=RATE))
    try:
        tps = _pgbench_tps(server, url.rsplit("/", 1)[1], "-n", "-f", script.name,
                           "-c", str(len(ids)), "-j", str(len(ids)), "-T", str(seconds))
    finally:
        os.unlink(script.name)
    return tps * 2  # each scripted transaction pair is two transfers


def bare_client(reseller_id: int, ready, go, results: mp.Queue, seconds: float,
                dsn: str) -> None:
    """The purchase path without the application: ``wallet.fastpath``'s two statements on a
    plain psycopg connection, each committed (BEGIN, SELECT, COMMIT), as the app does."""
    from datetime import UTC, datetime, timedelta

    import psycopg

    from wallet.fastpath import _CAPTURE, _HOLD

    with psycopg.connect(dsn) as connection:
        ready.release()
        go.wait()
        done, end = 0, time.time() + seconds
        while time.time() < end:
            reference, now = f"bare-{reseller_id}-{done}", datetime.now(UTC)
            with connection.cursor() as cursor:
                cursor.execute(_HOLD, (reseller_id, reference, NET_CENTS, VAT_CENTS, RATE,
                                       "bench purchase", None, now + timedelta(days=1), now),
                               prepare=True)
                if cursor.fetchone()[0] != "held":
                    raise RuntimeError("bare client: hold refused")
            connection.commit()
            with connection.cursor() as cursor:
                cursor.execute(_CAPTURE, (reference, None, now), prepare=True)
                cursor.fetchone()
            connection.commit()
            done += 1
    results.put((reseller_id, done))


def run_clients(ctx, target, ids: list[int], seconds: int, *config) -> dict[int, int]:
    """One ``target(reseller_id, ready, go, results, seconds, *config)`` process per
    reseller, all let go together once every one has connected; each one's purchases."""
    results, ready, go = ctx.Queue(), ctx.Semaphore(0), ctx.Event()
    procs = [ctx.Process(target=target, args=(rid, ready, go, results, seconds, *config))
             for rid in ids]
    for proc in procs:
        proc.start()
    for _ in procs:  # every client has built what it needs and connected
        ready.acquire()
    go.set()
    counts = dict(results.get(timeout=seconds + 120) for _ in procs)
    for proc in procs:
        proc.join()
    return counts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--one-transaction", action="store_true",
                        help="hold and capture in one transaction instead of two")
    args = parser.parse_args()
    os.environ.setdefault("TUNNUS_ENV", "sandbox")
    server = servers.start_postgres(max_connections=max(100, args.clients * 4))
    instance = tempfile.mkdtemp(prefix="tunnus-bench-")
    try:
        url = server.create_database("tunnus")
        ids = prepare(url, instance, args.clients)
        ctx = mp.get_context("spawn")
        counts = run_clients(ctx, client, ids, args.seconds, url, instance,
                             args.one_transaction)
        purchases = sum(counts.values())
        transfers_per_s = purchases * 2 / args.seconds
        print(f"clients={args.clients} seconds={args.seconds} purchases={purchases} "
              f"(each: hold + capture, two transactions)")
        problems = check(url, instance, counts)
        for problem in problems[:20]:
            print(problem)
        ceiling = functions_from_c(server, url, ids, args.seconds)
        print(f"ledger functions driven by pgbench (no app): transfers_per_s={ceiling:.1f} "
              f"(the app reaches {transfers_per_s / ceiling:.2f} of it)")
        dsn = url.replace("postgresql+psycopg://", "postgresql://", 1)
        bare = sum(run_clients(ctx, bare_client, ids, args.seconds, dsn).values()) * 2 \
            / args.seconds
        print(f"ledger functions from a bare psycopg client (no ORM session): "
              f"transfers_per_s={bare:.1f} (the app reaches {transfers_per_s / bare:.2f} of it)")
        tps = pgbench(server, args.clients, args.seconds)
        print(f"violations={len(problems)}")
        print(f"transfers_per_s={transfers_per_s:.1f} pgbench_tps={tps:.1f} "
              f"ratio={transfers_per_s / tps:.2f}")
        return 1 if problems else 0
    finally:
        server.stop()


if __name__ == "__main__":
    sys.exit(main())
