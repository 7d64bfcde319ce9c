"""A client generated from /api/v1/openapi.json by a generator no one here wrote
(openapi-python-client) registers a domain, reads the wallet and lists invoices on a live
server. Generator warnings on the document are failures."""

import importlib
import json
import subprocess
import sys
import time
import urllib.request
from decimal import Decimal
from pathlib import Path

import pytest

from tests.support.live import demo_server

GENERATOR = str(Path(sys.executable).parent / "openapi-python-client")
SETTINGS = Path(__file__).resolve().parents[1] / "support" / "openapi-client.yml"


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    with demo_server(tmp_path_factory.mktemp("generated-client")) as server:
        yield server


@pytest.fixture
def tunnus_client(live, tmp_path):
    with urllib.request.urlopen(live.base + "/api/v1/openapi.json", timeout=10) as answer:
        (tmp_path / "openapi.json").write_text(json.dumps(json.load(answer)))
    run = subprocess.run([GENERATOR, "generate", "--path", "openapi.json", "--meta", "none",
                          "--output-path", "tunnus_client", "--config", str(SETTINGS),
                          "--fail-on-warning"], cwd=tmp_path, capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    sys.path.insert(0, str(tmp_path))
    try:
        yield importlib.import_module("tunnus_client")
    finally:
        sys.path.remove(str(tmp_path))
        for name in [name for name in sys.modules if name.split(".")[0] == "tunnus_client"]:
            del sys.modules[name]


@pytest.mark.slow
def test_a_generated_client_registers_a_domain_and_reads_money(live, tunnus_client):
    from tunnus_client.api.contacts import api_domains_api_list_contacts as list_contacts
    from tunnus_client.api.domains import api_domains_api_register_post as register
    from tunnus_client.api.invoices import api_invoices_api_list_invoices as list_invoices
    from tunnus_client.api.orders import api_domains_api_get_order as get_order
    from tunnus_client.api.wallet import api_wallet_api_show as show_wallet
    from tunnus_client.models import (
        ContactsIn,
        InvoiceListOut,
        InvoiceOut,
        OrderOut,
        PriceOut,
        RegisterIn,
        WalletOut,
    )

    def connect():
        return tunnus_client.AuthenticatedClient(
            base_url=live.base, token=live.oauth_token(), raise_on_unexpected_status=True)

    client = connect()
    before = show_wallet.sync(client=client)
    assert isinstance(before, WalletOut) and before.currency == "EUR"
    registrant = list_contacts.sync(client=client, limit=1).items[0].id
    order = register.sync(client=client, idempotency_key="generated-client-1", body=RegisterIn(
        name="generoitu-asiakas.fi", contacts=ContactsIn(registrant=registrant)))
    assert isinstance(order, OrderOut), order
    assert order.domain == "generoitu-asiakas.fi" and order.kind == "register"
    assert isinstance(order.price, PriceOut) and Decimal(order.price.total) > 0
    after = show_wallet.sync(client=client)
    assert Decimal(after.available) == Decimal(before.available) - Decimal(order.price.total)
    deadline = time.monotonic() + 30
    while get_order.sync(client=client, order_id=order.id).state != "completed":
        assert time.monotonic() < deadline, "the registration did not complete"
        time.sleep(0.2)
    # The month ends. The server's own scheduler sees the moved clock and may be issuing
    # the invoice while `invoices run` does too; either way one appears, so poll for it
    # as an integrator would.
    live.flask("clock", "advance", "35d")
    live.flask("invoices", "run")
    deadline = time.monotonic() + 30
    while not (invoices := list_invoices.sync(client=connect(), limit=5)).items:
        assert time.monotonic() < deadline, "the ended month was not invoiced"
        time.sleep(0.2)
    assert isinstance(invoices, InvoiceListOut), invoices
    assert all(isinstance(invoice, InvoiceOut) for invoice in invoices.items)
