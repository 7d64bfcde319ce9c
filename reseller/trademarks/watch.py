"""The watch: new names from each source, compared with every watched mark, recorded once
per (mark, name) as a match, announced as a ``trademark.match`` event (feed and webhooks)
and mailed to the mark's contact in its language under the reseller's brand.

Sources: Tunnus's own registrations (every reseller's, read after a cursor, and each one
right after it completes), and each configured TLD's daily zone file, diffed against the
day before (``zonefiles``; files from ``sources``). A zone run reads the marks and commits,
streams the diff with no transaction open, then records what it found in one unit of work.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import idna
import sqlalchemy as sa

from reseller.core.clock import clock
from reseller.core.db import insert_unless_exists, unit_of_work
from reseller.core.directory import reseller_profile
from reseller.core.events import record_event
from reseller.core.extensions import db
from reseller.domains.models import Contact, Domain, Order
from reseller.trademarks import sources, zonefiles
from reseller.trademarks.matching import Hit, Matcher
from reseller.trademarks.models import Trademark, TrademarkLabel, TrademarkMatch, WatchCursor
from whitelabel.messages import send_registrant_message, send_reseller_message

log = logging.getLogger(__name__)
OWN = "tunnus"
BATCH = 2000


@dataclass(frozen=True)
class Found:
    """A hit from a source, before it is recorded."""

    name: str
    hit: Hit
    claims: bool = False


def _marks() -> list[tuple[int, list[str]]]:
    rows = db.session.execute(
        sa.select(TrademarkLabel.trademark_id, TrademarkLabel.label).join(Trademark)
        .where(Trademark.status.in_(("active", "past_due")))
        .order_by(TrademarkLabel.trademark_id, TrademarkLabel.id))
    marks: dict[int, list[str]] = defaultdict(list)
    for trademark_id, label in rows:
        marks[trademark_id].append(label)
    return list(marks.items())


def current_matcher() -> Matcher:
    return Matcher(_marks())


def _cursor(source: str) -> str | None:
    row = db.session.get(WatchCursor, source)
    return row.position if row else None


def _move_cursor(source: str, position: str) -> None:
    row = db.session.get(WatchCursor, source)
    if row is None:
        db.session.add(WatchCursor(source=source, position=position, updated_at=clock.now()))
    else:
        row.position, row.updated_at = position, clock.now()
    db.session.flush()


# -- recording and alerting ----------------------------------------------------------------

def _unicode(name: str) -> str:
    try:
        return idna.decode(name)
    except idna.IDNAError:
        return name


def _holders_own(mark: Trademark, name: str) -> bool:
    """A name the mark's own reseller registered for the mark's contact is not a threat."""
    if mark.contact_id is None:
        return False
    return db.session.scalar(sa.select(sa.exists().where(
        Domain.live_name == name, Domain.reseller_id == mark.reseller_id,
        Domain.registrant_id == mark.contact_id))) or False


def record(found: Iterable[Found], *, source: str) -> list[TrademarkMatch]:
    """Store each hit once, record its event, and alert each mark's contact."""
    new: list[TrademarkMatch] = []
    for item in found:
        mark = db.session.get(Trademark, item.hit.mark_id)
        if mark is None or not mark.watching or _holders_own(mark, item.name):
            continue
        match = insert_unless_exists(
            TrademarkMatch, trademark_id=mark.id, reseller_id=mark.reseller_id,
            name=item.name, unicode_name=_unicode(item.name), reason=item.hit.reason,
            score=item.hit.score, detail=item.hit.detail[:100], source=source,
            found_at=clock.now(), claims_acknowledged=item.claims, state="new")
        if match is None:
            continue  # found before (another source, or a repeated run)
        record_event(reseller_id=mark.reseller_id, type="trademark.match",
                     data=match_data(mark, match), dedupe_key=f"trademark.match:{match.id}")
        new.append(match)
    by_mark: dict[int, list[TrademarkMatch]] = defaultdict(list)
    for match in new:
        by_mark[match.trademark_id].append(match)
    for trademark_id, matches in by_mark.items():
        alert(db.session.get(Trademark, trademark_id), matches)
    return new


def match_data(mark: Trademark, match: TrademarkMatch) -> dict[str, Any]:
    return {"trademark_id": mark.id, "mark": mark.mark, "holder": mark.holder,
            "match_id": match.id, "name": match.name, "unicode_name": match.unicode_name,
            "reason": match.reason, "score": match.score, "detail": match.detail,
            "source": match.source, "found_at": match.found_at.isoformat(),
            "claims_acknowledged": match.claims_acknowledged, "state": match.state}


def _language(mark: Trademark, contact: Contact) -> str | None:
    wanted = [language for language in mark.languages or [] if language in ("fi", "sv", "en")]
    if not wanted or contact.language in wanted:
        return contact.language
    return wanted[0]


def alert(mark: Trademark, matches: list[TrademarkMatch]) -> None:
    """Mail the mark's contact (white label: the reseller's brand and sender domain, the
    contact's language): one message per registration after a claims notice, one list for
    the rest. Without a contact, the reseller itself is told."""
    claimed = [m for m in matches if m.claims_acknowledged]
    others = [m for m in matches if not m.claims_acknowledged]
    contact = db.session.get(Contact, mark.contact_id) if mark.contact_id else None
    names = ", ".join(m.unicode_name for m in others)
    first = min(m.id for m in matches)
    if contact is None:
        profile = reseller_profile(mark.reseller_id)
        if profile is not None:
            send_reseller_message(
                reseller_id=mark.reseller_id, kind="trademark_matches",
                recipient=profile.contact_email, language=profile.language,
                context={"mark": mark.mark, "holder": mark.holder,
                         "names": ", ".join(m.unicode_name for m in matches)},
                dedupe_key=f"trademark:{mark.id}:matches:{first}")
        return
    language = _language(mark, contact)
    for match in claimed:
        send_registrant_message(
            reseller_id=mark.reseller_id, kind="trademark_claim", recipient=contact.email,
            language=language, context={"mark": mark.mark, "domain": match.name,
                                        "unicode_name": match.unicode_name},
            dedupe_key=f"trademark:{mark.id}:claim:{match.id}")
    if others:
        send_registrant_message(
            reseller_id=mark.reseller_id, kind="trademark_matches", recipient=contact.email,
            language=language, context={"mark": mark.mark, "names": names},
            dedupe_key=f"trademark:{mark.id}:matches:{first}")


# -- Tunnus's own registrations ---------------------------------------------------------------

def _claims_of(domain_ids: list[int]) -> dict[int, set[int]]:
    """{domain id: ids of the marks its registration order acknowledged a notice for}."""
    found: dict[int, set[int]] = {}
    if not domain_ids:
        return found
    rows = db.session.execute(sa.select(Order.domain_id, Order.params).where(
        Order.domain_id.in_(domain_ids), Order.kind == "register"))
    for domain_id, params in rows:
        claims = (params or {}).get("claims") or {}
        found.setdefault(domain_id, set()).update(claims.get("trademark_ids") or [])
    return found


def scan_domains(domains: list[tuple[int, str]], matcher: Matcher) -> list[Found]:
    claims = _claims_of([domain_id for domain_id, _ in domains])
    found = []
    for domain_id, name in domains:
        for hit in matcher.match(name):
            found.append(Found(name, hit, claims=hit.mark_id in claims.get(domain_id, ())))
    return found


def watch_registered(domain_id: int, name: str | None = None, *,
                     matcher: Matcher | None = None) -> list[TrademarkMatch]:
    """One of our registrations, right after it completed (the listener's job, which
    read the ``name`` with the id, and may pass the marks' ``matcher`` it built)."""
    if name is None:
        domain = db.session.get(Domain, domain_id)
        if domain is None:
            return []
        name = domain.name
    matcher = matcher if matcher is not None else current_matcher()
    if not matcher:
        return []
    return record(scan_domains([(domain_id, name)], matcher), source=OWN)


def watch_own_registrations(*, batch: int = BATCH) -> int:
    """Every registration or transfer-in since the cursor (catches any the listener
    missed; the unique (mark, name) makes a second sighting a no-op)."""
    after = int(_cursor(OWN) or 0)
    matcher = current_matcher()
    found = 0
    while True:
        rows = db.session.execute(sa.select(Domain.id, Domain.name).where(Domain.id > after)
                                  .order_by(Domain.id).limit(batch)).all()
        if not rows:
            break
        if matcher:
            found += len(record(scan_domains([(r.id, r.name) for r in rows], matcher),
                                source=OWN))
        after = rows[-1].id
        if len(rows) < batch:
            break
    _move_cursor(OWN, str(after))
    return found


# -- zone files -----------------------------------------------------------------------------

def _snapshots(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.names.gz"))


def diff_zone(source: sources.ZoneSource, tld: str, day: date, folder: Path,
              matcher: Matcher) -> list[Found]:
    """Fetch ``tld``'s file for ``day``, keep its sorted names as the day's snapshot and
    return the hits among the names new since the last snapshot. No database access."""
    folder.mkdir(parents=True, exist_ok=True)
    snapshot = folder / f"{day.isoformat()}.names.gz"
    earlier = [path for path in _snapshots(folder) if path.name < snapshot.name]
    zone = source.fetch(tld, day, folder)
    try:
        fresh = zonefiles.zone_diff(zone, tld, snapshot=snapshot,
                                    previous=earlier[-1] if earlier else None)
        found = [Found(name, hit) for name in fresh for hit in matcher.match(name)]
    finally:
        if zone.parent == folder:
            zone.unlink(missing_ok=True)  # the downloaded file; the snapshot stays
    for old in earlier[:-1]:
        old.unlink(missing_ok=True)  # keep yesterday's and today's lists only
    return found


def watch_zones(config: dict[str, Any], *, day: date | None = None) -> dict[str, int]:
    """Each configured TLD's zone once a day: {tld: matches recorded}."""
    day = day or clock.today()
    with unit_of_work():
        marks = _marks()
        due = [tld for tld in config.get("TRADEMARK_ZONE_TLDS") or ()
               if (_cursor(f"zone:{tld}") or "") < day.isoformat()]
    matcher = Matcher(marks)
    source = sources.zone_source(config, seeds=[labels[0] for _, labels in marks])
    results: dict[str, int] = {}
    for tld in due:
        if tld not in source.tlds:
            continue
        try:
            found = diff_zone(source, tld, day, Path(config["TRADEMARK_ZONE_DIR"]) / tld,
                              matcher)
        except OSError:
            log.exception("zone file for .%s could not be read; retried next run", tld)
            continue
        with unit_of_work():
            results[tld] = len(record(found, source=f"zone:{tld}"))
            _move_cursor(f"zone:{tld}", day.isoformat())
    return results
