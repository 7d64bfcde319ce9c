from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from reseller.accounts import closure
from reseller.accounts.models import User
from reseller.core.clock import clock
from reseller.core.db import unit_of_work
from reseller.core.events import Event
from reseller.core.extensions import db
from tests.support.wallet import fund
from wallet.models import Withdrawal


def test_paid_period_ends_at_the_start_of_next_month_in_helsinki():
    moment = datetime(2027, 1, 31, 21, 59, tzinfo=UTC)  # 23:59 in Helsinki
    assert closure.end_of_paid_period(moment) == datetime(2027, 1, 31, 22, 0, tzinfo=UTC)
    assert closure.end_of_paid_period(datetime(2027, 12, 15, tzinfo=UTC)) == datetime(
        2027, 12, 31, 22, 0, tzinfo=UTC)


def test_closure_needs_owner_or_admin_and_a_reason(factory):
    reseller = factory.reseller()
    with pytest.raises(closure.PermissionDenied):
        closure.request_closure(reseller_id=reseller.id, actor_role="billing",
                                actor_user_id=None, reason="moving on")
    with pytest.raises(closure.ValidationFailed):
        closure.request_closure(reseller_id=reseller.id, actor_role="owner",
                                actor_user_id=None, reason="")


@pytest.mark.smoke
def test_account_stays_usable_until_the_period_ends_then_deactivates_and_erases(factory):
    clock.set(datetime(2027, 3, 10, 12, 0, tzinfo=UTC))
    reseller = factory.reseller()
    owner = factory.user(reseller)
    api = factory.api(reseller)
    response = api.post("/api/v1/account/close", json={"reason": "We stop selling domains"})
    assert response.status_code == 200, response.json
    assert response.json["status"] == "closing"
    assert response.json["closes_at"].startswith("2027-03-31T21:00")
    # still usable during the paid period
    assert api.get("/api/v1/account").status_code == 200
    with unit_of_work():
        assert closure.deactivate_due() == []
    clock.set(datetime(2027, 4, 1, 0, 0, tzinfo=UTC))
    with unit_of_work():
        assert closure.deactivate_due() == [reseller.id]
        assert closure.deactivate_due() == []
    assert api.get("/api/v1/account").status_code == 401
    # kept for 14 days, then personal data goes
    with unit_of_work():
        assert closure.delete_personal_data_due() == []
    clock.set(datetime(2027, 4, 15, 0, 1, tzinfo=UTC))
    with unit_of_work():
        assert closure.delete_personal_data_due() == [reseller.id]
    erased = db.session.get(User, owner.id)
    assert erased.email.endswith("@invalid") and erased.password_hash is None
    with pytest.raises(closure.ReopenTooLate):
        closure.reopen(reseller_id=reseller.id, actor_role="owner")


def test_reseller_can_change_its_mind_within_14_days(factory):
    clock.set(datetime(2027, 5, 20, tzinfo=UTC))
    reseller = factory.reseller()
    with unit_of_work():
        closure.request_closure(reseller_id=reseller.id, actor_role="admin",
                                actor_user_id=None, reason="too expensive")
    clock.set_offset(clock.offset() + timedelta(days=20))
    with unit_of_work():
        closure.deactivate_due()
        reopened = closure.reopen(reseller_id=reseller.id, actor_role="owner")
    assert reopened.status == "active" and reopened.deactivated_at is None


def test_deactivation_records_account_closed_once_and_refunds_prepaid_funds_once(factory):
    """The wallet's refund is an ``account.closed`` listener: it commits with the
    deactivation, and a second run finds nothing to deactivate and refunds nothing."""
    clock.set(datetime(2027, 6, 1, tzinfo=UTC))
    reseller = factory.reseller()  # with a prepaid wallet
    fund(reseller.id, "120.00")
    with unit_of_work():
        closure.request_closure(reseller_id=reseller.id, actor_role="owner",
                                actor_user_id=None, reason="bye bye")
    clock.set(datetime(2027, 7, 2, tzinfo=UTC))
    with unit_of_work():
        closure.deactivate_due()
        closure.deactivate_due()
    closed = db.session.scalars(sa.select(Event).where(
        Event.reseller_id == reseller.id, Event.type == "account.closed")).all()
    assert len(closed) == 1
    refunds = db.session.scalars(sa.select(Withdrawal).where(
        Withdrawal.reseller_id == reseller.id)).all()
    assert [(r.amount, r.idempotency_key, r.requested_by) for r in refunds] == [
        (Decimal("120.00"), "account-closure", "account closure")]


def test_client_area_close_and_reopen(client, factory):
    reseller = factory.reseller()
    user = factory.user(reseller, role="owner")
    client.post("/login", data={"email": user.email, "password": "correct horse battery"})
    asked = client.post("/account/closure", data={"action": "close", "reason": "closing shop"})
    assert "Unused prepaid funds are refunded" in asked.get_data(as_text=True)
    assert 'value="close"' in client.get("/account").get_data(as_text=True)  # not yet closing
    client.post("/account/closure", data={"action": "close", "reason": "closing shop",
                                          "confirmed": "1"})
    assert "closes" in client.get("/account?lang=en").get_data(as_text=True)
    client.post("/account/closure", data={"action": "reopen"})
    assert 'value="close"' in client.get("/account").get_data(as_text=True)
