"""``/api/v1/whitelabel``: brand, sender domain, DNS records, verification against Knot."""

import pytest

from reseller.core.db import unit_of_work
from tests.support.whitelabel import ZONE, new_domain_name, verified_domain, zone_lines
from whitelabel import sender
from whitelabel.models import OutboxMessage, SenderDomain


@pytest.mark.smoke
def test_brand_defaults_to_company_details_then_saves(factory):
    reseller = factory.reseller(company_name="Webbi Oy", language="sv")
    api = factory.api(reseller)
    body = api.get("/api/v1/whitelabel").get_json()
    assert body["brand"]["name"] == "Webbi Oy"
    assert body["brand"]["default_language"] == "sv"
    assert body["sender_domain"] is None
    reply = api.put("/api/v1/whitelabel", json={
        "name": "Webbi", "primary_color": "#0a7d32", "support_email": "tuki@webbi.example",
        "support_phone": "+358 40 123 4567", "default_language": "fi"})
    assert reply.status_code == 200, reply.get_json()
    brand = api.get("/api/v1/whitelabel").get_json()["brand"]
    assert brand["name"] == "Webbi" and brand["primary_color"] == "#0a7d32"
    assert brand["default_language"] == "fi"


def test_bad_brand_fields_get_a_clear_422(factory):
    api = factory.api()
    reply = api.put("/api/v1/whitelabel", json={
        "primary_color": "blue", "logo_url": "http://insecure.example/logo.png",
        "default_language": "de", "colour": "#000000", "sender_domain": ""})
    assert reply.status_code == 422
    problem = reply.get_json()
    assert problem["code"] == "validation_failed"
    assert set(problem["errors"]) == {"primary_color", "logo_url", "default_language", "colour",
                                      "sender_domain"}


def test_reading_needs_the_whitelabel_scope(factory):
    api = factory.api(scopes=["domains:read"])
    reply = api.get("/api/v1/whitelabel")
    assert reply.status_code == 403
    assert reply.get_json()["code"] == "insufficient_scope"


def test_sender_domain_lists_the_records_to_publish(factory, wl_settings):
    api = factory.api()
    name = new_domain_name()
    body = api.put("/api/v1/whitelabel", json={"sender_domain": name.upper() + "."}).get_json()
    domain = body["sender_domain"]
    assert domain["domain"] == name and domain["status"] == "pending"
    records = {r["purpose"]: r for r in domain["records"]}
    assert records["link"] == {"purpose": "link", "type": "CNAME", "name": name,
                               "value": wl_settings.link_cname_target, "required": True}
    assert records["spf"]["name"] == f"bounce.{name}"
    assert f"include:{wl_settings.spf_include}" in records["spf"]["value"]
    assert records["dkim"]["name"].endswith(f"._domainkey.{name}")
    assert records["dkim"]["value"].startswith("v=DKIM1; k=rsa; p=MII")
    assert records["dmarc"]["required"] is False
    # Until verified, mail and links use the neutral domain.
    assert body["mail_from"] == f"noreply@{wl_settings.neutral_sender_domain}"


def test_each_reseller_gets_its_own_dkim_key(factory):
    keys = set()
    for _ in range(2):
        api = factory.api()
        api.put("/api/v1/whitelabel", json={"sender_domain": new_domain_name()})
        keys.add(api.get("/api/v1/whitelabel").get_json()["sender_domain"]["records"][2]["value"])
    assert len(keys) == 2


def test_a_domain_another_reseller_uses_is_a_conflict(factory):
    name = new_domain_name()
    factory.api().put("/api/v1/whitelabel", json={"sender_domain": name})
    reply = factory.api().put("/api/v1/whitelabel", json={"sender_domain": name})
    assert reply.status_code == 409
    assert reply.get_json()["code"] == "sender_domain_in_use"


def test_verify_without_a_domain_is_a_conflict(factory):
    reply = factory.api().post("/api/v1/whitelabel/verify")
    assert reply.status_code == 409
    assert reply.get_json()["code"] == "no_sender_domain"


def test_verify_reports_each_missing_or_wrong_record(factory, wl_knot, wl_settings):
    reseller = factory.reseller()
    api = factory.api(reseller)
    api.put("/api/v1/whitelabel", json={"sender_domain": new_domain_name()})
    domain = sender.find_sender_domain(reseller.id)
    lines = zone_lines(domain, wl_settings, skip=("spf", "dmarc"),
                       dkim_key=domain.dkim_public_key[:-8] + "AAAAAAA=")
    wl_knot.publish(ZONE, lines)
    body = api.post("/api/v1/whitelabel/verify").get_json()
    assert body["verified"] is False and body["status"] == "pending"
    checks = {c["purpose"]: c for c in body["checks"]}
    assert checks["link"]["ok"] is True
    assert checks["spf"]["problem"] == "missing" and checks["spf"]["detail"]
    assert checks["dkim"]["problem"] == "wrong_value"
    assert checks["dmarc"]["ok"] is False and checks["dmarc"]["required"] is False


@pytest.mark.smoke
def test_published_records_verify_and_mail_then_uses_the_domain(factory, wl_knot, wl_settings):
    reseller = factory.reseller()
    api = factory.api(reseller)
    name = new_domain_name()
    api.put("/api/v1/whitelabel", json={"sender_domain": name})
    wl_knot.publish(ZONE, zone_lines(sender.find_sender_domain(reseller.id), wl_settings,
                                  skip=("dmarc",)))
    body = api.post("/api/v1/whitelabel/verify").get_json()
    assert body["verified"] is True, body["checks"]
    overview = api.get("/api/v1/whitelabel").get_json()
    assert overview["mail_from"] == f"noreply@{name}"
    assert overview["link_host"] == name
    # Naming the same domain again keeps the verification (PUT is repeatable).
    api.put("/api/v1/whitelabel", json={"sender_domain": name, "name": "Other"})
    assert api.get("/api/v1/whitelabel").get_json()["sender_domain"]["status"] == "verified"


def test_daily_recheck_pauses_a_broken_domain_and_tells_the_reseller(factory, wl_knot, wl_settings,
                                                                      jobs):
    from whitelabel import tasks

    reseller = factory.reseller(contact_email="owner@webbi.example", language="fi")
    domain = verified_domain(reseller.id, wl_knot, wl_settings)
    wl_knot.publish(ZONE, zone_lines(domain, wl_settings, skip=("link",)))
    with unit_of_work():
        tasks.recheck_sender_domains()
    jobs.run_all()  # the notice is a deferred listener's work
    stored = sender.find_sender_domain(reseller.id)
    assert stored.status == "paused"
    notice = OutboxMessage.query.filter_by(recipient="owner@webbi.example").one()
    assert notice.template == "reseller/sender_domain_paused"
    assert domain.domain in notice.subject and notice.language == "fi"
    # Paused: mail falls back to the neutral domain.
    assert sender.usable_domain(reseller.id) is None
    # A second failing run does not tell again; fixing the record resumes the domain.
    with unit_of_work():
        tasks.recheck_sender_domains()
    jobs.run_all()
    assert OutboxMessage.query.filter_by(recipient="owner@webbi.example").count() == 1
    wl_knot.publish(ZONE, zone_lines(domain, wl_settings))
    with unit_of_work():
        tasks.recheck_sender_domains()
    assert SenderDomain.query.filter_by(reseller_id=reseller.id).one().status == "verified"


def test_removing_the_domain_returns_to_the_neutral_sender(factory, wl_settings):
    api = factory.api()
    api.put("/api/v1/whitelabel", json={"sender_domain": new_domain_name()})
    body = api.put("/api/v1/whitelabel", json={"sender_domain": None}).get_json()
    assert body["sender_domain"] is None
    assert body["mail_from"].endswith("@" + wl_settings.neutral_sender_domain)


def test_each_reseller_sees_and_changes_only_its_own_brand(factory):
    first, second = factory.reseller(company_name="Eka Oy"), factory.reseller(
        company_name="Toka Oy")
    factory.api(first).put("/api/v1/whitelabel", json={"name": "Eka",
                                                       "sender_domain": new_domain_name()})
    body = factory.api(second).get("/api/v1/whitelabel").get_json()
    assert body["brand"]["name"] == "Toka Oy" and body["sender_domain"] is None
    assert factory.api(second).post("/api/v1/whitelabel/verify").status_code == 409


def _watch_lookups(monkeypatch):
    """``in_transaction`` of the session at each DNS lookup of a sender check."""
    from reseller.core.extensions import db

    seen = []
    real = sender._lookup

    def lookup(resolver, name, rdtype):
        seen.append(db.session().in_transaction())
        return real(resolver, name, rdtype)

    monkeypatch.setattr(sender, "_lookup", lookup)
    return seen


def test_checking_the_records_looks_them_up_with_no_transaction_open(factory, wl_knot,
                                                                     wl_settings, monkeypatch):
    """Issue 31, point 3: a lookup may take seconds; the request's reads end before it."""
    reseller = factory.reseller()
    api = factory.api(reseller)
    name = new_domain_name()
    assert api.put("/api/v1/whitelabel", json={"sender_domain": name}).status_code == 200
    wl_knot.publish(ZONE, zone_lines(sender.find_sender_domain(reseller.id), wl_settings))
    seen = _watch_lookups(monkeypatch)
    body = api.post("/api/v1/whitelabel/verify").get_json()
    assert body["verified"] is True
    assert seen == [False] * 4


def test_the_daily_recheck_looks_each_domain_up_with_no_transaction_open(
        factory, wl_knot, wl_settings, jobs, monkeypatch):
    """One domain at a time, each outcome committed on its own: a domain paused early in
    the run holds no transaction id across the later domains' lookups."""
    from whitelabel import tasks

    first, second = factory.reseller(), factory.reseller()
    broken = verified_domain(first.id, wl_knot, wl_settings)
    fine = verified_domain(second.id, wl_knot, wl_settings)
    wl_knot.publish(ZONE, zone_lines(broken, wl_settings, skip=("link",))
                    + zone_lines(fine, wl_settings))
    seen = _watch_lookups(monkeypatch)
    with unit_of_work():
        tasks.recheck_sender_domains()
    assert len(seen) >= 8 and not any(seen)
    assert sender.find_sender_domain(first.id).status == "paused"
    assert sender.find_sender_domain(second.id).status == "verified"


def test_a_domain_renamed_while_it_is_checked_is_not_recorded(factory, wl_knot, wl_settings,
                                                              monkeypatch):
    reseller = factory.reseller()
    api = factory.api(reseller)
    assert api.put("/api/v1/whitelabel", json={"sender_domain": new_domain_name()}
                   ).status_code == 200
    real, renamed = sender._looked_up, new_domain_name()

    def looked_up(wanted, resolver):
        found = real(wanted, resolver)
        with unit_of_work():  # another request renames the domain meanwhile
            sender.set_sender_domain(reseller_id=reseller.id, domain=renamed)
        return found

    monkeypatch.setattr(sender, "_looked_up", looked_up)
    reply = api.post("/api/v1/whitelabel/verify")
    assert reply.status_code == 409
    assert reply.get_json()["code"] == "sender_domain_changed"
    stored = sender.find_sender_domain(reseller.id)
    assert (stored.domain, stored.status, stored.checks) == (renamed, "pending", [])
