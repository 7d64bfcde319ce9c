"""The lifecycle: reminders, auto-renew (skipped with an event when funds are short),
expiry → grace → redemption → deleted by TLD, transfers out, volume tiers, price history."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from reseller.catalog import services as catalog
from reseller.core.clock import clock
from reseller.core.db import unit_of_work
from reseller.core.errors import ValidationFailed
from reseller.core.events import Event
from reseller.core.extensions import db
from reseller.domains import orders, services
from reseller.domains.models import Domain, Order
from tests.support.domains import (
    available,
    fund,
    install_catalogue,
    make_contact,
    order_jobs,
    sandbox,
)
from wallet.money import Money


@pytest.fixture
def reseller(factory):
    install_catalogue()
    reseller = factory.reseller()
    fund(reseller, "100.00")
    return reseller


def owned(reseller, jobs, name):
    contact = make_contact(reseller)
    with unit_of_work():
        orders.order_register(reseller_id=reseller.id, name=name, period=1,
                              contacts={"registrant": contact.id}, idempotency_key=name)
    jobs.run_all()
    return db.session.scalar(sa.select(Domain).where(Domain.name == name))


def at(days: float) -> None:
    clock.set_offset(timedelta(days=days))


def run(app, name: str) -> None:
    result = app.test_cli_runner().invoke(args=["jobs", "run", name])
    assert result.exit_code == 0, result.output


def types(reseller):
    return [e.type for e in db.session.scalars(
        sa.select(Event).where(Event.reseller_id == reseller.id).order_by(Event.id))]


def test_auto_renew_ahead_of_expiry(reseller, jobs, app):
    domain = owned(reseller, jobs, "jatkuva.fi")
    expires = domain.expires_at
    at(365 - 10)
    run(app, "domains.lifecycle")
    jobs.run_all()
    db.session.expire_all()
    assert db.session.get(Domain, domain.id).expires_at.year == expires.year + 1
    assert "domain.renewed" in types(reseller)
    run(app, "domains.lifecycle")  # again: no second renewal
    assert order_jobs(jobs) == []
    assert available(reseller) == Money.of("100.00") - Money.of("12.42") * 2


def test_auto_renew_is_skipped_with_an_event_when_funds_are_short(factory, jobs, app):
    install_catalogue()
    reseller = factory.reseller()
    fund(reseller, "12.42")
    domain = owned(reseller, jobs, "vahissa.fi")
    at(365 - 5)
    run(app, "domains.lifecycle")
    assert order_jobs(jobs) == []
    skipped = db.session.scalars(sa.select(Event).where(
        Event.type == "domain.expiring", Event.reseller_id == reseller.id)).all()
    assert any(e.data.get("auto_renew_skipped") and e.data["reason"] == "insufficient_funds"
               and e.data["domain"] == "vahissa.fi" for e in skipped)
    assert db.session.get(Domain, domain.id).status == "active"


@pytest.mark.smoke
def test_com_goes_through_grace_and_redemption_then_is_deleted(reseller, jobs, app):
    domain = owned(reseller, jobs, "loppuva.com")
    with unit_of_work():
        services.set_auto_renew(reseller_id=reseller.id, name="loppuva.com", auto_renew=False)
    at(366)
    run(app, "domains.lifecycle")
    db.session.expire_all()
    assert db.session.get(Domain, domain.id).status == "expired"
    at(366 + 45)
    run(app, "domains.lifecycle")
    db.session.expire_all()
    assert db.session.get(Domain, domain.id).status == "redemption"
    assert "redemptionPeriod" in sandbox().info("loppuva.com").statuses
    at(366 + 45 + 31)
    run(app, "domains.lifecycle")
    db.session.expire_all()
    assert db.session.get(Domain, domain.id).status == "deleted"
    assert sandbox().info("loppuva.com") is None
    assert types(reseller).count("domain.expired") == 1
    assert "domain.deleted" in types(reseller)


def test_fi_has_no_redemption_and_is_deleted_after_grace(reseller, jobs, app):
    domain = owned(reseller, jobs, "vanheneva.fi")
    with unit_of_work():
        services.set_auto_renew(reseller_id=reseller.id, name="vanheneva.fi", auto_renew=False)
    at(366)
    run(app, "domains.lifecycle")
    at(366 + 31)
    run(app, "domains.lifecycle")
    db.session.expire_all()
    assert db.session.get(Domain, domain.id).status == "deleted"
    assert sandbox().check(["vanheneva.fi"])[0].available


def test_expired_domain_can_still_be_renewed_in_grace(reseller, jobs, app):
    domain = owned(reseller, jobs, "armonaika.fi")
    with unit_of_work():
        services.set_auto_renew(reseller_id=reseller.id, name="armonaika.fi", auto_renew=False)
    at(370)
    run(app, "domains.lifecycle")
    with unit_of_work():
        orders.order_renew(reseller_id=reseller.id, name="armonaika.fi", period=1,
                           idempotency_key="grace")
    jobs.run_all()
    db.session.expire_all()
    assert db.session.get(Domain, domain.id).status == "active"


def test_reminders_before_expiry_are_sent_once_per_window(reseller, jobs, app):
    owned(reseller, jobs, "muistutus.fi")
    with unit_of_work():
        services.set_auto_renew(reseller_id=reseller.id, name="muistutus.fi", auto_renew=False)
    at(365 - 20)
    run(app, "domains.lifecycle")
    run(app, "domains.lifecycle")
    at(365 - 3)
    run(app, "domains.lifecycle")
    assert types(reseller).count("domain.expiring") == 2


@pytest.mark.smoke
def test_transfer_out_needs_an_answer_or_five_days(reseller, jobs, app):
    owned(reseller, jobs, "lahteva.fi")
    owned(reseller, jobs, "hiljainen.fi")
    for name in ("lahteva.fi", "hiljainen.fi"):
        with unit_of_work():
            code = services.request_auth_code(reseller_id=reseller.id, name=name)
        sandbox().simulate_transfer_out(name=name, auth_code=code)
    run(app, "domains.transfers")
    db.session.expire_all()
    leaving = db.session.scalar(sa.select(Domain).where(Domain.name == "lahteva.fi"))
    assert leaving.transfer_out_pending
    with unit_of_work():
        services.answer_transfer_out(reseller_id=reseller.id, name="lahteva.fi", approve=True)
    assert db.session.get(Domain, leaving.id).status == "transferred_out"
    at(6)
    run(app, "domains.transfers")
    db.session.expire_all()
    quiet = db.session.scalar(sa.select(Domain).where(Domain.name == "hiljainen.fi"))
    assert quiet.status == "transferred_out"
    statuses = [e.data["status"] for e in db.session.scalars(sa.select(Event).where(
        Event.type == "domain.transferred_out", Event.reseller_id == reseller.id))]
    assert sorted(statuses) == ["pending", "pending", "transferred_out", "transferred_out"]


def test_tiers_move_up_on_purchases_and_never_down(reseller, jobs, app):
    with unit_of_work():
        catalog.set_tier_threshold(code="plus", threshold=Decimal("15.00"))
    owned(reseller, jobs, "volyymi-a.fi")
    run(app, "catalog.promote_tiers")
    db.session.expire_all()
    assert reseller.tier == "standard"
    owned(reseller, jobs, "volyymi-b.fi")
    run(app, "catalog.promote_tiers")
    db.session.expire_all()
    assert reseller.tier == "plus"
    at(800)  # the purchases age out of the 12-month window
    run(app, "catalog.promote_tiers")
    db.session.expire_all()
    assert reseller.tier == "plus"
    quote = catalog.quote(reseller_id=reseller.id, tld="fi", operation="register")
    assert quote.net == Decimal("9.41")


def test_price_changes_apply_from_their_date_and_history_stays(reseller):
    today = clock.today()
    with unit_of_work():
        catalog.set_price(tld="fi", operation="register", price_list="prepaid",
                          tier="standard", amount=Decimal("11.00"),
                          effective_from=today + timedelta(days=30))
    assert catalog.quote(reseller_id=reseller.id, tld="fi", operation="register").net == \
        Decimal("9.90")
    at(31)
    assert catalog.quote(reseller_id=reseller.id, tld="fi", operation="register").net == \
        Decimal("11.00")
    history = [p for p in catalog.price_rows(tld="fi")
               if p.operation == "register" and p.price_list == "prepaid"
               and p.tier == "standard"]
    assert [p.amount for p in history] == [Decimal("11.00"), Decimal("9.90")]
    with pytest.raises(ValidationFailed):
        catalog.set_price(tld="fi", operation="register", price_list="prepaid",
                          tier="standard", amount=Decimal("1.00"),
                          effective_from=date(2020, 1, 2))


def test_postpaid_resellers_pay_from_the_postpaid_list(factory):
    install_catalogue()
    reseller = factory.reseller(payment_mode="postpaid")
    quote = catalog.quote(reseller_id=reseller.id, tld="fi", operation="register", years=2)
    assert (quote.price_list, quote.net, quote.total) == ("postpaid", Decimal("21.78"),
                                                          Decimal("27.33"))


def test_orders_for_one_name_are_one_at_a_time(reseller, jobs):
    owned(reseller, jobs, "yksi-kerrallaan.fi")
    with unit_of_work():
        orders.order_renew(reseller_id=reseller.id, name="yksi-kerrallaan.fi", period=1,
                           idempotency_key="r1")
    from reseller.domains.errors import OrderInProgress

    with pytest.raises(OrderInProgress), unit_of_work():
        orders.order_renew(reseller_id=reseller.id, name="yksi-kerrallaan.fi", period=1,
                           idempotency_key="r2")
    jobs.run_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Order).where(
        Order.domain_name == "yksi-kerrallaan.fi")) == 2


def test_registrant_stopping_a_transfer_out_rejects_it_at_the_registry(reseller, jobs, app):
    from reseller.core.events import record_event

    owned(reseller, jobs, "pysyva.fi")
    with unit_of_work():
        code = services.request_auth_code(reseller_id=reseller.id, name="pysyva.fi")
    sandbox().simulate_transfer_out(name="pysyva.fi", auth_code=code)
    run(app, "domains.transfers")
    with unit_of_work():
        record_event(reseller_id=reseller.id, type="registrant.transfer_decision",
                     data={"domain": "pysyva.fi", "direction": "out", "decision": "reject"})
    jobs.run_all()
    db.session.expire_all()
    domain = db.session.scalar(sa.select(Domain).where(Domain.name == "pysyva.fi"))
    assert domain.status == "active" and not domain.transfer_out_pending
    assert sandbox().transfer_query(name="pysyva.fi").status == "clientRejected"
    at(6)
    run(app, "domains.transfers")
    assert sandbox().info("pysyva.fi").sponsor == "tunnus"


def test_unverified_registrant_domains_are_held_until_verified(reseller, jobs, app):
    from reseller.core.events import record_event

    domain = owned(reseller, jobs, "vahvistamaton.fi")
    with unit_of_work():
        record_event(reseller_id=reseller.id, type="registrant.verification_overdue",
                     data={"email": "maija@asiakas.example", "domains": ["vahvistamaton.fi"],
                           "suspend": True})
    jobs.run_all()
    db.session.expire_all()
    assert db.session.get(Domain, domain.id).suspended
    assert "clientHold" in sandbox().info("vahvistamaton.fi").statuses
    with unit_of_work():
        record_event(reseller_id=reseller.id, type="registrant.verified",
                     data={"email": "maija@asiakas.example", "domains": ["vahvistamaton.fi"],
                           "unsuspend": True})
    jobs.run_all()
    db.session.expire_all()
    assert not db.session.get(Domain, domain.id).suspended
    assert "clientHold" not in sandbox().info("vahvistamaton.fi").statuses
