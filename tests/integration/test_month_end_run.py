"""The month-end run: one invoice per reseller and month, gap-free numbers, resumable."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from reseller.core.db import unit_of_work
from reseller.core.events import Event
from reseller.core.extensions import db
from tests.support.invoicing import at, buy
from tests.support.wallet import fund, make_postpaid
from wallet.invoices import invoicing
from wallet.invoices.models import Invoice, InvoiceDocument

ROOT = Path(__file__).resolve().parents[2]


def _resellers(factory, count: int) -> list:
    resellers = []
    for _ in range(count):
        reseller = factory.reseller()
        fund(reseller.id, "500.00")
        resellers.append(reseller)
    return resellers


def _october_purchases(resellers, per_reseller: int = 2) -> None:
    at("2026-10-15T10:00:00")
    for reseller in resellers:
        for n in range(per_reseller):
            buy(reseller, f"r{reseller.id}-d{n}.fi")


def _run(jobs) -> int:
    with unit_of_work():
        queued = invoicing.run_month_end()
    jobs.run_all()
    return queued


def _invoices() -> list[Invoice]:
    return list(db.session.scalars(sa.select(Invoice).where(Invoice.kind == "invoice")
                                   .order_by(Invoice.sequence)))


def _assert_one_per_reseller_without_gaps(resellers) -> None:
    invoices = _invoices()
    ids = [r if isinstance(r, int) else r.id for r in resellers]
    assert sorted(i.reseller_id for i in invoices) == sorted(ids)
    sequences = [i.sequence for i in invoices]
    assert sequences == list(range(sequences[0], sequences[0] + len(invoices)))
    assert all(i.period_key == "2026-10" for i in invoices)


@pytest.mark.smoke
def test_two_runs_of_a_month_issue_one_invoice_per_reseller(factory, jobs):
    resellers = _resellers(factory, 3)
    _october_purchases(resellers)
    at("2026-11-01T00:05:00")
    assert _run(jobs) == 3
    assert _run(jobs) == 0
    _assert_one_per_reseller_without_gaps(resellers)
    assert [i.number for i in _invoices()] == ["2026-000001", "2026-000002", "2026-000003"]
    issued = db.session.scalars(sa.select(Event).where(Event.type == "invoice.issued")).all()
    assert len(issued) == 3
    documents = db.session.scalar(sa.select(sa.func.count(InvoiceDocument.id)))
    assert documents == 3


def test_a_run_whose_queue_died_half_way_is_resumed_by_the_next_run(factory, jobs):
    resellers = _resellers(factory, 4)
    _october_purchases(resellers, per_reseller=1)
    at("2026-11-01T00:05:00")
    with unit_of_work():
        assert invoicing.run_month_end() == 4
    jobs.run_all(limit=2)
    jobs.jobs.clear()  # the worker died with the rest of the queue
    assert len(_invoices()) == 2
    assert _run(jobs) == 2
    assert _run(jobs) == 0
    _assert_one_per_reseller_without_gaps(resellers)


def test_the_same_month_job_twice_changes_nothing(factory, jobs):
    [reseller] = _resellers(factory, 1)
    _october_purchases([reseller])
    at("2026-11-01T00:05:00")
    invoicing.invoice_reseller_month(reseller.id, "2026-10")
    invoicing.invoice_reseller_month(reseller.id, "2026-10")
    assert len(_invoices()) == 1 and len(_invoices()[0].lines) == 2


def test_the_unique_constraint_refuses_a_second_invoice_for_a_month(factory, jobs):
    [reseller] = _resellers(factory, 1)
    _october_purchases([reseller])
    at("2026-11-01T00:05:00")
    _run(jobs)
    first = _invoices()[0]
    copy = {c.key: getattr(first, c.key) for c in Invoice.__table__.columns
            if c.key not in {"id", "number", "sequence", "reference"}}
    with pytest.raises(sa.exc.IntegrityError), unit_of_work():
        db.session.add(Invoice(**copy, number="X-1", sequence=999, reference="99999"))
        db.session.flush()


def test_every_ended_month_is_invoiced_in_order(factory, jobs):
    [reseller] = _resellers(factory, 1)
    at("2026-08-10T10:00:00")
    buy(reseller, "august.fi")
    at("2026-10-10T10:00:00")
    buy(reseller, "october.fi")
    at("2026-11-02T08:00:00")
    _run(jobs)
    invoices = _invoices()
    assert [(i.period_key, [line.domain for line in i.lines]) for i in invoices] == [
        ("2026-08", ["august.fi"]), ("2026-10", ["october.fi"])]


def test_a_purchase_of_the_current_month_waits_for_its_month_end(factory, jobs):
    [reseller] = _resellers(factory, 1)
    at("2026-11-01T08:00:00")
    buy(reseller, "november.fi")
    assert _run(jobs) == 0
    assert _invoices() == []


def test_a_refund_in_a_later_month_is_a_negative_line_then(factory, jobs):
    from wallet import services as wallet

    [reseller] = _resellers(factory, 1)
    at("2026-10-10T10:00:00")
    reference = buy(reseller, "oops.fi", "20.00")
    at("2026-11-03T10:00:00")
    _run(jobs)
    with unit_of_work():
        wallet.refund_purchase(reference=reference, reason="registry refused")
    buy(reseller, "fine.fi", "10.00")
    at("2026-12-01T09:00:00")
    _run(jobs)
    november = _invoices()[-1]
    assert [(line.kind, line.domain, str(line.net)) for line in november.lines] == [
        ("purchase", "fine.fi", "10.00"), ("refund", "oops.fi", "-20.00")]
    assert str(november.net_total) == "-10.00" and november.status == "paid"


def test_a_postpaid_invoice_is_open_and_due_in_14_days(factory, jobs):
    reseller = factory.reseller()
    make_postpaid(reseller.id, "1000.00")
    _october_purchases([reseller])
    at("2026-11-01T00:05:00")
    _run(jobs)
    [invoice] = _invoices()
    assert invoice.status == "open" and invoice.paid_at is None
    assert (invoice.due_date - invoice.issue_date).days == 14


@pytest.mark.postgres_only
@pytest.mark.slow
def test_a_run_killed_half_way_then_resumed_leaves_no_gaps(app, committed_db, postgres):
    """A real ``flask invoices run`` process is SIGKILLed mid-run; the next run finishes."""
    from tests.support.factories import Factory

    with app.app_context():
        factory = Factory(app)
        resellers = _resellers(factory, 8)
        _october_purchases(resellers, per_reseller=3)
        at("2026-11-01T00:05:00")
        ids = [reseller.id for reseller in resellers]
        env = {**os.environ, "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
               "JOBS_MODE": "eager", "TUNNUS_ENV": "sandbox", "REDIS_URL": "",
               "INSTANCE_DIR": app.config["INSTANCE_DIR"], "PYTHONPATH": str(ROOT)}
        process = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", "invoices", "run"], cwd=ROOT,
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                with db.engine.connect() as conn:
                    done = conn.scalar(sa.select(sa.func.count(Invoice.id)))
                if done >= 3 or process.poll() is not None:
                    break
                time.sleep(0.05)
            process.send_signal(signal.SIGKILL)
        finally:
            process.wait(timeout=30)
        db.session.remove()
        killed_at = len(_invoices())
        assert 3 <= killed_at < 8, "the run must be cut short half way"
        with unit_of_work():
            invoicing.run_month_end()
        app.extensions["tunnus.jobs"].run_all()
        db.session.remove()
        _assert_one_per_reseller_without_gaps(ids)
        missing_pdf = db.session.scalar(sa.select(sa.func.count(Invoice.id)).where(
            ~sa.exists().where(InvoiceDocument.invoice_id == Invoice.id)))
        assert missing_pdf == 0


def test_the_vat_rate_on_an_invoice_is_the_one_in_force_at_purchase(factory, jobs):
    [reseller] = _resellers(factory, 1)
    at("2024-08-20T10:00:00")
    buy(reseller, "august.fi", "10.00")
    at("2024-09-10T10:00:00")
    buy(reseller, "september.fi", "10.00")
    at("2024-10-01T06:00:00")
    _run(jobs)
    assert [(i.period_key, i.vat_breakdown[0]["rate"], str(i.vat_total)) for i in _invoices()] == [
        ("2024-08", "24", "2.40"), ("2024-09", "25.5", "2.55")]


def test_the_invoice_and_card_jobs_still_run_under_their_old_stored_paths(factory, jobs):
    """Job paths are stored (Redis, RQ's cron registrations): the invoice jobs moved from
    reseller.billing.invoicing to wallet.invoices.invoicing and the card jobs to
    wallet.web.cards, and their old paths still run them."""
    from werkzeug.utils import import_string

    from reseller.core.jobs import MOVED, run

    [reseller] = _resellers(factory, 1)
    _october_purchases([reseller])
    at("2026-11-01T00:05:00")
    run("reseller.billing.invoicing.invoice_reseller_month", reseller.id, "2026-10")
    [invoice] = _invoices()
    assert (invoice.reseller_id, invoice.period_key) == (reseller.id, "2026-10")
    run("reseller.billing.invoicing.render_invoice_pdf", invoice.id)
    assert db.session.scalar(sa.select(sa.func.count(InvoiceDocument.id))) == 1
    run("reseller.billing.invoicing.month_end_job")
    run("reseller.billing.invoicing.send_overdue_reminders")
    assert run("reseller.billing.cards.autopay") == 0
    assert len(_invoices()) == 1
    moved = {old: new for old, new in MOVED.items() if old.startswith("reseller.billing.")}
    assert len(moved) == 7
    assert all(callable(import_string(new)) for new in moved.values())


def test_the_pdf_renders_with_no_database_transaction_open(factory, jobs, monkeypatch):
    """weasyprint takes most of a minute on a 10,000-line month: the month-end job and the
    render job hold no transaction ("idle in transaction") meanwhile (issue 31)."""
    from reseller.core.jobs import run
    from wallet.invoices import pdf

    render, during = pdf.rendition_to_pdf, []

    def watched(parts: pdf.Rendition) -> bytes:
        during.append(db.session().in_transaction())
        return render(parts)

    monkeypatch.setattr(pdf, "rendition_to_pdf", watched)
    [reseller] = _resellers(factory, 1)
    _october_purchases([reseller])
    at("2026-11-01T00:05:00")
    run("wallet.invoices.invoicing.invoice_reseller_month", reseller.id, "2026-10")
    [invoice] = _invoices()
    run("wallet.invoices.invoicing.render_invoice_pdf", invoice.id)  # stored: not again
    assert during == [False]
    [document] = db.session.scalars(sa.select(InvoiceDocument))
    assert document.invoice_id == invoice.id and document.content.startswith(b"%PDF")
