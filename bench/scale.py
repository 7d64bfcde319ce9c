"""Benchmark: one reseller at 1k, 10k and 100k domains feels what one with 100 does.

The production stack (PostgreSQL, Redis, gunicorn ``-w2 --threads 4``, one ``flask worker``)
is started here on free loopback ports. One reseller is grown to each size with bulk SQL
that mirrors the models (contacts 1 per 5 domains, glue hosts on 2%, hosted zones with 4
records on a third, one completed order, its hold and capture in the ledger, its purchase,
its ``order.completed`` event, its renewal watch and its row at the sandbox registry per
domain), then, per size:

* every API list/search/filter/detail page and client-area page, run in-process against
  the same database: SQL statements per request, median time, and its floor (the page's
  SELECTs replayed alone on a bare PostgreSQL connection) beside ``/healthz``;
* a 50-name availability check;
* the event feed's stall: while the renewal-reminder job runs over the reseller's portfolio,
  another reseller's freshly committed events are polled through the feed, and the longest
  wait between commit and visibility is printed;
* the load mix over HTTP (16 clients, 70% reads, 20% DNS edits, 10% orders): throughput
  against ``/healthz``, p50/p99 per kind, errors, CPU per component.

At the largest size orders alone are placed too (CPU per order, per component), and right
after them ``/healthz`` alone, whose machine CPU per request divides the machine's speed out
of the order's (``order_cpu_healthz``: an order costs that many ``/healthz``), in
``--order-rounds`` rounds whose median is the figure. The last line::

    worst_growth_1k_100k=… max_statements_per_page=… feed_stall_s=… load_ratio=… order_cpu_ms=…
    order_cpu_healthz=…

Usage: .venv/bin/python bench/scale.py [--sizes 1000,10000,100000] [--clients 16]
                                       [--load-seconds 20] [--repeat 15] [--orders 150]
                                       [--order-rounds 3] [--page-passes 3]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import orders as order_bench  # noqa: E402

from tests.support import servers  # noqa: E402

VENV_BIN = ROOT / ".venv" / "bin"
TLDS = ("fi", "se", "com", "eu")


# -- seeding ------------------------------------------------------------------------------------

def seed() -> str:
    """Catalogue; reseller A (the big one: funded, a signed-in owner, an API token) and
    reseller B (the neighbour whose feed must not stall). Printed as JSON."""
    from reseller.accounts import services as accounts
    from reseller.accounts.models import AccessToken, Reseller, User
    from reseller.app import create_app
    from reseller.catalog import services as catalog
    from reseller.core.db import unit_of_work
    from reseller.core.extensions import db
    from reseller.domains import contacts
    from reseller.support.plans import core_plan
    from wallet import services as wallet
    from wallet.money import Money

    app = create_app()
    out = {}
    with app.app_context(), unit_of_work():
        catalog.install_defaults()
        core_plan()  # the support plans are installed (flask support install-defaults)
        for key in ("a", "b"):
            reseller = Reseller(company_name=f"Scale {key.upper()} Oy", country="FI",
                                business_id="2464491-9", contact_email=f"{key}@example.test",
                                language="fi", status="active", tier="standard")
            db.session.add(reseller)
            db.session.flush()
            wallet.open_wallet(reseller_id=reseller.id)
            wallet.adjust_funds(reseller_id=reseller.id, amount=Money.of("1000000"),
                                reason="bench", actor="bench", reference=f"bench-funds-{key}")
            contact = contacts.create_contact(
                # An organisation with its business id: what .fi asks of a registrant.
                reseller_id=reseller.id, name="Bench", organization="Bench Oy",
                registration_number="2464491-9", email="bench@example.test", phone="+358.401234567", street="Katu 1",
                city="Helsinki", postal_code="00100", country="FI", language="fi")
            user = User(reseller_id=reseller.id, email=f"owner-{key}@example.test",
                        name="Owner", role="owner", is_operator=False)
            db.session.add(user)
            db.session.flush()
            raw = accounts.PERSONAL_TOKEN_PREFIX + secrets.token_urlsafe(24)
            db.session.add(AccessToken(
                reseller_id=reseller.id, kind="personal", name="bench", user_id=user.id,
                prefix=raw[:12], token_hash=accounts.hash_token(raw),
                scopes="domains:read domains:write dns:read dns:write events:read "
                       "billing:read account:read"))
            out[key] = {"reseller": reseller.id, "user": user.id, "token": raw,
                        "contact": contact.id}
    return json.dumps(out)


GROW_SQL = """
INSERT INTO contacts (reseller_id, handle, name, organization, email, phone, street, city,
                      postal_code, country, language, created_at, updated_at)
SELECT :rid, 'BC' || j, 'Asiakas ' || substr(md5(j::text), 1, 6) || ' ' || j,
       CASE WHEN j % 3 = 0 THEN 'Yritys ' || j || ' Oy' END, 'c' || j || '@example.test',
       '+358.401234567', 'Katu ' || j, 'Helsinki', '00100', 'FI', 'fi', now(), now()
FROM generate_series(:lo / 5 + 1, :hi / 5) AS j;

INSERT INTO domains (reseller_id, name, live_name, unicode_name, tld, status, created_at,
                     expires_at, auto_renew, locked, privacy, nameservers, ds, registrant_id,
                     admin_id, transfer_out_pending, suspended, updated_at)
SELECT :rid, n, n, n, t, CASE WHEN e < now() THEN 'expired' ELSE 'active' END, c, e,
       true, g % 7 = 0, false, '["ns1.tunnus.example", "ns2.tunnus.example"]', '[]',
       k.id, k.id, false, false, c
FROM (SELECT g, 'b' || substr(md5(g::text), 1, 9) || g || '.' || (ARRAY['fi','se','com','eu'])[1 + g % 4] AS n,
             (ARRAY['fi','se','com','eu'])[1 + g % 4] AS t,
             now() - ((g % 700) || ' days')::interval AS c,
             now() + (((g * 37) % 400 - 30) || ' days')::interval + interval '1 hour' AS e
      FROM generate_series(:lo + 1, :hi) AS g) AS s
JOIN contacts k ON k.handle = 'BC' || ((s.g - 1) / 5 + 1);

INSERT INTO domain_hosts (domain_id, name, addresses)
SELECT d.id, h || '.' || d.name, '["192.0.2.53"]'
FROM domains d CROSS JOIN (VALUES ('ns1'), ('ns2')) AS x(h)
WHERE d.reseller_id = :rid AND d.id > :first AND d.id % 50 = 0;

-- not on the DNS server yet (the sandbox server lives in the worker's memory): a zone's
-- first published change creates it there, as publishing does for any zone not on_server
INSERT INTO dns_zones (reseller_id, name, status, proof, verified_at, last_check, serial,
                       on_server, published_serial, published_at, last_sync, created_at,
                       updated_at)
SELECT :rid, name, 'active', 'domain', now(), '{}', 2026120601, false, NULL, NULL, '{}',
       created_at, created_at
FROM domains WHERE reseller_id = :rid AND id > :first AND id % 3 = 0;

INSERT INTO dns_records (zone_id, name, type, ttl, value)
SELECT z.id, r.n, r.t, 3600, CASE r.t WHEN 'A' THEN '192.0.2.' || (z.id % 250 + 1)
                                   WHEN 'CNAME' THEN z.name || '.'
                                   WHEN 'MX' THEN '10 mail.' || z.name || '.'
                                   ELSE '"v=spf1 mx -all"' END
FROM dns_zones z CROSS JOIN (VALUES ('@', 'A'), ('www', 'CNAME'), ('@', 'MX'),
                                    ('@', 'TXT')) AS r(n, t)
WHERE z.reseller_id = :rid AND z.id > :first_zone;

INSERT INTO orders (reseller_id, reference, idempotency_key, kind, domain_name, unicode_name,
                    tld, period, state, premium, currency, net, vat, total, vat_rate, params,
                    domain_id, registry_status, attempts, created_at, submitted_at,
                    completed_at)
SELECT :rid, 'bench-ord-' || id, 'bench-' || id, 'register', name, unicode_name, tld, 1,
       'completed', false, 'EUR', 10.00, 2.55, 12.55, 0.2550,
       json_build_object('contacts', json_build_object('registrant', registrant_id)),
       id, 'ok', 1, created_at, created_at, created_at
FROM domains WHERE reseller_id = :rid AND id > :first;

INSERT INTO ledger_entries (transfer_reference, account, reseller_id, amount)
SELECT x.prefix || 'bench-ord-' || d.id, x.account,
       CASE WHEN x.account LIKE 'reseller.%' THEN :rid END, x.amount
FROM domains d CROSS JOIN (VALUES ('hold:', 'reseller.funds', 1255),
                                  ('hold:', 'reseller.holds', -1255),
                                  ('capture:', 'reseller.holds', 1255),
                                  ('capture:', 'operator.revenue', -1000),
                                  ('capture:', 'operator.vat_payable', -255))
                           AS x(prefix, account, amount)
WHERE d.reseller_id = :rid AND d.id > :first;

INSERT INTO ledger_transfers (reference, kind, reseller_id, currency, description, actor,
                              created_at)
SELECT x.prefix || 'bench-ord-' || d.id, x.kind, :rid, 'EUR',
       'Registration ' || d.name, 'bench', d.created_at
FROM domains d CROSS JOIN (VALUES ('hold:', 'hold'), ('capture:', 'capture')) AS x(prefix, kind)
WHERE d.reseller_id = :rid AND d.id > :first;

INSERT INTO wallet_purchases (reseller_id, reference, description, item, source, currency,
                              net, vat, gross, vat_rate, captured_at, refunded)
SELECT :rid, 'bench-ord-' || d.id, 'Registration ' || d.name,
       json_build_object('order_id', o.id, 'kind', 'register', 'domain', d.name,
                         'period', 1, 'tld', d.tld),
       'funds', 'EUR', 1000, 255, 1255, 0.2550, d.created_at, false
FROM domains d JOIN orders o ON o.domain_id = d.id
WHERE d.reseller_id = :rid AND d.id > :first;

INSERT INTO events (reseller_id, type, dedupe_key, data, created_at, dispatched_at)
SELECT :rid, 'order.completed', 'order.completed:bench-' || o.id,
       json_build_object('order_id', o.id, 'kind', 'register', 'domain', o.domain_name),
       o.completed_at, o.completed_at
FROM orders o WHERE o.reseller_id = :rid AND o.domain_id > :first;

INSERT INTO renewal_watches (reseller_id, domain, expires_at, recipient, language)
SELECT :rid, d.name, d.expires_at, k.email, 'fi'
FROM domains d JOIN contacts k ON k.id = d.registrant_id
WHERE d.reseller_id = :rid AND d.id > :first;

INSERT INTO sandbox_registry_domains (name, sponsor, auth_code, created_at, expires_at,
                                      registrant, admin, nameservers, ds, locked, hold, status)
SELECT d.name, 'tunnus', md5(d.name), d.created_at, d.expires_at, k.handle, k.handle,
       d.nameservers, '[]', d.locked, false, 'ok'
FROM domains d JOIN contacts k ON k.id = d.registrant_id
WHERE d.reseller_id = :rid AND d.id > :first;
"""


def grow(database_url: str, reseller_id: int, lo: int, hi: int) -> float:
    """Add domains ``lo+1 .. hi`` (and what comes with them) to reseller ``reseller_id``."""
    import sqlalchemy as sa

    began = time.perf_counter()
    engine = sa.create_engine(database_url)
    with engine.begin() as connection:
        first = connection.scalar(sa.text("SELECT coalesce(max(id), 0) FROM domains"))
        first_zone = connection.scalar(sa.text("SELECT coalesce(max(id), 0) FROM dns_zones"))
        params = {"rid": reseller_id, "lo": lo, "hi": hi, "first": first,
                  "first_zone": first_zone}
        for statement in filter(str.strip, GROW_SQL.split(";\n")):
            connection.execute(sa.text(statement), params)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql("VACUUM ANALYZE")
    engine.dispose()
    return time.perf_counter() - began


# -- pages in-process: statements, time, floor -------------------------------------------------

class Pages:
    """The app in this process on the bench database; counts each request's statements."""

    def __init__(self, seeded: dict) -> None:
        import sqlalchemy as sa
        from sqlalchemy import event

        from reseller.accounts.models import User
        from reseller.accounts.sessions import _fingerprint
        from reseller.app import create_app
        from reseller.core.extensions import db

        self.app = create_app()
        logging.getLogger("tunnus").setLevel(logging.WARNING)  # no access log per request
        self.statements: list[tuple[str, object]] = []
        with self.app.app_context():
            engine = db.engine
            event.listen(engine, "before_cursor_execute", self._note)
            self.engine = engine
            user = db.session.get(User, seeded["a"]["user"])
            fingerprint = _fingerprint(user)
            rid = seeded["a"]["reseller"]
            self.sample = db.session.scalar(sa.text(
                "SELECT name FROM domains WHERE reseller_id = :rid AND status = 'active' "
                "ORDER BY id LIMIT 1"), {"rid": rid})
            self.zone = db.session.scalar(sa.text(
                "SELECT name FROM dns_zones WHERE reseller_id = :rid ORDER BY id LIMIT 1"),
                {"rid": rid})
        self.api = self.app.test_client()
        self.api_headers = {"Authorization": f"Bearer {seeded['a']['token']}"}
        self.web = self.app.test_client()
        with self.web.session_transaction() as session:
            session["uid"], session["fp"] = seeded["a"]["user"], fingerprint

    def _note(self, _conn, _cursor, statement, parameters, _context, _many) -> None:
        # The sandbox time machine reads its offset at most once a second, whichever request
        # is running then: a sandbox-only read (production has no offset), not the page's.
        if "FROM sandbox_clock" not in statement:
            self.statements.append((statement, parameters))

    def request(self, path: str, *, web: bool = False) -> tuple[int, int, int]:
        """(status, statements, bytes) of one GET."""
        self.statements = []
        client = self.web if web else self.api
        response = client.get(path, headers=None if web else self.api_headers)
        body = response.get_data()
        return response.status_code, len(self.statements), len(body)

    def measure(self, path: str, *, web: bool = False, repeat: int = 15) -> dict:
        self.request(path, web=web)  # warm caches, as a second visit would
        status, count, size = self.request(path, web=web)
        captured = list(self.statements)
        times = []
        for _ in range(repeat):
            began = time.perf_counter()
            self.request(path, web=web)
            times.append((time.perf_counter() - began) * 1000)
        return {"status": status, "statements": count, "bytes": size,
                "ms": statistics.median(times), "floor_ms": self.floor(captured, repeat)}

    def floor(self, captured: list[tuple[str, object]], repeat: int) -> float:
        """The page's SELECTs alone on a bare connection (median of ``repeat``), ms."""
        selects = [(s, p) for s, p in captured if s.lstrip().upper().startswith(("SELECT", "WITH"))]
        raw = self.engine.raw_connection()
        try:
            cursor = raw.cursor()
            times = []
            for _ in range(max(3, repeat // 3)):
                began = time.perf_counter()
                for statement, parameters in selects:
                    cursor.execute(statement, parameters)
                    cursor.fetchall()
                times.append((time.perf_counter() - began) * 1000)
            raw.rollback()
        finally:
            raw.close()
        return statistics.median(times)


def page_paths(sample: str, zone: str, names_50: str) -> list[tuple[str, str, bool]]:
    q = sample[1:5]  # a few characters of a name: matches about 1 in 10,000 names
    return [
        ("healthz", "/healthz", False),
        ("api domains", "/api/v1/domains", False),
        ("api domains ?q=", f"/api/v1/domains?q={q}", False),
        ("api domains ?tld=&status=", "/api/v1/domains?tld=se&status=active", False),
        ("api domains ?expires_before=", "/api/v1/domains?expires_before=2027-01-15", False),
        ("api domain", f"/api/v1/domains/{sample}", False),
        ("api domain dns", f"/api/v1/domains/{zone}/dns", False),
        ("api contacts", "/api/v1/contacts", False),
        ("api orders", "/api/v1/orders", False),
        ("api wallet", "/api/v1/wallet", False),
        ("api transactions", "/api/v1/wallet/transactions", False),
        ("api events", "/api/v1/events", False),
        ("api invoices", "/api/v1/invoices", False),
        ("rdap domain", f"/rdap/domain/{sample}", False),
        ("api check 50", f"/api/v1/domains/check?names={names_50}", False),
        ("web domains", "/domains", True),
        ("web domains ?q=", f"/domains?q={q}", True),
        ("web domain", f"/domains/{sample}", True),
        ("web contacts", "/contacts", True),
        ("web register", "/domains/register?name=uusi-nimi-123.fi", True),
        ("web orders", "/orders", True),
        ("web wallet", "/wallet", True),
        ("web invoices", "/billing/invoices", True),
        ("web dashboard", "/", True),
        ("web zone", f"/dns/{zone}", True),
        ("api tlds", "/api/v1/tlds", False),
    ]


def fifty_names(sample: str) -> str:
    """50 names: a few of the reseller's own, the rest new."""
    return ",".join([sample] + [f"vapaa-{i}-{secrets.token_hex(2)}.{TLDS[i % 4]}"
                                for i in range(49)])


# -- the event feed's stall ----------------------------------------------------------------------

def feed_stall(database_url: str, redis_url: str, port: int, env: dict, neighbour: dict
               ) -> tuple[float, float]:
    """Run the renewal-reminder job (reseller A's portfolio) and whatever it queued, while
    reseller B's events are committed every 100 ms and polled through B's feed: (longest
    wait s, job s until the workers are idle again)."""
    import sqlalchemy as sa

    engine = sa.create_engine(database_url)
    committed: dict[int, float] = {}
    seen: dict[int, float] = {}
    stop = threading.Event()

    def writer() -> None:
        while not stop.is_set():
            with engine.begin() as connection:
                event_id = connection.scalar(sa.text(
                    "INSERT INTO events (reseller_id, type, dedupe_key, data, created_at, "
                    "dispatched_at) VALUES (:rid, 'wallet.low_balance', :key, '{}', now(), "
                    "now()) RETURNING id"),
                    {"rid": neighbour["reseller"], "key": f"stall-{secrets.token_hex(8)}"})
            committed[event_id] = time.perf_counter()
            time.sleep(0.1)

    def reader() -> None:
        client = order_bench.Client(port, neighbour["token"])
        path = "/api/v1/events?limit=200"
        while not (stop.is_set() and set(committed) <= set(seen)):
            status, page = client.call("GET", path)
            if status != 200:  # e.g. 429 once the hour's calls are spent: say so, go on
                refused[status] = refused.get(status, 0) + 1
                time.sleep(0.2)
                continue
            now = time.perf_counter()
            for item in page["items"]:
                seen.setdefault(item["id"], now)
            path = order_bench._path(page["next"])
            if not page["has_more"]:
                time.sleep(0.02)
            if stop.is_set() and time.perf_counter() - stopped[0] > 60:
                return

    stopped = [0.0]
    refused: dict[int, int] = {}
    threads = [threading.Thread(target=writer), threading.Thread(target=reader)]
    for thread in threads:
        thread.start()
    time.sleep(0.5)
    began = time.perf_counter()
    subprocess.run([str(VENV_BIN / "flask"), "--app", "wsgi", "jobs", "run",
                    "registrant-compliance"], cwd=ROOT, env=env, check=True,
                   capture_output=True)
    order_bench.wait_for_idle_workers(redis_url, database_url=database_url)  # its chunks
    job_s = time.perf_counter() - began
    time.sleep(0.5)
    stopped[0] = time.perf_counter()
    stop.set()
    for thread in threads:
        thread.join()
    engine.dispose()
    if refused:
        print(f"   (the feed reader was refused: {refused})")
    waits = [seen.get(event_id, float("inf")) - at for event_id, at in committed.items()]
    return max(waits, default=0.0), job_s


# -- the load mix over HTTP ----------------------------------------------------------------------

def load_mix(port: int, seeded: dict, names: list[str], zones: list[str], clients: int,
             seconds: float, parts: dict) -> dict:
    """16 clients: 70% reads, 20% DNS edits, 10% orders, closed loop for ``seconds``."""
    a = seeded["a"]
    latencies: dict[str, list[float]] = {"read": [], "dns": [], "order": []}
    errors: list[str] = []
    lock = threading.Lock()
    run_id = secrets.token_hex(3)
    stop = time.monotonic() + seconds

    def read_path(rng: random.Random) -> str:
        name = rng.choice(names)
        return rng.choice([
            "/api/v1/domains", "/api/v1/domains?q=" + name[1:5], "/api/v1/domains?tld=se",
            f"/api/v1/domains/{name}", f"/api/v1/domains/{rng.choice(zones)}/dns",
            "/api/v1/contacts", "/api/v1/orders", "/api/v1/wallet/transactions",
            "/api/v1/events", f"/rdap/domain/{name}",
            "/api/v1/domains/check?names=" + ",".join(
                [name] + [f"x{rng.randrange(10**6)}.{TLDS[i % 4]}" for i in range(49)]),
        ])

    def client_loop(index: int) -> None:
        rng = random.Random(index)
        client = order_bench.Client(port, a["token"])
        n = 0
        while time.monotonic() < stop:
            roll = rng.random()
            began = time.perf_counter()
            if roll < 0.7:
                kind, path = "read", read_path(rng)
                status, body = client.call("GET", path)
                ok = status == 200
            elif roll < 0.9:
                kind, zone = "dns", rng.choice(zones)
                status, body = client.call("PATCH", f"/api/v1/domains/{zone}/dns", {
                    "remove": [{"name": "bench", "type": "TXT"}],
                    "add": [{"name": "bench", "type": "TXT",
                             "value": f'"load {run_id} {index} {n}"'}]})
                ok = status == 200
            else:
                kind = "order"
                status, body = client.call("POST", "/api/v1/domains", {
                    "name": f"mix-{run_id}-{index}-{n}.fi", "period": 1,
                    "contacts": {"registrant": a["contact"]}},
                    {"Idempotency-Key": f"mix-{run_id}-{index}-{n}"})
                ok = status == 202
            elapsed = (time.perf_counter() - began) * 1000
            with lock:
                latencies[kind].append(elapsed)
                if not ok:
                    errors.append(f"{kind} {status} {str(body)[:200]}")
            n += 1

    cpu_before = order_bench.cpu_by_part(parts)
    began = time.perf_counter()
    order_bench.run_threads(client_loop, clients)
    elapsed = time.perf_counter() - began
    cpu_after = order_bench.cpu_by_part(parts)
    total = sum(len(v) for v in latencies.values())
    return {"rps": total / elapsed, "latencies": latencies, "errors": errors,
            "cpu_ms": {k: (cpu_after[k] - cpu_before[k]) * 1000 / max(total, 1)
                       for k in parts}}


def order_cpu(port: int, seeded: dict, database_url: str, redis_url: str, parts: dict,
              count: int) -> dict:
    """Orders alone (8 clients, closed loop, until every one completed and the work they
    deferred has drained): machine CPU per order per component."""
    import sqlalchemy as sa

    a, run_id = seeded["a"], secrets.token_hex(3)
    order_bench.wait_for_idle_workers(redis_url, database_url=database_url)
    before = order_bench.cpu_by_part(parts)
    began = time.perf_counter()

    def place(index: int) -> None:
        client = order_bench.Client(port, a["token"])
        for n in range(index, count, 8):
            status, body = client.call("POST", "/api/v1/domains", {
                "name": f"solo-{run_id}-{n}.fi", "period": 1,
                "contacts": {"registrant": a["contact"]}}, {"Idempotency-Key": f"s-{run_id}-{n}"})
            if status != 202:
                raise RuntimeError(f"order refused: {status} {body}")

    order_bench.run_threads(place, 8)
    engine = sa.create_engine(database_url)
    with engine.connect() as connection:
        # Open orders by the state index (a LIKE over every order's name was a scan of
        # 100,000 rows per poll, and counted as the database's CPU per order)
        while connection.scalar(sa.text(
                "SELECT count(*) FROM orders WHERE state IN ('pending', 'held') "
                "AND domain_name LIKE :p"), {"p": f"solo-{run_id}-%"}):
            connection.rollback()
            time.sleep(0.05)
    engine.dispose()
    rate = count / (time.perf_counter() - began)
    order_bench.wait_for_idle_workers(redis_url, database_url=database_url)
    after = order_bench.cpu_by_part(parts)
    spent = {k: (after[k] - before[k]) * 1000 / count for k in parts}
    spent["machine"] = sum(v for k, v in spent.items() if k != "bench_clients")
    spent["orders_per_s"] = rate
    return spent


def healthz_cpu(port: int, seeded: dict, parts: dict, seconds: float = 4.0) -> float:
    """Machine CPU per ``/healthz`` request (8 clients, closed loop), in ms: measured next
    to the orders, it divides out how fast the machine runs at that moment (this one's
    speed moved by a third within an hour), so two runs compare by their ratio."""
    before = order_bench.cpu_by_part(parts)
    requests = order_bench.run_hello(port, seeded["a"]["token"], 8, seconds) * seconds
    after = order_bench.cpu_by_part(parts)
    return sum(after[k] - before[k] for k in parts if k != "bench_clients") * 1000 / requests


# -- main ---------------------------------------------------------------------------------------

def pct(values: list[float], q: float) -> float:
    return order_bench.pct(values, q) if values else float("nan")


def sample_names(database_url: str, reseller_id: int) -> tuple[list[str], list[str]]:
    import sqlalchemy as sa

    engine = sa.create_engine(database_url)
    with engine.connect() as connection:
        names = list(connection.scalars(sa.text(
            "SELECT name FROM domains WHERE reseller_id = :rid AND status = 'active' "
            "ORDER BY random() LIMIT 200"), {"rid": reseller_id}))
        zones = list(connection.scalars(sa.text(
            "SELECT name FROM dns_zones WHERE reseller_id = :rid ORDER BY random() LIMIT 200"),
            {"rid": reseller_id}))
    engine.dispose()
    return names, zones


def print_pages(size: int, results: dict) -> None:
    print(f"\n== {size} domains: pages (in-process; statements, median ms, floor = the "
          f"page's SELECTs alone in PostgreSQL)")
    print(f"{'page':32} {'status':>6} {'stmts':>6} {'ms':>8} {'floor':>8} {'bytes':>9}")
    for label, row in results.items():
        print(f"{label:32} {row['status']:>6} {row['statements']:>6} {row['ms']:>8.1f} "
              f"{row['floor_ms']:>8.1f} {row['bytes']:>9}")


def print_load(size: int, mix: dict, hello: float) -> None:
    lat = mix["latencies"]
    print(f"-- {size} domains: load mix {mix['rps']:.1f} req/s (/healthz {hello:.1f} req/s, "
          f"ratio {mix['rps'] / hello:.3f}), errors={len(mix['errors'])}")
    for kind, values in lat.items():
        print(f"   {kind:6} n={len(values):5} p50={pct(values, 0.5):7.1f} ms "
              f"p99={pct(values, 0.99):7.1f} ms")
    print("   cpu_ms_per_request " + " ".join(f"{k}={v:.1f}" for k, v in mix["cpu_ms"].items()))
    for line in mix["errors"][:5]:
        print(f"   error: {line}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--load-seconds", type=float, default=20.0)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--orders", type=int, default=150,
                        help="orders placed alone at the largest size (CPU per order)")
    parser.add_argument("--page-passes", type=int, default=3,
                        help="passes over every page per size; each page's fastest is kept")
    parser.add_argument("--order-rounds", type=int, default=3,
                        help="rounds of those orders, each followed by /healthz alone; the "
                             "median round is the figure")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]

    pg, redis = servers.start_postgres(), servers.start_redis()
    instance = tempfile.mkdtemp(prefix="tunnus-scale-")
    env = order_bench.environment(pg, redis, instance)
    env["RDAP_RATE_LIMIT"] = "100000/minute"  # the bench is one address playing many
    processes: list[subprocess.Popen] = []
    log = open(Path(instance) / "servers.log", "ab")  # noqa: SIM115 (closed with the servers)
    try:
        subprocess.run([str(VENV_BIN / "flask"), "--app", "wsgi", "db", "upgrade", "heads"],
                       cwd=ROOT, env=env, check=True, capture_output=True)
        seeded = json.loads(subprocess.run(
            [sys.executable, __file__, "--seed"], cwd=ROOT, env=env, check=True,
            capture_output=True, text=True).stdout.strip().splitlines()[-1])
        port = servers.free_port()
        processes.append(subprocess.Popen(
            [str(VENV_BIN / "gunicorn"), "-w", "2", "--threads", "4", "-b",
             f"127.0.0.1:{port}", "--log-level", "warning", "wsgi:app"], cwd=ROOT, env=env,
            stdout=log, stderr=log))
        processes.append(subprocess.Popen(
            [str(VENV_BIN / "flask"), "--app", "wsgi", "worker"], cwd=ROOT, env=env,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        order_bench.wait_for(port)
        order_bench.wait_for_workers(redis.url, 1)
        postmaster = int((pg.root / "data" / "postmaster.pid").read_text().split()[0])
        parts = {"gunicorn": [processes[0].pid], "workers": [processes[1].pid],
                 "postgres": [postmaster], "redis": [redis.process.pid],
                 "bench_clients": [os.getpid()]}
        os.environ.update(env)
        pages = None
        per_size: dict[int, dict] = {}
        stalls, ratios = [], []
        done = 0
        for size in sizes:
            grown_s = grow(pg.url, seeded["a"]["reseller"], done, size)
            done = size
            print(f"\n#### {size} domains (grown in {grown_s:.1f} s)", flush=True)
            pages = pages or Pages(seeded)
            names, zones = sample_names(pg.url, seeded["a"]["reseller"])
            results: dict[str, dict] = {}
            # Every page in each of ``--page-passes`` passes, the fastest pass's median
            # kept: the machine's speed moves within minutes (it served /healthz at 757
            # and then 350 req/s in one run), and a slow spell while one size's pages ran
            # read as growth (or as shrinking) by up to half.
            for _pass in range(args.page_passes):
                for label, path, web in page_paths(pages.sample, pages.zone,
                                                     fifty_names(pages.sample)):
                    measured = pages.measure(path, web=web, repeat=args.repeat)
                    if label not in results or measured["ms"] < results[label]["ms"]:
                        results[label] = measured
            per_size[size] = results
            print_pages(size, results)
            stall, job_s = feed_stall(pg.url, redis.url, port, env, seeded["b"])
            stalls.append(stall)
            print(f"-- {size} domains: renewal-reminder job {job_s:.1f} s; neighbour's feed "
                  f"stalled at most {stall:.2f} s", flush=True)
            order_bench.wait_for_idle_workers(redis.url, database_url=pg.url)
            hello = order_bench.run_hello(port, seeded["a"]["token"], args.clients, 3.0)
            mix = load_mix(port, seeded, names, zones, args.clients, args.load_seconds, parts)
            ratios.append(mix["rps"] / hello)
            print_load(size, mix, hello)
            order_bench.wait_for_idle_workers(redis.url, database_url=pg.url)
        rounds = []
        for number in range(1, args.order_rounds + 1):
            spent = order_cpu(port, seeded, pg.url, redis.url, parts, args.orders)
            healthz = healthz_cpu(port, seeded, parts)
            spent["healthz"], spent["ratio"] = healthz, spent["machine"] / healthz
            rounds.append(spent)
            print(f"\n-- orders alone at {sizes[-1]} domains, round {number}: "
                  f"{spent['orders_per_s']:.1f}/s (8 clients, until completed); "
                  "cpu_ms_per_order " + " ".join(f"{k}={spent[k]:.1f}" for k in parts)
                  + f" machine={spent['machine']:.1f}")
            print(f"   right after: /healthz {healthz:.2f} ms of machine CPU per request; an "
                  f"order costs {spent['ratio']:.1f} of them (the machine's speed divided out)",
                  flush=True)
        # The round of median machine CPU stands for the run: this machine's speed moves
        # within minutes, and one round alone could land on a slow or a fast spell.
        spent = sorted(rounds, key=lambda r: r["machine"])[len(rounds) // 2]
        print(f"-- orders, {len(rounds)} rounds: machine "
              + " ".join(f"{r['machine']:.1f}" for r in rounds)
              + f" ms (median {spent['machine']:.1f}); in /healthz "
              + " ".join(f"{r['ratio']:.1f}" for r in rounds)
              + f" (median {statistics.median(r['ratio'] for r in rounds):.1f})")
        first, last = per_size[sizes[0]], per_size[sizes[-1]]
        growth = {label: last[label]["ms"] / first[label]["ms"] for label in first
                  if label != "healthz"}
        worst = max(growth, key=growth.get)
        print(f"worst growth: {worst} {first[worst]['ms']:.1f} → {last[worst]['ms']:.1f} ms")
        most = max((row["statements"], label) for rows in per_size.values()
                   for label, row in rows.items())
        print(f"most statements: {most[1]} ({most[0]})")
        print(f"worst_growth_1k_100k={growth[worst]:.2f} max_statements_per_page={most[0]} "
              f"feed_stall_s={max(stalls):.2f} load_ratio={ratios[-1]:.3f} "
              f"order_cpu_ms={spent['machine']:.1f} "
              f"order_cpu_healthz={statistics.median(r['ratio'] for r in rounds):.1f}")
    finally:
        order_bench.stop_all(processes)
        log.close()
        redis.stop()
        pg.stop()


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--seed":
        print(seed())
    else:
        main()
