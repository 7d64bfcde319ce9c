"""Domain commands (RFC 5731) with DNSSEC (RFC 5910), redemption restore (RFC 3915) and
premium prices (RFC 8748), mapped onto the sandbox registry.

Statuses: ``clientTransferProhibited`` is the sandbox's ``locked``, ``clientHold`` its
``hold``; a name in redemption is ``pendingDelete`` with rgp ``redemptionPeriod``."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, time
from decimal import Decimal

from lxml import etree

from reseller.registry.epp.server.context import CommandError, Context, required, texts
from reseller.registry.epp.server.frames import DOMAIN, FEE, FEE_URI, RGP, SECDNS, Reply
from reseller.registry.epp.server.frames import timestamp as _when
from reseller.registry.epp.wire import NS
from reseller.registry.models import PENDING_DELETE, DomainInfo, RestoreReport, TransferInfo
from reseller.registry.sandbox_state import premium_fee

CLIENT_STATUSES = {"clientTransferProhibited": "locked", "clientHold": "hold"}
CONTACT_TYPES = ("admin", "tech")
REASONS = {"registered": "In use", "reserved": "Reserved"}


def roid(kind: str, name: str) -> str:
    """A stable repository object id (eppcom:roidType) derived from the name."""
    return f"{kind}{hashlib.sha256(name.encode()).hexdigest()[:16].upper()}-SANDBOX"


def _name(element: etree._Element) -> str:
    return required(element, "domain:name").lower().rstrip(".")


def _years(element: etree._Element, default: int = 1) -> int:
    period = element.find("domain:period", NS)
    if period is None:
        return default
    value = int(period.text)
    if period.get("unit") == "m":
        if value % 12:
            raise CommandError(2306, "Parameter value policy error: whole years only")
        value //= 12
    return value


def _exists(context: Context, name: str) -> DomainInfo:
    info = context.registry.info(name)
    if info is None:
        raise CommandError(2303, "Object does not exist")
    return info


# -- check --------------------------------------------------------------------------------
def check(context: Context, element: etree._Element) -> Reply:
    context.operation = "check"
    names = [n.lower().rstrip(".") for n in texts(element, "domain:name")]
    answers = context.registry.check(names)
    rows = []
    for answer in answers:
        cd = DOMAIN.cd(DOMAIN.name(answer.name, avail="1" if answer.available else "0"))
        if not answer.available:
            cd.append(DOMAIN.reason(REASONS.get(answer.reason or "", "Not available")))
        rows.append(cd)
    reply = Reply(res_data=DOMAIN.chkData(*rows))
    if FEE_URI in context.ext_uris:
        reply.extensions.append(_fee_check(context, answers))
    return reply


def _fee_check(context: Context, answers: list) -> etree._Element:
    """RFC 8748 prices: premium names per year in EUR; standard names are not priced here
    (the sandbox registry charges nothing for them), so their command carries no fee."""
    asked = context.extension("fee", "check", FEE_URI)
    _euros_only(asked)
    commands = [("create", 1)]
    if asked is not None and asked.findall(f"{{{FEE_URI}}}command"):
        commands = [(c.get("name"), int(c.findtext(f"{{{FEE_URI}}}period") or 1))
                    for c in asked.findall(f"{{{FEE_URI}}}command")]
    cds = []
    for answer in answers:
        if answer.reason == "reserved":
            cds.append(FEE.cd(FEE.objID(answer.name), FEE.reason("Reserved"), avail="0"))
            continue
        cd = FEE.cd(FEE.objID(answer.name), FEE("class", "premium" if answer.premium
                                                         else "standard"))
        for name, years in commands:
            command = FEE.command(FEE.period(str(years), unit="y"), name=name)
            if answer.premium:
                price = premium_fee(answer.name, name, years)
                command.append(FEE.fee(f"{price:.2f}", description=f"{name} fee"))
            else:
                command.set("standard", "1")
            cd.append(command)
        cds.append(cd)
    return FEE.chkData(FEE.currency("EUR"), *cds)


def _fee_agreed(context: Context, command: str) -> Decimal | None:
    """The fee the client agreed to in ``<fee:{command}>`` (None: not sent). The registry
    refuses a premium command without one (2003) or below its price (2004)."""
    agreed = context.extension("fee", command, FEE_URI)
    if agreed is None:
        return None
    _euros_only(agreed)
    return sum((Decimal(f.text) for f in agreed.findall(f"{{{FEE_URI}}}fee")), Decimal(0))


def _fee_charged(reply: Reply, context: Context, tag: str, name: str, command: str,
                 years: int = 1) -> Reply:
    """RFC 8748: a transform command that carried a fee answers with the fee charged."""
    price = premium_fee(name, command, years)
    if price is not None and FEE_URI in context.ext_uris:
        reply.extensions.append(FEE(tag, FEE.currency("EUR"), FEE.fee(f"{price:.2f}")))
    return reply


def _euros_only(fee: etree._Element | None) -> None:
    currency = fee.findtext(f"{{{FEE_URI}}}currency") if fee is not None else None
    if currency not in (None, "EUR"):
        raise CommandError(2306, "Parameter value policy error: prices are in EUR")


# -- info ---------------------------------------------------------------------------------
def info(context: Context, element: etree._Element) -> Reply:
    context.operation = "info"
    name = _name(element)
    found = _exists(context, name)
    password = element.findtext("domain:authInfo/domain:pw", namespaces=NS)
    sponsor = found.sponsor == context.client_id
    if not sponsor and password and not context.registry.auth_code_matches(name, password):
        raise CommandError(2202, "Invalid authorization information")
    if not sponsor and not password:
        return Reply(res_data=DOMAIN.infData(DOMAIN.name(name),
                                             DOMAIN.roid(found.roid or roid("D", name)),
                                             DOMAIN.clID(found.sponsor)))
    data = DOMAIN.infData(DOMAIN.name(name), DOMAIN.roid(found.roid or roid("D", name)))
    data.extend(DOMAIN.status(s=status) for status in epp_statuses(found))
    if found.registrant:
        data.append(DOMAIN.registrant(found.registrant))
    for kind in CONTACT_TYPES:
        if getattr(found, kind):
            data.append(DOMAIN.contact(getattr(found, kind), type=kind))
    if found.nameservers and element.find("domain:name", NS).get("hosts", "all") in ("all", "del"):
        data.append(DOMAIN.ns(*[DOMAIN.hostObj(ns) for ns in found.nameservers]))
    data.append(DOMAIN.clID(found.sponsor))
    data.append(DOMAIN.crDate(_when(found.created_at)))
    data.append(DOMAIN.exDate(_when(found.expires_at)))
    if sponsor:
        data.append(DOMAIN.authInfo(DOMAIN.pw(context.registry.current_auth_code(name))))
    reply = Reply(res_data=data)
    if found.ds:
        reply.extensions.append(SECDNS.infData(*[_ds_element(ds) for ds in found.ds]))
    rgp = [s for s in found.statuses if s in ("redemptionPeriod", "pendingRestore")]
    if rgp:
        reply.extensions.append(RGP.infData(RGP.rgpStatus(s=rgp[0])))  # one (the XSD)
    return reply


def epp_statuses(found: DomainInfo) -> list[str]:
    """RFC 5731 statuses: ``ok`` only alone, ``inactive`` without nameservers."""
    mapped = {"redemptionPeriod": "pendingDelete", "pendingRestore": "pendingDelete"}
    statuses = list(dict.fromkeys(mapped.get(s, s) for s in found.statuses if s != "ok"))
    if not found.nameservers:
        statuses.append("inactive")
    return statuses or ["ok"]


def _ds_element(ds: dict) -> etree._Element:
    return SECDNS.dsData(SECDNS.keyTag(str(ds["key_tag"])), SECDNS.alg(str(ds["algorithm"])),
                         SECDNS.digestType(str(ds["digest_type"])),
                         SECDNS.digest(str(ds["digest"])))


def _ds_records(parent: etree._Element | None) -> list[dict]:
    if parent is None:
        return []
    if parent.find("secDNS:keyData", NS) is not None and parent.find(
            "secDNS:dsData", NS) is None:
        raise CommandError(2102, "Unimplemented option: key data (send DS data)")
    return [{"key_tag": int(e.findtext("secDNS:keyTag", namespaces=NS)),
             "algorithm": int(e.findtext("secDNS:alg", namespaces=NS)),
             "digest_type": int(e.findtext("secDNS:digestType", namespaces=NS)),
             "digest": (e.findtext("secDNS:digest", namespaces=NS) or "").upper()}
            for e in parent.findall("secDNS:dsData", NS)]


def _nameservers(element: etree._Element) -> list[str]:
    ns = element.find("domain:ns", NS)
    if ns is None:
        return []
    if ns.find("domain:hostAttr", NS) is not None:
        raise CommandError(2102, "Unimplemented option: hostAttr (create host objects)")
    return [n.lower().rstrip(".") for n in texts(ns, "domain:hostObj")]


def _contacts(element: etree._Element) -> dict[str, str]:
    contacts = {}
    for contact in element.findall("domain:contact", NS):
        kind = contact.get("type")
        if kind not in CONTACT_TYPES:
            raise CommandError(2306, f"Parameter value policy error: no {kind} contacts here")
        contacts[kind] = (contact.text or "").strip()
    return contacts


# -- create, renew, delete ----------------------------------------------------------------
def create(context: Context, element: etree._Element) -> Reply:
    context.operation = "create"
    name, years = _name(element), _years(element)
    registrant = required(element, "domain:registrant")
    contacts = _contacts(element)
    secdns = context.extension("secDNS", "create")
    created = context.registry.create(
        name=name, years=years, registrant=registrant, admin=contacts.get("admin"),
        tech=contacts.get("tech"), nameservers=_nameservers(element),
        transaction_id=context.transaction_id, ds=_ds_records(secdns) or None,
        auth_code=element.findtext("domain:authInfo/domain:pw", namespaces=NS) or None,
        fee=_fee_agreed(context, "create"))
    reply = Reply(res_data=DOMAIN.creData(DOMAIN.name(created.name),
                                          DOMAIN.crDate(_when(created.created_at)),
                                          DOMAIN.exDate(_when(created.expires_at))))
    return _fee_charged(reply, context, "creData", name, "create", years)


def renew(context: Context, element: etree._Element) -> Reply:
    context.operation = "renew"
    try:
        current = datetime.combine(datetime.strptime(required(element, "domain:curExpDate"),
                                                     "%Y-%m-%d").date(), time(), UTC)
    except ValueError:
        raise CommandError(2005, "Parameter value syntax error: curExpDate") from None
    name, years = _name(element), _years(element)
    renewed = context.registry.renew(name=name, years=years, current_expiry=current,
                                     transaction_id=context.transaction_id,
                                     fee=_fee_agreed(context, "renew"))
    reply = Reply(res_data=DOMAIN.renData(DOMAIN.name(renewed.name),
                                          DOMAIN.exDate(_when(renewed.expires_at))))
    return _fee_charged(reply, context, "renData", name, "renew", years)


def delete(context: Context, element: etree._Element) -> Reply:
    """1000: gone at once (e.g. inside the add grace period); 1001: pending deletion, the
    name is in redemption (RFC 3915)."""
    context.operation = "delete"
    done = context.registry.delete(name=_name(element), transaction_id=context.transaction_id)
    return Reply(1001) if done == PENDING_DELETE else Reply()


# -- update -------------------------------------------------------------------------------
def update(context: Context, element: etree._Element) -> Reply:
    name = _name(element)
    add = element.find("domain:add", NS)
    rem = element.find("domain:rem", NS)
    chg = element.find("domain:chg", NS)
    restore, report = _restore_op(context)
    context.operation = {"request": "restore_request", "report": "restore"}.get(restore,
                                                                                "update")
    current = _exists(context, name)
    if current.sponsor != context.client_id:
        raise CommandError(2201, "Authorization error")
    changes = _status_changes(add, rem)
    changes.update(_contact_changes(current, add, rem))
    added = _nameservers(add) if add is not None else []
    removed = set(_nameservers(rem)) if rem is not None else set()
    if added or removed:
        kept = [ns for ns in current.nameservers if ns not in removed]
        changes["nameservers"] = kept + [ns for ns in added if ns not in kept]
    ds = _ds_changes(context, current)
    if ds is not None:
        changes["ds"] = ds
    registrant = auth_code = None
    if chg is not None:
        registrant = (chg.findtext("domain:registrant", namespaces=NS) or "").strip() or None
        if chg.find("domain:authInfo/domain:null", NS) is not None:
            raise CommandError(2306, "Parameter value policy error: a name needs an auth code")
        auth_code = chg.findtext("domain:authInfo/domain:pw", namespaces=NS) or None
    context.registry.update_domain(name=name, transaction_id=context.transaction_id,
                                   restore=restore, report=report, registrant=registrant,
                                   auth_code=auth_code, fee=_fee_agreed(context, "update"),
                                   **changes)
    if restore == "request":
        return _fee_charged(Reply(), context, "updData", name, "restore")
    return Reply()


def _restore_op(context: Context) -> tuple[str | None, RestoreReport | None]:
    """RFC 3915 ``<rgp:restore op="request">`` (no report) or ``op="report"`` with its
    ``<rgp:report>``; (None, None) for an ordinary update."""
    rgp = context.extension("rgp", "update")
    if rgp is None:
        return None, None
    restore = rgp.find("rgp:restore", NS)
    op = restore.get("op")
    if op == "request":
        return op, None
    report = restore.find("rgp:report", NS)
    if report is None:
        raise CommandError(2003, "Required parameter missing: rgp:report")

    def text(tag: str) -> str:
        return (report.findtext(f"rgp:{tag}", namespaces=NS) or "").strip()

    try:
        deleted, restored = (datetime.fromisoformat(text(t).replace("Z", "+00:00"))
                             for t in ("delTime", "resTime"))
    except ValueError:
        raise CommandError(2005, "Parameter value syntax error: delTime/resTime") from None
    return op, RestoreReport(
        pre_data=text("preData"), post_data=text("postData"), deleted_at=deleted,
        restored_at=restored, reason=text("resReason"),
        statements=tuple((e.text or "").strip() for e in report.findall("rgp:statement", NS)),
        other=text("other") or None)


def _status_changes(add: etree._Element | None, rem: etree._Element | None) -> dict:
    changes: dict = {}
    for parent, value in ((rem, False), (add, True)):
        for status in parent.findall("domain:status", NS) if parent is not None else []:
            field = CLIENT_STATUSES.get(status.get("s"))
            if field is None:
                raise CommandError(2306, f"Parameter value policy error: status "
                                         f"{status.get('s')} cannot be set here")
            changes[field] = value
    return changes


def _contact_changes(current: DomainInfo, add: etree._Element | None,
                     rem: etree._Element | None) -> dict:
    """Admin and tech are single-valued here: an added one replaces, a removed one clears."""
    changes = {}
    removed = _contacts(rem) if rem is not None else {}
    for kind, handle in removed.items():
        if getattr(current, kind) != handle:
            raise CommandError(2303, f"Object does not exist: {kind} contact {handle}")
        changes[kind] = ""
    changes.update(_contacts(add) if add is not None else {})
    return changes


def _ds_changes(context: Context, current: DomainInfo) -> list[dict] | None:
    update = context.extension("secDNS", "update")
    if update is None:
        return None
    if update.find("secDNS:chg", NS) is not None:
        raise CommandError(2102, "Unimplemented option: maxSigLife")
    rem = update.find("secDNS:rem", NS)
    records = list(current.ds)
    if rem is not None and (rem.findtext("secDNS:all", namespaces=NS) or "") in ("true", "1"):
        records = []
    elif rem is not None:
        removed = _ds_records(rem)
        records = [ds for ds in records if ds not in removed]
    records += [ds for ds in _ds_records(update.find("secDNS:add", NS)) if ds not in records]
    return records


# -- transfer -----------------------------------------------------------------------------
def transfer(context: Context, element: etree._Element) -> Reply:
    name, op = _name(element), context.op
    registry = context.registry
    if op == "request":
        context.operation = "transfer_request"
        password = element.findtext("domain:authInfo/domain:pw", namespaces=NS) or ""
        years = _years(element)
        found = registry.transfer_request(name=name, auth_code=password, years=years,
                                          transaction_id=context.transaction_id,
                                          fee=_fee_agreed(context, "transfer"))
        reply = Reply(1001, res_data=transfer_data(context, found))
        return _fee_charged(reply, context, "trnData", name, "transfer", years)
    if op in ("approve", "reject"):
        context.operation = "transfer_answer"
        found = registry.transfer_answer(name=name, approve=op == "approve")
        return Reply(res_data=transfer_data(context, found))
    if op == "query":
        context.operation = "transfer_query"
        current = _exists(context, name)
        found = registry.transfer_query(name=name)
        if found is None:
            raise CommandError(2301, "Object not pending transfer")
        password = element.findtext("domain:authInfo/domain:pw", namespaces=NS)
        involved = context.client_id in (current.sponsor, found.gaining)
        if not involved and not (password and registry.auth_code_matches(name, password)):
            raise CommandError(2201, "Authorization error")
        return Reply(res_data=transfer_data(context, found))
    raise CommandError(2102, f"Unimplemented option: transfer op {op}")


def transfer_data(context: Context, found: TransferInfo, status: str | None = None
                  ) -> etree._Element:
    losing = found.losing or context.registry.previous_sponsor(found.name) or found.gaining
    data = DOMAIN.trnData(DOMAIN.name(found.name), DOMAIN.trStatus(status or found.status),
                          DOMAIN.reID(found.gaining), DOMAIN.reDate(_when(found.requested_at)),
                          DOMAIN.acID(losing), DOMAIN.acDate(_when(found.act_by)))
    if found.expires_at is not None:
        data.append(DOMAIN.exDate(_when(found.expires_at)))
    return data


HANDLERS = {"check": check, "info": info, "create": create, "renew": renew,
            "delete": delete, "update": update, "transfer": transfer}
