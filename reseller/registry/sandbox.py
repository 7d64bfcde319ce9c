"""The sandbox registry: a real implementation of ``Registry`` with the catalogue's rules,
state in our database, premium and reserved names, names held by another registrar,
transfers that wait for the losing side (or 5 days), and injectable failures.

Like a remote registry, it commits its own changes as soon as a command is carried out,
so a crash in the caller afterwards leaves the registry changed and the caller must ask
(``transaction``) or repeat the command with the same transaction id.
"""

from __future__ import annotations

import functools
import json
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
from flask import current_app, g

from reseller.catalog.models import TLDS, add_years
from reseller.core.clock import clock
from reseller.core.db import insert_unless_exists, is_sqlite, unit_of_work
from reseller.core.extensions import db
from reseller.registry.errors import RegistryRejected, RegistryTimeout, RegistryUnavailable
from reseller.registry.models import (
    DELETED,
    PENDING_DELETE,
    Availability,
    DomainInfo,
    Message,
    Outcome,
    RestoreReport,
    TransferInfo,
)
from reseller.registry.sandbox_models import (
    SandboxContact,
    SandboxDomain,
    SandboxHost,
    SandboxMessage,
    SandboxTransaction,
)
from reseller.registry.sandbox_state import (  # noqa: F401  (re-exported)
    OTHER_REGISTRAR,
    PREMIUM_WORDS,
    RESERVED,
    TRANSFER_WAIT,
    answer_transfer,
    apply_changes,
    change_registrant_row,
    decode_result,
    domain_info,
    encode_result,
    new_auth_code,
    new_roid,
    premium_fee,
    premium_price,
    refuse_if_prohibited,
    report_restore,
    request_restore,
    request_transfer,
    require_fee,
    settle,
    transfer_info,
)

# Contact data a registry keeps to itself (identity numbers): never in contact ``info``.
IDENTITY_KEYS = ("registration_number", "personal_id", "orgno")
# Registries that register a name only to a holder whose identity they hold (IIS: every
# .se/.nu registrant has an orgno, a personnummer or organisationsnummer).
IDENTITY_TLDS = frozenset({"se", "nu"})


class SimulatedCrash(BaseException):
    """Injected: the calling process 'dies' here (not an Exception, so nothing catches it)."""


@dataclass
class Fault:
    operation: str  # a command name or "*"
    kind: str  # unavailable | timeout | crash_before | crash_after | drop
    times: int = 1


def _remote(command: Callable[..., Any]) -> Callable[..., Any]:
    """Keep the registry's state apart from the caller's transaction, as a remote registry
    would: a command carries out and commits its own changes, and the caller's session is
    as it was (a transaction it had open stays open, with what it holds; none open stays
    none).

    On PostgreSQL the command runs in a session of its own: a fresh app context, for which
    Flask-SQLAlchemy scopes a new ``db.session`` on another pooled connection, so every
    ``db.session`` the sandbox uses inside is its own and commits independently. Running
    in the caller's session instead, its commit would end the caller's transaction in the
    middle of a request, and with it the locks that transaction holds (a domain's command
    lock, ``records.hold_domain``): a second writer could then read the domain before the
    first one records the answer; and the caller's uncommitted writes could never wait on
    the registry's (a transfer ``settle`` completes, say) in another session of the same
    thread, a wait PostgreSQL cannot see. A command called from inside another one stays
    in the other's session. The sandbox-only reads that return rows (``host_info``,
    ``contact_info``) read in the caller's session, like ``seed_foreign``'s setup.

    A caller with no transaction open and nothing unflushed (the usual case: orders and
    jobs ask the registry between their units of work) lends its own session instead: a
    session of its own would be the same, only dearer (an app context, a session and a
    pooled connection checked out per command). The command commits
    there and leaves what the caller had loaded loaded, as another session would.

    SQLite has a single writer: a second connection would wait for the write lock the
    caller's open transaction holds. There a command called inside the caller's
    transaction runs and commits in it (as it always did), and one called with none open
    returns with none open, and with what the caller had loaded still loaded."""

    @functools.wraps(command)
    def call(self: SandboxRegistry, *args: Any, **kwargs: Any) -> Any:
        if g.get("sandbox_registry_session"):  # inside another command: its session
            return command(self, *args, **kwargs)
        session = db.session()
        if not session.in_transaction() and (
                is_sqlite() or not (session.new or session.dirty or session.deleted)):
            return _in_idle_session(command, self, args, kwargs)
        if is_sqlite():
            return command(self, *args, **kwargs)
        with current_app.app_context():  # a new db.session, removed when it ends
            g.sandbox_registry_session = True
            with unit_of_work():
                return command(self, *args, **kwargs)

    return call


def _in_idle_session(command: Callable[..., Any], registry: SandboxRegistry, args: tuple,
                     kwargs: dict) -> Any:
    """Run ``command`` in the caller's session, which has no transaction open, as a unit of
    work of its own that leaves what the caller had loaded loaded (a page that read its
    contacts and then asked for a price would otherwise read each contact again)."""
    g.sandbox_registry_session = True
    try:
        with unit_of_work(keep_read=True):
            return command(registry, *args, **kwargs)
    finally:
        g.pop("sandbox_registry_session", None)


# Built once: every order reads a name (see BUILT ONCE in reseller.core.db)
_DOMAIN = (sa.select(SandboxDomain).where(SandboxDomain.name == sa.bindparam("name"))
           .execution_options(populate_existing=True))
_DOMAIN_LOCKED = _DOMAIN.with_for_update()
_DOMAINS = (sa.select(SandboxDomain)
            .where(SandboxDomain.name.in_(sa.bindparam("names", expanding=True)))
            .execution_options(populate_existing=True))


# A transaction's record, read and written by Core statements built once: it is only
# values, and the ORM's identity map, flush and refresh cost an order a third of a
# millisecond more, for nothing the sandbox uses.
_T = SandboxTransaction.__table__
_TRANSACTION = sa.select(_T.c.registrar, _T.c.ok, _T.c.code, _T.c.message, _T.c.result) \
    .where(_T.c.id == sa.bindparam("id"))
_RECORD_TRANSACTION = sa.insert(_T)


def _outcome(row: sa.Row) -> Outcome:
    return Outcome(ok=row.ok, result=row.result, code=row.code, message=row.message)


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
        """Make the next ``times`` calls of ``operation`` fail the way ``kind`` says.

        ``drop`` is honoured by the EPP server (``reseller.registry.epp.server``): the
        command is carried out and committed, then the connection closes unanswered."""
        assert kind in ("unavailable", "timeout", "crash_before", "crash_after", "drop")
        with self._lock:
            self.faults.append(Fault(operation, kind, times))

    def clear_faults(self) -> None:
        with self._lock:
            self.faults.clear()

    def take_drop(self, operation: str) -> bool:
        """Whether a ``drop`` fault was injected for ``operation`` (and use it up)."""
        return self._take_fault(operation, ("drop",)) is not None

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
    @_remote
    def transaction(self, transaction_id: str) -> Outcome | None:
        """What became of ``transaction_id`` (None: the registry never saw it)."""
        recorded = self._recorded(transaction_id)
        if recorded is None:
            return None
        return Outcome(ok=recorded.ok, result=decode_result(recorded.result) if recorded.ok else None,
                       code=recorded.code, message=recorded.message)

    def _recorded(self, transaction_id: str) -> Outcome | None:
        """Our record of ``transaction_id`` (None: unseen, or another registrar's)."""
        row = self._transaction_row(transaction_id)
        if row is None or row.registrar != self.registrar_id:
            return None
        return _outcome(row)

    def _transaction_row(self, transaction_id: str) -> sa.Row | None:
        return db.session.execute(_TRANSACTION, {"id": transaction_id}).first()

    def _once(self, operation: str, name: str, transaction_id: str,
              body: Callable[[], Any], *, writes_last: bool = False) -> Any:
        """Carry out ``body`` once per transaction id, commit, and answer repeats from the
        record. Faults fire before (nothing done) or after (done, answer lost).

        A body that refuses (``RegistryRejected``) after it changed something is undone by
        a savepoint. ``writes_last``: the body's one change is its last step, so a refusal
        finds nothing to undo and the savepoint's two round trips are spared (a create;
        what time decided when the name was read, ``settle``, stands either way)."""
        self._before(operation)
        row = self._transaction_row(transaction_id)  # one read answers both questions
        if row is not None and row.registrar != self.registrar_id:
            # Ids are kept per registry, not per registrar: another one used this id first.
            raise RegistryRejected(2306, "Parameter value policy error: transaction id "
                                         "already used by another registrar")
        recorded = None if row is None else _outcome(row)
        if recorded is None:
            with unit_of_work():
                try:
                    if writes_last:
                        result = encode_result(body())
                    else:
                        with db.session.begin_nested():  # a refusal leaves no half-change
                            result = encode_result(body())
                    code, message, ok = 1000, "Command completed successfully", True
                except RegistryRejected as rejected:
                    result, code, message, ok = {}, rejected.code, rejected.message, False
                db.session.execute(_RECORD_TRANSACTION, {
                    "id": transaction_id, "registrar": self.registrar_id,
                    "operation": operation, "name": name, "ok": ok, "code": code,
                    "message": message[:300], "result": result, "created_at": clock.now()})
            recorded = Outcome(ok=ok, result=result, code=code, message=message)
        self._after(operation)
        if not recorded.ok:
            raise RegistryRejected(recorded.code, recorded.message)
        return decode_result(recorded.result)

    # -- reads -----------------------------------------------------------------------------
    @_remote
    def check(self, names: list[str]) -> list[Availability]:
        self._before("check")
        answers = []
        found = self._settled_many(names)  # one statement for the whole check
        for name in names:
            label, _, tld = name.partition(".")
            row = found.get(name)
            premium = premium_price(label, tld)
            if label in RESERVED:
                answers.append(Availability(name, False, reason="reserved"))
            elif row is not None:
                answers.append(Availability(name, False, premium is not None, premium,
                                            reason="registered"))
            else:
                answers.append(Availability(name, True, premium is not None, premium))
        return answers

    @_remote
    def premium_fee(self, *, name: str, command: str, years: int = 1) -> Decimal | None:
        """What ``command`` costs on ``name`` when it is premium (None: standard)."""
        self._before("check")
        return premium_fee(name, command, years)

    @_remote
    def info(self, name: str) -> DomainInfo | None:
        self._before("info")
        row = self._settled(name)
        return None if row is None else domain_info(row)

    @_remote
    def transfer_query(self, *, name: str) -> TransferInfo | None:
        self._before("transfer_query")
        row = self._settled(name)
        return None if row is None or row.transfer_status is None else transfer_info(row)

    # -- domain commands -------------------------------------------------------------------
    @_remote
    def create(self, *, name: str, years: int, registrant: str, admin: str | None,
               tech: str | None, nameservers: list[str], transaction_id: str,
               auth_code: str | None = None, ds: list[dict] | None = None,
               fee: Decimal | None = None) -> DomainInfo:
        """Register ``name``; its auth code is ``auth_code`` or, if none is given, random.
        A premium name needs ``fee``, the price the caller agreed to (RFC 8748)."""
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
            require_fee(name, "create", years, fee)
            if tld in IDENTITY_TLDS and not self.contact_identity(registrant):
                raise RegistryRejected(2306, "Parameter value policy error: the registrant "
                                             "has no orgno (personal or organisation number)")
            now = clock.now()
            lock = timedelta(days=rules.transfer_lock_days)
            # The last step, and the only write: a concurrent create of the name that got
            # there first makes this insert nothing (no IntegrityError, no savepoint).
            row = insert_unless_exists(
                SandboxDomain,
                name=name, sponsor=self.registrar_id, auth_code=auth_code or new_auth_code(),
                created_at=now, expires_at=add_years(now, years), registrant=registrant,
                admin=admin, tech=tech, nameservers=list(nameservers), ds=list(ds or []),
                locked=False, hold=False, status="ok",
                locked_until=now + lock if lock else None, roid=new_roid(), server_statuses=[])
            if row is None:
                raise RegistryRejected(2302, "Object exists")
            return domain_info(row)

        return self._once("create", name, transaction_id, body, writes_last=True)

    @_remote
    def renew(self, *, name: str, years: int, current_expiry: datetime,
              transaction_id: str, fee: Decimal | None = None) -> DomainInfo:
        def body() -> DomainInfo:
            row = self._ours(name)
            if row.status != "ok":
                raise RegistryRejected(2304, "Object status prohibits operation")
            refuse_if_prohibited(row, "renew")
            require_fee(name, "renew", years, fee)
            if row.expires_at.date() != current_expiry.date():
                raise RegistryRejected(2306, "Parameter value policy error: curExpDate")
            rules = TLDS[name.rpartition(".")[2]]
            new_expiry = add_years(row.expires_at, years)
            if new_expiry > add_years(clock.now(), rules.max_period):
                raise RegistryRejected(2306, "Parameter value policy error: "
                                             f"at most {rules.max_period} years ahead")
            row.expires_at = new_expiry
            return domain_info(row)

        return self._once("renew", name, transaction_id, body)

    @_remote
    def restore(self, *, name: str, transaction_id: str, fee: Decimal | None = None,
                report: RestoreReport | None = None) -> DomainInfo:
        """RFC 3915 restore: the request puts the name in ``pendingRestore``, and only the
        report brings it back. Without a report nothing is restored (or charged): 2003."""
        def body() -> DomainInfo:
            row = self._ours(name)
            require_fee(name, "restore", 1, fee)
            request_restore(row)
            if report is None:
                raise RegistryRejected(2003, "Required parameter missing: restore report")
            report_restore(row, report)
            return domain_info(row)

        return self._once("restore", name, transaction_id, body)

    @_remote
    def change_registrant(self, *, name: str, registrant: str,
                          transaction_id: str) -> DomainInfo:
        def body() -> DomainInfo:
            row = self._ours(name, active=True)
            refuse_if_prohibited(row, "update")
            change_registrant_row(row, registrant)
            return domain_info(row)

        return self._once("change_registrant", name, transaction_id, body)

    @_remote
    def update(self, *, name: str, transaction_id: str, nameservers: list[str] | None = None,
               ds: list[dict] | None = None, locked: bool | None = None,
               admin: str | None = None, tech: str | None = None,
               hold: bool | None = None, registrant: str | None = None) -> DomainInfo:
        def body() -> DomainInfo:
            row = self._ours(name, active=True)
            refuse_if_prohibited(row, "update")
            apply_changes(row, nameservers=nameservers, ds=ds, locked=locked, admin=admin,
                          tech=tech, hold=hold, registrant=registrant)
            return domain_info(row)

        return self._once("update", name, transaction_id, body)

    @_remote
    def update_domain(self, *, name: str, transaction_id: str, restore: str | None = None,
                      report: RestoreReport | None = None, registrant: str | None = None,
                      auth_code: str | None = None, fee: Decimal | None = None,
                      **changes: Any) -> DomainInfo:
        """Several changes as one command, all or nothing (EPP's ``<domain:update>``): an
        RFC 3915 restore ``request`` (the name goes to pendingRestore) or ``report`` (the
        report brings it back), or ``update``'s ``changes``, a new registrant (with
        ``change_registrant``'s rules) and a new auth code chosen by the sponsor."""
        def body() -> DomainInfo:
            row = self._ours(name)
            if restore == "request":
                require_fee(name, "restore", 1, fee)
                request_restore(row)
                return domain_info(row)
            if restore == "report":
                report_restore(row, report)
                return domain_info(row)
            if row.status != "ok":
                raise RegistryRejected(2304, "Object status prohibits operation")
            if changes or registrant is not None:
                refuse_if_prohibited(row, "update")
            apply_changes(row, **changes)
            if registrant is not None and registrant != row.registrant:
                change_registrant_row(row, registrant)
            if auth_code is not None:
                row.auth_code = auth_code
            return domain_info(row)

        operation = {"request": "restore_request", "report": "restore"}.get(restore, "update")
        return self._once(operation, name, transaction_id, body)

    @_remote
    def current_auth_code(self, name: str) -> str | None:
        """Sandbox only: the auth code of one of our names (what EPP ``info`` shows the
        sponsor), or None when the name is not ours."""
        row = self._settled(name)
        return row.auth_code if row is not None and row.sponsor == self.registrar_id else None

    @_remote
    def auth_code_matches(self, name: str, auth_code: str) -> bool:
        """Sandbox only: whether ``auth_code`` is the name's (EPP ``info`` by a non-sponsor)."""
        row = self._settled(name)
        return row is not None and secrets.compare_digest(
            row.auth_code.encode(), (auth_code or "").encode())

    @_remote
    def auth_code(self, *, name: str, transaction_id: str) -> str:
        def body() -> str:
            row = self._ours(name, active=True)
            if row.locked:
                raise RegistryRejected(2304, "Object status prohibits operation: locked")
            row.auth_code = new_auth_code()
            return row.auth_code

        return self._once("auth_code", name, transaction_id, body)

    @_remote
    def delete(self, *, name: str, transaction_id: str) -> str:
        """Inside the add grace period the name is gone at once and the registrar credited
        (RFC 3915: 1000, ``DELETED``); otherwise it enters redemption where the TLD has
        one (1001, ``PENDING_DELETE``), else it is gone."""
        def body() -> str:
            row = self._ours(name)
            refuse_if_prohibited(row, "delete")
            rules = TLDS[name.rpartition(".")[2]]
            grace = timedelta(days=rules.add_grace_days)
            if rules.redemption_days and not (grace and row.created_at + grace > clock.now()):
                row.status, row.deleted_at = "redemption", clock.now()
                row.transfer_status, row.restore_requested_at = None, None
                return PENDING_DELETE
            db.session.delete(row)
            return DELETED

        return self._once("delete", name, transaction_id, body)

    # -- transfers -------------------------------------------------------------------------
    @_remote
    def transfer_request(self, *, name: str, auth_code: str, years: int,
                         transaction_id: str, fee: Decimal | None = None) -> TransferInfo:
        def body() -> TransferInfo:
            row = self._settled(name, lock=True)
            if row is not None:
                require_fee(name, "transfer", years, fee)
            return request_transfer(row, name, auth_code, years, gaining=self.registrar_id)

        return self._once("transfer_request", name, transaction_id, body)

    @_remote
    def transfer_answer(self, *, name: str, approve: bool) -> TransferInfo:
        """Answer, as the losing registrar, a transfer request for one of our names."""
        self._before("transfer_answer")
        with unit_of_work():
            row = self._ours(name)
            info = answer_transfer(row, approve)
        return info

    @_remote
    def simulate_transfer_out(self, *, name: str, auth_code: str,
                              gaining: str = OTHER_REGISTRAR) -> TransferInfo:
        """Sandbox only: another registrar asks for one of our names with its auth code."""
        with unit_of_work():
            row = self._settled(name, lock=True)
            info = request_transfer(row, name, auth_code, 1, gaining=gaining)
        return info

    @_remote
    def simulate_losing_answer(self, *, name: str, approve: bool) -> TransferInfo:
        """Sandbox only: the other registrar answers our transfer request."""
        with unit_of_work():
            row = self._settled(name, lock=True)
            if row is None:
                raise RegistryRejected(2303, "Object does not exist")
            info = answer_transfer(row, approve)
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
                                     created_at=created, expires_at=expires, roid=new_roid(),
                                     nameservers=["ns1.other-registrar.example",
                                                  "ns2.other-registrar.example"], ds=[]))
        db.session.flush()

    @_remote
    def previous_sponsor(self, name: str) -> str | None:
        """Sandbox only: who lost ``name`` in its last completed transfer."""
        row = db.session.scalar(sa.select(SandboxMessage).where(
            SandboxMessage.name == name, SandboxMessage.kind == "transfer_completed")
            .order_by(SandboxMessage.id.desc()).limit(1))
        return None if row is None else row.data.get("losing")

    # -- hosts and contacts -----------------------------------------------------------------
    @_remote
    def host_set(self, *, name: str, addresses: list[str]) -> None:
        self._before("host_set")
        with unit_of_work():
            row = db.session.get(SandboxHost, name)
            if row is not None and row.sponsor != self.registrar_id:
                raise RegistryRejected(2201, "Authorization error")
            row = row or SandboxHost(name=name, sponsor=self.registrar_id)
            row.addresses = list(addresses)
            db.session.add(row)
        self._after("host_set")

    @_remote
    def host_delete(self, *, name: str) -> None:
        self._before("host_delete")
        with unit_of_work():
            row = db.session.get(SandboxHost, name)
            if row is not None and row.sponsor == self.registrar_id:
                db.session.delete(row)
        self._after("host_delete")

    @_remote
    def host_in_use(self, name: str) -> bool:
        """Sandbox only: whether any name is delegated to host ``name``."""
        return any(name in (nameservers or ()) for nameservers in db.session.scalars(
            sa.select(SandboxDomain.nameservers)))

    @_remote
    def contact_set(self, *, handle: str, data: dict, name: str | None = None) -> None:
        """Create or update a contact object (``name``: the domain it is needed for,
        which picks the registry where there are several; one registry here)."""
        self._before("contact_set")
        with unit_of_work():
            row = db.session.get(SandboxContact, handle)
            if row is not None and row.sponsor != self.registrar_id:
                raise RegistryRejected(2201, "Authorization error")
            row = row or SandboxContact(handle=handle, sponsor=self.registrar_id)
            public = {k: v for k, v in data.items() if k not in IDENTITY_KEYS}
            identity = {k: data[k] for k in IDENTITY_KEYS if data.get(k)}
            row.data = public
            if identity or row.identity is None:
                row.identity = json.dumps(identity, sort_keys=True) if identity else None
            db.session.add(row)
        self._after("contact_set")

    @_remote
    def contact_identity(self, handle: str) -> dict:
        """Sandbox only: the identity numbers the registry holds for a contact."""
        row = db.session.get(SandboxContact, handle, populate_existing=True)
        return json.loads(row.identity) if row is not None and row.identity else {}

    def host_info(self, name: str) -> SandboxHost | None:
        """Sandbox only: a host object as the registry holds it (EPP host ``info``)."""
        self._before("host_info")
        return db.session.get(SandboxHost, name, populate_existing=True)

    def contact_info(self, handle: str) -> SandboxContact | None:
        """Sandbox only: a contact object as the registry holds it (EPP contact ``info``)."""
        self._before("contact_info")
        return db.session.get(SandboxContact, handle, populate_existing=True)

    # -- poll queue ------------------------------------------------------------------------
    @_remote
    def poll(self) -> list[Message]:
        """Settle due transfers, then return our unacknowledged messages, oldest first."""
        self._before("poll")
        with unit_of_work():
            due = db.session.scalars(sa.select(SandboxDomain).where(
                SandboxDomain.transfer_status == "pending",
                SandboxDomain.transfer_requested_at <= clock.now() - TRANSFER_WAIT))
            for row in list(due):
                settle(row)
        rows = db.session.scalars(sa.select(SandboxMessage).where(
            SandboxMessage.registrar == self.registrar_id, SandboxMessage.acked_at.is_(None))
            .order_by(SandboxMessage.id))
        return [Message(row.id, row.kind, row.name, dict(row.data), row.created_at)
                for row in rows]

    @_remote
    def ack(self, message_id: int) -> None:
        row = db.session.get(SandboxMessage, message_id)
        if row is not None and row.registrar == self.registrar_id and row.acked_at is None:
            row.acked_at = clock.now()
            db.session.flush()

    # -- helpers ---------------------------------------------------------------------------
    def _settled(self, name: str, *, lock: bool = False) -> SandboxDomain | None:
        stmt = _DOMAIN_LOCKED if lock and db.engine.dialect.name != "sqlite" else _DOMAIN
        row = db.session.scalar(stmt, {"name": name})
        if row is None:
            return None
        return settle(row)

    def _settled_many(self, names: list[str]) -> dict[str, SandboxDomain]:
        rows = db.session.scalars(_DOMAINS, {"names": list(names)})
        settled = (settle(row) for row in list(rows))
        return {row.name: row for row in settled if row is not None}

    def _ours(self, name: str, *, active: bool = False) -> SandboxDomain:
        row = self._settled(name, lock=True)
        if row is None:
            raise RegistryRejected(2303, "Object does not exist")
        if row.sponsor != self.registrar_id:
            raise RegistryRejected(2201, "Authorization error")
        if active and row.status != "ok":
            raise RegistryRejected(2304, "Object status prohibits operation")
        return row
