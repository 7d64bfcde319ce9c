"""The console's "needs a human" page: stuck and unpaid orders, kept holds, dead jobs and
unanswered keys, each with its action; operators only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from reseller.core.clock import clock
from reseller.core.db import unit_of_work
from reseller.core.extensions import db
from reseller.core.pending import PendingJob
from reseller.core.web.idempotency import IdempotencyRecord
from reseller.domains import orders
from reseller.domains.models import Order
from tests.support.domains import fund, install_catalogue, make_contact


def login(client, user, password):
    assert client.post("/login", data={"email": user.email, "password": password}) \
        .status_code == 302


def test_the_operator_sees_what_needs_a_human_and_acts_on_it(client, factory, jobs):
    install_catalogue()
    reseller = factory.reseller()
    fund(reseller, "100.00")
    contact = make_contact(reseller)
    with unit_of_work():
        order = orders.order_register(reseller_id=reseller.id, name="jumissa.fi", period=1,
                                      contacts={"registrant": contact.id},
                                      idempotency_key="stuck-1")
        order.created_at = clock.now() - timedelta(hours=2)
        now = datetime.now(UTC)
        db.session.add(PendingJob(id="d" * 32, path="whitelabel.tasks.send_message",
                                  args=[1], queue="default", retries=1, created_at=now,
                                  not_before=now, handovers=1, failures=2,
                                  last_error="SMTPServerDisconnected: gone"))
        db.session.add(IdempotencyRecord(reseller_id=reseller.id, key="lost-answer",
                                         method="POST", path="/api/v1/domains",
                                         body_hash="0" * 64,
                                         created_at=clock.now() - timedelta(hours=1)))
    jobs.jobs.clear()
    login(client, factory.operator(), "operator password")
    page = client.get("/console/attention")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for seen in ("jumissa.fi", "whitelabel.tasks.send_message", "SMTPServerDisconnected",
                 "lost-answer"):
        assert seen in html, seen

    asked = client.post(f"/console/attention/orders/{order.id}/recover")
    assert asked.status_code == 302
    assert jobs.jobs == [("reseller.domains.tasks.recover_one", (order.id,))]
    jobs.run_all()
    assert db.session.get(Order, order.id).state == "completed"

    assert client.post("/console/attention/jobs/" + "d" * 32 + "/retry").status_code == 302
    row = db.session.get(PendingJob, "d" * 32)
    assert row.failures == 0 and not row.dead
    record_id = db.session.scalar(sa.select(IdempotencyRecord.id)
                                  .where(IdempotencyRecord.key == "lost-answer"))
    assert client.post(f"/console/attention/keys/{record_id}/forget").status_code == 302
    assert db.session.get(IdempotencyRecord, record_id) is None


def test_the_page_is_for_operators_only(client, factory):
    login(client, factory.user(factory.reseller()), "correct horse battery")
    assert client.get("/console/attention").status_code in (403, 404)
