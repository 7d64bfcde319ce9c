"""The durable outbox: every email is a row before it is a message on the wire.

``queue_message`` writes the row in the caller's transaction and schedules the send job
after commit. ``deliver`` builds the MIME message, DKIM-signs it with the sender
domain's key, claims the row (a lease, committed) and hands the message to the mailer
with no transaction open; a failure is recorded and retried with backoff, and after
``MAX_ATTEMPTS`` the message is given up (``failed``) and shown to the operator, who can
retry it. A sent message is never sent again.
"""

from __future__ import annotations

import functools
import hashlib
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from email import policy
from email.headerregistry import HeaderRegistry
from email.message import EmailMessage
from email.policy import EmailPolicy
from email.utils import format_datetime, parseaddr
from typing import Any

import sqlalchemy as sa
from flask import current_app

from reseller.core.clock import clock
from reseller.core.db import insert_all_unless_exist, lock_row, memo, shared_reads, unit_of_work
from reseller.core.documents import load_document
from reseller.core.extensions import db
from reseller.core.jobs import enqueue
from reseller.core.text import one_line
from whitelabel import dkim
from whitelabel.models import OutboxMessage, SenderDomain

MAX_ATTEMPTS = 12


def backoff(attempts: int) -> timedelta:
    """10 s, 20 s, 40 s … doubling, at most an hour: about 6 hours before giving up."""
    return timedelta(seconds=min(3600, 5 * 2 ** attempts))


def find(dedupe_key: str) -> OutboxMessage | None:
    return db.session.scalar(sa.select(OutboxMessage).where(OutboxMessage.dedupe_key == dedupe_key))


def find_many(dedupe_keys: list[str]) -> dict[str, OutboxMessage]:
    """The messages queued under any of these keys, by key (one statement)."""
    if not dedupe_keys:
        return {}
    return {row.dedupe_key: row for row in db.session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.dedupe_key.in_(dedupe_keys)))}


def queue_message(*, dedupe_key: str, recipient: str, sender: str, language: str,
                  template: str, subject: str, text: str, html: str | None = None,
                  reseller_id: int | None = None, context: dict[str, Any] | None = None,
                  envelope_from: str | None = None, reply_to: str | None = None
                  ) -> OutboxMessage:
    """Store a message to send; the same ``dedupe_key`` twice returns the first row.

    One statement (insert unless the key exists): a repeat, concurrent ones included,
    gets the first row and queues no second send."""
    return queue_messages([{
        "dedupe_key": dedupe_key, "recipient": recipient, "sender": sender,
        "language": language, "template": template, "subject": subject, "text": text,
        "html": html, "reseller_id": reseller_id, "context": context,
        "envelope_from": envelope_from, "reply_to": reply_to}])[0]


_FIELDS = ("dedupe_key", "recipient", "sender", "language", "template", "subject", "text",
           "html", "reseller_id", "context", "envelope_from", "reply_to")


def queue_messages(messages: list[dict[str, Any]]) -> list[OutboxMessage]:
    """``queue_message`` for several messages (each a dict of its arguments), stored in one
    statement (a batch of registrations' mails); the rows in the order given."""
    now = clock.now()
    rows = [{**{name: message.get(name) for name in _FIELDS},
             "context": message.get("context") or {}, "state": "queued",
             "next_attempt_at": now} for message in messages]
    stored = {row.dedupe_key: row for row in insert_all_unless_exist(OutboxMessage, rows)}
    queued = []
    for row in rows:
        message = stored.pop(row["dedupe_key"], None)  # a key given twice: the first one
        if message is None:
            queued.append(find(row["dedupe_key"]))
            continue
        enqueue("whitelabel.tasks.send_message", message.id)
        queued.append(message)
    return queued


# Headers whose values repeat from message to message: a reseller's sender and reply-to
# addresses, and the fixed ones (``set_content``'s among them). Each is parsed once per
# value and folded once per value (``_Headers``, ``_Wire``); the others (To, Subject,
# Date, Message-ID) differ in every message and are not kept.
_REPEATING = frozenset({"from", "reply-to", "sender", "auto-submitted", "mime-version",
                        "content-type", "content-transfer-encoding", "content-language"})


class _Headers(HeaderRegistry):
    """The standard header registry, with the class it makes for each header name kept,
    and the header it makes for each value of a repeating header (``_REPEATING``).

    The standard one makes a new class (``type(...)``) for every header of every message,
    a quarter of the CPU of building a message, and parses every value anew, most of the
    rest. The class depends only on the name, and a header only on its name and value (it
    is not changed after it is made), so the headers and the wire form are the same."""

    def __getitem__(self, name: str) -> type:
        return self._class_for(name.lower())  # the registry's own lookup ignores case

    @functools.lru_cache(maxsize=512)  # noqa: B019 (one registry per process, never freed)
    def _class_for(self, name: str) -> type:
        return super().__getitem__(name)

    def __call__(self, name: str, value: str) -> Any:
        if name.lower() in _REPEATING and type(value) is str:
            return self._kept(name, value)
        return super().__call__(name, value)

    @functools.lru_cache(maxsize=1024)  # noqa: B019
    def _kept(self, name: str, value: str) -> Any:
        return super().__call__(name, value)


class _Wire(EmailPolicy):
    """SMTP's policy (CRLF), with the folded form of each repeating header's value kept:
    folding re-reads the header's parse tree, as long again as making it."""

    def fold_binary(self, name: str, value: Any) -> bytes:
        if name.lower() in _REPEATING and isinstance(value, str):
            return _folded(self, name, value)
        return super().fold_binary(name, value)


@functools.lru_cache(maxsize=1024)
def _folded(wire: _Wire, name: str, value: Any) -> bytes:
    # keyed by the policy, the name and the header's text (equal text, equal header)
    return EmailPolicy.fold_binary(wire, name, value)


_HEADERS = _Headers()
# How a message is built (the default policy) and put on the wire (SMTP's CRLF), both with
# the header classes and repeating headers kept.
BUILD = policy.default.clone(header_factory=_HEADERS)
WIRE = _Wire(linesep="\r\n", header_factory=_HEADERS)


class AttachmentMissing(LookupError):
    """A named attachment cannot be loaded; the send is retried like a transport error."""


def build_email(message: OutboxMessage) -> EmailMessage:
    # Header values built from brand and contact data are one line each (``one_line``):
    # a stored line break can neither add a header nor make every send fail.
    email = EmailMessage(policy=BUILD)
    email["From"] = one_line(message.sender)
    email["To"] = one_line(message.recipient)
    if message.reply_to:
        email["Reply-To"] = one_line(message.reply_to)
    email["Subject"] = one_line(message.subject)
    email["Date"] = format_datetime(clock.now())
    domain = parseaddr(message.sender)[1].rpartition("@")[2] or None
    # Stable per row, so a receiver can drop the copy of a send we could not confirm.
    digest = hashlib.sha256(message.dedupe_key.encode()).hexdigest()[:16]
    email["Message-ID"] = f"<{message.id}.{digest}@{domain or 'localhost'}>"
    email["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies to this
    email.set_content(message.text)
    if message.html:
        email.add_alternative(message.html, subtype="html")
    # Attachments are named ({"kind", "ref"}) and loaded now, by the loader their owner
    # registered with the kernel (reseller.core.documents): the outbox knows no invoices.
    for spec in (message.context or {}).get("attachments") or []:
        loaded = load_document(str(spec.get("kind")), str(spec.get("ref")))
        if loaded is None:
            raise AttachmentMissing(f"attachment {spec!r} cannot be loaded")
        filename, mimetype, content = loaded
        maintype, _, subtype = mimetype.partition("/")
        email.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename)
    # RFC 3282: the language the reader gets. Set last: setting the content, and each step
    # that makes the message multipart, drops or moves every Content-* header set before.
    email["Content-Language"] = message.language
    for part in email.walk():
        if part.is_multipart() and part.get_boundary() is None:
            part.set_boundary(_boundary())
    return email


def _boundary() -> str:
    """A multipart boundary no body can hold (RFC 2046: at most 70 characters): 128 random
    bits, drawn when the message is built. The generator's own draws a shorter random
    number and compiles a regular expression per message to search the body for it, a
    tenth of the CPU of building a message."""
    return f"==============={secrets.token_hex(16)}=="


def signed_bytes(message: OutboxMessage, *, neutral_key: str | None = None,
                 neutral_selector: str = "relay") -> bytes:
    """The wire form, DKIM-signed by the From domain's key when we hold one."""
    data = build_email(message).as_bytes(policy=WIRE)  # CRLF, as on the wire
    domain = parseaddr(message.sender)[1].rpartition("@")[2].lower()
    sender = memo(("sender_by_domain", domain), lambda: db.session.scalar(
        sa.select(SenderDomain).where(SenderDomain.domain == domain)))
    if sender is not None:
        return dkim.sign(data, domain=domain, selector=sender.dkim_selector,
                         private_key=sender.dkim_private_key)
    if neutral_key:
        return dkim.sign(data, domain=domain, selector=neutral_selector, private_key=neutral_key)
    return data


SEND_LEASE = timedelta(seconds=60)  # three times the SMTP adapter's timeout


@dataclass(frozen=True)
class _Send:
    """A claimed send: what goes on the wire, and the lease that makes it this run's."""
    message_id: int
    lease: datetime
    envelope_from: str
    recipient: str
    data: bytes


def deliver(message_id: int, mailer: Any, *, neutral_key: str | None = None,
            neutral_selector: str = "relay", now: datetime | None = None) -> str | None:
    """Send one queued message; returns its state. Safe to run twice and concurrently.

    No transaction is open while the SMTP server talks: the message is claimed (a lease,
    committed), sent, and the outcome recorded in a new unit of work if the lease is still
    this run's. A run finding another's lease in force sends nothing and looks again when
    it ends, so a worker that died mid-send leaves the message to be sent again: at least
    once, and a receiver can drop the copy by its Message-ID, stable per row."""
    return deliver_many([message_id], mailer, neutral_key=neutral_key,
                        neutral_selector=neutral_selector, now=now)[message_id]


def deliver_many(message_ids: list[int], mailer: Any, *, neutral_key: str | None = None,
                 neutral_selector: str = "relay", now: datetime | None = None
                 ) -> dict[int, str | None]:
    """``deliver`` for several messages (a batch of registrations' mails): one claim of
    them all, the sends, then one record of the sends that went through. Each message's
    state by id. Per message it is exactly ``deliver``: a message another run holds, a
    sent one, a send that fails, are each handled on their own."""
    claims = _claim(message_ids, neutral_key=neutral_key,
                    neutral_selector=neutral_selector, now=now)
    states: dict[int, str | None] = {}
    sent: list[_Send] = []
    failed: list[tuple[_Send, Exception]] = []
    for message_id, claim in claims.items():
        if not isinstance(claim, _Send):
            states[message_id] = claim
            continue
        try:
            mailer.send(envelope_from=claim.envelope_from, recipient=claim.recipient,
                        data=claim.data)
        except Exception as error:  # any transport failure: record it, retry later
            failed.append((claim, error))
        else:
            sent.append(claim)
    if sent or failed:
        with unit_of_work():
            states.update(_record_sent(sent, now=now))
            for claim, error in failed:
                states[claim.message_id] = _record(claim.message_id, claim.lease,
                                                   error=error, now=now)
    return states


def _claim(message_ids: list[int], *, neutral_key: str | None, neutral_selector: str,
           now: datetime | None) -> dict[int, _Send | str | None]:
    """Take the messages' leases and build their wire forms, in a unit of work of its own;
    for a message that is not this run's to send, its state."""
    claims: dict[int, _Send | str | None] = {}
    with unit_of_work(), shared_reads():
        found = {message.id: message for message in db.session.scalars(
            sa.select(OutboxMessage).where(OutboxMessage.id.in_(message_ids))
            .execution_options(populate_existing=True))}
        ready = []
        for message_id in message_ids:
            message = found.get(message_id)
            if message is None or message.state != "queued" or _leased(message):
                claims[message_id] = _not_ours(message)
                continue
            # Built before the lease is taken: no row is locked while an attachment loads.
            try:
                data, failure = signed_bytes(message, neutral_key=neutral_key,
                                             neutral_selector=neutral_selector), None
            except Exception as error:  # a missing attachment, a bad key: a failed attempt
                data, failure = b"", error
            ready.append((message, data, failure))
        lease, taken = _take_leases([message.id for message, _, _ in ready], now)
        for message, data, failure in ready:
            if message.id not in taken:  # another run took it in the meantime
                claims[message.id] = _not_ours(_fresh(message.id))
            elif failure is not None:
                claims[message.id] = _record(message.id, lease, error=failure, now=now)
            else:
                claims[message.id] = _Send(
                    message.id, lease, message.envelope_from or parseaddr(message.sender)[1],
                    message.recipient, data)
    return claims


def _fresh(message_id: int) -> OutboxMessage | None:
    return db.session.scalar(sa.select(OutboxMessage).where(OutboxMessage.id == message_id)
                             .execution_options(populate_existing=True))


def _not_ours(message: OutboxMessage | None) -> str | None:
    """The state of a message this run does not send: gone, finished, or leased by another
    run, in which case it is looked at again when the lease ends."""
    if message is None:
        return None
    if message.state == "queued" and message.claimed_until is not None:
        _look_again_later(message)
    return message.state


def _leased(message: OutboxMessage) -> bool:
    return message.claimed_until is not None and message.claimed_until > clock.real_now()


def _look_again_later(message: OutboxMessage) -> str:
    """Another run holds the lease: if it dies mid-send, this send runs once it expires."""
    wait = (message.claimed_until - clock.real_now()).total_seconds()
    enqueue("whitelabel.tasks.send_message", message.id, retries=0,
            delay=max(1, math.ceil(wait)))
    return message.state


def _take_leases(message_ids: list[int], now: datetime | None) -> tuple[datetime, set[int]]:
    """Claim the messages for one send each (one conditional UPDATE, so of two runs one
    wins each message): the lease end, and the ids taken (not those another run holds).
    The attempt counts from here, and the sweep leaves a message alone until the lease
    has run out."""
    real = clock.real_now()
    lease = real + SEND_LEASE
    if not message_ids:
        return lease, set()
    taken = db.session.scalars(
        sa.update(OutboxMessage)
        .where(OutboxMessage.id.in_(message_ids), OutboxMessage.state == "queued",
               sa.or_(OutboxMessage.claimed_until.is_(None),
                      OutboxMessage.claimed_until <= real))
        .values(attempts=OutboxMessage.attempts + 1, claimed_until=lease,
                next_attempt_at=(now or clock.now()) + SEND_LEASE)
        .returning(OutboxMessage.id),
        execution_options={"synchronize_session": False})
    return lease, set(taken)


def _record_sent(sent: list[_Send], *, now: datetime | None) -> dict[int, str | None]:
    """Write the sends that went through, in one statement for those whose lease is still
    theirs (all taken together share it); a run that outlived its lease leaves the message
    to the run that took it over (``_record``)."""
    if not sent:
        return {}
    now = now or clock.now()
    recorded = set(db.session.scalars(
        sa.update(OutboxMessage)
        .where(OutboxMessage.id.in_([claim.message_id for claim in sent]),
               OutboxMessage.state == "queued",
               OutboxMessage.claimed_until.in_({claim.lease for claim in sent}))
        .values(state="sent", sent_at=now, claimed_until=None, last_error=None,
                next_attempt_at=None)
        .returning(OutboxMessage.id),
        execution_options={"synchronize_session": False}))
    states: dict[int, str | None] = {}
    for claim in sent:
        states[claim.message_id] = "sent" if claim.message_id in recorded else \
            _record(claim.message_id, claim.lease, error=None, now=now)
    return states


def _record(message_id: int, lease: datetime, *, error: Exception | None,
            now: datetime | None) -> str | None:
    """Write a send's outcome if ``lease`` is still the message's: a run that outlived its
    lease leaves the message to the run that took it over."""
    message = lock_row(OutboxMessage, message_id)
    if message is None or message.state != "queued" or message.claimed_until != lease:
        return None if message is None else message.state
    now = now or clock.now()
    message.claimed_until = None
    if error is None:
        message.state, message.sent_at = "sent", now
        message.last_error, message.next_attempt_at = None, None
    else:
        message.last_error = f"{type(error).__name__}: {error}"[:2000]
        if message.attempts >= MAX_ATTEMPTS:
            message.state, message.next_attempt_at = "failed", None
        else:
            delay = backoff(message.attempts)
            message.next_attempt_at = now + delay
            enqueue("whitelabel.tasks.send_message", message.id, retries=0,
                    delay=int(delay.total_seconds()))
    db.session.flush()
    return message.state


def requeue_due(*, now: datetime | None = None, limit: int = 500) -> int:
    """Queue send jobs for messages whose next attempt is due (jobs lost in a crash, or
    retries of a runner without delays, sends whose worker died and whose lease ran out).
    A sent message is not sent again: ``deliver`` checks state and lease."""
    now = now or clock.now()
    ids = list(db.session.scalars(
        sa.select(OutboxMessage.id).where(OutboxMessage.state == "queued",
                                          sa.or_(OutboxMessage.next_attempt_at.is_(None),
                                                 OutboxMessage.next_attempt_at <= now))
        .order_by(OutboxMessage.id).limit(limit)))
    for message_id in ids:
        enqueue("whitelabel.tasks.send_message", message_id, retries=0)
    return len(ids)


def retry_message(*, message_id: int) -> OutboxMessage | None:
    """Operator: give a failed message a fresh set of attempts."""
    message = db.session.get(OutboxMessage, message_id)
    if message is None or message.state != "failed":
        return message
    message.state, message.attempts, message.next_attempt_at = "queued", 0, clock.now()
    message.claimed_until = None
    db.session.flush()
    enqueue("whitelabel.tasks.send_message", message.id, retries=0)
    return message


def problem_messages(*, limit: int = 200) -> list[OutboxMessage]:
    """Given-up messages, then ones still retrying after an error: the operator's view."""
    return list(db.session.scalars(
        sa.select(OutboxMessage).where(
            sa.or_(OutboxMessage.state == "failed",
                   sa.and_(OutboxMessage.state == "queued",
                           OutboxMessage.last_error.is_not(None))))
        .order_by(OutboxMessage.state, OutboxMessage.id.desc()).limit(limit)))


def mailer() -> Any:
    return current_app.extensions["tunnus.mailer"]
