"""A month of many lines: the invoice states them grouped (operation, zone, period, unit
price) with quantity and unit price; the CSV and the PDF's appendix list every line."""

import csv
import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa
from lxml import etree
from peppol import validate_xsd

from reseller.core.db import unit_of_work
from reseller.core.extensions import db
from tests.support import peppol_rules
from tests.support.invoicing import at, pdf_text
from tests.support.wallet import fund
from wallet import services as wallet
from wallet.invoices import einvoice, invoicing, pdf
from wallet.invoices.grouping import group_lines
from wallet.invoices.models import Invoice
from wallet.money import Money

CBC = "{urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2}"
CAC = "{urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2}"
# (domain, operation, years, net): three kinds of supply, two prices for .fi registrations.
MIX = [("a{}.fi", "register", 1, "9.90"), ("b{}.fi", "register", 1, "8.95"),
       ("c{}.com", "renew", 2, "24.40"), ("d{}.fi", "register", 3, "26.70")]


def _bulk_purchases(reseller_id: int, count: int) -> None:
    """``count`` captured October purchases (bulk rows, as the ledger leaves them)."""
    from wallet.models import Purchase

    start = datetime(2026, 10, 1, 8, tzinfo=UTC)
    rows = []
    for n in range(count):
        domain, operation, years, net = MIX[n % len(MIX)]
        net = Decimal(net)
        vat = (net * Decimal("0.255")).quantize(Decimal("0.01"))
        rows.append({"reseller_id": reseller_id, "reference": f"grp-{reseller_id}-{n}",
                     "description": f"{operation} {domain.format(n)}", "source": "funds",
                     "item": {"domain": domain.format(n), "operation": operation,
                              "period": years},
                     "currency": "EUR", "net_amount": net, "vat_amount": vat,
                     "gross_amount": net + vat, "vat_rate": Decimal("0.255"),
                     "captured_at": start + timedelta(minutes=n * 7), "refunded": False})
    with unit_of_work():
        db.session.execute(sa.insert(Purchase), rows)


def _month_invoice(factory, jobs, count: int, *, extra=None) -> Invoice:
    reseller = factory.reseller(country="FI", vat_id="FI24644919", business_id="2464491-9",
                                language="en", street="Katu 1", postal_code="00100",
                                city="Helsinki")
    fund(reseller.id, "100000.00")
    _bulk_purchases(reseller.id, count)
    if extra:
        extra(reseller)
    at("2026-11-01T00:05:00")
    with unit_of_work():
        invoicing.run_month_end()
    jobs.run_all()
    return db.session.scalar(sa.select(Invoice).where(Invoice.reseller_id == reseller.id))


def test_groups_sum_exactly_to_every_line_with_quantity_and_unit_price(factory, jobs):
    invoice = _month_invoice(factory, jobs, 203)
    groups = group_lines(invoice.lines)
    assert len(invoice.lines) == 203
    assert [(g.operation, g.zone, g.period_years, str(g.unit_price), g.quantity)
            for g in groups] == [("register", "fi", 1, "8.95", 51),
                                 ("register", "fi", 1, "9.90", 51),
                                 ("register", "fi", 3, "26.70", 50),
                                 ("renew", "com", 2, "24.40", 51)]
    for group in groups:
        assert group.unit_price * group.quantity == group.net
    assert sum(g.net for g in groups) == sum(line.net for line in invoice.lines)
    assert sum(g.net for g in groups) == invoice.net_total
    assert sorted(p for g in groups for p in g.positions) == list(range(1, 204))


def test_e_invoice_states_the_groups_and_passes_the_official_rules(factory, jobs):
    def refund_one(reseller):
        at("2026-10-20T10:00:00")
        with unit_of_work():
            wallet.hold_funds(reseller_id=reseller.id, net=Money.of("9.90"),
                              vat_rate=Decimal("0.255"), reference="grp-refunded",
                              description="register gone.fi",
                              item={"domain": "gone.fi", "operation": "register", "period": 1})
        with unit_of_work():
            wallet.capture_hold(reference="grp-refunded")

    invoice = _month_invoice(factory, jobs, 41, extra=refund_one)
    xml = einvoice.to_ubl(invoice)
    assert validate_xsd(xml) == (True, [])
    assert peppol_rules.fatal(xml) == []  # BR-27, PEPPOL-EN16931-R120 (qty × price) …
    root = etree.fromstring(xml)
    lines = root.findall(f"{CAC}InvoiceLine")
    assert len(lines) == len(group_lines(invoice.lines)) < len(invoice.lines)
    total = sum(Decimal(line.findtext(f"{CBC}LineExtensionAmount")) for line in lines)
    assert total == invoice.net_total
    for line in lines:
        quantity = Decimal(line.findtext(f"{CBC}InvoicedQuantity"))
        price = Decimal(line.find(f"{CAC}Price").findtext(f"{CBC}PriceAmount"))
        assert quantity * price == Decimal(line.findtext(f"{CBC}LineExtensionAmount"))


def test_specification_csv_lists_every_line_in_the_client_area_and_api(factory, jobs, client):
    def formula(reseller):
        at("2026-10-21T10:00:00")
        with unit_of_work():
            wallet.hold_funds(reseller_id=reseller.id, net=Money.of("5.00"),
                              vat_rate=Decimal("0.255"), reference="grp-formula",
                              description="=HYPERLINK(\"http://evil.example\")", item={})
        with unit_of_work():
            wallet.capture_hold(reference="grp-formula")

    invoice = _month_invoice(factory, jobs, 57, extra=formula)
    reseller_id = invoice.reseller_id
    from reseller.accounts.models import Reseller

    reseller = db.session.get(Reseller, reseller_id)
    api = factory.api(reseller, scopes=["billing:read"])
    response = api.get(f"/api/v1/invoices/{invoice.number}.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [int(row["line"]) for row in rows] == list(range(1, 59))
    assert sum(Decimal(row["net"]) for row in rows) == invoice.net_total
    assert {row["domain"] for row in rows} >= {"a0.fi", "c2.com", "a56.fi"}
    assert [row["description"] for row in rows if not row["domain"]] == [
        "'=HYPERLINK(\"http://evil.example\")"]
    stranger = factory.api(factory.reseller(), scopes=["billing:read"])
    assert stranger.get(f"/api/v1/invoices/{invoice.number}.csv").status_code == 404
    detail = api.get(f"/api/v1/invoices/{invoice.number}").json
    stated = detail["stated_lines"]
    assert len(stated) == 5 and len(detail["lines"]) == 58
    assert sum(Decimal(line["net"]) for line in stated) == invoice.net_total
    assert all(Decimal(line["unit_price"]) * line["quantity"] == Decimal(line["net"])
               for line in stated)
    assert sorted(p for line in stated for p in line["line_positions"]) == list(range(1, 59))
    user = factory.user(reseller, role="billing")
    client.post("/login", data={"email": user.email, "password": "correct horse battery"})
    page = client.get(f"/billing/invoices/{invoice.number}.csv")
    assert page.status_code == 200 and page.data == response.data


def test_pdf_states_groups_and_appends_every_line(factory, jobs):
    invoice = _month_invoice(factory, jobs, 170)
    content = pdf.stored_pdf(invoice.id).content
    text = pdf_text(content).replace("\u00a0", " ")
    assert "Registration, .fi, 1 year" in text and "Renewal, .com, 2 years" in text
    assert "Quantity" in text and "Unit price" in text
    assert "specification (170 lines)" in text and "Page 3/3" in text
    for n in (0, 85, 169):
        domain, *_ = MIX[n % len(MIX)]
        assert domain.format(n) in text


def test_pdf_downloads_hold_no_transaction_while_rendering(factory, jobs, client, monkeypatch):
    from reseller.accounts.models import Reseller
    from wallet.invoices.models import InvoiceDocument

    invoice = _month_invoice(factory, jobs, 5)
    reseller = db.session.get(Reseller, invoice.reseller_id)
    render, during = pdf.rendition_to_pdf, []

    def watched(parts):
        during.append(db.session().in_transaction())
        return render(parts)

    monkeypatch.setattr(pdf, "rendition_to_pdf", watched)
    api = factory.api(reseller, scopes=["billing:read"])
    user = factory.user(reseller, role="billing")
    client.post("/login", data={"email": user.email, "password": "correct horse battery"})
    for get in (lambda: api.get(f"/api/v1/invoices/{invoice.number}.pdf"),
                lambda: client.get(f"/billing/invoices/{invoice.number}.pdf")):
        with unit_of_work():
            db.session.execute(sa.delete(InvoiceDocument))  # not stored yet: rendered now
        response = get()
        assert response.status_code == 200 and response.data.startswith(b"%PDF")
    assert during == [False, False]


def test_a_short_specification_follows_on_the_invoice_itself(factory, jobs):
    invoice = _month_invoice(factory, jobs, 6)
    text = pdf_text(pdf.stored_pdf(invoice.id).content).replace("\u00a0", " ")
    assert "SPECIFICATION" in text and "Appendix" not in text
    assert all(MIX[n % len(MIX)][0].format(n) in text for n in range(6))
    assert pdf.rendition(invoice).appendix_html == []
