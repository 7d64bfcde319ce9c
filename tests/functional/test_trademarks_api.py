"""``/api/v1/trademarks``: protecting a mark charges its first period through the wallet,
periods renew (or end once cancelled) and every charge is a line on the monthly invoice."""

from __future__ import annotations

from datetime import date

import pytest

from reseller.core.db import unit_of_work
from reseller.core.jobs import PERIODIC, run
from tests.support.domains import CONTACT
from tests.support.invoicing import at
from tests.support.trademarks import install_trademark_prices, set_price
from tests.support.wallet import fund
from wallet import services as wallet
from wallet.invoices import invoicing
from wallet.money import Money

MARK = {"mark": "NordName", "holder": "NordName Oy", "contact": None,
        "registration_number": "018123456", "jurisdiction": "EUIPO",
        "languages": ["fi", "en"], "billing_period": "month"}


@pytest.fixture
def reseller(factory):
    install_trademark_prices()
    reseller = factory.reseller(country="FI", vat_id="FI24644919")
    fund(reseller.id, "200.00")
    return reseller


def _renew(jobs) -> None:
    run(PERIODIC["trademarks.renew"].path)
    jobs.run_all()


@pytest.mark.smoke
def test_a_new_mark_is_created_and_its_first_month_charged(factory, reseller):
    at("2026-10-10T10:00:00")
    api = factory.api(reseller)
    contact = api.post("/api/v1/contacts", json=CONTACT).json["id"]
    response = api.post("/api/v1/trademarks", json={**MARK, "contact": contact,
                                                    "variants": ["nordnamn"]})
    assert response.status_code == 201, response.json
    body = response.json
    assert body["id"] and body["mark"] == "NordName" and body["contact"] == contact
    assert body["labels"] == ["nordname", "nordnamn"]
    assert body["status"] == "active" and body["cancel_at_period_end"] is False
    assert body["current_period_start"].startswith("2026-10-10T10:00")
    assert body["current_period_end"].startswith("2026-11-10T10:00")
    assert body["next_price"] == {"currency": "EUR", "net": "9.00", "vat": "2.30",
                                  "total": "11.30", "billing_period": "month"}
    # 9.00 net + 25.5 % VAT left the wallet.
    assert wallet.available(reseller_id=reseller.id) == Money.of("188.70")
    assert api.get(f"/api/v1/trademarks/{body['id']}").json == body
    listed = api.get("/api/v1/trademarks").json
    assert [item["id"] for item in listed["items"]] == [body["id"]]


def test_a_wallet_that_cannot_pay_adds_no_mark(factory):
    install_trademark_prices(year="500.00")
    reseller = factory.reseller(country="FI", vat_id="FI24644919")
    fund(reseller.id, "100.00")
    api = factory.api(reseller)
    response = api.post("/api/v1/trademarks", json={**MARK, "billing_period": "year"})
    assert response.status_code == 402 and response.json["code"] == "insufficient_funds"
    assert api.get("/api/v1/trademarks").json["items"] == []
    assert wallet.available(reseller_id=reseller.id) == Money.of("100.00")


def test_without_a_price_nothing_is_added(factory):
    reseller = factory.reseller()
    fund(reseller.id, "100.00")
    response = factory.api(reseller).post("/api/v1/trademarks", json=MARK)
    assert response.status_code == 409 and response.json["code"] == "trademark_price_missing"


def test_bad_input_is_a_problem_naming_the_field(factory, reseller):
    api = factory.api(reseller)
    for body, field in (({**MARK, "mark": "!!!"}, "mark"), ({**MARK, "contact": 999999}, "contact"),
                        ({**MARK, "languages": ["de"]}, "languages"),
                        ({**MARK, "billing_period": "week"}, "billing_period"),
                        ({**MARK, "variants": ["not a label"]}, "variants"),
                        ({**MARK, "holder": "a\nb"}, "holder")):
        response = api.post("/api/v1/trademarks", json=body)
        assert response.status_code == 422, body
        assert field in response.json["errors"], response.json
    other = factory.reseller()
    theirs = factory.api(other).post("/api/v1/contacts", json=CONTACT).json["id"]
    response = api.post("/api/v1/trademarks", json={**MARK, "contact": theirs})
    assert response.status_code == 422 and "contact" in response.json["errors"]


def test_each_period_is_a_line_on_the_monthly_invoice(factory, reseller, jobs):
    at("2026-10-10T10:00:00")
    api = factory.api(reseller)
    mark = api.post("/api/v1/trademarks", json=MARK).json
    at("2026-11-01T00:05:00")
    with unit_of_work():
        invoicing.run_month_end()
    jobs.run_all()
    number = api.get("/api/v1/invoices").json["items"][0]["number"]
    lines = api.get(f"/api/v1/invoices/{number}").json["lines"]
    assert [(line["description"], line["net"], line["vat"]) for line in lines] == [
        ("Trademark protection: NordName (2026-10-10 – 2026-11-10)", "9.00", "2.30")]
    # The second month is charged when the first ends, at the price then in effect.
    set_price("month", "12.00", date(2026, 11, 5))
    at("2026-11-10T10:30:00")
    _renew(jobs)
    renewed = api.get(f"/api/v1/trademarks/{mark['id']}").json
    assert renewed["current_period_end"].startswith("2026-12-10T10:00")
    at("2026-12-01T00:05:00")
    with unit_of_work():
        invoicing.run_month_end()
    jobs.run_all()
    number = api.get("/api/v1/invoices").json["items"][0]["number"]
    lines = api.get(f"/api/v1/invoices/{number}").json["lines"]
    assert [(line["description"], line["net"]) for line in lines] == [
        ("Trademark protection: NordName (2026-11-10 – 2026-12-10)", "12.00")]
    _renew(jobs)  # running it again charges nothing more
    assert wallet.available(reseller_id=reseller.id) == Money.of("200.00") - Money.of(
        "11.30") - Money.of("15.06")


def test_a_cancelled_mark_runs_to_its_period_end_and_is_not_charged_again(
        factory, reseller, jobs):
    at("2026-10-10T10:00:00")
    api = factory.api(reseller)
    mark = api.post("/api/v1/trademarks", json={**MARK, "billing_period": "year"}).json
    paid = wallet.available(reseller_id=reseller.id)
    cancelled = api.delete(f"/api/v1/trademarks/{mark['id']}")
    assert cancelled.status_code == 200
    assert cancelled.json["cancel_at_period_end"] is True and cancelled.json["status"] == "active"
    assert cancelled.json["next_price"] is None
    assert api.delete(f"/api/v1/trademarks/{mark['id']}").json == cancelled.json | {
        "cancelled_at": cancelled.json["cancelled_at"]}
    at("2027-10-09T10:00:00")
    _renew(jobs)
    assert api.get(f"/api/v1/trademarks/{mark['id']}").json["status"] == "active"
    at("2027-10-10T11:00:00")
    _renew(jobs)
    ended = api.get(f"/api/v1/trademarks/{mark['id']}").json
    assert ended["status"] == "ended" and ended["ended_at"].startswith("2027-10-10T10:00")
    assert wallet.available(reseller_id=reseller.id) == paid
    assert api.patch(f"/api/v1/trademarks/{mark['id']}",
                     json={"languages": ["sv"]}).json["code"] == "trademark_ended"


def test_a_cancellation_can_be_taken_back_before_the_period_ends(factory, reseller, jobs):
    at("2026-10-10T10:00:00")
    api = factory.api(reseller)
    mark = api.post("/api/v1/trademarks", json=MARK).json
    api.delete(f"/api/v1/trademarks/{mark['id']}")
    body = api.patch(f"/api/v1/trademarks/{mark['id']}",
                     json={"cancel_at_period_end": False, "billing_period": "year"}).json
    assert body["cancel_at_period_end"] is False and body["billing_period"] == "year"
    at("2026-11-10T11:00:00")
    _renew(jobs)
    body = api.get(f"/api/v1/trademarks/{mark['id']}").json
    assert body["status"] == "active" and body["current_period_end"].startswith("2027-11-10")


def test_an_unpaid_renewal_is_past_due_then_ends(factory, jobs):
    install_trademark_prices()
    reseller = factory.reseller(country="FI", vat_id="FI24644919")
    fund(reseller.id, "11.30")
    at("2026-10-10T10:00:00")
    api = factory.api(reseller)
    mark = api.post("/api/v1/trademarks", json=MARK).json
    at("2026-11-10T11:00:00")
    _renew(jobs)
    assert api.get(f"/api/v1/trademarks/{mark['id']}").json["status"] == "past_due"
    fund(reseller.id, "11.30")
    at("2026-11-11T11:00:00")
    _renew(jobs)
    body = api.get(f"/api/v1/trademarks/{mark['id']}").json
    assert body["status"] == "active" and body["current_period_end"].startswith("2026-12-10")
    at("2026-12-10T11:00:00")
    _renew(jobs)
    at("2026-12-25T11:00:00")
    _renew(jobs)
    assert api.get(f"/api/v1/trademarks/{mark['id']}").json["status"] == "ended"


def test_another_resellers_marks_are_not_found(factory, reseller):
    mark = factory.api(reseller).post("/api/v1/trademarks", json=MARK).json
    thief = factory.api(factory.reseller())
    for method in ("get", "delete", "patch"):
        response = getattr(thief, method)(f"/api/v1/trademarks/{mark['id']}", json={})
        assert response.status_code == 404, method
    assert thief.get(f"/api/v1/trademarks/{mark['id']}/matches").status_code == 404
    assert thief.get("/api/v1/trademarks").json["items"] == []


def test_reading_needs_the_read_scope_and_writing_the_write_scope(factory, reseller):
    reader = factory.api(reseller, scopes=["trademarks:read"])
    assert reader.get("/api/v1/trademarks").status_code == 200
    assert reader.post("/api/v1/trademarks", json=MARK).status_code == 403
    assert factory.api(reseller, scopes=["domains:read"]).get(
        "/api/v1/trademarks").status_code == 403
