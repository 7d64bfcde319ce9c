"""The fault suite: the production stack under an order load with same-key retries, one
fault at a time, and the invariants after each (issue 25.6).

``tests/support/stack.py`` starts the stack on its own PostgreSQL and Redis: gunicorn
``-w 2``, two ``flask worker``, ``flask scheduler``, an SMTP sink and a webhook receiver
that verifies signatures. Clients place register orders through ``POST /api/v1/domains``
with an Idempotency-Key each, and retry the same key on errors and timeouts. The faults:
a worker SIGKILLed in the middle of an order, Redis stopped across commits (and started
empty), PostgreSQL restarted, SMTP down and up again, and the worker running the month-end
invoice run SIGKILLed. After each one:

* the ledger verifies (``flask wallet verify``);
* each Idempotency-Key has one effect (one order) and one answer (every 2xx the clients
  saw, and a replay now, is the same response);
* every order is completed or failed within 60 s of the recovery;
* every completed order is charged exactly once (one purchase, its hold captured), every
  failed one not at all;
* every e-mail and webhook is delivered once: the sinks, de-duplicating by Message-ID and
  webhook-id, hold exactly the messages the database says were sent.

``pytest -m faults`` selects it; it takes two to three minutes.
"""

from __future__ import annotations

import http.client
import json
import os
import secrets
import signal
import subprocess
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.support.stack import BIN, ROOT, Stack

pytestmark = [pytest.mark.faults, pytest.mark.slow, pytest.mark.postgres_only]

RECOVERY_S = 60  # the product's promise: lost work is picked up within a minute
CLIENTS = 3
ORDERS_PER_CLIENT = 5
TRANSIENT = {429, 500, 502, 503, 504}
MONTH_END_PATH = "wallet.invoices.invoicing.month_end_job"
MONTH_JOB_PATH = "wallet.invoices.invoicing.invoice_reseller_month"


# -- the load -----------------------------------------------------------------------------

@dataclass
class Load:
    """``CLIENTS`` threads, each placing ``ORDERS_PER_CLIENT`` registrations for its
    reseller, each under its own Idempotency-Key, retried with the same key until a
    2xx (or a refusal the suite does not expect, which it records)."""

    stack: Stack
    phase: str
    answers: dict[str, list[bytes]] = field(default_factory=dict)  # key -> 2xx bodies
    owners: dict[str, dict] = field(default_factory=dict)  # key -> reseller
    bodies: dict[str, dict] = field(default_factory=dict)
    transient: Counter = field(default_factory=Counter)
    unexpected: list[str] = field(default_factory=list)
    answered_at: dict[str, float] = field(default_factory=dict)
    threads: list[threading.Thread] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> Load:
        run = secrets.token_hex(2)
        for client in range(CLIENTS):
            reseller = self.stack.resellers[client % len(self.stack.resellers)]
            thread = threading.Thread(target=self._client, args=(client, reseller, run),
                                      daemon=True)
            self.threads.append(thread)
            thread.start()
        return self

    def join(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        for thread in self.threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        alive = [t for t in self.threads if t.is_alive()]
        assert not alive, f"{self.phase}: {len(alive)} clients still retrying: " \
                          f"{self.transient} {self.unexpected}"

    def _client(self, client: int, reseller: dict, run: str) -> None:
        for n in range(ORDERS_PER_CLIENT):
            key = f"{self.phase}-{run}-{client}-{n}"
            body = {"name": f"{self.phase}-{run}-{client}-{n}.fi", "period": 1,
                    "contacts": {"registrant": reseller["contact"]}}
            with self.lock:
                self.owners[key], self.bodies[key] = reseller, body
            self._place(key, reseller, body)
            time.sleep(0.1)

    def _place(self, key: str, reseller: dict, body: dict) -> None:
        deadline = time.monotonic() + 150
        while time.monotonic() < deadline:
            try:
                status, headers, raw = self.stack.http(
                    "POST", "/api/v1/domains", token=reseller["token"], body=body,
                    headers={"Idempotency-Key": key}, timeout=15)
            except (OSError, http.client.HTTPException) as error:
                self._note(type(error).__name__)
                time.sleep(0.5)
                continue
            if 200 <= status < 300:
                with self.lock:
                    self.answers.setdefault(key, []).append(raw)
                    self.answered_at.setdefault(key, time.monotonic())
                return
            code = _code(raw)
            if status in TRANSIENT or code == "idempotency_key_in_use":
                self._note(f"{status} {code or ''}".strip())
                time.sleep(min(2.0, float(headers.get("Retry-After") or 0.5)))
                continue
            with self.lock:
                self.unexpected.append(f"{key}: {status} {raw[:300]!r}")
            return
        with self.lock:
            self.unexpected.append(f"{key}: no answer in 150 s")

    def _note(self, what: str) -> None:
        with self.lock:
            self.transient[what] += 1


def _code(raw: bytes) -> str | None:
    try:
        return json.loads(raw).get("code")
    except (ValueError, AttributeError):
        return None


# -- reading the stack's database ---------------------------------------------------------

class Database:
    def __init__(self, url: str) -> None:
        self.engine = sa.create_engine(url, pool_pre_ping=True, pool_size=2)

    def rows(self, sql: str, **params) -> list:
        for attempt in range(20):  # the fault may be a database restart
            try:
                with self.engine.connect() as conn:
                    return list(conn.execute(sa.text(sql), params))
            except sa.exc.OperationalError:
                if attempt == 19:
                    raise
                time.sleep(0.5)
        return []

    def scalar(self, sql: str, **params):
        return self.rows(sql, **params)[0][0]


def wait_until(what: str, predicate, deadline: float, detail=lambda: "") -> None:
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: {detail()}")
        time.sleep(0.5)


# -- the invariants -----------------------------------------------------------------------

def check_invariants(stack: Stack, db: Database, loads: list[Load], *, recovered: float,
                     phase: str) -> dict:
    """Wait (bounded by the recovery promise) for the work to settle, then assert every
    invariant over everything done so far; returns figures for the phase."""
    deadline = recovered + RECOVERY_S
    open_orders = "SELECT count(*) FROM orders WHERE state IN ('pending', 'held')"
    wait_until(f"{phase}: orders still open {RECOVERY_S} s after recovery",
               lambda: db.scalar(open_orders) == 0, deadline,
               lambda: db.rows("SELECT id, domain_name, state, attempts FROM orders "
                               "WHERE state IN ('pending', 'held')")
               + db.rows("SELECT id, path, failures, last_error, handovers FROM pending_jobs")
               + [stack.tail(20)])
    # Mail and webhooks: lost work within the minute too; a retry after an outage waits
    # its backoff (mail: 10, 20, 40 s) on top.
    mail_deadline = max(deadline, time.monotonic()) + 30
    # An event's listeners queue its mail: a dispatch lost with Redis is handed over again
    # by the relay (after its grace), so the mail may not be queued yet. Then the mails and
    # the webhooks: (what is left, how many, which)
    for left, count, rows in (
            ("events still owed their listeners",
             "SELECT count(*) FROM events WHERE dispatched_at IS NULL",
             "SELECT id, type, created_at FROM events WHERE dispatched_at IS NULL"),
            ("e-mails still queued",
             "SELECT count(*) FROM outbox_messages WHERE state = 'queued'",
             "SELECT id, template, attempts, last_error FROM outbox_messages "
             "WHERE state = 'queued'"),
            ("webhooks still pending",
             "SELECT count(*) FROM webhook_deliveries WHERE status = 'pending'",
             "SELECT id, event_type, attempts, last_error, next_attempt_at "
             "FROM webhook_deliveries WHERE status = 'pending'")):
        wait_until(f"{phase}: {left}", lambda count=count: db.scalar(count) == 0,
                   mail_deadline,
                   lambda rows=rows: db.rows(rows)
                   + db.rows("SELECT id, path, failures, last_error FROM pending_jobs"))

    # the ledger
    verify = subprocess.run([str(BIN / "flask"), "--app", "wsgi", "wallet", "verify"],
                            cwd=ROOT, env=stack.env, capture_output=True, text=True)
    assert verify.returncode == 0, f"{phase}: ledger: {verify.stdout} {verify.stderr[-2000:]}"

    # each key: one effect, one answer
    for load in loads:
        assert not load.unexpected, f"{load.phase}: {load.unexpected}"
        # an outage is a 503 with Retry-After (send it again), never a 500
        assert not [what for what in load.transient if what.startswith("500")], \
            f"{load.phase}: {load.transient}\n{stack.tail(60)}"
        for key, bodies in load.answers.items():
            reseller = load.owners[key]
            orders = db.rows("SELECT id FROM orders WHERE reseller_id = :r AND "
                             "idempotency_key = :k", r=reseller["reseller_id"], k=key)
            assert len(orders) == 1, f"{key}: {len(orders)} orders"
            assert len(set(bodies)) == 1, f"{key}: different answers {bodies}"
            assert json.loads(bodies[0])["id"] == orders[0][0]
            stored = db.rows("SELECT response_status, response_body FROM idempotency_keys "
                             "WHERE reseller_id = :r AND key = :k",
                             r=reseller["reseller_id"], k=key)
            if not stored and load is not loads[-1] and phase == "monthend":
                continue  # older than IDEMPOTENCY_TTL_HOURS by the moved clock: purged
            assert stored and stored[0][0] == 202, f"{key}: stored answer {stored}"
            assert stored[0][1].encode() == bodies[0], f"{key}: stored {stored[0][1]!r}"
    for load in loads[-1:]:  # a replay now returns the same answer
        for key, bodies in load.answers.items():
            status, headers, raw = stack.http(
                "POST", "/api/v1/domains", token=load.owners[key]["token"],
                body=load.bodies[key], headers={"Idempotency-Key": key})
            assert (status, raw) == (202, bodies[0]), f"{key}: replay {status} {raw[:200]!r}"
            assert headers.get("Idempotent-Replayed") == "true"
    keys = sum(len(load.answers) for load in loads)
    assert db.scalar("SELECT count(*) FROM orders") == keys, "an order without its key"
    assert db.scalar("SELECT count(*) FROM idempotency_keys WHERE response_status IS NULL") \
        == 0, "an Idempotency-Key without its answer"

    # every completed order charged exactly once, every failed one not at all
    charged = db.rows(
        "SELECT o.id, o.state, o.total, count(p.id), coalesce(sum(p.gross), 0) "
        "FROM orders o LEFT JOIN wallet_purchases p ON p.reference = o.reference "
        "GROUP BY o.id, o.state, o.total")
    for order_id, state, total, purchases, paid in charged:  # purchases in cents
        if state == "completed":
            assert (purchases, paid) == (1, total * 100), f"order {order_id}: {purchases} {paid}"
        else:
            assert purchases == 0, f"failed order {order_id} charged"
    assert db.scalar("SELECT count(*) FROM wallet_holds WHERE state = 'active'") == 0
    events = db.rows("SELECT o.id, count(e.id) FROM orders o LEFT JOIN events e ON "
                     "e.dedupe_key IN ('order.completed:' || o.id, 'order.failed:' || o.id) "
                     "GROUP BY o.id")
    assert all(count == 1 for _id, count in events), events

    # every e-mail once: the sink (by Message-ID) holds exactly the sent messages
    assert db.scalar("SELECT count(*) FROM outbox_messages WHERE state <> 'sent'") == 0
    sent = {row[0] for row in db.rows("SELECT id FROM outbox_messages")}
    mail = stack.smtp.counts()
    at_sink = {int(message_id.strip("<").split(".")[0]) for message_id in mail}
    assert at_sink == sent, f"{phase}: missing {sent - at_sink}, unknown {at_sink - sent}"
    completed = db.scalar("SELECT count(*) FROM orders WHERE state = 'completed'")
    confirmations = db.scalar("SELECT count(*) FROM outbox_messages WHERE "
                              "dedupe_key LIKE :kind", kind="event:%:registration_confirmed")
    assert confirmations == completed

    # every webhook once: the receiver (by webhook-id, signature checked) holds exactly
    # the succeeded deliveries, one per subscribed event
    assert not stack.hooks.refused, stack.hooks.refused[:5]
    assert db.scalar("SELECT count(*) FROM webhook_deliveries WHERE status <> 'succeeded'") \
        == 0
    delivered = {row[0] for row in db.rows("SELECT message_id FROM webhook_deliveries")}
    hooks = stack.hooks.counts()
    assert set(hooks) == delivered, f"{phase}: missing {delivered - set(hooks)}"
    subscribed = db.scalar(
        "SELECT count(*) FROM events WHERE type IN ('order.completed', 'order.failed', "
        "'invoice.issued')")
    assert len(delivered) == subscribed
    return {"orders": keys, "completed": completed,
            "mail_repeats": sum(mail.values()) - len(mail),
            "webhook_repeats": sum(hooks.values()) - len(hooks)}


# -- the faults ---------------------------------------------------------------------------

def _rq(stack: Stack):
    from redis import Redis

    return Redis(port=stack.redis_port, socket_connect_timeout=2, socket_timeout=5)


def _busy_worker(stack: Stack, path: str) -> tuple[int, str] | None:
    """(pid, RQ job id) of a worker now running a job for ``path``, if one is."""
    from rq import Worker
    from rq.job import Job

    connection = _rq(stack)
    ours = {process.pid for process in stack.workers if process.poll() is None}
    for worker in Worker.all(connection=connection):
        if worker.pid not in ours:  # a killed worker's registration outlives it a while
            continue
        job_id = worker.get_current_job_id()
        if job_id is None:
            continue
        try:
            job = Job.fetch(job_id, connection=connection)
        except Exception:  # finished and gone meanwhile
            continue
        if job.args and job.args[0] == path:
            return worker.pid, job_id
    return None


def _replace_worker(stack: Stack, pid: int) -> None:
    """SIGKILL the worker ``pid`` and start another, as systemd's ``Restart=always``."""
    process = next(p for p in stack.workers if p.pid == pid)
    stack.kill(process)
    stack.workers.remove(process)
    stack.workers.append(stack.start_worker())


def kill_worker_mid_order(stack: Stack, db: Database) -> float:
    deadline = time.monotonic() + 60
    while (found := _busy_worker(stack, "reseller.domains.tasks.process_order")) is None:
        assert time.monotonic() < deadline, "no worker was seen running an order"
        time.sleep(0.02)
    _replace_worker(stack, found[0])
    return time.monotonic()


def kill_web_worker(stack: Stack, db: Database) -> float:
    """SIGKILL one of gunicorn's two workers while orders are in flight (its master starts
    another): the clients' requests in it are cut and retried under the same key."""
    time.sleep(0.7)
    children = (Path(f"/proc/{stack.web.pid}/task/{stack.web.pid}/children").read_text()
                .split())
    assert children, "gunicorn has no workers"
    os.kill(int(children[0]), signal.SIGKILL)
    return time.monotonic()


def stop_redis_across_commits(stack: Stack, db: Database, load: Load) -> float:
    time.sleep(0.5)
    answered = len(load.answers)
    stack.stop_redis()
    time.sleep(6)
    during = len(load.answers) - answered
    stack.start_redis()  # empty: whatever was queued in Redis is gone
    load.transient["answered while Redis was down"] += during
    return time.monotonic()


def restart_postgres(stack: Stack, db: Database) -> float:
    time.sleep(1.0)
    stack.restart_postgres()
    return time.monotonic()


def smtp_down_and_up(stack: Stack, db: Database) -> float:
    stack.smtp.stop()
    time.sleep(8)
    stack.smtp.start()
    return time.monotonic()


def pass_month_end(stack: Stack) -> None:
    """Move the sandbox clock past month end: the scheduler fires the run. (Keys older
    than IDEMPOTENCY_TTL_HOURS by this clock are forgotten now, as they should be.)"""
    subprocess.run([str(BIN / "flask"), "--app", "wsgi", "clock", "set",
                    "2027-01-01T00:06:00+00:00"], cwd=ROOT, env=stack.env, check=True,
                   capture_output=True)


def crash_month_end(stack: Stack, db: Database) -> float:
    """SIGKILL the worker in the middle of the month-end run: once it has issued an
    invoice (or a second after it was seen running) and before it is done."""
    deadline = time.monotonic() + 60
    seen = None
    while True:
        assert time.monotonic() < deadline, "the month-end run was not seen running"
        found = _busy_worker(stack, MONTH_END_PATH) or _busy_worker(stack, MONTH_JOB_PATH)
        if found:
            seen = seen or time.monotonic()
            issued = db.scalar("SELECT count(*) FROM invoices")
            if issued or time.monotonic() - seen > 1.0:
                with_pdf = db.scalar("SELECT count(DISTINCT invoice_id) FROM invoice_documents")
                _replace_worker(stack, found[0])
                stack.notes["month end at the kill"] = {"invoices": issued, "pdfs": with_pdf}
                return time.monotonic()
        time.sleep(0.02)


def check_month_end(db: Database, deadline: float) -> int:
    """Every reseller with December purchases has its one December invoice, with its PDF,
    within the minute after the crash."""
    without_pdf = ("SELECT count(*) FROM invoices i WHERE NOT EXISTS (SELECT 1 FROM "
                   "invoice_documents d WHERE d.invoice_id = i.id AND d.kind = 'pdf')")
    wait_until("month end: invoices missing or without their PDF",
               lambda: db.scalar("SELECT count(DISTINCT reseller_id) FROM invoices") == 3
               and db.scalar(without_pdf) == 0, deadline,
               lambda: db.rows("SELECT id, reseller_id, number FROM invoices")
               + db.rows("SELECT id, path, failures, last_error FROM pending_jobs"))
    buyers = {row[0] for row in db.rows(
        "SELECT DISTINCT reseller_id FROM wallet_purchases WHERE captured_at < '2027-01-01'")}
    invoices = db.rows("SELECT reseller_id, id FROM invoices WHERE kind = 'invoice' AND "
                       "period_key = '2026-12'")
    assert sorted(r for r, _ in invoices) == sorted(buyers), invoices
    return len(invoices)


# -- the suite ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def stack():
    # Webhook, mail and order sweeps are the product's own (no intervals tuned here); the
    # registry answers in 150 ms so that a worker can be caught in the middle of an order.
    started = Stack(resellers=3, settings={"SANDBOX_REGISTRY_LATENCY_MS": "150"})
    try:
        yield started.start()
    finally:
        started.stop()


def test_faults_heal_and_every_invariant_holds(stack):
    db = Database(stack.pg.url)
    loads: list[Load] = []
    figures: dict[str, dict] = {}

    def phase(name: str, fault, before=None) -> None:
        print(f"fault suite: {name}", flush=True)
        if before is not None:
            before(stack)
        load = Load(stack, name).start()
        loads.append(load)
        began = time.monotonic()
        recovered = fault(stack, db, load) if name == "redis" else fault(stack, db)
        load.join(timeout=max(5.0, recovered + RECOVERY_S - time.monotonic()))
        invoices = None
        if name == "monthend":  # the invoices first: the invariants count their mail
            invoices = check_month_end(db, recovered + RECOVERY_S)
        figures[name] = {**check_invariants(stack, db, loads, recovered=recovered, phase=name),
                         "fault_s": round(recovered - began, 1),
                         "transient": dict(load.transient)}
        if invoices is not None:
            figures[name]["invoices"] = invoices

    phase("kill", kill_worker_mid_order)
    phase("web", kill_web_worker)
    phase("redis", stop_redis_across_commits)
    assert figures["redis"]["transient"].get("answered while Redis was down", 0) > 0, \
        "no order was committed and answered while Redis was down"
    phase("pg", restart_postgres)
    phase("smtp", smtp_down_and_up)
    phase("monthend", crash_month_end, before=pass_month_end)
    figures["notes"] = stack.notes
    figures["relayed"] = stack.count_in_logs("relayed job")
    print("fault suite:", json.dumps(figures))
