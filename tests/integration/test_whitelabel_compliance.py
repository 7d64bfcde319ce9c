"""Registrant compliance and event-driven messages: verification deadline with
suspension/unsuspension events, renewal reminders by the clock, listeners, idempotence."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from reseller.core.db import unit_of_work
from reseller.core.events import Event, record_event
from reseller.core.extensions import db
from tests.support import counting
from whitelabel import actions, compliance, tokens
from whitelabel.models import LinkToken, OutboxMessage, RegistrantVerification

NOW = datetime(2027, 1, 1, 9, tzinfo=UTC)


def _events(kind: str) -> list[Event]:
    return list(db.session.scalars(sa.select(Event).where(Event.type == kind)))


def _run_deferred() -> None:
    """The registrant-facing listeners are deferred: run their jobs, as a worker would."""
    from flask import current_app

    current_app.extensions["tunnus.jobs"].run_all()


def _registered(reseller_id, domain="kauppa.fi", email="Maija@Customer.example",
                language="sv", expires=NOW + timedelta(days=365), key=None):
    with unit_of_work():
        record_event(reseller_id=reseller_id, type="domain.registered",
                     dedupe_key=key or f"registered:{domain}",
                     data={"domain": domain, "expires_at": expires.isoformat(),
                           "registrant": {"email": email, "language": language}})
    _run_deferred()


@pytest.mark.smoke
def test_registration_event_sends_confirmation_and_verification_once(factory, wl_settings):
    reseller = factory.reseller()
    _registered(reseller.id)
    _registered(reseller.id)  # the same happening recorded again
    sent = {m.template: m for m in OutboxMessage.query}
    assert set(sent) == {"registrant/registration_confirmed", "registrant/email_verification"}
    assert all(m.language == "sv" and m.recipient.lower() == "maija@customer.example"
               for m in sent.values())
    assert not compliance.is_verified(reseller_id=reseller.id, email="maija@customer.example")
    # A second domain of the same registrant adds to the pending verification, no new mail.
    _registered(reseller.id, domain="toinen.fi")
    row = RegistrantVerification.query.one()
    assert compliance.verification_domains(row) == ["kauppa.fi", "toinen.fi"]
    assert OutboxMessage.query.filter_by(template="registrant/email_verification").count() == 1


def test_unconfirmed_registrant_is_suspended_after_15_days_and_unsuspended_on_confirm(
        factory, wl_settings):
    reseller = factory.reseller()
    with unit_of_work():
        row = compliance.start_registrant_verification(
            reseller_id=reseller.id, email="maija@customer.example", domain="kauppa.fi",
            language="fi", now=NOW, settings=wl_settings)
    assert row.deadline_at == NOW + timedelta(days=15)
    with unit_of_work():
        assert compliance.enforce_verification_deadlines(now=NOW + timedelta(days=14)) == 0
    with unit_of_work():
        assert compliance.enforce_verification_deadlines(now=NOW + timedelta(days=15)) == 1
    with unit_of_work():  # idempotent
        assert compliance.enforce_verification_deadlines(now=NOW + timedelta(days=16)) == 0
    [overdue] = _events("registrant.verification_overdue")
    assert overdue.data == {"email": "maija@customer.example", "domains": ["kauppa.fi"],
                            "suspend": True}
    # The emailed link still works after the deadline and lifts the suspension.
    link = LinkToken.query.filter_by(purpose="confirm_email").one()
    with unit_of_work():
        actions.confirm_email(link, now=NOW + timedelta(days=20))
    assert compliance.is_verified(reseller_id=reseller.id, email="MAIJA@customer.example")
    [verified] = _events("registrant.verified")
    assert verified.data["unsuspend"] is True and verified.data["domains"] == ["kauppa.fi"]


def test_verified_registrant_is_not_asked_again(factory, wl_settings):
    reseller = factory.reseller()
    with unit_of_work():
        compliance.start_registrant_verification(reseller_id=reseller.id, email="a@b.example",
                                                 domain="a.fi", settings=wl_settings)
        compliance.confirm_email(reseller_id=reseller.id, email="a@b.example")
    _registered(reseller.id, domain="b.fi", email="a@b.example")
    assert OutboxMessage.query.filter_by(template="registrant/email_verification").count() == 1


def test_verification_is_per_reseller(factory, wl_settings):
    first, second = factory.reseller(), factory.reseller()
    with unit_of_work():
        compliance.start_registrant_verification(reseller_id=first.id, email="a@b.example",
                                                 domain="a.fi", settings=wl_settings)
        compliance.confirm_email(reseller_id=first.id, email="a@b.example")
    assert compliance.is_verified(reseller_id=first.id, email="a@b.example")
    assert not compliance.is_verified(reseller_id=second.id, email="a@b.example")


def test_renewal_reminders_go_30_and_7_days_before_and_after_expiry_once_each(
        factory, wl_settings):
    reseller = factory.reseller()
    expires = NOW + timedelta(days=60)
    _registered(reseller.id, expires=expires, language="fi")
    sent_at = {}
    moment = NOW
    while moment < expires + timedelta(days=10):  # the hourly job, run daily here
        with unit_of_work():
            if compliance.send_renewal_reminders(now=moment, settings=wl_settings):
                sent_at[moment] = [m.template for m in OutboxMessage.query.filter(
                    OutboxMessage.template.like("registrant/renewal%"))]
        moment += timedelta(days=1)
    reminders = OutboxMessage.query.filter(
        OutboxMessage.template.like("registrant/renewal%")).order_by(OutboxMessage.id).all()
    assert [m.template for m in reminders] == [
        "registrant/renewal_reminder", "registrant/renewal_reminder",
        "registrant/renewal_overdue"]
    days_before = [(expires - when).days for when in sent_at]
    assert days_before == [30, 7, 0]
    assert all(m.language == "fi" for m in reminders)


def test_renewal_moves_the_reminders_to_the_new_expiry(factory, wl_settings):
    reseller = factory.reseller()
    expires = NOW + timedelta(days=20)
    _registered(reseller.id, expires=expires)
    with unit_of_work():
        assert compliance.send_renewal_reminders(now=NOW, settings=wl_settings) == 1
        record_event(reseller_id=reseller.id, type="domain.renewed", dedupe_key="renew-1",
                     data={"domain": "kauppa.fi", "expires_at": (expires + timedelta(
                         days=365)).isoformat(), "registrant_email": "maija@customer.example"})
    _run_deferred()
    with unit_of_work():
        assert compliance.send_renewal_reminders(now=NOW + timedelta(days=15),
                                                 settings=wl_settings) == 0


def test_expiring_event_and_scheduled_run_never_both_send(factory, wl_settings):
    reseller = factory.reseller()
    expires = NOW + timedelta(days=6)
    _registered(reseller.id, expires=expires)
    with unit_of_work():
        compliance.send_renewal_reminders(now=NOW, settings=wl_settings)
    with unit_of_work():
        compliance.send_renewal_reminder(
            reseller_id=reseller.id, domain="kauppa.fi", expires_at=expires,
            recipient="maija@customer.example", language="sv", now=NOW + timedelta(hours=2),
            settings=wl_settings)
    assert OutboxMessage.query.filter_by(template="registrant/renewal_reminder").count() == 1


def test_deleted_or_transferred_domains_get_no_more_reminders(factory, wl_settings):
    reseller = factory.reseller()
    _registered(reseller.id, domain="a.fi", expires=NOW + timedelta(days=20))
    _registered(reseller.id, domain="b.fi", expires=NOW + timedelta(days=20))
    with unit_of_work():
        record_event(reseller_id=reseller.id, type="domain.deleted", dedupe_key="del-a",
                     data={"domain": "a.fi", "registrant_email": "maija@customer.example"})
        record_event(reseller_id=reseller.id, type="domain.transferred_out",
                     dedupe_key="out-b", data={"domain": "b.fi", "status": "completed"})
    _run_deferred()
    with unit_of_work():
        assert compliance.send_renewal_reminders(now=NOW, settings=wl_settings) == 0
    assert OutboxMessage.query.filter_by(template="registrant/domain_deleted").count() == 1


def test_domain_events_map_to_their_messages(factory, wl_settings):
    reseller = factory.reseller()
    registrant = {"email": "maija@customer.example", "language": "en"}
    events = [
        ("domain.transferred_out", {"domain": "a.fi", "status": "pending", "registrant":
                                    registrant, "completes_at": "2027-01-06T00:00:00+00:00"}),
        ("domain.expired", {"domain": "a.fi", "expires_at": "2027-01-01T00:00:00+00:00",
                            "registrant": registrant}),
        ("contact.changed", {"domain": "a.fi", "registrant": registrant,
                             "previous_email": "old@customer.example"}),
    ]
    with unit_of_work():
        for i, (kind, data) in enumerate(events):
            record_event(reseller_id=reseller.id, type=kind, data=data, dedupe_key=f"e{i}")
    _run_deferred()
    got = sorted((m.template, m.recipient) for m in OutboxMessage.query)
    assert got == [
        ("registrant/contact_change", "maija@customer.example"),
        ("registrant/contact_change", "old@customer.example"),
        ("registrant/domain_expired", "maija@customer.example"),
        ("registrant/email_verification", "maija@customer.example"),
        ("registrant/transfer_out_notice", "maija@customer.example"),
    ]


def test_reseller_events_mail_the_reseller_in_its_language(factory, wl_settings):
    reseller = factory.reseller(language="sv", contact_email="info@webbi.example",
                                billing_email="laskut@webbi.example")
    with unit_of_work():
        # The data the wallet and domains packages record.
        record_event(reseller_id=reseller.id, type="wallet.low_balance", dedupe_key="w1",
                     data={"available": "12.50", "threshold": "50.00", "currency": "EUR"})
        record_event(reseller_id=reseller.id, type="wallet.topup_received", dedupe_key="w2",
                     data={"topup_id": 3, "amount": "200.00", "currency": "EUR",
                           "method": "card"})
        record_event(reseller_id=reseller.id, type="order.failed", dedupe_key="o1",
                     data={"order_id": 9, "kind": "register", "domain": "a.fi",
                           "reason": "taken", "registrant": None})
    _run_deferred()
    got = {m.template: m for m in OutboxMessage.query}
    assert got["reseller/low_balance"].recipient == "laskut@webbi.example"
    assert "12,50" in got["reseller/low_balance"].subject  # Swedish number format
    assert got["reseller/topup_received"].recipient == "laskut@webbi.example"
    assert got["reseller/order_failed"].recipient == "info@webbi.example"
    assert "200,00" in got["reseller/topup_received"].text
    assert " 9 " in got["reseller/order_failed"].text and "taken" in got["reseller/order_failed"].text
    assert {m.language for m in got.values()} == {"sv"}


def test_an_event_without_a_registrant_records_and_sends_nothing(factory, wl_settings):
    reseller = factory.reseller()
    with unit_of_work():
        record_event(reseller_id=reseller.id, type="domain.expired", dedupe_key="x",
                     data={"domain": "a.fi"})
    _run_deferred()
    assert len(_events("domain.expired")) == 1
    assert OutboxMessage.query.count() == 0


def test_transfer_decision_is_recorded_once(factory, wl_settings):
    reseller = factory.reseller()
    with unit_of_work():
        token = tokens.issue(reseller_id=reseller.id, purpose="transfer_in", subject="a.fi",
                             language="fi", data={"domain": "a.fi", "transfer_id": 3},
                             secret_key=wl_settings.secret_key)
        row, problem = actions.open_link(token, purpose="transfer_in",
                                         secret_key=wl_settings.secret_key)
        assert problem is None
        actions.decide_transfer(row, decision="reject")
    with unit_of_work():
        row, problem = actions.open_link(token, purpose="transfer_in",
                                         secret_key=wl_settings.secret_key)
    assert problem == tokens.TokenProblem.USED
    [decision] = _events("registrant.transfer_decision")
    assert decision.data == {"domain": "a.fi", "transfer_id": 3, "direction": "in",
                             "decision": "reject"}


def test_periodic_jobs_are_registered_and_the_compliance_job_runs_by_the_clock(
        app, factory, wl_settings):
    from reseller.core.clock import clock
    from reseller.core.jobs import PERIODIC
    from whitelabel import tasks

    assert {"outbox-sweep", "sender-domain-recheck", "registrant-compliance"} <= set(PERIODIC)
    listing = app.test_cli_runner().invoke(args=["jobs", "list"]).output
    assert "registrant-compliance" in listing
    reseller = factory.reseller()
    started = clock.now() - timedelta(days=16)
    with unit_of_work():
        compliance.start_registrant_verification(reseller_id=reseller.id, email="a@b.example",
                                                 domain="a.fi", now=started,
                                                 settings=wl_settings)
        _registered(reseller.id, expires=clock.now() + timedelta(days=3))
    _run_deferred()
    with unit_of_work():
        tasks.registrant_compliance()
    assert RegistrantVerification.query.filter_by(email="a@b.example").one().state == "overdue"
    assert OutboxMessage.query.filter_by(template="registrant/renewal_reminder").count() == 1


@pytest.mark.postgres_only
def test_concurrent_registrations_of_a_new_registrant_ask_once(app, committed_db, wl_settings):
    import threading

    from reseller.accounts.models import Reseller

    with unit_of_work():
        reseller = Reseller(company_name="Rinnakkain Oy", country="FI",
                            business_id="2464491-9", contact_email="info@r.example")
        committed_db.session.add(reseller)
        committed_db.session.flush()
        reseller_id = reseller.id
    barrier, errors = threading.Barrier(4), []

    def register(n: int) -> None:
        try:
            with app.app_context(), unit_of_work():
                barrier.wait()
                compliance.start_registrant_verification(
                    reseller_id=reseller_id, email="new@customer.example",
                    domain=f"site{n}.fi", settings=wl_settings)
        except Exception as error:  # noqa: BLE001 (reported below)
            errors.append(error)

    threads = [threading.Thread(target=register, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    committed_db.session.expire_all()
    [row] = RegistrantVerification.query.all()
    assert sorted(compliance.verification_domains(row)) == [f"site{n}.fi" for n in range(4)]
    assert OutboxMessage.query.filter_by(template="registrant/email_verification").count() == 1


def _pending_registrant(email: str) -> int:
    """A committed reseller whose registrant ``email`` waits for verification of eka.fi."""
    from reseller.accounts.models import Reseller

    with unit_of_work():
        reseller = Reseller(company_name="Verify Oy", country="FI", business_id="2464491-9",
                            contact_email="v@example.test", language="fi")
        db.session.add(reseller)
    with unit_of_work():
        compliance.start_registrant_verification(reseller_id=reseller.id, email=email,
                                                 domain="eka.fi", now=NOW)
    return reseller.id


@pytest.mark.postgres_only
def test_concurrent_registrations_of_one_registrant_keep_every_domain(app, committed_db):
    """Two workers add a domain to the same pending verification at once: the
    names are rows of their own (no list to rewrite, no lock to wait on): neither is lost."""
    import threading

    rid = _pending_registrant("maija@example.test")
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def append(domain: str) -> None:
        try:
            with app.app_context():
                barrier.wait(timeout=10)
                with unit_of_work():
                    compliance.start_registrant_verification(
                        reseller_id=rid, email="Maija@Example.test", domain=domain, now=NOW)
                db.session.remove()
        except BaseException as error:  # reported by the main thread
            errors.append(error)

    threads = [threading.Thread(target=append, args=(d,)) for d in ("toka.fi", "kolmas.fi")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors
    db.session.remove()
    row = compliance.find_verification(rid, "maija@example.test")
    assert sorted(compliance.verification_domains(row)) == ["eka.fi", "kolmas.fi", "toka.fi"]


@pytest.mark.postgres_only
def test_a_registration_of_a_pending_registrant_waits_on_no_other(app, committed_db):
    """Adding a name takes no lock on the verification: a second registration of the
    same registrant completes while the first one's transaction is still open."""
    import threading

    rid = _pending_registrant("liisa@example.test")
    first_open, second_done, errors = threading.Event(), threading.Event(), []
    seen_while_open = []

    def first() -> None:
        try:
            with app.app_context():
                with unit_of_work():
                    compliance.start_registrant_verification(
                        reseller_id=rid, email="liisa@example.test", domain="toka.fi", now=NOW)
                    first_open.set()
                    # the transaction stays open while the second registration runs
                    seen_while_open.append(second_done.wait(timeout=5))
                db.session.remove()
        except BaseException as error:  # reported by the main thread
            errors.append(error)

    def second() -> None:
        try:
            with app.app_context():
                first_open.wait(timeout=10)
                with unit_of_work():
                    compliance.start_registrant_verification(
                        reseller_id=rid, email="liisa@example.test", domain="kolmas.fi",
                        now=NOW)
                second_done.set()
                db.session.remove()
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors
    assert seen_while_open == [True]  # it did not wait for the first one's commit
    db.session.remove()
    row = compliance.find_verification(rid, "liisa@example.test")
    assert compliance.verification_domains(row) == ["eka.fi", "toka.fi", "kolmas.fi"]


@pytest.mark.parametrize(("language", "funds", "expected"), [
    ("sv", "20.00", ("100,00", "80,00", "banken returnerade")),  # spent: a debt of 80.00
    ("fi", "150.00", ("100,00", "50,00", "pankki palautti")),    # covered: balance 50.00
])
def test_a_payment_taken_back_is_mailed_to_the_billing_contact_in_its_language(
        factory, wl_settings, language, funds, expected):
    """Issue 26: the reseller is told of a reversal (a returned bank payment here; card
    refunds and chargebacks record the same event) by the wallet's event alone."""
    from decimal import Decimal

    from tests.support.wallet import fund
    from wallet import reversals

    reseller = factory.reseller(language=language, contact_email="info@webbi.example",
                                billing_email="laskut@webbi.example")
    fund(reseller.id, funds)
    with unit_of_work():
        reversals.reverse_payment(reseller_id=reseller.id, original="bank:1",
                                  reference="bank-return:1", amount=Decimal("100.00"),
                                  provider="bank", method="bank_transfer", cause="returned",
                                  reason="bank transfer returned (RF18)")
    _run_deferred()
    [message] = OutboxMessage.query.filter_by(template="reseller/payment_reversed").all()
    amount, left, cause = expected
    assert (message.recipient, message.language) == ("laskut@webbi.example", language)
    assert amount in message.subject and cause in message.text and left in message.text
    assert "/wallet" in message.text


def test_scheduled_reminders_commit_in_bounded_chunks(app, factory, wl_settings):
    """10,000 reminders in one transaction held every reseller's event feed back for a
    minute, and 400 chunk jobs queued from one transaction for seconds (issue 31): the
    scheduled run only reads ids and queues a few lanes; each lane sends a chunk per job,
    in a unit of work of its own, and queues its next chunk."""
    from reseller.core.clock import clock
    from whitelabel import tasks
    from whitelabel.models import RenewalWatch

    reseller, runner = factory.reseller(), app.extensions["tunnus.jobs"]
    due = clock.now() + timedelta(days=20)
    with unit_of_work():
        db.session.add_all(RenewalWatch(reseller_id=reseller.id, domain=f"d{n}.fi",
                                        expires_at=due, recipient=f"r{n}@customer.example",
                                        language="fi") for n in range(250))
        db.session.add(RenewalWatch(reseller_id=reseller.id, domain="later.fi",
                                    expires_at=clock.now() + timedelta(days=90),
                                    recipient="later@customer.example"))
    runner.jobs.clear()
    with unit_of_work():
        tasks.registrant_compliance()
    reminders = OutboxMessage.query.filter_by(template="registrant/renewal_reminder")
    assert reminders.count() == 0  # the planning transaction sends nothing itself
    lanes = [args for path, args in runner.jobs if path == compliance.REMINDER_LANE_JOB]
    assert len(lanes) == compliance.REMINDER_LANES
    chunks = []
    while jobs := [(p, a) for p, a in runner.jobs if p == compliance.REMINDER_LANE_JOB]:
        path, args = jobs[0]
        runner.jobs.remove((path, args))
        before = reminders.count()
        with unit_of_work():  # what a worker does with each lane's chunk
            tasks.send_renewal_reminder_lane(*args)
        chunks.append(reminders.count() - before)
    assert reminders.count() == 250 and max(chunks) == compliance.REMINDER_CHUNK
    assert len(chunks) <= 250 // compliance.REMINDER_CHUNK + compliance.REMINDER_LANES + 1
    runner.jobs.clear()
    with unit_of_work():
        tasks.registrant_compliance()  # the next hour: nothing is owed, nothing queued
    assert reminders.count() == 250
    assert not [path for path, _args in runner.jobs if path == compliance.REMINDER_LANE_JOB]


@pytest.mark.smoke
def test_watching_a_renewal_twice_updates_the_one_watch(factory):
    """``upsert`` (one statement, built once per model and columns): the second watch of a
    domain updates the first, a None included, and returns the row as stored."""
    from reseller.core.clock import clock
    from reseller.core.db import _upsert_statement
    from whitelabel.models import RenewalWatch

    reseller = factory.reseller()
    first_expiry, second_expiry = clock.now() + timedelta(days=30), clock.now() + timedelta(
        days=395)
    with unit_of_work():
        first = compliance.watch_renewal(reseller_id=reseller.id, domain="kahdesti.fi",
                                         expires_at=first_expiry, recipient="a@customer.example",
                                         language="sv")
    built = _upsert_statement.cache_info().currsize
    with unit_of_work():
        second = compliance.watch_renewal(reseller_id=reseller.id, domain="kahdesti.fi",
                                          expires_at=second_expiry,
                                          recipient="b@customer.example", language=None)
    assert _upsert_statement.cache_info().currsize == built  # the same statement again
    assert second.id == first.id
    rows = db.session.scalars(sa.select(RenewalWatch).where(
        RenewalWatch.reseller_id == reseller.id)).all()
    assert [(r.domain, r.recipient, r.language, r.expires_at) for r in rows] == [
        ("kahdesti.fi", "b@customer.example", None, second_expiry)]


def test_watching_several_renewals_at_once_keeps_the_last_of_each_domain(factory):
    """``upsert_all``: one statement for the batch; a domain given twice (one statement may
    not touch a row twice) keeps the last, as one upsert after another would."""
    from reseller.core.clock import clock
    from whitelabel.models import RenewalWatch

    reseller = factory.reseller()
    soon, later = clock.now() + timedelta(days=30), clock.now() + timedelta(days=60)
    with unit_of_work():
        compliance.watch_renewals([
            {"reseller_id": reseller.id, "domain": "yksi.fi", "expires_at": soon,
             "recipient": "a@customer.example", "language": "fi"},
            {"reseller_id": reseller.id, "domain": "kaksi.fi", "expires_at": soon,
             "recipient": "a@customer.example"},
            {"reseller_id": reseller.id, "domain": "yksi.fi", "expires_at": later,
             "recipient": "b@customer.example", "language": "sv"}])
        compliance.watch_renewals([])
    rows = db.session.scalars(sa.select(RenewalWatch).where(
        RenewalWatch.reseller_id == reseller.id).order_by(RenewalWatch.domain)).all()
    assert [(r.domain, r.recipient, r.language, r.expires_at) for r in rows] == [
        ("kaksi.fi", "a@customer.example", None, soon),
        ("yksi.fi", "b@customer.example", "sv", later)]


def test_a_batch_of_registrations_is_mailed_watched_and_verified_together(factory,
                                                                          wl_settings):
    """One dispatch of several registrations (a burst of orders): each its confirmation
    and renewal watch, the registrant one verification listing every name, one mail asking
    for it; a registration naming no registrant is skipped, the others go; the listener's
    writes are a few statements for the batch, not a few per registration."""
    from reseller.core import events as event_log
    from whitelabel.models import RenewalWatch

    reseller = factory.reseller()
    names = [f"erä{n}.fi" for n in range(5)]
    ids = []
    with unit_of_work():
        for n, name in enumerate(names):
            data = {"domain": name, "expires_at": (NOW + timedelta(days=365 + n)).isoformat(),
                    "registrant": {"email": "Erä@Customer.example", "language": "fi"}}
            ids.append(record_event(reseller_id=reseller.id, type="domain.registered",
                                    dedupe_key=f"batch:{name}", data=data).id)
        ids.append(record_event(reseller_id=reseller.id, type="domain.registered",
                                dedupe_key="batch:nobody", data={"domain": "nobody.fi"}).id)
    with counting.statements() as statements, unit_of_work():
        assert event_log.dispatch_deferred(ids[0]) is True
    confirmations = OutboxMessage.query.filter_by(
        template="registrant/registration_confirmed").all()
    assert sorted(m.context["domain"] for m in confirmations) == sorted(names)
    assert {m.language for m in confirmations} == {"fi"}
    watches = {w.domain: w.expires_at for w in RenewalWatch.query}
    assert sorted(watches) == sorted(names)
    row = RegistrantVerification.query.one()
    assert compliance.verification_domains(row) == names  # in order, none twice
    assert OutboxMessage.query.filter_by(template="registrant/email_verification").count() == 1
    if db.engine.dialect.name == "postgresql":  # SQLite's driver inserts rows one by one
        def count(prefix):
            return len([s for s in statements if s.startswith(prefix)])
        assert count("INSERT INTO OUTBOX_MESSAGES") == 2  # the confirmations; the verification's
        assert count("INSERT INTO RENEWAL_WATCHES") == 1
        assert count("INSERT INTO REGISTRANT_VERIFICATION_DOMAINS") == 2  # the first; the rest
    # a repeat of the same events (a second dispatch) changes nothing
    with unit_of_work():
        assert event_log.dispatch_deferred(ids[1]) is False
    assert OutboxMessage.query.count() == 6


def test_a_chunk_of_reminders_marks_them_together_and_skips_one_marked_meanwhile(
        factory, wl_settings):
    """A chunk writes its markers in one statement (``ON CONFLICT DO NOTHING``, not a read,
    a savepoint and an insert per reminder), queues its messages in one, and reads the
    reseller's brand once. A reminder another run marked first is not sent again."""
    from whitelabel.models import ReminderSent, RenewalWatch

    reseller = factory.reseller()
    due = NOW + timedelta(days=20)
    with unit_of_work():
        db.session.add_all(RenewalWatch(reseller_id=reseller.id, domain=f"d{n}.fi",
                                        expires_at=due, recipient=f"r{n}@customer.example",
                                        language="fi") for n in range(10))
        db.session.add(ReminderSent(reseller_id=reseller.id, domain="d3.fi", expires_at=due,
                                    stage="30", sent_at=NOW))  # a concurrent run's
    ids = list(db.session.scalars(sa.select(RenewalWatch.id).order_by(RenewalWatch.id)))
    with counting.statements() as seen, unit_of_work():
        assert compliance.send_reminders_for(ids, now=NOW, settings=wl_settings) == 9
    assert len([s for s in seen if s.startswith("INSERT INTO RENEWAL_REMINDERS_SENT")]) == 1
    assert len([s for s in seen if s.startswith("INSERT INTO OUTBOX_MESSAGES")]) == 1
    assert len([s for s in seen if "FROM BRANDS" in s]) == 1
    assert len([s for s in seen if s.startswith("INSERT INTO LINK_TOKENS")]) == 1
    messages = OutboxMessage.query.filter_by(template="registrant/renewal_reminder").all()
    assert {m.context["domain"] for m in messages} == {f"d{n}.fi" for n in range(10)} - {"d3.fi"}
    for message in messages:  # each link, issued together, opens its own domain's row
        token = re.search(r"/go/renewal/(\S+)", message.text).group(1)
        row, problem = tokens.read(token, purpose="renewal", secret_key=wl_settings.secret_key,
                                   now=NOW)
        assert problem is None and row.subject == message.context["domain"]
        assert row.data["recipient"] == message.recipient
    with unit_of_work():  # the next run: every one is marked, nothing is sent again
        assert compliance.send_reminders_for(ids, now=NOW, settings=wl_settings) == 0
