"""The outbox sends with no transaction open: the message is claimed (a committed lease),
sent, and the outcome recorded only by the run that still holds the lease. A worker that
dies mid-send leaves the message to be sent again once the lease has run out."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from reseller.core.clock import clock
from reseller.core.db import unit_of_work
from reseller.core.extensions import db
from tests.support.outside_calls import idle_probe
from whitelabel import outbox
from whitelabel.mailer import SandboxMailer
from whitelabel.models import OutboxMessage

SEND = "whitelabel.tasks.send_message"


class SpyMailer(SandboxMailer):
    """The sandbox mailer (it parses what it is given), noting at each send whether the
    session had a transaction open; ``during`` runs in the middle of the send."""

    def __init__(self, during=None):
        self.calls: list[dict] = []
        self.during = during

    def send(self, *, envelope_from: str, recipient: str, data: bytes) -> None:
        self.calls.append({"in_transaction": db.session().in_transaction(), "data": data})
        if self.during is not None:
            self.during(len(self.calls))
        super().send(envelope_from=envelope_from, recipient=recipient, data=data)


class WorkerKilled(BaseException):
    """Stands for SIGKILL mid-send: nothing after the claim's commit runs."""


@pytest.fixture
def spy(app, monkeypatch):
    def install(during=None):
        mailer = SpyMailer(during)
        monkeypatch.setitem(app.extensions, "tunnus.mailer", mailer)
        return mailer

    return install


def _queue(factory, key="claim:1") -> int:
    reseller = factory.reseller()
    with unit_of_work():
        message = outbox.queue_message(
            dedupe_key=key, recipient="owner@customer.example", reseller_id=reseller.id,
            sender="Webbi <noreply@webbi.example>", language="fi", template="t",
            subject="Tervetuloa", text="Hei")
    return message.id


def _later(monkeypatch, seconds: float) -> None:
    """Real time moves on (leases are real time, never the sandbox clock)."""
    moved = clock.real_now() + timedelta(seconds=seconds)
    monkeypatch.setattr(clock, "real_now", lambda: moved)


@pytest.mark.smoke
def test_the_send_job_talks_to_the_mailer_with_no_transaction_open(factory, spy, jobs):
    mailer = spy()
    message_id = _queue(factory)
    jobs.run_all()
    assert [call["in_transaction"] for call in mailer.calls] == [False]
    message = db.session.get(OutboxMessage, message_id)
    assert message.state == "sent" and message.attempts == 1
    assert message.claimed_until is None and message.next_attempt_at is None


def test_a_failed_send_is_recorded_after_it_with_the_same_backoff(factory, spy, jobs,
                                                                 delays):
    def refuse(_n):
        raise ConnectionRefusedError(111, "Connection refused")

    mailer = spy(refuse)
    message_id = _queue(factory)
    jobs.run_all(limit=1)
    assert [call["in_transaction"] for call in mailer.calls] == [False]
    message = db.session.get(OutboxMessage, message_id)
    assert (message.state, message.attempts, message.claimed_until) == ("queued", 1, None)
    assert "Connection refused" in message.last_error
    assert delays[-1] == (SEND, (message_id,), 10)  # backoff(1)


def test_a_worker_killed_mid_send_leaves_the_message_to_be_sent_after_the_lease(
        factory, spy, jobs, delays, monkeypatch):
    def killed(n):
        if n == 1:
            raise WorkerKilled

    mailer = spy(killed)
    message_id = _queue(factory)
    with pytest.raises(WorkerKilled):
        jobs.run_all(limit=1)
    db.session.rollback()
    message = db.session.get(OutboxMessage, message_id)
    assert message.state == "queued" and message.attempts == 1
    assert message.claimed_until > clock.real_now()  # the claim was committed before the send
    # The job run again at once (the relay handing it over) finds the lease in force: it
    # sends nothing and looks again when the lease ends.
    jobs.jobs.clear()
    jobs.jobs.append((SEND, (message_id,)))
    jobs.run_all(limit=1)
    assert len(mailer.calls) == 1
    [(path, args, delay)] = delays[-1:]
    assert (path, args) == (SEND, (message_id,))
    assert outbox.SEND_LEASE.total_seconds() - 5 <= delay <= outbox.SEND_LEASE.total_seconds()
    # The sweep leaves it alone until the lease has run out, then queues it.
    now = clock.now()
    with unit_of_work():
        assert outbox.requeue_due(now=now + timedelta(seconds=5)) == 0
        assert outbox.requeue_due(now=now + outbox.SEND_LEASE + timedelta(seconds=1)) == 1
    _later(monkeypatch, outbox.SEND_LEASE.total_seconds() + 1)
    jobs.run_all()
    assert [call["in_transaction"] for call in mailer.calls] == [False, False]
    assert mailer.calls[0]["data"].split(b"Message-ID: ")[1].split(b"\r\n")[0] \
        == mailer.calls[1]["data"].split(b"Message-ID: ")[1].split(b"\r\n")[0]
    message = db.session.get(OutboxMessage, message_id)
    assert (message.state, message.attempts, message.claimed_until) == ("sent", 2, None)


def test_a_run_that_outlived_its_lease_does_not_record_its_outcome(factory, spy, jobs,
                                                                  monkeypatch):
    """Run A's send hangs past its lease; run B takes the message over and sends it. A's
    late failure is not written over B's success (and counts no attempt)."""
    def during(n):
        if n == 1:
            _later(monkeypatch, outbox.SEND_LEASE.total_seconds() + 1)
            assert outbox.deliver(message_id, mailer) == "sent"  # run B, no transaction open
            raise TimeoutError("timed out")  # run A's send, at last

    mailer = spy(during)
    message_id = _queue(factory)
    jobs.run_all(limit=1)
    assert [call["in_transaction"] for call in mailer.calls] == [False, False]
    message = db.session.get(OutboxMessage, message_id)
    assert (message.state, message.attempts, message.last_error) == ("sent", 2, None)
    assert message.claimed_until is None


def test_a_sent_or_failed_message_is_not_claimed(factory, spy):
    mailer = spy()
    message_id = _queue(factory)
    with unit_of_work():
        assert outbox.deliver(message_id, mailer) == "sent"
    with unit_of_work():
        assert outbox.deliver(message_id, mailer) == "sent"
        db.session.execute(sa.update(OutboxMessage).where(OutboxMessage.id == message_id)
                           .values(state="failed"))
    with unit_of_work():
        assert outbox.deliver(message_id, mailer) == "failed"
    assert len(mailer.calls) == 1


@pytest.mark.postgres_only
def test_while_mail_is_on_the_wire_no_transaction_holds_an_id_or_the_row(app, committed_db,
                                                                        monkeypatch):
    """On PostgreSQL, seen from another connection at the moment of the send: no backend
    holds a transaction id (what would stall the event feed) and the row is not locked."""
    from reseller.accounts.models import Reseller

    with unit_of_work():
        reseller = Reseller(company_name="Posti Oy", country="FI", business_id="2464491-9",
                            contact_email="info@posti.example", language="fi")
        committed_db.session.add(reseller)
        committed_db.session.flush()
        message = outbox.queue_message(
            dedupe_key="wire", recipient="a@customer.example", reseller_id=reseller.id,
            sender="noreply@posti.example", language="fi", template="t", subject="s",
            text="t")
    message_id = message.id
    seen, look = idle_probe(committed_db.engine, "outbox_messages", message_id)

    mailer = SpyMailer(look)
    monkeypatch.setitem(app.extensions, "tunnus.mailer", mailer)
    from reseller.core.jobs import run

    run(SEND, message_id)
    assert mailer.calls[0]["in_transaction"] is False
    assert seen == {"xids": 0, "locked": False}
    assert committed_db.session.get(OutboxMessage, message_id).state == "sent"
    app.extensions["tunnus.jobs"].jobs.clear()


# -- batches: the mails a batch of events queued, claimed and recorded together ---------------

@pytest.mark.smoke
def test_a_batch_claims_sends_and_records_each_message_as_deliver_would(factory, spy,
                                                                        delays, monkeypatch):
    """Of four messages: one sent already, one held by another run, one whose send fails,
    one that goes through. Each ends as ``deliver`` alone would leave it, with no
    transaction open at any send."""
    def refuse_third(n):
        if mailer.calls[-1]["data"].find(b"fails@") >= 0:
            raise ConnectionRefusedError(111, "Connection refused")

    mailer = spy(refuse_third)
    reseller = factory.reseller()
    ids = []
    with unit_of_work():
        for key, recipient in (("b:sent", "sent@x.example"), ("b:held", "held@x.example"),
                               ("b:fails", "fails@x.example"), ("b:ok", "ok@x.example")):
            ids.append(outbox.queue_message(
                dedupe_key=key, recipient=recipient, reseller_id=reseller.id,
                sender="noreply@webbi.example", language="fi", template="t", subject="s",
                text="t").id)
        db.session.execute(sa.update(OutboxMessage).where(OutboxMessage.id == ids[0])
                           .values(state="sent"))
        db.session.execute(sa.update(OutboxMessage).where(OutboxMessage.id == ids[1])
                           .values(claimed_until=clock.real_now() + timedelta(seconds=30)))
    states = outbox.deliver_many(ids, mailer)
    assert states == {ids[0]: "sent", ids[1]: "queued", ids[2]: "queued", ids[3]: "sent"}
    assert [call["in_transaction"] for call in mailer.calls] == [False, False]
    rows = {m.id: m for m in db.session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.id.in_(ids))
        .execution_options(populate_existing=True))}
    assert (rows[ids[3]].state, rows[ids[3]].attempts, rows[ids[3]].claimed_until) == \
        ("sent", 1, None)
    assert (rows[ids[2]].attempts, rows[ids[2]].claimed_until) == (1, None)
    assert "Connection refused" in rows[ids[2]].last_error
    assert rows[ids[1]].attempts == 0  # another run's: not touched, looked at again later
    assert {(path, args) for path, args, _ in delays} >= {(SEND, (ids[1],)), (SEND, (ids[2],))}


def test_a_batch_send_that_outlived_its_lease_leaves_the_message_to_the_new_holder(
        factory, spy, monkeypatch):
    def during(n):
        if n == 1:  # the lease runs out mid-send and another run takes the message over
            _later(monkeypatch, outbox.SEND_LEASE.total_seconds() + 1)
            with unit_of_work():
                outbox._take_leases([message_id], None)

    mailer = spy(during)
    message_id = _queue(factory, key="batch:late")
    assert outbox.deliver_many([message_id], mailer) == {message_id: "queued"}
    message = db.session.get(OutboxMessage, message_id)
    assert message.state == "queued" and message.claimed_until is not None  # the new holder's


@pytest.mark.postgres_only
def test_mail_follow_ups_of_one_job_run_as_one_batch(app, committed_db, redis_server,
                                                     monkeypatch):
    """A job queueing several mails (a batch of events): one claim, one record and one
    settle for them all, in the same RQ job, every owed row settled."""
    from redis import Redis
    from rq import Queue

    from reseller import worker
    from reseller.accounts.models import Reseller
    from reseller.core import jobs as jobs_module
    from reseller.core.pending import PendingJob
    from reseller.worker import InProcessWorker

    mailer = SpyMailer()
    monkeypatch.setitem(app.extensions, "tunnus.mailer", mailer)
    original = app.extensions["tunnus.jobs"]
    runner = app.extensions["tunnus.jobs"] = jobs_module.RQRunner(app, redis_server.url)
    connection = Redis.from_url(redis_server.url)
    connection.flushdb()
    statements: list[str] = []

    def note(conn, cursor, statement, *args):
        statements.append(statement)

    try:
        with unit_of_work():
            reseller = Reseller(company_name="Posti Oy", country="FI",
                                business_id="2464491-9", contact_email="i@posti.example",
                                language="fi")
            db.session.add(reseller)
        with unit_of_work():
            jobs_module.enqueue(f"{__name__}.queue_three", reseller.id)
        worker.use_app(app)
        sa.event.listen(db.engine, "before_cursor_execute", note)
        try:
            assert InProcessWorker([Queue(name, connection=connection)
                                    for name in jobs_module.QUEUES],
                                   connection=connection).work(burst=True)
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", note)
        db.session.remove()
        states = db.session.scalars(sa.select(OutboxMessage.state)).all()
        assert sorted(states) == ["sent"] * 3 and len(mailer.calls) == 3
        assert db.session.scalar(sa.select(sa.func.count()).select_from(PendingJob)) == 0
        claims = [s for s in statements if s.startswith("UPDATE outbox_messages SET attempts")]
        records = [s for s in statements if s.startswith("UPDATE outbox_messages SET state")]
        assert len(claims) == 1 and len(records) == 1
    finally:
        app.extensions["tunnus.jobs"] = original
        worker.use_app(None)
        runner.connection.close()


def queue_three(reseller_id: int) -> None:
    for n in range(3):
        outbox.queue_message(dedupe_key=f"three:{n}", recipient=f"r{n}@customer.example",
                             reseller_id=reseller_id, sender="noreply@posti.example",
                             language="fi", template="t", subject="s", text="t")
