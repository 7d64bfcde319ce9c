"""The sandbox registry's EPP server, driven over TLS like a registrar would: every
response frame is checked against the IETF schemas by the test connection (see
``tests.support.epp``), and the server runs on a committed database (PostgreSQL or,
for the smoke-marked tests in ``make test``'s second pass, SQLite)."""

import ssl
from datetime import timedelta

import pytest

from reseller.core.clock import clock
from reseller.core.db import unit_of_work
from reseller.registry.epp import wire
from reseller.registry.epp.iis import IIS_URI
from reseller.registry.epp.server.frames import FEE_URI
from tests.support.epp import NS

CONTACTS = ("<domain:registrant>TNREG1</domain:registrant>"
            '<domain:contact type="admin">TNADM1</domain:contact>'
            '<domain:contact type="tech">TNTEC1</domain:contact>')


def check(*names: str) -> str:
    return "<check><domain:check>" + "".join(
        f"<domain:name>{n}</domain:name>" for n in names) + "</domain:check></check>"


def create(name: str, *, years: int = 1, ns: tuple[str, ...] = ("ns1.example.net",),
           pw: str = "Salasana-1") -> str:
    hosts = "".join(f"<domain:hostObj>{h}</domain:hostObj>" for h in ns)
    return (f'<create><domain:create><domain:name>{name}</domain:name>'
            f'<domain:period unit="y">{years}</domain:period>'
            f"{'<domain:ns>' + hosts + '</domain:ns>' if ns else ''}{CONTACTS}"
            f"<domain:authInfo><domain:pw>{pw}</domain:pw></domain:authInfo>"
            f"</domain:create></create>")


def info(name: str, pw: str | None = None) -> str:
    auth = f"<domain:authInfo><domain:pw>{pw}</domain:pw></domain:authInfo>" if pw else ""
    return f"<info><domain:info><domain:name>{name}</domain:name>{auth}</domain:info></info>"


def update(name: str, body: str) -> str:
    return (f"<update><domain:update><domain:name>{name}</domain:name>{body}"
            f"</domain:update></update>")


def transfer(op: str, name: str, pw: str | None = None) -> str:
    auth = f"<domain:authInfo><domain:pw>{pw}</domain:pw></domain:authInfo>" if pw else ""
    return (f'<transfer op="{op}"><domain:transfer><domain:name>{name}</domain:name>'
            f"{auth}</domain:transfer></transfer>")


# -- session ------------------------------------------------------------------------------
@pytest.mark.smoke
def test_greeting_hello_login_and_logout(epp_server):
    with epp_server.open() as epp:
        menu = epp.greeting.find("epp:greeting/epp:svcMenu", NS)
        assert menu.findtext("epp:version", namespaces=NS) == "1.0"
        assert [e.text for e in menu.findall("epp:objURI", NS)] == [
            NS["domain"], NS["host"], NS["contact"]]
        assert {e.text for e in menu.findall("epp:svcExtension/epp:extURI", NS)} == {
            NS["secDNS"], NS["rgp"], FEE_URI, IIS_URI}  # iis-1.2: .se/.nu contacts
        assert epp.hello().find("epp:greeting", NS) is not None
        assert epp.login().code == 1000
        assert epp.login().code == 2002  # already logged in
        result = epp.command(check("vapaa-nimi.fi"))
        assert result.code == 1000
        assert result.find("domain:name").get("avail") == "1"
        assert epp.logout().code == 1500
        with pytest.raises(wire.ConnectionClosed):
            wire.read_frame(epp.sock)


def test_commands_before_login_are_a_use_error(epp_server):
    with epp_server.open() as epp:
        result = epp.command(check("vapaa.fi"), cltrid="BEFORE-LOGIN-1")
        assert (result.code, result.text("epp:clTRID")) == (2002, "BEFORE-LOGIN-1")
        assert result.text("epp:svTRID").startswith("TN-")


def test_bad_password_is_an_authentication_error_and_three_close(epp_server):
    with epp_server.open() as epp:
        assert epp.login(password="wrong-pw1").code == 2200
        assert epp.login(password="wrong-pw2").code == 2200
        assert epp.login(password="wrong-pw3").code == 2501
        with pytest.raises(wire.ConnectionClosed):
            wire.read_frame(epp.sock)


def test_unknown_object_service_or_extension_is_refused(epp_server):
    with epp_server.open() as epp:
        assert epp.login(objects=("urn:ietf:params:xml:ns:org-1.0",)).code == 2307
        assert epp.login(extensions=("urn:example:unknown-1.0",)).code == 2103
        assert epp.login().code == 1000


def test_each_answer_has_its_own_server_transaction_id(epp_server):
    with epp_server.connect() as epp:
        ids = {epp.command(check("a-nimi.fi")).text("epp:svTRID") for _ in range(3)}
    assert len(ids) == 3


# -- domains ------------------------------------------------------------------------------
@pytest.mark.smoke
def test_create_info_renew_and_delete_round_trip(epp_server):
    with epp_server.connect() as epp:
        created = epp.command(create("kierros.fi", years=2))
        assert created.code == 1000, created.message
        assert created.text("domain:name") == "kierros.fi"
        assert epp.command(check("kierros.fi")).find("domain:name").get("avail") == "0"
        found = epp.command(info("kierros.fi"))
        assert found.code == 1000
        assert found.text("domain:registrant") == "TNREG1"
        assert found.texts("domain:hostObj") == ["ns1.example.net"]
        assert found.text("domain:clID") == "tunnus"
        assert found.text("domain:authInfo/domain:pw") == "Salasana-1"
        assert [s.get("s") for s in found.root.iterfind(".//domain:status", NS)] == ["ok"]
        expiry = found.text("domain:exDate")[:10]
        renewed = epp.command(
            f"<renew><domain:renew><domain:name>kierros.fi</domain:name>"
            f"<domain:curExpDate>{expiry}</domain:curExpDate>"
            f'<domain:period unit="y">1</domain:period></domain:renew></renew>')
        assert renewed.code == 1000, renewed.message
        assert int(renewed.text("domain:exDate")[:4]) == int(expiry[:4]) + 1
        deleted = epp.command("<delete><domain:delete><domain:name>kierros.fi</domain:name>"
                              "</domain:delete></delete>")
        assert deleted.code == 1000
        assert epp.command(info("kierros.fi")).code == 2303


def test_renew_with_the_wrong_current_expiry_is_a_policy_error(epp_server):
    with epp_server.connect() as epp:
        epp.command(create("uusinta.fi"))
        result = epp.command(
            "<renew><domain:renew><domain:name>uusinta.fi</domain:name>"
            "<domain:curExpDate>2001-01-01</domain:curExpDate></domain:renew></renew>")
    assert result.code == 2306


def test_a_repeated_client_transaction_id_answers_from_the_record(epp_server):
    with epp_server.connect() as epp:
        first = epp.command(create("kahdesti.fi"), cltrid="SAME-CREATE-1")
        again = epp.command(create("kahdesti.fi"), cltrid="SAME-CREATE-1")
        other = epp.command(create("kahdesti.fi"), cltrid="OTHER-CREATE-1")
    assert (first.code, again.code, other.code) == (1000, 1000, 2302)
    assert first.text("domain:exDate") == again.text("domain:exDate")


def test_update_maps_statuses_contacts_nameservers_ds_and_auth_code(epp_server):
    ds = ("<secDNS:dsData><secDNS:keyTag>12345</secDNS:keyTag><secDNS:alg>13</secDNS:alg>"
          "<secDNS:digestType>2</secDNS:digestType><secDNS:digest>" + "AB" * 32 +
          "</secDNS:digest></secDNS:dsData>")
    with epp_server.connect() as epp:
        epp.command(create("paivitys.fi"))
        result = epp.command(update("paivitys.fi", (
            "<domain:add><domain:ns><domain:hostObj>ns2.example.net</domain:hostObj></domain:ns>"
            '<domain:contact type="tech">TNTEC2</domain:contact>'
            '<domain:status s="clientTransferProhibited"/><domain:status s="clientHold"/>'
            "</domain:add><domain:rem><domain:ns><domain:hostObj>ns1.example.net"
            "</domain:hostObj></domain:ns></domain:rem><domain:chg>"
            "<domain:registrant>TNREG2</domain:registrant><domain:authInfo><domain:pw>"
            "Uusi-koodi-9</domain:pw></domain:authInfo></domain:chg>")),
            extension=f"<secDNS:update><secDNS:add>{ds}</secDNS:add></secDNS:update>")
        assert result.code == 1000, result.message
        found = epp.command(info("paivitys.fi"))
        assert {s.get("s") for s in found.root.iterfind(".//domain:status", NS)} == {
            "clientTransferProhibited", "clientHold"}
        assert found.texts("domain:hostObj") == ["ns2.example.net"]
        assert found.find('domain:contact[@type="tech"]').text == "TNTEC2"
        assert found.text("domain:registrant") == "TNREG2"
        assert found.text("domain:authInfo/domain:pw") == "Uusi-koodi-9"
        assert found.text("secDNS:keyTag") == "12345"
        result = epp.command(update("paivitys.fi", (
            '<domain:rem><domain:status s="clientTransferProhibited"/></domain:rem>')),
            extension="<secDNS:update><secDNS:rem><secDNS:all>true</secDNS:all></secDNS:rem>"
                      "</secDNS:update>")
        assert result.code == 1000, result.message
        found = epp.command(info("paivitys.fi"))
        assert {s.get("s") for s in found.root.iterfind(".//domain:status", NS)} == {
            "clientHold"}
        assert found.find("secDNS:infData") is None


def test_an_update_that_fails_changes_nothing(epp_server):
    with epp_server.connect() as epp:
        epp.command(create("kokonaan.fi"))
        result = epp.command(update("kokonaan.fi", (
            "<domain:add><domain:ns><domain:hostObj>ns9.example.net</domain:hostObj>"
            '</domain:ns><domain:status s="serverHold"/></domain:add>')))
        assert result.code == 2306
        assert epp.command(info("kokonaan.fi")).texts("domain:hostObj") == ["ns1.example.net"]


REPORT = """<rgp:update><rgp:restore op="report"><rgp:report>
  <rgp:preData>Domain Name: takaisin.com</rgp:preData>
  <rgp:postData>Domain Name: takaisin.com</rgp:postData>
  <rgp:delTime>{deleted}</rgp:delTime><rgp:resTime>{restored}</rgp:resTime>
  <rgp:resReason>Registrant error.</rgp:resReason>
  <rgp:statement>This registrar has not restored the Registered Name in order to assume the
    rights to use or sell the Registered Name for itself or for any third party.</rgp:statement>
  <rgp:statement>The information in this report is true to best of this registrar's
    knowledge.</rgp:statement>
</rgp:report></rgp:restore></rgp:update>"""


@pytest.fixture
def later_clock(epp_server):
    """Lets a test move the sandbox clock past the add grace period; set back after."""
    yield
    with epp_server.app.app_context(), unit_of_work():
        clock.set_offset(timedelta(0))


def later(epp_server, days: int = 6) -> None:
    with epp_server.app.app_context(), unit_of_work():
        clock.set_offset(timedelta(days=days))


def statuses(found):
    return [s.get("s") for s in found.root.iterfind(".//domain:status", NS)]


def test_a_delete_in_the_add_grace_period_is_1000_and_later_1001(epp_server, later_clock):
    with epp_server.connect() as epp:
        epp.command(create("heti.com"))
        gone = epp.command("<delete><domain:delete><domain:name>heti.com</domain:name>"
                           "</domain:delete></delete>")
        assert gone.code == 1000  # inside the add grace period: deleted at once
        assert epp.command(info("heti.com")).code == 2303
        epp.command(create("takaisin.com"))
        later(epp_server)
        pending = epp.command("<delete><domain:delete><domain:name>takaisin.com"
                              "</domain:name></domain:delete></delete>")
        assert pending.code == 1001


def test_restore_is_a_request_then_its_report(epp_server, later_clock):
    with epp_server.connect() as epp:
        epp.command(create("takaisin.com"))
        later(epp_server)  # past the add grace period
        epp.command("<delete><domain:delete><domain:name>takaisin.com</domain:name>"
                    "</domain:delete></delete>")
        found = epp.command(info("takaisin.com"))
        assert statuses(found) == ["pendingDelete"]
        assert found.find("rgp:rgpStatus").get("s") == "redemptionPeriod"
        early = epp.command(update("takaisin.com", "<domain:chg/>"), extension=REPORT.format(
            deleted="2026-01-01T00:00:00Z", restored="2026-01-02T00:00:00Z"))
        assert early.code == 2304  # a report needs its request first
        requested = epp.command(update("takaisin.com", "<domain:chg/>"),
                                extension='<rgp:update><rgp:restore op="request"/>'
                                          '</rgp:update>')
        assert requested.code == 1000, requested.message
        waiting = epp.command(info("takaisin.com"))
        assert statuses(waiting) == ["pendingDelete"]  # not restored without the report
        assert waiting.find("rgp:rgpStatus").get("s") == "pendingRestore"
        now = clock.now().replace(microsecond=0)
        reported = epp.command(update("takaisin.com", "<domain:chg/>"), extension=REPORT.format(
            deleted=(now - timedelta(hours=1)).isoformat().replace("+00:00", "Z"),
            restored=now.isoformat().replace("+00:00", "Z")))
        assert reported.code == 1000, reported.message
        assert statuses(epp.command(info("takaisin.com"))) == ["ok"]


def test_someone_elses_name_shows_little_without_its_auth_code(epp_server):
    epp_server.seed_foreign("vieras.fi", "Vieras-koodi1")
    with epp_server.connect() as epp:
        bare = epp.command(info("vieras.fi"))
        assert bare.text("domain:clID") == "other-registrar"
        assert bare.find("domain:exDate") is None
        assert epp.command(info("vieras.fi", "vaara-koodi")).code == 2202
        full = epp.command(info("vieras.fi", "Vieras-koodi1"))
        assert full.text("domain:exDate") and full.find("domain:authInfo") is None
        assert epp.command(update("vieras.fi", "<domain:chg/>")).code == 2201


def test_premium_prices_come_with_the_fee_extension_only_when_asked_for(epp_server):
    with epp_server.connect() as plain:
        assert plain.command(check("kauppa.fi")).find("fee:chkData") is None
    with epp_server.connect(extensions=(FEE_URI,)) as epp:
        result = epp.command(check("kauppa.fi", "tavallinen.fi"))
        assert result.text("fee:currency") == "EUR"
        premium, standard = result.root.iterfind(".//fee:cd", NS)
        assert premium.findtext("fee:class", namespaces=NS) == "premium"
        assert premium.findtext("fee:command/fee:fee", namespaces=NS) == "250.00"
        assert standard.findtext("fee:class", namespaces=NS) == "standard"
        asked = epp.command(check("kauppa.fi"), extension=(
            '<fee:check><fee:command name="renew"><fee:period unit="y">2</fee:period>'
            "</fee:command></fee:check>"))
        assert asked.find("fee:command").get("name") == "renew"
        assert asked.text("fee:fee") == "500.00"
        dollars = epp.command(check("kauppa.fi"), extension=(
            '<fee:check><fee:currency>USD</fee:currency><fee:command name="create"/>'
            "</fee:check>"))
        assert dollars.code == 2306


# -- transfers and the message queue ------------------------------------------------------
def test_transfer_request_approve_and_poll_between_two_registrars(epp_server):
    with epp_server.connect() as ours:
        ours.command(create("siirto.fi", pw="Siirto-koodi1"))
    with epp_server.connect(epp_server.other_client_id) as theirs:
        assert theirs.command(transfer("request", "siirto.fi", "vaara")).code == 2202
        asked = theirs.command(transfer("request", "siirto.fi", "Siirto-koodi1"))
        assert asked.code == 1001, asked.message
        assert asked.text("domain:trStatus") == "pending"
        assert (asked.text("domain:reID"), asked.text("domain:acID")) == (
            "other-registrar", "tunnus")
        with epp_server.connect() as ours:
            message = ours.command('<poll op="req"/>')
            assert message.code == 1301
            queue = message.find("epp:msgQ")
            assert queue.get("count") == "1" and message.text("epp:qDate")
            assert message.text("domain:trStatus") == "pending"
            assert ours.command(transfer("query", "siirto.fi")).text("domain:trStatus") == (
                "pending")
            approved = ours.command(transfer("approve", "siirto.fi"))
            assert approved.code == 1000, approved.message
            assert approved.text("domain:trStatus") == "clientApproved"
            assert approved.text("domain:acID") == "tunnus"
            ack = ours.command(f'<poll op="ack" msgID="{queue.get("id")}"/>')
            assert ack.code == 1000
        news = theirs.command('<poll op="req"/>')
        assert news.code == 1301 and news.text("domain:trStatus") == "clientApproved"
        assert theirs.command(f'<poll op="ack" msgID="{news.find("epp:msgQ").get("id")}"/>'
                              ).code == 1000
        assert theirs.command('<poll op="req"/>').code == 1300
        assert theirs.command(info("siirto.fi")).text("domain:clID") == "other-registrar"


def test_transfer_reject_and_unknown_message_ack(epp_server):
    epp_server.seed_foreign("hylatty.fi", "Hylky-koodi1")
    with epp_server.connect() as ours:
        assert ours.command(transfer("request", "hylatty.fi", "Hylky-koodi1")).code == 1001
        with epp_server.connect(epp_server.other_client_id) as theirs:
            rejected = theirs.command(transfer("reject", "hylatty.fi"))
            assert rejected.text("domain:trStatus") == "clientRejected"
        assert ours.command(transfer("approve", "hylatty.fi")).code == 2201
        news = ours.command('<poll op="req"/>')
        assert news.text("domain:trStatus") == "clientRejected"
        assert ours.command('<poll op="ack" msgID="999999"/>').code == 2303



# -- hosts and contacts -------------------------------------------------------------------
def test_host_create_info_update_and_delete(epp_server):
    with epp_server.connect() as epp:
        created = epp.command('<create><host:create><host:name>ns1.oma.fi</host:name>'
                              '<host:addr ip="v4">192.0.2.10</host:addr>'
                              '<host:addr ip="v6">2001:db8::10</host:addr></host:create></create>')
        assert created.code == 1000, created.message
        check = epp.command("<check><host:check><host:name>ns1.oma.fi</host:name>"
                            "<host:name>ns2.oma.fi</host:name></host:check></check>")
        assert [n.get("avail") for n in check.root.iterfind(".//host:name", NS)] == ["0", "1"]
        updated = epp.command('<update><host:update><host:name>ns1.oma.fi</host:name>'
                              '<host:add><host:addr ip="v4">192.0.2.11</host:addr></host:add>'
                              '<host:rem><host:addr ip="v6">2001:db8::10</host:addr></host:rem>'
                              "</host:update></update>")
        assert updated.code == 1000, updated.message
        found = epp.command("<info><host:info><host:name>ns1.oma.fi</host:name></host:info>"
                            "</info>")
        assert found.texts("host:addr") == ["192.0.2.10", "192.0.2.11"]
        assert found.text("host:clID") == "tunnus"
        bad = epp.command('<create><host:create><host:name>ns3.oma.fi</host:name>'
                          '<host:addr ip="v6">192.0.2.1</host:addr></host:create></create>')
        assert bad.code == 2005
        deleted = epp.command("<delete><host:delete><host:name>ns1.oma.fi</host:name>"
                              "</host:delete></delete>")
        assert deleted.code == 1000
        assert epp.command("<info><host:info><host:name>ns1.oma.fi</host:name></host:info>"
                           "</info>").code == 2303


CONTACT_CREATE = (
    "<create><contact:create><contact:id>TNC0FFEE01</contact:id>"
    '<contact:postalInfo type="loc"><contact:name>Maija Meikäläinen</contact:name>'
    "<contact:org>Asiakas Oy</contact:org><contact:addr>"
    "<contact:street>Mannerheimintie 2</contact:street><contact:city>Helsinki</contact:city>"
    "<contact:pc>00100</contact:pc><contact:cc>FI</contact:cc></contact:addr>"
    "</contact:postalInfo><contact:voice>+358.401234567</contact:voice>"
    "<contact:email>maija@asiakas.example</contact:email><contact:authInfo>"
    "<contact:pw>Kontakti-1</contact:pw></contact:authInfo></contact:create></create>")


def test_contact_create_info_and_update_round_trip_the_sandbox_data(epp_server):
    with epp_server.connect() as epp:
        assert epp.command(CONTACT_CREATE).code == 1000
        assert epp.command(CONTACT_CREATE).code == 2302
        updated = epp.command(
            "<update><contact:update><contact:id>TNC0FFEE01</contact:id><contact:chg>"
            "<contact:email>uusi@asiakas.example</contact:email></contact:chg>"
            "</contact:update></update>")
        assert updated.code == 1000, updated.message
        found = epp.command("<info><contact:info><contact:id>TNC0FFEE01</contact:id>"
                            "</contact:info></info>")
        assert found.find("contact:postalInfo").get("type") == "loc"
        assert found.text("contact:name") == "Maija Meikäläinen"
        assert found.text("contact:street") == "Mannerheimintie 2"
        assert found.text("contact:voice") == "+358.401234567"
        assert found.text("contact:email") == "uusi@asiakas.example"
        assert found.text("contact:pw") == "Kontakti-1"
        assert epp.command("<delete><contact:delete><contact:id>TNC0FFEE01</contact:id>"
                           "</contact:delete></delete>").code == 2101
    with epp_app_context(epp_server):
        data = epp_server.registry().contact_info("TNC0FFEE01").data
    assert data["postal_code"] == "00100" and data["country"] == "FI"
    with epp_server.connect(epp_server.other_client_id) as theirs:
        result = theirs.command(
            "<update><contact:update><contact:id>TNC0FFEE01</contact:id><contact:chg>"
            "<contact:email>x@example.com</contact:email></contact:chg>"
            "</contact:update></update>")
        assert result.code == 2201


def epp_app_context(epp_server):
    return epp_server.app.app_context()


# -- faults -------------------------------------------------------------------------------
def test_a_dropped_answer_leaves_the_command_done_and_the_repeat_answers(epp_server):
    epp_server.inject("create", "drop")
    with epp_server.connect() as epp:
        epp.send_raw(create_frame("pudonnut.fi", "DROPPED-CREATE-1"))
        with pytest.raises(wire.ConnectionClosed):
            wire.read_frame(epp.sock)
    with epp_server.connect() as epp:
        assert epp.command(info("pudonnut.fi")).code == 1000
        assert epp.command(create("pudonnut.fi"), cltrid="DROPPED-CREATE-1").code == 1000


def test_an_unavailable_registry_answers_command_failed(epp_server):
    epp_server.inject("create", "unavailable")
    with epp_server.connect() as epp:
        assert epp.command(create("kaatuu.fi")).code == 2400
        assert epp.command(create("kaatuu.fi")).code == 1000


def create_frame(name: str, cltrid: str) -> bytes:
    return (f'<epp xmlns="{NS["epp"]}" xmlns:domain="{NS["domain"]}"><command>{create(name)}'
            f"<clTRID>{cltrid}</clTRID></command></epp>").encode()


# -- hostile input and limits -------------------------------------------------------------
@pytest.mark.parametrize("frame", [
    b'<!DOCTYPE epp [<!ENTITY x "boom">]><epp xmlns="urn:ietf:params:xml:ns:epp-1.0">&x;</epp>',
    b"<epp xmlns='urn:ietf:params:xml:ns:epp-1.0'><hello>",
    b"<html/>",
])
def test_hostile_frames_are_refused_and_the_server_keeps_serving(epp_server, frame):
    with epp_server.connect() as epp:
        epp.send_raw(frame)
        refused = epp.read()
        assert refused.find("epp:response/epp:result", NS).get("code") == "2001"
        with pytest.raises(wire.ConnectionClosed):
            wire.read_frame(epp.sock)
    with epp_server.connect() as other:
        assert other.command(check("yha-toimii.fi")).code == 1000


def test_an_oversized_frame_is_refused_before_it_is_read(epp_server):
    with epp_server.connect() as epp:
        epp.sock.sendall(wire.HEADER.pack(wire.MAX_FRAME + 1) + b"<epp")
        refused = epp.read()
        assert refused.find("epp:response/epp:result", NS).get("code") == "2001"
    with epp_server.connect() as other:
        assert other.command(check("yha-toimii.fi")).code == 1000


def test_a_schema_invalid_command_is_a_syntax_error_and_the_session_goes_on(epp_server):
    with epp_server.connect() as epp:
        epp.send_raw(f'<epp xmlns="{NS["epp"]}"><command><check><domain:check '
                     f'xmlns:domain="{NS["domain"]}"><domain:nimi>x.fi</domain:nimi>'
                     f"</domain:check></check><clTRID>INVALID-1</clTRID></command></epp>"
                     .encode())
        refused = epp.read()
        assert refused.find("epp:response/epp:result", NS).get("code") == "2001"
        assert epp.command(check("jatkuu.fi")).code == 1000


def test_a_client_certificate_from_the_client_ca_is_required(epp_server):
    for tls in ({"present_certificate": False},
                {"cert": epp_server.pki.stranger_cert, "key": epp_server.pki.stranger_key}):
        with pytest.raises((ssl.SSLError, ConnectionError, wire.ConnectionClosed)):
            epp_server.open(**tls)
    assert epp_server.open().greeting is not None


def test_without_a_client_ca_no_client_certificate_is_needed(epp_server_factory):
    server = epp_server_factory(client_ca=False)
    with server.open(present_certificate=False) as epp:
        assert epp.login().code == 1000


def test_an_idle_connection_is_closed(epp_server_factory):
    server = epp_server_factory(idle_timeout=0.3)
    with server.connect() as epp:
        epp.sock.settimeout(5)
        with pytest.raises(wire.ConnectionClosed):
            wire.read_frame(epp.sock)


def test_connections_beyond_the_bound_are_closed(epp_server_factory):
    server = epp_server_factory(max_connections=1)
    with server.connect() as first:
        with pytest.raises((ssl.SSLError, ConnectionError, wire.ConnectionClosed, OSError)):
            server.open()
        assert first.command(check("yksi.fi")).code == 1000


def test_a_premium_create_with_too_low_an_agreed_fee_is_refused(epp_server):
    def fee(amount: str) -> str:
        return f"<fee:create><fee:currency>EUR</fee:currency><fee:fee>{amount}</fee:fee></fee:create>"

    with epp_server.connect(extensions=(FEE_URI,)) as epp:
        assert epp.command(create("pizza.fi"), extension=fee("100.00")).code == 2004
        assert epp.command(create("pizza.fi"), extension=fee("180.00")).code == 1000


def test_a_premium_command_needs_the_fee_and_answers_with_the_fee_charged(epp_server):
    def fee(command: str, amount: str) -> str:
        return (f"<fee:{command}><fee:currency>EUR</fee:currency><fee:fee>{amount}</fee:fee>"
                f"</fee:{command}>")

    with epp_server.connect(extensions=(FEE_URI,)) as epp:
        assert epp.command(create("hotelli.fi")).code == 2003  # not acknowledged
        created = epp.command(create("hotelli.fi"), extension=fee("create", "250.00"))
        assert created.code == 1000 and created.text("fee:fee") == "250.00"
        expiry = created.text("domain:exDate")[:10]
        renew = (f"<renew><domain:renew><domain:name>hotelli.fi</domain:name>"
                 f"<domain:curExpDate>{expiry}</domain:curExpDate>"
                 '<domain:period unit="y">2</domain:period></domain:renew></renew>')
        assert epp.command(renew, extension=fee("renew", "499.99")).code == 2004
        renewed = epp.command(renew, extension=fee("renew", "500.00"))
        assert renewed.code == 1000 and renewed.find("fee:renData") is not None
        standard = epp.command(create("tavallinen-hotelli.fi"))
        assert standard.code == 1000 and standard.find("fee:creData") is None


def test_a_host_a_domain_uses_cannot_be_deleted(epp_server):
    with epp_server.connect() as epp:
        epp.command("<create><host:create><host:name>ns1.kaytossa.fi</host:name>"
                    '<host:addr ip="v4">192.0.2.1</host:addr></host:create></create>')
        epp.command(create("kaytossa.fi", ns=("ns1.kaytossa.fi",)))
        result = epp.command("<delete><host:delete><host:name>ns1.kaytossa.fi</host:name>"
                             "</host:delete></delete>")
    assert result.code == 2305


def test_a_timeout_in_the_registry_loses_the_answer_but_not_the_renewal(epp_server):
    with epp_server.connect() as epp:
        expiry = epp.command(create("myohassa.fi")).text("domain:exDate")[:10]
    epp_server.inject("renew", "timeout")
    renew = (f"<renew><domain:renew><domain:name>myohassa.fi</domain:name><domain:curExpDate>"
             f"{expiry}</domain:curExpDate></domain:renew></renew>")
    with epp_server.connect() as epp:
        epp.send_raw(f'<epp xmlns="{NS["epp"]}" xmlns:domain="{NS["domain"]}"><command>'
                     f"{renew}<clTRID>LATE-RENEW-1</clTRID></command></epp>".encode())
        with pytest.raises(wire.ConnectionClosed):
            wire.read_frame(epp.sock)
    with epp_server.connect() as epp:
        again = epp.command(renew, cltrid="LATE-RENEW-1")
        assert again.code == 1000
        assert int(again.text("domain:exDate")[:4]) == int(expiry[:4]) + 1
        assert epp.command(info("myohassa.fi")).text("domain:exDate") == again.text(
            "domain:exDate")


def test_a_transaction_id_another_registrar_used_is_refused_not_failed(epp_server):
    with epp_server.connect() as ours:
        assert ours.command(create("eka.fi"), cltrid="SHARED-ID-1").code == 1000
    with epp_server.connect(epp_server.other_client_id) as theirs:
        assert theirs.command(create("toka.fi"), cltrid="SHARED-ID-1").code == 2306
        assert theirs.command(check("toka.fi")).find("domain:name").get("avail") == "1"
