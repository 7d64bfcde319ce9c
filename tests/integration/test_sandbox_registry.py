"""The sandbox registry keeps real rules: reserved and premium names, transaction ids
answered from the record, auth codes, transfer locks, configurable failures."""

from datetime import timedelta
from decimal import Decimal

import pytest

from reseller.core.clock import clock
from reseller.registry.errors import RegistryRejected, RegistryTimeout, RegistryUnavailable
from reseller.registry.sandbox import SandboxRegistry


@pytest.fixture
def registry(db_session):
    return SandboxRegistry(registrar_id="tunnus")


def create(registry, name, trid):
    return registry.create(name=name, years=1, registrant="C1", admin=None, tech=None,
                           nameservers=[], transaction_id=trid)


def test_reserved_premium_and_free_names(registry):
    reserved, premium, short, free = registry.check(
        ["nic.fi", "kauppa.fi", "abc.com", "tavallinen.fi"])
    assert (reserved.available, reserved.reason) == (False, "reserved")
    assert premium.available and premium.premium and premium.premium_price == Decimal("250.00")
    assert short.premium and short.premium_price == Decimal("120.00")
    assert free.available and not free.premium


def test_a_repeated_transaction_id_is_answered_from_the_record(registry):
    first = create(registry, "kerran.fi", "t-1")
    again = create(registry, "kerran.fi", "t-1")
    assert first == again
    with pytest.raises(RegistryRejected) as taken:
        create(registry, "kerran.fi", "t-2")
    assert taken.value.code == 2302
    assert registry.transaction("t-2").ok is False
    assert registry.transaction("never-sent") is None


def test_periods_follow_the_catalogue(registry):
    with pytest.raises(RegistryRejected) as refused:
        registry.create(name="pitka.fi", years=6, registrant="C1", admin=None, tech=None,
                        nameservers=[], transaction_id="t-3")
    assert refused.value.code == 2306


def test_gtld_transfer_lock_and_auth_code(registry):
    create(registry, "lukko.com", "t-4")
    code = registry.auth_code(name="lukko.com", transaction_id="a-1")
    with pytest.raises(RegistryRejected) as locked:
        registry.simulate_transfer_out(name="lukko.com", auth_code=code)
    assert "lock" in locked.value.message
    clock.set_offset(timedelta(days=61))
    with pytest.raises(RegistryRejected) as wrong:
        registry.simulate_transfer_out(name="lukko.com", auth_code="wrong")
    assert wrong.value.code == 2202
    assert registry.simulate_transfer_out(name="lukko.com", auth_code=code).pending


def test_configured_failure_and_timeout_rates(db_session):
    failing = SandboxRegistry(failure_rate=Decimal("1"))
    with pytest.raises(RegistryUnavailable):
        failing.check(["mika.fi"])
    slow = SandboxRegistry(timeout_rate=Decimal("1"))
    with pytest.raises(RegistryTimeout):
        create(slow, "hidas.fi", "t-5")
    assert slow.transaction("t-5").ok  # the work was done; only the answer was lost


@pytest.mark.postgres_only
def test_a_command_leaves_the_callers_transaction_and_its_locks_alone(app, committed_db):
    """Like a remote registry, a command commits its own change in a session of its own:
    the caller's open transaction stays open with what it holds (here an advisory lock,
    as ``records.hold_domain`` takes), and the change stands even if the caller then rolls
    back. (Committing in the caller's session ended that transaction mid-request: a
    second If-Match writer then read the domain before the first recorded the answer.)"""
    import sqlalchemy as sa

    from reseller.core.extensions import db
    from reseller.registry.sandbox_models import SandboxDomain

    registry = SandboxRegistry(registrar_id="tunnus")

    def held():
        with db.engine.connect() as other:
            return other.scalar(sa.text(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = 4242"))

    db.session.execute(sa.select(sa.func.pg_advisory_xact_lock(sa.literal(4242))))
    create(registry, "etainen.fi", "remote-1")
    registry.update(name="etainen.fi", transaction_id="remote-2",
                    nameservers=["ns1.etainen.example", "ns2.etainen.example"])
    assert db.session().in_transaction() and held() == 1
    db.session.rollback()
    assert held() == 0
    row = db.session.get(SandboxDomain, "etainen.fi")
    assert row is not None and row.nameservers == ["ns1.etainen.example",
                                                   "ns2.etainen.example"]


@pytest.mark.postgres_only
def test_two_registrars_creating_one_name_at_once_get_one_domain(app, committed_db):
    """Neither sees the other's uncommitted row when it looks; the second insert waits for
    the first and then inserts nothing: one domain, one ``2302``, both answers recorded."""
    import threading

    from reseller.core.extensions import db

    outcomes, barrier = {}, threading.Barrier(2)

    def attempt(registrar: str) -> None:
        with app.app_context():
            barrier.wait()
            try:
                SandboxRegistry(registrar_id=registrar).create(
                    name="yhtaikaa.fi", years=1, registrant="C1", admin=None, tech=None,
                    nameservers=[], transaction_id=f"race-{registrar}")
                outcomes[registrar] = 1000
            except RegistryRejected as refused:
                outcomes[registrar] = refused.code
            finally:
                db.session.remove()

    threads = [threading.Thread(target=attempt, args=(r,)) for r in ("tunnus", "toinen")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes.values()) == [1000, 2302]
    with app.app_context():
        winner = next(r for r, code in outcomes.items() if code == 1000)
        loser = next(r for r, code in outcomes.items() if code == 2302)
        assert SandboxRegistry(registrar_id=winner).info("yhtaikaa.fi").name == "yhtaikaa.fi"
        assert SandboxRegistry(registrar_id=loser).transaction(f"race-{loser}").ok is False
        db.session.remove()
