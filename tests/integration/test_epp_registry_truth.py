"""Over EPP, against the sandbox registry's EPP server (which validates every frame: the IETF
XSDs, and iis-1.2 structurally): an .se registration carries the registrant's identity as
``iis:orgno``, a registrant without one is refused, and a nameserver update whose
connection drops after the registry acted converges without a client retry."""

import pytest
import sqlalchemy as sa

from reseller.accounts.models import Reseller
from reseller.catalog import services as catalog
from reseller.core.db import unit_of_work
from reseller.core.extensions import db
from reseller.domains import contacts, orders, pending, services
from reseller.domains.models import Domain, Order
from reseller.registry.errors import RegistryRejected
from tests.integration.test_epp_orders import epp_app, placed  # noqa: F401  (fixtures)
from tests.support.domains import CONTACT
from tests.support.epp import epp_router
from wallet import services as wallet
from wallet.money import Money

pytestmark = pytest.mark.postgres_only

PERSONNUMMER = "880320-0016"
SWEDE = {**CONTACT, "organization": None, "registration_number": None, "country": "SE",
         "entity_type": "person", "personal_id": PERSONNUMMER, "city": "Stockholm",
         "postal_code": "11122", "phone": "+46.701234567", "language": "en"}


@pytest.fixture
def se_app(app, epp_server):
    """The app with an EPP registry on the ``se`` profile (iis-1.2) for .se names."""
    original = app.extensions["tunnus.registry"]
    router = epp_router(epp_server, tlds=("se",), profile="se")
    app.extensions["tunnus.registry"] = router
    app.extensions["tunnus.jobs"].jobs.clear()
    yield router
    app.extensions["tunnus.registry"] = original
    app.extensions["tunnus.jobs"].jobs.clear()
    router.close()


def swedish_reseller():
    with unit_of_work():
        catalog.install_defaults()
        reseller = Reseller(company_name="Exempel AB", country="SE", business_id="556036-0793",
                            contact_email="a@ex.test",
                            language="en", status="active", tier="standard")
        db.session.add(reseller)
        db.session.flush()
        wallet.open_wallet(reseller_id=reseller.id)
        wallet.adjust_funds(reseller_id=reseller.id, amount=Money.of("100.00"),
                            reason="test", actor="test", reference="epp-se")
        contact = contacts.create_contact(reseller_id=reseller.id, **SWEDE)
    return reseller.id, contact.id, contact.handle


def test_an_se_registration_over_epp_carries_the_registrants_personnummer(
        se_app, epp_server, caplog):
    reseller_id, contact_id, handle = swedish_reseller()
    with unit_of_work():
        order = orders.order_register(reseller_id=reseller_id, name="identitet.se", period=1,
                                      contacts={"registrant": contact_id},
                                      idempotency_key="se-1")
    orders.process_order(order.id)  # iis:create with the orgno, then the domain create
    db.session.expire_all()
    assert db.session.get(Order, order.id).state == "completed"
    with epp_server.app.app_context():
        assert epp_server.registry().contact_identity(handle) == {
            "orgno": f"[SE]{PERSONNUMMER}"}
        assert "orgno" not in epp_server.registry().contact_info(handle).data
    assert PERSONNUMMER not in caplog.text


def test_the_registry_refuses_an_se_registrant_without_a_valid_orgno(se_app, epp_server):
    se_app.contact_set(handle="TNNOID1", data={**SWEDE, "personal_id": None},
                       name="ilman.se")
    with pytest.raises(RegistryRejected) as refused:
        se_app.create(name="ilman.se", years=1, registrant="TNNOID1", admin=None, tech=None,
                      nameservers=[], transaction_id="se-no-id")
    assert refused.value.code == 2306
    with pytest.raises(RegistryRejected) as invalid:  # a checksum IIS would refuse
        se_app.contact_set(handle="TNBAD1", data={**SWEDE, "personal_id": "880320-0017"},
                           name="ilman.se")
    assert invalid.value.code == 2005


def test_a_nameserver_update_dropped_after_the_registry_acted_converges_over_epp(
        placed, epp_app, epp_server):  # noqa: F811
    _reseller_id, order_id, _reference = placed
    orders.process_order(order_id)
    wanted = ["ns1.pudonnut.example", "ns2.pudonnut.example"]
    epp_server.inject("update", "drop")  # carried out and committed, then no answer
    with unit_of_work():
        domain = services.set_nameservers(reseller_id=_reseller_id, name="toimiva.fi",
                                          nameservers=wanted)
        assert domain.pending_change["operation"] == "nameservers"
        assert domain.nameservers != wanted
    with epp_server.app.app_context():
        assert list(epp_server.registry().info("toimiva.fi").nameservers) == wanted
    assert pending.resolve_pending_changes() == {"applied": 1, "refused": 0, "pending": 0}
    db.session.expire_all()
    domain = db.session.scalar(sa.select(Domain).where(Domain.name == "toimiva.fi"))
    assert domain.nameservers == wanted and domain.pending_change is None
