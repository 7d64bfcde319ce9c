"""Our EPP client (``REGISTRY_ADAPTER=epp``) against the sandbox registry's EPP server:
every ``Registry`` method over real TLS sessions, and what it does when the connection
drops after a command was sent."""

from datetime import timedelta
from decimal import Decimal

import pytest

from reseller.core.clock import clock
from reseller.core.db import unit_of_work
from reseller.domains import rgp
from reseller.registry.errors import RegistryRejected, RegistryTimeout
from reseller.registry.models import DELETED, PENDING_DELETE, RestoreReport, in_redemption
from tests.support.epp import epp_router, transfer_request_frame

DS = {"key_tag": 12345, "algorithm": 13, "digest_type": 2,
      "digest": "E2D3C916F6DEEAC73294E8268FB5885044A833FC5459588F4A9184CFC41A5766"}


def shift_clock(by: timedelta | None) -> None:
    """Move the sandbox clock (``None``: back to now), committed so the EPP server's
    threads see it too."""
    with unit_of_work():
        clock.set_offset(timedelta(0) if by is None else clock.offset() + by)


@pytest.fixture
def registry(epp_server):
    router = epp_router(epp_server)
    yield router
    router.close()


def create(registry, name, trid, **extra):
    return registry.create(name=name, years=1, registrant="TNREG1", admin="TNADM1",
                           tech="TNTEC1", nameservers=["ns1.example.net"],
                           transaction_id=trid, **extra)


@pytest.mark.smoke
def test_check_create_and_info_over_epp(registry):
    assert registry.check(["asiakas.fi"])[0].available
    created = create(registry, "asiakas.fi", "ord-create-1")
    assert created.sponsor == "tunnus"
    assert not registry.check(["asiakas.fi"])[0].available
    found = registry.info("asiakas.fi")
    assert (found.sponsor, found.registrant, found.admin, found.tech) == (
        "tunnus", "TNREG1", "TNADM1", "TNTEC1")
    assert found.nameservers == ("ns1.example.net",)
    assert found.expires_at.date() == created.expires_at.date()
    assert registry.info("ei-ole.fi") is None


def test_premium_names_come_with_their_price(registry):
    answer = registry.check(["kauppa.fi"])[0]
    assert answer.available and answer.premium
    assert str(answer.premium_price) == "250.00"


def test_a_repeated_transaction_id_answers_from_the_journal(registry):
    first = create(registry, "kahdesti.fi", "ord-twice-1")
    again = create(registry, "kahdesti.fi", "ord-twice-1")
    assert again.expires_at == first.expires_at
    with pytest.raises(RegistryRejected) as refused:
        create(registry, "kahdesti.fi", "ord-twice-2")
    assert refused.value.code == 2302
    outcome = registry.transaction("ord-twice-2")
    assert (outcome.ok, outcome.code) == (False, 2302)
    assert registry.transaction("ord-twice-1").result.name == "kahdesti.fi"
    assert registry.transaction("never-sent") is None


def test_renew_update_with_nameservers_and_ds_and_auth_code(registry):
    created = create(registry, "paivitys.fi", "ord-upd-1")
    renewed = registry.renew(name="paivitys.fi", years=2, current_expiry=created.expires_at,
                             transaction_id="ord-upd-2")
    assert renewed.expires_at.year == created.expires_at.year + 2
    updated = registry.update(name="paivitys.fi", transaction_id="ord-upd-3",
                              nameservers=["ns1.tunnus.example", "ns2.tunnus.example"],
                              ds=[DS], locked=True, tech="TNTEC2")
    assert updated.nameservers == ("ns1.tunnus.example", "ns2.tunnus.example")
    assert updated.ds == (DS,)
    assert updated.locked and updated.tech == "TNTEC2"
    cleared = registry.update(name="paivitys.fi", transaction_id="ord-upd-4", ds=[],
                              locked=False, hold=True)
    assert (cleared.ds, cleared.locked, cleared.hold) == ((), False, True)
    code = registry.auth_code(name="paivitys.fi", transaction_id="ord-upd-5")
    assert registry.current_auth_code("paivitys.fi") == code
    changed = registry.change_registrant(name="paivitys.fi", registrant="TNREG2",
                                         transaction_id="ord-upd-6")
    assert changed.registrant == "TNREG2"


def report():
    now = clock.now()
    return RestoreReport(pre_data="Domain Name: poistuva.com", post_data="Domain Name: "
                         "poistuva.com", deleted_at=now - timedelta(hours=1), restored_at=now,
                         reason="Registrant error.", statements=rgp.STATEMENTS)


def test_delete_then_restore_from_redemption_with_its_report(registry):
    create(registry, "poistuva.com", "ord-del-1")
    shift_clock(timedelta(days=6))  # past the add grace period: 1001, redemption
    try:
        assert registry.delete(name="poistuva.com", transaction_id="ord-del-2") == \
            PENDING_DELETE
        assert "redemptionPeriod" in registry.info("poistuva.com").statuses
        with pytest.raises(RegistryRejected) as refused:  # a registry needs the report
            registry.restore(name="poistuva.com", transaction_id="ord-del-3")
        assert refused.value.code == 2003
        restored = registry.restore(name="poistuva.com", transaction_id="ord-del-4",
                                    report=report())
        assert not in_redemption(restored.statuses)
    finally:
        shift_clock(None)


def test_a_delete_in_the_add_grace_period_is_answered_1000_and_frees_the_name(registry):
    create(registry, "harkinta.com", "ord-grace-1")
    assert registry.delete(name="harkinta.com", transaction_id="ord-grace-2") == DELETED
    assert registry.info("harkinta.com") is None
    assert registry.check(["harkinta.com"])[0].available


def test_transfer_in_is_requested_and_approved_and_polled(registry, epp_server):
    epp_server.seed_foreign("muutto.fi", "Siirto-koodi-1")
    shift_clock(timedelta(days=400))  # past the transfer lock
    try:
        requested = registry.transfer_request(name="muutto.fi", auth_code="Siirto-koodi-1",
                                              years=1, transaction_id="ord-trn-1")
        assert requested.pending and requested.gaining == "tunnus"
        assert registry.transfer_query(name="muutto.fi").pending
        with epp_server.connect(epp_server.other_client_id) as other:
            answered = other.command(
                '<transfer op="approve"><domain:transfer><domain:name>muutto.fi'
                "</domain:name></domain:transfer></transfer>")
            assert answered.code == 1000
        messages = registry.poll()
        assert [(m.kind, m.name) for m in messages] == [("transfer_completed", "muutto.fi")]
        assert messages[0].data["gaining"] == "tunnus"
        registry.ack(messages[0].id)
        assert registry.poll() == []
        assert registry.info("muutto.fi").sponsor == "tunnus"
    finally:
        shift_clock(None)


def test_a_transfer_out_request_is_polled_and_rejected(registry, epp_server):
    create(registry, "pysyva.fi", "ord-out-1")
    code = registry.auth_code(name="pysyva.fi", transaction_id="ord-out-2")
    shift_clock(timedelta(days=400))
    try:
        with epp_server.connect(epp_server.other_client_id) as other:
            asked = other.command(transfer_request_frame("pysyva.fi", code))
            assert asked.code == 1001, asked.message
        [message] = registry.poll()
        assert (message.kind, message.name) == ("transfer_requested", "pysyva.fi")
        assert message.data["gaining"] == epp_server.other_client_id
        registry.ack(message.id)
        answered = registry.transfer_answer(name="pysyva.fi", approve=False)
        assert answered.status == "clientRejected"
    finally:
        shift_clock(None)


def test_hosts_and_contacts(registry, epp_server):
    registry.host_set(name="ns1.isanta.fi", addresses=["192.0.2.1"])
    registry.host_set(name="ns1.isanta.fi", addresses=["192.0.2.2", "2001:db8::1"])
    with epp_server.app.app_context():
        assert sorted(epp_server.registry().host_info("ns1.isanta.fi").addresses) == [
            "192.0.2.2", "2001:db8::1"]
    registry.host_delete(name="ns1.isanta.fi")
    registry.host_delete(name="ns1.isanta.fi")  # gone already: fine
    data = {"name": "Maija Meikäläinen", "organization": "Asiakas Oy",
            "email": "maija@asiakas.example", "phone": "+358.401234567",
            "street": "Mannerheimintie 2", "city": "Helsinki", "postal_code": "00100",
            "country": "FI"}
    registry.contact_set(handle="TNCONTACT1", data=data)
    registry.contact_set(handle="TNCONTACT1", data={**data, "city": "Espoo"})
    with epp_server.app.app_context():
        stored = epp_server.registry().contact_info("TNCONTACT1").data
    assert (stored["name"], stored["city"]) == ("Maija Meikäläinen", "Espoo")


@pytest.mark.smoke
def test_a_dropped_answer_is_resolved_from_the_registry_not_sent_twice(registry, epp_server):
    epp_server.inject("create", "drop")
    with pytest.raises(RegistryTimeout):
        create(registry, "pudonnut.fi", "ord-drop-1")
    outcome = registry.transaction("ord-drop-1")
    assert outcome.ok and outcome.result.sponsor == "tunnus"
    again = create(registry, "pudonnut.fi", "ord-drop-1")
    assert again.name == "pudonnut.fi"


def test_a_dropped_renewal_is_resolved_by_the_expiry_and_not_renewed_twice(registry,
                                                                          epp_server):
    created = create(registry, "jatkuva.fi", "ord-ren-1")
    epp_server.inject("renew", "drop")
    with pytest.raises(RegistryTimeout):
        registry.renew(name="jatkuva.fi", years=1, current_expiry=created.expires_at,
                       transaction_id="ord-ren-2")
    again = registry.renew(name="jatkuva.fi", years=1, current_expiry=created.expires_at,
                           transaction_id="ord-ren-2")
    assert again.expires_at.year == created.expires_at.year + 1
    assert registry.info("jatkuva.fi").expires_at.year == created.expires_at.year + 1
    assert registry.transaction("ord-ren-2").ok


def test_command_failed_2400_means_not_done_and_the_retry_sends_it(registry, epp_server):
    from reseller.registry.errors import RegistryUnavailable

    epp_server.inject("create", "unavailable")
    with pytest.raises(RegistryUnavailable):
        create(registry, "myohemmin.fi", "ord-later-1")
    assert registry.transaction("ord-later-1") is None
    assert create(registry, "myohemmin.fi", "ord-later-1").sponsor == "tunnus"


def test_an_id_sent_but_never_carried_out_is_sent_again_once(registry):
    from reseller.registry.epp import journal

    with unit_of_work():  # a process that died right after journaling, before sending
        journal.sending(transaction_id="ord-lost-1", registry="sandbox", command="create",
                        name="kadonnut.fi", params={"years": 1})
    assert registry.transaction("ord-lost-1") is None  # the registry has no such name
    assert create(registry, "kadonnut.fi", "ord-lost-1").name == "kadonnut.fi"
    assert registry.transaction("ord-lost-1").ok


def test_premium_commands_carry_the_agreed_fee_over_epp(registry):
    """RFC 8748: the fee of a premium command is asked with ``fee:check`` and agreed to in
    ``fee:create``/``fee:renew``; the registry refuses without it (2003) or below it (2004)."""
    assert registry.premium_fee(name="kauppa.fi", command="renew", years=2) == Decimal("500.00")
    assert registry.premium_fee(name="abc.com", command="restore") == Decimal("120.00")
    assert registry.premium_fee(name="tavallinen.fi", command="create") is None
    with pytest.raises(RegistryRejected) as unagreed:
        create(registry, "kauppa.fi", "ord-premium-1")
    assert unagreed.value.code == 2003
    with pytest.raises(RegistryRejected) as too_low:
        create(registry, "kauppa.fi", "ord-premium-2", fee=Decimal("249.99"))
    assert too_low.value.code == 2004
    created = create(registry, "kauppa.fi", "ord-premium-3", fee=Decimal("250.00"))
    with pytest.raises(RegistryRejected) as renew_unagreed:
        registry.renew(name="kauppa.fi", years=1, current_expiry=created.expires_at,
                       transaction_id="ord-premium-4")
    assert renew_unagreed.value.code == 2003
    renewed = registry.renew(name="kauppa.fi", years=1, current_expiry=created.expires_at,
                             transaction_id="ord-premium-5", fee=Decimal("250.00"))
    assert renewed.expires_at.year == created.expires_at.year + 1
