"""``/api/v1/invoices`` and the client-area billing page."""

import hashlib

import pytest
import sqlalchemy as sa
from peppol import validate_xsd

from reseller.core.db import unit_of_work
from reseller.core.extensions import db
from tests.support.invoicing import at, buy
from tests.support.wallet import fund, make_postpaid
from wallet.invoices import invoicing
from wallet.invoices.models import Invoice

FIELDS = ["number", "kind", "date", "due_date", "period_start", "period_end", "status",
          "currency", "net_total", "vat_total", "total", "paid_at"]


def _invoiced(factory, jobs, months=("2026-09", "2026-10"), postpaid=False):
    reseller = factory.reseller(country="FI", vat_id="FI24644919")
    if postpaid:
        make_postpaid(reseller.id, "1000.00")
    else:
        fund(reseller.id, "500.00")
    for month in months:
        at(f"{month}-10T10:00:00")
        buy(reseller, f"{month}.fi", "10.00")
    at("2026-11-01T00:05:00")
    with unit_of_work():
        invoicing.run_month_end()
    jobs.run_all()
    return reseller


@pytest.mark.smoke
def test_list_gives_the_documented_fields_newest_first(factory, jobs):
    reseller = _invoiced(factory, jobs)
    api = factory.api(reseller, scopes=["billing:read"])
    body = api.get("/api/v1/invoices").json
    assert [item["number"] for item in body["items"]] == ["2026-000002", "2026-000001"]
    item = body["items"][0]
    assert sorted(item) == sorted(FIELDS)
    assert item | {"paid_at": None} == {
        "number": "2026-000002", "kind": "invoice", "date": "2026-11-01",
        "due_date": "2026-11-01", "period_start": "2026-10-01", "period_end": "2026-10-31",
        "status": "paid", "currency": "EUR", "net_total": "10.00", "vat_total": "2.55",
        "total": "12.55", "paid_at": None}
    assert item["paid_at"].startswith("2026-11-01T00:05")
    assert body["next"] is None


def test_list_pages_with_a_cursor(factory, jobs):
    reseller = _invoiced(factory, jobs)
    api = factory.api(reseller, scopes=["billing:read"])
    first = api.get("/api/v1/invoices?limit=1").json
    assert [i["number"] for i in first["items"]] == ["2026-000002"]
    second = api.get(first["next"].replace("http://localhost", "")).json
    assert [i["number"] for i in second["items"]] == ["2026-000001"] and second["next"] is None
    bad = api.get("/api/v1/invoices?cursor=%%%")
    assert bad.status_code == 400 and bad.json["code"] == "invalid_cursor"


def test_overdue_shows_as_its_own_status(factory, jobs):
    reseller = _invoiced(factory, jobs, months=("2026-10",), postpaid=True)
    api = factory.api(reseller, scopes=["billing:read"])
    assert api.get("/api/v1/invoices").json["items"][0]["status"] == "open"
    at("2026-11-16T09:00:00")
    assert api.get("/api/v1/invoices").json["items"][0]["status"] == "overdue"


def test_detail_has_lines_breakdown_and_references(factory, jobs):
    reseller = _invoiced(factory, jobs, months=("2026-10",), postpaid=True)
    api = factory.api(reseller, scopes=["billing:read"])
    body = api.get("/api/v1/invoices/2026-000001").json
    assert body["status"] == "open" and body["amount_due"] == "12.55"
    assert body["reference"] and body["rf_reference"].startswith("RF")
    assert body["vat_breakdown"] == [{"category": "S", "rate": "25.5", "net": "10.00",
                                      "vat": "2.55"}]
    [line] = body["lines"]
    assert (line["domain"], line["operation"], line["period_years"], line["net"],
            line["vat_rate"], line["vat"]) == ("2026-10.fi", "register", 1, "10.00", "25.5",
                                               "2.55")


def test_pdf_downloads_are_byte_identical(factory, jobs):
    reseller = _invoiced(factory, jobs, months=("2026-10",))
    api = factory.api(reseller, scopes=["billing:read"])
    first = api.get("/api/v1/invoices/2026-000001.pdf")
    second = api.get("/api/v1/invoices/2026-000001.pdf")
    assert first.status_code == 200 and first.mimetype == "application/pdf"
    assert first.data == second.data and first.data.startswith(b"%PDF")
    assert first.headers["ETag"] == f'"{hashlib.sha256(first.data).hexdigest()}"'


def test_e_invoice_download_is_valid_ubl(factory, jobs):
    reseller = _invoiced(factory, jobs, months=("2026-10",))
    api = factory.api(reseller, scopes=["billing:read"])
    response = api.get("/api/v1/invoices/2026-000001.xml")
    assert response.status_code == 200
    assert validate_xsd(response.data) == (True, [])


def test_another_resellers_invoice_is_not_found(factory, jobs):
    _invoiced(factory, jobs, months=("2026-10",))
    stranger = factory.api(factory.reseller(), scopes=["billing:read"])
    for path in ("/api/v1/invoices/2026-000001", "/api/v1/invoices/2026-000001.pdf",
                 "/api/v1/invoices/2026-000001.xml"):
        response = stranger.get(path)
        assert response.status_code == 404 and response.json["code"] == "invoice_not_found"
    assert stranger.get("/api/v1/invoices").json["items"] == []


def test_invoices_need_the_billing_read_scope(factory):
    api = factory.api(factory.reseller(), scopes=["domains:read"])
    response = api.get("/api/v1/invoices")
    assert response.status_code == 403 and response.json["code"] == "insufficient_scope"


def _login(client, user):
    client.post("/login", data={"email": user.email, "password": "correct horse battery"})


@pytest.mark.smoke
def test_billing_page_lists_invoices_with_pdf_links(factory, jobs, client):
    reseller = _invoiced(factory, jobs, months=("2026-10",), postpaid=True)
    with unit_of_work():
        reseller.einvoice_address = "003724644919"
    user = factory.user(reseller, role="billing")
    _login(client, user)
    page = client.get("/billing/invoices?lang=en")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    for text in ("2026-000001", "Postpaid", "Standard", "003724644919", "FI2112345600000785",
                 "/billing/invoices/2026-000001.pdf", user.email):
        assert text in html
    pdf = client.get("/billing/invoices/2026-000001.pdf")
    stored = db.session.scalar(sa.select(Invoice).where(Invoice.reseller_id == reseller.id))
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF") and stored is not None


def test_billing_page_is_for_people_who_see_money(factory, client):
    user = factory.user(factory.reseller(), role="technical")
    _login(client, user)
    assert client.get("/billing/invoices").status_code == 403
