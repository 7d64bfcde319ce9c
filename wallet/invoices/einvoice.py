"""E-invoices: Peppol BIS Billing 3.0 (UBL 2.1 Invoice / CreditNote) for each document.

Built from the stored invoice, so the XML always says what the PDF says. Element order
follows the UBL 2.1 schema sequence (the tests validate against the OASIS XSDs).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from lxml import etree
from stdnum import iban

from wallet.invoices.grouping import LineGroup, group_lines
from wallet.invoices.models import Invoice

NS = {
    None: "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2",
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
}
CREDIT_NOTE_NS = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
CUSTOMIZATION = "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"
PROFILE = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"
EXEMPTION = {
    "AE": ("VATEX-EU-AE", "Reverse charge"),
    "O": ("VATEX-EU-O", "Not subject to VAT"),
    "E": (None, "Late-payment interest is not consideration for a supply"),
}


def _cbc(parent: Any, name: str, text: Any = None, **attrs: str) -> Any:
    element = etree.SubElement(parent, f"{{{NS['cbc']}}}{name}", **attrs)
    if text is not None:
        element.text = str(text)
    return element


def _cac(parent: Any, name: str) -> Any:
    return etree.SubElement(parent, f"{{{NS['cac']}}}{name}")


def _amount(parent: Any, name: str, value: Decimal, currency: str) -> Any:
    return _cbc(parent, name, f"{value:.2f}", currencyID=currency)


# Electronic Address Scheme (EAS) codes for a buyer without an e-invoice address: its VAT
# number, by country (CEF EAS code list, as in Peppol BIS 3's PEPPOL-EN16931-CL008).
VAT_SCHEMES = {
    "AT": "9914", "BE": "9925", "BG": "9926", "CY": "9928", "CZ": "9929", "DE": "9930",
    "EE": "9931", "GB": "9932", "GR": "9933", "EL": "9933", "HR": "9934", "IE": "9935",
    "LT": "9937", "LU": "9938", "LV": "9939", "MT": "9943", "NL": "9944", "PL": "9945",
    "PT": "9946", "RO": "9947", "SI": "9949", "SK": "9950", "ES": "9920", "HU": "9910",
    "FR": "9957", "IT": "0211", "FI": "0213", "CH": "9927", "LI": "9936", "MC": "9940",
}
# National organisation numbers with their own scheme (no VAT-number scheme exists).
ORGANISATION_SCHEMES = {"SE": "0007", "DK": "0184", "NO": "0192"}


def _endpoint(party: dict) -> tuple[str, str]:
    """(scheme, id) of the party's electronic address (EndpointID, BT-34/BT-49).

    A Finnish e-invoice address is an OVT code (``0037`` + business id digits + optional
    suffix: scheme 0216) or a bank account in IBAN form (9918); 13 digits are a GLN (0088).
    Without one: a Finnish business id's OVT code, else the VAT number in its country's
    scheme, else the national organisation number, so every buyer has an address the
    Peppol code list accepts (e-mail, ``EM``, is not in it: left only for a buyer with
    none of these).
    """
    address = (party.get("einvoice_address") or "").replace(" ", "").upper()
    if address:
        if address.isdigit() and address.startswith("0037") and 12 <= len(address) <= 17:
            return "0216", address
        if iban.is_valid(address):
            return "9918", address
        if address.isdigit() and len(address) == 13:
            return "0088", address
        return "0216", address
    country = party.get("country") or ""
    business_id = (party.get("business_id") or "").replace("-", "").replace(" ", "")
    if country == "FI" and business_id:
        return "0216", "0037" + business_id
    vat_id = (party.get("vat_id") or "").replace(" ", "").upper()
    if vat_id and VAT_SCHEMES.get(vat_id[:2]):
        return VAT_SCHEMES[vat_id[:2]], vat_id
    if business_id and country in ORGANISATION_SCHEMES:
        return ORGANISATION_SCHEMES[country], business_id
    # Nothing with a Peppol scheme: the document can still be read, not sent over Peppol.
    return "EM", party.get("email") or "billing@invalid.example"


def _party(parent: Any, role: str, party: dict, *, with_vat_id: bool) -> None:
    node = _cac(_cac(parent, role), "Party")
    scheme, endpoint = _endpoint(party)
    _cbc(node, "EndpointID", endpoint, schemeID=scheme)
    _cbc(_cac(node, "PartyName"), "Name", party["name"])
    address = _cac(node, "PostalAddress")
    if party.get("street"):
        _cbc(address, "StreetName", party["street"])
    if party.get("city"):
        _cbc(address, "CityName", party["city"])
    if party.get("postal_code"):
        _cbc(address, "PostalZone", party["postal_code"])
    _cbc(_cac(address, "Country"), "IdentificationCode", party["country"])
    if with_vat_id and party.get("vat_id"):
        scheme_node = _cac(node, "PartyTaxScheme")
        _cbc(scheme_node, "CompanyID", party["vat_id"].replace(" ", ""))
        _cbc(_cac(scheme_node, "TaxScheme"), "ID", "VAT")
    legal = _cac(node, "PartyLegalEntity")
    _cbc(legal, "RegistrationName", party["name"])
    if party.get("business_id"):
        _cbc(legal, "CompanyID", party["business_id"])


def _tax_category(parent: Any, name: str, category: str, rate: Decimal,
                  *, reason: bool) -> None:
    node = _cac(parent, name)
    _cbc(node, "ID", category)
    if category != "O":  # BR-O-05: no rate on outside-scope items
        _cbc(node, "Percent", f"{rate.normalize():f}")
    if reason and category in EXEMPTION:
        code, text = EXEMPTION[category]
        if code:
            _cbc(node, "TaxExemptionReasonCode", code)
        _cbc(node, "TaxExemptionReason", text)
    _cbc(_cac(node, "TaxScheme"), "ID", "VAT")


OPERATIONS = {"register": "Registration", "renew": "Renewal", "transfer": "Transfer",
              "restore": "Restore", "owner_change": "Owner change"}


def _group_name(group: LineGroup) -> str:
    """BT-153, e.g. "Registration .fi 1 year" (the PDF says it in the buyer's language)."""
    if group.description is not None:
        return group.description
    years = group.period_years
    return " ".join(filter(None, [
        "Refund:" if group.kind == "refund" else None,
        OPERATIONS.get(group.operation or "", group.operation),
        f".{group.zone}" if group.zone else None,
        f"{years} year{'s' if years != 1 else ''}" if years else None]))


def _line(root: Any, number: int, group: LineGroup, *, credit: bool, currency: str,
          sign: int, period: tuple[Any, Any]) -> None:
    """One invoice line per group: quantity × unit price is the line amount exactly."""
    node = _cac(root, "CreditNoteLine" if credit else "InvoiceLine")
    _cbc(node, "ID", number)
    if group.first_on and group.last_on and len(group.positions) > 1:
        _cbc(node, "Note", f"{len(group.positions)} lines of the specification, "
                           f"{group.first_on.isoformat()} to {group.last_on.isoformat()}")
    _cbc(node, "CreditedQuantity" if credit else "InvoicedQuantity",
         group.quantity * sign, unitCode="C62")
    _amount(node, "LineExtensionAmount", group.net * sign, currency)
    # PEPPOL-EN16931-R110/R111: a line period lies within the invoice period (interest,
    # and late items of an invoiced month, are dated outside it: they state none).
    if group.first_on and group.last_on and period[0] <= group.first_on <= group.last_on <= period[1]:
        line_period = _cac(node, "InvoicePeriod")
        _cbc(line_period, "StartDate", group.first_on.isoformat())
        _cbc(line_period, "EndDate", group.last_on.isoformat())
    item = _cac(node, "Item")
    _cbc(item, "Name", (_group_name(group) or "-")[:200])
    _tax_category(item, "ClassifiedTaxCategory", group.vat_category, group.vat_rate,
                  reason=False)
    _amount(_cac(node, "Price"), "PriceAmount", group.unit_price, currency)


def to_ubl(invoice: Invoice) -> bytes:
    """The document as Peppol BIS Billing 3.0 UBL XML (UTF-8 bytes)."""
    credit = invoice.kind == "credit_note"
    sign = -1 if credit else 1  # a UBL credit note states positive amounts
    nsmap = {**NS, None: CREDIT_NOTE_NS if credit else NS[None]}
    root = etree.Element(f"{{{nsmap[None]}}}{'CreditNote' if credit else 'Invoice'}",
                         nsmap=nsmap)
    currency = invoice.currency
    _cbc(root, "CustomizationID", CUSTOMIZATION)
    _cbc(root, "ProfileID", PROFILE)
    _cbc(root, "ID", invoice.number)
    _cbc(root, "IssueDate", invoice.issue_date.isoformat())
    if not credit:
        _cbc(root, "DueDate", invoice.due_date.isoformat())
    _cbc(root, "CreditNoteTypeCode" if credit else "InvoiceTypeCode", "381" if credit else "380")
    # One document-level note (PEPPOL-EN16931-R002 allows more only between German parties).
    notes = []
    if invoice.vat_status == "reverse_charge":
        notes.append("Reverse charge: VAT to be accounted for by the recipient "
                     "(Article 196, Council Directive 2006/112/EC).")
    elif invoice.vat_status == "outside_scope":
        notes.append("Outside the scope of Finnish VAT (Article 44, Directive 2006/112/EC).")
    if invoice.payment_method == "prepaid_funds" and not credit:
        notes.append("Paid from prepaid funds." if invoice.status == "paid"
                     else f"{invoice.paid_amount} paid from prepaid funds.")
    if notes:
        _cbc(root, "Note", " ".join(notes))
    _cbc(root, "DocumentCurrencyCode", currency)
    _cbc(root, "BuyerReference", invoice.buyer.get("business_id") or invoice.number)
    period = _cac(root, "InvoicePeriod")
    _cbc(period, "StartDate", invoice.period_start.isoformat())
    _cbc(period, "EndDate", invoice.period_end.isoformat())
    if credit and invoice.corrects is not None:
        reference = _cac(_cac(root, "BillingReference"), "InvoiceDocumentReference")
        _cbc(reference, "ID", invoice.corrects.number)
        _cbc(reference, "IssueDate", invoice.corrects.issue_date.isoformat())
    outside = invoice.vat_status == "outside_scope"
    _party(root, "AccountingSupplierParty", invoice.seller, with_vat_id=not outside)
    _party(root, "AccountingCustomerParty", invoice.buyer, with_vat_id=not outside)
    payable = invoice.total * sign if credit else invoice.total - invoice.paid_amount
    if not credit and payable > 0 and invoice.seller.get("iban"):
        means = _cac(root, "PaymentMeans")
        _cbc(means, "PaymentMeansCode", "58")
        _cbc(means, "PaymentID", invoice.rf_reference)
        account = _cac(means, "PayeeFinancialAccount")
        _cbc(account, "ID", invoice.seller["iban"].replace(" ", ""))
        if invoice.seller.get("bic"):
            _cbc(_cac(account, "FinancialInstitutionBranch"), "ID", invoice.seller["bic"])
        _cbc(_cac(root, "PaymentTerms"), "Note",
             f"{(invoice.due_date - invoice.issue_date).days} days net")
    tax_total = _cac(root, "TaxTotal")
    _amount(tax_total, "TaxAmount", invoice.vat_total * sign, currency)
    for group in invoice.vat_breakdown:
        subtotal = _cac(tax_total, "TaxSubtotal")
        _amount(subtotal, "TaxableAmount", Decimal(group["net"]) * sign, currency)
        _amount(subtotal, "TaxAmount", Decimal(group["vat"]) * sign, currency)
        _tax_category(subtotal, "TaxCategory", group["category"], Decimal(group["rate"]),
                      reason=True)
    totals = _cac(root, "LegalMonetaryTotal")
    _amount(totals, "LineExtensionAmount", invoice.net_total * sign, currency)
    _amount(totals, "TaxExclusiveAmount", invoice.net_total * sign, currency)
    _amount(totals, "TaxInclusiveAmount", invoice.total * sign, currency)
    prepaid = invoice.total * sign - payable
    if prepaid:
        _amount(totals, "PrepaidAmount", prepaid, currency)
    _amount(totals, "PayableAmount", payable, currency)
    for number, group in enumerate(group_lines(invoice.lines), start=1):
        _line(root, number, group, credit=credit, currency=currency, sign=sign,
              period=(invoice.period_start, invoice.period_end))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
