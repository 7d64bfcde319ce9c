"""An owner change waits for the current registrant's consent (issue 28): a white-label
e-mail in the registrant's language with a confirm/decline link on the reseller's link
host; confirmed, it goes to the registry (a gTLD locks transfers for 60 days unless the
registrant opted out); declined or unanswered for 14 days, it fails and its hold is
released; a reseller acting as designated agent needs no e-mail. And .eu takes EU
citizens wherever they live (EURid's eligibility), others are refused before any hold."""

from datetime import timedelta

import pytest

from reseller.core.clock import clock
from reseller.core.db import unit_of_work
from reseller.core.extensions import db
from reseller.domains.models import Domain, Order
from reseller.domains.orders import open_orders
from reseller.domains.tasks import expire_owner_changes
from tests.support.domains import CONTACT, available, fund, install_catalogue, sandbox
from tests.support.owner_change import answer, approval_mail, approval_path
from wallet.money import Money
from whitelabel.messages import link_base
from whitelabel.models import OutboxMessage
from whitelabel.settings import current


@pytest.fixture
def owned(factory, jobs):
    """A .com and a .fi domain whose registrant writes Swedish, and a new holder."""
    install_catalogue()
    reseller = factory.reseller(company_name="Webbhotell Ab")
    fund(reseller, "200.00")
    api = factory.api(reseller)
    prior = api.post("/api/v1/contacts", json={**CONTACT, "language": "sv",
                                               "email": "agare@gammal.example"}).json
    new = api.post("/api/v1/contacts", json={**CONTACT, "name": "Uusi Omistaja",
                                             "organization": "Uusi Oy",
                                             "registration_number": "1572860-0"}).json
    for name in ("omistaja.com", "omistaja.fi"):
        response = api.post("/api/v1/domains", json={
            "name": name, "period": 1, "contacts": {"registrant": prior["id"]}})
        assert response.status_code == 202, response.json
    jobs.run_all()
    return reseller, api, prior, new


def _change(api, name, new, **extra):
    response = api.post(f"/api/v1/domains/{name}/owner-change",
                        json={"registrant": new["id"], **extra})
    assert response.status_code == 202, response.json
    return response.json


def _registrant_at_registry(name):
    return sandbox().info(name).registrant


def test_the_current_registrant_is_asked_in_its_language_on_the_resellers_link_host(
        owned, jobs, client):
    reseller, api, prior, new = owned
    clock.set_offset(timedelta(days=61))  # past the lock that follows the registration
    before = _registrant_at_registry("omistaja.com")
    order = _change(api, "omistaja.com", new)
    assert order["state"] == "pending" and order["approval"]["state"] == "awaiting"
    jobs.run_all()  # nothing goes to the registry while the registrant has not answered
    assert _registrant_at_registry("omistaja.com") == before
    mail = approval_mail("omistaja.com")
    assert mail.recipient == "agare@gammal.example" and mail.language == "sv"
    assert "Webbhotell Ab" in mail.sender and "Uusi Omistaja (Uusi Oy)" in mail.text
    assert "innehavarbyte" in mail.subject  # Swedish, the registrant's language
    assert link_base(reseller.id, current()) + "/go/owner-change/" in mail.text
    page = client.get(approval_path("omistaja.com"))
    assert page.status_code == 200 and "Webbhotell Ab" in page.get_data(as_text=True)
    assert 'name="lock_opt_out"' in page.get_data(as_text=True)  # a gTLD: 60-day lock
    done = answer(client, "omistaja.com", lock_opt_out=True)
    assert 'data-outcome="approve"' in done.get_data(as_text=True)
    jobs.run_all()
    assert api.get(f"/api/v1/orders/{order['id']}").json["state"] == "completed"
    assert _registrant_at_registry("omistaja.com") != before
    domain = Domain.query.filter_by(name="omistaja.com").one()
    assert domain.registrant_id == new["id"]
    lock = domain.transfer_lock_until  # the registrant opted out: no new lock
    assert lock is None or lock <= clock.now()
    assert client.post(approval_path("omistaja.com"),
                       data={"decision": "reject"}).status_code == 410  # used once
    done = {m.recipient: m for m in OutboxMessage.query.filter_by(
        template="registrant/owner_change_completed")}  # ICANN II.C.2: both are told
    assert set(done) == {"agare@gammal.example", CONTACT["email"]}
    assert done["agare@gammal.example"].language == "sv" and done[CONTACT["email"]].language \
        == "fi"
    assert "Uusi Omistaja (Uusi Oy)" in done[CONTACT["email"]].text


def test_without_opting_out_a_gtld_owner_change_locks_transfers_for_60_days(
        owned, jobs, client):
    _reseller, api, _prior, new = owned
    clock.set_offset(timedelta(days=61))  # past the lock that follows the registration
    _change(api, "omistaja.com", new)
    answer(client, "omistaja.com")
    jobs.run_all()
    db.session.expire_all()
    lock = Domain.query.filter_by(name="omistaja.com").one().transfer_lock_until
    assert timedelta(days=59) < lock - clock.now() <= timedelta(days=60)


def test_a_declined_change_fails_and_releases_its_hold(owned, jobs, client):
    reseller, api, prior, new = owned
    funds = available(reseller)
    order = _change(api, "omistaja.fi", new)
    assert available(reseller) == funds - Money.of("6.15")  # 4.90 + 25.5 % VAT, held
    page = client.get(approval_path("omistaja.fi")).get_data(as_text=True)
    assert 'name="lock_opt_out"' not in page  # .fi sets no transfer lock
    answer(client, "omistaja.fi", "reject")
    jobs.run_all()
    found = api.get(f"/api/v1/orders/{order['id']}").json
    assert found["state"] == "failed" and "declined" in found["reason"]
    assert available(reseller) == funds
    assert Domain.query.filter_by(name="omistaja.fi").one().registrant_id == prior["id"]


def test_an_unanswered_change_expires_after_14_days(owned, jobs, client):
    reseller, api, prior, new = owned
    funds = available(reseller)
    order = _change(api, "omistaja.fi", new)
    path = approval_path("omistaja.fi")
    clock.set_offset(timedelta(days=13))
    with unit_of_work():
        assert expire_owner_changes() == 0
    # Waiting for its registrant, not stuck at the registry: not on the console's list.
    assert order["id"] not in [o.id for o in open_orders(older_than=timedelta(hours=1))]
    clock.set_offset(timedelta(days=14, minutes=1))
    with unit_of_work():
        assert expire_owner_changes() == 1
    found = api.get(f"/api/v1/orders/{order['id']}").json
    assert found["state"] == "failed" and "in time" in found["reason"]
    assert available(reseller) == funds
    assert client.post(path, data={"decision": "approve"}).status_code == 410  # expired
    jobs.run_all()
    assert Domain.query.filter_by(name="omistaja.fi").one().registrant_id == prior["id"]


def test_a_designated_agent_changes_the_owner_without_an_email(owned, jobs):
    _reseller, api, _prior, new = owned
    clock.set_offset(timedelta(days=61))  # past the lock that follows the registration
    order = _change(api, "omistaja.com", new, designated_agent=True, lock_opt_out=True)
    assert order["state"] == "held" and order["approval"]["by"] == "designated_agent"
    jobs.run_all()
    assert api.get(f"/api/v1/orders/{order['id']}").json["state"] == "completed"
    assert OutboxMessage.query.filter_by(
        template="registrant/owner_change_approval").count() == 0
    lock = Domain.query.filter_by(name="omistaja.com").one().transfer_lock_until
    assert lock is None or lock <= clock.now()


def test_a_repeated_request_asks_once(owned, jobs):
    _reseller, api, _prior, new = owned
    first = api.post("/api/v1/domains/omistaja.com/owner-change",
                     json={"registrant": new["id"]}, headers={"Idempotency-Key": "oc-1"})
    again = api.post("/api/v1/domains/omistaja.com/owner-change",
                     json={"registrant": new["id"]}, headers={"Idempotency-Key": "oc-1"})
    assert first.json["id"] == again.json["id"]
    assert Order.query.filter_by(kind="owner_change").count() == 1
    assert OutboxMessage.query.filter_by(
        template="registrant/owner_change_approval").count() == 1


ABROAD = {**CONTACT, "organization": None, "registration_number": None, "country": "US",
          "city": "Boston", "postal_code": "02110", "phone": "+1.6175550100"}


def test_eu_takes_an_eu_citizen_living_abroad_and_refuses_others(factory, jobs):
    install_catalogue()
    reseller = factory.reseller()
    fund(reseller, "100.00")
    api = factory.api(reseller)
    citizen = api.post("/api/v1/contacts", json={**ABROAD, "citizenship": "FI"}).json
    assert citizen["citizenship"] == "FI"
    stranger = api.post("/api/v1/contacts", json=ABROAD).json
    company = api.post("/api/v1/contacts", json={**ABROAD, "organization": "Boston Inc",
                                                 "citizenship": "FI"}).json
    funds = available(reseller)
    for contact in (stranger, company):
        refused = api.post("/api/v1/domains", json={"name": f"ei-{contact['id']}.eu",
                                                    "contacts": {"registrant": contact["id"]}})
        assert refused.status_code == 422 and refused.json["code"] == "registrant_not_eligible"
    assert available(reseller) == funds
    ok = api.post("/api/v1/domains", json={"name": "kansalainen.eu",
                                           "contacts": {"registrant": citizen["id"]}})
    assert ok.status_code == 202, ok.json
    jobs.run_all()
    assert Domain.query.filter_by(name="kansalainen.eu").one().status == "active"
    assert api.post("/api/v1/contacts", json={**ABROAD, "citizenship": "XX"}).status_code \
        == 422
    # The holder of a live .eu name cannot drop what makes it eligible.
    dropped = api.put(f"/api/v1/contacts/{citizen['id']}", json={**ABROAD, "citizenship": None})
    assert dropped.status_code == 422 and dropped.json["code"] == "registrant_not_eligible"
    assert api.get(f"/api/v1/contacts/{citizen['id']}").json["citizenship"] == "FI"
    moved = api.put(f"/api/v1/contacts/{citizen['id']}", json={
        **ABROAD, "citizenship": None, "country": "DE", "city": "Berlin",
        "postal_code": "10115", "phone": "+49.30123456"})
    assert moved.status_code == 200, moved.json  # now resident in the EU


@pytest.mark.parametrize("language", ["fi", "sv"])
def test_the_owner_change_mails_and_page_have_no_english_left(factory, client, language):
    from tests.support.crawl import english_left, visible_texts
    from whitelabel.messages import send_registrant_message

    reseller = factory.reseller(company_name="Webbi Oy")
    context = {"domain": "esimerkki.com", "new_holder": "Uusi Oy", "prior_holder": "Maija",
               "deadline_at": clock.now() + timedelta(days=14), "lock_days": 60,
               "order_id": 1}
    with unit_of_work():
        for kind in ("owner_change_approval", "owner_change_completed"):
            send_registrant_message(reseller_id=reseller.id, kind=kind, language=language,
                                    context=context, recipient="m@asiakas.example",
                                    dedupe_key=f"words:{kind}")
    for message in OutboxMessage.query.all():
        texts = [message.subject, *message.text.splitlines(), *visible_texts(message.html)]
        assert english_left([t.strip() for t in texts if t.strip()], language) == []
    page = client.get(approval_path("esimerkki.com")).get_data(as_text=True)
    assert english_left(list(visible_texts(page)), language) == []
