"""Client-area wallet page, operator console (statement, adjustment, credit decision,
trial balance, withdrawals, bank statements) and the camt.054 import."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from click.testing import CliRunner

from reseller.core.db import unit_of_work
from tests.support.wallet import camt054, fund
from wallet import ledger, services, statements
from wallet.invoices.invoicing import invoicing_settings
from wallet.models import WalletChange
from wallet.money import Money
from wallet.references import group, rf_reference

PASSWORD = "correct horse battery"


@pytest.fixture
def reseller(factory):
    return factory.reseller()


def login(client, user, password=PASSWORD):
    assert client.post("/login", data={"email": user.email, "password": password}).status_code == 302


@pytest.mark.smoke
def test_camt054_credits_matched_references_once(reseller, factory):
    ref = services.get_wallet(reseller_id=reseller.id).reference_number
    other = factory.reseller()
    rf = rf_reference(services.get_wallet(reseller_id=other.id).reference_number)
    data = camt054(("A1", "120.00", group(ref)), ("A2", "30.00", rf), ("A3", "9.99", "123"))
    with unit_of_work():
        result = statements.import_statement(data, settings=invoicing_settings())
    assert (result.matched, result.unmatched, result.duplicates) == (2, 1, 0)
    with unit_of_work():
        again = statements.import_statement(data, settings=invoicing_settings())
    assert (again.matched, again.unmatched, again.duplicates) == (0, 0, 3)
    assert services.available(reseller_id=reseller.id) == Money.of("120.00")
    assert services.available(reseller_id=other.id) == Money.of("30.00")
    [waiting] = statements.unmatched_entries()
    with unit_of_work():
        statements.allocate_entry(entry_id=waiting.id, reseller_id=reseller.id, actor="staff:1")
    assert services.available(reseller_id=reseller.id) == Money.of("129.99")
    assert statements.unmatched_entries() == []
    assert ledger.verify() == []


def test_broken_statement_is_a_clear_refusal(app):
    from wallet.errors import InvalidStatement

    with pytest.raises(InvalidStatement):
        statements.parse_statement(b"<not xml")
    with pytest.raises(InvalidStatement):
        statements.parse_statement(b"<Document/>")


def test_cli_imports_a_statement(app, reseller, tmp_path, db_session):
    ref = services.get_wallet(reseller_id=reseller.id).reference_number
    path = tmp_path / "camt.xml"
    path.write_bytes(camt054(("C1", "10.00", ref)))
    result = CliRunner().invoke(app.cli, ["payments", "import", str(path)],
                                catch_exceptions=False)
    assert "matched=1" in result.output


def test_wallet_page_shows_balance_and_surcharge_before_paying(client, factory, reseller):
    fund(reseller.id, "75.00")
    user = factory.user(reseller)
    login(client, user)
    page = client.get("/wallet").get_data(as_text=True)
    assert "€75.00" in page and "€1.50" in page  # the card surcharge, before paying
    quote = client.post("/wallet/topups", data={"amount": "100", "method": "card", "key": "k1"})
    text = quote.get_data(as_text=True)
    assert quote.status_code == 200 and "€101.50" in text
    go = client.post("/wallet/topups", data={"amount": "100.00", "method": "card", "key": "k1",
                                            "confirm": "1"})
    assert go.status_code == 302 and "/payments/sandbox/checkout/" in go.headers["Location"]
    bank = client.post("/wallet/topups", data={"amount": "100.00", "method": "bank_transfer",
                                              "key": "k2", "confirm": "1"})
    assert "RF" in bank.get_data(as_text=True)


def test_wallet_page_withdrawal_and_threshold(client, factory, reseller):
    fund(reseller.id, "75.00")
    login(client, factory.user(reseller))
    client.post("/wallet/withdrawals", data={"amount": "25.00", "key": "w1"})
    assert services.available(reseller_id=reseller.id) == Money.of("50.00")
    refused = client.post("/wallet/withdrawals", data={"amount": "abc", "key": "w2"},
                          follow_redirects=True)
    assert refused.status_code == 200
    client.post("/wallet/threshold", data={"threshold": "20"})
    assert services.get_wallet(reseller_id=reseller.id).low_balance_threshold == Money.of("20.00")


def test_technical_users_do_not_see_money(client, factory, reseller):
    login(client, factory.user(reseller, role="technical"))
    assert client.get("/wallet").status_code == 403


def test_console_adjusts_decides_credit_and_approves_withdrawals(client, factory, reseller):
    staff = factory.operator()
    login(client, staff, "operator password")
    assert client.get("/console/wallet").status_code == 200
    client.post(f"/console/wallet/resellers/{reseller.id}/adjust",
                data={"amount": "40.00", "reason": "goodwill", "key": "adj1"})
    client.post(f"/console/wallet/resellers/{reseller.id}/adjust",
                data={"amount": "40.00", "reason": "goodwill", "key": "adj1"})  # resubmitted
    assert services.available(reseller_id=reseller.id) == Money.of("40.00")
    page = client.get(f"/console/wallet/resellers/{reseller.id}").get_data(as_text=True)
    assert "goodwill" in page
    with unit_of_work():
        withdrawal = services_withdraw(reseller.id, "15.00")
    client.post(f"/console/wallet/withdrawals/{withdrawal}/approve", data={"note": "paid"})
    wallet = services.get_wallet(reseller_id=reseller.id)
    assert wallet.balance == Money.of("25.00") and wallet.held == Money.of("0.00")
    client.post(f"/console/wallet/resellers/{reseller.id}/credit",
                data={"payment_mode": "postpaid", "credit_limit": "2000.00",
                      "note": "credit review OK"})
    assert services.get_wallet(reseller_id=reseller.id).payment_mode == "postpaid"
    change = WalletChange.query.filter_by(reseller_id=reseller.id, field="credit_limit").one()
    assert change.actor == f"staff:{staff.id}" and change.note == "credit review OK"
    ledger_page = client.get("/console/wallet/ledger").get_data(as_text=True)
    assert "Every transfer balances" in ledger_page


def test_console_bank_upload_and_allocation(client, factory, reseller):
    login(client, factory.operator(), "operator password")
    data = {"statement": (io.BytesIO(camt054(("U1", "12.34", "nothing"))), "camt.xml")}
    client.post("/console/wallet/bank/import", data=data, content_type="multipart/form-data")
    [entry] = statements.unmatched_entries()
    client.post(f"/console/wallet/bank/{entry.id}/allocate", data={"reseller_id": reseller.id})
    assert services.available(reseller_id=reseller.id) == Money.of("12.34")


def test_console_is_for_operators_only(client, factory, reseller):
    login(client, factory.user(reseller))
    assert client.get("/console/wallet").status_code in (302, 403)


def services_withdraw(reseller_id: int, amount: str) -> int:
    from wallet import withdrawals

    return withdrawals.request_withdrawal(reseller_id=reseller_id, amount=Money.of(amount),
                                          idempotency_key="console-test").id


def test_refund_and_partial_numbers_in_statement(reseller):
    fund(reseller.id, "30.00")
    with unit_of_work():
        services.hold_funds(reseller_id=reseller.id, net=Money.of("10.00"),
                            vat_rate=Decimal("0.255"), reference="r1", description="renew")
        services.capture_hold(reference="r1")
        services.refund_purchase(reference="r1", reason="registry refunded")
    assert services.available(reseller_id=reseller.id) == Money.of("30.00")


def test_closing_an_account_refunds_unused_prepaid_funds(reseller):
    from datetime import timedelta

    from reseller.accounts import closure
    from reseller.core.clock import clock
    from wallet import withdrawals

    fund(reseller.id, "42.00")
    with unit_of_work():
        closure.request_closure(reseller_id=reseller.id, actor_role="owner", actor_user_id=None,
                                reason="moving on")
    with unit_of_work():
        closure.deactivate_due(clock.now() + timedelta(days=40))
    [refund] = withdrawals.list_withdrawals(reseller_id=reseller.id)
    assert refund.amount == Decimal("42.00") and refund.state == "requested"
    assert services.available(reseller_id=reseller.id) == Money.of("0.00")
