"""The sandbox registry changing names on its own, as real registries do and as the operator
injects with ``flask registry sandbox …``: server statuses, a registry-side renewal, a
nameserver or DNSSEC change made elsewhere, a deletion, a transfer away that sends no poll
message. Each commits at once (the registry is another system); our EPP server shows the
result, so every drift is seen over EPP too."""

from __future__ import annotations

from reseller.catalog.models import TLDS, add_years
from reseller.core.clock import clock
from reseller.core.db import unit_of_work
from reseller.core.extensions import db
from reseller.registry.errors import RegistryRejected
from reseller.registry.sandbox_models import SandboxDomain
from reseller.registry.sandbox_state import SERVER_STATUSES, new_auth_code


def _row(name: str) -> SandboxDomain:
    row = db.session.get(SandboxDomain, name, populate_existing=True)
    if row is None:
        raise RegistryRejected(2303, f"Object does not exist: {name}")
    return row


def set_server_statuses(name: str, *, add: list[str] = (), remove: list[str] = ()
                        ) -> list[str]:
    """Set or clear statuses only the registry sets (serverHold, serverTransferProhibited,
    serverUpdateProhibited, serverDeleteProhibited, serverRenewProhibited)."""
    unknown = [s for s in (*add, *remove) if s not in SERVER_STATUSES]
    if unknown:
        raise ValueError(f"not a server status: {', '.join(unknown)} "
                         f"(known: {', '.join(SERVER_STATUSES)})")
    with unit_of_work():
        row = _row(name)
        kept = [s for s in row.server_statuses or [] if s not in remove]
        row.server_statuses = kept + [s for s in add if s not in kept]
        statuses = list(row.server_statuses)
    return statuses


def renew(name: str, *, years: int = 1) -> str:
    """The registry renews the name itself (a gTLD auto-renew, or a renewal through
    another channel): the expiry moves on and our record is behind."""
    with unit_of_work():
        row = _row(name)
        row.expires_at = add_years(row.expires_at, years)
        expiry = row.expires_at.isoformat()
    return expiry


def set_nameservers(name: str, nameservers: list[str]) -> None:
    with unit_of_work():
        _row(name).nameservers = [n.lower().rstrip(".") for n in nameservers]


def set_ds(name: str, ds: list[dict]) -> None:
    with unit_of_work():
        _row(name).ds = list(ds)


def delete(name: str, *, purge: bool = False) -> None:
    """The name leaves at the registry: into redemption where the TLD has one, else (or
    with ``purge``) gone."""
    with unit_of_work():
        row = _row(name)
        if purge or not TLDS[name.rpartition(".")[2]].redemption_days:
            db.session.delete(row)
        else:
            row.status, row.deleted_at, row.transfer_status = "redemption", clock.now(), None


def transfer_away(name: str, *, to: str) -> None:
    """The name moves to another registrar and no poll message says so."""
    with unit_of_work():
        row = _row(name)
        row.sponsor, row.auth_code, row.locked = to, new_auth_code(), False
        row.transfer_status = None
