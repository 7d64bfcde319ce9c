"""The kernel's reseller directory, as the accounts feature answers it: what the wallet
and white label know of a reseller without importing the accounts feature."""

import pytest

from reseller.core.directory import reseller_names, reseller_profile
from reseller.core.extensions import db


@pytest.mark.smoke
def test_a_profile_carries_the_buyer_details_and_vat_status(factory):
    reseller = factory.reseller(country="SE", vat_id="SE556036079301", street="Gatan 2",
                                postal_code="111 22", city="Stockholm", language="sv",
                                billing_email="Invoices@Exempel.example")
    profile = reseller_profile(reseller.id)
    assert (profile.company_name, profile.country, profile.vat_id, profile.vat_status) == (
        reseller.company_name, "SE", "SE556036079301", "reverse_charge")
    assert (profile.street, profile.postal_code, profile.city, profile.language) == (
        "Gatan 2", "111 22", "Stockholm", "sv")
    assert profile.invoice_email == "Invoices@Exempel.example"
    assert reseller_profile(reseller.id + 10_000) is None


def test_billing_recipients_are_the_invoice_email_and_active_billing_users_once(factory):
    reseller = factory.reseller()
    billing = factory.user(reseller, role="billing")
    factory.user(reseller, role="billing", active=False)
    factory.user(reseller, role="technical")
    same = factory.user(reseller, role="billing")
    same.email = reseller.contact_email.upper()  # the invoice address again: mailed once
    db.session.flush()
    profile = reseller_profile(reseller.id)
    assert profile.billing_recipients() == [reseller.contact_email, billing.email]
    assert [c.role for c in profile.contacts] == ["billing", "technical", "billing"]


def test_names_are_looked_up_for_the_ids_asked_or_for_everyone(factory):
    first, second, third = (factory.reseller() for _ in range(3))
    assert reseller_names([first.id, third.id]) == {first.id: first.company_name,
                                                    third.id: third.company_name}
    assert reseller_names([]) == {}
    assert {first.id, second.id, third.id} <= set(reseller_names())
