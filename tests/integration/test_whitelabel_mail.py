"""Mail on the wire: a real SMTP server receives it, DKIM verifies against the key
published in Knot, retries survive an SMTP outage, and nothing is ever sent twice."""

from email import message_from_bytes, policy
from types import SimpleNamespace

import dkim as dkimpy
import pytest

from reseller.core.db import unit_of_work
from tests.support.whitelabel import SmtpSink, dkim_dns, verified_domain
from whitelabel import outbox
from whitelabel.mailer import SmtpMailer
from whitelabel.messages import send_registrant_message
from whitelabel.models import OutboxMessage


@pytest.fixture
def smtp_mailer(app, smtp_sink, monkeypatch):
    mailer = SmtpMailer("127.0.0.1", smtp_sink.port, timeout=5)
    monkeypatch.setitem(app.extensions, "tunnus.mailer", mailer)
    return mailer


def _queue(reseller_id, n, settings, kind="domain_deleted"):
    with unit_of_work():
        for i in range(n):
            send_registrant_message(
                reseller_id=reseller_id, kind=kind, recipient=f"owner{i}@customer.example",
                language="fi", context={"domain": f"site{i}.fi"}, dedupe_key=f"test:{kind}:{i}",
                settings=settings)


def test_smtp_server_receives_a_dkim_signed_message_that_verifies_against_knot(
        factory, wl_knot, wl_settings, smtp_sink, smtp_mailer, jobs):
    reseller = factory.reseller()
    domain = verified_domain(reseller.id, wl_knot, wl_settings)
    smtp_sink.start()
    _queue(reseller.id, 1, wl_settings)
    jobs.run_all()
    [envelope] = smtp_sink.envelopes
    assert envelope.mail_from == f"bounces@bounce.{domain.domain}"
    assert envelope.rcpt_tos == ["owner0@customer.example"]
    data = envelope.original_content
    parsed = message_from_bytes(data, policy=policy.default)
    assert parsed["From"].addresses[0].addr_spec == f"noreply@{domain.domain}"
    assert f"d={domain.domain}" in parsed["DKIM-Signature"].replace(" ", "")
    assert {p.get_content_type() for p in parsed.walk()} >= {"text/plain", "text/html"}
    assert dkimpy.verify(data, dnsfunc=dkim_dns(wl_knot))
    # Tampering with the body or a signed header breaks the signature.
    assert not dkimpy.verify(data.replace(b"site0.fi", b"evil0.fi"), dnsfunc=dkim_dns(wl_knot))
    tampered = data.replace(b"Subject: ", b"Subject: URGENT ", 1)
    assert not dkimpy.verify(tampered, dnsfunc=dkim_dns(wl_knot))
    assert OutboxMessage.query.one().state == "sent"


def test_smtp_down_for_a_while_loses_nothing_and_sends_each_once(
        factory, wl_knot, wl_settings, smtp_sink, smtp_mailer, jobs):
    reseller = factory.reseller()
    verified_domain(reseller.id, wl_knot, wl_settings)
    _queue(reseller.id, 5, wl_settings)
    for _round in range(3):  # three rounds of attempts while the server is down
        assert jobs.run_all(limit=len(jobs.jobs)) == 5
    messages = OutboxMessage.query.order_by(OutboxMessage.id).all()
    assert [m.state for m in messages] == ["queued"] * 5
    assert all(m.attempts == 3 and "Connection refused" in m.last_error for m in messages)
    assert all(m.next_attempt_at is not None for m in messages)
    smtp_sink.start()
    jobs.run_all()
    # The periodic sweep after recovery finds nothing left to send.
    with unit_of_work():
        assert outbox.requeue_due() == 0
    jobs.run_all()
    received = sorted(e.rcpt_tos[0] for e in smtp_sink.envelopes)
    assert received == [f"owner{i}@customer.example" for i in range(5)]
    assert {m.state for m in OutboxMessage.query} == {"sent"}


def test_the_same_event_twice_queues_and_sends_one_message(factory, wl_settings, smtp_sink,
                                                          smtp_mailer, jobs):
    reseller = factory.reseller()
    smtp_sink.start()
    _queue(reseller.id, 1, wl_settings)
    _queue(reseller.id, 1, wl_settings)
    jobs.run_all()
    message = OutboxMessage.query.one()
    # A stray duplicate job (e.g. the sweep racing a retry) sends nothing more.
    with unit_of_work():
        outbox.deliver(message.id, smtp_mailer)
    assert len(smtp_sink.envelopes) == 1


def test_neutral_sender_is_used_until_the_domain_verifies(factory, wl_settings, smtp_sink,
                                                         smtp_mailer, jobs):
    reseller = factory.reseller()
    smtp_sink.start()
    _queue(reseller.id, 1, wl_settings)
    jobs.run_all()
    parsed = message_from_bytes(smtp_sink.envelopes[0].original_content, policy=policy.default)
    assert parsed["From"].addresses[0].domain == wl_settings.neutral_sender_domain
    assert parsed["From"].addresses[0].display_name == reseller.company_name


def test_given_up_mail_is_shown_to_the_operator_who_can_retry_it(
        app, factory, client, wl_settings, smtp_sink, smtp_mailer, jobs):
    reseller = factory.reseller()
    _queue(reseller.id, 1, wl_settings)
    jobs.run_all()  # the collecting runner ignores delays: every attempt fails at once
    message = OutboxMessage.query.one()
    assert message.state == "failed" and message.attempts == outbox.MAX_ATTEMPTS
    staff = factory.operator()
    client.post("/login", data={"email": staff.email, "password": "operator password"})
    page = client.get("/console/outbox").get_data(as_text=True)
    assert "owner0@customer.example" in page and "Connection refused" in page
    smtp_sink.start()
    reply = client.post(f"/console/outbox/{message.id}/retry")
    assert reply.status_code == 302
    jobs.run_all()
    assert OutboxMessage.query.one().state == "sent"
    assert len(smtp_sink.envelopes) == 1


def test_backoff_doubles_and_is_capped_at_an_hour():
    delays = [outbox.backoff(n).total_seconds() for n in range(1, 12)]
    assert delays[:3] == [10, 20, 40]
    assert delays[-1] == 3600 and delays == sorted(delays)


class SlowSmtpSink(SmtpSink):
    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd API)
        import asyncio

        await asyncio.sleep(0.5)
        return await super().handle_DATA(server, session, envelope)


@pytest.mark.postgres_only
def test_two_workers_sending_the_same_message_at_once_send_it_once(app, committed_db,
                                                                   wl_settings):
    import threading

    from reseller.accounts.models import Reseller

    sink = SlowSmtpSink()
    sink.start()
    try:
        with unit_of_work():
            reseller = Reseller(company_name="Kaksi Oy", country="FI", business_id="2464491-9",
                                contact_email="info@kaksi.example", language="fi")
            committed_db.session.add(reseller)
            committed_db.session.flush()
            message = send_registrant_message(
                reseller_id=reseller.id, kind="domain_deleted", recipient="a@b.example",
                language="fi", context={"domain": "a.fi"}, dedupe_key="race",
                settings=wl_settings)
            message_id = message.id
        mailer = SmtpMailer("127.0.0.1", sink.port, timeout=5)
        barrier = threading.Barrier(2)

        def worker():
            with app.app_context(), unit_of_work():
                barrier.wait()
                outbox.deliver(message_id, mailer)

        threads = [threading.Thread(target=worker) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(sink.envelopes) == 1
        assert committed_db.session.get(OutboxMessage, message_id).state == "sent"
    finally:
        sink.stop()


@pytest.mark.postgres_only
def test_two_writers_queueing_one_message_at_once_store_and_send_it_once(app, committed_db):
    """queue_message is one insert-unless-exists: the second of two simultaneous writers
    gets the first row back (no IntegrityError, no second send job)."""
    import threading

    import sqlalchemy as sa

    from reseller.accounts.models import Reseller
    from reseller.core.extensions import db

    with unit_of_work():
        reseller = Reseller(company_name="Outbox Oy", country="FI", business_id="2464491-9",
                            contact_email="o@example.test", language="fi")
        db.session.add(reseller)
    rid = reseller.id
    app.extensions["tunnus.jobs"].jobs.clear()  # jobs other tests left behind
    barrier = threading.Barrier(2)
    ids: list[int] = []
    errors: list[BaseException] = []

    def queue() -> None:
        try:
            with app.app_context():
                runner = app.extensions["tunnus.jobs"]
                before = len(runner.jobs)
                with unit_of_work():
                    barrier.wait(timeout=10)
                    message = outbox.queue_message(
                        dedupe_key="once:1", recipient="a@customer.example",
                        sender="noreply@example.test", language="fi", template="t",
                        subject="s", text="t", reseller_id=rid)
                    ids.append(message.id)
                assert len(runner.jobs) - before <= 1
                db.session.remove()
        except BaseException as error:  # reported by the main thread
            errors.append(error)

    threads = [threading.Thread(target=queue) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors
    assert len(set(ids)) == 1
    db.session.remove()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 1
    sends = [job for job in app.extensions["tunnus.jobs"].jobs
             if job[0] == "whitelabel.tasks.send_message"]
    assert sends == [("whitelabel.tasks.send_message", (ids[0],))]
    app.extensions["tunnus.jobs"].jobs.clear()


def test_a_brand_name_with_a_line_break_adds_no_header_and_still_sends(
        factory, wl_settings, smtp_sink, smtp_mailer, jobs):
    """Stored before the input rule: the brand's name, support address and a subject with a
    line break. Each header stays one line (escaped), no Bcc appears, the mail goes out."""
    from whitelabel import brands

    reseller = factory.reseller()
    with unit_of_work():
        brand = brands.update_brand(reseller_id=reseller.id, name="Webbi")
    with unit_of_work():
        brand.name = "Webbi\r\nBcc: victim@evil.example"
        brand.support_email = "tuki@webbi.example\nBcc: other@evil.example"
    smtp_sink.start()
    with unit_of_work():
        send_registrant_message(
            reseller_id=reseller.id, kind="domain_deleted", recipient="owner@customer.example",
            language="en", context={"domain": "site.fi\r\nX-Injected: yes"},
            dedupe_key="test:hostile-brand", settings=wl_settings)
    jobs.run_all()
    [envelope] = smtp_sink.envelopes
    assert envelope.rcpt_tos == ["owner@customer.example"]
    head = envelope.original_content.split(b"\r\n\r\n", 1)[0].decode("ascii")
    names = [line.split(":", 1)[0] for line in head.split("\r\n") if not line[:1].isspace()]
    assert "Bcc" not in names and "X-Injected" not in names
    assert len(names) == len(set(names))
    parsed = message_from_bytes(envelope.original_content, policy=policy.default)
    assert parsed["From"].addresses[0].display_name == "Webbi\\r\\nBcc: victim@evil.example"
    assert parsed["Subject"] == "site.fi\\r\\nX-Injected: yes has been deleted"
    assert "Reply-To: tuki@webbi.example\\nBcc: other@evil.example" in head.split("\r\n")
    assert OutboxMessage.query.one().state == "sent"


def test_a_message_says_its_language_at_the_top_with_or_without_attachments(app, monkeypatch):
    """RFC 3282 Content-Language on the message itself: set before the content it was
    dropped (set_content clears Content-* headers) and never reached the reader."""
    from reseller.core import documents

    monkeypatch.setitem(documents._LOADERS, "test-pdf",
                        lambda ref: (f"{ref}.pdf", "application/pdf", b"%PDF-1.7 test"))
    for attachments in ([], [{"kind": "test-pdf", "ref": "lasku-1"}]):
        message = OutboxMessage(
            id=7, dedupe_key="test:language", sender="Webbi <noreply@webbi.example>",
            recipient="owner@customer.example", subject="Verkkotunnus on rekisteröity",
            text="Hei!", html="<p>Hei!</p>", language="sv",
            context={"attachments": attachments})
        with app.app_context():
            data = outbox.signed_bytes(message)
        parsed = message_from_bytes(data, policy=policy.default)
        assert parsed["Content-Language"] == "sv"
        assert parsed.get_content_type() == ("multipart/mixed" if attachments
                                             else "multipart/alternative")
        assert data.count(b"Content-Language") == 1  # on the message, not on a part


def test_the_kept_header_classes_build_the_same_wire_form_as_the_standard_ones():
    from email.message import EmailMessage

    def wire(build, send):
        email = EmailMessage(policy=build)
        email["From"] = "Webbi Ääkköset Oy <noreply@webbi.example>"
        email["To"] = "owner@customer.example"
        email["Subject"] = "Verkkotunnus esimerkki.fi on rekisteröity"
        email.set_content("Hei, " * 40)
        email.add_alternative("<p>Hei</p>", subtype="html")
        email.set_boundary("b0undary")
        return email.as_bytes(policy=send)

    assert wire(outbox.BUILD, outbox.WIRE) == wire(policy.default, policy.SMTP)
    assert outbox.BUILD.header_factory["subject"] is outbox.BUILD.header_factory["Subject"]
    # a repeating header is made and folded once per value, and goes out the same again
    assert wire(outbox.BUILD, outbox.WIRE) == wire(policy.default, policy.SMTP)
    made = outbox.BUILD.header_factory("From", "Webbi Ääkköset Oy <noreply@webbi.example>")
    assert made is outbox.BUILD.header_factory("From", "Webbi Ääkköset Oy <noreply@webbi.example>")
    assert made.addresses[0].addr_spec == "noreply@webbi.example"
    subject = outbox.BUILD.header_factory("Subject", "Hei")
    assert subject is not outbox.BUILD.header_factory("Subject", "Hei")  # differs per message


def test_each_multipart_message_gets_its_own_random_boundary(app):
    message = SimpleNamespace(
        id=7, sender="Webbi Oy <noreply@webbi.example>", recipient="owner@customer.example",
        reply_to=None, subject="Hei", dedupe_key="event:7:x", text="Hei!\n--x",
        html="<p>Hei!</p>", context={}, language="fi")
    with app.app_context():
        first, second = (outbox.build_email(message) for _ in range(2))
    assert first.get_boundary() != second.get_boundary()
    assert len(first.get_boundary()) <= 70  # RFC 2046
    parsed = message_from_bytes(first.as_bytes(policy=outbox.WIRE), policy=policy.default)
    assert [part.get_content_type() for part in parsed.walk()] == [
        "multipart/alternative", "text/plain", "text/html"]
    assert parsed.get_body(("plain",)).get_content() == "Hei!\r\n--x\r\n"
