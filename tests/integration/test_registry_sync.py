"""Domain sync: each drift the sandbox registry can inject (server statuses, a registry-side
renewal, nameservers and DNSSEC changed elsewhere, a deletion, a transfer away without a
poll message) is found by ``registry.sync`` / ``flask registry sync`` and applied, with
one ``domain.registry_changed`` event per domain and money left right."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from reseller.core.clock import clock
from reseller.core.db import unit_of_work
from reseller.core.events import Event
from reseller.core.extensions import db
from reseller.domains import orders, sync
from reseller.domains.models import Domain, Order
from reseller.registry import sandbox_drift
from tests.support.domains import available, fund, install_catalogue, make_contact, sandbox
from wallet.money import Money

DS = {"key_tag": 4242, "algorithm": 13, "digest_type": 2, "digest": "AB" * 32}


@pytest.fixture
def reseller(factory):
    install_catalogue()
    reseller = factory.reseller()
    fund(reseller, "100.00")
    return reseller


def owned(reseller, jobs, name):
    contact = make_contact(reseller)
    with unit_of_work():
        orders.order_register(reseller_id=reseller.id, name=name, period=1,
                              contacts={"registrant": contact.id}, idempotency_key=name,
                              nameservers=["ns1.dns.example", "ns2.dns.example"])
    jobs.run_all()
    return domain_named(name)


def domain_named(name):
    db.session.expire_all()
    return db.session.scalar(sa.select(Domain).where(Domain.name == name)
                             .order_by(Domain.id.desc()).limit(1))


def run_sync(*names):
    with unit_of_work():
        return sync.sync_domains(names=list(names) or None, per_second=0)


def drift_events(reseller):
    return [e.data for e in db.session.scalars(sa.select(Event).where(
        Event.reseller_id == reseller.id, Event.type == "domain.registry_changed")
        .order_by(Event.id))]


def fields(report, name):
    return {c["field"]: c for c in report.changed.get(name, [])}


def test_a_fresh_registration_holds_the_registrys_roid_and_nothing_drifts(reseller, jobs):
    domain = owned(reseller, jobs, "tuore.fi")
    registry_roid = sandbox().info("tuore.fi").roid
    assert domain.roid == registry_roid and registry_roid.endswith("-SANDBOX")
    assert domain.registry_statuses == ["ok"]
    report = run_sync("tuore.fi")
    assert report.checked == 1 and report.changed == {}
    assert drift_events(reseller) == []


@pytest.mark.smoke
def test_server_statuses_set_at_the_registry_are_taken_and_announced(reseller, jobs):
    owned(reseller, jobs, "pidatetty.fi")
    sandbox_drift.set_server_statuses("pidatetty.fi",
                                      add=["serverHold", "serverTransferProhibited"])
    report = run_sync("pidatetty.fi")
    change = fields(report, "pidatetty.fi")["registry_statuses"]
    assert change["before"] == ["ok"]
    assert change["after"] == ["serverHold", "serverTransferProhibited"]
    domain = domain_named("pidatetty.fi")
    assert sorted(domain.registry_statuses) == ["serverHold", "serverTransferProhibited"]
    [event] = drift_events(reseller)
    assert event["source"] == "sync" and event["domain"] == "pidatetty.fi"
    # Cleared at the registry: cleared here.
    sandbox_drift.set_server_statuses("pidatetty.fi", remove=["serverHold",
                                                             "serverTransferProhibited"])
    run_sync("pidatetty.fi")
    assert domain_named("pidatetty.fi").registry_statuses == ["ok"]


def test_a_registry_side_renewal_moves_the_expiry_and_the_next_renewal_charges_once(
        reseller, jobs):
    domain = owned(reseller, jobs, "uusittu.com")
    before = domain.expires_at
    sandbox_drift.renew("uusittu.com")
    # Our stale expiry makes the registry refuse a renewal (curExpDate) and release it.
    with unit_of_work():
        stale = orders.order_renew(reseller_id=reseller.id, name="uusittu.com", period=1,
                                   idempotency_key="stale")
    jobs.run_all()
    assert db.session.get(Order, stale.id).state == "failed"
    report = run_sync()
    assert fields(report, "uusittu.com")["expires_at"]["after"][:4] == \
        str(before.year + 1)
    balance = available(reseller)
    with unit_of_work():
        renewal = orders.order_renew(reseller_id=reseller.id, name="uusittu.com", period=1,
                                     idempotency_key="after-sync")
    jobs.run_all()
    assert db.session.get(Order, renewal.id).state == "completed"
    assert domain_named("uusittu.com").expires_at.year == before.year + 2
    assert balance - available(reseller) == Money.of(renewal.total)


def test_a_gtld_name_is_renewed_by_the_registry_at_expiry_and_sync_follows(reseller, jobs):
    domain = owned(reseller, jobs, "automaatti.com")
    with unit_of_work():
        domain.auto_renew = False
        clock.set_offset(domain.expires_at - clock.now() + timedelta(days=1))
    assert sandbox().info("automaatti.com").expires_at > clock.now()
    run_sync("automaatti.com")
    assert domain_named("automaatti.com").expires_at > clock.now()


def test_nameservers_and_dnssec_changed_elsewhere_are_taken(reseller, jobs):
    owned(reseller, jobs, "muualla.fi")
    sandbox_drift.set_nameservers("muualla.fi", ["ns1.muualla.example", "ns2.muualla.example"])
    sandbox_drift.set_ds("muualla.fi", [DS])
    report = run_sync("muualla.fi")
    assert set(fields(report, "muualla.fi")) >= {"nameservers", "ds"}
    domain = domain_named("muualla.fi")
    assert domain.nameservers == ["ns1.muualla.example", "ns2.muualla.example"]
    assert domain.ds == [DS]


def test_a_deletion_at_the_registry_puts_the_name_in_redemption_or_ends_it(reseller, jobs):
    owned(reseller, jobs, "poistettu.com")
    owned(reseller, jobs, "kadonnut.fi")
    sandbox_drift.delete("poistettu.com")
    sandbox_drift.delete("kadonnut.fi", purge=True)
    run_sync("poistettu.com", "kadonnut.fi")
    assert domain_named("poistettu.com").status == "redemption"
    gone = domain_named("kadonnut.fi")
    assert gone.status == "deleted" and gone.live_name is None
    types = [e.type for e in db.session.scalars(sa.select(Event).where(
        Event.reseller_id == reseller.id))]
    assert "domain.deleted" in types


def test_a_transfer_away_no_poll_message_announced_ends_the_domain(reseller, jobs):
    owned(reseller, jobs, "karannut.fi")
    sandbox_drift.transfer_away("karannut.fi", to="other-registrar")
    report = run_sync("karannut.fi")
    assert fields(report, "karannut.fi")["sponsor"]["after"] == "other-registrar"
    assert domain_named("karannut.fi").status == "transferred_out"
    assert sandbox().poll() == []  # nothing announced it: only the sync could know


def test_never_synced_names_come_first_then_changed_ones_then_the_soonest_expiry(
        reseller, jobs):
    names = ["eka.fi", "toka.fi", "kolmas.fi"]
    domains = {name: owned(reseller, jobs, name) for name in names}
    with unit_of_work():
        for name, days in (("eka.fi", 300), ("toka.fi", 100), ("kolmas.fi", 200)):
            domain = db.session.get(Domain, domains[name].id)
            domain.synced_at = clock.now() - timedelta(days=2)
            domain.updated_at = domain.synced_at
            domain.expires_at = clock.now() + timedelta(days=days)
        db.session.get(Domain, domains["kolmas.fi"].id).synced_at = None
    due = sync.due_domains(limit=2, min_age=timedelta(hours=24))
    assert due == [domains["kolmas.fi"].id, domains["toka.fi"].id]
    with unit_of_work():
        db.session.get(Domain, domains["eka.fi"].id).nameservers = ["ns1.x.example",
                                                                   "ns2.x.example"]
    assert sync.due_domains(limit=3, min_age=timedelta(hours=24))[:2] == [
        domains["kolmas.fi"].id, domains["eka.fi"].id]


def test_flask_registry_sync_names_what_it_changed(reseller, jobs, app):
    owned(reseller, jobs, "komento.fi")
    sandbox_drift.set_server_statuses("komento.fi", add=["serverRenewProhibited"])
    result = app.test_cli_runner().invoke(args=["registry", "sync", "komento.fi"])
    assert result.exit_code == 0, result.output
    assert "komento.fi: registry_statuses" in result.output
    assert "1 read, 1 changed, 0 failed" in result.output
    drift = app.test_cli_runner().invoke(args=["registry", "sandbox", "status", "komento.fi",
                                               "--add", "serverBogus"])
    assert drift.exit_code != 0 and "not a server status" in drift.output


def test_a_server_status_refuses_what_it_prohibits(reseller, jobs):
    owned(reseller, jobs, "kielletty.fi")
    sandbox_drift.set_server_statuses("kielletty.fi", add=["serverRenewProhibited"])
    with unit_of_work():
        order = orders.order_renew(reseller_id=reseller.id, name="kielletty.fi", period=1,
                                   idempotency_key="kielletty")
    balance = available(reseller)
    jobs.run_all()
    failed = db.session.get(Order, order.id)
    assert failed.state == "failed" and "serverRenewProhibited" in failed.reason
    assert available(reseller) == balance + Money.of(failed.total)


def test_the_console_reports_the_differences(reseller, jobs, factory, client):
    owned(reseller, jobs, "raportti.fi")
    sandbox_drift.set_server_statuses("raportti.fi", add=["serverHold"])
    run_sync("raportti.fi")
    operator = factory.operator()
    client.post("/login", data={"email": operator.email, "password": "operator password"})
    page = client.get("/console/registry").get_data(as_text=True)
    assert "raportti.fi" in page and "serverHold" in page and reseller.company_name in page


def test_rdap_and_whois_say_what_the_registry_says_after_the_sync(reseller, jobs, client,
                                                                   app):
    from reseller.rdap.services import lookup
    from reseller.whois.answer import format_answer

    owned(reseller, jobs, "totuus.com")
    with unit_of_work():
        domain_named("totuus.com").locked = True
    sandbox_drift.set_server_statuses("totuus.com", add=["serverHold"])
    expiry = sandbox_drift.renew("totuus.com", years=2)
    run_sync("totuus.com")
    registry = sandbox().info("totuus.com")
    rdap = client.get("/rdap/domain/totuus.com").get_json()
    assert rdap["handle"] == registry.roid
    assert sorted(rdap["status"]) == ["server hold"]  # the registry has no lock: neither do we
    events = {e["eventAction"]: e["eventDate"] for e in rdap["events"]}
    assert events["expiration"] == events["registrar expiration"] == \
        registry.expires_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert expiry[:10] == registry.expires_at.date().isoformat()
    self_url = rdap["links"][0]["href"]
    terms = next(n for n in rdap["notices"] if n["title"] == "Terms of Use")["links"][0]
    assert terms["rel"] == "terms-of-service" and terms["value"] == self_url
    assert all(link["value"] == self_url for n in rdap["notices"] for link in n["links"])
    whois = format_answer(lookup("totuus.com", app.config), whois_server="whois.test",
                          now=clock.now())
    assert f"Registry Domain ID: {registry.roid}" in whois
    assert "Domain Status: serverHold https://icann.org/epp#serverHold" in whois
    assert "clientTransferProhibited" not in whois and "Domain Status: ok" not in whois
    assert f"Registrar Registration Expiration Date: {events['expiration']}" in whois
