"""The WHMCS registrar module, run function by function with ``php`` against a live server.

Params are shaped as WHMCS passes them to a registrar module (module settings mixed in,
``sld``/``tld``, registrant and ``admin``-prefixed fields, ``ns1``..``ns5``, ``original``);
the module forwards them form-encoded (PHP nested keys) to ``/whmcs/v1/<Function>``.
"""

import json
import os
import shutil
import subprocess
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from reseller.accounts import services as accounts
from reseller.core.db import unit_of_work
from reseller.domains.models import Domain, Host, Order
from tests.support.domains import available, fund, install_catalogue, sandbox
from wallet.money import Money

ROOT = Path(__file__).resolve().parents[2]
DRIVER = ROOT / "integrations/whmcs/tests/call.php"
pytestmark = pytest.mark.skipif(shutil.which("php") is None, reason="needs php-cli")


@pytest.fixture
def live_server(app):
    server = make_server("127.0.0.1", 0, app, threaded=False)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture
def whmcs(factory, live_server, app, monkeypatch):
    # WHMCS passes no registrant identity until its additionalfields are mapped (issue
    # 28): .fi/.se orders here go through without it.
    monkeypatch.setitem(app.config, "REGISTRANT_IDENTITY_TLDS", frozenset())
    reseller = factory.reseller()
    owner = factory.user(reseller)
    install_catalogue()
    fund(reseller, "500.00")
    with unit_of_work():
        client, secret = accounts.create_oauth_client(
            reseller_id=reseller.id, actor=owner, name="WHMCS",
            scopes=["domains:read", "domains:write", "dns:read", "dns:write"])
    settings = {"ApiUrl": live_server + "/", "ClientId": client.client_id,
                "ClientSecret": secret}
    return reseller, settings


def php(function, params=None, *, lookup=False):
    """Run one module function; ``lookup`` loads WHMCS's domain-lookup result classes."""
    env = {**os.environ, "TUNNUS_WHMCS_LOOKUP": "1"} if lookup else None
    completed = subprocess.run(["php", str(DRIVER), function], input=json.dumps(params or {}),
                               capture_output=True, text=True, timeout=60, check=True, env=env)
    return json.loads(completed.stdout)["result"]


def params(settings, domain, **extra):
    """A registrar-module params array as WHMCS builds it."""
    sld, _, tld = domain.partition(".")
    base = {
        **settings, "domainid": 17, "domainname": domain, "sld": sld, "tld": tld,
        "regtype": "Register", "regperiod": 1, "registrar": "tunnus",
        "dnsmanagement": "on", "emailforwarding": "", "idprotection": "",
        "ns1": "ns1.dns.example", "ns2": "ns2.dns.example", "ns3": "", "ns4": "", "ns5": "",
        "firstname": "Maija", "lastname": "Meikäläinen", "fullname": "Maija Meikäläinen",
        "companyname": "Asiakas Oy", "email": "maija@asiakas.example",
        "address1": "Mannerheimintie 2", "address2": "", "city": "Helsinki",
        "state": "Uusimaa", "fullstate": "Uusimaa", "statecode": "Uusimaa",
        "postcode": "00100", "countrycode": "FI", "country": "FI", "countryname": "Finland",
        "phonecc": "358", "phonenumber": "401234567", "fullphonenumber": "+358.401234567",
        "adminfirstname": "Antti", "adminlastname": "Admin", "admincompanyname": "Toimisto Oy",
        "adminemail": "antti@toimisto.example", "adminaddress1": "Aleksanterinkatu 1",
        "adminaddress2": "", "admincity": "Helsinki", "adminstate": "", "adminpostcode": "00100",
        "admincountry": "FI", "adminphonecc": "358", "adminphonenumber": "501234567",
        "adminfullphonenumber": "+358.501234567",
        "additionalfields": {}, "original": {"sld": sld, "tld": tld},
    }
    base.update(extra)
    return base


def test_meta_data_and_config_fields_load_without_whmcs():
    assert php("MetaData")["DisplayName"] == "Tunnus"
    config = php("getConfigArray")
    assert {"ApiUrl", "ClientId", "ClientSecret"} <= set(config)
    assert config["ClientSecret"]["Type"] == "password"


@pytest.mark.smoke
def test_every_function_through_the_php_module(whmcs, jobs):
    reseller, settings = whmcs
    domain = "whmcs-asiakas.fi"
    found = php("CheckAvailability", {**settings, "searchTerm": "whmcs-asiakas",
                                      "tldsToInclude": [".fi", ".com"], "isIdnDomain": False,
                                      "premiumEnabled": True})
    assert {(r["tld"], r["status"]) for r in found} == {(".fi", "available"),
                                                        (".com", "available")}

    assert php("RegisterDomain", params(settings, domain, regperiod=2)) == {"success": True}
    jobs.run_all()
    synced = php("Sync", params(settings, domain))
    assert synced["active"] is True and synced["expired"] is False
    assert synced["transferredAway"] is False and "error" not in synced
    assert synced["expirydate"][:4].isdigit()

    ns = php("GetNameservers", params(settings, domain))
    assert ns == {"ns1": "ns1.dns.example", "ns2": "ns2.dns.example", "ns3": "", "ns4": "",
                  "ns5": ""}
    assert php("SaveNameservers", params(settings, domain, ns1="ns1.hosting.example",
                                         ns2="ns2.hosting.example",
                                         ns3="ns3.hosting.example")) == {"success": True}
    assert php("GetNameservers", params(settings, domain))["ns3"] == "ns3.hosting.example"

    assert php("GetRegistrarLock", params(settings, domain)) == "unlocked"
    assert php("SaveRegistrarLock", params(settings, domain, lockenabled="locked")) == \
        {"success": True}
    assert php("GetRegistrarLock", params(settings, domain)) == "locked"
    assert "error" in php("GetEPPCode", params(settings, domain))  # locked: no auth code
    php("SaveRegistrarLock", params(settings, domain, lockenabled="unlocked"))

    details = php("GetContactDetails", params(settings, domain))
    assert details["Registrant"]["First Name"] == "Maija"
    assert details["Admin"]["Email Address"] == "antti@toimisto.example"
    details["Registrant"]["Address 1"] = "Uusi katu 5"
    details["Technical"] = {**details["Admin"], "First Name": "Tiina",
                            "Email Address": "tiina@tekniikka.example"}
    assert php("SaveContactDetails", params(settings, domain, contactdetails=details)) == \
        {"success": True}
    again = php("GetContactDetails", params(settings, domain))
    assert again["Registrant"]["Address 1"] == "Uusi katu 5"
    assert again["Technical"]["Email Address"] == "tiina@tekniikka.example"

    php("SaveRegistrarLock", params(settings, domain, lockenabled="unlocked"))
    assert len(php("GetEPPCode", params(settings, domain))["eppcode"]) >= 6

    host = f"ns1.{domain}"
    assert php("RegisterNameserver", params(settings, domain, nameserver=host,
                                            ipaddress="192.0.2.10")) == {"success": True}
    assert php("ModifyNameserver", params(settings, domain, nameserver=host,
                                          currentipaddress="192.0.2.10",
                                          newipaddress="192.0.2.20")) == {"success": True}
    assert Host.query.filter_by(name=host).one().addresses == ["192.0.2.20"]
    assert php("DeleteNameserver", params(settings, domain, nameserver=host)) == \
        {"success": True}
    assert Host.query.filter_by(name=host).count() == 0

    assert php("IDProtectToggle", params(settings, domain, protectenable=True)) == \
        {"success": True}
    assert Domain.query.filter_by(name=domain).one().privacy is True

    records = [{"hostname": "@", "type": "A", "address": "192.0.2.80", "priority": ""},
               {"hostname": "www", "type": "CNAME", "address": f"{domain}.", "priority": ""},
               {"hostname": "@", "type": "MX", "address": f"mail.{domain}.", "priority": "10"},
               {"hostname": "", "type": "A", "address": "", "priority": ""}]
    assert php("SaveDNS", params(settings, domain, dnsrecords=records)) == {"success": True}
    dns = php("GetDNS", params(settings, domain))
    assert {"hostname": "@", "type": "MX", "address": f"mail.{domain}.", "priority": "10"} in dns
    assert {"hostname": "www", "type": "CNAME", "address": f"{domain}.", "priority": ""} in dns

    before = php("Sync", params(settings, domain))["expirydate"]
    assert php("RenewDomain", params(settings, domain, regperiod=1)) == {"success": True}
    jobs.run_all()
    after = php("Sync", params(settings, domain))["expirydate"]
    assert int(after[:4]) == int(before[:4]) + 1

    pricing = php("GetTLDPricing", settings)
    fi = next(row for row in pricing if row["tld"] == ".fi")
    assert fi["currency"] == "EUR" and fi["register"]["1"] and fi["renew"]["1"]


def test_transfer_is_pending_then_completed(whmcs, jobs):
    _reseller, settings = whmcs
    with unit_of_work():
        sandbox().seed_foreign(name="muutto.fi", auth_code="siirto-123")
    assert php("TransferDomain", params(settings, "muutto.fi", eppcode="siirto-123",
                                        regtype="Transfer")) == {"success": True}
    jobs.run_all()
    assert php("TransferSync", params(settings, "muutto.fi")) == []
    sandbox().simulate_losing_answer(name="muutto.fi", approve=True)
    jobs.app.test_cli_runner().invoke(args=["jobs", "run", "domains.transfers"])
    done = php("TransferSync", params(settings, "muutto.fi"))
    assert done["completed"] is True and done["expirydate"]


def test_failed_transfer_reports_the_reason(whmcs, jobs):
    _reseller, settings = whmcs
    with unit_of_work():
        sandbox().seed_foreign(name="vaara.fi", auth_code="oikea")
    php("TransferDomain", params(settings, "vaara.fi", eppcode="väärä"))
    jobs.run_all()
    failed = php("TransferSync", params(settings, "vaara.fi"))
    assert failed["failed"] is True and failed["reason"]


def test_errors_come_back_as_whmcs_error_arrays(whmcs):
    _reseller, settings = whmcs
    missing = php("GetNameservers", params(settings, "eioleolemassa.fi"))
    assert set(missing) == {"error"} and "eioleolemassa.fi" in missing["error"]
    bad_contact = php("RegisterDomain", params(settings, "virhe.fi", email="not-an-email"))
    assert "email" in bad_contact["error"]
    wrong = php("GetNameservers", params({**settings, "ClientSecret": "wrong"}, "x.fi"))
    assert "authentication failed" in wrong["error"]


def test_a_retried_registration_orders_once(whmcs, jobs):
    from reseller.domains.models import Order

    reseller, settings = whmcs
    first = php("RegisterDomain", params(settings, "kerran.fi"))
    second = php("RegisterDomain", params(settings, "kerran.fi"))
    assert first == second == {"success": True}
    assert Order.query.filter_by(reseller_id=reseller.id, domain_name="kerran.fi").count() == 1


def test_rate_limited_calls_are_errors_in_whmcs(whmcs, app, monkeypatch):
    monkeypatch.setitem(app.config, "RATE_LIMITS", {"standard": "1/hour"})
    app.extensions["tunnus.limiter"].reset()
    _reseller, settings = whmcs
    php("GetNameservers", params(settings, "raja.fi"))
    limited = php("GetNameservers", params(settings, "raja.fi"))
    assert set(limited) == {"error"} and "Retry-After" in limited["error"]


def test_premium_consent_follows_whmcs_premium_enabled_and_cost(whmcs, jobs):
    """WHMCS's registrar contract: CheckAvailability reports the premium cost prices;
    RegisterDomain/RenewDomain/TransferDomain pass premiumEnabled and premiumCost back."""
    reseller, settings = whmcs
    found = php("CheckAvailability", {**settings, "searchTerm": "kauppa",
                                      "tldsToInclude": [".fi", ".se"], "premiumEnabled": True},
                lookup=True)
    assert found == [
        {"sld": "kauppa", "tld": ".fi", "status": "available", "premium": True,
         "premiumCostPricing": {"register": "250.00", "renew": "250.00",
                                "CurrencyCode": "EUR"}},
        {"sld": "kauppa", "tld": ".se", "status": "available", "premium": True,
         "premiumCostPricing": {"register": "250.00", "renew": "250.00",
                                "CurrencyCode": "EUR"}}]
    off = php("RegisterDomain", params(settings, "kauppa.fi", premiumEnabled=False,
                                       premiumCost=""))
    assert "250.00" in off["error"]  # premium domains are off in WHMCS: never bought
    absent = php("RegisterDomain", params(settings, "kauppa.fi"))
    assert "250.00" in absent["error"]
    cheaper = php("RegisterDomain", params(settings, "kauppa.fi", premiumEnabled=True,
                                           premiumCost="200.00"))
    assert "250.00" in cheaper["error"] and "200.00" in cheaper["error"]
    assert Order.query.filter_by(reseller_id=reseller.id).count() == 0
    assert available(reseller) == Money.of("500.00")

    assert php("RegisterDomain", params(settings, "kauppa.fi", premiumEnabled=True,
                                        premiumCost="250.00")) == {"success": True}
    jobs.run_all()
    assert Domain.query.filter_by(name="kauppa.fi").one().status == "active"
    fund(reseller, "1000.00")  # enough for the premium renewal and transfer below
    assert "error" in php("RenewDomain", params(settings, "kauppa.fi", premiumEnabled=False))
    assert php("RenewDomain", params(settings, "kauppa.fi", premiumEnabled=True,
                                     premiumCost=250)) == {"success": True}
    # Standard names need no premium consent, whatever WHMCS's setting.
    assert php("RegisterDomain", params(settings, "tavallinen.fi",
                                        premiumEnabled=False)) == {"success": True}
    sandbox().seed_foreign(name="pizza.fi", auth_code="Pizza-koodi-1")
    transfer = params(settings, "pizza.fi", eppcode="Pizza-koodi-1", premiumEnabled=True)
    assert "180.00" in php("TransferDomain", transfer)["error"]
    assert php("TransferDomain", {**transfer, "premiumCost": "180.00"}) == {"success": True}
    bad = php("RegisterDomain", params(settings, "hotelli.fi", premiumEnabled=True,
                                       premiumCost="250,00"))
    assert "premiumCost" in bad["error"]
