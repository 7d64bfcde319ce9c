"""``EppRegistry``: the ``Registry`` interface over one EPP registry (one TLD group).

Every command that carries our transaction id goes through ``_once``, which gives EPP the
sandbox's promise: a repeated id never acts twice. The journal records the command before
it is sent; an answered id is answered again from the journal, and an id whose answer was
lost is first resolved by looking at the registry (``resolve``) and only re-sent (with the
same clTRID) when the registry shows it was not carried out."""

from __future__ import annotations

import logging
import secrets
import zlib
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

from lxml import etree

from reseller.catalog.models import add_years
from reseller.registry.epp import commands as cmd
from reseller.registry.epp import journal, resolve
from reseller.registry.epp import responses as rsp
from reseller.registry.epp.client import Pool, Session, new_trid
from reseller.registry.epp.profiles import Profile
from reseller.registry.epp.wire import NS
from reseller.registry.errors import RegistryRejected, RegistryUnavailable
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
from reseller.registry.sandbox_state import decode_result, encode_result

log = logging.getLogger(__name__)


def new_auth_code() -> str:
    """Auth codes we set: 16 characters with letters, digits and a sign, which satisfies
    the usual registry password rules."""
    return f"{secrets.token_urlsafe(12)}-{secrets.randbelow(10)}"


class EppRegistry:
    def __init__(self, *, pool: Pool, profile: Profile, registrar_id: str) -> None:
        self.pool = pool
        self.profile = profile
        self.registrar_id = registrar_id  # how the rest of the app names us
        self.name = pool.endpoint.name
        self.own_id = pool.endpoint.client_id  # our clID at this registry
        self._message_ids: dict[int, str] = {}

    # -- plumbing ---------------------------------------------------------------------------
    def _send(self, body: etree._Element, extensions: list[etree._Element | None] = (), *,
              cltrid: str | None = None, session: Session | None = None) -> rsp.Response:
        document = cmd.command(body, cltrid or new_trid(), extensions)
        if session is not None:
            return session.command(document)
        with self.pool.session() as lent:
            return lent.command(document)

    def _call(self, body: etree._Element, extensions: list = (), **kwargs: Any
              ) -> rsp.Response:
        response = self._send(body, extensions, **kwargs)
        response.raise_for_code()
        return response

    def _ext(self, session: Session, uri: str) -> bool:
        return uri in session.extensions

    def _once(self, command: str, name: str, transaction_id: str, params: dict,
              send: Callable[[Session], Any]) -> Any:
        entry = journal.get(transaction_id)
        if entry is not None and entry.registry != self.name:
            raise RegistryRejected(2306, "Parameter value policy error: transaction id "
                                         "already used at another registry")
        if entry is not None and entry.answered:
            return self._replay(entry)
        if entry is not None:  # sent before, answer lost: look before sending again
            outcome = resolve.outcome(self, entry)
            if outcome is not None:
                return self._replay(self._record(entry.id, outcome))
        with self.pool.session() as session:
            journal.sending(transaction_id=transaction_id, registry=self.name,
                            command=command, name=name, params=params)
            try:
                result = send(session)
            except RegistryRejected as rejected:
                journal.answered(transaction_id, code=rejected.code, message=rejected.message,
                                 result=None)
                raise
            except RegistryUnavailable:
                journal.forget(transaction_id)
                raise
        journal.answered(transaction_id, code=1000, message="Command completed successfully",
                         result=encode_result(result))
        return result

    def _record(self, transaction_id: str, outcome: Outcome) -> journal.Entry:
        journal.answered(transaction_id, code=outcome.code, message=outcome.message,
                         result=encode_result(outcome.result) if outcome.ok else None)
        return journal.get(transaction_id)

    def _replay(self, entry: journal.Entry) -> Any:
        if entry.code >= 2000:
            raise RegistryRejected(entry.code, entry.message or "")
        return decode_result(entry.result or {"type": "text", "value": None})

    def transaction(self, transaction_id: str) -> Outcome | None:
        """What became of ``transaction_id``: from the journal, or (answer lost) from what
        the registry shows now. None: never sent, or sent and not carried out."""
        entry = journal.get(transaction_id)
        if entry is None or entry.registry != self.name:
            return None
        if not entry.answered:
            outcome = resolve.outcome(self, entry)
            if outcome is None:
                return None
            entry = self._record(transaction_id, outcome)
        if entry.code >= 2000:
            return Outcome(ok=False, result=None, code=entry.code, message=entry.message or "")
        return Outcome(ok=True, result=decode_result(entry.result or {}), code=entry.code,
                       message=entry.message or "")

    # -- reads ------------------------------------------------------------------------------
    def check(self, names: list[str]) -> list[Availability]:
        with self.pool.session() as session:
            fee = cmd.fee_check() if self._ext(session, cmd.FEE_URI) else None
            response = self._call(cmd.domain_check(names), [fee], session=session)
        return rsp.availability(response)

    def premium_fee(self, *, name: str, command: str, years: int = 1) -> Decimal | None:
        """The registry's fee for ``command`` on ``name`` when it prices the name as
        premium (fee-1.0 ``check``); None for a standard name or without fee-1.0."""
        with self.pool.session() as session:
            if not self._ext(session, cmd.FEE_URI):
                return None
            response = self._call(cmd.domain_check([name]), [cmd.fee_check(command, years)],
                                  session=session)
        return rsp.premium_fee(response, name)

    def _fee(self, session: Session, command: str, fee: Decimal | None
             ) -> etree._Element | None:
        """The fee we agree to, sent where the registry speaks fee-1.0."""
        return cmd.fee_agreed(command, fee) if self._ext(session, cmd.FEE_URI) else None

    @staticmethod
    def _not_above(response: rsp.Response, local: str, fee: Decimal | None) -> None:
        """A registry must refuse rather than charge more than the agreed fee (RFC 8748
        section 3.8, 2004). Should one charge more anyway, the command counts as refused,
        so the order fails and its hold is released: nobody pays what they did not accept."""
        charged = rsp.charged_fee(response, local)
        if fee is not None and charged is not None and charged > fee:
            log.error("registry charged %s EUR, above the agreed %s EUR", charged, fee)
            raise RegistryRejected(2004, f"Parameter value range error: charged {charged:.2f} "
                                         f"EUR, above the agreed {fee:.2f} EUR")

    def info(self, name: str) -> DomainInfo | None:
        response = self._send(cmd.domain_info(name))
        if response.code == 2303:
            return None
        response.raise_for_code()
        return rsp.domain_info(response, own_id=self.own_id, registrar_id=self.registrar_id)

    def current_auth_code(self, name: str) -> str | None:
        response = self._send(cmd.domain_info(name))
        return rsp.auth_code_of(response) if response.ok else None

    def transfer_query(self, *, name: str) -> TransferInfo | None:
        response = self._send(cmd.domain_transfer("query", name))
        if response.code in (2301, 2303):
            return None
        response.raise_for_code()
        return self._transfer(response)

    def _transfer(self, response: rsp.Response) -> TransferInfo:
        found = rsp.transfer_info(response, own_id=self.own_id, registrar_id=self.registrar_id)
        if found is None:
            raise rsp.ProtocolError("transfer answer without trnData")
        return found

    # -- domain commands --------------------------------------------------------------------
    def create(self, *, name: str, years: int, registrant: str, admin: str | None,
               tech: str | None, nameservers: list[str], transaction_id: str,
               ds: list[dict] | None = None, fee: Decimal | None = None) -> DomainInfo:
        roles = {"admin": admin, "tech": tech}
        roles = {k: v for k, v in roles.items() if k in self.profile.roles}

        def send(session: Session) -> DomainInfo:
            self._ensure_hosts(session, nameservers)
            body = cmd.domain_create(
                name=name, years=years,
                registrant=registrant if self.profile.contacts else None,
                admin=roles.get("admin"), tech=roles.get("tech"), nameservers=nameservers,
                auth_code=new_auth_code())
            response = self._call(body, [self._secdns_create(session, ds or []),
                                         self._fee(session, "create", fee)],
                                  cltrid=transaction_id, session=session)
            self._not_above(response, "creData", fee)
            created, expires = rsp.created(response)
            made = DomainInfo(name=name, sponsor=self.registrar_id, created_at=created,
                              expires_at=expires, registrant=registrant,
                              admin=roles.get("admin"), tech=roles.get("tech"),
                              nameservers=tuple(nameservers), ds=tuple(ds or ()))
            try:  # the registry's own view: its ROID and statuses (e.g. addPeriod)
                return self._info_on(session, name)
            except (RegistryRejected, RegistryUnavailable):
                return made  # created all the same; the sync reads the rest later

        return self._once("create", name, transaction_id, {"years": years}, send)

    def renew(self, *, name: str, years: int, current_expiry: datetime,
              transaction_id: str, fee: Decimal | None = None) -> DomainInfo:
        def send(session: Session) -> DomainInfo:
            response = self._call(cmd.domain_renew(name, current_expiry.date(), years),
                                  [self._fee(session, "renew", fee)],
                                  cltrid=transaction_id, session=session)
            self._not_above(response, "renData", fee)
            return self._info_on(session, name)

        return self._once("renew", name, transaction_id, {
            "years": years, "current_expiry": current_expiry.isoformat(),
            "expected_expiry": add_years(current_expiry, years).isoformat()}, send)

    def restore(self, *, name: str, transaction_id: str, fee: Decimal | None = None,
                report: RestoreReport | None = None) -> DomainInfo:
        """RFC 3915: the restore request (with the agreed fee), then its report, each an
        ``<domain:update>`` on the same session. A name already waiting for its report
        (``pendingRestore``, e.g. the answer to our request was lost) gets the report only.
        Without a report nothing is sent: registries refuse to restore without one."""
        if report is None:
            raise RegistryRejected(2003, "Required parameter missing: restore report")

        def send(session: Session) -> DomainInfo:
            if not self._ext(session, NS["rgp"]):
                raise RegistryRejected(2103, "Unimplemented extension: this registry "
                                             "offers no rgp-1.0 restore")
            current = self._info_on(session, name)
            if "pendingRestore" not in current.statuses:
                response = self._call(cmd.domain_update(name, empty_chg=True),
                                      [cmd.rgp_restore(), self._fee(session, "update", fee)],
                                      cltrid=f"{transaction_id}-request", session=session)
                self._not_above(response, "updData", fee)
            self._call(cmd.domain_update(name, empty_chg=True), [cmd.rgp_restore(report)],
                       cltrid=transaction_id, session=session)
            return self._info_on(session, name)

        return self._once("restore", name, transaction_id, {}, send)

    def change_registrant(self, *, name: str, registrant: str,
                          transaction_id: str) -> DomainInfo:
        def send(session: Session) -> DomainInfo:
            self._call(cmd.domain_update(name, registrant=registrant), cltrid=transaction_id,
                       session=session)
            return self._info_on(session, name)

        return self._once("change_registrant", name, transaction_id,
                          {"registrant": registrant}, send)

    def update(self, *, name: str, transaction_id: str, nameservers: list[str] | None = None,
               ds: list[dict] | None = None, locked: bool | None = None,
               admin: str | None = None, tech: str | None = None,
               hold: bool | None = None, registrant: str | None = None) -> DomainInfo:
        """Set the given fields to the given values: the adapter reads the name first and
        sends only the differences (add/rem, chg), as EPP updates are. A thin registry
        holds no contacts: the registrant is then not sent."""
        wanted = {"nameservers": nameservers, "ds": ds, "locked": locked, "admin": admin,
                  "tech": tech, "hold": hold,
                  "registrant": registrant if self.profile.contacts else None}
        wanted = {k: v for k, v in wanted.items() if v is not None}

        def send(session: Session) -> DomainInfo:
            current = self._info_on(session, name)
            body, secdns = resolve.update_frames(self.profile, current, wanted)
            if secdns is not None and not self._ext(session, NS["secDNS"]):
                raise RegistryRejected(2103, "Unimplemented extension: no secDNS-1.1 here")
            if "nameservers" in wanted:
                self._ensure_hosts(session, [n for n in wanted["nameservers"]
                                             if n not in current.nameservers])
            if body is not None or secdns is not None:
                self._call(body if body is not None else cmd.domain_update(name), [secdns],
                           cltrid=transaction_id, session=session)
            return self._info_on(session, name)

        return self._once("update", name, transaction_id, {"wanted": wanted}, send)

    def auth_code(self, *, name: str, transaction_id: str) -> str:
        code = new_auth_code()

        def send(session: Session) -> str:
            self._call(cmd.domain_update(name, auth_code=code), cltrid=transaction_id,
                       session=session)
            return code

        return self._once("auth_code", name, transaction_id, {"auth_code": code}, send)

    def delete(self, *, name: str, transaction_id: str) -> str:
        """``DELETED`` when the registry answers 1000 (gone at once, e.g. inside the add
        grace period), ``PENDING_DELETE`` for 1001 (redemption; RFC 3915)."""
        def send(session: Session) -> str:
            response = self._call(cmd.domain_delete(name), cltrid=transaction_id,
                                  session=session)
            return PENDING_DELETE if response.code == 1001 else DELETED

        return self._once("delete", name, transaction_id, {}, send)

    def transfer_request(self, *, name: str, auth_code: str, years: int,
                         transaction_id: str, fee: Decimal | None = None) -> TransferInfo:
        def send(session: Session) -> TransferInfo:
            response = self._call(
                cmd.domain_transfer("request", name, auth_code=auth_code, years=years),
                [self._fee(session, "transfer", fee)], cltrid=transaction_id, session=session)
            self._not_above(response, "trnData", fee)
            return self._transfer(response)

        return self._once("transfer_request", name, transaction_id, {"years": years}, send)

    def transfer_answer(self, *, name: str, approve: bool) -> TransferInfo:
        return self._transfer(self._call(cmd.domain_transfer(
            "approve" if approve else "reject", name)))

    def _info_on(self, session: Session, name: str) -> DomainInfo:
        response = self._call(cmd.domain_info(name), session=session)
        return rsp.domain_info(response, own_id=self.own_id, registrar_id=self.registrar_id)

    def _secdns_create(self, session: Session, ds: list[dict]) -> etree._Element | None:
        if ds and not self._ext(session, NS["secDNS"]):
            raise RegistryRejected(2103, "Unimplemented extension: no secDNS-1.1 here")
        return cmd.secdns_create(ds)

    def _ensure_hosts(self, session: Session, names: list[str]) -> None:
        """Host objects must exist before a domain names them (RFC 5731 hostObj): create
        the missing ones without addresses (fine for hosts outside the registry's zone;
        in-zone hosts are made with ``host_set`` first)."""
        if not names or NS["host"] not in session.objects:
            return
        response = self._call(cmd.host_check(names), session=session)
        for cd in response.root.iterfind(".//host:chkData/host:cd", NS):
            element = cd.find("host:name", NS)
            if element.get("avail") in ("1", "true"):
                self._call(cmd.host_create(element.text.strip(), []), session=session)

    # -- hosts and contacts -------------------------------------------------------------------
    def host_set(self, *, name: str, addresses: list[str]) -> None:
        with self.pool.session() as session:
            response = self._send(cmd.host_info(name), session=session)
            if response.code == 2303:
                self._call(cmd.host_create(name, addresses), session=session)
                return
            response.raise_for_code()
            current = rsp._texts(response.find("epp:resData/host:infData"), "host:addr")
            add = [a for a in addresses if a not in current]
            remove = [a for a in current if a not in addresses]
            if add or remove:
                self._call(cmd.host_update(name, add=add, remove=remove), session=session)

    def host_delete(self, *, name: str) -> None:
        response = self._send(cmd.host_delete(name))
        if response.code != 2303:  # already gone is fine
            response.raise_for_code()

    def contact_set(self, *, handle: str, data: dict, name: str | None = None) -> None:
        """Create the contact, or update it when it exists. Thin registries hold none.
        ``name`` (the domain it is for) only matters to the router."""
        if not self.profile.contacts:
            return
        with self.pool.session() as session:
            body = cmd.contact_create(handle, data, new_auth_code())
            self.profile.contact_create(body[0], data)
            response = self._send(body, [self.profile.contact_extension(data, create=True)],
                                  session=session)
            if response.code != 2302:
                response.raise_for_code()
                return
            body = cmd.contact_update(handle, data)
            self.profile.contact_update(body[0], data)
            self._call(body, [self.profile.contact_extension(data, create=False)],
                       session=session)

    # -- poll queue -------------------------------------------------------------------------
    def poll(self) -> list[Message]:
        """The message at the head of the queue (EPP shows one at a time: ack it to see
        the next); an empty list when the queue is empty."""
        response = self._call(cmd.poll_request())
        if response.code == 1300 or not response.queue.get("id"):
            return []
        raw = str(response.queue["id"])
        message_id = int(raw) if raw.isdigit() else _number(raw)
        self._message_ids[message_id] = raw
        return [rsp.message(response, message_id=message_id, own_id=self.own_id,
                            registrar_id=self.registrar_id)]

    def ack(self, message_id: int) -> None:
        raw = self._message_ids.pop(message_id, str(message_id))
        response = self._send(cmd.poll_ack(raw))
        if response.code != 2303:  # acknowledged already
            response.raise_for_code()

    def close(self) -> None:
        self.pool.close()


def _number(raw: str) -> int:
    """A stable positive number for a registry's non-numeric message id (e.g. a UUID)."""
    return zlib.crc32(raw.encode()) or 1
