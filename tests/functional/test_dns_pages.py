"""The client-area record editor works with plain HTML forms (no JavaScript)."""

import pytest

from tests.functional.test_client_area import login


@pytest.mark.smoke
def test_record_editor_adds_refuses_and_deletes(client, factory, jobs):
    user = factory.user(role="technical")
    factory.domain(user.reseller, "editor.example")
    login(client, user)
    assert "DNS" in client.get("/").get_data(as_text=True)
    response = client.post("/dns", data={"name": "editor.example"})
    assert response.status_code == 302
    page = client.get("/dns/editor.example").get_data(as_text=True)
    assert "v=spf1 -all" in page  # the default template
    added = client.post("/dns/editor.example", data={
        "action": "add", "name": "www", "type": "A", "ttl": "300", "value": "192.0.2.7"})
    assert added.status_code == 302
    assert "192.0.2.7" in client.get("/dns/editor.example").get_data(as_text=True)
    clash = client.post("/dns/editor.example", data={
        "action": "add", "name": "www", "type": "CNAME", "ttl": "300", "value": "x.example."})
    assert clash.status_code == 422
    assert "CNAME cannot share its name" in clash.get_data(as_text=True)
    deleted = client.post("/dns/editor.example", data={
        "action": "delete", "name": "www", "type": "A", "value": "192.0.2.7"})
    assert deleted.status_code == 302
    assert "192.0.2.7" not in client.get("/dns/editor.example").get_data(as_text=True)
    export = client.get("/dns/editor.example/zonefile")
    assert export.mimetype == "text/dns" and "SOA" in export.get_data(as_text=True)


def test_billing_user_sees_zones_but_cannot_edit(client, factory):
    owner = factory.user()
    billing = factory.user(owner.reseller, role="billing")
    factory.domain(owner.reseller, "billing-view.example")
    login(client, owner)
    client.post("/dns", data={"name": "billing-view.example"})
    client.post("/logout")
    login(client, billing)
    assert client.get("/dns/billing-view.example").status_code == 200
    client.post("/dns/billing-view.example", data={
        "action": "add", "name": "www", "type": "A", "value": "192.0.2.7"})
    assert "192.0.2.7" not in client.get("/dns/billing-view.example").get_data(as_text=True)


def test_another_resellers_zone_page_is_404(client, factory):
    owner, stranger = factory.user(), factory.user()
    factory.domain(owner.reseller, "private-zone.example")
    login(client, owner)
    client.post("/dns", data={"name": "private-zone.example"})
    client.post("/logout")
    login(client, stranger)
    assert client.get("/dns/private-zone.example").status_code == 404
    assert client.get("/dns/private-zone.example/zonefile").status_code == 404


def test_zone_keys_are_created_shown_once_and_revoked_in_the_client_area(client, factory, jobs):
    user = factory.user(role="technical")
    factory.domain(user.reseller, "keys-page.example")
    login(client, user)
    client.post("/dns", data={"name": "keys-page.example"})
    jobs.run_all()
    created = client.post("/dns/keys-page.example/keys", data={"scope": "records"})
    assert created.status_code == 201
    assert created.headers["Cache-Control"].startswith("no-store")
    page = created.get_data(as_text=True)
    assert "not shown again" in page and "hmac-sha256" in page
    secret = page.split("<th>Secret</th><td><code>")[1].split("</code>")[0]
    assert len(secret) == 44
    later = client.get("/dns/keys-page.example").get_data(as_text=True)
    assert secret not in later and "records-" in later
    bad = client.post("/dns/keys-page.example/keys", data={"scope": "everything"})
    assert bad.status_code == 422 and "Use one of" in bad.get_data(as_text=True)
    key_id = later.split('name="key_id" value="')[1].split('"')[0]
    revoked = client.post("/dns/keys-page.example", data={"action": "revoke_key",
                                                           "key_id": key_id})
    assert revoked.status_code == 302
    assert "records-" not in client.get("/dns/keys-page.example").get_data(as_text=True)
    stranger = factory.user()
    client.post("/logout")
    login(client, stranger)
    assert client.post("/dns/keys-page.example/keys",
                       data={"scope": "read"}).status_code == 404


def test_a_nameserver_switch_moves_the_zones_a_chunk_per_unit_of_work(factory, jobs,
                                                                        monkeypatch):
    """Issue 31, point 3: verifying vanity names rewrote every zone's NS in the request's
    own transaction (at 100,000 zones, minutes holding a transaction id). The request now
    queues the switch; each job moves a chunk of zones and queues the next."""
    import sqlalchemy as sa

    from reseller.core.db import unit_of_work
    from reseller.core.extensions import db
    from reseller.dns import services, tasks, vanity
    from reseller.dns.models import Zone, ZoneChange
    from reseller.dns.settings import dns_settings

    monkeypatch.setattr(tasks, "SWITCH_CHUNK", 3)
    settings = dns_settings()
    reseller = factory.reseller()
    with unit_of_work():
        db.session.add_all([Zone(reseller_id=reseller.id, name=f"vaihto{n}.example",
                                 status="active", proof="txt", serial=2026120600)
                            for n in range(7)])
    names = ["ns1.oma-nimi.example", "ns2.oma-nimi.example"]
    with unit_of_work():
        vanity.set_vanity(reseller_id=reseller.id, hostnames=names, settings=settings)
    jobs.run_all()
    jobs.jobs.clear()
    address = settings.nameserver_addresses[0]
    with unit_of_work():
        vanity.verify_vanity(reseller_id=reseller.id, settings=settings,
                             resolve=lambda host, rtype: [address] if rtype == "A" else [])
    changes = sa.select(sa.func.count()).select_from(ZoneChange)
    assert db.session.scalar(changes) == 0  # nothing rewritten in the request
    assert [path for path, _args in jobs.jobs] == [tasks.SWITCH_JOB]
    runs = []
    real = tasks.switch_nameservers
    monkeypatch.setattr(tasks, "switch_nameservers",
                        lambda *args: runs.append(real(*args)) or runs[-1])
    jobs.run_all()
    assert runs == [3, 3, 1]  # a chunk per unit of work
    assert db.session.scalar(changes) == 7
    for change in db.session.scalars(sa.select(ZoneChange)):
        assert {tuple(rr)[3] for rr in change.adds} == {f"{ns}." for ns in names}
    assert services.nameservers_for(reseller.id, settings) == names
