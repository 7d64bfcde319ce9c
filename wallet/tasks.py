"""Wallet background work: expire stale holds. Safe to run twice."""

from __future__ import annotations

from reseller.core.jobs import periodic
from wallet import services


@periodic("wallet.expire_holds", "*/10 * * * *", "Release holds past their expiry")
def expire_holds() -> int:
    return services.expire_holds()
