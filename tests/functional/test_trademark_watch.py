"""The watch (Tunnus's registrations and daily zone files), its alerts, and the claims
notice a registration of a protected label must acknowledge: on REST, WHMCS and the
client area."""

from __future__ import annotations

import gzip
from datetime import date

import pytest
import sqlalchemy as sa

from reseller.core.events import Event
from reseller.core.extensions import db
from reseller.core.jobs import PERIODIC, run
from reseller.domains.models import Order
from reseller.trademarks import watch
from reseller.trademarks.matching import REASONS
from reseller.trademarks.models import TrademarkMatch
from tests.functional.test_client_area import login
from tests.support.domains import CONTACT, install_catalogue
from tests.support.invoicing import at
from tests.support.trademarks import install_trademark_prices
from tests.support.wallet import fund
from wallet import services as wallet
from whitelabel.models import OutboxMessage

MATCH_FIELDS = {"id", "name", "unicode_name", "reason", "score", "detail", "source", "found_at",
                "claims_acknowledged", "state", "action", "note", "state_changed_at"}


@pytest.fixture
def holder(factory):
    """Reseller A protects "NordName" for its customer (who reads Swedish)."""
    install_catalogue()
    install_trademark_prices()
    reseller = factory.reseller(country="FI", vat_id="FI24644919")
    fund(reseller.id, "200.00")
    api = factory.api(reseller)
    contact = api.post("/api/v1/contacts", json={
        **CONTACT, "email": "legal@nordname.example", "language": "sv"}).json["id"]
    mark = api.post("/api/v1/trademarks", json={
        "mark": "NordName", "holder": "NordName Oy", "contact": contact,
        "registration_number": "018123456", "jurisdiction": "EUIPO"}).json
    api.reseller = reseller
    return api, mark


@pytest.fixture
def other(factory):
    """Reseller B, who registers names for its own customers."""
    reseller = factory.reseller(country="FI", vat_id="FI24644919")
    fund(reseller.id, "200.00")
    api = factory.api(reseller)
    contact = api.post("/api/v1/contacts", json=CONTACT).json["id"]
    return reseller, api, contact


def _register(api, contact, name, **extra):
    return api.post("/api/v1/domains", json={"name": name, "period": 1,
                                             "contacts": {"registrant": contact}, **extra})


def _mail(recipient):
    return list(db.session.scalars(sa.select(OutboxMessage).where(
        OutboxMessage.recipient == recipient).order_by(OutboxMessage.id)))


def test_a_look_alike_registered_anywhere_here_is_a_match_with_a_reason(holder, other, jobs):
    api, mark = holder
    _reseller, b_api, contact = other
    assert _register(b_api, contact, "nordnarne.fi").status_code == 202
    assert _register(b_api, contact, "unrelated-name.fi").status_code == 202
    jobs.run_all()
    items = api.get(f"/api/v1/trademarks/{mark['id']}/matches").json["items"]
    assert [(m["name"], m["reason"], m["score"], m["state"]) for m in items] == [
        ("nordnarne.fi", "confusable", 90, "new")]
    assert set(items[0]) == MATCH_FIELDS and items[0]["source"] == "tunnus"
    # The event feed and webhooks carry it, for A only.
    events = api.get("/api/v1/events?type=trademark.match").json["items"]
    assert [e["data"]["name"] for e in events] == ["nordnarne.fi"]
    assert b_api.get("/api/v1/events?type=trademark.match").json["items"] == []
    # The customer contact hears of it, in Swedish, under A's brand (never the platform's).
    [message] = _mail("legal@nordname.example")
    assert message.template == "registrant/trademark_matches" and message.language == "sv"
    assert "NordName" in message.subject and "nordnarne.fi" in message.text
    assert message.reseller_id == api.reseller.id


def test_registrations_matching_no_mark_cost_one_read_of_the_marks_per_batch(holder, other,
                                                                            jobs):
    """The listener matches the name first; the domain is read only for a hit."""
    _reseller, b_api, contact = other
    for name in ("first-unrelated.fi", "second-unrelated.fi", "third-unrelated.fi"):
        assert _register(b_api, contact, name).status_code == 202
    statements: list[str] = []

    def note(conn, cursor, statement, *args):
        statements.append(" ".join(statement.split()))

    sa.event.listen(db.engine, "before_cursor_execute", note)
    try:
        jobs.run_all()
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", note)
    assert len([s for s in statements if "FROM trademark_labels" in s]) == 1
    assert not [s for s in statements if s.startswith("SELECT domains.id, domains.name FROM")]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(TrademarkMatch)) == 0


def test_a_match_is_dismissed_watched_or_acted_on(holder, other, jobs):
    api, mark = holder
    _reseller, b_api, contact = other
    _register(b_api, contact, "nordnaem.fi")
    jobs.run_all()
    match = api.get(f"/api/v1/trademarks/{mark['id']}/matches").json["items"][0]
    assert (match["reason"], match["detail"]) == ("typo", "swapped letters")
    path = f"/api/v1/trademarks/{mark['id']}/matches/{match['id']}"
    acted = api.patch(path, json={"state": "act_on", "action": "udrp", "note": "File with WIPO"})
    assert acted.status_code == 200
    assert (acted.json["state"], acted.json["action"], acted.json["note"]) == (
        "act_on", "udrp", "File with WIPO")
    assert api.patch(path, json={"state": "watched", "action": "udrp"}).status_code == 422
    assert api.patch(path, json={"state": "dismissed"}).json["action"] is None
    listed = api.get(f"/api/v1/trademarks/{mark['id']}/matches?state=dismissed").json["items"]
    assert [m["id"] for m in listed] == [match["id"]]
    assert api.get(f"/api/v1/trademarks/{mark['id']}/matches?state=new").json["items"] == []


def test_registering_a_protected_label_needs_the_claims_notice_acknowledged(
        holder, other, jobs):
    api, mark = holder
    reseller, b_api, contact = other
    before = wallet.available(reseller_id=reseller.id)
    refused = _register(b_api, contact, "nordname.com")
    assert refused.status_code == 409 and refused.json["code"] == "claims_notice_required"
    notice = refused.json["notice"]
    assert notice["marks"] == [{"mark": "NordName", "holder": "NordName Oy",
                                "jurisdiction": "EUIPO", "registration_number": "018123456"}]
    assert "NordName" in refused.json["detail"] and notice["domain"] == "nordname.com"
    assert wallet.available(reseller_id=reseller.id) == before  # nothing held
    stale = _register(b_api, contact, "nordname.com", claims_ack="0" * 32)
    assert stale.status_code == 409 and stale.json["stale"] is True
    placed = _register(b_api, contact, "nordname.com", claims_ack=notice["id"])
    assert placed.status_code == 202
    order = db.session.get(Order, placed.json["id"])
    assert order.params["claims"]["notice_id"] == notice["id"]
    assert order.params["claims"]["trademark_ids"] == [mark["id"]]
    jobs.run_all()
    [match] = api.get(f"/api/v1/trademarks/{mark['id']}/matches").json["items"]
    assert (match["name"], match["reason"], match["claims_acknowledged"]) == (
        "nordname.com", "exact", True)
    # The holder is told: a message of its own, in the contact's language.
    [message] = _mail("legal@nordname.example")
    assert message.template == "registrant/trademark_claim" and message.language == "sv"
    assert "nordname.com" in message.subject


def test_variants_are_claimed_and_an_ended_mark_claims_nothing(holder, other, jobs):
    api, mark = holder
    _reseller, b_api, contact = other
    api.patch(f"/api/v1/trademarks/{mark['id']}", json={"variants": ["nordnamn"]})
    assert _register(b_api, contact, "nordnamn.se").json["code"] == "claims_notice_required"
    assert _register(b_api, contact, "nord-name.fi").status_code == 202  # not a label of it
    api.delete(f"/api/v1/trademarks/{mark['id']}")
    at("2031-01-01T00:00:00")
    run(PERIODIC["trademarks.renew"].path)
    jobs.run_all()
    assert api.get(f"/api/v1/trademarks/{mark['id']}").json["status"] == "ended"
    assert _register(b_api, contact, "nordname.eu").status_code == 202


def test_whmcs_names_the_notice_and_takes_the_acknowledgement_as_a_domain_field(
        holder, other):
    _api, _mark = holder
    _reseller, b_api, _contact = other
    params = {"sld": "nordname", "tld": "net", "regperiod": 1, "firstname": "Maija",
              "lastname": "M", "email": "m@asiakas.example", "address1": "Katu 1",
              "city": "Espoo", "postcode": "02100", "countrycode": "FI",
              "fullphonenumber": "+358.401234567"}
    refused = b_api.post("/whmcs/v1/RegisterDomain", json=params)
    assert refused.status_code == 409 and refused.json["code"] == "claims_notice_required"
    error = refused.json["error"]
    assert "NordName (NordName Oy)" in error and "Claims Notice ID" in error
    notice_id = error.split("to ")[-1].split(" and register")[0]
    placed = b_api.post("/whmcs/v1/RegisterDomain", json={
        **params, "additionalfields": {"Claims Notice ID": notice_id}})
    assert placed.status_code == 200 and placed.json == {"success": True}


def test_the_client_area_shows_the_notice_and_asks_for_the_acknowledgement(
        holder, factory, client, jobs):
    _api, _mark = holder
    user = factory.user()
    fund(user.reseller_id, "100.00")
    contact = factory.api(user.reseller).post("/api/v1/contacts", json=CONTACT).json["id"]
    login(client, user)
    form = {"name": "nordname.eu", "period": "1", "registrant": str(contact)}
    page = client.post("/domains/register", data=form)
    text = page.get_data(as_text=True)
    assert page.status_code == 409
    assert "NordName Oy" in text and 'name="claims_acknowledged"' in text
    notice_id = text.split('name="claims_ack" value="')[1].split('"')[0]
    unticked = client.post("/domains/register", data={**form, "claims_ack": notice_id})
    assert unticked.status_code == 409  # the box is the acknowledgement
    done = client.post("/domains/register", data={**form, "claims_ack": notice_id,
                                                   "claims_acknowledged": "1"})
    assert done.status_code == 302 and "/orders/" in done.headers["Location"]


def _configure_zones(app, monkeypatch, tmp_path, **settings):
    for key, value in {"TRADEMARK_ZONE_SOURCE": "sandbox", "TRADEMARK_ZONE_TLDS": ("com",),
                       "TRADEMARK_ZONE_DIR": str(tmp_path / "zones"),
                       "TRADEMARK_SANDBOX_ZONE_SIZE": 3000, **settings}.items():
        monkeypatch.setitem(app.config, key, value)


def test_the_watch_job_diffs_daily_zone_files_and_reports_new_look_alikes(
        holder, app, monkeypatch, tmp_path, jobs):
    api, mark = holder
    _configure_zones(app, monkeypatch, tmp_path)
    job = PERIODIC["trademarks.watch"]
    assert "trademark" in job.name
    at("2026-11-20T06:00:00")
    first = run(job.path)
    assert first["com"] == 0  # the first file is the baseline: nothing is new yet
    found = 0
    for day in ("2026-11-21", "2026-11-22", "2026-11-23", "2026-11-24", "2026-11-25"):
        at(f"{day}T06:00:00")
        found += run(job.path)["com"]
        assert run(job.path) == {"tunnus": 0}  # the day's file is read once
    items = api.get(f"/api/v1/trademarks/{mark['id']}/matches?limit=200").json["items"]
    assert found == len(items) > 0
    assert {m["source"] for m in items} == {"zone:com"}
    assert all(m["name"].endswith(".com") and m["score"] >= 60 for m in items)
    assert {m["reason"] for m in items} <= set(REASONS)
    # Only yesterday's and today's sorted name lists are kept.
    assert len(list((tmp_path / "zones" / "com").glob("*.names.gz"))) == 2
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Event).where(
        Event.type == "trademark.match")) == len(items)


def test_a_zone_file_folder_is_a_source_too(holder, app, monkeypatch, tmp_path):
    api, mark = holder
    folder = tmp_path / "incoming"
    folder.mkdir()
    _configure_zones(app, monkeypatch, tmp_path, TRADEMARK_ZONE_SOURCE="directory",
                     TRADEMARK_ZONE_FILES=str(folder), TRADEMARK_ZONE_TLDS=("org",))

    def drop(*names):
        lines = ["org.\t86400\tin\tsoa\ta0.org.afilias-nst.info. noc. 1 2 3 4 5\n"]
        for name in names:
            lines += [f"{name}.org.\t86400\tin\tns\tns1.host.example.\n",
                      f"{name}.org.\t86400\tin\tns\tns2.host.example.\n"]
        with gzip.open(folder / "org.zone.gz", "wt") as handle:
            handle.writelines(lines)

    drop("alpha", "n0rdname", "beta")
    at("2026-11-20T06:00:00")
    assert watch.watch_zones(app.config, day=date(2026, 11, 20)) == {"org": 0}
    drop("alpha", "n0rdname", "beta", "nordname-shop", "gamma")
    assert watch.watch_zones(app.config, day=date(2026, 11, 21)) == {"org": 1}
    items = api.get(f"/api/v1/trademarks/{mark['id']}/matches").json["items"]
    assert [(m["name"], m["reason"], m["detail"]) for m in items] == [
        ("nordname-shop.org", "affix", "suffix shop")]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(TrademarkMatch)) == 1
