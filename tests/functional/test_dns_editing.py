"""DNS like the best panels: a record edited in place in one change (against the version
the page showed), errors in words beside the field or naming the record, and a warning
when the domain is not delegated to the nameservers serving its zone."""

from __future__ import annotations

from lxml import html

from reseller.dns.models import Zone
from reseller.dns.settings import dns_settings
from tests.functional.test_client_area import login


def _zone(client, factory, name="muokkaus.example", *, nameservers=None, language="en"):
    user = factory.user(role="technical", language=language)
    factory.domain(user.reseller, name, nameservers=nameservers)
    login(client, user)
    assert client.post("/dns", data={"name": name}).status_code == 302
    assert client.post(f"/dns/{name}", data={
        "action": "add", "name": "www", "type": "A", "ttl": "300",
        "value": "192.0.2.7"}).status_code == 302
    return user


def _serial(name):
    return str(Zone.query.filter_by(name=name).one().serial)


def _records(name):
    zone = Zone.query.filter_by(name=name).one()
    return {(r.name, r.type, r.ttl, r.value) for r in zone.records}


def test_a_record_is_edited_in_place_in_one_change(client, factory):
    _zone(client, factory)
    page = html.fromstring(client.get("/dns/muokkaus.example").get_data(as_text=True))
    form = page.xpath("//form[input[@name='action' and @value='edit']]"
                      "[input[@name='old_value' and @value='192.0.2.7']]")[0]
    assert form.xpath(".//input[@name='value']")[0].get("value") == "192.0.2.7"
    edited = client.post("/dns/muokkaus.example", data={
        "action": "edit", "serial": _serial("muokkaus.example"), "old_name": "www",
        "old_type": "A", "old_value": "192.0.2.7",
        "name": "www", "type": "A", "ttl": "600", "value": "192.0.2.8"}, follow_redirects=True)
    assert "Record changed: www A 600 192.0.2.8." in edited.get_data(as_text=True)
    records = _records("muokkaus.example")
    assert ("www", "A", 600, "192.0.2.8") in records
    assert not any(r[3] == "192.0.2.7" for r in records)


def test_an_edit_against_an_older_version_is_refused_and_changes_nothing(client, factory):
    _zone(client, factory)
    stale = _serial("muokkaus.example")
    client.post("/dns/muokkaus.example", data={
        "action": "add", "name": "mail", "type": "A", "ttl": "300", "value": "192.0.2.9"})
    refused = client.post("/dns/muokkaus.example", data={
        "action": "edit", "serial": stale, "old_name": "www", "old_type": "A",
        "old_value": "192.0.2.7", "name": "www", "type": "A", "ttl": "300",
        "value": "192.0.2.8"})
    assert refused.status_code == 422
    assert "Someone changed the zone after this page was loaded" in refused.get_data(as_text=True)
    assert ("www", "A", 300, "192.0.2.7") in _records("muokkaus.example")


def test_a_ttl_change_carries_the_rrset_and_errors_name_the_field(client, factory):
    _zone(client, factory, language="fi")
    client.post("/dns/muokkaus.example", data={
        "action": "add", "name": "www", "type": "A", "ttl": "300", "value": "192.0.2.10"})
    client.post("/dns/muokkaus.example", data={
        "action": "edit", "serial": _serial("muokkaus.example"), "old_name": "www",
        "old_type": "A", "old_value": "192.0.2.7",
        "name": "www", "type": "A", "ttl": "900", "value": "192.0.2.7"})
    assert {r[2] for r in _records("muokkaus.example") if r[0] == "www"} == {900}

    bad = client.post("/dns/muokkaus.example", data={
        "action": "edit", "serial": _serial("muokkaus.example"), "old_name": "www",
        "old_type": "A", "old_value": "192.0.2.7",
        "name": "www", "type": "A", "ttl": "900", "value": "192.0.2.999"})
    assert bad.status_code == 422
    text = bad.get_data(as_text=True)
    assert "records." not in text and "edit.0" not in text
    tree = html.fromstring(text)
    value = [i for i in tree.xpath("//input[@name='value']") if i.get("aria-invalid")][0]
    assert value.get("value") == "192.0.2.999"
    error = tree.xpath(f"//*[@id='{value.get('aria-describedby').split()[-1]}']")[0]
    assert error.text_content().strip()
    assert value.xpath("ancestor::details")[0].get("open") is not None


def test_a_clash_with_another_record_names_that_record_in_words(client, factory):
    _zone(client, factory)
    clash = client.post("/dns/muokkaus.example", data={
        "action": "add", "name": "www", "type": "CNAME", "ttl": "300", "value": "x.example."})
    assert clash.status_code == 422
    text = clash.get_data(as_text=True)
    assert "records." not in text
    assert "CNAME cannot share its name" in text


def test_a_domain_delegated_elsewhere_is_warned_about_with_a_fix(client, factory):
    _zone(client, factory, nameservers=["ns1.muualla.example", "ns2.muualla.example"])
    page = client.get("/dns/muokkaus.example").get_data(as_text=True)
    tree = html.fromstring(page)
    warning = tree.xpath("//*[@id='delegation']")[0].text_content()
    assert "ns1.muualla.example" in warning and "not to the nameservers serving" in warning
    assert "but not in use" in page or "being published" in page
    assert ">Published.<" not in page and "Published. ·" not in page
    fix = tree.xpath("//*[@id='delegation']//form")[0]
    assert fix.get("action") == "/domains/muokkaus.example/nameservers"
    assert fix.xpath(".//input[@name='nameservers']")[0].get("value") == \
        " ".join(dns_settings().nameservers)


def test_a_domain_delegated_to_the_serving_nameservers_has_no_warning(client, factory):
    with client.application.app_context():
        serving = list(dns_settings().nameservers)
    _zone(client, factory, nameservers=[f"{ns}." for ns in serving])
    assert 'id="delegation"' not in client.get("/dns/muokkaus.example").get_data(as_text=True)
