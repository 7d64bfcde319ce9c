"""The sandbox registry's rules over its rows: what time decides (transfers approved after
5 days, names purged after redemption), transfers between registrars, premium prices, and
the answers it gives (``DomainInfo``/``TransferInfo``, stored per transaction id)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import idna

from reseller.catalog.models import TLDS, add_years
from reseller.core.clock import clock
from reseller.core.extensions import db
from reseller.registry.errors import RegistryRejected
from reseller.registry.models import DomainInfo, TransferInfo
from reseller.registry.sandbox_models import SandboxDomain, SandboxMessage

OTHER_REGISTRAR = "other-registrar"
TRANSFER_WAIT = timedelta(days=5)
RESERVED = frozenset({"nic", "whois", "rdap", "registry", "example", "localhost"})
PREMIUM_WORDS = {"kauppa": Decimal("250.00"), "hotelli": Decimal("250.00"),
                 "cloud": Decimal("400.00"), "pizza": Decimal("180.00"),
                 "casino": Decimal("900.00")}
SHORT_PREMIUM = Decimal("120.00")  # 1-3 character names on .com/.net/.org


def new_auth_code() -> str:
    return secrets.token_urlsafe(12)


# gTLD registries renew a name themselves when it expires (the registrar is charged; a
# delete within the auto-renew grace period credits it back).
AUTO_RENEW_TLDS = frozenset({"com", "net", "org"})


def settle(row: SandboxDomain) -> SandboxDomain | None:
    """Apply what time has decided: auto-approve transfers, renew expired gTLD names,
    purge after redemption."""
    now = clock.now()
    if row.transfer_status == "pending" and row.transfer_requested_at + TRANSFER_WAIT <= now:
        complete_transfer(row, "serverApproved")
    if row.status == "ok" and row.expires_at <= now \
            and row.name.rpartition(".")[2] in AUTO_RENEW_TLDS:
        while row.expires_at <= now:
            row.expires_at = add_years(row.expires_at, 1)
    if row.restore_requested_at is not None \
            and row.restore_requested_at + RESTORE_REPORT_WAIT <= now:
        row.restore_requested_at = None  # no report came: back to redemption
    if row.status == "redemption":
        rules = TLDS[row.name.rpartition(".")[2]]
        if row.deleted_at + timedelta(days=rules.redemption_days) <= now:
            db.session.delete(row)
            db.session.flush()
            return None
    return row


def request_transfer(row: SandboxDomain | None, name: str, auth_code: str, years: int, *,
                      gaining: str) -> TransferInfo:
    if row is None:
        raise RegistryRejected(2303, "Object does not exist")
    if row.sponsor == gaining:
        raise RegistryRejected(2106, "Object is not eligible for transfer: already sponsor")
    if row.status != "ok" or row.locked:
        raise RegistryRejected(2304, "Object status prohibits operation: transfer prohibited")
    refuse_if_prohibited(row, "transfer")
    if row.locked_until is not None and row.locked_until > clock.now():
        raise RegistryRejected(2304, "Object status prohibits operation: transfer lock period")
    if row.transfer_status == "pending":
        raise RegistryRejected(2300, "Object pending transfer")
    if not secrets.compare_digest(row.auth_code.encode(), (auth_code or "").encode()):
        raise RegistryRejected(2202, "Invalid authorization information")
    row.transfer_status, row.transfer_gaining = "pending", gaining
    row.transfer_requested_at, row.transfer_years = clock.now(), years
    db.session.add(SandboxMessage(registrar=row.sponsor, kind="transfer_requested",
                                  name=row.name, data={"gaining": gaining}))
    db.session.flush()
    return transfer_info(row)


def answer_transfer(row: SandboxDomain, approve: bool) -> TransferInfo:
    if row.transfer_status != "pending":
        raise RegistryRejected(2301, "Object not pending transfer")
    if approve:
        complete_transfer(row, "clientApproved")
    else:
        row.transfer_status = "clientRejected"
        db.session.add(SandboxMessage(registrar=row.transfer_gaining, kind="transfer_rejected",
                                      name=row.name, data={}))
        db.session.flush()
    return transfer_info(row)


def complete_transfer(row: SandboxDomain, status: str) -> None:
    rules = TLDS[row.name.rpartition(".")[2]]
    losing = row.sponsor
    if rules.transfer_adds_year:
        row.expires_at = add_years(row.expires_at, row.transfer_years or 1)
    row.sponsor, row.transfer_status = row.transfer_gaining, status
    row.auth_code, row.locked = new_auth_code(), False
    if rules.transfer_lock_days:
        row.locked_until = clock.now() + timedelta(days=rules.transfer_lock_days)
    data = {"losing": losing, "gaining": row.sponsor, "expires_at": row.expires_at.isoformat()}
    for registrar in (losing, row.sponsor):
        db.session.add(SandboxMessage(registrar=registrar, kind="transfer_completed",
                                      name=row.name, data=data))
    db.session.flush()


RESTORE_REPORT_WAIT = timedelta(days=7)  # RFC 3915: pendingRestore lasts 7 days
REPORT_STATEMENTS = 2  # the two statements RFC 3915's report carries


def request_restore(row: SandboxDomain) -> None:
    """RFC 3915 restore request: a name in redemption goes to ``pendingRestore`` and waits
    for its report (7 days; then it is back in redemption)."""
    if row.status != "redemption":
        raise RegistryRejected(2304, "Object status prohibits operation: not in redemption")
    if row.restore_requested_at is None:
        row.restore_requested_at = clock.now()


def report_restore(row: SandboxDomain, report: Any) -> None:
    """RFC 3915 restore report: accepted only after a request, within 7 days, with its
    content complete and its times plausible; the name is then restored, renewed for a
    year from expiry or from now."""
    if row.status != "redemption" or row.restore_requested_at is None:
        raise RegistryRejected(2304, "Object status prohibits operation: no restore request "
                                     "pending")
    if report is None:
        raise RegistryRejected(2003, "Required parameter missing: restore report")
    missing = [label for label, value in (("preData", report.pre_data),
                                          ("postData", report.post_data),
                                          ("resReason", report.reason)) if not value.strip()]
    if missing or len([s for s in report.statements if s.strip()]) < REPORT_STATEMENTS:
        raise RegistryRejected(2003, "Required parameter missing: restore report "
                               + (", ".join(missing) or "statements"))
    now = clock.now()
    if report.restored_at > now + timedelta(days=1) or report.deleted_at > report.restored_at:
        raise RegistryRejected(2004, "Parameter value range error: restore report times")
    row.status, row.deleted_at, row.restore_requested_at = "ok", None, None
    renewed = add_years(row.expires_at, 1)
    row.expires_at = renewed if renewed > now else add_years(now, 1)


def change_registrant_row(row: SandboxDomain, registrant: str) -> None:
    """A new registrant; where the TLD says so, no transfer out for a while."""
    rules = TLDS[row.name.rpartition(".")[2]]
    row.registrant = registrant
    if rules.transfer_lock_days:
        row.locked_until = clock.now() + timedelta(days=rules.transfer_lock_days)


def apply_changes(row: SandboxDomain, *, nameservers: list[str] | None = None,
                  ds: list[dict] | None = None, locked: bool | None = None,
                  admin: str | None = None, tech: str | None = None,
                  hold: bool | None = None, registrant: str | None = None) -> None:
    """The changes ``update`` allows; None leaves a field as it is. A registrant set here
    is the sponsor bringing the registry's record up to date (e.g. after a transfer in),
    not an owner change: ``change_registrant_row`` is that."""
    if hold is not None:
        row.hold = hold
    if nameservers is not None:
        row.nameservers = list(nameservers)
    if ds is not None:
        row.ds = list(ds)
    if locked is not None:
        row.locked = locked
    if admin is not None:
        row.admin = admin
    if tech is not None:
        row.tech = tech
    if registrant is not None:
        row.registrant = registrant


def premium_price(label: str, tld: str) -> Decimal | None:
    try:
        ulabel = idna.decode(label)
    except idna.IDNAError:
        ulabel = label
    if ulabel in PREMIUM_WORDS:
        return PREMIUM_WORDS[ulabel]
    if tld in ("com", "net", "org") and len(ulabel) <= 3:
        return SHORT_PREMIUM
    return None


def premium_fee(name: str, command: str, years: int = 1) -> Decimal | None:
    """The registry's fee for ``command`` on a premium ``name`` (RFC 8748 ``fee:fee``):
    the yearly premium price per year for create, renew and transfer, one year's for a
    restore. None for a standard name (its price is the catalogue's)."""
    label, _, tld = name.partition(".")
    price = premium_price(label, tld)
    if price is None:
        return None
    return price * (1 if command == "restore" else years)


def require_fee(name: str, command: str, years: int, fee: Decimal | None) -> None:
    """A premium command goes through only with the fee acknowledged, and only when the
    acknowledged fee covers the price (RFC 8748 section 3.8: 2003 without, 2004 below)."""
    price = premium_fee(name, command, years)
    if price is None:
        return
    if fee is None:
        raise RegistryRejected(2003, "Required parameter missing: the fee of a premium "
                                     f"name ({price:.2f} EUR) must be acknowledged")
    if fee < price:
        raise RegistryRejected(2004, f"Parameter value range error: the fee is {price:.2f} EUR")


SERVER_STATUSES = ("serverHold", "serverTransferProhibited", "serverUpdateProhibited",
                   "serverDeleteProhibited", "serverRenewProhibited")
# What each server status forbids (RFC 5731 section 2.3).
PROHIBITS = {"serverTransferProhibited": "transfer", "serverUpdateProhibited": "update",
             "serverDeleteProhibited": "delete", "serverRenewProhibited": "renew"}


def new_roid() -> str:
    """A repository object id (eppcom:roidType: word characters, a dash, a suffix)."""
    return f"D{secrets.token_hex(8).upper()}-SANDBOX"


def row_roid(row: SandboxDomain) -> str:
    """The row's ROID; a row from before ROIDs has one derived from its name."""
    if row.roid:
        return row.roid
    return f"D{hashlib.sha256(row.name.encode()).hexdigest()[:16].upper()}-SANDBOX"


def refuse_if_prohibited(row: SandboxDomain, operation: str) -> None:
    """2304 when a server status forbids ``operation`` on the name."""
    for status in row.server_statuses or ():
        if PROHIBITS.get(status) == operation:
            raise RegistryRejected(2304, f"Object status prohibits operation: {status}")


def statuses_of(row: SandboxDomain) -> list[str]:
    """RFC 5731 statuses of the row, ``ok`` only when there is nothing else."""
    statuses = [] if row.status == "ok" else ["redemptionPeriod"]
    if row.status != "ok" and row.restore_requested_at is not None:
        statuses = ["pendingRestore"]
    if row.locked:
        statuses.append("clientTransferProhibited")
    if row.hold:
        statuses.append("clientHold")
    if row.transfer_status == "pending":
        statuses.append("pendingTransfer")
    statuses += [s for s in SERVER_STATUSES if s in (row.server_statuses or ())]
    return statuses or ["ok"]


def domain_info(row: SandboxDomain) -> DomainInfo:
    return DomainInfo(name=row.name, sponsor=row.sponsor, created_at=row.created_at,
                      expires_at=row.expires_at, registrant=row.registrant, admin=row.admin,
                      tech=row.tech, nameservers=tuple(row.nameservers or ()),
                      ds=tuple(row.ds or ()), locked=row.locked,
                      statuses=tuple(statuses_of(row)), hold=bool(row.hold),
                      roid=row_roid(row))


def transfer_info(row: SandboxDomain) -> TransferInfo:
    requested = row.transfer_requested_at
    approved = row.transfer_status in ("clientApproved", "serverApproved")
    return TransferInfo(name=row.name, status=row.transfer_status,
                        gaining=row.transfer_gaining, losing=row.sponsor if not approved else "",
                        requested_at=requested, act_by=requested + TRANSFER_WAIT,
                        expires_at=row.expires_at if approved else None)


def encode_result(value: Any) -> dict:
    if isinstance(value, DomainInfo):
        return {"type": "domain", "value": value.as_dict()}
    if isinstance(value, TransferInfo):
        return {"type": "transfer", "value": {
            "name": value.name, "status": value.status, "gaining": value.gaining,
            "losing": value.losing, "requested_at": value.requested_at.isoformat(),
            "act_by": value.act_by.isoformat(),
            "expires_at": value.expires_at.isoformat() if value.expires_at else None}}
    return {"type": "text", "value": value}


def decode_result(data: dict) -> Any:
    kind, value = data.get("type"), data.get("value")
    if kind == "domain":
        return DomainInfo.from_dict(value)
    if kind == "transfer":
        parsed = dict(value)
        for key in ("requested_at", "act_by", "expires_at"):
            if parsed[key]:
                parsed[key] = datetime.fromisoformat(parsed[key])
        return TransferInfo(**parsed)
    return value
