"""Our EPP client without a database: every frame it builds is valid against the IETF
XSDs, answers are read into the interface's dataclasses, result codes say what the caller
may do, and a registry that sends something that is not EPP is refused cleanly."""

import os
import time
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from lxml import etree

from reseller.registry.epp import commands as cmd
from reseller.registry.epp import schema, wire
from reseller.registry.epp.adapter import EppRegistry
from reseller.registry.epp.client import Endpoint, Pool, Session
from reseller.registry.epp.profiles import IIS_URI, PROFILES
from reseller.registry.epp.resolve import update_frames
from reseller.registry.epp.responses import (
    ProtocolError,
    availability,
    charged_fee,
    domain_info,
    message,
    parse_response,
    premium_fee,
)
from reseller.registry.epp.server.frames import DOMAIN, FEE, RGP, SECDNS, Reply, response
from reseller.registry.epp.wire import NS
from reseller.registry.errors import RegistryRejected, RegistryTimeout, RegistryUnavailable
from reseller.registry.models import DomainInfo
from tests.support.epp_hostile import HostileServer

DS = {"key_tag": 12345, "algorithm": 13, "digest_type": 2, "digest": "ab" * 32}
CONTACT = {"name": "Maija Meikäläinen", "organization": "Asiakas Oy",
           "email": "maija@asiakas.example", "phone": "+358.401234567",
           "street": "Mannerheimintie 2\nC 3", "city": "Helsinki", "postal_code": "00100",
           "country": "FI"}


def framed(body, extensions=()):
    return cmd.command(body, "ord-unit-1", extensions)


EVERY_COMMAND = {
    "login": cmd.login("tunnus", "pw-123456", wire.OBJECT_URIS, [NS["secDNS"], NS["rgp"]],
                       "TNL-1"),
    "logout": cmd.logout("TNO-1"),
    "hello": cmd.hello(),
    "check": framed(cmd.domain_check(["a.fi", "b.fi"]), [cmd.fee_check()]),
    "info": framed(cmd.domain_info("a.fi")),
    "info with auth code": framed(cmd.domain_info("a.fi", "Koodi-123")),
    "create": framed(cmd.domain_create(name="a.fi", years=2, registrant="TNREG1",
                                       admin="TNADM1", tech="TNTEC1",
                                       nameservers=["ns1.example.net", "ns2.example.net"],
                                       auth_code="Koodi-123"), [cmd.secdns_create([DS])]),
    "thin create": framed(cmd.domain_create(name="a.com", years=1, registrant=None,
                                            admin=None, tech=None, nameservers=[],
                                            auth_code="Koodi-123")),
    "premium create": framed(cmd.domain_create(name="kauppa.fi", years=1, registrant="TNREG1",
                                               admin=None, tech=None, nameservers=[],
                                               auth_code="Koodi-123"),
                             [cmd.fee_agreed("create", Decimal("250"))]),
    "renew": framed(cmd.domain_renew("a.fi", date(2027, 1, 2), 1)),
    "premium renew": framed(cmd.domain_renew("kauppa.fi", date(2027, 1, 2), 2),
                            [cmd.fee_agreed("renew", Decimal("500.00"))]),
    "premium restore": framed(cmd.domain_update("abc.com", empty_chg=True),
                              [cmd.rgp_restore(), cmd.fee_agreed("update", Decimal("120.00"))]),
    "premium transfer": framed(cmd.domain_transfer("request", "pizza.fi", auth_code="K-1",
                                                   years=1),
                               [cmd.fee_agreed("transfer", Decimal("180.00"))]),
    "premium check": framed(cmd.domain_check(["kauppa.fi"]), [cmd.fee_check("restore")]),
    "delete": framed(cmd.domain_delete("a.fi")),
    "update": framed(cmd.domain_update("a.fi", add_ns=["ns3.example.net"],
                                       rem_ns=["ns1.example.net"], add_contacts={"tech": "TNTEC2"},
                                       rem_contacts={"tech": "TNTEC1"},
                                       add_statuses=["clientHold"],
                                       rem_statuses=["clientTransferProhibited"],
                                       registrant="TNREG2", auth_code="Uusi-koodi-1"),
                     [cmd.secdns_update(add=[DS], remove=[{**DS, "key_tag": 1}])]),
    "restore": framed(cmd.domain_update("a.com", empty_chg=True), [cmd.rgp_restore()]),
    "transfer request": framed(cmd.domain_transfer("request", "a.fi", auth_code="K-1",
                                                   years=1)),
    "transfer query": framed(cmd.domain_transfer("query", "a.fi")),
    "transfer approve": framed(cmd.domain_transfer("approve", "a.fi")),
    "transfer reject": framed(cmd.domain_transfer("reject", "a.fi")),
    "host check": framed(cmd.host_check(["ns1.a.fi"])),
    "host info": framed(cmd.host_info("ns1.a.fi")),
    "host create": framed(cmd.host_create("ns1.a.fi", ["192.0.2.1", "2001:db8::1"])),
    "host update": framed(cmd.host_update("ns1.a.fi", add=["192.0.2.2"],
                                          remove=["192.0.2.1"])),
    "host delete": framed(cmd.host_delete("ns1.a.fi")),
    "contact check": framed(cmd.contact_check(["TNREG1"])),
    "contact create": framed(cmd.contact_create("TNREG1", CONTACT, "Koodi-123")),
    "contact create ascii": framed(cmd.contact_create("TNREG1", {**CONTACT, "name": "Maija M"},
                                                      "Koodi-123")),
    "contact update": framed(cmd.contact_update("TNREG1", CONTACT)),
    "poll request": framed(cmd.poll_request()),
    "poll ack": framed(cmd.poll_ack("42")),
}


@pytest.mark.parametrize("name", EVERY_COMMAND)
def test_every_frame_the_client_builds_is_valid_against_the_ietf_schemas(name):
    schema.assert_valid(wire.serialize(EVERY_COMMAND[name]))


def test_the_contact_address_is_international_only_when_ascii():
    loc = EVERY_COMMAND["contact create"].find(".//contact:postalInfo", NS)
    ascii_ = EVERY_COMMAND["contact create ascii"].find(".//contact:postalInfo", NS)
    assert (loc.get("type"), ascii_.get("type")) == ("loc", "int")


# -- profiles -----------------------------------------------------------------------------
def test_the_se_profile_adds_orgno_and_vatno_and_the_frame_stays_valid():
    extension = PROFILES["se"].contact_extension(
        {**CONTACT, "country": "SE", "orgno": "802405-0190", "vatno": "SE802405019001"},
        create=True)
    assert extension.tag == f"{{{IIS_URI}}}create"
    assert [e.text for e in extension] == ["[SE]802405-0190", "SE802405019001"]
    # iis-1.2 is not among the bundled IETF schemas (the EPP schema's extension wildcard
    # is strict): its element is checked above, the rest of the frame by the XSDs.
    frame = framed(cmd.contact_create("TNREG1", CONTACT, "Koodi-123"), [extension])
    assert frame.find("epp:command/epp:extension", NS)[0] is extension
    extension.getparent().getparent().remove(extension.getparent())
    schema.assert_valid(wire.serialize(frame))
    assert PROFILES["se"].contact_extension(CONTACT, create=False) is None


def test_the_fi_profile_writes_traficom_contact_fields_in_order():
    body = cmd.contact_create("TNREG1", {**CONTACT, "register_number": "2464491-9"},
                              "Koodi-123")
    PROFILES["fi"].contact_create(body[0], {**CONTACT, "register_number": "2464491-9"})
    create = body[0]
    assert [etree.QName(e).localname for e in create][:4] == ["id", "role", "type",
                                                              "postalInfo"]
    assert (create.findtext("contact:role", namespaces=NS),
            create.findtext("contact:type", namespaces=NS)) == ("5", "1")  # registrant, company
    postal = [etree.QName(e).localname for e in create.find("contact:postalInfo", NS)]
    assert postal == ["isfinnish", "firstname", "lastname", "name", "org", "registernumber",
                      "addr"]
    assert create.findtext("contact:legalemail", namespaces=NS) == CONTACT["email"]
    assert create.find("contact:postalInfo", NS).get("type") == "loc"
    # Traficom's elements are outside the IETF schema; without them the frame is valid.
    for tag in ("role", "type", "legalemail", "postalInfo/contact:isfinnish",
                "postalInfo/contact:firstname", "postalInfo/contact:lastname",
                "postalInfo/contact:registernumber"):
        element = create.find(f"contact:{tag}", NS)
        element.getparent().remove(element)
    schema.assert_valid(wire.serialize(framed(body)))


def test_a_thin_profile_sends_no_contacts_and_fi_no_admin():
    assert not PROFILES["thin"].contacts
    assert "admin" not in PROFILES["fi"].roles


def test_an_update_sends_only_the_differences():
    current = DomainInfo(name="a.fi", sponsor="tunnus", created_at=datetime.now(UTC),
                         expires_at=datetime.now(UTC), tech="T1",
                         nameservers=("ns1.example.net", "ns2.example.net"), ds=(DS,),
                         statuses=("ok", "clientTransferProhibited"), locked=True)
    body, secdns = update_frames(PROFILES["generic"], current, {
        "nameservers": ["ns2.example.net", "ns3.example.net"], "locked": False,
        "ds": [{**DS, "digest": DS["digest"].upper()}], "tech": "T1"})
    assert [e.text for e in body.iterfind(".//domain:add//domain:hostObj", NS)] == [
        "ns3.example.net"]
    assert [e.text for e in body.iterfind(".//domain:rem//domain:hostObj", NS)] == [
        "ns1.example.net"]
    assert body.find(".//domain:rem/domain:status", NS).get("s") == "clientTransferProhibited"
    assert body.find(".//domain:contact", NS) is None
    assert secdns is None  # the same DS record, written in another case
    schema.assert_valid(wire.serialize(framed(body)))


# -- responses ----------------------------------------------------------------------------
def answer(reply: Reply) -> etree._Element:
    document = response(reply, client_trid="ord-unit-1", server_trid="SV-1")
    schema.assert_valid(document)
    return wire.parse(document)


def test_result_codes_say_what_the_caller_may_do():
    for code in (1000, 1001, 1300, 1301):
        parse_response(answer(Reply(code))).raise_for_code()
    for code in (2201, 2302, 2303, 2304, 2306):
        with pytest.raises(RegistryRejected) as refused:
            parse_response(answer(Reply(code))).raise_for_code()
        assert refused.value.code == code
    for code in (2400, 2500, 2501, 2502):
        with pytest.raises(RegistryUnavailable):
            parse_response(answer(Reply(code))).raise_for_code()
    assert parse_response(answer(Reply(2500))).closing


def test_an_answer_without_a_result_is_a_protocol_error_of_unknown_outcome():
    root = wire.parse(f'<epp xmlns="{NS["epp"]}"><response/></epp>'.encode())
    with pytest.raises(ProtocolError) as error:
        parse_response(root)
    assert isinstance(error.value, RegistryTimeout)


def test_check_with_fee_prices_reads_premium_names():
    fee_uri = cmd.FEE_URI
    chk = DOMAIN.chkData(DOMAIN.cd(DOMAIN.name("kauppa.fi", avail="1")),
                         DOMAIN.cd(DOMAIN.name("nic.fi", avail="0"), DOMAIN.reason("Reserved")))
    fee = FEE.chkData(FEE.currency("EUR"), FEE.cd(
        FEE.objID("kauppa.fi"), FEE("class", "premium"),
        FEE.command(FEE.period("1", unit="y"), FEE.fee("250.00"), name="create")))
    answers = availability(parse_response(answer(Reply(res_data=chk, extensions=[fee]))))
    assert [(a.name, a.available, a.premium, a.reason) for a in answers] == [
        ("kauppa.fi", True, True, None), ("nic.fi", False, False, "reserved")]
    assert str(answers[0].premium_price) == "250.00"
    assert fee_uri


def test_premium_fees_are_read_per_command_and_a_charge_above_the_agreed_fee_is_refused():
    fee = FEE.chkData(FEE.currency("EUR"), FEE.cd(
        FEE.objID("Kauppa.fi"), FEE("class", "premium"),
        FEE.command(FEE.period("2", unit="y"), FEE.fee("500.00"), name="renew")))
    checked = parse_response(answer(Reply(res_data=DOMAIN.chkData(
        DOMAIN.cd(DOMAIN.name("kauppa.fi", avail="0"))), extensions=[fee])))
    assert premium_fee(checked, "kauppa.fi") == Decimal("500.00")
    assert premium_fee(checked, "muu.fi") is None
    assert cmd.fee_agreed("create", None) is None
    assert cmd.fee_agreed("create", Decimal("250")).findtext(f"{{{cmd.FEE_URI}}}fee") == "250.00"
    created = parse_response(answer(Reply(res_data=DOMAIN.creData(
        DOMAIN.name("kauppa.fi"), DOMAIN.crDate("2026-01-02T03:04:05Z"),
        DOMAIN.exDate("2027-01-02T03:04:05Z")), extensions=[
        FEE.creData(FEE.currency("EUR"), FEE.fee("260.00"))])))
    assert charged_fee(created, "creData") == Decimal("260.00")
    EppRegistry._not_above(created, "creData", None)  # a standard name: nothing agreed
    EppRegistry._not_above(created, "creData", Decimal("260.00"))
    with pytest.raises(RegistryRejected) as refused:
        EppRegistry._not_above(created, "creData", Decimal("250.00"))
    assert refused.value.code == 2004


def test_domain_info_maps_statuses_ds_and_our_login_to_our_registrar_id():
    data = DOMAIN.infData(DOMAIN.name("a.com"), DOMAIN.roid("D1-X"),
                          DOMAIN.status(s="pendingDelete"),
                          DOMAIN.status(s="clientTransferProhibited"),
                          DOMAIN.registrant("TNREG1"), DOMAIN.contact("TNTEC1", type="tech"),
                          DOMAIN.ns(DOMAIN.hostObj("NS1.Example.net")), DOMAIN.clID("login-7"),
                          DOMAIN.crDate("2025-01-02T03:04:05Z"),
                          DOMAIN.exDate("2027-01-02T03:04:05.0Z"))
    reply = Reply(res_data=data, extensions=[
        SECDNS.infData(SECDNS.dsData(SECDNS.keyTag("1"), SECDNS.alg("13"),
                                     SECDNS.digestType("2"), SECDNS.digest("ab" * 32))),
        RGP.infData(RGP.rgpStatus(s="redemptionPeriod"))])
    found = domain_info(parse_response(answer(reply)), own_id="login-7", registrar_id="tunnus")
    assert found.sponsor == "tunnus"
    assert found.statuses == ("redemptionPeriod", "clientTransferProhibited")
    assert found.locked and not found.hold
    assert found.nameservers == ("ns1.example.net",)
    assert found.ds == ({"key_tag": 1, "algorithm": 13, "digest_type": 2,
                         "digest": "AB" * 32},)
    assert found.expires_at == datetime(2027, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_a_poll_message_becomes_a_transfer_message():
    trn = DOMAIN.trnData(DOMAIN.name("a.fi"), DOMAIN.trStatus("pending"), DOMAIN.reID("them"),
                         DOMAIN.reDate("2026-12-01T00:00:00Z"), DOMAIN.acID("login-7"),
                         DOMAIN.acDate("2026-12-06T00:00:00Z"))
    reply = Reply(1301, res_data=trn, queue=(3, 17, datetime(2026, 12, 1, tzinfo=UTC),
                                             "Transfer requested"))
    parsed = message(parse_response(answer(reply)), message_id=17, own_id="login-7",
                     registrar_id="tunnus")
    assert (parsed.id, parsed.kind, parsed.name) == (17, "transfer_requested", "a.fi")
    assert (parsed.data["gaining"], parsed.data["losing"]) == ("them", "tunnus")


# -- a registry that is not behaving -------------------------------------------------------
@pytest.fixture(scope="module")
def tls(tmp_path_factory):
    from reseller.registry.epp.server import Authority, server_context

    authority = Authority(tmp_path_factory.mktemp("hostile-pki"))
    server = authority.issue("server", "localhost", server=True)
    client = authority.issue("client", "tunnus", server=False)
    return server_context(server.cert, server.key), authority.cert, client


@pytest.fixture
def hostile(tls):
    servers = []

    def start(mode, **options):
        context, ca, client = tls
        server = HostileServer(context, mode=mode, **options)
        servers.append(server)
        endpoint = Endpoint(name="hostile", host="127.0.0.1", port=server.port,
                            server_name="localhost", client_id="tunnus", password="pw-123456",
                            cert=str(client.cert), key=str(client.key), ca=str(ca), timeout=3)
        return server, endpoint

    yield start
    for server in servers:
        server.stop()


@pytest.mark.parametrize("mode", ["doctype", "malformed", "oversized", "no_result"])
def test_a_bad_answer_to_a_command_is_refused_as_an_unknown_outcome(hostile, mode):
    server, endpoint = hostile(mode)
    session = Session(endpoint).open()
    with pytest.raises(ProtocolError):
        session.command(framed(cmd.domain_create(
            name="a.fi", years=1, registrant="R1", admin=None, tech=None, nameservers=[],
            auth_code="Koodi-123")))
    assert not session.alive  # the connection is dropped, never reused


@pytest.mark.parametrize("mode", ["doctype", "malformed", "oversized"])
def test_a_bad_greeting_means_the_registry_is_unavailable(hostile, mode):
    _, endpoint = hostile(mode, at_greeting=True)
    with pytest.raises(RegistryUnavailable):
        Session(endpoint).open()


def test_nothing_listening_is_unavailable(hostile):
    server, endpoint = hostile("doctype")
    server.stop()
    with pytest.raises(RegistryUnavailable):
        Session(endpoint).open()


def test_the_pool_reconnects_after_a_broken_session(hostile):
    server, endpoint = hostile("malformed", trigger="domain:delete")
    pool = Pool(endpoint, size=1)
    with pytest.raises(ProtocolError), pool.session() as session:
        session.command(framed(cmd.domain_delete("a.fi")))
    with pool.session() as session:  # a fresh login, not the broken connection
        assert session.command(framed(cmd.domain_info("a.fi"))).code == 1000
    assert sum(b"<login>" in frame for frame in server.received) == 2
    pool.close()


def test_an_idle_pooled_session_says_hello_before_it_is_lent(hostile):
    server, endpoint = hostile("malformed", trigger="never")
    pool = Pool(endpoint, size=1, keepalive=0)
    with pool.session() as session:
        session.command(framed(cmd.domain_info("a.fi")))
    with pool.session() as session:
        session.command(framed(cmd.domain_info("a.fi")))
    assert sum(b"<hello/>" in frame for frame in server.received) == 1
    assert pool.ping_idle() == 1
    pool.close()


def test_pooled_sessions_are_logged_out_when_the_process_exits(hostile):
    """close_pools is registered with atexit: idle sessions say <logout> instead of being
    left for the registry's idle timeout; a pool inherited by a forked child is not ours."""
    from reseller.registry.epp import client as epp_client

    server, endpoint = hostile("malformed", trigger="never")
    pool, inherited = Pool(endpoint, size=2), Pool(endpoint, size=1)
    with pool.session() as first, pool.session() as second:
        first.command(framed(cmd.domain_info("a.fi")))
        second.command(framed(cmd.domain_info("b.fi")))
    with inherited.session() as session:
        session.command(framed(cmd.domain_info("c.fi")))
    inherited.owner_pid = -1  # as if created by the parent of a forked work horse
    epp_client.close_pools()
    deadline = time.monotonic() + 5
    while sum(b"<logout/>" in frame for frame in server.received) < 2:
        assert time.monotonic() < deadline, "the pooled sessions were not logged out"
        time.sleep(0.05)
    time.sleep(0.2)
    assert sum(b"<logout/>" in frame for frame in server.received) == 2
    assert pool._idle.empty() and not inherited._idle.empty()
    inherited.owner_pid = os.getpid()
    inherited.close()
