"""The EPP server's session without sockets or a database: framing refusals, the login
rules and every answer valid against the XSDs."""

from types import SimpleNamespace

import pytest
from lxml import etree

from reseller.registry.epp import schema, wire
from reseller.registry.epp.server.frames import RESULTS, greeting
from reseller.registry.epp.server.session import Session
from reseller.registry.epp.wire import NS

EPP = NS["epp"]


def session(validate: bool = True) -> Session:
    server = SimpleNamespace(app=None, validate=validate, server_id="Tunnus test",
                             clients={"tunnus": "sandbox-pw1"})
    return Session(server)


def login(client_id: str = "tunnus", password: str = "sandbox-pw1", *, version: str = "1.0",
          lang: str = "en", objects: tuple[str, ...] = wire.OBJECT_URIS,
          new_password: str | None = None) -> bytes:
    new = f"<newPW>{new_password}</newPW>" if new_password else ""
    services = "".join(f"<objURI>{uri}</objURI>" for uri in objects)
    return (f'<epp xmlns="{EPP}"><command><login><clID>{client_id}</clID><pw>{password}</pw>'
            f"{new}<options><version>{version}</version><lang>{lang}</lang></options>"
            f"<svcs>{services}</svcs></login><clTRID>UNIT-1</clTRID></command></epp>").encode()


def code(document: bytes) -> int:
    schema.assert_valid(document)
    root = etree.fromstring(document)
    return int(root.find("epp:response/epp:result", NS).get("code"))


def test_the_greeting_is_valid_and_offers_the_three_objects():
    from datetime import UTC, datetime

    document = greeting("Tunnus test", datetime(2026, 12, 3, tzinfo=UTC))
    schema.assert_valid(document)
    assert etree.fromstring(document).findtext(
        "epp:greeting/epp:svDate", namespaces=NS) == "2026-12-03T00:00:00Z"


@pytest.mark.parametrize("frame", [
    b'<!DOCTYPE epp [<!ENTITY x "boom">]><epp xmlns="urn:ietf:params:xml:ns:epp-1.0">&x;</epp>',
    b"<epp xmlns='urn:ietf:params:xml:ns:epp-1.0'><hello>",
    b"not xml at all",
])
def test_input_that_is_not_epp_is_a_syntax_error_that_closes(frame):
    answer = session().respond(frame)
    assert code(answer.document) == 2001 and answer.close


def test_a_command_before_login_is_a_use_error_echoing_the_transaction_id():
    frame = (f'<epp xmlns="{EPP}"><command><logout/><clTRID>UNIT-2</clTRID></command>'
             f"</epp>").encode()
    answer = session().respond(frame)
    assert code(answer.document) == 2002 and not answer.close
    assert b"<clTRID>UNIT-2</clTRID>" in answer.document


@pytest.mark.parametrize(("frame", "expected"), [
    (login(password="wrong-pw1"), 2200),
    (login(client_id="stranger"), 2200),
    (login(new_password="another-pw1"), 2102),
    (login(objects=("urn:ietf:params:xml:ns:org-1.0",)), 2307),
    (login(), 1000),
])
def test_login_rules(frame, expected):
    assert code(session().respond(frame).document) == expected


def test_another_protocol_version_is_refused():
    assert code(session().respond(login(version="2.0")).document) == 2001  # the XSD fixes 1.0
    assert code(session(validate=False).respond(login(version="2.0")).document) == 2100


def test_a_schema_invalid_frame_is_refused_unless_validation_is_off():
    frame = f'<epp xmlns="{EPP}"><command><nonsense/></command></epp>'.encode()
    assert code(session().respond(frame).document) == 2001
    assert code(session(validate=False).respond(frame).document) == 2000


def test_logout_ends_the_session():
    epp = session()
    epp.respond(login())
    answer = epp.respond(f'<epp xmlns="{EPP}"><command><logout/></command></epp>'.encode())
    assert code(answer.document) == 1500 and answer.close


def test_every_result_code_has_its_rfc_message():
    assert RESULTS[1301] == "Command completed successfully; ack to dequeue"
    assert all(1000 <= c < 3000 for c in RESULTS)
