"""The domains API end to end: catalogue, contacts, availability, orders over the wallet,
management, bulk renew, CSV import and tenant isolation."""

from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from reseller.core.clock import clock
from reseller.core.events import Event
from reseller.core.extensions import db
from reseller.domains.models import Domain, Order
from tests.support.domains import CONTACT, available, fund, install_catalogue, order_jobs, sandbox
from tests.support.owner_change import answer
from wallet import services as wallet
from wallet.money import Money


@pytest.fixture
def setup(factory):
    install_catalogue()
    reseller = factory.reseller()
    fund(reseller, "200.00")
    api = factory.api(reseller)
    contact = api.post("/api/v1/contacts", json=CONTACT).json
    return reseller, api, contact


def register(api, contact, name="uusi-asiakas.fi", key=None, **extra):
    headers = {"Idempotency-Key": key} if key else None
    return api.post("/api/v1/domains", json={
        "name": name, "period": 1, "contacts": {"registrant": contact["id"]}, **extra},
        headers=headers)


def events(type_):
    return list(db.session.scalars(sa.select(Event).where(Event.type == type_)))


@pytest.mark.smoke
def test_register_holds_then_captures_once_the_registry_confirms(setup, jobs):
    reseller, api, contact = setup
    response = register(api, contact, "Tähti-Kauppa.fi", nameservers=["ns1.dns.example",
                                                                      "ns2.dns.example"])
    assert response.status_code == 202, response.json
    order = response.json
    assert order["state"] == "held" and order["kind"] == "register"
    assert order["domain"] == "xn--thti-kauppa-l8a.fi"
    assert order["price"] == {"currency": "EUR", "net": "9.90", "vat": "2.52", "total": "12.42"}
    assert available(reseller) == Money.of("187.58")
    jobs.run_all()
    done = api.get(f"/api/v1/orders/{order['id']}").json
    assert done["state"] == "completed"
    assert available(reseller) == Money.of("187.58")
    assert wallet.get_hold(reference=db.session.get(Order, order["id"]).reference).state == \
        "captured"
    domain = api.get("/api/v1/domains/tähti-kauppa.fi").json
    assert domain["status"] == "active" and domain["unicode_name"] == "tähti-kauppa.fi"
    assert domain["nameservers"] == ["ns1.dns.example", "ns2.dns.example"]
    assert domain["contacts"]["registrant"] == contact["id"]
    registered = events("domain.registered")[-1].data
    assert registered["domain"] == "xn--thti-kauppa-l8a.fi"
    assert registered["order_id"] == order["id"]
    assert registered["registrant_contact_id"] == contact["id"]
    assert events("order.completed")


def test_same_idempotency_key_returns_the_same_order_and_holds_once(setup, jobs):
    reseller, api, contact = setup
    first = register(api, contact, key="reg-1")
    second = register(api, contact, key="reg-1")
    assert first.status_code == second.status_code == 202
    assert first.json["id"] == second.json["id"]
    assert available(reseller) == Money.of("187.58")
    assert len(order_jobs(jobs)) == 1


def test_taken_name_charges_nothing(setup, jobs):
    reseller, api, contact = setup
    response = register(api, contact, "siirto-muualla.fi")
    jobs.run_all()
    with_other = api.post("/api/v1/domains", json={
        "name": "siirto-muualla.fi", "period": 1, "contacts": {"registrant": contact["id"]}})
    assert response.status_code == 202
    assert with_other.status_code == 409
    assert with_other.json["code"] == "domain_unavailable"
    assert available(reseller) == Money.of("187.58")  # only the first one paid


def test_insufficient_funds_is_402_and_leaves_no_order(factory, jobs):
    install_catalogue()
    reseller = factory.reseller()
    fund(reseller, "5.00")
    api = factory.api(reseller)
    contact = api.post("/api/v1/contacts", json=CONTACT).json
    response = register(api, contact)
    assert response.status_code == 402
    assert response.json["code"] == "insufficient_funds"
    assert api.get("/api/v1/orders").json["items"] == []
    assert order_jobs(jobs) == []


def test_registry_refusal_releases_the_hold(setup, jobs):
    reseller, api, contact = setup
    order = register(api, contact, "kilpailu.fi").json
    sandbox().seed_foreign(name="kilpailu.fi", auth_code="x")  # someone else got there first
    jobs.run_all()
    failed = api.get(f"/api/v1/orders/{order['id']}").json
    assert failed["state"] == "failed" and "2302" in failed["reason"]
    assert available(reseller) == Money.of("200.00")
    assert events("order.failed")[-1].data["order_id"] == order["id"]


def test_bad_name_is_422_saying_why(setup):
    _reseller, api, contact = setup
    response = register(api, contact, "huono_nimi.fi")
    assert response.status_code == 422
    assert response.json["code"] == "invalid_domain_name"
    assert "“_”" in response.json["detail"]  # the character named, not its code point
    assert register(api, contact, "nimi.xyz").json["code"] == "unsupported_tld"
    too_long = api.post("/api/v1/domains", json={"name": "pitka.fi", "period": 6,
                                                 "contacts": {"registrant": contact["id"]}})
    assert too_long.status_code == 422 and too_long.json["code"] == "invalid_period"


def test_check_shows_availability_premium_and_the_charged_total(setup):
    _reseller, api, contact = setup
    response = api.get("/api/v1/domains/check?names=vapaa-nimi.fi,kauppa.fi,Tähti.SE")
    assert response.status_code == 200
    results = {r["name"]: r for r in response.json["results"]}
    free = results["vapaa-nimi.fi"]
    assert free["available"] is True and free["premium"] is False and free["period"] == 1
    assert free["price"] == {"currency": "EUR", "net": "9.90", "vat": "2.52", "total": "12.42"}
    premium = results["kauppa.fi"]
    assert premium["premium"] is True and premium["price"]["net"] == "250.00"
    assert "xn--thti-loa.se" in results
    assert api.get("/api/v1/domains/check?names=").status_code == 422
    many = ",".join(f"n{i}.fi" for i in range(51))
    assert api.get(f"/api/v1/domains/check?names={many}").status_code == 422
    assert api.get("/api/v1/domains/check?names=a_b.fi").json["code"] == "invalid_domain_name"


def test_reverse_charge_reseller_pays_no_vat(factory):
    install_catalogue()
    reseller = factory.reseller(country="SE", business_id="556036-0793",
                                vat_id="SE556036079301")
    fund(reseller, "50.00")
    api = factory.api(reseller)
    result = api.get("/api/v1/domains/check?names=exempel.se").json["results"][0]
    assert result["price"] == {"currency": "EUR", "net": "11.50", "vat": "0.00",
                               "total": "11.50"}


def test_contacts_are_validated_and_a_contact_in_use_is_not_deleted(setup, jobs):
    _reseller, api, contact = setup
    bad = api.post("/api/v1/contacts", json={**CONTACT, "phone": "0401234567",
                                              "country": "XX", "email": "nope",
                                              "language": "de"})
    assert bad.status_code == 422
    assert set(bad.json["errors"]) == {"phone", "country", "email", "language"}
    changed = api.put(f"/api/v1/contacts/{contact['id']}", json={**CONTACT, "city": "Espoo"})
    assert changed.status_code == 200 and changed.json["city"] == "Espoo"
    register(api, contact)
    jobs.run_all()
    refused = api.delete(f"/api/v1/contacts/{contact['id']}")
    assert refused.status_code == 409 and refused.json["code"] == "contact_in_use"
    spare = api.post("/api/v1/contacts", json=CONTACT).json
    assert api.delete(f"/api/v1/contacts/{spare['id']}").status_code == 204
    assert api.get("/api/v1/contacts").json["items"][0]["id"] == contact["id"]


@pytest.mark.smoke
def test_another_resellers_names_orders_and_contacts_are_404(setup, factory, jobs):
    _reseller, api, contact = setup
    order = register(api, contact).json
    jobs.run_all()
    other = factory.api(factory.reseller())
    assert other.get("/api/v1/domains/uusi-asiakas.fi").status_code == 404
    assert other.get(f"/api/v1/orders/{order['id']}").status_code == 404
    assert other.get(f"/api/v1/contacts/{contact['id']}").status_code == 404
    assert other.put(f"/api/v1/contacts/{contact['id']}", json=CONTACT).status_code == 404
    assert other.delete(f"/api/v1/contacts/{contact['id']}").status_code == 404
    assert other.put("/api/v1/domains/uusi-asiakas.fi/lock",
                     json={"locked": True}).status_code == 404
    assert other.post("/api/v1/domains/uusi-asiakas.fi/renew",
                      json={"period": 1}).status_code == 404
    assert other.post("/api/v1/domains/uusi-asiakas.fi/auth-code").status_code == 404
    assert other.get("/api/v1/domains").json["items"] == []
    assert other.get("/api/v1/orders").json["items"] == []
    stolen = other.post("/api/v1/domains", json={"name": "toinen.fi", "period": 1,
                                                 "contacts": {"registrant": contact["id"]}})
    assert stolen.status_code == 404


def test_management_nameservers_dnssec_lock_auth_code_privacy(setup, jobs):
    _reseller, api, contact = setup
    register(api, contact, "hallinta.com")
    jobs.run_all()
    base = "/api/v1/domains/hallinta.com"
    one = api.put(f"{base}/nameservers", json={"nameservers": ["ns1.dns.example"]})
    assert one.status_code == 422
    own = api.put(f"{base}/nameservers", json={"nameservers": ["ns1.hallinta.com",
                                                              "ns2.dns.example"]})
    assert own.status_code == 422  # glue first
    glue = api.put(f"{base}/hosts/ns1.hallinta.com", json={"addresses": ["192.0.2.1",
                                                                         "2001:db8::1"]})
    assert glue.status_code == 200 and glue.json["addresses"] == ["192.0.2.1", "2001:db8::1"]
    assert api.put(f"{base}/hosts/ns1.muu.com", json={"addresses": ["192.0.2.1"]}
                   ).status_code == 422
    ok = api.put(f"{base}/nameservers", json={"nameservers": ["ns1.hallinta.com",
                                                             "NS2.dns.example."]})
    assert ok.status_code == 200
    assert ok.json["nameservers"] == ["ns1.hallinta.com", "ns2.dns.example"]
    assert sandbox().info("hallinta.com").nameservers == ("ns1.hallinta.com", "ns2.dns.example")
    assert api.delete(f"{base}/hosts/ns1.hallinta.com").status_code == 409
    ds = {"key_tag": 2371, "algorithm": 13, "digest_type": 2, "digest": "ab" * 32}
    assert api.put(f"{base}/dnssec", json={"ds": [{**ds, "digest": "zz"}]}).status_code == 422
    assert api.put(f"{base}/dnssec", json={"ds": [ds]}).json["ds"][0]["key_tag"] == 2371
    # .com has a 60-day transfer lock after registration
    locked = api.post(f"{base}/auth-code")
    assert locked.status_code == 409 and locked.json["code"] == "transfer_locked"
    clock.set_offset(timedelta(days=61))
    assert api.put(f"{base}/lock", json={"locked": True}).json["locked"] is True
    assert api.post(f"{base}/auth-code").json["code"] == "domain_locked"
    api.put(f"{base}/lock", json={"locked": False})
    code = api.post(f"{base}/auth-code")
    assert code.status_code == 200 and len(code.json["auth_code"]) >= 12
    assert api.put(f"{base}/privacy", json={"privacy": True}).json["privacy"] is True
    assert api.put(f"{base}/auto-renew", json={"auto_renew": False}).json["auto_renew"] is False
    admin = api.post("/api/v1/contacts", json={**CONTACT, "name": "Admin"}).json
    changed = api.put(f"{base}/contacts", json={"admin": admin["id"]})
    assert changed.json["contacts"]["admin"] == admin["id"]
    assert any(e.data["roles"] == ["admin"] for e in events("contact.changed"))


def test_renew_restore_and_owner_change_are_orders(setup, jobs):
    reseller, api, contact = setup
    register(api, contact, "elinkaari.com")
    jobs.run_all()
    before = api.get("/api/v1/domains/elinkaari.com").json["expires_at"]
    renew = api.post("/api/v1/domains/elinkaari.com/renew", json={"period": 2})
    assert renew.status_code == 202 and renew.json["price"]["net"] == "21.80"
    jobs.run_all()
    after = api.get("/api/v1/domains/elinkaari.com").json["expires_at"]
    assert int(after[:4]) == int(before[:4]) + 2
    assert events("domain.renewed")[-1].data["order_id"] == renew.json["id"]
    too_far = api.post("/api/v1/domains/elinkaari.com/renew", json={"period": 9})
    assert too_far.status_code == 422
    new_owner = api.post("/api/v1/contacts", json={**CONTACT, "name": "Uusi Omistaja"}).json
    change = api.post("/api/v1/domains/elinkaari.com/owner-change",
                      json={"registrant": new_owner["id"]})
    assert change.status_code == 202 and change.json["price"]["total"] == "0.00"
    # Issue 28: a gTLD owner change waits for the current registrant's confirmation.
    assert change.json["state"] == "pending" and change.json["approval"]["state"] == "awaiting"
    jobs.run_all()
    assert api.get(f"/api/v1/orders/{change.json['id']}").json["state"] == "pending"
    answer(api.client, "elinkaari.com")
    jobs.run_all()
    assert api.get(f"/api/v1/orders/{change.json['id']}").json["state"] == "completed"
    assert api.get("/api/v1/domains/elinkaari.com").json["contacts"]["registrant"] == \
        new_owner["id"]
    assert api.post("/api/v1/domains/elinkaari.com/restore").json["code"] == "domain_not_active"
    clock.set_offset(timedelta(days=6))  # past the add grace period: redemption
    deleted = api.delete("/api/v1/domains/elinkaari.com")
    assert deleted.status_code == 200 and deleted.json["status"] == "redemption"
    restore = api.post("/api/v1/domains/elinkaari.com/restore")
    assert restore.status_code == 202 and restore.json["price"]["net"] == "69.00"
    jobs.run_all()
    assert api.get("/api/v1/domains/elinkaari.com").json["status"] == "active"


@pytest.mark.smoke
def test_transfer_in_stays_pending_until_the_losing_side_acts(setup, jobs):
    reseller, api, contact = setup
    sandbox().seed_foreign(name="muualta.fi", auth_code="oikea-koodi")
    sandbox().seed_foreign(name="toinen-muualta.fi", auth_code="koodi-2")
    wrong = api.post("/api/v1/transfers", json={"name": "muualta.fi", "auth_code": "väärä"})
    jobs.run_all()
    assert api.get(f"/api/v1/orders/{wrong.json['id']}").json["state"] == "failed"
    right = api.post("/api/v1/transfers", json={"name": "muualta.fi",
                                                "auth_code": "oikea-koodi"})
    slow = api.post("/api/v1/transfers", json={"name": "toinen-muualta.fi",
                                               "auth_code": "koodi-2"})
    jobs.run_all()
    assert api.get(f"/api/v1/orders/{right.json['id']}").json["state"] == "held"
    sandbox().simulate_losing_answer(name="muualta.fi", approve=True)
    jobs.app.test_cli_runner().invoke(args=["jobs", "run", "domains.transfers"])
    assert api.get(f"/api/v1/orders/{right.json['id']}").json["state"] == "completed"
    assert api.get("/api/v1/domains/muualta.fi").json["status"] == "active"
    assert events("domain.transferred_in")[-1].data["domain"] == "muualta.fi"
    # the other one is approved by the registry after 5 days of silence
    assert api.get(f"/api/v1/orders/{slow.json['id']}").json["state"] == "held"
    clock.set_offset(timedelta(days=5, minutes=1))
    jobs.app.test_cli_runner().invoke(args=["jobs", "run", "domains.transfers"])
    assert api.get(f"/api/v1/orders/{slow.json['id']}").json["state"] == "completed"
    assert available(reseller) == Money.of("200.00") - Money.of("12.42") * 2


def test_bulk_renew_reports_per_name(setup, jobs):
    _reseller, api, contact = setup
    for name in ("eka.fi", "toka.fi"):
        register(api, contact, name)
    jobs.run_all()
    response = api.post("/api/v1/domains/bulk-renew",
                        json={"names": ["eka.fi", "toka.fi", "puuttuu.fi"], "period": 1},
                        headers={"Idempotency-Key": "bulk-1"})
    assert response.status_code == 202
    results = response.json["results"]
    assert [r["order"]["state"] for r in results[:2]] == ["held", "held"]
    assert results[2]["order"] is None and results[2]["error"]["code"] == "domain_not_found"
    again = api.post("/api/v1/domains/bulk-renew",
                     json={"names": ["eka.fi", "toka.fi", "puuttuu.fi"], "period": 1},
                     headers={"Idempotency-Key": "bulk-1"}).json["results"]
    assert [r["order"]["id"] for r in again[:2]] == [r["order"]["id"] for r in results[:2]]


def test_csv_import_transfers_with_a_report_per_row(setup, jobs):
    _reseller, api, contact = setup
    sandbox().seed_foreign(name="salkku-a.fi", auth_code="A-1")
    sandbox().seed_foreign(name="salkku-b.com", auth_code="B-2")
    text = "name,auth_code\nsalkku-a.fi,A-1\nsalkku-b.com,B-2\nhuono_nimi.fi,x\nsalkku-c.se,\n"
    response = api.post("/api/v1/transfers/import", data=text,
                        headers={"Content-Type": "text/csv", "Idempotency-Key": "csv-1"})
    assert response.status_code == 202
    report = response.json
    assert (report["accepted"], report["rejected"]) == (2, 2)
    rows = {row["row"]: row for row in report["rows"]}
    assert rows[4]["error"]["code"] == "invalid_domain_name"
    assert rows[5]["error"]["code"] == "validation_failed"
    assert rows[2]["order"]["kind"] == "transfer"
    assert api.post("/api/v1/transfers/import", json={"csv": ""}).status_code == 422


def test_tlds_list_rules_and_the_callers_prices(setup):
    _reseller, api, _contact = setup
    items = {item["tld"]: item for item in api.get("/api/v1/tlds").json["tlds"]}
    assert set(items) >= {"fi", "se", "nu", "com", "net", "org", "eu"}
    fi = items["fi"]
    assert fi["rules"]["max_period"] == 5 and "restore" not in fi["rules"]["operations"]
    assert fi["price_list"] == "prepaid" and fi["prices"]["register"] == "9.90"
    assert items["com"]["rules"]["transfer_lock_days"] == 60
    response = api.put("/api/v1/retail-prices", json={"markup_percent": "50",
                                                      "prices": {"fi": {"register": "19.00"}}})
    assert response.status_code == 200
    items = {item["tld"]: item for item in response.json["tlds"]}
    assert items["fi"]["retail"]["register"] == "19.00"
    assert items["fi"]["retail"]["renew"] == "14.85"


def test_domain_list_filters_and_paginates(setup, jobs):
    _reseller, api, contact = setup
    for name in ("suodatin-a.fi", "suodatin-b.fi", "suodatin-c.com"):
        register(api, contact, name)
    jobs.run_all()
    only_fi = api.get("/api/v1/domains?tld=fi").json["items"]
    assert [d["name"] for d in only_fi] == ["suodatin-a.fi", "suodatin-b.fi"]
    page = api.get("/api/v1/domains?limit=2").json
    assert len(page["items"]) == 2 and page["next"]
    assert api.get("/api/v1/domains?q=c.com").json["items"][0]["name"] == "suodatin-c.com"
    assert api.get("/api/v1/domains?auto_renew=maybe").status_code == 422
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Domain)) >= 3
    assert Decimal(api.get("/api/v1/orders").json["items"][0]["price"]["net"]) > 0


def test_every_api_blueprint_is_exempt_from_csrf(app):
    """Real HTTP has CSRF on (the tests turn it off): API POSTs must not need a token."""
    from reseller.core.extensions import csrf

    nested = {name for name, bp in app.blueprints.items()
              if name.startswith("api.") and bp not in csrf._exempt_blueprints}
    assert nested == set()


def test_registry_outage_when_ordering_is_503_and_holds_nothing(setup, app):
    reseller, api, contact = setup
    app.extensions["tunnus.registry"].inject("check", "unavailable")
    response = register(api, contact, "katkos.fi")
    assert response.status_code == 503 and response.json["code"] == "registry_unavailable"
    assert available(reseller) == Money.of("200.00")


def test_a_contact_id_beyond_the_id_column_is_a_422_naming_the_field(setup):
    """Found by schemathesis: the id reached the database and overflowed it (a 500)."""
    _, api, _ = setup
    for path, body in (("/api/v1/domains/huge-id.fi/owner-change", {"registrant": 2**105}),
                       ("/api/v1/domains", {"name": "huge-id.fi",
                                            "contacts": {"registrant": 2**31}})):
        answer = api.post(path, json=body)
        assert answer.status_code == 422, answer.json
        assert answer.json["code"] == "validation_failed"


def test_a_registration_and_its_deferred_work_compile_no_statement_afresh(setup, jobs):
    """Issue 31: every statement of an order (the request, the order job, its listeners,
    zone, mail) has a cache key, so SQLAlchemy compiles it once per process, not per order.
    Rows given to ``.values()`` left an INSERT without one: six compilations per order."""
    reseller, api, contact = setup
    assert register(api, contact, "lammitys.fi").status_code == 202  # compiles, once
    jobs.run_all()
    uncached: list[str] = []

    def note(conn, cursor, statement, parameters, context, executemany) -> None:
        hit = getattr(context, "cache_hit", None)
        if hit is not None and hit.name == "NO_CACHE_KEY" \
                and not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
            uncached.append(" ".join(statement.split())[:100])

    sa.event.listen(db.engine, "before_cursor_execute", note)
    try:
        assert register(api, contact, "toinen-lammitys.fi").status_code == 202
        jobs.run_all()
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", note)
    assert db.session.scalar(sa.select(Domain.status).where(
        Domain.name == "toinen-lammitys.fi")) == "active"
    assert uncached == []
