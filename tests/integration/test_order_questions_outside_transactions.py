"""An order's questions to the registry (is the name free, is it premium and for how much)
are asked with no database transaction open (issue 31, point 3): through the API, the
client area and WHMCS, for registrations, renewals, restores, transfers, bulk renewals and
CSV imports. An API request with an Idempotency-Key claims the key only after the answer
(``idempotency.claims_late``), so a request that dies while the registry answers leaves no
key behind, and a replay is answered before the registry is asked at all."""

import pytest
import sqlalchemy as sa

from reseller.core.extensions import db
from tests.integration.test_registry_calls_outside_transactions import registered_for_writers

pytestmark = pytest.mark.postgres_only

QUESTIONS = ("check", "premium_fee")


@pytest.fixture
def probe(app, committed_db):
    """Every registry question, with the backends of this database that were in a
    transaction (or held a snapshot) at that moment, as another connection sees them, and
    whether an Idempotency-Key row existed then."""
    registry = app.extensions["tunnus.registry"]
    seen: list[tuple[str, list, int]] = []

    class Probe:
        def __getattr__(self, name):
            attr = getattr(registry, name)
            if name not in QUESTIONS:
                return attr

            def call(*args, **kwargs):
                with committed_db.engine.connect() as other:
                    busy = other.execute(sa.text(
                        "SELECT state FROM pg_stat_activity WHERE datname = current_database() "
                        "AND pid <> pg_backend_pid() "
                        "AND (state <> 'idle' OR backend_xmin IS NOT NULL)")).all()
                    keys = other.scalar(sa.text("SELECT count(*) FROM idempotency_keys"))
                    other.rollback()
                seen.append((name, busy, keys))
                return attr(*args, **kwargs)

            return call

    app.extensions["tunnus.registry"] = Probe()
    try:
        yield seen
    finally:
        app.extensions["tunnus.registry"] = registry


def _busy(seen):
    return [(name, busy) for name, busy, _keys in seen if busy]


def test_api_orders_ask_the_registry_with_no_transaction_and_no_key_claimed(
        app, committed_db, probe):
    headers, _domain_id, contact_id = registered_for_writers(app, committed_db, "kysyva.fi")
    probe.clear()  # the set-up's own registration
    client = app.test_client()
    keys_before = committed_db.session.scalar(sa.text("SELECT count(*) FROM idempotency_keys"))
    committed_db.session.remove()

    def post(path, key, **body):
        return client.post(path, json=body, headers={**headers, "Idempotency-Key": key})

    answers = {
        "register": post("/api/v1/domains", "k-register", name="uusi-kysyva.fi",
                         contacts={"registrant": contact_id}),
        "renew": post("/api/v1/domains/kysyva.fi/renew", "k-renew", period=1),
        "bulk": post("/api/v1/domains/bulk-renew", "k-bulk", names=["kysyva.fi"], period=1),
        "transfer": post("/api/v1/transfers", "k-transfer", name="muualla.fi",
                         auth_code="Xy7-Qp2!zz"),
        "import": post("/api/v1/transfers/import", "k-import", csv="name,auth_code\n"
                       "muualla2.fi,Xy7-Qp2!zz\n"),
        "restore": post("/api/v1/domains/kysyva.fi/restore", "k-restore"),
    }
    assert answers["register"].status_code == 202, answers["register"].get_json()
    assert answers["renew"].status_code == 202, answers["renew"].get_json()
    assert answers["bulk"].status_code == 202
    assert answers["restore"].status_code == 409  # not in redemption: refused after asking
    assert {name for name, _busy, _keys in probe} == {"check", "premium_fee"}
    assert len(probe) == 6
    assert _busy(probe) == []
    # No key was claimed (written) before any question: every key row came after.
    assert {keys for _name, _busy, keys in probe} <= set(range(keys_before, keys_before + 6))
    ordered = [keys for _name, _busy, keys in probe]
    assert ordered == sorted(ordered) and ordered[0] == keys_before


def _one_order(app, committed_db, probe, held: str, name: str, key: str):
    """(a client, a registration's body, its headers with ``key``) of an owner holding
    ``held``; the probe starts empty."""
    headers, _domain_id, contact_id = registered_for_writers(app, committed_db, held)
    probe.clear()  # the set-up's own registration
    body = {"name": name, "contacts": {"registrant": contact_id}}
    return app.test_client(), body, {**headers, "Idempotency-Key": key}


def test_a_replayed_order_is_answered_without_asking_the_registry(app, committed_db, probe):
    client, body, sent = _one_order(app, committed_db, probe, "toisto.fi", "toisto-uusi.fi",
                                    "k-toisto")
    first = client.post("/api/v1/domains", json=body, headers=sent)
    again = client.post("/api/v1/domains", json=body, headers=sent)
    assert first.status_code == again.status_code == 202
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()
    assert [name for name, _busy, _keys in probe] == ["check"]  # the replay asked nothing
    other = client.post("/api/v1/domains", json={**body, "period": 2}, headers=sent)
    assert other.status_code == 422
    assert other.get_json()["code"] == "idempotency_key_reused"
    assert len(probe) == 1


def test_a_question_the_registry_cannot_answer_leaves_the_key_free(app, committed_db, probe):
    client, body, sent = _one_order(app, committed_db, probe, "vapaa-avain.fi", "katkos.fi",
                                    "k-katkos")
    registry = app.extensions["tunnus.registry"]
    registry.inject("check", "unavailable")
    try:
        down = client.post("/api/v1/domains", json=body, headers=sent)
    finally:
        registry.clear_faults()
    assert down.status_code == 503
    assert committed_db.session.scalar(sa.text(
        "SELECT count(*) FROM idempotency_keys WHERE key = 'k-katkos'")) == 0
    committed_db.session.remove()
    again = client.post("/api/v1/domains", json=body, headers=sent)
    assert again.status_code == 202 and "Idempotent-Replayed" not in again.headers
    assert _busy(probe) == []


def test_the_client_area_and_whmcs_ask_with_no_transaction_open(app, committed_db, probe):
    from reseller.accounts.models import Reseller
    from tests.support.factories import Factory

    headers, _domain_id, contact_id = registered_for_writers(app, committed_db, "lomake.fi")
    probe.clear()
    reseller_id = committed_db.session.scalar(sa.text(
        "SELECT reseller_id FROM domains WHERE name = 'lomake.fi'"))
    email = Factory(app).user(db.session.get(Reseller, reseller_id)).email
    committed_db.session.remove()
    web = app.test_client()
    assert web.post("/login", data={"email": email, "password": "correct horse battery"}
                    ).status_code in (200, 302)
    registered = web.post("/domains/register", data={
        "name": "lomake-uusi.fi", "period": "1", "registrant": str(contact_id),
        "idempotency_key": "w-register"})
    renewed = web.post("/domains/lomake.fi/renew", data={
        "period": "1", "confirmed": "1", "idempotency_key": "w-renew"})
    assert registered.status_code in (200, 302) and renewed.status_code in (200, 302)
    app.extensions["tunnus.jobs"].run_all()  # the renewal done: WHMCS may renew again
    client = app.test_client()
    whmcs = [client.post(f"/whmcs/v1/{function}", json=params, headers=headers)
             for function, params in (
                 ("RegisterDomain", {"domainname": "whmcs-uusi.com", "regperiod": 1,
                                     "email": "maija@customer.example",
                                     "firstname": "Maija", "lastname": "Meikäläinen",
                                     "address1": "Katu 1", "city": "Helsinki",
                                     "postcode": "00100", "country": "FI",
                                     "phonenumber": "+358.401234567"}),
                 ("RenewDomain", {"domainname": "lomake.fi", "regperiod": 1}))]
    assert all(r.status_code == 200 for r in whmcs), [r.get_json() for r in whmcs]
    assert len([name for name, _busy, _keys in probe]) >= 4
    assert _busy(probe) == []
