"""Registrant compliance: email verification with a deadline, and renewal reminders.

State is keyed by plain values (reseller id, email, domain name). Suspension itself
belongs to the domains package: it listens for ``registrant.verification_overdue``
(suspend that registrant's domains) and ``registrant.verified`` (lift it). Every
function here is idempotent and reads time from ``clock.now()`` (or ``now=``).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from reseller.core.clock import clock, utc
from reseller.core.db import (
    insert_all_unless_exist,
    insert_unless_exists,
    shared_reads,
    upsert,
    upsert_all,
)
from reseller.core.events import record_event
from reseller.core.extensions import db
from reseller.core.jobs import enqueue
from whitelabel import messages
from whitelabel.models import RegistrantVerification, ReminderSent, RenewalWatch, VerificationDomain
from whitelabel.settings import Settings, current

REMINDER_CHUNK = 25  # reminders per unit of work: well under a second even on a busy machine
REMINDER_CHUNK_JOB = "whitelabel.tasks.send_renewal_reminder_chunk"
REMINDER_LANES = 4  # chains of chunks run side by side (as many workers as there are)
REMINDER_LANE_JOB = "whitelabel.tasks.send_renewal_reminder_lane"
BEFORE_30 = timedelta(days=30)
BEFORE_7 = timedelta(days=7)
AFTER = timedelta(days=5)


def _email(value: str) -> str:
    return (value or "").strip().lower()


# Built once: every registration asks (see BUILT ONCE in reseller.core.db)
_VERIFICATION = sa.select(RegistrantVerification).where(
    RegistrantVerification.reseller_id == sa.bindparam("reseller_id"),
    RegistrantVerification.email == sa.bindparam("email"))


def find_verification(reseller_id: int, email: str) -> RegistrantVerification | None:
    return db.session.scalar(_VERIFICATION, {"reseller_id": reseller_id,
                                             "email": _email(email)})


def verification_domains(row: RegistrantVerification) -> list[str]:
    """The names registered for the address while its verification was open, in order."""
    return list(db.session.scalars(sa.select(VerificationDomain.domain).where(
        VerificationDomain.verification_id == row.id).order_by(VerificationDomain.id)))


def _add_domain(row: RegistrantVerification, domain: str) -> None:
    """One INSERT, a no-op for a name already there (a repeated event, say)."""
    insert_unless_exists(VerificationDomain, verification_id=row.id, domain=domain)


def is_verified(*, reseller_id: int, email: str) -> bool:
    row = find_verification(reseller_id, email)
    return row is not None and row.state == "verified"


def start_registrant_verification(*, reseller_id: int, email: str, domain: str,
                                  language: str | None = None, now: datetime | None = None,
                                  settings: Settings | None = None) -> RegistrantVerification:
    """Ask a new registrant to confirm ``email`` within the deadline (15 days).

    A verified address is not asked again; a pending one only gains the domain (a row of
    its own: registrations of one registrant neither wait on each other nor rewrite a
    list that grows with each of them).
    """
    now = now or clock.now()
    settings = settings or current()
    row = find_verification(reseller_id, email)
    if row is not None:
        if row.state != "verified":
            _add_domain(row, domain)
        return row
    row = insert_unless_exists(
        RegistrantVerification, reseller_id=reseller_id, email=_email(email),
        language=language or "", state="pending", started_at=now,
        deadline_at=now + timedelta(days=settings.verification_days))
    if row is None:  # a concurrent registration of the same registrant won
        return start_registrant_verification(reseller_id=reseller_id, email=email,
                                             domain=domain, language=language, now=now,
                                             settings=settings)
    _add_domain(row, domain)
    sent = messages.send_registrant_message(
        reseller_id=reseller_id, kind="email_verification", recipient=row.email,
        language=language, settings=settings, dedupe_key=f"verify-email:{row.id}",
        context={"email": row.email, "domains": [domain], "deadline_at": row.deadline_at})
    row.language = sent.language
    return row


def start_registrant_verifications(wanted: list[dict[str, Any]], *,
                                   settings: Settings | None = None) -> None:
    """``start_registrant_verification`` for several names (each a dict of its arguments:
    ``reseller_id``, ``email``, ``domain``, ``language``) in a few statements for them all
    (a batch of registrations): the addresses' verifications read at once and the names
    of open ones added in one insert. An address with none yet starts one as before, its
    first name included (then its later names join it here)."""
    if not wanted:
        return
    settings = settings or current()
    found = {(row.reseller_id, row.email): row for row in db.session.scalars(
        sa.select(RegistrantVerification).where(
            RegistrantVerification.reseller_id.in_({w["reseller_id"] for w in wanted}),
            RegistrantVerification.email.in_({_email(w["email"]) for w in wanted})))}
    adds = []
    for item in wanted:
        key = (item["reseller_id"], _email(item["email"]))
        row = found.get(key)
        if row is None:
            found[key] = start_registrant_verification(
                reseller_id=item["reseller_id"], email=item["email"], domain=item["domain"],
                language=item.get("language"), settings=settings)
        elif row.state != "verified":  # a verified address is not asked again
            adds.append({"verification_id": row.id, "domain": item["domain"]})
    insert_all_unless_exist(VerificationDomain, adds)


def confirm_email(*, reseller_id: int, email: str, now: datetime | None = None
                  ) -> RegistrantVerification | None:
    """The registrant confirmed: verified, and a suspension for it is lifted."""
    row = find_verification(reseller_id, email)
    if row is None or row.state == "verified":
        return row
    was_suspended = row.state == "overdue"
    row.state, row.verified_at = "verified", now or clock.now()
    db.session.flush()
    record_event(reseller_id=reseller_id, type="registrant.verified",
                 data={"email": row.email, "domains": verification_domains(row),
                       "unsuspend": was_suspended},
                 dedupe_key=f"registrant.verified:{row.id}")
    return row


def enforce_verification_deadlines(*, now: datetime | None = None) -> int:
    """Past the deadline and still unconfirmed: overdue, and the domains get suspended."""
    now = now or clock.now()
    rows = list(db.session.scalars(sa.select(RegistrantVerification).where(
        RegistrantVerification.state == "pending",
        RegistrantVerification.deadline_at <= now).order_by(RegistrantVerification.id)))
    for row in rows:
        row.state, row.suspended_at = "overdue", now
        record_event(reseller_id=row.reseller_id, type="registrant.verification_overdue",
                     data={"email": row.email, "domains": verification_domains(row),
                           "suspend": True},
                     dedupe_key=f"registrant.verification_overdue:{row.id}")
    db.session.flush()
    return len(rows)


def watch_renewal(*, reseller_id: int, domain: str, expires_at: datetime, recipient: str,
                  language: str | None = None) -> RenewalWatch:
    """Remember a domain's expiry and registrant, for the reminders."""
    return upsert(RenewalWatch, ("reseller_id", "domain"), reseller_id=reseller_id,
                  domain=domain, expires_at=expires_at, recipient=recipient, language=language)


def watch_renewals(watches: list[dict[str, Any]]) -> None:
    """``watch_renewal`` for several domains (each a dict of its arguments), in one
    statement; a domain given twice keeps the last."""
    upsert_all(RenewalWatch, ("reseller_id", "domain"), [
        {"reseller_id": w["reseller_id"], "domain": w["domain"], "expires_at": w["expires_at"],
         "recipient": w["recipient"], "language": w.get("language")} for w in watches])


def unwatch_renewal(*, reseller_id: int, domain: str) -> None:
    db.session.execute(sa.delete(RenewalWatch).where(
        RenewalWatch.reseller_id == reseller_id, RenewalWatch.domain == domain))


def reminder_stage(expires_at: datetime, now: datetime) -> str | None:
    """Which reminder is due: ``30`` (30–8 days left), ``7`` (7 days or less), ``after``
    (expired less than 5 days ago) or none."""
    left = utc(expires_at) - now
    if timedelta(0) < left <= BEFORE_7:
        return "7"
    if BEFORE_7 < left <= BEFORE_30:
        return "30"
    if -AFTER < left <= timedelta(0):
        return "after"
    return None


def send_renewal_reminder(*, reseller_id: int, domain: str, expires_at: datetime,
                          recipient: str, language: str | None, now: datetime | None = None,
                          settings: Settings | None = None) -> bool:
    """Send the reminder due now for this expiry, once; True if one was queued."""
    now = now or clock.now()
    return bool(_send_reminders([(reseller_id, domain, utc(expires_at), recipient, language)],
                                now=now, settings=settings))


def _send_reminders(due: list[tuple[int, str, datetime, str, str | None]], *,
                    now: datetime, settings: Settings | None) -> int:
    """The reminders due now for these (reseller, domain, expiry, recipient, language),
    each once: its marker row is inserted unless there is one (``ON CONFLICT DO
    NOTHING``: a concurrent run's marker wins, without a savepoint), and only the
    reminders whose marker this call wrote are queued, their messages in one statement.
    A chunk of reminders is one reseller's, mostly: its brand, sender and links are read
    once for the chunk (``shared_reads``), not once per reminder."""
    staged = [(entry, stage) for entry in due
              if (stage := reminder_stage(entry[2], now)) is not None]
    if not staged:
        return 0
    with shared_reads():
        marked = {(row.reseller_id, row.domain, utc(row.expires_at), row.stage)
                  for row in insert_all_unless_exist(ReminderSent, [
                      {"reseller_id": reseller_id, "domain": domain, "expires_at": expires_at,
                       "stage": stage, "sent_at": now}
                      for (reseller_id, domain, expires_at, _r, _l), stage in staged])}
        requests = [{
            "reseller_id": reseller_id, "recipient": recipient, "language": language,
            "kind": "renewal_overdue" if stage == "after" else "renewal_reminder",
            "context": {"domain": domain, "expires_at": expires_at},
            "dedupe_key": f"renewal:{reseller_id}:{domain}:{expires_at.date().isoformat()}:"
                          f"{stage}"}
            for (reseller_id, domain, expires_at, recipient, language), stage in staged
            if (reseller_id, domain, expires_at, stage) in marked]
        for answer in messages.send_registrant_messages(requests, settings=settings):
            if isinstance(answer, Exception):  # a template's context short: a bug, loudly
                raise answer
    return len(requests)


def _due(now: datetime) -> sa.ColumnElement[bool]:
    return sa.and_(RenewalWatch.expires_at <= now + BEFORE_30,
                   RenewalWatch.expires_at > now - AFTER)


def _reminded(now: datetime) -> sa.ColumnElement[bool]:
    """The reminder due now (``reminder_stage`` in SQL) was sent already: an hourly run
    looks only at watches owed one, not at every due watch again."""
    stage = sa.case(
        (sa.and_(RenewalWatch.expires_at > now, RenewalWatch.expires_at <= now + BEFORE_7),
         "7"),
        (sa.and_(RenewalWatch.expires_at > now + BEFORE_7,
                 RenewalWatch.expires_at <= now + BEFORE_30), "30"),
        else_="after")
    return sa.exists().where(ReminderSent.reseller_id == RenewalWatch.reseller_id,
                             ReminderSent.domain == RenewalWatch.domain,
                             ReminderSent.expires_at == RenewalWatch.expires_at,
                             ReminderSent.stage == stage)


def send_renewal_reminders(*, now: datetime | None = None,
                           settings: Settings | None = None) -> int:
    """Every watched domain near (or just past) expiry, in this unit of work."""
    now = now or clock.now()
    watches = db.session.scalars(sa.select(RenewalWatch).where(_due(now))
                                 .order_by(RenewalWatch.id))
    return _send_for(list(watches), now=now, settings=settings)


def send_renewal_reminders_in_chunks(*, now: datetime | None = None,
                                     settings: Settings | None = None) -> int:
    """The scheduled run: queue the due reminders as at most ``REMINDER_LANES`` chains of
    chunks; each chunk (``REMINDER_CHUNK`` reminders) is a job with a unit of work of its
    own that queues the next. Returns how many reminders are owed.

    A reseller with 100,000 domains has some 10,000 reminders due. In one transaction
    they ran for a minute; queued as 400 chunk jobs from this one, its job rows alone
    kept it open for seconds. The event feed shows only events no running transaction
    can precede, so either stalled every reseller's feed meanwhile. This transaction
    reads ids and queues a few jobs (or sends a single chunk itself); every other one is
    a chunk."""
    now = now or clock.now()
    ids = list(db.session.scalars(sa.select(RenewalWatch.id).where(
        _due(now), ~_reminded(now)).order_by(RenewalWatch.id)))
    if len(ids) <= REMINDER_CHUNK:  # one chunk: sent here, in this unit of work
        send_reminders_for(ids, now=now, settings=settings)
        return len(ids)
    lane = max(REMINDER_CHUNK, -(-len(ids) // REMINDER_LANES))
    for start in range(0, len(ids), lane):
        part = ids[start:start + lane]
        enqueue(REMINDER_LANE_JOB, part[0] - 1, part[-1])
    return len(ids)


def send_reminders_after(after_id: int, upto_id: int, *, now: datetime | None = None,
                         settings: Settings | None = None) -> tuple[int, int | None]:
    """One chunk of a lane: the reminders due for the next ``REMINDER_CHUNK`` watches with
    ids in (``after_id``, ``upto_id``]. Returns (sent, the id to continue after, or None
    when the lane is done)."""
    now = now or clock.now()
    ids = list(db.session.scalars(sa.select(RenewalWatch.id).where(
        RenewalWatch.id > after_id, RenewalWatch.id <= upto_id, _due(now), ~_reminded(now))
        .order_by(RenewalWatch.id).limit(REMINDER_CHUNK)))
    sent = send_reminders_for(ids, now=now, settings=settings)
    more = ids[-1] if len(ids) == REMINDER_CHUNK and ids[-1] < upto_id else None
    return sent, more


def send_reminders_for(watch_ids: list[int], *, now: datetime | None = None,
                       settings: Settings | None = None) -> int:
    """The reminders due now for these watches (one chunk); a watch gone meanwhile (the
    domain was deleted or renewed) is skipped, and one already reminded is not again."""
    now = now or clock.now()
    watches = db.session.scalars(sa.select(RenewalWatch).where(
        RenewalWatch.id.in_(watch_ids), _due(now)).order_by(RenewalWatch.id))
    return _send_for(list(watches), now=now, settings=settings)


def _send_for(watches: list[RenewalWatch], *, now: datetime,
              settings: Settings | None) -> int:
    return _send_reminders([(w.reseller_id, w.domain, utc(w.expires_at), w.recipient,
                             w.language) for w in watches], now=now, settings=settings)
