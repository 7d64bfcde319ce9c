"""The EPP documents our client sends (RFC 5730-5733, secDNS-1.1 RFC 5910, rgp-1.0
RFC 3915, fee-1.0 RFC 8748): one builder per command, each returning the ``<epp>``
element, so tests can check every frame against the IETF schemas before it is sent.

Registry specifics (extra extension elements) come from ``profiles``; these builders only
speak the RFCs."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime
from decimal import Decimal

from lxml import etree

from reseller.registry.epp.elements import (  # noqa: F401  (FEE_URI re-exported)
    CONTACT,
    DOMAIN,
    E164,
    EPP,
    FEE,
    FEE_URI,
    HOST,
    RGP,
    SECDNS,
    postal_info,
)
from reseller.registry.models import RestoreReport


def command(body: etree._Element, cltrid: str,
            extensions: Iterable[etree._Element] = ()) -> etree._Element:
    """``<epp><command>{body}<extension/>?<clTRID/></command></epp>``."""
    children = [body]
    extensions = [e for e in extensions if e is not None]
    if extensions:
        children.append(EPP.extension(*extensions))
    children.append(EPP.clTRID(cltrid))
    return EPP.epp(EPP.command(*children))


# -- session ------------------------------------------------------------------------------
def hello() -> etree._Element:
    return EPP.epp(EPP.hello())


def login(client_id: str, password: str, objects: Iterable[str], extensions: Iterable[str],
          cltrid: str) -> etree._Element:
    services = EPP.svcs(*[EPP.objURI(uri) for uri in objects])
    extensions = list(extensions)
    if extensions:
        services.append(EPP.svcExtension(*[EPP.extURI(uri) for uri in extensions]))
    return command(EPP.login(EPP.clID(client_id), EPP.pw(password),
                             EPP.options(EPP.version("1.0"), EPP.lang("en")), services),
                   cltrid)


def logout(cltrid: str) -> etree._Element:
    return command(EPP.logout(), cltrid)


# -- domains ------------------------------------------------------------------------------
def domain_check(names: list[str]) -> etree._Element:
    return EPP.check(DOMAIN.check(*[DOMAIN.name(n) for n in names]))


def fee_check(operation: str = "create", years: int = 1) -> etree._Element:
    return FEE.check(FEE.currency("EUR"),
                     FEE.command(FEE.period(str(years), unit="y"), name=operation))


def fee_agreed(command: str, fee: Decimal | None) -> etree._Element | None:
    """RFC 8748 ``<fee:create|renew|transfer|update>``: the fee we agree to pay (EUR);
    None when there is no fee to acknowledge (a standard name)."""
    if fee is None:
        return None
    return FEE(command, FEE.currency("EUR"), FEE.fee(f"{fee:.2f}"))


def domain_info(name: str, auth_code: str | None = None) -> etree._Element:
    info = DOMAIN.info(DOMAIN.name(name, hosts="all"))
    if auth_code:
        info.append(DOMAIN.authInfo(DOMAIN.pw(auth_code)))
    return EPP.info(info)


def _ns(nameservers: Iterable[str]) -> etree._Element:
    return DOMAIN.ns(*[DOMAIN.hostObj(ns) for ns in nameservers])


def _contacts(admin: str | None, tech: str | None) -> list[etree._Element]:
    return [DOMAIN.contact(handle, type=kind)
            for kind, handle in (("admin", admin), ("tech", tech)) if handle]


def domain_create(*, name: str, years: int, registrant: str | None, admin: str | None,
                  tech: str | None, nameservers: list[str], auth_code: str) -> etree._Element:
    """``registrant`` None: a thin registry (no contacts at all)."""
    create = DOMAIN.create(DOMAIN.name(name), DOMAIN.period(str(years), unit="y"))
    if nameservers:
        create.append(_ns(nameservers))
    if registrant:
        create.append(DOMAIN.registrant(registrant))
        create.extend(_contacts(admin, tech))
    create.append(DOMAIN.authInfo(DOMAIN.pw(auth_code)))
    return EPP.create(create)


def domain_renew(name: str, current_expiry: date, years: int) -> etree._Element:
    return EPP.renew(DOMAIN.renew(DOMAIN.name(name),
                                  DOMAIN.curExpDate(current_expiry.isoformat()),
                                  DOMAIN.period(str(years), unit="y")))


def domain_delete(name: str) -> etree._Element:
    return EPP.delete(DOMAIN.delete(DOMAIN.name(name)))


def domain_update(name: str, *, add_ns: list[str] = (), rem_ns: list[str] = (),
                  add_contacts: dict[str, str] | None = None,
                  rem_contacts: dict[str, str] | None = None,
                  add_statuses: list[str] = (), rem_statuses: list[str] = (),
                  registrant: str | None = None, auth_code: str | None = None,
                  empty_chg: bool = False) -> etree._Element:
    """An RFC 5731 update; ``empty_chg`` gives RFC 3915's ``<domain:chg/>`` for a restore."""
    update = DOMAIN.update(DOMAIN.name(name))
    for tag, ns, contacts, statuses in (("add", add_ns, add_contacts, add_statuses),
                                        ("rem", rem_ns, rem_contacts, rem_statuses)):
        part = DOMAIN(tag)
        if ns:
            part.append(_ns(ns))
        for kind, handle in (contacts or {}).items():
            part.append(DOMAIN.contact(handle, type=kind))
        for status in statuses:
            part.append(DOMAIN.status(s=status))
        if len(part):
            update.append(part)
    if registrant or auth_code:
        chg = DOMAIN.chg()
        if registrant:
            chg.append(DOMAIN.registrant(registrant))
        if auth_code:
            chg.append(DOMAIN.authInfo(DOMAIN.pw(auth_code)))
        update.append(chg)
    elif empty_chg:
        update.append(DOMAIN.chg())
    return EPP.update(update)


def domain_transfer(op: str, name: str, *, auth_code: str | None = None,
                    years: int | None = None) -> etree._Element:
    transfer = DOMAIN.transfer(DOMAIN.name(name))
    if years:
        transfer.append(DOMAIN.period(str(years), unit="y"))
    if auth_code:
        transfer.append(DOMAIN.authInfo(DOMAIN.pw(auth_code)))
    return EPP.transfer(transfer, op=op)


def ds_data(record: dict) -> etree._Element:
    return SECDNS.dsData(SECDNS.keyTag(str(record["key_tag"])),
                         SECDNS.alg(str(record["algorithm"])),
                         SECDNS.digestType(str(record["digest_type"])),
                         SECDNS.digest(str(record["digest"]).upper()))


def secdns_create(records: list[dict]) -> etree._Element | None:
    return SECDNS.create(*[ds_data(r) for r in records]) if records else None


def secdns_update(*, add: list[dict], remove: list[dict]) -> etree._Element | None:
    """RFC 5910 ``<secDNS:update>``: removals first, then additions."""
    if not add and not remove:
        return None
    update = SECDNS.update()
    if remove:
        update.append(SECDNS.rem(*[ds_data(r) for r in remove]))
    if add:
        update.append(SECDNS.add(*[ds_data(r) for r in add]))
    return update


def rgp_restore(report: RestoreReport | None = None) -> etree._Element:
    """RFC 3915 ``<rgp:update>``: the restore request, or (``report`` given) its report."""
    if report is None:
        return RGP.update(RGP.restore(op="request"))
    body = RGP.report(RGP.preData(report.pre_data), RGP.postData(report.post_data),
                      RGP.delTime(_utc(report.deleted_at)),
                      RGP.resTime(_utc(report.restored_at)), RGP.resReason(report.reason),
                      *[RGP.statement(s) for s in report.statements[:2]])
    if report.other:
        body.append(RGP.other(report.other))
    return RGP.update(RGP.restore(body, op="report"))


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


# -- hosts --------------------------------------------------------------------------------
def _addresses(addresses: Iterable[str]) -> list[etree._Element]:
    return [HOST.addr(a, ip="v6" if ":" in a else "v4") for a in addresses]


def host_check(names: list[str]) -> etree._Element:
    return EPP.check(HOST.check(*[HOST.name(n) for n in names]))


def host_info(name: str) -> etree._Element:
    return EPP.info(HOST.info(HOST.name(name)))


def host_create(name: str, addresses: list[str]) -> etree._Element:
    return EPP.create(HOST.create(HOST.name(name), *_addresses(addresses)))


def host_update(name: str, *, add: list[str], remove: list[str]) -> etree._Element:
    update = HOST.update(HOST.name(name))
    if add:
        update.append(HOST.add(*_addresses(add)))
    if remove:
        update.append(HOST.rem(*_addresses(remove)))
    return EPP.update(update)


def host_delete(name: str) -> etree._Element:
    return EPP.delete(HOST.delete(HOST.name(name)))


# -- contacts -----------------------------------------------------------------------------
def _reachable(data: dict) -> list[etree._Element]:
    phone = (data.get("phone") or "").replace(" ", "")
    found = [CONTACT.voice(phone)] if E164.fullmatch(phone) else []
    return found + [CONTACT.email(data.get("email") or "-")]


def contact_check(handles: list[str]) -> etree._Element:
    return EPP.check(CONTACT.check(*[CONTACT.id(h) for h in handles]))


def contact_create(handle: str, data: dict, auth_code: str) -> etree._Element:
    return EPP.create(CONTACT.create(CONTACT.id(handle), postal_info(data), *_reachable(data),
                                     CONTACT.authInfo(CONTACT.pw(auth_code))))


def contact_update(handle: str, data: dict) -> etree._Element:
    return EPP.update(CONTACT.update(CONTACT.id(handle),
                                     CONTACT.chg(postal_info(data), *_reachable(data))))


# -- poll ---------------------------------------------------------------------------------
def poll_request() -> etree._Element:
    return EPP.poll(op="req")


def poll_ack(message_id: str) -> etree._Element:
    return EPP.poll(op="ack", msgID=message_id)
