"""Benchmark: domain registrations through the API, end to end.

The app runs under gunicorn on PostgreSQL and Redis with ``flask worker`` processes
(started here, on free loopback ports, and stopped by PID afterwards). C clients register distinct names
through ``POST /api/v1/domains`` until every order has completed (seen in the event feed,
``GET /api/v1/events?type=order.completed``, as a polling client would); the same gunicorn's
trivial JSON endpoint (``/healthz``) is the ceiling. Prints::

    orders_per_s=… hello_rps=… ratio=…
    order_post_ms p50=… p99=…   order_done_ms p50=… p99=…
    deferred_work_drained_s=…   (the off-path work still queued when the last order completed)

Usage: .venv/bin/python bench/orders.py [--clients 8] [--orders 400] [--web 2] [--workers 2]
                                        [--rate R]

By default the clients place orders as fast as they can (closed loop): the ratio is the
throughput ceiling, and completion times then include the queue that builds up. With
``--rate R`` orders are offered at a steady R per second (open loop), which shows the
latency a reseller sees below saturation.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support import servers  # noqa: E402

VENV_BIN = ROOT / ".venv" / "bin"


def environment(pg: servers.Postgres, redis: servers.Redis, instance: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        "DATABASE_URL": pg.url, "REDIS_URL": redis.url, "JOBS_MODE": "rq",
        "INSTANCE_DIR": instance, "TUNNUS_ENV": "sandbox", "SECRET_KEY": "b" * 40,
        "PYTHONPATH": str(ROOT), "BASE_URL": "http://127.0.0.1",
    })
    return env


def seed(orders: int) -> str:
    """Catalogue, one funded reseller with a contact, and an API token (printed)."""
    from reseller.accounts import services as accounts
    from reseller.accounts.models import AccessToken, Reseller, User
    from reseller.app import create_app
    from reseller.catalog import services as catalog
    from reseller.core.db import unit_of_work
    from reseller.core.extensions import db
    from reseller.domains import contacts
    from wallet import services as wallet
    from wallet.money import Money

    app = create_app()
    with app.app_context(), unit_of_work():
        catalog.install_defaults()
        reseller = Reseller(company_name="Bench Oy", country="FI", business_id="2464491-9",
                            contact_email="bench@example.test", language="fi",
                            status="active", tier="standard")
        db.session.add(reseller)
        db.session.flush()
        wallet.open_wallet(reseller_id=reseller.id)
        wallet.adjust_funds(reseller_id=reseller.id, amount=Money.of(str(orders * 20 + 100)),
                            reason="bench", actor="bench", reference="bench-funds")
        contact = contacts.create_contact(
            reseller_id=reseller.id, name="Bench", organization="Bench Asiakas Oy",
            registration_number="2464491-9",  # .fi registrants need their identity
            email="bench@example.test", phone="+358.401234567", street="Katu 1",
            city="Helsinki", postal_code="00100", country="FI", language="fi")
        user = User(reseller_id=reseller.id, email="bench@example.test", name="Bench",
                    role="owner", is_operator=False)
        db.session.add(user)
        db.session.flush()
        raw = accounts.PERSONAL_TOKEN_PREFIX + secrets.token_urlsafe(24)
        db.session.add(AccessToken(reseller_id=reseller.id, kind="personal", name="bench",
                                   user_id=user.id,
                                   prefix=raw[:12], token_hash=accounts.hash_token(raw),
                                   scopes="domains:read domains:write events:read"))
        return json.dumps({"token": raw, "contact": contact.id})


class Client:
    def __init__(self, port: int, token: str) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def call(self, method: str, path: str, body: dict | None = None,
             headers: dict | None = None) -> tuple[int, dict]:
        payload = json.dumps(body) if body is not None else None
        self.conn.request(method, path, body=payload, headers={**self.headers, **(headers or {})})
        response = self.conn.getresponse()
        raw = response.read()
        try:
            return response.status, json.loads(raw or b"{}")
        except ValueError:
            raise RuntimeError(f"{method} {path}: {response.status} {raw[:300]!r}") from None


def wait_for(port: int, deadline: float = 120.0) -> None:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not come up")


def run_threads(target, count: int) -> None:
    """Run ``target(i)`` in ``count`` threads; re-raise the first failure."""
    errors: list[BaseException] = []

    def guarded(index: int) -> None:
        try:
            target(index)
        except BaseException as error:  # reported below, in the main thread
            errors.append(error)

    threads = [threading.Thread(target=guarded, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


def run_orders(port: int, token: str, contact: int, clients: int, total: int,
               rate: float | None = None, poll_ms: float = 20.0
               ) -> tuple[float, list[float], list[float]]:
    """Place ``total`` orders: as fast as the clients can (closed loop), or with ``rate``
    order ``n`` starts at ``n / rate`` seconds (open loop: a steady offered load)."""
    posted: dict[int, float] = {}
    post_ms: list[float] = []
    lock = threading.Lock()
    run_id = secrets.token_hex(3)
    began = time.perf_counter()

    def place(index: int) -> None:
        client = Client(port, token)
        for n in range(index, total, clients):
            if rate:
                time.sleep(max(0.0, began + n / rate - time.perf_counter()))
            start = time.perf_counter()
            status, body = client.call("POST", "/api/v1/domains", {
                "name": f"bench-{run_id}-{n}.fi", "period": 1,
                "contacts": {"registrant": contact}}, {"Idempotency-Key": f"b-{run_id}-{n}"})
            elapsed = time.perf_counter() - start
            if status != 202:
                raise RuntimeError(f"order refused: {status} {body}")
            with lock:
                posted[body["id"]] = start
                post_ms.append(elapsed * 1000)

    watcher = Watcher(port, token, total, poll_ms / 1000)
    watcher.start()
    try:
        run_threads(place, clients)
    finally:
        watcher.join(timeout=600)
    done_ms = watcher.latencies(posted)
    elapsed = time.perf_counter() - began
    return total / elapsed, post_ms, done_ms


class Watcher(threading.Thread):
    """Follow the event feed (``order.completed``/``order.failed``) while the orders are
    placed, as a polling client would, and note when each order is first seen done."""

    def __init__(self, port: int, token: str, total: int, pause: float) -> None:
        super().__init__(name="feed-watcher", daemon=True)
        self.client = Client(port, token)
        self.pause = pause
        self.total = total
        self.finished: dict[int, float] = {}
        self.error: str | None = None

    def run(self) -> None:
        path = "/api/v1/events?type=order.completed&type=order.failed&limit=200"
        deadline = time.monotonic() + 600
        while len(self.finished) < self.total and time.monotonic() < deadline:
            _status, page = self.client.call("GET", path)
            now = time.perf_counter()
            for event in page["items"]:
                if event["type"] == "order.failed":
                    self.error = f"order failed: {event}"
                    return
                self.finished.setdefault(event["data"]["order_id"], now)
            path = _path(page["next"])
            if not page["has_more"]:
                time.sleep(self.pause)

    def latencies(self, posted: dict[int, float]) -> list[float]:
        if self.error:
            raise RuntimeError(self.error)
        missing = [order_id for order_id in posted if order_id not in self.finished]
        if missing:
            raise RuntimeError(f"{len(missing)} of {len(posted)} orders not seen completed")
        return [(self.finished[i] - posted[i]) * 1000 for i in posted]


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def run_hello(port: int, token: str, clients: int, seconds: float) -> float:
    counts = [0] * clients
    stop = time.monotonic() + seconds

    def hammer(index: int) -> None:
        client = Client(port, token)
        while time.monotonic() < stop:
            status, body = client.call("GET", "/healthz")
            if status != 200:  # a 429 or 503 is cheaper than the real answer: not a ceiling
                raise RuntimeError(f"healthz answered {status}: {body}")
            counts[index] += 1

    run_threads(hammer, clients)
    return sum(counts) / seconds


def wait_for_workers(redis_url: str, count: int, deadline: float = 120.0) -> None:
    """Until ``count`` RQ workers have registered: a worker builds the app first, and
    that start-up must not share the CPU with the ceiling's measurement."""
    from redis import Redis
    from rq import Worker

    connection = Redis.from_url(redis_url)
    end = time.monotonic() + deadline
    while Worker.count(connection=connection) < count:
        if time.monotonic() > end:
            raise RuntimeError("the RQ workers did not start")
        time.sleep(0.2)


def wait_for_idle_workers(redis_url: str, deadline: float = 600.0,
                          database_url: str | None = None) -> float:
    """Seconds until the work deferred off the order path (registrant emails, zone
    publishing, webhooks) has drained too: every queue empty, no job running, and — with
    ``database_url`` — no job owed in ``pending_jobs`` that is due within seconds (a queue
    is empty for a moment between the relay's rounds while jobs are still owed; without
    this, a previous phase's leftover work was charged to the next one)."""
    import sqlalchemy as sa
    from redis import Redis
    from rq import Queue
    from rq.registry import ScheduledJobRegistry, StartedJobRegistry

    connection = Redis.from_url(redis_url)
    queues = [Queue(name, connection=connection) for name in ("urgent", "default")]
    engine = sa.create_engine(database_url) if database_url else None
    owed = sa.text("SELECT count(*) FROM pending_jobs WHERE failed_at IS NULL "
                   "AND not_before < now() + interval '5 seconds'")
    began = time.perf_counter()
    try:
        while time.perf_counter() - began < deadline:
            busy = sum(q.count + StartedJobRegistry(queue=q).count
                       + ScheduledJobRegistry(queue=q).count for q in queues)
            if not busy and engine is not None:
                with engine.connect() as db_connection:
                    busy = db_connection.scalar(owed)
            if not busy:
                break
            time.sleep(0.1)
    finally:
        if engine is not None:
            engine.dispose()
    return time.perf_counter() - began


def _tree_cpu_s(root: int, descendants: bool = True) -> float:
    """CPU seconds (user + system) used so far by ``root`` and its descendants.

    With ``descendants``, a process's children that have exited count too, through the
    times the kernel adds to their parent when it reaps them (``cutime``/``cstime``):
    PostgreSQL's autovacuum workers and a pool's closed connections come and go within a
    measurement, and counting only the live processes dropped a child that ended inside
    the window, or subtracted one that had been alive at its start."""
    tick = os.sysconf("SC_CLK_TCK")
    parents: dict[int, int] = {}
    used: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        parents[int(entry.name)] = int(fields[1])
        own, reaped = int(fields[11]) + int(fields[12]), int(fields[13]) + int(fields[14])
        used[int(entry.name)] = own + (reaped if descendants else 0)
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += used.get(pid, 0)
        if descendants:
            todo.extend(child for child, parent in parents.items() if parent == pid)
    return total / tick


def cpu_by_part(parts: dict[str, list[int]]) -> dict[str, float]:
    """CPU seconds per part of the system (each a list of root PIDs)."""
    return {name: sum(_tree_cpu_s(pid, descendants=pid != os.getpid()) for pid in pids)
            for name, pids in parts.items()}


def server_side_ms(database_url: str) -> tuple[float, float, float, float]:
    """Completion as the database recorded it (created → completed, p50/p99) and the
    registry call's start (created → submitted, p50/p99): separates queueing from the
    client's polling."""
    import sqlalchemy as sa

    engine = sa.create_engine(database_url)
    with engine.connect() as connection:
        row = connection.execute(sa.text(
            "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY d), "
            "percentile_cont(0.99) WITHIN GROUP (ORDER BY d), "
            "percentile_cont(0.5) WITHIN GROUP (ORDER BY s), "
            "percentile_cont(0.99) WITHIN GROUP (ORDER BY s) FROM ("
            "SELECT extract(epoch FROM completed_at - created_at) * 1000 AS d, "
            "extract(epoch FROM submitted_at - created_at) * 1000 AS s "
            "FROM orders WHERE state = 'completed') AS t")).one()
    engine.dispose()
    return tuple(float(v) for v in row)


def open_work(database_url: str) -> str:
    """What was still open when the orders did not all complete: the orders, the jobs
    owed for them, and the feed's horizon (the oldest running transaction)."""
    import sqlalchemy as sa

    engine = sa.create_engine(database_url)
    with engine.connect() as connection:
        found = [connection.execute(sa.text(sql)).all() for sql in (
            "SELECT id, state, attempts, created_at, completed_at FROM orders "
            "WHERE state NOT IN ('completed')",
            "SELECT id, path, args, failures, handovers, last_error FROM pending_jobs",
            "SELECT pid, state, xact_start, left(query, 120) FROM pg_stat_activity "
            "WHERE xact_start IS NOT NULL ORDER BY xact_start LIMIT 5")]
    engine.dispose()
    return "open work: " + repr(found)


def job_rows_per_order(database_url: str, orders: int) -> str:
    """The job outbox's cost (issue 25): ``pending_jobs`` rows written per order, each an
    INSERT in the queuing transaction and a SELECT and DELETE in the job's; and the
    statements PostgreSQL ran per order in all (``xact_commit`` is not a statement count,
    so the tuple counters are read: rows inserted, updated, deleted, fetched by index)."""
    import sqlalchemy as sa

    engine = sa.create_engine(database_url)
    with engine.connect() as connection:
        exists = connection.execute(sa.text(
            "SELECT count(*) FROM pg_stat_user_tables WHERE relname = 'pending_jobs'")).scalar()
        rows = connection.execute(sa.text(
            "SELECT n_tup_ins FROM pg_stat_user_tables WHERE relname = 'pending_jobs'")
        ).scalar() if exists else 0
        commits = connection.execute(sa.text(
            "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()")
        ).scalar()
    engine.dispose()
    return (f"job_outbox rows_per_order={rows / orders:.2f} (3 statements each: INSERT, "
            f"SELECT, DELETE)   commits_per_order={commits / orders:.1f} (whole run)")


def stop_all(processes: list[subprocess.Popen]) -> None:
    """Stop the stack's processes: SIGTERM to all, then SIGKILL to any still up after 10 s."""
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--orders", type=int, default=400)
    parser.add_argument("--web", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker")
    parser.add_argument("--workers", type=int, default=2, help="RQ worker processes")
    parser.add_argument("--urgent-workers", type=int, default=0,
                        help="more worker processes that take only urgent jobs (orders)")
    parser.add_argument("--hello-seconds", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=None,
                        help="orders per second offered (open loop) instead of as fast as "
                             "the clients can; shows latency below saturation")
    parser.add_argument("--poll-ms", type=float, default=20.0,
                        help="the feed watcher's pause when it has read everything (its "
                             "polling is load on the same gunicorn)")
    args = parser.parse_args()

    pg, redis = servers.start_postgres(), servers.start_redis()
    instance = tempfile.mkdtemp(prefix="tunnus-bench-")
    env = environment(pg, redis, instance)
    processes: list[subprocess.Popen] = []
    try:
        subprocess.run([str(VENV_BIN / "flask"), "--app", "wsgi", "db", "upgrade", "heads"],
                       cwd=ROOT, env=env, check=True, capture_output=True)
        seeded = json.loads(subprocess.run(
            [sys.executable, __file__, "--seed", str(args.orders)], cwd=ROOT, env=env,
            check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1])
        port = servers.free_port()
        processes.append(subprocess.Popen(
            [str(VENV_BIN / "gunicorn"), "-w", str(args.web), "--threads", str(args.threads),
             "-b", f"127.0.0.1:{port}", "--log-level", "warning", "wsgi:app"],
            cwd=ROOT, env=env))
        for n in range(args.workers + args.urgent_workers):
            # the production command: one app per worker process, no fork per job
            only = ["--queue", "urgent"] if n >= args.workers else []
            processes.append(subprocess.Popen(
                [str(VENV_BIN / "flask"), "--app", "wsgi", "worker", *only], cwd=ROOT,
                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        wait_for(port)
        wait_for_workers(redis.url, args.workers + args.urgent_workers)
        # The ceiling is measured half before and half after the orders (once the deferred
        # work has drained): on a shared machine its speed drifts, and the mean of both
        # sides is what the orders ran against. Both halves are printed.
        run_hello(port, seeded["token"], args.clients, 3.0)  # warm-up, not counted
        hello_before = run_hello(port, seeded["token"], args.clients, args.hello_seconds / 2)
        postmaster = int((pg.root / "data" / "postmaster.pid").read_text().split()[0])
        parts = {"gunicorn": [processes[0].pid], "workers": [p.pid for p in processes[1:]],
                 "postgres": [postmaster], "redis": [redis.process.pid],
                 "bench_clients": [os.getpid()]}
        cpu_before = cpu_by_part(parts)
        try:
            orders_per_s, post_ms, done_ms = run_orders(port, seeded["token"], seeded["contact"],
                                                        args.clients, args.orders, args.rate,
                                                        args.poll_ms)
        except RuntimeError:
            print(open_work(pg.url))
            raise
        drained_s = wait_for_idle_workers(redis.url, database_url=pg.url)
        cpu_after = cpu_by_part(parts)
        server = server_side_ms(pg.url)
        hello_after = run_hello(port, seeded["token"], args.clients, args.hello_seconds / 2)
        hello_rps = (hello_before + hello_after) / 2
        print(f"orders_per_s={orders_per_s:.1f} hello_rps={hello_rps:.1f} "
              f"ratio={orders_per_s / hello_rps:.3f}   (hello before {hello_before:.1f}, "
              f"after {hello_after:.1f})")
        print(f"order_post_ms p50={statistics.median(post_ms):.1f} p99={pct(post_ms, 0.99):.1f}"
              f"   order_done_ms p50={statistics.median(done_ms):.1f} "
              f"p99={pct(done_ms, 0.99):.1f}   (clients={args.clients} orders={args.orders} "
              f"{f'offered={args.rate:g}/s ' if args.rate else 'closed loop '}"
              f"gunicorn={args.web}x{args.threads} rq_workers={args.workers}+{args.urgent_workers} urgent-only)")
        print(f"deferred_work_drained_s={drained_s:.1f} (after the last order completed: "
              f"emails, zone publishing, webhooks)")
        print(f"server_side_ms done p50={server[0]:.1f} p99={server[1]:.1f}   "
              f"submitted p50={server[2]:.1f} p99={server[3]:.1f} (order row created → "
              f"completed / → registry call started)")
        spent = {name: (cpu_after[name] - cpu_before[name]) * 1000 / args.orders
                 for name in parts}
        print("cpu_ms_per_order " + " ".join(f"{name}={ms:.1f}" for name, ms in spent.items())
              + f" total={sum(spent.values()):.1f}")
        print(job_rows_per_order(pg.url, args.orders))
    finally:
        stop_all(processes)
        redis.stop()
        pg.stop()


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--seed":
        print(seed(int(sys.argv[2])))
    else:
        main()
