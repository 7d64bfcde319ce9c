"""Destructive actions say what will happen and what it costs, ask for confirmation (the
domain's name typed for a delete) and report the outcome in words."""

from __future__ import annotations

from datetime import timedelta

from lxml import html

from reseller.core.clock import clock
from reseller.domains.models import Domain, Order
from tests.support.domains import available, fund, install_catalogue, make_contact

PASSWORD = "correct horse battery"


def _signed_in(client, factory, language="en"):
    install_catalogue()
    user = factory.user(role="owner", language=language)
    fund(user.reseller, "100.00")
    client.post("/login", data={"email": user.email, "password": PASSWORD})
    return user


def _registered(client, user, jobs, name: str) -> None:
    contact = make_contact(user.reseller)
    answer = client.post("/domains/register", data={
        "name": name, "period": "1", "registrant": str(contact.id),
        "idempotency_key": f"safe-{name}"})
    assert answer.status_code == 302
    jobs.run_all()


def _status(name: str) -> str:
    return Domain.query.filter_by(name=name).one().status


def test_delete_asks_for_the_name_and_says_nothing_is_refunded(client, factory, jobs):
    user = _signed_in(client, factory)
    _registered(client, user, jobs, "poistettava.fi")
    assert 'href="/domains/poistettava.fi/delete"' in client.get(
        "/domains/poistettava.fi").get_data(as_text=True)

    page = client.get("/domains/poistettava.fi/delete").get_data(as_text=True)
    assert ".fi names cannot be restored" in page and "Nothing is refunded" in page

    refused = client.post("/domains/poistettava.fi/delete", data={"confirm_name": "poistettava"})
    assert refused.status_code == 422
    tree = html.fromstring(refused.get_data(as_text=True))
    field = tree.xpath("//input[@id='confirm_name']")[0]
    assert field.get("aria-invalid") == "true" and field.get("value") == "poistettava"
    error = tree.xpath(f"//*[@id='{field.get('aria-describedby')}']")[0]
    assert "Type the domain name exactly" in error.text_content()
    assert _status("poistettava.fi") == "active"

    done = client.post("/domains/poistettava.fi/delete",
                       data={"confirm_name": "  Poistettava.FI "}, follow_redirects=True)
    text = done.get_data(as_text=True)
    assert "poistettava.fi was deleted at the registry." in text and "Saved." not in text
    assert _status("poistettava.fi") == "deleted"


def test_delete_inside_the_add_grace_period_states_and_pays_the_refund(client, factory, jobs):
    user = _signed_in(client, factory)
    _registered(client, user, jobs, "hetkellinen.com")
    assert str(available(user.reseller)) != str(available(user.reseller).__class__.of("100.00"))
    page = client.get("/domains/hetkellinen.com/delete").get_data(as_text=True)
    assert "the registration is refunded" in page and "Refund: " in page
    assert "anyone may register it" in page

    done = client.post("/domains/hetkellinen.com/delete",
                       data={"confirm_name": "hetkellinen.com"}, follow_redirects=True)
    text = done.get_data(as_text=True)
    assert "hetkellinen.com was deleted at the registry." in text
    assert "The registration was refunded" in text
    assert available(user.reseller) == available(user.reseller).__class__.of("100.00")


def test_delete_after_the_add_grace_period_offers_redemption_at_its_price(client, factory, jobs):
    user = _signed_in(client, factory, language="fi")
    _registered(client, user, jobs, "lunastettava.com")
    clock.set_offset(timedelta(days=6))
    page = client.get("/domains/lunastettava.com/delete").get_data(as_text=True)
    assert "30 päivän ajan" in page and "Palautus maksaa" in page
    assert "Mitään ei hyvitetä" in page
    done = client.post("/domains/lunastettava.com/delete",
                       data={"confirm_name": "lunastettava.com"}, follow_redirects=True)
    assert "lunastettava.com poistettiin rekisteristä." in done.get_data(as_text=True)
    assert _status("lunastettava.com") == "redemption"


def test_outcome_of_a_setting_is_said_in_words(client, factory, jobs):
    user = _signed_in(client, factory, language="fi")
    _registered(client, user, jobs, "lukko.fi")
    done = client.post("/domains/lukko.fi/lock", data={"locked": "1"}, follow_redirects=True)
    assert "Verkkotunnus on nyt lukittu" in done.get_data(as_text=True)


def test_renewal_says_what_it_costs_and_until_when_before_anything_is_ordered(client, factory,
                                                                              jobs):
    user = _signed_in(client, factory)
    _registered(client, user, jobs, "jatkuva.fi")
    before = available(user.reseller)
    page = client.post("/domains/jatkuva.fi/renew", data={"period": "2",
                                                         "idempotency_key": "renew-2"})
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "jatkuva.fi is renewed for 2 year(s)" in text
    tree = html.fromstring(text)
    assert "Price:" in tree.xpath("//*[@id='price']")[0].text_content()
    assert tree.xpath("//input[@name='confirmed']") and \
        tree.xpath("//input[@name='period']")[0].get("value") == "2"
    assert Order.query.filter_by(kind="renew").count() == 0 and available(user.reseller) == before
    done = client.post("/domains/jatkuva.fi/renew", data={
        "period": "2", "idempotency_key": "renew-2", "confirmed": "1"}, follow_redirects=True)
    assert "Renewal of jatkuva.fi ordered." in done.get_data(as_text=True)
    assert Order.query.filter_by(kind="renew").one().period == 2


def test_auth_code_is_released_only_with_the_name_typed(client, factory, jobs):
    user = _signed_in(client, factory)
    _registered(client, user, jobs, "muuttava.fi")
    page = client.post("/domains/muuttava.fi/auth_code").get_data(as_text=True)
    assert "Whoever has it can move the domain" in page and 'class="secret"' not in page
    refused = client.post("/domains/muuttava.fi/auth_code",
                          data={"confirmed": "1", "confirm_name": "muuttava.se"})
    assert refused.status_code == 422 and 'class="secret"' not in refused.get_data(as_text=True)
    shown = client.post("/domains/muuttava.fi/auth_code",
                        data={"confirmed": "1", "confirm_name": "muuttava.fi"})
    assert 'class="secret"' in shown.get_data(as_text=True)


def test_a_transfer_in_shows_its_price_first_and_a_bad_name_by_its_field(client, factory):
    from tests.support.domains import sandbox

    _signed_in(client, factory)
    sandbox().seed_foreign(name="tulossa.com", auth_code="K-1")
    bad = client.post("/transfers", data={"name": "huono_nimi.fi", "auth_code": "x"})
    assert bad.status_code == 422
    field = html.fromstring(bad.get_data(as_text=True)).xpath("//input[@id='name']")[0]
    assert field.get("value") == "huono_nimi.fi" and field.get("aria-invalid") == "true"
    page = client.post("/transfers", data={"name": "Tulossa.COM", "auth_code": "K-1",
                                           "idempotency_key": "tr-1"})
    text = page.get_data(as_text=True)
    assert "A transfer of .com adds one year" in text and "Confirm and pay" in text
    assert Order.query.count() == 0
    done = client.post("/transfers", data={"name": "tulossa.com", "auth_code": "K-1",
                                           "idempotency_key": "tr-1", "confirmed": "1"})
    assert done.status_code == 302 and Order.query.filter_by(kind="transfer").count() == 1


def test_a_refused_setting_is_said_in_words_without_field_paths(client, factory, jobs):
    user = _signed_in(client, factory)
    _registered(client, user, jobs, "sanoin.fi")
    page = client.post("/domains/sanoin.fi/nameservers", data={"nameservers": "ei_kelpaa"},
                       follow_redirects=True).get_data(as_text=True)
    assert "Nameservers: " in page
    assert "Correct the fields listed in errors" not in page and "nameservers:" not in page


def test_a_transfer_out_is_released_only_with_the_name_typed_or_refused_at_once(client,
                                                                                 factory, jobs):
    from tests.support.domains import sandbox

    user = _signed_in(client, factory)
    for name in ("lahtija.fi", "pysyja.fi"):
        _registered(client, user, jobs, name)
        code = client.post(f"/domains/{name}/auth_code", data={
            "confirmed": "1", "confirm_name": name}).get_data(as_text=True)
        auth = html.fromstring(code).xpath("//code[@class='secret']")[0].text
        sandbox().simulate_transfer_out(name=name, auth_code=auth)
    client.application.test_cli_runner().invoke(args=["jobs", "run", "domains.transfers"])
    page = client.get("/domains/lahtija.fi").get_data(as_text=True)
    assert 'id="transfer-out"' in page
    asked = client.post("/domains/lahtija.fi/transfer_out", data={"approve": "1"})
    assert "moves to the registrar that asked for it" in asked.get_data(as_text=True)
    refused = client.post("/domains/lahtija.fi/transfer_out",
                          data={"approve": "1", "confirmed": "1", "confirm_name": "pysyja.fi"})
    assert refused.status_code == 422 and _status("lahtija.fi") == "active"
    released = client.post("/domains/lahtija.fi/transfer_out", data={
        "approve": "1", "confirmed": "1", "confirm_name": "lahtija.fi"}, follow_redirects=True)
    assert "lahtija.fi was released to the other registrar." in released.get_data(as_text=True)
    assert _status("lahtija.fi") == "transferred_out"
    kept = client.post("/domains/pysyja.fi/transfer_out", data={"approve": "0"},
                       follow_redirects=True)
    assert "was refused: it stays here" in kept.get_data(as_text=True)
    assert _status("pysyja.fi") == "active"
