"""Where an order's CPU goes: every job a registration sets off, with its SQL statements
and CPU, in one process.

PostgreSQL and Redis start on free loopback ports (as in ``bench/orders.py``); the app runs
in this process: N registrations are posted through the API (Flask's test client, the
request side), then the jobs they queued run in an in-process RQ worker until nothing is
owed or queued (the worker side: the order, its listeners, e-mail, zone publishing,
webhooks). Prints per job path: runs, SQL statements and CPU milliseconds per order, then
the request side's figures, and with ``--profile FILE`` writes a cProfile of the worker
side (``python -m pstats FILE``) and prints its top functions by cumulative time.

With ``--floor`` it then prices the plumbing an order passes through, one unit at a time
in the same process, database and Redis: a request through the app (``/healthz``), a
prebuilt read by primary key (this process and PostgreSQL), a transaction around one,
and a no-op RQ job (queued and run, this process and Redis); and prints the floor of an
order: its counts of each (statements, commits and RQ jobs as counted above) times their
unit prices, beside what the order cost. What is above the floor is the order's own work.

Usage: .venv/bin/python bench/order_profile.py [--orders 100] [--profile /tmp/orders.prof]
       [--floor]
"""

from __future__ import annotations

import argparse
import cProfile
import dataclasses
import json
import os
import pstats
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import orders as order_bench  # noqa: E402
from tests.support import servers  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=100)
    parser.add_argument("--profile", help="write the worker side's cProfile here")
    parser.add_argument("--grow", type=int, default=0,
                        help="first grow the reseller to this many domains (bench/scale.py)")
    parser.add_argument("--statements", action="store_true",
                        help="print the SQL statements of each job's last run")
    parser.add_argument("--server-statements", action="store_true",
                        help="then print PostgreSQL's own time per statement "
                             "(pg_stat_statements), most first")
    parser.add_argument("--floor", action="store_true",
                        help="then price the plumbing (request, statement, commit, RQ job)")
    args = parser.parse_args()

    if args.server_statements:
        os.environ["TUNNUS_BENCH_PG_OPTIONS"] = (
            "-c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=all")
    pg, redis = servers.start_postgres(), servers.start_redis()
    instance = tempfile.mkdtemp(prefix="tunnus-profile-")
    try:
        os.environ.update(order_bench.environment(pg, redis, instance))
        os.environ.setdefault("LOG_LEVEL", "WARNING")
        import subprocess
        subprocess.run([str(order_bench.VENV_BIN / "flask"), "--app", "wsgi", "db", "upgrade"],
                       cwd=ROOT, check=True, capture_output=True)
        seeded = json.loads(order_bench.seed(args.orders))
        if args.grow:
            import sqlalchemy as sa

            from bench import scale
            engine = sa.create_engine(pg.url)
            with engine.connect() as connection:
                reseller_id = connection.scalar(sa.text("SELECT max(id) FROM resellers"))
            engine.dispose()
            print(f"grown to {args.grow} domains in "
                  f"{scale.grow(pg.url, reseller_id, 0, args.grow):.1f} s", flush=True)
        postmaster = int((pg.root / "data" / "postmaster.pid").read_text().split()[0])
        servers_cpu = {"postgres": [postmaster], "redis": [redis.process.pid]}
        if args.server_statements:
            import sqlalchemy as sa
            engine = sa.create_engine(pg.url)
            with engine.begin() as connection:
                connection.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_stat_statements"))
                connection.execute(sa.text("SELECT pg_stat_statements_reset()"))
            engine.dispose()
        counts = run(seeded, args.orders, args.profile, args.statements, servers_cpu)
        if args.server_statements:
            server_statements(pg.url, args.orders)
        if args.floor:
            floor(counts, servers_cpu)
    finally:
        redis.stop()
        pg.stop()


def run(seeded: dict, count: int, profile_path: str | None, show: bool = False,
        servers_cpu: dict[str, list[int]] | None = None) -> dict[str, float]:
    """Place ``count`` orders and run their jobs; print where the CPU went; return the
    order's counts and CPU per side (``floor`` prices them)."""
    import sqlalchemy as sa
    from redis import Redis

    from reseller import worker
    from reseller.app import create_app
    from reseller.core import jobs, pending
    from reseller.core.extensions import db

    app = create_app()
    statements, commits = [0], [0]
    current: list[str] = ["request"]
    servers_cpu = servers_cpu or {}
    texts: dict[str, list[str]] = defaultdict(list)

    def count_statement(conn, cursor, statement, parameters, context, executemany) -> None:
        statements[0] += 1
        texts[current[0]].append(" ".join(statement.split())[:160])

    def count_commit(conn) -> None:
        commits[0] += 1

    with app.app_context():
        sa.event.listen(db.engine, "before_cursor_execute", count_statement)
        sa.event.listen(db.engine, "commit", count_commit)

    client = app.test_client()
    headers = {"Authorization": f"Bearer {seeded['token']}"}
    request_profiler = cProfile.Profile(time.process_time) if profile_path else None
    if request_profiler:
        request_profiler.enable()
    cpu0, st0, co0 = time.process_time(), statements[0], commits[0]
    servers0 = order_bench.cpu_by_part(servers_cpu)
    for n in range(count):
        response = client.post("/api/v1/domains", json={
            "name": f"profile-{n}.fi", "period": 1,
            "contacts": {"registrant": seeded["contact"]}},
            headers={**headers, "Idempotency-Key": f"p-{n}"})
        assert response.status_code == 202, response.get_data(as_text=True)
    request_cpu = (time.process_time() - cpu0) * 1000 / count
    if request_profiler:
        request_profiler.disable()
        request_profiler.dump_stats(profile_path + ".request")
    request_statements = (statements[0] - st0) / count
    request_commits = (commits[0] - co0) / count

    per_job: dict[str, list[float]] = defaultdict(lambda: [0, 0, 0.0])
    original = jobs.run_queued

    def counted(path: str, job_args: tuple) -> object:
        began, before = time.process_time(), statements[0]
        current[0] = path
        try:
            return original(path, job_args)
        finally:
            row = per_job[path]
            row[0] += 1
            row[1] += statements[0] - before
            row[2] += (time.process_time() - began) * 1000

    jobs.run_queued = counted

    from reseller.core import events
    per_listener: dict[str, list[float]] = defaultdict(lambda: [0, 0, 0.0])

    def timed(listener):
        name = f"  listener {listener.__module__}.{listener.__name__}"

        def run_listener(event) -> None:  # an event, or a batch listener's list of them
            began, before = time.process_time(), statements[0]
            try:
                listener(event)
            finally:
                row = per_listener[name]
                row[0] += 1
                row[1] += statements[0] - before
                row[2] += (time.process_time() - began) * 1000
        return run_listener

    for table in (events._DEFERRED, events._LISTENERS):
        for key, listeners in table.items():
            table[key] = [timed(listener) for listener in listeners]
    forms: dict = {}  # a batch listener of several types stays one listener
    for key, batch_forms in events._DEFERRED_BATCH.items():
        events._DEFERRED_BATCH[key] = [
            forms.setdefault(form, dataclasses.replace(form, listener=timed(form.listener)))
            for form in batch_forms]
    worker.use_app(app)
    connection = Redis.from_url(os.environ["REDIS_URL"])
    runner = app.extensions["tunnus.jobs"]
    profiler = cProfile.Profile(time.process_time) if profile_path else None
    cpu0, st0, co0 = time.process_time(), statements[0], commits[0]
    if profiler:
        profiler.enable()
    while True:
        with app.app_context():
            pending.relay(runner.hand_over, runner.job_state)
            owed = db.session.scalar(sa.select(sa.func.count()).select_from(pending.PendingJob))
            db.session.remove()
        queued = sum(len(jobs_queue) for jobs_queue in
                     (worker.Queue(name, connection=connection) for name in jobs.QUEUES))
        if not owed and not queued:
            break
        worker.InProcessWorker([worker.Queue(name, connection=connection)
                                for name in jobs.QUEUES],
                               connection=connection).work(burst=True, logging_level="WARNING")
    if profiler:
        profiler.disable()
    worker_cpu = (time.process_time() - cpu0) * 1000 / count
    worker_statements = (statements[0] - st0) / count
    worker_commits = (commits[0] - co0) / count
    servers2 = order_bench.cpu_by_part(servers_cpu)

    print(f"{'job':58} {'runs/order':>10} {'stmts/order':>11} {'cpu_ms/order':>12}")
    for path, (runs, stmts, cpu) in sorted(per_job.items(), key=lambda kv: -kv[1][2]):
        print(f"{path:58} {runs / count:>10.2f} {stmts / count:>11.1f} {cpu / count:>12.2f}")
    for path, (runs, stmts, cpu) in sorted(per_listener.items(), key=lambda kv: -kv[1][2]):
        print(f"{path:58} {runs / count:>10.2f} {stmts / count:>11.1f} {cpu / count:>12.2f}")
    print(f"request side: statements_per_order={request_statements:.1f} "
          f"cpu_ms_per_order={request_cpu:.1f}")
    print(f"worker side:  statements_per_order={worker_statements:.1f} "
          f"cpu_ms_per_order={worker_cpu:.1f} (RQ and relay included)")
    if show:
        for path, lines in texts.items():
            runs = per_job[path][0] if path in per_job else count
            print(f"\n-- {path}: {len(lines) / max(runs, 1):.1f} statements per run")
            for line in lines[-round(len(lines) / max(runs, 1)):]:  # the last run's
                print("   ", line)
    if profiler:
        profiler.dump_stats(profile_path)
        pstats.Stats(profile_path).sort_stats("cumulative").print_stats(45)
    return {"statements": request_statements + worker_statements,
            "commits": request_commits + worker_commits,
            "jobs": sum(runs for runs, _, _ in per_job.values()) / count, "requests": 1.0,
            "python_ms": request_cpu + worker_cpu,
            **{f"{name}_ms": (servers2[name] - servers0[name]) * 1000 / count
               for name in servers_cpu}}


def server_statements(url: str, count: int) -> None:
    """PostgreSQL's own time (planning and execution) per order for each statement the
    orders ran, most first: where the server's CPU went."""
    import sqlalchemy as sa
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(sa.text(
            "SELECT calls, total_exec_time + total_plan_time AS ms, rows, query"
            " FROM pg_stat_statements WHERE query NOT LIKE '%pg_stat_statements%'"
            " ORDER BY 2 DESC LIMIT 40")).all()
    engine.dispose()
    total = sum(row.ms for row in rows)
    print(f"\nPostgreSQL, per order (top 40 statements: {total / count:.2f} ms)")
    print(f"{'ms/order':>8} {'calls/order':>11} {'rows/call':>9}  statement")
    for row in rows:
        print(f"{row.ms / count:>8.3f} {row.calls / count:>11.2f} "
              f"{row.rows / max(row.calls, 1):>9.1f}  {' '.join(row.query.split())[:110]}")


def floor(order: dict[str, float], servers_cpu: dict[str, list[int]]) -> None:
    """Price each unit of plumbing (CPU of this process and of each server, per unit) and
    print the floor of one order beside what it cost. The reads, commits and jobs here do
    nothing but be themselves: a prebuilt read by primary key of a small row, a commit
    of a transaction holding one such read, a job that returns at once."""
    import operator

    import sqlalchemy as sa
    from redis import Redis

    from reseller import worker
    from reseller.accounts.models import Reseller
    from reseller.app import create_app
    from reseller.core import jobs
    from reseller.core.db import unit_of_work
    from reseller.core.extensions import db

    app = create_app()
    client = app.test_client()
    read = sa.select(Reseller.id).where(Reseller.id == sa.bindparam("id"))

    def price(repeat: int, unit, then=lambda: None) -> dict[str, float]:
        for _ in range(min(repeat, 50)):  # warm: prepared statements, caches
            unit()
        then()
        servers0, cpu0 = order_bench.cpu_by_part(servers_cpu), time.process_time()
        for _ in range(repeat):
            unit()
        then()
        cpu, servers1 = time.process_time() - cpu0, order_bench.cpu_by_part(servers_cpu)
        prices = {"python": cpu * 1000 / repeat}
        prices.update({name: (servers1[name] - servers0[name]) * 1000 / repeat
                       for name in servers_cpu})
        prices["all"] = sum(prices.values())
        return prices

    with app.app_context():
        reseller_id = db.session.scalar(sa.select(sa.func.max(Reseller.id)))
        db.session.rollback()
        statement = price(3000, lambda: db.session.scalar(read, {"id": reseller_id}))
        db.session.rollback()

        def transaction() -> None:
            with unit_of_work():
                db.session.scalar(read, {"id": reseller_id})

        commit = {name: value - statement[name]
                  for name, value in price(2000, transaction).items()}
        runner = app.extensions["tunnus.jobs"]
        connection = Redis.from_url(os.environ["REDIS_URL"])
        queue = worker.Queue(jobs.QUEUES[0], connection=connection)
        worker.use_app(app)
        path = f"{operator.truth.__module__}.{operator.truth.__name__}"

        def queue_job() -> None:  # straight to Redis: no job row, no follow-up
            runner.submit(path, (1,), retries=0, queue=jobs.QUEUES[0], follow_up=False)

        def run_jobs() -> None:  # one worker for them all, as in production
            worker.InProcessWorker([queue], connection=connection).work(
                burst=True, logging_level="WARNING")

        rq_job = price(500, queue_job, run_jobs)
    request = price(2000, lambda: client.get("/healthz"))

    units = {"requests": request, "statements": statement, "commits": commit, "jobs": rq_job}
    print("\nfloor: the plumbing, per unit (ms of CPU: this process, then each server)")
    for name, prices in units.items():
        print(f"  {name:11} " + " ".join(f"{k}={v:.3f}" for k, v in prices.items())
              + f"   x {order[name]:.1f} per order")
    floor_ms = sum(units[name]["all"] * order[name] for name in units)
    spent = order["python_ms"] + sum(order[f"{name}_ms"] for name in servers_cpu)
    print(f"order: python={order['python_ms']:.1f} "
          + " ".join(f"{name}={order[name + '_ms']:.1f}" for name in servers_cpu)
          + f" all={spent:.1f} ms; floor={floor_ms:.1f} ms ({floor_ms / spent:.0%}); "
          f"above the floor={spent - floor_ms:.1f} ms")


if __name__ == "__main__":
    main()
