"""Synchronous registry commands whose answer is lost converge without a client retry (202
with the pending change, then the resolve job), and the RFC 3915 lifecycle: a delete inside
the add grace period (1000) frees the name and credits the registration once, a later one
(1001) keeps redemption, a restore is a request plus its report and a refused one costs
nothing; a transfer in ends with the registry naming our contacts."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from reseller.core.clock import clock
from reseller.core.db import unit_of_work
from reseller.core.events import Event
from reseller.core.extensions import db
from reseller.core.jobs import run
from reseller.domains.models import Domain, Order
from reseller.registry.errors import RegistryTimeout
from reseller.registry.sandbox_models import SandboxDomain
from tests.support.domains import CONTACT, available, fund, install_catalogue, sandbox
from wallet import services as wallet
from wallet.money import Money

NS = ["ns1.uusi.example", "ns2.uusi.example"]


@pytest.fixture
def setup(factory, client):
    install_catalogue()
    reseller = factory.reseller()
    fund(reseller, "300.00")
    api = factory.api(reseller)
    contact = api.post("/api/v1/contacts", json=CONTACT).json
    yield reseller, api, contact
    sandbox().clear_faults()


def registered(api, jobs, contact, name):
    answer = api.post("/api/v1/domains", json={"name": name, "period": 1,
                                              "contacts": {"registrant": contact["id"]}})
    assert answer.status_code == 202, answer.json
    jobs.run_all()
    return answer.json


def events(reseller, kind):
    db.session.expire_all()
    return [e.data for e in db.session.scalars(sa.select(Event).where(
        Event.reseller_id == reseller.id, Event.type == kind).order_by(Event.id))]


def domain_row(name):
    db.session.expire_all()
    return db.session.scalar(sa.select(Domain).where(Domain.name == name)
                             .order_by(Domain.id.desc()).limit(1))


@pytest.mark.smoke
def test_a_nameserver_change_whose_answer_is_lost_converges_without_a_client_retry(
        setup, jobs):
    reseller, api, contact = setup
    registered(api, jobs, contact, "kadonnut-vastaus.fi")
    sandbox().inject("update", "timeout")  # carried out at the registry, answer lost
    answer = api.put("/api/v1/domains/kadonnut-vastaus.fi/nameservers",
                     json={"nameservers": NS})
    assert answer.status_code == 202
    assert answer.json["pending_change"]["operation"] == "nameservers"
    assert answer.json["pending_change"]["values"] == {"nameservers": NS}
    assert answer.json["nameservers"] != NS  # not claimed before the registry confirms
    assert list(sandbox().info("kadonnut-vastaus.fi").nameservers) == NS
    jobs.run_all()  # the resolve job queued with the 202; nobody calls the API again
    shown = api.get("/api/v1/domains/kadonnut-vastaus.fi").json
    assert shown["nameservers"] == NS and shown["pending_change"] is None
    [event] = events(reseller, "domain.registry_changed")
    assert event["source"] == "recovery" and event["outcome"] == "applied"
    assert event["changes"] == [{"field": "nameservers", "before": event["changes"][0]
                                 ["before"], "after": NS}]


def test_the_periodic_job_resolves_a_lost_lock_and_a_new_change_waits_for_it(setup, jobs):
    reseller, api, contact = setup
    registered(api, jobs, contact, "lukko.fi")
    sandbox().inject("update", "timeout")
    assert api.put("/api/v1/domains/lukko.fi/lock", json={"locked": True}).status_code == 202
    jobs.jobs.clear()  # the queued attempt is lost too: the minute job finds it
    sandbox().inject("*", "unavailable", times=2)
    waiting = api.put("/api/v1/domains/lukko.fi/dnssec", json={"ds": []})
    assert waiting.status_code == 409 and waiting.json["code"] == "change_pending"
    assert waiting.json["pending_change"]["operation"] == "lock"
    sandbox().clear_faults()
    with unit_of_work():
        assert run("reseller.domains.tasks.resolve_changes") == {
            "applied": 1, "refused": 0, "pending": 0}
    assert domain_row("lukko.fi").locked and domain_row("lukko.fi").pending_change is None
    assert sandbox().info("lukko.fi").locked


def test_a_glue_host_whose_answer_is_lost_is_created_here_once_confirmed(setup, jobs):
    _reseller, api, contact = setup
    registered(api, jobs, contact, "liima.fi")
    sandbox().inject("host_set", "timeout")
    answer = api.put("/api/v1/domains/liima.fi/hosts/ns1.liima.fi",
                     json={"addresses": ["192.0.2.53"]})
    assert answer.status_code == 202 and answer.json["pending_change"]["operation"] == \
        "host_set"
    assert answer.json["hosts"] == []
    jobs.run_all()
    assert [h["name"] for h in api.get("/api/v1/domains/liima.fi").json["hosts"]] == \
        ["ns1.liima.fi"]


def test_a_delete_whose_answer_is_lost_ends_in_redemption_as_at_the_registry(setup, jobs):
    reseller, api, contact = setup
    registered(api, jobs, contact, "lahtija.com")
    clock.set_offset(timedelta(days=6))  # past the add grace period: 1001
    sandbox().inject("delete", "timeout")
    answer = api.delete("/api/v1/domains/lahtija.com")
    assert answer.status_code == 202 and answer.json["status"] == "active"
    assert answer.json["pending_change"]["operation"] == "delete"
    # Before the fix every retry got 409 "2304 status prohibits delete" and the name
    # stayed active here while the registry had it in redemption.
    jobs.run_all()
    assert domain_row("lahtija.com").status == "redemption"
    assert events(reseller, "domain.registry_changed")[-1]["changes"] == [
        {"field": "status", "before": "active", "after": "redemption"}]
    assert events(reseller, "domain.deleted") == []  # restorable: not gone yet


def test_a_delete_in_the_add_grace_period_frees_the_name_and_credits_once(setup, jobs):
    reseller, api, contact = setup
    before = available(reseller)
    order = registered(api, jobs, contact, "katuva.com")
    assert before - available(reseller) == Money.of(order["price"]["total"])
    sandbox().inject("delete", "timeout")  # the 1000 is lost: resolved from the registry
    assert api.delete("/api/v1/domains/katuva.com").status_code == 202
    jobs.run_all()
    with unit_of_work():
        run("reseller.domains.tasks.resolve_changes")  # nothing left: never twice
    assert domain_row("katuva.com").status == "deleted"
    assert available(reseller) == before  # the registration credited, once
    [deleted] = events(reseller, "domain.deleted")
    assert deleted["grace_credit"]["total"] == order["price"]["total"]
    assert wallet.get_purchase(reference=db.session.get(Order, order["id"]).reference).refunded
    again = registered(api, jobs, contact, "katuva.com")  # the name is free again
    assert api.get(f"/api/v1/orders/{again['id']}").json["state"] == "completed"


def test_a_delete_answered_1000_outside_any_grace_credits_nothing(setup, jobs):
    reseller, api, contact = setup
    registered(api, jobs, contact, "poisto.fi")  # .fi: no add grace, no redemption
    balance = available(reseller)
    deleted = api.delete("/api/v1/domains/poisto.fi")
    assert deleted.status_code == 200 and deleted.json["status"] == "deleted"
    assert available(reseller) == balance
    assert "grace_credit" not in events(reseller, "domain.deleted")[0]


def test_a_restore_sends_the_report_built_from_our_records_and_charges_once(setup, jobs):
    reseller, api, contact = setup
    registered(api, jobs, contact, "palautus.com")
    clock.set_offset(timedelta(days=6))
    assert api.delete("/api/v1/domains/palautus.com").json["status"] == "redemption"
    balance = available(reseller)
    restore = api.post("/api/v1/domains/palautus.com/restore",
                       json={"reason": "The registrant deleted it by mistake."})
    assert restore.status_code == 202
    report = db.session.get(Order, restore.json["id"]).params["report"]
    assert "Domain Name: palautus.com" in report["pre_data"]
    assert report["reason"] == "The registrant deleted it by mistake."
    assert len(report["statements"]) == 2
    jobs.run_all()
    assert api.get("/api/v1/domains/palautus.com").json["status"] == "active"
    assert balance - available(reseller) == Money.of(restore.json["price"]["total"])


def test_a_restore_the_registry_refuses_for_want_of_a_report_costs_nothing(setup, jobs):
    reseller, api, contact = setup
    registered(api, jobs, contact, "raportiton.com")
    clock.set_offset(timedelta(days=6))
    api.delete("/api/v1/domains/raportiton.com")
    balance = available(reseller)
    restore = api.post("/api/v1/domains/raportiton.com/restore")
    with unit_of_work():  # an order from before reports (none stored)
        order = db.session.get(Order, restore.json["id"])
        order.params = {k: v for k, v in order.params.items() if k != "report"}
    jobs.run_all()
    failed = api.get(f"/api/v1/orders/{restore.json['id']}").json
    assert failed["state"] == "failed" and failed["reason"].startswith("2003")
    assert available(reseller) == balance
    assert domain_row("raportiton.com").status == "redemption"
    row = db.session.get(SandboxDomain, "raportiton.com", populate_existing=True)
    assert row.status == "redemption" and row.restore_requested_at is None


def test_a_transfer_in_ends_with_our_contacts_at_the_registry(setup, jobs):
    _reseller, api, contact = setup
    sandbox().seed_foreign(name="siirtyva.com", auth_code="Koodi-123")
    clock.set_offset(timedelta(days=70))  # past the other side's transfer lock
    created = sandbox().info("siirtyva.com").created_at
    order = api.post("/api/v1/transfers", json={
        "name": "siirtyva.com", "auth_code": "Koodi-123",
        "contacts": {"registrant": contact["id"], "admin": contact["id"]}}).json
    jobs.run_all()
    sandbox().simulate_losing_answer(name="siirtyva.com", approve=True)
    with unit_of_work():
        run("reseller.domains.tasks.check_transfers")
    jobs.run_all()
    assert api.get(f"/api/v1/orders/{order['id']}").json["state"] == "completed"
    at_registry = sandbox().info("siirtyva.com")
    handle = db.session.scalar(sa.select(Domain).where(Domain.name == "siirtyva.com")
                               ).registrant.handle
    assert (at_registry.registrant, at_registry.admin) == (handle, handle)
    assert sandbox().contact_info(handle) is not None  # created there on first use
    shown = api.get("/api/v1/domains/siirtyva.com").json
    assert shown["pending_change"] is None
    assert shown["created_at"][:10] == created.date().isoformat()  # the registry's crDate


def test_a_contact_update_whose_answer_is_lost_is_sent_again_until_answered(setup, jobs):
    _reseller, api, contact = setup
    registered(api, jobs, contact, "yhteys.fi")
    sandbox().inject("contact_set", "timeout")
    changed = api.put(f"/api/v1/contacts/{contact['id']}",
                      json={**CONTACT, "email": "uusi@asiakas.example"})
    assert changed.status_code == 200 and changed.json["email"] == "uusi@asiakas.example"
    assert ("reseller.domains.tasks.push_contact", (contact["id"],)) in jobs.jobs
    sandbox().inject("contact_set", "timeout")  # lost again: the job is retried
    with pytest.raises(RegistryTimeout):
        run("reseller.domains.tasks.push_contact", contact["id"])
    run("reseller.domains.tasks.push_contact", contact["id"])
    handle = db.session.scalar(sa.select(Domain).where(Domain.name == "yhteys.fi")
                               ).registrant.handle
    assert sandbox().contact_info(handle).data["email"] == "uusi@asiakas.example"
