"""Sender and link domains: the DNS records a reseller publishes, and checking them.

The reseller names one domain it controls (``domain.yourcompany.fi``). It becomes the
link host (a CNAME to the platform), the mail From domain (DKIM ``d=``), and its
``bounce.`` subdomain is the envelope sender that SPF authorises. Mail uses the domain only
while every required record checks out; a broken record pauses it (mail falls back to
the neutral sender domain) until a re-check passes again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import dns.exception
import dns.name
import dns.resolver
import idna
import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from reseller.core.clock import clock
from reseller.core.db import end_reads, memo, unit_of_work
from reseller.core.errors import Conflict, NotFound, ValidationFailed
from reseller.core.events import record_event
from reseller.core.extensions import db
from whitelabel import dkim
from whitelabel.models import SenderDomain
from whitelabel.settings import Settings

_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")

PROBLEMS = {
    "missing": _l("The record was not found."),
    "wrong_value": _l("The record has a different value."),
    "multiple": _l("There is more than one such record; keep exactly one."),
    "lookup_failed": _l("The DNS lookup failed; try again later."),
}
PURPOSES = {
    "link": _l("Link host: points your link domain at our servers"),
    "spf": _l("SPF: allows our servers to send mail for your domain"),
    "dkim": _l("DKIM: the public key that signs your mail"),
    "dmarc": _l("DMARC (advice): tells receivers how to treat unsigned mail"),
}


class DomainInUse(Conflict):
    code = "sender_domain_in_use"
    title = _l("Another account already uses this domain")


class NoSenderDomain(Conflict):
    code = "no_sender_domain"
    title = _l("Set a sender domain first")


class SenderDomainChanged(Conflict):
    code = "sender_domain_changed"
    title = _l("The sender domain changed while its records were being checked; check "
               "again")


@dataclass(frozen=True)
class Record:
    purpose: str
    type: str
    name: str
    value: str
    required: bool


def normalize_domain(value: str) -> str:
    """IDNA, lower case, no trailing dot; at least three labels (a subdomain you control)."""
    text = (value or "").strip().rstrip(".").lower()
    try:
        ascii_name = idna.encode(text, uts46=True).decode() if text else ""
    except idna.IDNAError:
        ascii_name = ""
    labels = ascii_name.split(".")
    if len(labels) < 2 or len(ascii_name) > 253 or not all(_LABEL.match(x) for x in labels) \
            or labels[-1].isdigit():
        raise ValidationFailed({"sender_domain": [
            str(_l("Give a domain name you control, e.g. domain.yourcompany.fi."))]})
    return ascii_name


def find_sender_domain(reseller_id: int) -> SenderDomain | None:
    return memo(("sender_domain", reseller_id), lambda: db.session.scalar(
        sa.select(SenderDomain).where(SenderDomain.reseller_id == reseller_id)))


def find_by_host(host: str) -> SenderDomain | None:
    host = (host or "").split(":")[0].rstrip(".").lower()
    return db.session.scalar(sa.select(SenderDomain).where(SenderDomain.domain == host))


def set_sender_domain(*, reseller_id: int, domain: str | None) -> SenderDomain | None:
    """Name (or with ``None`` remove) the reseller's sender/link domain.

    A new domain starts unverified with a fresh DKIM key; naming the same domain again
    changes nothing, so a repeated PUT keeps its verification.
    """
    current = find_sender_domain(reseller_id)
    if domain is None:
        if current is not None:
            db.session.delete(current)
            db.session.flush()
        return None
    name = normalize_domain(domain)
    if current is not None and current.domain == name:
        return current
    taken = db.session.scalar(sa.select(SenderDomain).where(SenderDomain.domain == name))
    if taken is not None:
        raise DomainInUse()
    private, public = dkim.generate_key()
    selector = "wl" + clock.now().strftime("%Y%m")
    if current is None:
        current = SenderDomain(reseller_id=reseller_id, domain=name)
        db.session.add(current)
    current.domain, current.dkim_selector = name, selector
    current.dkim_private_key, current.dkim_public_key = private, public
    current.status, current.checks, current.verified_at, current.paused_at = (
        "pending", [], None, None)
    db.session.flush()
    return current


def records(sender: SenderDomain, settings: Settings) -> list[Record]:
    """The DNS records the reseller must publish, in the order to show them."""
    return [
        Record("link", "CNAME", sender.domain, settings.link_cname_target, True),
        Record("spf", "TXT", f"bounce.{sender.domain}",
               f"v=spf1 include:{settings.spf_include} ~all", True),
        Record("dkim", "TXT", f"{sender.dkim_selector}._domainkey.{sender.domain}",
               dkim.txt_record(sender.dkim_public_key), True),
        Record("dmarc", "TXT", f"_dmarc.{sender.domain}",
               f"v=DMARC1; p=none; rua=mailto:dmarc@{sender.domain}", False),
    ]


def resolver_for(settings: Settings) -> dns.resolver.Resolver:
    """The configured resolver (``host[:port]``) or the system's."""
    if not settings.dns_resolver:
        resolver = dns.resolver.Resolver()
    else:
        host, _, port = settings.dns_resolver.rpartition(":") if \
            settings.dns_resolver.count(":") == 1 else (settings.dns_resolver, "", "")
        resolver = dns.resolver.Resolver(configure=False)
        resolver.nameservers = [host]
        resolver.port = int(port or 53)
    resolver.lifetime = 4.0
    return resolver


def _lookup(resolver: dns.resolver.Resolver, name: str, rdtype: str) -> list[str] | None:
    """Record values at ``name`` ([] when there are none); None when DNS itself failed."""
    try:
        answer = resolver.resolve(name, rdtype, raise_on_no_answer=False)
    except (dns.resolver.NXDOMAIN, dns.resolver.NoNameservers):
        return []
    except dns.exception.DNSException:
        return None
    values = []
    for rdata in answer.rrset or []:
        if rdtype == "TXT":
            values.append(b"".join(rdata.strings).decode(errors="replace"))
        else:
            values.append(rdata.to_text().rstrip(".").lower())
    return values


def _tags(txt: str) -> dict[str, str]:
    pairs = (part.split("=", 1) for part in txt.split(";") if "=" in part)
    return {k.strip().lower(): re.sub(r"\s+", "", v) for k, v in pairs}


def _judge(record: Record, found: list[str], settings: Settings, sender: SenderDomain) -> str | None:
    if record.purpose == "link":
        relevant = found
        good = [v for v in found if v == settings.link_cname_target.lower()]
    elif record.purpose == "spf":
        relevant = [v for v in found if v.lower().startswith("v=spf1")]
        good = [v for v in relevant if f"include:{settings.spf_include}".lower()
                in v.lower().split()]
    elif record.purpose == "dkim":
        relevant = [v for v in found if "p=" in v]
        good = [v for v in relevant if _tags(v).get("p") == sender.dkim_public_key]
    else:
        relevant = [v for v in found if v.lower().startswith("v=dmarc1")]
        good = relevant
    if not relevant:
        return "missing"
    if len(relevant) > 1 and record.purpose in ("spf", "link", "dmarc"):
        return "multiple"
    return None if good else "wrong_value"


def _looked_up(wanted: list[Record], resolver: dns.resolver.Resolver
               ) -> dict[str, list[str] | None]:
    """Each wanted record's values at its name: DNS only, called with no transaction
    open (a lookup may take seconds: ``resolver_for``'s lifetime is 4 s a query)."""
    return {record.purpose: _lookup(resolver, record.name, record.type) for record in wanted}


def _identity(sender: SenderDomain) -> tuple[int, str, str, str]:
    """What a check was made for: a domain renamed or re-keyed meanwhile is not it."""
    return sender.id, sender.domain, sender.dkim_selector, sender.dkim_public_key


def _still_checked(checked: tuple[int, str, str, str]) -> SenderDomain | None:
    """The sender domain read afresh after its lookups, if it is still the one checked."""
    sender = db.session.get(SenderDomain, checked[0], populate_existing=True)
    return sender if sender is not None and _identity(sender) == checked else None


def _judged(sender: SenderDomain, wanted: list[Record], found: dict[str, list[str] | None],
            settings: Settings) -> list[dict[str, Any]]:
    """Each record's result: ok, or what is wrong with it."""
    results = []
    for record in wanted:
        values = found[record.purpose]
        problem = "lookup_failed" if values is None \
            else _judge(record, values, settings, sender)
        results.append({"purpose": record.purpose, "type": record.type, "name": record.name,
                        "expected": record.value, "found": values or [],
                        "required": record.required, "ok": problem is None,
                        "problem": problem})
    return results


def verify_sender_domain(*, reseller_id: int, settings: Settings,
                         resolver: dns.resolver.Resolver,
                         now: datetime | None = None) -> SenderDomain:
    """Check the reseller's records now and update the domain's state. The DNS is asked
    with no transaction open (the request's reads end first) and the outcome recorded
    after, if the domain is still the one checked (else 409: check again)."""
    sender = find_sender_domain(reseller_id)
    if sender is None:
        raise NoSenderDomain()
    wanted, checked = records(sender, settings), _identity(sender)
    end_reads()
    found = _looked_up(wanted, resolver)
    if (sender := _still_checked(checked)) is None:
        raise SenderDomainChanged()
    return _record_check(sender, wanted, found, settings=settings, now=now)


def _record_check(sender: SenderDomain, wanted: list[Record],
                  found: dict[str, list[str] | None], *, settings: Settings,
                  now: datetime | None = None) -> SenderDomain:
    now = now or clock.now()
    sender.checks = _judged(sender, wanted, found, settings)
    sender.last_checked_at = now
    passed = all(c["ok"] for c in sender.checks if c["required"])
    if passed and sender.status != "verified":
        was_paused = sender.status == "paused"
        sender.status, sender.verified_at, sender.paused_at = "verified", now, None
        record_event(reseller_id=sender.reseller_id, type="whitelabel.domain_verified",
                     data={"domain": sender.domain, "resumed": was_paused})
    elif not passed and sender.status == "verified":
        sender.status, sender.paused_at = "paused", now
        failing = [c["purpose"] for c in sender.checks if c["required"] and not c["ok"]]
        record_event(reseller_id=sender.reseller_id, type="whitelabel.domain_paused",
                     data={"domain": sender.domain, "failing": failing},
                     dedupe_key=f"whitelabel.domain_paused:{sender.id}:{now.isoformat()}")
    db.session.flush()
    return sender


RECHECKED = ("verified", "paused")


def recheck_all(*, settings: Settings, resolver: dns.resolver.Resolver,
                now: datetime | None = None) -> int:
    """The daily re-check of every verified or paused domain; returns how many ran. One
    domain at a time: its records read in one unit of work, looked up with none open, its
    outcome committed in another. In one transaction, the first domain whose state changed
    would have held a transaction id across every later domain's lookups, and every
    reseller's event feed with it (it shows only what no running transaction precedes)."""
    with unit_of_work():
        ids = list(db.session.scalars(sa.select(SenderDomain.id).where(
            SenderDomain.status.in_(RECHECKED)).order_by(SenderDomain.id)))
    count = 0
    for sender_id in ids:
        with unit_of_work():
            sender = db.session.get(SenderDomain, sender_id)
            if sender is None or sender.status not in RECHECKED:
                continue
            wanted, checked = records(sender, settings), _identity(sender)
        found = _looked_up(wanted, resolver)
        with unit_of_work():
            if (sender := _still_checked(checked)) is None:
                continue  # renamed or re-keyed meanwhile: its own check comes next
            _record_check(sender, wanted, found, settings=settings, now=now)
        count += 1
    return count


def usable_domain(reseller_id: int) -> SenderDomain | None:
    """The domain mail may use now: only a verified one."""
    sender = find_sender_domain(reseller_id)
    return sender if sender is not None and sender.status == "verified" else None


def get_owned(*, reseller_id: int) -> SenderDomain:
    sender = find_sender_domain(reseller_id)
    if sender is None:
        raise NotFound()
    return sender
