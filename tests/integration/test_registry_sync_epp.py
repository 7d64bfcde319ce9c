"""Drift seen over EPP: with ``REGISTRY_ADAPTER=epp`` against the sandbox registry's EPP
server, what the registry changes on its own (server statuses, a renewal, nameservers, a
deletion) reaches our records through ``info`` and the sync, ROID included."""

import pytest

from reseller.core.db import unit_of_work
from reseller.core.extensions import db
from reseller.domains import orders, sync
from reseller.domains.models import Domain, Order
from reseller.registry import sandbox_drift
from tests.integration.test_epp_orders import epp_app, placed  # noqa: F401  (fixtures)

pytestmark = pytest.mark.postgres_only


def test_drift_at_the_registry_reaches_us_over_epp(placed, epp_app, epp_server):  # noqa: F811
    _reseller_id, order_id, _reference = placed
    orders.process_order(order_id)
    db.session.expire_all()
    domain = db.session.get(Domain, db.session.get(Order, order_id).domain_id)
    with epp_server.app.app_context():
        registry_roid = epp_server.registry().info("toimiva.fi").roid
    assert domain.roid == registry_roid  # read from <domain:roid> over EPP
    before = domain.expires_at
    with epp_server.app.app_context():
        sandbox_drift.set_server_statuses("toimiva.fi", add=["serverTransferProhibited"])
        sandbox_drift.renew("toimiva.fi")
        sandbox_drift.set_nameservers("toimiva.fi", ["ns1.toinen.example",
                                                     "ns2.toinen.example"])
    with unit_of_work():
        report = sync.sync_domains(names=["toimiva.fi"], per_second=0)
    changed = {c["field"] for c in report.changed["toimiva.fi"]}
    assert changed >= {"registry_statuses", "expires_at", "nameservers"}
    db.session.expire_all()
    domain = db.session.get(Domain, domain.id)
    assert domain.registry_statuses == ["serverTransferProhibited"]
    assert domain.expires_at.year == before.year + 1
    assert domain.nameservers == ["ns1.toinen.example", "ns2.toinen.example"]
    with epp_server.app.app_context():
        sandbox_drift.delete("toimiva.fi")
    with unit_of_work():
        sync.sync_domains(names=["toimiva.fi"], per_second=0)
    db.session.expire_all()
    assert db.session.get(Domain, domain.id).status == "deleted"  # .fi has no redemption
