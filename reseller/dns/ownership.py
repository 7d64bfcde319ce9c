"""Who may host a zone. A reseller hosts a name it holds in Tunnus (or one inside it), or an
external name once it proves control: a TXT record, or the delegation to its own verified
nameservers. Never a public suffix, a name another account holds or hosts, or a name inside
another account's zone. Every path that creates a zone, an ACME key, an httpreq write or a
URL forward asks ``authorize_zone`` (or ``check_zone`` for an existing zone)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from enum import StrEnum
from functools import cache, lru_cache
from typing import Protocol

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from publicsuffixlist import PublicSuffixList
from sqlalchemy.orm import lazyload
from sqlalchemy.orm.attributes import set_committed_value

from reseller.accounts.models import Reseller
from reseller.core.clock import clock
from reseller.core.db import insert_all_unless_exist, is_sqlite
from reseller.core.events import record_event, record_events
from reseller.core.extensions import db
from reseller.core.jobs import enqueue
from reseller.dns.errors import (
    PublicSuffix,
    ZoneHeldElsewhere,
    ZoneInsideOtherZone,
    ZoneNotAllowed,
    ZonePending,
)
from reseller.dns.models import Record, VanityNameservers, Zone, ZoneKey
from reseller.dns.settings import DnsSettings
from reseller.dns.verification import DnsLookup
from reseller.domains.models import Domain

# The TXT record that proves control of an external name (draft-ietf-dnsop-domain-
# verification-techniques: an underscore label of the provider, a random value). Neutral
# wording: the reseller's customers publish it, and they never see the operator's brand.
VERIFY_LABEL = "_dns-hosting-challenge"
VERIFY_PREFIX = "dns-hosting-verification="

# Why a zone was taken off the server (``Zone.unpublished_reason``).
HELD_ELSEWHERE = "zone_held_elsewhere"
INSIDE_OTHER_ZONE = "zone_inside_other_zone"
DOMAIN_LEFT = "domain_left"


class Standing(StrEnum):
    HELD = "held"          # the reseller holds the name, or a domain above it, in Tunnus
    VERIFIED = "verified"  # inside (or equal to) an active zone the reseller hosts
    EXTERNAL = "external"  # not held here: the zone waits, pending, for proof of control


class Lookup(Protocol):
    def txt(self, name: str) -> list[str]: ...
    def delegation(self, name: str) -> set[str]: ...


@cache
def _psl() -> PublicSuffixList:
    # The list bundled with the package (no network); ICANN and private sections both, so
    # names like github.io are suffixes too.
    return PublicSuffixList()


def ancestors(name: str) -> list[str]:
    """``name`` and every name above it: a.b.fi, b.fi, fi."""
    labels = name.split(".")
    return [".".join(labels[i:]) for i in range(len(labels))]


def new_token() -> str:
    return secrets.token_urlsafe(24)


def at_or_inside(name: str) -> sa.ColumnElement[bool]:
    """Zones called ``name`` or inside it (``a.example.fi`` for ``example.fi``).

    On PostgreSQL their reversed names (``if.elpmaxe``…) fall in one range, which the
    index ``ix_dns_zones_name_reversed`` reads with its own bytewise operators (a LIKE
    prefix with a bound parameter would not be planned onto it in a prepared statement);
    the range also holds names such as ``x-example.fi``, which the exact test that follows
    leaves out. SQLite scans with the exact test alone."""
    return _at_or_inside(is_sqlite(), _inside(name))


def _at_or_inside(sqlite: bool, values: dict[str, str] | None = None, *, tag: str = ""
                  ) -> sa.ColumnElement[bool]:
    """The test of ``at_or_inside``: with ``values`` (``_inside``) for a statement built
    for the call, without for one built once and given them as parameters (the two reads
    every registration runs, the order's ``domain_arrived`` and the new zone's ``evict``,
    cost a third more built for the call), named with ``tag`` after each key."""
    def param(key: str) -> sa.BindParameter:
        return sa.bindparam(key + tag, values[key] if values else None, type_=sa.String,
                            unique=values is not None)

    exact = sa.or_(Zone.name == param("name"), Zone.name.like(param("suffix"), escape="/"))
    if sqlite:
        return exact
    reversed_name = sa.func.reverse(Zone.name)
    return sa.and_(reversed_name.op("~>=~")(param("low")),
                   reversed_name.op("~<~")(param("high")), exact)


def _inside(name: str) -> dict[str, str]:
    """The parameters of ``_at_or_inside`` for ``name`` (``/`` escapes LIKE's wildcards)."""
    escaped = "." + name.replace("/", "//").replace("%", "/%").replace("_", "/_")
    return {"name": name, "suffix": "%" + escaped, "low": name[::-1], "high": name[::-1] + "/"}


@cache
def _evict_statement(sqlite: bool) -> sa.Select:
    return sa.select(Zone).where(Zone.status == "active",
                                 Zone.reseller_id != sa.bindparam("reseller_id"),
                                 _at_or_inside(sqlite))


@lru_cache(maxsize=64)
def _evict_many_statement(sqlite: bool, count: int) -> sa.Select:
    # Built once per number of zones (at most a dispatch batch's): building it for the call
    # cost more than running it.
    return sa.select(Zone).options(lazyload(Zone.records)).where(
        Zone.status == "active", sa.or_(*(
            sa.and_(Zone.reseller_id != sa.bindparam(f"reseller_id_{n}"),
                    _at_or_inside(sqlite, tag=f"_{n}"))
            for n in range(count))))


@cache
def _arrived_statement(sqlite: bool) -> sa.Select:
    # One read for both (a statement less on every registration): the name's zones and
    # those inside it, of other accounts (active) and of this one (pending).
    reseller = sa.bindparam("reseller_id")
    return sa.select(Zone).where(
        _at_or_inside(sqlite),
        sa.or_(sa.and_(Zone.reseller_id != reseller, Zone.status == "active"),
               sa.and_(Zone.reseller_id == reseller, Zone.status == "pending")))


# Built once: every zone hosted asks (see BUILT ONCE in reseller.core.db)
_HOLDERS = sa.select(Domain.live_name, Domain.reseller_id).where(
    Domain.live_name.in_(sa.bindparam("names", expanding=True)))


def authorize_zone(*, reseller_id: int, name: str, settings: DnsSettings) -> Standing:
    """May ``reseller_id`` host ``name`` (normalised), and on what standing? Raises a
    refusal otherwise. Reads only; the caller decides what to create."""
    return authorize_zones([(reseller_id, name)], settings=settings)[(reseller_id, name)]


def authorize_zones(wanted: list[tuple[int, str]], *,
                    settings: DnsSettings) -> dict[tuple[int, str], Standing]:
    """``authorize_zone`` for several (reseller id, name) at once, in two reads for them
    all: the standing of each, or the first refusal raised. The names must not be at or
    inside one another (``overlapping``): each is judged on what is stored, not on what
    another of them would add."""
    for _reseller_id, name in wanted:
        _refuse_reserved(name, settings)
        if _psl().is_public(name):
            raise PublicSuffix(_l("%(name)s is a public suffix: names are registered under "
                                  "it, it cannot be hosted itself.", name=name))
    above = {name: ancestors(name) for _reseller_id, name in wanted}
    every = sorted({n for names in above.values() for n in names})
    holders: dict[str, set[int]] = {}
    for live_name, holder in db.session.execute(_HOLDERS, {"names": every}):
        holders.setdefault(live_name, set()).add(holder)
    standings: dict[tuple[int, str], Standing] = {}
    unheld = []
    for reseller_id, name in wanted:
        held_by = {holder for n in above[name] for holder in holders.get(n, ())}
        if not held_by:
            unheld.append((reseller_id, name))
        elif held_by == {reseller_id}:
            standings[(reseller_id, name)] = Standing.HELD
        else:
            raise ZoneHeldElsewhere()
    if unheld:
        active = list(db.session.scalars(sa.select(Zone).where(
            Zone.name.in_(sorted({n for _r, name in unheld for n in above[name]})),
            Zone.status == "active")))
        for reseller_id, name in unheld:
            standings[(reseller_id, name)] = _standing_unheld(reseller_id, name, above[name],
                                                              active)
    return standings


def _standing_unheld(reseller_id: int, name: str, above: list[str],
                     active: list[Zone]) -> Standing:
    """A name nobody holds here: inside (or at) an active zone of the reseller's, or
    external; refused when another account's active zone is at or above it."""
    standing = None
    for zone in active:
        if zone.name not in above:
            continue
        if zone.reseller_id != reseller_id:
            raise ZoneHeldElsewhere() if zone.name == name else ZoneInsideOtherZone()
        standing = Standing.VERIFIED
    if standing is not None:
        return standing
    if _psl().privatesuffix(name, accept_unknown=False) is None:
        raise ZoneNotAllowed(_l("%(name)s is not under a suffix where names are registered.",
                                name=name))
    return Standing.EXTERNAL


def overlapping(names: list[str]) -> bool:
    """Whether any of ``names`` is at or inside another of them (the same name twice
    counts): such names cannot be judged or stored together."""
    seen = set(names)
    return len(seen) < len(names) or any(
        n in seen for name in seen for n in ancestors(name)[1:])


def _refuse_reserved(name: str, settings: DnsSettings) -> None:
    # The operator's own domain and the shared nameservers' domain: whoever hosted them
    # would answer for every zone's nameserver names.
    reserved = {settings.operator_domain, *(ns.split(".", 1)[1] for ns in settings.nameservers
                                           if "." in ns)}
    if any(name == domain or name.endswith("." + domain) for domain in reserved if domain):
        raise ZoneNotAllowed(_l("%(name)s belongs to the DNS service itself.", name=name))


def check_zone(zone: Zone, settings: DnsSettings) -> Standing:
    """Before anything that serves or signs for an existing zone (an ACME key, an httpreq
    write, a URL forward): the zone must be active and still allowed."""
    if not zone.active:
        raise ZonePending(_l("%(name)s is published only once you prove control of it.",
                             name=zone.name))
    return authorize_zone(reseller_id=zone.reseller_id, name=zone.name, settings=settings)


def start(zone: Zone, standing: Standing, *, new: bool = False) -> Zone:
    """A zone starts: held names (and names inside an own zone) go live at once; external
    names wait, pending, with a verification token. ``new``: ``zone`` is not stored yet;
    it is stored here (already active when it may be, in one INSERT) and the stored zone
    is returned; the caller announces it (``announce_published``) once its creation is
    recorded."""
    if new:
        return start_new([(zone, standing)])[0]
    zone.verification_token = zone.verification_token or new_token()
    if standing is not Standing.EXTERNAL:
        activate(zone, proof=_proof(standing))
    return zone


def start_new(zones: list[tuple[Zone, Standing]]) -> list[Zone]:
    """``start(zone, standing, new=True)`` for several new zones (names not
    ``overlapping``): the live ones stored in one INSERT with their records in another.
    The stored zones, in the order given."""
    external = [zone for zone, standing in zones if standing is Standing.EXTERNAL]
    live = [(zone, _proof(standing)) for zone, standing in zones
            if standing is not Standing.EXTERNAL]
    for zone, _standing in zones:
        zone.verification_token = zone.verification_token or new_token()
    if external:
        db.session.add_all(external)
        db.session.flush()
    stored = _add_live(live) if live else {}
    return [stored.get(id(zone), zone) for zone, _standing in zones]


def _proof(standing: Standing) -> str:
    return "domain" if standing is Standing.HELD else "parent"


def activate(zone: Zone, *, proof: str) -> None:
    """Publish the zone: another account's zones of this name or inside it come off first
    (the holder, or whoever proved control of the name above, wins)."""
    _go_live(zone, proof)
    announce_published(zone)


def announce_published(zone: Zone, *, created: dict | None = None) -> None:
    """The zone went live: say so (with ``created``, the event of its creation, in the same
    statement), and have it published."""
    announce_many([(zone, created)])


def announce_many(zones: list[tuple[Zone, dict | None]]) -> None:
    """``announce_published`` for several zones: their events in one statement."""
    happenings = []
    for zone, created in zones:
        happenings += [*([created] if created else []),
                       {"reseller_id": zone.reseller_id, "type": "dns.zone_verified",
                        "data": {"zone": zone.name, "proof": zone.proof}}]
    record_events(*happenings)
    for zone, _created in zones:
        enqueue("reseller.dns.tasks.publish_zone", zone.id)


def _evict_for(zone: Zone, proof: str) -> None:
    evict(name=zone.name, keep_reseller_id=zone.reseller_id, reason=_eviction_reason(proof))


def _eviction_reason(proof: str) -> str:
    return HELD_ELSEWHERE if proof == "domain" else INSIDE_OTHER_ZONE


def _go_live(zone: Zone, proof: str) -> None:
    _evict_for(zone, proof)
    try:
        # One active zone per name (a partial unique index): a concurrent activation of
        # the same name by another account makes this one lose, as a refusal, not a 500.
        with db.session.begin_nested():
            zone.status, zone.proof, zone.verified_at = "active", proof, clock.now()
            zone.unpublished_reason = zone.unpublished_at = None
            db.session.flush()
    except sa.exc.IntegrityError as error:
        raise ZoneHeldElsewhere() from error


def _add_live(zones: list[tuple[Zone, str]]) -> dict[int, Zone]:
    """Store the new zones (not in the session yet) active, with their records: one INSERT
    of the zones that does nothing for a zone the one-active-zone-per-name index (or the
    account's own zone of the name) says another got there first, a refusal then, as with
    an activation; no savepoint around it (a zone is hosted for every registration); and
    one of their records. The stored zone for each zone given, by ``id()``."""
    _evict_many(zones)
    now = clock.now()
    rows = []
    for zone, proof in zones:
        values = {attribute.key: getattr(zone, attribute.key)
                  for attribute in sa.inspect(Zone).column_attrs
                  if getattr(zone, attribute.key) is not None}
        values.update(status="active", proof=proof, verified_at=now)
        rows.append(values)
    inserted = {(row.reseller_id, row.name): row for row in insert_all_unless_exist(
        Zone, rows, options=(lazyload(Zone.records),))}
    if len(inserted) < len(zones):
        raise ZoneHeldElsewhere()
    stored, written = {}, []
    for zone, _proof in zones:
        row = inserted[(zone.reseller_id, zone.name)]
        records = [Record(zone_id=row.id, name=rr.name, type=rr.type, ttl=rr.ttl,
                          value=rr.value) for rr in zone.records]
        written.append((row, records))
        stored[id(zone)] = row
    db.session.add_all([record for _row, records in written for record in records])
    db.session.flush()
    for row, records in written:
        # The collection is what was just written: no read of it back.
        set_committed_value(row, "records",
                            sorted(records, key=lambda rr: (rr.name, rr.type, rr.value)))
    return stored


def _evict_many(zones: list[tuple[Zone, str]]) -> None:
    """``_evict_for`` each of the new zones (names not ``overlapping``), in one read."""
    if len(zones) == 1:
        _evict_for(*zones[0])
        return
    parameters = {f"{key}_{n}": value for n, (zone, _proof) in enumerate(zones)
                  for key, value in {**_inside(zone.name), "reseller_id": zone.reseller_id}.items()}
    found = db.session.scalars(_evict_many_statement(is_sqlite(), len(zones)), parameters)
    for other in list(found):
        for zone, proof in zones:
            if other.reseller_id != zone.reseller_id and (
                    other.name == zone.name or other.name.endswith("." + zone.name)):
                unpublish(other, reason=_eviction_reason(proof))
                break


def evict(*, name: str, keep_reseller_id: int, reason: str) -> list[Zone]:
    """Unpublish other accounts' active zones called ``name`` or inside it."""
    zones = list(db.session.scalars(_evict_statement(is_sqlite()),
                                    {"reseller_id": keep_reseller_id, **_inside(name)}))
    for zone in zones:
        unpublish(zone, reason=reason)
    return zones


def unpublish(zone: Zone, *, reason: str) -> None:
    """Take the zone off the server and revoke its zone keys; it stays, pending, in the
    account (its records are kept) and is listed in the operator console."""
    if not zone.active:
        return
    zone.status, zone.proof, zone.verified_at = "pending", None, None
    zone.unpublished_reason, zone.unpublished_at = reason, clock.now()
    zone.verification_token = zone.verification_token or new_token()
    for key in db.session.scalars(sa.select(ZoneKey).where(ZoneKey.zone_id == zone.id)):
        enqueue("reseller.dns.tasks.remove_zone_key", zone.name, key.key_name)
        db.session.delete(key)
    db.session.flush()
    record_event(reseller_id=zone.reseller_id, type="dns.zone_unpublished",
                 data={"zone": zone.name, "reason": reason})
    enqueue("reseller.dns.tasks.unpublish_zone", zone.id)


def domain_left(*, reseller_id: int, name: str) -> None:
    """The reseller no longer holds ``name`` (transferred out, deleted): none of its
    zones at or below the name keeps serving or signing."""
    for zone in db.session.scalars(sa.select(Zone).where(
            Zone.reseller_id == reseller_id, Zone.status == "active", at_or_inside(name))):
        unpublish(zone, reason=DOMAIN_LEFT)


def domain_arrived(*, reseller_id: int, name: str) -> None:
    """The reseller now holds ``name``: other accounts' zones of it come off, and the
    reseller's own pending zones at or below it go live."""
    zones = list(db.session.scalars(_arrived_statement(is_sqlite()),
                                    {"reseller_id": reseller_id, **_inside(name)}))
    for zone in zones:
        if zone.reseller_id != reseller_id:
            unpublish(zone, reason=HELD_ELSEWHERE)
    for zone in zones:
        if zone.reseller_id == reseller_id:
            activate(zone, proof="domain")


# -- proof of control for external names -------------------------------------------------

def verification_record(zone: Zone) -> dict[str, str]:
    return {"name": f"{VERIFY_LABEL}.{zone.name}", "type": "TXT",
            "value": VERIFY_PREFIX + (zone.verification_token or "")}


def counting_nameservers(reseller_id: int) -> list[str]:
    """Nameservers whose delegation proves control: the reseller's verified vanity names.
    The shared default names prove nothing (every reseller has them, and a dangling
    delegation to them must not let anyone take the name over)."""
    vanity = db.session.scalar(
        sa.select(VanityNameservers).where(VanityNameservers.reseller_id == reseller_id))
    if vanity is None or vanity.verified_at is None:
        return []
    return list(vanity.hostnames)


@dataclass(frozen=True)
class Question:
    """What proof of control to look for: read in a unit of work, asked of the resolver
    with no transaction open (``ask``)."""
    name: str
    txt_name: str
    txt_value: str
    counting: tuple[str, ...]


def question(zone: Zone | None) -> Question | None:
    if zone is None or zone.active:
        return None
    record = verification_record(zone)
    return Question(zone.name, record["name"], record["value"],
                    tuple(counting_nameservers(zone.reseller_id)))


class Answers:
    """A lookup answering from what ``ask`` found (nothing for names it did not ask)."""

    def __init__(self, txt: dict[str, list[str]], delegation: dict[str, set[str]]) -> None:
        self._txt, self._delegation = txt, delegation

    def txt(self, name: str) -> list[str]:
        return list(self._txt.get(name, []))

    def delegation(self, name: str) -> set[str]:
        return set(self._delegation.get(name, set()))


def ask(question: Question | None, lookup: Lookup) -> Answers:
    """Look up what ``verify_zone`` will want to know (no database work)."""
    if question is None:
        return Answers({}, {})
    txt = lookup.txt(question.txt_name)
    delegation = {}
    if question.txt_value not in txt and question.counting:
        delegation[question.name] = lookup.delegation(question.name)
    return Answers({question.txt_name: txt}, delegation)


def verify_zone(zone: Zone, settings: DnsSettings, lookup: Lookup | None = None) -> Zone:
    """Verify now: re-check the rules, then look for the TXT record or the delegation; the
    zone is published once either is found. The outcome is kept in ``last_check``. Pass
    the ``Answers`` looked up beforehand (``question``/``ask``): without ``lookup`` the
    resolver is asked here, inside the caller's transaction."""
    if zone.active:
        return zone
    standing = authorize_zone(reseller_id=zone.reseller_id, name=zone.name, settings=settings)
    if standing is not Standing.EXTERNAL:
        start(zone, standing)
        return zone
    proof, problems, delegated = _find_proof(zone, lookup or DnsLookup(settings))
    zone.last_check = {"checked_at": clock.now().isoformat(), "problems": problems,
                       **({"delegated": delegated} if delegated is not None else {})}
    if proof:
        activate(zone, proof=proof)
    db.session.flush()
    return zone


def _find_proof(zone: Zone, lookup: Lookup) -> tuple[str | None, list[str], list[str] | None]:
    """The proof found (or None), what is missing, and the delegation seen when it was
    looked up (kept in ``last_check`` for the zone page's delegation warning)."""
    record = verification_record(zone)
    if record["value"] in lookup.txt(record["name"]):
        return "txt", [], None
    problems = [str(_l("%(name)s has no TXT record %(value)s yet.", **record))]
    counting = counting_nameservers(zone.reseller_id)
    if counting:
        delegated = lookup.delegation(zone.name)
        if delegated and delegated <= set(counting):
            return "delegation", [], sorted(delegated)
        problems.append(str(_l("%(name)s is delegated to %(found)s, not to %(expected)s.",
                               name=zone.name, found=", ".join(sorted(delegated)) or "-",
                               expected=", ".join(counting))))
        return None, problems, sorted(delegated)
    return None, problems, None


def verification_view(zone: Zone) -> dict | None:
    """What a pending zone's client must publish, and what the last check found."""
    if zone.active:
        return None
    return {"txt": verification_record(zone),
            "nameservers": counting_nameservers(zone.reseller_id),
            "checked_at": (zone.last_check or {}).get("checked_at"),
            "problems": list((zone.last_check or {}).get("problems", []))}


def unpublished_report() -> list[tuple[Zone, str]]:
    """For the operator console: zones taken off the server by these rules (or never
    proven since the rules came), each with its reseller's company name."""
    rows = db.session.execute(
        sa.select(Zone, Reseller.company_name).join(Reseller, Reseller.id == Zone.reseller_id)
        .where(Zone.unpublished_reason.is_not(None))
        .order_by(Zone.name, Zone.id))
    return [(zone, company) for zone, company in rows]
