"""The WHMCS registrar module, run function by function with ``php`` against a live server.

Params are shaped as WHMCS passes them to a registrar module (module settings mixed in,
``sld``/``tld``, registrant and ``admin``-prefixed fields, ``ns1``..``ns5``, ``original``);
the module forwards them form-encoded (PHP nested keys) to ``/whmcs/v1/<Function>``.
"""

import json
import shutil
import subprocess
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from reseller.accounts import services as accounts
from reseller.core.db import unit_of_work
from reseller.core.extensions import db
from reseller.domains.models import Contact, Domain, Host, Order
from tests.support.domains import available, fund, install_catalogue, make_contact, sandbox
from tests.support.owner_change import answer, approval_mail
from wallet.money import Money

ROOT = Path(__file__).resolve().parents[2]
DRIVER = ROOT / "integrations/whmcs/tests/call.php"
SCOPES = ("domains:read", "domains:write", "dns:read", "dns:write")
FI_IDENTITY = {"Registrant Type": "company", "Identity Number": "2464491-9"}
pytestmark = pytest.mark.skipif(shutil.which("php") is None, reason="needs php-cli")


@pytest.fixture
def live_server(app):
    server = make_server("127.0.0.1", 0, app, threaded=False)
    thread = threading.Thread(target=server.serve_forever,
                              kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def _client(reseller, owner, scopes=SCOPES):
    with unit_of_work():
        return accounts.create_oauth_client(reseller_id=reseller.id, actor=owner, name="WHMCS",
                                            scopes=list(scopes))


@pytest.fixture
def whmcs(factory, live_server):
    """A funded reseller with an OAuth2 client, and WHMCS's module settings for it. The
    .fi/.se/.nu identity rule is on: WHMCS carries identity in additionalfields."""
    reseller = factory.reseller()
    owner = factory.user(reseller)
    install_catalogue()
    fund(reseller, "500.00")
    client, secret = _client(reseller, owner)
    settings = {"ApiUrl": live_server + "/", "ClientId": client.client_id,
                "ClientSecret": secret}
    return reseller, settings


def run_php(function, params=None):
    """Run one module function in the WHMCS harness (only WHMCS's documented classes and
    methods exist: anything else exits 3 and fails the test)."""
    completed = subprocess.run(["php", str(DRIVER), function], input=json.dumps(params or {}),
                               capture_output=True, text=True, timeout=60)
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout)


def php(function, params=None):
    answer = run_php(function, params)
    assert answer["defined"], f"the module does not define {function}"
    assert answer["thrown"] is None, answer["thrown"]
    return answer["result"]


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
        "additionalfields": dict(FI_IDENTITY) if tld in ("fi", "se", "nu") else {},
        "original": {"sld": sld, "tld": tld},
    }
    base.update(extra)
    return base


def test_meta_data_config_fields_and_their_validation(whmcs, factory):
    """``_MetaData``, ``_getConfigArray`` and ``_config_validate`` as WHMCS calls them:
    settings that cannot work are refused with WHMCS's InvalidConfiguration."""
    reseller, settings = whmcs
    assert php("MetaData") == {"DisplayName": "Tunnus", "APIVersion": "1.1"}
    config = php("getConfigArray")
    assert {"FriendlyName", "ApiUrl", "ClientId", "ClientSecret"} <= set(config)
    assert config["ClientSecret"]["Type"] == "password"
    assert php("config_validate", settings) is None
    refusals = {
        "bad secret": {**settings, "ClientSecret": "wrong"},
        "plain http": {**settings, "ApiUrl": "http://tunnus.example.com/"},
    }
    owner = factory.user(reseller)
    client, secret = _client(reseller, owner, scopes=["domains:read"])
    refusals["read-only client"] = {**settings, "ClientId": client.client_id,
                                    "ClientSecret": secret}
    thrown = {why: run_php("config_validate", given)["thrown"] for why, given in
              refusals.items()}
    assert {t["class"] for t in thrown.values()} == {
        "WHMCS\\Exception\\Module\\InvalidConfiguration"}
    assert "authentication failed" in thrown["bad secret"]["message"]
    assert "https://" in thrown["plain http"]["message"]
    assert "domains:write dns:read dns:write" in thrown["read-only client"]["message"]


@pytest.mark.smoke
def test_every_function_through_the_php_module(whmcs, jobs):
    reseller, settings = whmcs
    domain = "whmcs-asiakas.fi"
    found = php("CheckAvailability", {**settings, "searchTerm": "whmcs-asiakas",
                                      "tldsToInclude": [".fi", ".com"], "isIdnDomain": False,
                                      "premiumEnabled": True})
    assert [(r["tld"], r["status"]) for r in found] == [(".fi", "available"),
                                                        (".com", "available")]

    assert php("RegisterDomain", params(settings, domain, regperiod=2)) == {"success": True}
    jobs.run_all()
    synced = php("Sync", params(settings, domain))
    assert synced["active"] is True and synced["expired"] is False
    assert synced["transferredAway"] is False and "error" not in synced
    assert synced["expirydate"][:4].isdigit()
    info = php("GetDomainInformation", params(settings, domain))
    assert info["class"] == "WHMCS\\Domain\\Registrar\\Domain"
    assert info["domain"] == domain and info["registrationStatus"] == "Active"
    assert info["expiryDate"] == synced["expirydate"]
    assert info["nameservers"] == {"ns1": "ns1.dns.example", "ns2": "ns2.dns.example",
                                   "ns3": "", "ns4": "", "ns5": ""}
    assert info["transferLock"] is False and info["restorable"] is False
    assert info["idProtectionStatus"] is False and info["emailForwardingStatus"] is False
    assert info["registrantEmailAddress"] == "maija@asiakas.example"

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
    assert details["Registrant"]["Registrant Type"] == "company"
    assert details["Registrant"]["Identity Number"] == "*****91-9"
    assert details["Admin"]["Email Address"] == "antti@toimisto.example"
    details["Registrant"]["Address 1"] = "Uusi katu 5"
    details["Technical"] = {**details["Admin"], "First Name": "Tiina",
                            "Email Address": "tiina@tekniikka.example"}
    assert php("SaveContactDetails", params(settings, domain, contactdetails=details)) == \
        {"success": True}
    again = php("GetContactDetails", params(settings, domain))
    assert again["Registrant"]["Address 1"] == "Uusi katu 5"
    assert again["Technical"]["Email Address"] == "tiina@tekniikka.example"
    assert again["Admin"]["Email Address"] == "antti@toimisto.example"

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
    assert php("GetDomainInformation", params(settings, domain))["dnsManagementStatus"] is True

    before = php("Sync", params(settings, domain))["expirydate"]
    assert php("RenewDomain", params(settings, domain, regperiod=1)) == {"success": True}
    jobs.run_all()
    after = php("Sync", params(settings, domain))["expirydate"]
    assert int(after[:4]) == int(before[:4]) + 1

    suggested = php("GetDomainSuggestions", {**settings, "searchTerm": "whmcs-asiakas",
                                             "tldsToInclude": [".fi", ".de"],
                                             "premiumEnabled": True, "suggestionSettings": {}})
    assert suggested and all(r["status"] == "available" and r["tld"] == ".fi"
                             for r in suggested)
    assert "whmcs-asiakas" not in {r["sld"] for r in suggested}  # registered above
    assert {"whmcs-asiakasonline", "mywhmcs-asiakas"} <= {r["sld"] for r in suggested}
    assert max(r["score"] for r in suggested) <= 1.0

    assert php("RequestDelete", params(settings, domain)) == {"success": True}
    assert Domain.query.filter_by(name=domain).one().status == "deleted"
    assert "error" in php("GetDomainInformation", params(settings, domain))


def test_tld_pricing_is_whmcs_import_items(whmcs):
    """GetTLDPricing returns ``WHMCS\\Results\\ResultsList`` of ``ImportItem``s set only
    through the documented setters: periods, cost prices for the shortest period, grace
    and redemption terms, currency and whether transfers need the EPP code."""
    _reseller, settings = whmcs
    items = {item["extension"]: item for item in php("GetTLDPricing", settings)}
    assert {".fi", ".se", ".nu", ".eu", ".com"} <= set(items)
    fi, com, eu = items[".fi"], items[".com"], items[".eu"]
    assert fi["class"] == "WHMCS\\Domain\\TopLevel\\ImportItem"
    assert (fi["minYears"], fi["maxYears"], fi["yearsStep"]) == (1, 5, 1)
    assert (fi["registerPrice"], fi["renewPrice"], fi["transferPrice"]) == (9.9, 9.9, 9.9)
    assert fi["currency"] == "EUR" and fi["eppRequired"] is True
    assert (fi["graceFeeDays"], fi["graceFeePrice"]) == (30, 0)
    assert "redemptionFeeDays" not in fi  # Traficom has no redemption
    assert (com["minYears"], com["maxYears"]) == (1, 10)
    assert com["redemptionFeeDays"] == 30 and com["redemptionFeePrice"] > 0
    assert "graceFeeDays" not in eu and eu["redemptionFeeDays"] == 40


def test_lookup_marks_each_tld_and_keeps_names_as_whmcs_sent_them(whmcs):
    """One unsupported TLD never fails the search; reserved names are reserved; an IDN
    comes back as WHMCS sent it; premium names carry register and renew cost."""
    _reseller, settings = whmcs
    found = php("CheckAvailability", {**settings, "searchTerm": "tähti",
                                      "punyCodeSearchTerm": "xn--thti-loa",
                                      "tldsToInclude": [".fi", ".de", ".com"],
                                      "isIdnDomain": True, "premiumEnabled": True})
    assert [(r["sld"], r["tld"], r["status"]) for r in found] == [
        ("tähti", ".fi", "available"), ("tähti", ".de", "tld_not_supported"),
        ("tähti", ".com", "available")]
    assert all(r["class"] == "WHMCS\\Domains\\DomainLookup\\SearchResult" for r in found)
    reserved = php("CheckAvailability", {**settings, "searchTerm": "nic",
                                         "tldsToInclude": [".fi", ".com"]})
    assert [r["status"] for r in reserved] == ["reserved", "reserved"]
    short = php("CheckAvailability", {**settings, "searchTerm": "a", "tldsToInclude": [".fi"]})
    assert short[0]["status"] == "unknown"  # .fi names have at least 2 characters
    premium = php("CheckAvailability", {**settings, "searchTerm": "cloud",
                                        "tldsToInclude": [".com"], "premiumEnabled": True})
    assert premium[0]["premiumDomain"] is True
    assert premium[0]["premiumCostPricing"] == {"register": "400.00", "renew": "400.00",
                                                "CurrencyCode": "EUR"}


def test_functions_tunnus_cannot_honour_are_not_supported(whmcs, factory):
    """Left out of the module (WHMCS then says "Registrar Function Not Supported"); the
    endpoint says why, with a stable code."""
    _reseller, settings = whmcs
    for name in ("GetEmailForwarding", "SaveEmailForwarding", "ReleaseDomain"):
        assert run_php(name, params(settings, "x.fi")) == {"defined": False}
    api = factory.api()
    answer = api.post("/whmcs/v1/GetEmailForwarding", json={"sld": "x", "tld": "fi"})
    assert answer.status_code == 404 and answer.json["code"] == "not_supported"
    assert "Email forwarding is not offered" in answer.json["error"]


def test_additional_fields_are_the_ones_tunnus_reads():
    from reseller.catalog.defaults import BASE_PRICES
    from reseller.core.identity import EU
    from reseller.domains.identity import ENTITY_TYPES
    from reseller.whmcs.contacts import CITIZENSHIP_FIELD, NUMBER_FIELD, TYPE_FIELD
    from reseller.whmcs.functions import CLAIMS_FIELD

    fields = php("--additionalfields")
    assert set(fields) == {f".{tld}" for tld in BASE_PRICES}
    for tld, declared in fields.items():
        names = [field["Name"] for field in declared]
        identity = {".fi": [TYPE_FIELD, NUMBER_FIELD], ".se": [TYPE_FIELD, NUMBER_FIELD],
                    ".nu": [TYPE_FIELD, NUMBER_FIELD],
                    ".eu": [TYPE_FIELD, CITIZENSHIP_FIELD]}.get(tld, [])
        assert names == identity + [CLAIMS_FIELD]
        if not identity:
            continue
        if tld == ".eu":  # the 27 member states, and "resident" (empty)
            codes = [option.split("|")[0] for option in declared[1]["Options"].split(",")]
            assert set(codes) == EU | {""} and declared[1]["Required"] is False
        kinds = [option.split("|")[0] for option in declared[0]["Options"].split(",")]
        assert set(kinds) <= set(ENTITY_TYPES) and declared[0]["Required"] is True


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
                                      "tldsToInclude": [".fi", ".se"], "premiumEnabled": True})
    search_result = "WHMCS\\Domains\\DomainLookup\\SearchResult"
    assert found == [
        {"class": search_result, "sld": "kauppa", "tld": ".fi", "status": "available",
         "premiumDomain": True, "premiumCostPricing": {"register": "250.00", "renew": "250.00",
                                                       "CurrencyCode": "EUR"}},
        {"class": search_result, "sld": "kauppa", "tld": ".se", "status": "available",
         "premiumDomain": True, "premiumCostPricing": {"register": "250.00", "renew": "250.00",
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


FUNCTIONS = ("RegisterDomain", "TransferDomain", "RenewDomain", "GetDomainInformation",
             "GetNameservers", "SaveNameservers", "GetRegistrarLock", "SaveRegistrarLock",
             "GetContactDetails", "SaveContactDetails", "GetEPPCode", "RegisterNameserver",
             "ModifyNameserver", "DeleteNameserver", "IDProtectToggle", "RequestDelete",
             "GetDNS", "SaveDNS", "CheckAvailability", "GetDomainSuggestions", "Sync",
             "TransferSync", "GetTLDPricing", "ResendIRTPVerificationEmail")


def test_every_function_refuses_bad_credentials_and_unoffered_tlds_as_whmcs_errors(
        whmcs, app, monkeypatch):
    """Each function answers WHMCS's ``['error' => message]`` (never a PHP error or a
    success) for credentials Tunnus refuses, and for a TLD Tunnus does not offer."""
    from reseller.accounts.throttling import guard_from_config

    # More refused sign-ins from this address than the lock allows (it has its own tests).
    monkeypatch.setitem(app.extensions, "tunnus.guard", guard_from_config(
        {**app.config, "LOGIN_MAX_FAILURES": 100, "LOGIN_MAX_FAILURES_PER_ADDRESS": 100},
        app.extensions["tunnus.guard"].store))
    _reseller, settings = whmcs
    wrong = {**settings, "ClientSecret": "wrong"}
    lookup = {"searchTerm": "asiakas", "tldsToInclude": [".fi"]}
    for name in FUNCTIONS:
        answer = php(name, params(wrong, "asiakas.fi", **lookup))
        assert "authentication failed" in answer["error"], name
    for name in ("RegisterDomain", "TransferDomain"):
        assert "We do not offer .de" in php(name, params(settings, "asiakas.de"))["error"]
    for name in ("RenewDomain", "GetDomainInformation", "SaveNameservers", "RequestDelete"):
        assert "not in this account" in php(name, params(settings, "asiakas.de"))["error"]


def test_registry_refusals_come_back_per_function(whmcs, jobs):
    reseller, settings = whmcs
    reserved = php("RegisterDomain", params(settings, "nic.fi"))
    assert "nic.fi is not available" in reserved["error"]
    assert Order.query.filter_by(reseller_id=reseller.id).count() == 0
    # Taken at the registry between WHMCS's check and the registry call: the order fails,
    # and WHMCS's retry is not answered with the failed order's success.
    assert php("RegisterDomain", params(settings, "kilpa.fi")) == {"success": True}
    sandbox().seed_foreign(name="kilpa.fi", auth_code="Kilpa-1234")
    jobs.run_all()
    assert Order.query.filter_by(domain_name="kilpa.fi").one().state == "failed"
    assert "kilpa.fi is not available" in php("RegisterDomain",
                                               params(settings, "kilpa.fi"))["error"]
    assert available(reseller) == Money.of("500.00")


def test_retries_are_one_effect_and_a_second_renewal_is_a_second_renewal(whmcs, jobs):
    """WHMCS sends no idempotency key: 22 retries of a registration make one order and
    one set of contacts; a renewal repeated while it runs is the same renewal, one asked
    for after it completed (from the new expiry) is another."""
    reseller, settings = whmcs
    for _ in range(22):
        assert php("RegisterDomain", params(settings, "kerran.fi")) == {"success": True}
    assert Order.query.filter_by(reseller_id=reseller.id, domain_name="kerran.fi").count() == 1
    assert Contact.query.filter_by(reseller_id=reseller.id).count() == 2  # registrant, admin
    jobs.run_all()
    first = Domain.query.filter_by(name="kerran.fi").one().expires_at
    renew = params(settings, "kerran.fi", regperiod=1)
    assert php("RenewDomain", renew) == php("RenewDomain", renew) == {"success": True}
    renewals = Order.query.filter_by(domain_name="kerran.fi", kind="renew")
    assert renewals.count() == 1
    jobs.run_all()
    assert php("RenewDomain", renew) == {"success": True}
    assert renewals.count() == 2
    jobs.run_all()
    db.session.expire_all()
    assert Domain.query.filter_by(name="kerran.fi").one().expires_at.year == first.year + 2


@pytest.fixture
def shared(whmcs, factory, jobs):
    """Four domains of one contact (as the REST API allows), all its roles."""
    reseller, settings = whmcs
    contact = make_contact(reseller)
    api = factory.api(reseller)
    for name in ("jaettu1.fi", "jaettu2.fi", "jaettu3.fi", "jaettu4.fi"):
        api.post("/api/v1/domains", json={"name": name, "period": 1, "contacts": {
            "registrant": contact.id, "admin": contact.id, "tech": contact.id},
            "nameservers": ["ns1.dns.example", "ns2.dns.example"]})
    jobs.run_all()
    return reseller, settings, contact


def test_an_owner_change_from_whmcs_changes_one_domain_and_is_charged_once(shared, jobs,
                                                                           client):
    reseller, settings, contact = shared
    details = php("GetContactDetails", params(settings, "jaettu1.fi"))
    details["Registrant"].update({"First Name": "Uusi", "Last Name": "Omistaja",
                                  "Company Name": "Uusi Oy", "Identity Number": "1572860-0",
                                  "Email Address": "omistaja@uusi.example"})
    details["Admin"]["Email Address"] = "hallinto@uusi.example"
    before = available(reseller)
    save = params(settings, "jaettu1.fi", contactdetails=details)
    assert php("SaveContactDetails", save) == php("SaveContactDetails", save) == \
        {"success": True}
    change = Order.query.filter_by(kind="owner_change").one()  # the retry ordered nothing
    assert change.domain_name == "jaettu1.fi"
    # The current registrant confirms from the e-mail (one, however often WHMCS retried).
    jobs.run_all()
    assert change.state == "pending" and change.params["approval"]["state"] == "awaiting"
    assert approval_mail("jaettu1.fi").recipient == "maija@asiakas.example"
    answer(client, "jaettu1.fi")
    jobs.run_all()
    assert php("SaveContactDetails", save) == {"success": True}  # done: nothing to change
    assert Order.query.filter_by(kind="owner_change").count() == 1
    assert available(reseller) == before - Money.of(f"{change.total:.2f}")
    db.session.expire_all()
    changed = Domain.query.filter_by(name="jaettu1.fi").one()
    assert changed.registrant.organization == "Uusi Oy" and changed.registrant_id != contact.id
    assert changed.admin.email == "hallinto@uusi.example" and changed.admin_id != contact.id
    assert changed.tech_id == contact.id  # the technical contact was not changed
    for name in ("jaettu2.fi", "jaettu3.fi", "jaettu4.fi"):
        other = Domain.query.filter_by(name=name).one()
        assert other.registrant_id == other.admin_id == other.tech_id == contact.id
    kept = db.session.get(Contact, contact.id)
    assert (kept.name, kept.email) == ("Maija Meikäläinen", "maija@asiakas.example")
    at_registry = sandbox().contact_info(changed.registrant.handle)
    assert "1572860-0" in at_registry.identity


def test_an_own_registrants_new_address_is_an_update_not_an_owner_change(whmcs, jobs):
    reseller, settings = whmcs
    php("RegisterDomain", params(settings, "muutto-osoite.fi"))
    jobs.run_all()
    details = php("GetContactDetails", params(settings, "muutto-osoite.fi"))
    details["Registrant"]["City"] = "Tampere"
    details["Registrant"]["Postcode"] = "33100"
    assert php("SaveContactDetails", params(settings, "muutto-osoite.fi",
                                            contactdetails=details)) == {"success": True}
    assert Order.query.filter_by(kind="owner_change").count() == 0
    assert Domain.query.filter_by(name="muutto-osoite.fi").one().registrant.city == "Tampere"


def test_dns_records_are_read_as_whmcs_users_mean_them(whmcs, jobs):
    """Targets without a trailing dot are full host names; URL and FRAME are forwards;
    MXE is refused on its own row and nothing is saved."""
    _reseller, settings = whmcs
    domain = "posti-asiakas.fi"
    php("RegisterDomain", params(settings, domain, ns1="", ns2=""))  # Tunnus DNS
    jobs.run_all()
    rows = [{"hostname": "@", "type": "MX", "address": "aspmx.l.google.com", "priority": "1"},
            {"hostname": "www", "type": "CNAME", "address": "ghs.googlehosted.com",
             "priority": ""},
            {"hostname": f"api.{domain}", "type": "A", "address": "192.0.2.7", "priority": ""},
            {"hostname": "go", "type": "URL", "address": "https://example.org/kampanja",
             "priority": ""},
            {"hostname": "kuvat", "type": "FRAME", "address": "kuvat.example.org",
             "priority": ""}]
    refused = php("SaveDNS", params(settings, domain, dnsrecords=[
        *rows, {"hostname": "@", "type": "MXE", "address": "192.0.2.9", "priority": ""}]))
    assert refused["error"].startswith("dnsrecords.5.type: MXE")
    assert not any(r["type"] == "MX" for r in php("GetDNS", params(settings, domain)))
    assert php("SaveDNS", params(settings, domain, dnsrecords=rows)) == {"success": True}
    shown = php("GetDNS", params(settings, domain))
    assert {"hostname": "@", "type": "MX", "address": "aspmx.l.google.com.",
            "priority": "1"} in shown
    assert {"hostname": "www", "type": "CNAME", "address": "ghs.googlehosted.com.",
            "priority": ""} in shown
    assert {"hostname": "api", "type": "A", "address": "192.0.2.7", "priority": ""} in shown
    assert {"hostname": "go", "type": "URL", "address": "https://example.org/kampanja",
            "priority": ""} in shown
    assert {"hostname": "kuvat", "type": "URL", "address": "http://kuvat.example.org",
            "priority": ""} in shown
    assert not any(r["hostname"] == "go" and r["type"] == "A" for r in shown)
    assert php("SaveDNS", params(settings, domain, dnsrecords=rows[:3])) == {"success": True}
    assert not any(r["type"] == "URL" for r in php("GetDNS", params(settings, domain)))


def test_fi_registration_carries_identity_from_additionalfields_to_the_registry(whmcs, jobs):
    reseller, settings = whmcs
    person = {"Registrant Type": "person", "Identity Number": "131052-308T"}
    missing = php("RegisterDomain", params(settings, "henkilo.fi", companyname="",
                                           additionalfields={"Registrant Type": "person"}))
    assert "personal_id" in missing["error"]
    assert Contact.query.filter_by(reseller_id=reseller.id).count() == 0
    # WHMCS may strip accents from the params; 'original' keeps what the customer typed.
    typed = params(settings, "henkilo.fi", companyname="", lastname="Meikalainen",
                   additionalfields=person)
    typed["original"] = {**typed, "lastname": "Meikäläinen", "original": None}
    assert php("RegisterDomain", typed) == {"success": True}
    jobs.run_all()
    domain = Domain.query.filter_by(name="henkilo.fi").one()
    assert domain.status == "active" and domain.registrant.entity_type == "person"
    assert domain.registrant.name == "Maija Meikäläinen"
    assert "131052-308T" in sandbox().contact_info(domain.registrant.handle).identity
    eu = php("RegisterDomain", params(settings, "asiakas.eu", countrycode="US",
                                      country="US", additionalfields={
                                          "Registrant Type": "company"}))
    assert "EU, Iceland, Liechtenstein or Norway" in eu["error"]


def test_dns_management_and_id_protection_at_registration_are_honoured(whmcs, jobs):
    from reseller.dns.models import Zone

    _reseller, settings = whmcs
    php("RegisterDomain", params(settings, "dnsilla.fi", dnsmanagement="on",
                                 idprotection="on"))
    php("RegisterDomain", params(settings, "ilmandns.fi", dnsmanagement="", idprotection=""))
    jobs.run_all()
    assert Zone.query.filter_by(name="dnsilla.fi").one().status == "active"
    assert Zone.query.filter_by(name="ilmandns.fi").count() == 0  # hosted elsewhere
    assert Domain.query.filter_by(name="dnsilla.fi").one().privacy is True
    assert Domain.query.filter_by(name="ilmandns.fi").one().privacy is False


def test_a_claims_notice_reaches_whmcs_and_the_acknowledgement_comes_back_as_a_field(
        whmcs, factory, jobs):
    """WHMCS shows the module's error; the customer's acknowledgement travels back in the
    module's own *Claims Notice ID* field (resources/domains/additionalfields.php)."""
    from reseller.whmcs.functions import CLAIMS_FIELD
    from tests.support.trademarks import install_trademark_prices

    install_trademark_prices()
    holder = factory.reseller()
    fund(holder, "200.00")
    added = factory.api(holder).post("/api/v1/trademarks", json={
        "mark": "NordName", "holder": "NordName Oy", "contact": None})
    assert added.status_code == 201, added.json
    _reseller, settings = whmcs
    refused = php("RegisterDomain", params(settings, "nordname.com"))
    assert "NordName (NordName Oy)" in refused["error"] and CLAIMS_FIELD in refused["error"]
    notice = refused["error"].split("to ")[-1].split(" and register")[0]
    placed = php("RegisterDomain", params(settings, "nordname.com",
                                          additionalfields={CLAIMS_FIELD: notice}))
    assert placed == {"success": True}
    jobs.run_all()
    order = Order.query.filter_by(domain_name="nordname.com").one()
    assert order.state == "completed"


def test_a_designated_agent_reseller_changes_the_owner_without_asking(shared, jobs):
    """With the module's "Designated Agent" setting the reseller approves for the current
    registrant (ICANN Transfer Policy): no e-mail, the change goes straight through."""
    from whitelabel.models import OutboxMessage

    reseller, settings, contact = shared
    details = php("GetContactDetails", params(settings, "jaettu2.fi"))
    details["Registrant"].update({"First Name": "Toinen", "Last Name": "Omistaja",
                                  "Company Name": "Toinen Oy", "Identity Number": "1572860-0"})
    agent = {**settings, "DesignatedAgent": "on"}
    assert php("SaveContactDetails", params(agent, "jaettu2.fi", contactdetails=details)) == \
        {"success": True}
    change = Order.query.filter_by(kind="owner_change", domain_name="jaettu2.fi").one()
    assert change.params["approval"]["by"] == "designated_agent"
    jobs.run_all()
    db.session.expire_all()
    assert Domain.query.filter_by(name="jaettu2.fi").one().registrant.organization == \
        "Toinen Oy"
    assert OutboxMessage.query.filter_by(
        template="registrant/owner_change_approval").count() == 0


def test_an_eu_citizen_living_outside_the_eu_registers_eu(whmcs, jobs):
    """EURid takes EU citizens wherever they live: the "Country of Citizenship" field is
    stored on the registrant; a resident of a third country without it is refused."""
    reseller, settings = whmcs
    abroad = {"countrycode": "US", "country": "US", "companyname": "", "city": "Boston",
              "postcode": "02110", "fullphonenumber": "+1.6175550100"}
    citizen = php("RegisterDomain", params(settings, "maija.eu", **abroad, additionalfields={
        "Registrant Type": "person", "Country of Citizenship": "FI"}))
    assert citizen == {"success": True}
    jobs.run_all()
    domain = Domain.query.filter_by(name="maija.eu").one()
    assert domain.status == "active"
    assert (domain.registrant.country, domain.registrant.citizenship) == ("US", "FI")
    details = php("GetContactDetails", params(settings, "maija.eu"))
    assert details["Registrant"]["Country of Citizenship"] == "FI"
    details["Registrant"]["Country of Citizenship"] = "SE"  # the same person: an update
    assert php("SaveContactDetails", params(settings, "maija.eu", contactdetails=details)) \
        == {"success": True}
    db.session.expire_all()
    assert Domain.query.filter_by(name="maija.eu").one().registrant.citizenship == "SE"
    assert Order.query.filter_by(kind="owner_change").count() == 0
    details["Registrant"]["Country of Citizenship"] = ""  # abroad and no EU citizenship
    assert "citizenship of an EU member state" in php(
        "SaveContactDetails", params(settings, "maija.eu", contactdetails=details))["error"]
    stranger = php("RegisterDomain", params(settings, "stranger.eu", **abroad,
                                            additionalfields={"Registrant Type": "person"}))
    assert "citizenship of an EU member state" in stranger["error"]
    norwegian = php("RegisterDomain", params(settings, "nordmann.eu", **abroad,
                                             additionalfields={"Registrant Type": "person",
                                                               "Country of Citizenship": "NO"}))
    assert "error" in norwegian  # EEA residents qualify, EEA citizens abroad do not
    assert Order.query.filter(Order.domain_name.in_(("stranger.eu", "nordmann.eu"))
                              ).count() == 0


def test_whmcs_sees_a_change_of_registrant_waiting_and_can_resend_the_email(shared, jobs,
                                                                            client):
    """GetDomainInformation's IRTP fields say a change of registrant waits for the current
    registrant (and until when); ResendIRTPVerificationEmail sends the e-mail again."""
    from whitelabel.models import OutboxMessage

    reseller, settings, contact = shared
    info = php("GetDomainInformation", params(settings, "jaettu3.fi"))
    assert info["isIrtpEnabled"] is True and info["domainContactChangePending"] is False
    assert info["irtpVerificationTriggerFields"] == {
        "Registrant": ["First Name", "Last Name", "Company Name", "Email Address"]}
    nothing = php("ResendIRTPVerificationEmail", params(settings, "jaettu3.fi"))
    assert "No change of owner" in nothing["error"]
    details = php("GetContactDetails", params(settings, "jaettu3.fi"))
    details["Registrant"].update({"Company Name": "Kolmas Oy", "Identity Number": "1572860-0"})
    php("SaveContactDetails", params(settings, "jaettu3.fi", contactdetails=details))
    info = php("GetDomainInformation", params(settings, "jaettu3.fi"))
    change = Order.query.filter_by(kind="owner_change", domain_name="jaettu3.fi").one()
    assert info["domainContactChangePending"] is True
    assert str(info["domainContactChangeExpiryDate"]).startswith(
        change.params["approval"]["deadline"][:10])
    mails = OutboxMessage.query.filter_by(template="registrant/owner_change_approval")
    assert mails.count() == 1
    for _ in range(2):  # a second click within the hour sends nothing more
        assert php("ResendIRTPVerificationEmail", params(settings, "jaettu3.fi")) == \
            {"success": True}
    assert mails.count() == 2
    answer(client, "jaettu3.fi")
    jobs.run_all()
    assert php("GetDomainInformation", params(settings, "jaettu3.fi"))[
        "domainContactChangePending"] is False
