"""The support plan over the API: read, preview, change (upgrade/downgrade, monthly/yearly)
prorated to the day and charged through the wallet once per Idempotency-Key; only owner
and billing users; renewals and the fall back to Core; the month's invoice lines."""

from decimal import Decimal

import pytest

from reseller.core.db import unit_of_work
from reseller.core.events import Event
from reseller.support.tasks import renew_plans
from tests.support.invoicing import at
from tests.support.support_desk import install_plans, quote_ultimate
from tests.support.wallet import fund, make_postpaid
from wallet import services as wallet
from wallet.invoices import invoicing
from whitelabel.models import OutboxMessage

PLAN = "/api/v1/support/plan"


@pytest.fixture
def shop(factory):
    install_plans()
    reseller = factory.reseller(country="FI", vat_id="FI24644919")  # domestic: 25.5 % VAT
    fund(reseller.id, "2000.00")
    quote_ultimate(reseller.id)
    return reseller


def _change(api, plan, cycle="monthly", key=None):
    headers = {"Idempotency-Key": key} if key else {}
    return api.put(PLAN, json={"plan": plan, "cycle": cycle}, headers=headers)


def test_every_reseller_starts_on_the_free_core_plan(factory, shop):
    body = factory.api(shop).get(PLAN).json
    assert body["plan"]["code"] == "core" and body["next_renewal"] is None
    assert body["oncall_number"] is None  # only plans with the on-call channel see it
    offers = {o["code"]: o for o in body["offers"]}
    assert offers["pro"]["monthly_price"] == "149.00"
    assert offers["ultimate"]["monthly_price"] == "690.00"  # this reseller's quote


def test_ultimate_without_a_quote_is_refused(factory, shop):
    other = factory.reseller()
    fund(other.id, "1000.00")
    response = _change(factory.api(other), "ultimate")
    assert response.status_code == 409
    assert response.json["code"] == "support_plan_needs_quote"


@pytest.mark.smoke
def test_upgrade_mid_month_is_prorated_to_the_day_and_charged_once(factory, shop):
    api = factory.api(shop)
    at("2027-03-01T08:00:00")
    first = _change(api, "pro", key="buy-pro")
    assert first.status_code == 200, first.json
    assert (first.json["charge"], first.json["next_renewal"]) == ("149.00", "2027-04-01")
    assert first.json["total"] == "187.00"  # 149.00 + 25.5 % VAT
    at("2027-03-15T09:00:00")  # 17 of March's 31 days left
    preview = api.post(PLAN + "/preview", json={"plan": "ultimate", "cycle": "monthly"}).json
    assert preview["credit"] == "81.71"  # 149 × 17/31, rounded once
    assert preview["charge"] == "378.39"  # 690 × 17/31
    assert preview["amount_due"] == "296.68" and preview["refund"] == "0.00"
    assert preview["next_renewal"] == "2027-04-01"
    before = wallet.available(reseller_id=shop.id)
    upgrade = _change(api, "ultimate", key="to-ultimate")
    again = _change(api, "ultimate", key="to-ultimate")
    assert upgrade.status_code == again.status_code == 200
    assert again.json["change_id"] == upgrade.json["change_id"]
    assert upgrade.json["total"] == preview["total"]
    spent = before - wallet.available(reseller_id=shop.id)
    assert spent.amount == Decimal(preview["total"])  # charged once, to the cent
    assert api.get(PLAN).json["plan"]["code"] == "ultimate"
    assert api.get(PLAN).json["oncall_number"] == "+358 40 424 5999"


def test_downgrade_mid_month_credits_the_unused_value(factory, shop):
    api = factory.api(shop)
    at("2027-03-01T08:00:00")
    assert _change(api, "ultimate", key="k1").status_code == 200
    at("2027-03-15T09:00:00")
    before = wallet.available(reseller_id=shop.id)
    down = _change(api, "pro", key="k2").json
    assert (down["credit"], down["charge"]) == ("378.39", "81.71")
    assert down["refund"] == "296.68" and down["amount_due"] == "0.00"
    back = wallet.available(reseller_id=shop.id) - before
    assert back.amount == -Decimal(down["total"])  # the credit is back in prepaid funds
    assert back.amount == Decimal("372.33")  # 296.68 + VAT as each purchase rounded it


def test_yearly_cycle_and_switching_from_monthly_starts_a_new_cycle(factory, shop):
    api = factory.api(shop)
    at("2027-01-10T08:00:00")
    assert _change(api, "pro", "yearly", key="y1").json["next_renewal"] == "2028-01-10"
    at("2027-07-01T08:00:00")
    fund(shop.id, "5000.00")
    up = _change(api, "ultimate", "yearly", key="y2").json
    assert (up["credit"], up["charge"]) == ("787.86", "3648.49")  # 193 of 365 days
    at("2027-07-02T08:00:00")
    monthly = _change(api, "pro", "monthly", key="y3").json
    assert monthly["next_renewal"] == "2027-08-02"  # a new cycle from the change
    assert monthly["charge"] == "149.00"


def test_only_owner_and_billing_users_change_the_plan(factory, shop):
    technical = factory.api(shop, role="technical")
    response = _change(technical, "pro")
    assert response.status_code == 403
    assert technical.post(PLAN + "/preview", json={"plan": "pro"}).status_code == 403
    assert technical.get(PLAN).status_code == 200  # may see the plan and its SLA
    assert _change(factory.api(shop, role="billing"), "pro", key="b").status_code == 200
    assert _change(factory.api(shop, role="owner"), "core", key="o").status_code == 200


def test_a_wallet_that_cannot_pay_changes_nothing(factory):
    install_plans()
    poor = factory.reseller()
    fund(poor.id, "10.00")
    response = _change(factory.api(poor), "pro", key="poor")
    assert response.status_code == 402 and response.json["code"] == "insufficient_funds"
    assert factory.api(poor).get(PLAN).json["plan"]["code"] == "core"


def test_postpaid_charges_within_the_credit_limit(factory):
    install_plans()
    agency = factory.reseller(payment_mode="postpaid")
    make_postpaid(agency.id, "150.00")
    assert _change(factory.api(agency), "pro", key="p").status_code == 402  # 187.00 > 150
    make_postpaid(agency.id, "500.00")
    assert _change(factory.api(agency), "pro", key="p2").status_code == 200


def test_renewal_charges_the_next_cycle_and_a_failed_one_falls_back_to_core(
        factory, shop, jobs):
    api = factory.api(shop)
    at("2027-03-01T08:00:00")
    _change(api, "pro", key="r1")
    at("2027-04-01T07:30:00")  # 10:30 in Helsinki on the renewal day
    with unit_of_work():
        renew_plans()
    jobs.run_all()
    assert api.get(PLAN).json["next_renewal"] == "2027-05-01"
    # Empty the wallet: May's renewal cannot be paid.
    with unit_of_work():
        available = wallet.available(reseller_id=shop.id)
        wallet.adjust_funds(reseller_id=shop.id, amount=-available, reason="test",
                            actor="test", reference="drain")
    at("2027-05-01T07:30:00")
    with unit_of_work():
        renew_plans()
    jobs.run_all()
    body = api.get(PLAN).json
    assert body["plan"]["code"] == "core" and body["next_renewal"] is None
    failed = [e for e in Event.query.filter_by(reseller_id=shop.id)
              if e.type == "support_plan.renewal_failed"]
    assert len(failed) == 1 and failed[0].data["previous_plan"] == "pro"
    notices = [m for m in OutboxMessage.query.filter_by(reseller_id=shop.id)
               if m.template == "reseller/support_plan_renewal_failed"]
    assert notices and "Pro" in notices[0].subject


@pytest.mark.smoke
def test_the_months_invoice_lists_the_charges_and_credits_with_vat(factory, shop, jobs):
    api = factory.api(shop)
    at("2027-03-01T08:00:00")
    _change(api, "pro", key="i1")
    at("2027-03-15T09:00:00")
    _change(api, "ultimate", key="i2")
    at("2027-04-01T00:05:00")
    with unit_of_work():
        invoicing.run_month_end()
    jobs.run_all()
    number = api.get("/api/v1/invoices").json["items"][0]["number"]
    invoice = api.get(f"/api/v1/invoices/{number}").json
    lines = [(line["kind"], line["net"], line["vat_rate"]) for line in invoice["lines"]]
    assert ("purchase", "149.00", "25.5") in lines  # Pro for March
    assert ("refund", "-149.00", "25.5") in lines  # credited: the unused part (and rebilled)
    assert ("purchase", "67.29", "25.5") in lines  # Pro 1–14 March, the part used
    assert ("purchase", "378.39", "25.5") in lines  # Ultimate 15–31 March
    assert Decimal(invoice["net_total"]) == Decimal("149.00") + Decimal("296.68")
    descriptions = " ".join(line["description"] for line in invoice["lines"])
    assert "Support plan Ultimate (monthly) 15.03.2027–01.04.2027" in descriptions
