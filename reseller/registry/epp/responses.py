"""Reading what a registry answers: the result code and what it means for the caller
(``RegistryRejected``/``RegistryUnavailable``), and ``resData`` turned into the
interface's dataclasses (``DomainInfo``, ``TransferInfo``, ``Availability``, ``Message``).

A response that is well-formed XML but not the EPP we expect (no result, a bad code, a
missing date) raises ``ProtocolError``: the command's fate is then unknown."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from lxml import etree

from reseller.registry.epp.elements import FEE_URI
from reseller.registry.epp.wire import NS
from reseller.registry.errors import RegistryRejected, RegistryTimeout, RegistryUnavailable
from reseller.registry.models import Availability, DomainInfo, Message, TransferInfo

NS_ALL = {**NS, "fee": FEE_URI}
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# 2400 is an internal failure and the 25xx codes end the session: RFC 5730 says the
# command was not carried out, so the caller may simply try again (on a new session).
NOT_EXECUTED = frozenset({2400, 2500, 2501, 2502})
CLOSING = frozenset({2500, 2501, 2502})


class ProtocolError(RegistryTimeout):
    """The registry answered something that is not acceptable EPP (malformed XML, a
    DOCTYPE, an oversized frame, no result code). The connection is dropped; whether the
    command was carried out is unknown, exactly as after a timeout."""


@dataclass
class Response:
    code: int
    message: str
    root: etree._Element
    client_trid: str | None = None
    server_trid: str | None = None
    queue: dict = field(default_factory=dict)  # count, id, date, text (poll)

    @property
    def ok(self) -> bool:
        return self.code < 2000

    @property
    def closing(self) -> bool:
        return self.code in CLOSING or self.code == 1500

    def find(self, path: str) -> etree._Element | None:
        return self.root.find(f"epp:response/{path}", NS_ALL)

    def extension(self, prefix: str, local: str) -> etree._Element | None:
        return self.find(f"epp:extension/{prefix}:{local}")

    def raise_for_code(self) -> None:
        """1xxx: done. 2400/25xx: not done, try again (``RegistryUnavailable``).
        Any other 2xxx: refused for good (``RegistryRejected``)."""
        if self.ok:
            return
        if self.code in NOT_EXECUTED:
            raise RegistryUnavailable(f"registry answered {self.code} {self.message}")
        raise RegistryRejected(self.code, self.message)


def parse_response(root: etree._Element) -> Response:
    result = root.find("epp:response/epp:result", NS)
    if result is None:
        raise ProtocolError("EPP answer without a result")
    try:
        code = int(result.get("code", ""))
    except ValueError:
        raise ProtocolError(f"EPP result code {result.get('code')!r}") from None
    if not 1000 <= code <= 2599:
        raise ProtocolError(f"EPP result code {code} out of range")
    queue = {}
    msgq = root.find("epp:response/epp:msgQ", NS)
    if msgq is not None:
        queue = {"count": int(msgq.get("count") or 0), "id": msgq.get("id"),
                 "date": msgq.findtext("epp:qDate", namespaces=NS),
                 "text": msgq.findtext("epp:msg", namespaces=NS) or ""}
    return Response(code=code, message=(result.findtext("epp:msg", namespaces=NS) or "").strip(),
                    root=root, client_trid=root.findtext("epp:response/epp:trID/epp:clTRID",
                                                         namespaces=NS),
                    server_trid=root.findtext("epp:response/epp:trID/epp:svTRID",
                                              namespaces=NS),
                    queue=queue)


def when(text: str | None, *, required: bool = True) -> datetime | None:
    """An xs:dateTime (or xs:date) as an aware UTC datetime."""
    if not text:
        if required:
            raise ProtocolError("EPP answer lacks a date")
        return None
    value = text.strip().replace("Z", "+00:00")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ProtocolError(f"EPP date {text!r}") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _texts(parent: etree._Element | None, path: str) -> list[str]:
    if parent is None:
        return []
    return [(e.text or "").strip() for e in parent.findall(path, NS_ALL)]


# -- domains ------------------------------------------------------------------------------
def availability(response: Response) -> list[Availability]:
    prices = _fee_prices(response)
    answers = []
    for cd in response.root.iterfind(".//domain:chkData/domain:cd", NS):
        element = cd.find("domain:name", NS)
        name = (element.text or "").strip().lower()
        free = element.get("avail") in ("1", "true")
        reason = (cd.findtext("domain:reason", namespaces=NS) or "").strip() or None
        premium = prices.get(name)
        answers.append(Availability(
            name, free, premium is not None, premium,
            reason=None if free else ("reserved" if reason and "reserv" in reason.lower()
                                      else "registered")))
    return answers


def _fee_prices(response: Response) -> dict[str, Decimal]:
    """Premium prices per year from fee-1.0 (EUR only; other currencies are ignored)."""
    prices = {}
    for name, command in _premium_commands(response):
        years = int(command.findtext("fee:period", namespaces=NS_ALL) or 1) if command is not None else 1
        prices[name] = (_fee_total(command) / max(years, 1)).quantize(Decimal("0.01"))
    return prices


def premium_fee(response: Response, name: str) -> Decimal | None:
    """The fee of the (one) command asked about for ``name`` when the registry prices it
    as premium; None for a standard name or an answer without fee-1.0 data."""
    for found, command in _premium_commands(response):
        if found == name.lower():
            return _fee_total(command).quantize(Decimal("0.01"))
    return None


def _premium_commands(response: Response) -> list[tuple[str, etree._Element | None]]:
    chk = response.extension("fee", "chkData")
    if chk is None or (chk.findtext("fee:currency", namespaces=NS_ALL) or "EUR") != "EUR":
        return []
    return [((cd.findtext("fee:objID", namespaces=NS_ALL) or "").strip().lower(),
             cd.find("fee:command", NS_ALL))
            for cd in chk.findall("fee:cd", NS_ALL)
            if cd.findtext("fee:class", namespaces=NS_ALL) == "premium"]


def _fee_total(parent: etree._Element | None) -> Decimal:
    try:
        return sum((Decimal(t) for t in _texts(parent, "fee:fee")), Decimal(0))
    except InvalidOperation:
        raise ProtocolError("fee amount is not a number") from None


def charged_fee(response: Response, local: str) -> Decimal | None:
    """What a transform command cost (RFC 8748 ``fee:creData``/``renData``/``trnData``/
    ``updData``), or None when the registry did not say. Only EUR is accepted."""
    data = response.extension("fee", local)
    if data is None:
        return None
    if (data.findtext("fee:currency", namespaces=NS_ALL) or "EUR") != "EUR":
        raise ProtocolError("fee charged in a currency other than EUR")
    return _fee_total(data)


def domain_info(response: Response, *, own_id: str, registrar_id: str) -> DomainInfo:
    """``infData`` as ``DomainInfo``; our login id reads as ``registrar_id``. A name we do
    not sponsor shows only its sponsor: its dates are then the epoch (unknown)."""
    data = response.find("epp:resData/domain:infData")
    if data is None:
        raise ProtocolError("domain info without infData")
    statuses = [s.get("s") for s in data.findall("domain:status", NS)]
    rgp = response.extension("rgp", "infData")
    rgp_statuses = [e.get("s") for e in rgp.findall("rgp:rgpStatus", NS)] \
        if rgp is not None else []
    redemption = "redemptionPeriod" in rgp_statuses or (
        "pendingDelete" in statuses and "pendingRestore" not in rgp_statuses)
    # Every status the registry shows (client and server), RFC 3915's grace periods too;
    # pendingDelete in redemption reads as ``redemptionPeriod``; ``ok`` only alone.
    ours = ["redemptionPeriod"] if redemption else []
    ours += [s for s in statuses if s not in ("ok", "inactive")
             and not (redemption and s == "pendingDelete")]
    ours += [s for s in rgp_statuses if s != "redemptionPeriod" and s not in ours]
    contacts = {c.get("type"): (c.text or "").strip() for c in data.findall("domain:contact", NS)}
    secdns = response.extension("secDNS", "infData")
    sponsor = (data.findtext("domain:clID", namespaces=NS) or "").strip()
    return DomainInfo(
        name=(data.findtext("domain:name", namespaces=NS) or "").strip().lower(),
        sponsor=registrar_id if sponsor == own_id else sponsor,
        created_at=when(data.findtext("domain:crDate", namespaces=NS), required=False) or EPOCH,
        expires_at=when(data.findtext("domain:exDate", namespaces=NS), required=False) or EPOCH,
        registrant=(data.findtext("domain:registrant", namespaces=NS) or "").strip() or None,
        admin=contacts.get("admin") or None, tech=contacts.get("tech") or None,
        nameservers=tuple(n.lower() for n in _texts(data, "domain:ns/domain:hostObj")
                          + _texts(data, "domain:ns/domain:hostAttr/domain:hostName")),
        ds=tuple(ds_records(secdns)), locked="clientTransferProhibited" in statuses,
        statuses=tuple(ours or ["ok"]), hold="clientHold" in statuses,
        roid=(data.findtext("domain:roid", namespaces=NS) or "").strip() or None)


def auth_code_of(response: Response) -> str | None:
    return response.root.findtext(".//domain:infData/domain:authInfo/domain:pw", namespaces=NS)


def ds_records(parent: etree._Element | None) -> list[dict]:
    if parent is None:
        return []
    return [{"key_tag": int(e.findtext("secDNS:keyTag", namespaces=NS)),
             "algorithm": int(e.findtext("secDNS:alg", namespaces=NS)),
             "digest_type": int(e.findtext("secDNS:digestType", namespaces=NS)),
             "digest": (e.findtext("secDNS:digest", namespaces=NS) or "").upper()}
            for e in parent.findall("secDNS:dsData", NS)]


def created(response: Response) -> tuple[datetime, datetime]:
    data = response.find("epp:resData/domain:creData")
    if data is None:
        raise ProtocolError("domain create without creData")
    return (when(data.findtext("domain:crDate", namespaces=NS)),
            when(data.findtext("domain:exDate", namespaces=NS)))


def renewed_expiry(response: Response) -> datetime:
    return when(response.root.findtext(".//domain:renData/domain:exDate", namespaces=NS))


def transfer_info(response: Response, *, own_id: str, registrar_id: str
                  ) -> TransferInfo | None:
    data = response.root.find(".//domain:trnData", NS)
    if data is None:
        return None

    def who(tag: str) -> str:
        value = (data.findtext(f"domain:{tag}", namespaces=NS) or "").strip()
        return registrar_id if value == own_id else value

    status = (data.findtext("domain:trStatus", namespaces=NS) or "").strip()
    approved = status in ("clientApproved", "serverApproved")
    return TransferInfo(
        name=(data.findtext("domain:name", namespaces=NS) or "").strip().lower(),
        status=status, gaining=who("reID"), losing="" if approved else who("acID"),
        requested_at=when(data.findtext("domain:reDate", namespaces=NS)),
        act_by=when(data.findtext("domain:acDate", namespaces=NS)),
        expires_at=when(data.findtext("domain:exDate", namespaces=NS), required=False)
        if approved else None)


# -- poll ---------------------------------------------------------------------------------
KINDS = {"pending": "transfer_requested", "clientApproved": "transfer_completed",
         "serverApproved": "transfer_completed", "clientRejected": "transfer_rejected",
         "serverCancelled": "transfer_cancelled", "clientCancelled": "transfer_cancelled"}


def message(response: Response, *, message_id: int, own_id: str,
            registrar_id: str) -> Message:
    """One poll message. Transfers carry ``domain:trnData``; a pending-action
    notification (``domain:panData``) is ``pending_action``; anything else is ``notice``
    with the registry's text, for people to read."""
    queue = response.queue
    data: dict = {"text": queue.get("text", ""), "registry_id": queue.get("id")}
    trn = response.root.find(".//domain:trnData", NS)
    pan = response.root.find(".//domain:panData", NS)
    name, kind = "", "notice"
    if trn is not None:
        status = (trn.findtext("domain:trStatus", namespaces=NS) or "").strip()
        kind = KINDS.get(status, "notice")
        name = (trn.findtext("domain:name", namespaces=NS) or "").strip().lower()

        def who(tag: str) -> str:
            value = (trn.findtext(f"domain:{tag}", namespaces=NS) or "").strip()
            return registrar_id if value == own_id else value

        data.update(gaining=who("reID"), losing=who("acID"), status=status)
        if (expiry := trn.findtext("domain:exDate", namespaces=NS)) is not None:
            data["expires_at"] = when(expiry).isoformat()
    elif pan is not None:
        element = pan.find("domain:name", NS)
        kind, name = "pending_action", (element.text or "").strip().lower()
        data["result"] = element.get("paResult") in ("1", "true")
    return Message(message_id, kind, name, data,
                   when(queue.get("date"), required=False))
