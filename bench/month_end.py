"""Month-end benchmark: N resellers × M purchases on PostgreSQL, invoiced by RQ workers.

    .venv/bin/python bench/month_end.py [--resellers 2000] [--purchases 30]

Starts its own PostgreSQL and Redis (tests/support/servers.py), seeds October 2026
purchases, moves the sandbox clock to 1 November and invoices half of the resellers with
one RQ worker, the other half with two. Prints wall time, invoices/s for 1 and 2 workers,
worker RSS at checkpoints and at peak, and ``overhead=`` the time per invoice (one worker)
divided by a bare weasyprint render of the same HTML. Everything it starts, it stops.

The bare render is timed twice. ``overhead=`` divides by the weasyprint call timed inside
the worker during the run (the same ``HTML(string=...).write_pdf`` on the same HTML, at
the same moment), so a shared machine speeding up or slowing down during a ten-minute
run cancels out. ``overhead_after=`` divides by renders of stored invoices re-timed in
this process after the run, the simpler but drift-prone measure; both are printed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

JOB = "wallet.invoices.invoicing.invoice_reseller_month"
NOW = datetime(2026, 11, 1, 0, 5, tzinfo=UTC)


def _app(database_url: str, redis_url: str, instance: str):
    from reseller.app import create_app

    os.environ.update(DATABASE_URL=database_url, REDIS_URL=redis_url, INSTANCE_DIR=instance,
                      TUNNUS_ENV="sandbox", JOBS_MODE="rq")
    return create_app({"SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 2, "max_overflow": 2}})


def seed(app, resellers: int, purchases: int) -> list[int]:
    import sqlalchemy as sa

    from reseller.accounts.models import Reseller
    from reseller.core.clock import clock
    from reseller.core.db import unit_of_work
    from reseller.core.extensions import db
    from wallet.models import Purchase, Wallet
    from wallet.references import wallet_reference

    start = datetime(2026, 10, 1, 8, tzinfo=UTC)
    with app.app_context(), unit_of_work():
        ids = list(db.session.scalars(sa.insert(Reseller).returning(Reseller.id), [
            {"company_name": f"Bench Reseller {n} Oy", "country": "FI",
             "business_id": "2464491-9", "vat_id": "FI24644919", "street": "Katu 1",
             "postal_code": "00100", "city": "Helsinki", "contact_email": f"b{n}@bench.example",
             "language": ("fi", "sv", "en")[n % 3], "tier": "standard", "status": "active"}
            for n in range(resellers)]))
        # Prepaid wallets with the funds the purchases left: issuing books the rounding.
        db.session.execute(sa.insert(Wallet), [
            {"reseller_id": rid, "payment_mode": "prepaid", "funds_amount": Decimal("100.00"),
             "reference_number": wallet_reference(rid)} for rid in ids])
        rows = [{"reseller_id": rid, "reference": f"bench-{rid}-{k}",
                 "description": f"register bench{rid}-{k}.fi", "source": "funds",
                 "item": {"domain": f"bench{rid}-{k}.fi", "operation": "register", "period": 1},
                 "currency": "EUR", "net_amount": Decimal("9.90"), "vat_amount": Decimal("2.52"),
                 "gross_amount": Decimal("12.42"), "vat_rate": Decimal("0.255"),
                 "captured_at": start + timedelta(hours=k * 20), "refunded": False}
                for rid in ids for k in range(purchases)]
        for chunk in range(0, len(rows), 5000):
            db.session.execute(sa.insert(Purchase), rows[chunk:chunk + 5000])
        clock.set(NOW)
    return ids


def worker_main() -> None:
    """One RQ worker process: build the app, warm up, wait for the start signal, drain."""
    import logging

    from redis import Redis
    from rq import Queue

    from reseller import worker
    from reseller.core import jobs
    from wallet.invoices import pdf

    logging.getLogger("weasyprint").setLevel(logging.ERROR)  # font-subsetting chatter
    app = _app(os.environ["DATABASE_URL"], os.environ["REDIS_URL"], os.environ["INSTANCE_DIR"])
    worker.use_app(app)
    with app.app_context():
        pdf.html_to_pdf("<p>warm-up ä ö å €</p>")
    spent = {"jobs": 0, "job_s": 0.0, "renders": 0, "render_s": 0.0}
    _time_calls(jobs, "run", spent, "job_s", "jobs")
    _time_calls(pdf, "html_to_pdf", spent, "render_s", "renders")
    go = Path(os.environ["BENCH_GO"])
    Path(str(go) + f".ready.{os.getpid()}").touch()
    while not go.exists():
        time.sleep(0.01)
    connection = Redis.from_url(os.environ["REDIS_URL"])
    worker.InProcessWorker([Queue(name, connection=connection) for name in ("urgent", "default")],
                    connection=connection).work(burst=True, logging_level="WARNING")
    Path(str(go) + f".spent.{os.getpid()}").write_text(json.dumps(spent))


def _time_calls(module, name: str, spent: dict, seconds: str, count: str | None = None) -> None:
    """Measure, inside a worker, the time spent in ``module.name`` (bench only)."""
    original = getattr(module, name)

    def timed(*args, **kwargs):
        started = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            spent[seconds] += time.perf_counter() - started
            if count:
                spent[count] += 1

    setattr(module, name, timed)


def _rss_kb(pid: int, field: str = "VmRSS") -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except FileNotFoundError:
        pass
    return 0


def _count_invoices(app, ids: list[int]) -> int:
    import sqlalchemy as sa

    from reseller.core.extensions import db
    from wallet.invoices.models import Invoice

    with app.app_context():
        count = db.session.scalar(sa.select(sa.func.count(Invoice.id)).where(
            Invoice.reseller_id.in_(ids)))
        db.session.remove()
        return count


def run_workers(app, ids: list[int], workers: int, env: dict) -> dict:
    from redis import Redis
    from rq import Queue

    from reseller.core.jobs import execute

    queue = Queue("default", connection=Redis.from_url(env["REDIS_URL"]))
    queue.enqueue_many([Queue.prepare_data(execute, (JOB, rid, "2026-10"), result_ttl=0,
                                           timeout=600) for rid in ids])
    go = Path(tempfile.mkdtemp(prefix="bench-go-")) / "go"
    procs = [subprocess.Popen([sys.executable, __file__, "--worker"], cwd=ROOT,
                              env={**env, "BENCH_GO": str(go)}) for _ in range(workers)]
    while len(list(go.parent.glob("go.ready.*"))) < workers:
        time.sleep(0.05)
    started = time.monotonic()
    go.touch()
    checkpoints: dict[int, int] = {}
    peak = 0
    marks = {int(len(ids) * share) for share in (0.1, 0.25, 0.5, 0.75)}
    while any(p.poll() is None for p in procs):
        done = _count_invoices(app, ids)
        rss = max(_rss_kb(p.pid) for p in procs)
        peak = max([peak, *(_rss_kb(p.pid, "VmHWM") for p in procs)])
        for mark in sorted(marks):
            if done >= mark and mark not in checkpoints:
                checkpoints[mark] = rss
        time.sleep(0.25)
    wall = time.monotonic() - started
    invoices = _count_invoices(app, ids)
    spent = [json.loads(path.read_text()) for path in go.parent.glob("go.spent.*")]
    shutil.rmtree(go.parent, ignore_errors=True)
    job_s = sum(s["job_s"] for s in spent)
    render_s = sum(s["render_s"] for s in spent)
    renders = sum(s["renders"] for s in spent)
    return {"wall": wall, "invoices": invoices, "rate": invoices / wall,
            "checkpoints": checkpoints, "peak": peak,
            "in_worker": job_s / render_s if render_s else float("nan"),
            "render": render_s / renders if renders else float("nan")}


def bare_render(app, ids: list[int], samples: int = 200) -> tuple[float, float]:
    """(seconds per bare weasyprint render, seconds per render_html) for stored invoices."""
    import sqlalchemy as sa

    from reseller.core.extensions import db
    from wallet.invoices import pdf
    from wallet.invoices.models import Invoice

    with app.app_context():
        invoices = list(db.session.scalars(sa.select(Invoice).where(
            Invoice.reseller_id.in_(ids)).order_by(Invoice.id).limit(samples)))
        pdf.html_to_pdf(pdf.render_html(invoices[0]))  # warm-up
        started = time.perf_counter()
        pages = [pdf.render_html(invoice) for invoice in invoices]
        templating = (time.perf_counter() - started) / len(pages)
        started = time.perf_counter()
        for html in pages:
            pdf.html_to_pdf(html)
        return (time.perf_counter() - started) / len(pages), templating


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resellers", type=int, default=2000)
    parser.add_argument("--purchases", type=int, default=30)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker_main()
        return
    from flask_migrate import upgrade

    from tests.support import servers

    postgres, redis = servers.start_postgres(), servers.start_redis()
    instance = tempfile.mkdtemp(prefix="bench-instance-")
    try:
        app = _app(postgres.url, redis.url, instance)
        with app.app_context():
            upgrade(directory=str(ROOT / "reseller/migrations"), revision="heads")
        t0 = time.monotonic()
        ids = seed(app, args.resellers, args.purchases)
        print(f"seeded {len(ids)} resellers × {args.purchases} purchases "
              f"in {time.monotonic() - t0:.1f}s", flush=True)
        env = {**os.environ, "DATABASE_URL": postgres.url, "REDIS_URL": redis.url,
               "INSTANCE_DIR": instance, "PYTHONPATH": str(ROOT)}
        half = len(ids) // 2
        one = run_workers(app, ids[:half], 1, env)
        two = run_workers(app, ids[half:], 2, env)
        bare, templating = bare_render(app, ids[:half])
        per_invoice = one["wall"] / one["invoices"]
        total = one["invoices"] + two["invoices"]
        print(f"invoices={total} of {len(ids)} wall={one['wall'] + two['wall']:.1f}s")
        for name, run in (("1 worker", one), ("2 workers", two)):
            marks = " ".join(f"{n}:{kb // 1024}MiB" for n, kb in sorted(run["checkpoints"].items()))
            print(f"{name}: {run['invoices']} invoices in {run['wall']:.1f}s = "
                  f"{run['rate']:.2f} invoices/s; worker RSS by invoices done {marks}; "
                  f"peak worker RSS {run['peak'] // 1024} MiB; "
                  f"in-worker job time / weasyprint time {run['in_worker']:.2f}")
        print(f"speedup 2 workers / 1 worker = {two['rate'] / one['rate']:.2f}x (target >= 1.7)")
        print(f"per invoice {per_invoice * 1000:.0f} ms; weasyprint render in the worker "
              f"{one['render'] * 1000:.0f} ms, re-timed after the run {bare * 1000:.0f} ms; "
              f"template {templating * 1000:.1f} ms")
        print(f"overhead={per_invoice / one['render']:.2f} (target <= 1.25) "
              f"overhead_after={per_invoice / bare:.2f}")
        print(f"peak RSS: bench process {_rss_kb(os.getpid(), 'VmHWM') // 1024} MiB")
    finally:
        redis.stop()
        postgres.stop()
        shutil.rmtree(instance, ignore_errors=True)


if __name__ == "__main__":
    main()
