"""The sandbox registry: a real implementation of ``Registry`` with the catalogue's rules,
state in our database, premium and reserved names, names held by another registrar,
transfers that wait for the losing side (or 5 days), and injectable failures.

Like a remote registry, it commits its own changes as soon as a command is carried out,
so a crash in the caller afterwards leaves the registry changed and the caller must ask
(``transaction``) or repeat the command with the same transaction id.
"""

from __future__ import annotations

import random
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from reseller.catalog.rules import TLDS, add_years
from reseller.core.clock import clock
from reseller.core.db import unit_of_work
from reseller.core.extensions import db
from reseller.registry.base import (
    Availability,
    DomainInfo,
    Message,
    Outcome,
    RegistryRejected,
    RegistryTimeout,
    RegistryUnavailable,
    TransferInfo,
)
from reseller.registry.sandbox_models import (
    SandboxContact,
    SandboxDomain,
    SandboxHost,
    SandboxMessage,
    SandboxTransaction,
)

OTHER_REGISTRAR = "other-registrar"
TRANSFER_WAIT = timedelta(days=5)
RESERVED = frozenset({"nic", "whois", "rdap", "registry", "example", "localhost"})
PREMIUM_WORDS = {"kauppa": Decimal("250.00"), "hotelli": Decimal("250.00"),
                 "cloud": Decimal("400.00"), "pizza": Decimal("180.00"),
                 "casino": Decimal("900.00")}
SHORT_PREMIUM = Decimal("120.00")  # 1-3 character names on .com/.net/.org


class SimulatedCrash(BaseException):
    """Injected: the calling process 'dies' here (not an Exception, so nothing catches it)."""


@dataclass
class Fault:
    operation: str  # a command name or "*"
    kind: str  # unavailable | timeout | crash_before | crash_after
    times: int = 1


def new_auth_code() -> str:
    return secrets.token_urlsafe(12)


class SandboxRegistry:
    def __init__(self, *, registrar_id: str = "tunnus", failure_rate: Decimal = Decimal(0),
                 timeout_rate: Decimal = Decimal(0), latency_ms: int = 0) -> None:
        self.registrar_id = registrar_id
        self.failure_rate = failure_rate
        self.timeout_rate = timeout_rate
        self.latency_ms = latency_ms
        self.faults: list[Fault] = []
        self._lock = threading.Lock()

    @classmethod
    def from_config(cls, config: Any) -> SandboxRegistry:
        return cls(registrar_id=config.get("REGISTRY_CLIENT_ID", "tunnus"),
                   failure_rate=Decimal(str(config.get("SANDBOX_REGISTRY_FAILURE_RATE", "0"))),
                   timeout_rate=Decimal(str(config.get("SANDBOX_REGISTRY_TIMEOUT_RATE", "0"))),
                   latency_ms=int(config.get("SANDBOX_REGISTRY_LATENCY_MS", 0)))

    # -- failure injection ---------------------------------------------------------------
    def inject(self, operation: str, kind: str, times: int = 1) -> None:
        """Make the next ``times`` calls of ``operation`` fail the way ``kind`` says."""
        assert kind in ("unavailable", "timeout", "crash_before", "crash_after")
        with self._lock:
            self.faults.append(Fault(operation, kind, times))

    def clear_faults(self) -> None:
        with self._lock:
            self.faults.clear()

    def _take_fault(self, operation: str, kinds: tuple[str, ...]) -> str | None:
        with self._lock:
            for fault in self.faults:
                if fault.operation in (operation, "*") and fault.kind in kinds and fault.times:
                    fault.times -= 1
                    if not fault.times:
                        self.faults.remove(fault)
                    return fault.kind
        return None

    def _before(self, operation: str) -> None:
        if self.latency_ms:
            time.sleep(self.latency_ms / 1000)
        kind = self._take_fault(operation, ("unavailable", "crash_before"))
        if kind == "crash_before":
            raise SimulatedCrash(f"crash before {operation}")
        if kind == "unavailable" or (self.failure_rate and random.random() < self.failure_rate):
            raise RegistryUnavailable(f"sandbox registry unavailable ({operation})")

    def _after(self, operation: str) -> None:
        kind = self._take_fault(operation, ("timeout", "crash_after"))
        if kind == "crash_after":
            raise SimulatedCrash(f"crash after {operation}")
        if kind == "timeout" or (self.timeout_rate and random.random() < self.timeout_rate):
            raise RegistryTimeout(f"sandbox registry timed out ({operation})")

    # -- transactions ----------------------------------------------------------------------
    def transaction(self, transaction_id: str) -> Outcome | None:
        """What became of ``transaction_id`` (None: the registry never saw it)."""
        recorded = self._recorded(transaction_id)
        if recorded is None:
            return None
        return Outcome(ok=recorded.ok, result=_decode(recorded.result) if recorded.ok else None,
                       code=recorded.code, message=recorded.message)

    def _recorded(self, transaction_id: str) -> Outcome | None:
        row = db.session.get(SandboxTransaction, transaction_id,
                             populate_existing=True)
        if row is None or row.registrar != self.registrar_id:
            return None
        return Outcome(ok=row.ok, result=row.result, code=row.code, message=row.message)

    def _once(self, operation: str, name: str, transaction_id: str,
              body: Callable[[], Any]) -> Any:
        """Carry out ``body`` once per transaction id, commit, and answer repeats from the
        record. Faults fire before (nothing done) or after (done, answer lost)."""
        self._before(operation)
        recorded = self._recorded(transaction_id)
        if recorded is None:
            with unit_of_work():
                try:
                    with db.session.begin_nested():  # a refusal leaves no half-change
                        result = _encode(body())
                    code, message, ok = 1000, "Command completed successfully", True
                except RegistryRejected as rejected:
                    result, code, message, ok = {}, rejected.code, rejected.message, False
                db.session.add(SandboxTransaction(
                    id=transaction_id, registrar=self.registrar_id, operation=operation,
                    name=name, ok=ok, code=code, message=message[:300], result=result))
            recorded = Outcome(ok=ok, result=result, code=code, message=message)
        self._after(operation)
        if not recorded.ok:
            raise RegistryRejected(recorded.code, recorded.message)
        return _decode(recorded.result)

    # -- reads -----------------------------------------------------------------------------
    def check(self, names: list[str]) -> list[Availability]:
        self._before("check")
        answers = []
        for name in names:
            label, _, tld = name.partition(".")
            row = self._settled(name)
            premium = _premium_price(label, tld)
            if label in RESERVED:
                answers.append(Availability(name, False, reason="reserved"))
            elif row is not None:
                answers.append(Availability(name, False, premium is not None, premium,
                                            reason="registered"))
            else:
                answers.append(Availability(name, True, premium is not None, premium))
        return answers

    def info(self, name: str) -> DomainInfo | None:
        self._before("info")
        row = self._settled(name)
        return None if row is None else _info(row)

    def transfer_query(self, *, name: str) -> TransferInfo | None:
        self._before("transfer_query")
        row = self._settled(name)
        return None if row is None or row.transfer_status is None else _transfer(row)

    # -- domain commands -------------------------------------------------------------------
    def create(self, *, name: str, years: int, registrant: str, admin: str | None,
               tech: str | None, nameservers: list[str], transaction_id: str) -> DomainInfo:
        def body() -> DomainInfo:
            label, _, tld = name.partition(".")
            rules = TLDS.get(tld)
            if rules is None:
                raise RegistryRejected(2306, "Parameter value policy error: unknown TLD")
            if label in RESERVED:
                raise RegistryRejected(2302, "Object exists (reserved)")
            if self._settled(name, lock=True) is not None:
                raise RegistryRejected(2302, "Object exists")
            if not rules.min_period <= years <= rules.max_period:
                raise RegistryRejected(2306, "Parameter value policy error: period")
            now = clock.now()
            lock = timedelta(days=rules.transfer_lock_days)
            row = SandboxDomain(
                name=name, sponsor=self.registrar_id, auth_code=new_auth_code(),
                created_at=now, expires_at=add_years(now, years), registrant=registrant,
                admin=admin, tech=tech, nameservers=list(nameservers), ds=[],
                locked_until=now + lock if lock else None)
            db.session.add(row)
            try:
                with db.session.begin_nested():
                    db.session.flush()
            except sa.exc.IntegrityError:
                raise RegistryRejected(2302, "Object exists") from None
            return _info(row)

        return self._once("create", name, transaction_id, body)

    def renew(self, *, name: str, years: int, current_expiry: datetime,
              transaction_id: str) -> DomainInfo:
        def body() -> DomainInfo:
            row = self._ours(name)
            if row.status != "ok":
                raise RegistryRejected(2304, "Object status prohibits operation")
            if row.expires_at.date() != current_expiry.date():
                raise RegistryRejected(2306, "Parameter value policy error: curExpDate")
            rules = TLDS[name.rpartition(".")[2]]
            new_expiry = add_years(row.expires_at, years)
            if new_expiry > add_years(clock.now(), rules.max_period):
                raise RegistryRejected(2306, "Parameter value policy error: "
                                             f"at most {rules.max_period} years ahead")
            row.expires_at = new_expiry
            return _info(row)

        return self._once("renew", name, transaction_id, body)

    def restore(self, *, name: str, transaction_id: str) -> DomainInfo:
        def body() -> DomainInfo:
            row = self._ours(name)
            if row.status != "redemption":
                raise RegistryRejected(2304, "Object status prohibits operation: not in "
                                             "redemption")
            now = clock.now()
            row.status, row.deleted_at = "ok", None
            renewed = add_years(row.expires_at, 1)
            row.expires_at = renewed if renewed > now else add_years(now, 1)
            return _info(row)

        return self._once("restore", name, transaction_id, body)

    def change_registrant(self, *, name: str, registrant: str,
                          transaction_id: str) -> DomainInfo:
        def body() -> DomainInfo:
            row = self._ours(name, active=True)
            rules = TLDS[name.rpartition(".")[2]]
            row.registrant = registrant
            if rules.transfer_lock_days:
                row.locked_until = clock.now() + timedelta(days=rules.transfer_lock_days)
            return _info(row)

        return self._once("change_registrant", name, transaction_id, body)

    def update(self, *, name: str, transaction_id: str, nameservers: list[str] | None = None,
               ds: list[dict] | None = None, locked: bool | None = None,
               admin: str | None = None, tech: str | None = None,
               hold: bool | None = None) -> DomainInfo:
        def body() -> DomainInfo:
            row = self._ours(name, active=True)
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
            return _info(row)

        return self._once("update", name, transaction_id, body)

    def auth_code(self, *, name: str, transaction_id: str) -> str:
        def body() -> str:
            row = self._ours(name, active=True)
            if row.locked:
                raise RegistryRejected(2304, "Object status prohibits operation: locked")
            row.auth_code = new_auth_code()
            return row.auth_code

        return self._once("auth_code", name, transaction_id, body)

    def delete(self, *, name: str, transaction_id: str) -> None:
        def body() -> None:
            row = self._ours(name)
            rules = TLDS[name.rpartition(".")[2]]
            if rules.redemption_days:
                row.status, row.deleted_at = "redemption", clock.now()
                row.transfer_status = None
            else:
                db.session.delete(row)
            return None

        return self._once("delete", name, transaction_id, body)

    # -- transfers -------------------------------------------------------------------------
    def transfer_request(self, *, name: str, auth_code: str, years: int,
                         transaction_id: str) -> TransferInfo:
        def body() -> TransferInfo:
            return _request_transfer(self._settled(name, lock=True), name, auth_code, years,
                                     gaining=self.registrar_id)

        return self._once("transfer_request", name, transaction_id, body)

    def transfer_answer(self, *, name: str, approve: bool) -> TransferInfo:
        """Answer, as the losing registrar, a transfer request for one of our names."""
        self._before("transfer_answer")
        with unit_of_work():
            row = self._ours(name)
            info = _answer_transfer(row, approve)
        return info

    def simulate_transfer_out(self, *, name: str, auth_code: str,
                              gaining: str = OTHER_REGISTRAR) -> TransferInfo:
        """Sandbox only: another registrar asks for one of our names with its auth code."""
        with unit_of_work():
            row = self._settled(name, lock=True)
            info = _request_transfer(row, name, auth_code, 1, gaining=gaining)
        return info

    def simulate_losing_answer(self, *, name: str, approve: bool) -> TransferInfo:
        """Sandbox only: the other registrar answers our transfer request."""
        with unit_of_work():
            row = self._settled(name, lock=True)
            if row is None:
                raise RegistryRejected(2303, "Object does not exist")
            info = _answer_transfer(row, approve)
        return info

    def seed_foreign(self, *, name: str, auth_code: str, years: int = 1,
                     sponsor: str = OTHER_REGISTRAR, created_at: datetime | None = None) -> None:
        """Sandbox only: a name registered elsewhere (idempotent; caller commits)."""
        if db.session.get(SandboxDomain, name) is not None:
            return
        created = created_at or clock.now() - timedelta(days=400)
        expires = add_years(created, years)
        while expires < clock.now() + timedelta(days=30):
            expires = add_years(expires, 1)
        db.session.add(SandboxDomain(name=name, sponsor=sponsor, auth_code=auth_code,
                                     created_at=created, expires_at=expires,
                                     nameservers=["ns1.other-registrar.example",
                                                  "ns2.other-registrar.example"], ds=[]))
        db.session.flush()

    # -- hosts and contacts -----------------------------------------------------------------
    def host_set(self, *, name: str, addresses: list[str]) -> None:
        self._before("host_set")
        with unit_of_work():
            row = db.session.get(SandboxHost, name)
            if row is not None and row.sponsor != self.registrar_id:
                raise RegistryRejected(2201, "Authorization error")
            row = row or SandboxHost(name=name, sponsor=self.registrar_id)
            row.addresses = list(addresses)
            db.session.add(row)

    def host_delete(self, *, name: str) -> None:
        self._before("host_delete")
        with unit_of_work():
            row = db.session.get(SandboxHost, name)
            if row is not None and row.sponsor == self.registrar_id:
                db.session.delete(row)

    def contact_set(self, *, handle: str, data: dict) -> None:
        self._before("contact_set")
        with unit_of_work():
            row = db.session.get(SandboxContact, handle) or SandboxContact(
                handle=handle, sponsor=self.registrar_id)
            row.data = dict(data)
            db.session.add(row)

    # -- poll queue ------------------------------------------------------------------------
    def poll(self) -> list[Message]:
        """Settle due transfers, then return our unacknowledged messages, oldest first."""
        self._before("poll")
        with unit_of_work():
            due = db.session.scalars(sa.select(SandboxDomain).where(
                SandboxDomain.transfer_status == "pending",
                SandboxDomain.transfer_requested_at <= clock.now() - TRANSFER_WAIT))
            for row in list(due):
                _settle(row)
        rows = db.session.scalars(sa.select(SandboxMessage).where(
            SandboxMessage.registrar == self.registrar_id, SandboxMessage.acked_at.is_(None))
            .order_by(SandboxMessage.id))
        return [Message(row.id, row.kind, row.name, dict(row.data)) for row in rows]

    def ack(self, message_id: int) -> None:
        row = db.session.get(SandboxMessage, message_id)
        if row is not None and row.registrar == self.registrar_id and row.acked_at is None:
            row.acked_at = clock.now()
            db.session.flush()

    # -- helpers ---------------------------------------------------------------------------
    def _settled(self, name: str, *, lock: bool = False) -> SandboxDomain | None:
        stmt = sa.select(SandboxDomain).where(SandboxDomain.name == name)
        if lock and db.engine.dialect.name != "sqlite":
            stmt = stmt.with_for_update()
        row = db.session.scalar(stmt.execution_options(populate_existing=True))
        if row is None:
            return None
        return _settle(row)

    def _ours(self, name: str, *, active: bool = False) -> SandboxDomain:
        row = self._settled(name, lock=True)
        if row is None:
            raise RegistryRejected(2303, "Object does not exist")
        if row.sponsor != self.registrar_id:
            raise RegistryRejected(2201, "Authorization error")
        if active and row.status != "ok":
            raise RegistryRejected(2304, "Object status prohibits operation")
        return row


def _settle(row: SandboxDomain) -> SandboxDomain | None:
    """Apply what time has decided: auto-approve transfers, purge after redemption."""
    now = clock.now()
    if row.transfer_status == "pending" and row.transfer_requested_at + TRANSFER_WAIT <= now:
        _complete_transfer(row, "serverApproved")
    if row.status == "redemption":
        rules = TLDS[row.name.rpartition(".")[2]]
        if row.deleted_at + timedelta(days=rules.redemption_days) <= now:
            db.session.delete(row)
            db.session.flush()
            return None
    return row


def _request_transfer(row: SandboxDomain | None, name: str, auth_code: str, years: int, *,
                      gaining: str) -> TransferInfo:
    if row is None:
        raise RegistryRejected(2303, "Object does not exist")
    if row.sponsor == gaining:
        raise RegistryRejected(2106, "Object is not eligible for transfer: already sponsor")
    if row.status != "ok" or row.locked:
        raise RegistryRejected(2304, "Object status prohibits operation: transfer prohibited")
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
    return _transfer(row)


def _answer_transfer(row: SandboxDomain, approve: bool) -> TransferInfo:
    if row.transfer_status != "pending":
        raise RegistryRejected(2301, "Object not pending transfer")
    if approve:
        _complete_transfer(row, "clientApproved")
    else:
        row.transfer_status = "clientRejected"
        db.session.add(SandboxMessage(registrar=row.transfer_gaining, kind="transfer_rejected",
                                      name=row.name, data={}))
        db.session.flush()
    return _transfer(row)


def _complete_transfer(row: SandboxDomain, status: str) -> None:
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


def _premium_price(label: str, tld: str) -> Decimal | None:
    import idna

    try:
        ulabel = idna.decode(label)
    except idna.IDNAError:
        ulabel = label
    if ulabel in PREMIUM_WORDS:
        return PREMIUM_WORDS[ulabel]
    if tld in ("com", "net", "org") and len(ulabel) <= 3:
        return SHORT_PREMIUM
    return None


def _info(row: SandboxDomain) -> DomainInfo:
    statuses = ["ok"] if row.status == "ok" else ["redemptionPeriod"]
    if row.locked:
        statuses.append("clientTransferProhibited")
    if row.hold:
        statuses.append("clientHold")
    if row.transfer_status == "pending":
        statuses.append("pendingTransfer")
    return DomainInfo(name=row.name, sponsor=row.sponsor, created_at=row.created_at,
                      expires_at=row.expires_at, registrant=row.registrant, admin=row.admin,
                      tech=row.tech, nameservers=tuple(row.nameservers or ()),
                      ds=tuple(row.ds or ()), locked=row.locked, statuses=tuple(statuses),
                      hold=bool(row.hold))


def _transfer(row: SandboxDomain) -> TransferInfo:
    requested = row.transfer_requested_at
    approved = row.transfer_status in ("clientApproved", "serverApproved")
    return TransferInfo(name=row.name, status=row.transfer_status,
                        gaining=row.transfer_gaining, losing=row.sponsor if not approved else "",
                        requested_at=requested, act_by=requested + TRANSFER_WAIT,
                        expires_at=row.expires_at if approved else None)


def _encode(value: Any) -> dict:
    if isinstance(value, DomainInfo):
        return {"type": "domain", "value": value.as_dict()}
    if isinstance(value, TransferInfo):
        return {"type": "transfer", "value": {
            "name": value.name, "status": value.status, "gaining": value.gaining,
            "losing": value.losing, "requested_at": value.requested_at.isoformat(),
            "act_by": value.act_by.isoformat(),
            "expires_at": value.expires_at.isoformat() if value.expires_at else None}}
    return {"type": "text", "value": value}


def _decode(data: dict) -> Any:
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
