"""Tickets: opening, the conversation, attachments, statuses and the SLA targets they run.

Statuses go new → open → waiting_on_reseller → solved → closed. A reseller's reply
reopens a waiting or solved ticket (solved: within the reopen window; after it, the ticket
is closed and a new one is needed). Each reply staff owe is an ``SlaTarget``: the first
response from opening, the next response from each reseller message. Staff's public reply
meets it (met or breached by its due time). While the ticket waits on the reseller the
clock stands still: a target still owed is paused with the working time it had left, and
resumes from the reseller's reply. Due times are stored on the ticket too, for lists and
the queue, which sorts by the reply owed soonest.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload, selectinload

from reseller.accounts.models import User
from reseller.core.clock import clock
from reseller.core.db import for_update
from reseller.core.errors import ValidationFailed
from reseller.core.events import record_event
from reseller.core.extensions import db
from reseller.core.pagination import Page, paginate
from reseller.support import plans, sla
from reseller.support.errors import (
    AttachmentRefused,
    InvalidTransition,
    TicketClosed,
    TicketNotFound,
)
from reseller.support.models import (
    CATEGORIES,
    PRIORITIES,
    STATUSES,
    Attachment,
    SlaTarget,
    Ticket,
    TicketMessage,
)
from reseller.support.settings import SupportSettings

# Who may move a ticket from each status to which (staff: any listed; resellers: solve
# and close their own; replies move it as described above).
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "new": ("open", "waiting_on_reseller", "solved", "closed"),
    "open": ("waiting_on_reseller", "solved", "closed"),
    "waiting_on_reseller": ("open", "solved", "closed"),
    "solved": ("open", "closed"),
    "closed": (),
}
RESELLER_MAY_SET = ("solved", "closed")


@dataclass(frozen=True)
class Author:
    """Who writes: a reseller user (or API client), or operator staff."""

    user_id: int | None
    name: str
    staff: bool = False


@dataclass(frozen=True)
class Upload:
    filename: str
    content_type: str
    data: bytes


def _now() -> datetime:
    """Whole seconds: due times are promised to the second, not the microsecond."""
    return clock.now().replace(microsecond=0)


# -- reading ---------------------------------------------------------------------------------

# A ticket's page shows its conversation: the messages and their attachments come with the
# ticket, in its statement (the files stay unread until downloaded).
CONVERSATION = (joinedload(Ticket.messages).joinedload(TicketMessage.attachments)
                .defer(Attachment.data),)


def get_ticket(*, reseller_id: int, ticket_id: int, with_messages: bool = False) -> Ticket:
    ticket = db.session.get(Ticket, ticket_id, options=CONVERSATION if with_messages else ())
    if ticket is None or ticket.reseller_id != reseller_id:
        raise TicketNotFound(_l("Ticket %(id)s not found.", id=ticket_id))
    return ticket


def get_ticket_for_staff(ticket_id: int, *, with_messages: bool = False) -> Ticket:
    ticket = db.session.get(Ticket, ticket_id, options=CONVERSATION if with_messages else ())
    if ticket is None:
        raise TicketNotFound()
    return ticket


def _lock(ticket_id: int) -> Ticket:
    ticket = db.session.scalars(for_update(sa.select(Ticket).where(Ticket.id == ticket_id))
                                ).one_or_none()
    if ticket is None:
        raise TicketNotFound()
    return ticket


def tickets_page(*, reseller_id: int, cursor: str | None, limit: int,
                 status: str | None = None) -> Page:
    stmt = sa.select(Ticket).where(Ticket.reseller_id == reseller_id)
    if status:
        stmt = stmt.where(Ticket.status == status)
    return paginate(stmt, key=Ticket.id, cursor=cursor, limit=limit, descending=True)


def message_by_mail_id(*, reseller_id: int, mail_message_id: str) -> TicketMessage | None:
    return db.session.scalar(sa.select(TicketMessage).where(
        TicketMessage.reseller_id == reseller_id,
        TicketMessage.mail_message_id == mail_message_id).limit(1))


def ticket_by_token(token: str) -> Ticket | None:
    return db.session.scalar(sa.select(Ticket).where(Ticket.reply_token == token))


def public_messages(ticket: Ticket) -> list[TicketMessage]:
    return [message for message in ticket.messages if not message.internal]


def messages_page(*, reseller_id: int, ticket_id: int, cursor: str | None, limit: int) -> Page:
    get_ticket(reseller_id=reseller_id, ticket_id=ticket_id)
    stmt = sa.select(TicketMessage).where(TicketMessage.ticket_id == ticket_id,
                                          TicketMessage.reseller_id == reseller_id,
                                          TicketMessage.internal.is_(False))
    return paginate(stmt.options(selectinload(TicketMessage.attachments)
                                 .defer(Attachment.data)),
                    key=TicketMessage.id, cursor=cursor, limit=limit)


def get_attachment(*, reseller_id: int | None, ticket_id: int, attachment_id: int) -> Attachment:
    """An attachment of a public message (``reseller_id`` None: staff, any message)."""
    found = db.session.execute(
        sa.select(Attachment, TicketMessage).join(TicketMessage,
                                                  TicketMessage.id == Attachment.message_id)
        .where(Attachment.id == attachment_id, TicketMessage.ticket_id == ticket_id)).first()
    if found is None or (reseller_id is not None and (
            found[0].reseller_id != reseller_id or found[1].internal)):
        raise TicketNotFound(_l("Attachment %(id)s not found.", id=attachment_id))
    return found[0]


def queue(*, statuses: tuple[str, ...] = ("new", "open", "waiting_on_reseller"),
          assignee_id: int | None = None, limit: int = 200) -> list[Ticket]:
    """The operator's queue: tickets owing a reply first, soonest due first; then the rest
    (waiting on the reseller) oldest first."""
    due = sa.func.coalesce(
        sa.case((Ticket.first_responded_at.is_(None), Ticket.first_response_due),
                else_=Ticket.next_response_due), Ticket.next_response_due)
    stmt = sa.select(Ticket).where(Ticket.status.in_(statuses))
    if assignee_id is not None:
        stmt = stmt.where(Ticket.assignee_id == assignee_id)
    stmt = stmt.order_by(due.is_(None), due, Ticket.created_at, Ticket.id).limit(limit)
    return list(db.session.scalars(stmt))


# -- opening and replying --------------------------------------------------------------------

def _calendar(ticket: Ticket) -> sla.BusinessHours | sla.AroundTheClock:
    # The plan's "around the clock" covers urgent matters; the rest runs in business hours.
    return sla.calendar_for(ticket.around_the_clock and ticket.priority == "urgent")


def _hours(ticket: Ticket, kind: str) -> timedelta:
    plan = plans.get_plan(code=ticket.plan_code)
    return timedelta(hours=plan.first_response_hours if kind == "first"
                     else plan.next_response_hours)


def _check_fields(category: str, priority: str) -> None:
    errors = {}
    if category not in CATEGORIES:
        errors["category"] = [_l("Must be one of: %(choices)s.", choices=", ".join(CATEGORIES))]
    if priority not in PRIORITIES:
        errors["priority"] = [_l("Must be one of: %(choices)s.", choices=", ".join(PRIORITIES))]
    if errors:
        raise ValidationFailed(errors)


def open_ticket(*, reseller_id: int, author: Author, subject: str, category: str, body: str,
                priority: str = "normal", domain: str | None = None, channel: str = "web",
                uploads: list[Upload] | tuple[Upload, ...] = (),
                settings: SupportSettings, mail_message_id: str | None = None) -> Ticket:
    """Open a ticket under the reseller's current plan; its first-response clock starts."""
    _check_fields(category, priority)
    plan = plans.get_subscription(reseller_id=reseller_id).plan
    now = _now()
    ticket = Ticket(reseller_id=reseller_id, requester_id=author.user_id, subject=subject,
                    category=category, priority=priority, status="new",
                    domain=(domain or None), channel=channel, plan_code=plan.code,
                    around_the_clock=plan.around_the_clock,
                    reply_token=secrets.token_hex(16), created_at=now, updated_at=now)
    db.session.add(ticket)
    db.session.flush()
    _add_message(ticket, author, body, channel=channel, uploads=uploads, settings=settings,
                 mail_message_id=mail_message_id)
    _start_target(ticket, "first", now)
    record_event(reseller_id=reseller_id, type="ticket.created", data=event_data(ticket),
                 dedupe_key=f"ticket.created:{ticket.id}")
    return ticket


def _add_message(ticket: Ticket, author: Author, body: str, *, channel: str,
                 uploads: list[Upload] | tuple[Upload, ...], settings: SupportSettings,
                 internal: bool = False, mail_message_id: str | None = None) -> TicketMessage:
    if not body.strip():
        raise ValidationFailed({"body": [_l("Write a message.")]})
    checked = [_check_upload(upload, settings) for upload in uploads]
    if len(checked) > settings.attachments_per_message:
        raise AttachmentRefused(_l("At most %(count)s attachments per message.",
                                   count=settings.attachments_per_message))
    message = TicketMessage(ticket_id=ticket.id, reseller_id=ticket.reseller_id,
                            author_id=author.user_id, author_name=author.name[:200],
                            from_staff=author.staff, internal=internal, channel=channel,
                            body=body.strip(), mail_message_id=mail_message_id,
                            created_at=_now())
    db.session.add(message)
    db.session.flush()
    for upload in checked:
        db.session.add(Attachment(message_id=message.id, reseller_id=ticket.reseller_id,
                                  filename=upload.filename, content_type=upload.content_type,
                                  size=len(upload.data),
                                  sha256=hashlib.sha256(upload.data).hexdigest(),
                                  data=upload.data))
    ticket.updated_at = _now()
    db.session.flush()
    return message


_MAGIC = {"image/png": (b"\x89PNG\r\n\x1a\n",), "image/jpeg": (b"\xff\xd8\xff",),
          "image/gif": (b"GIF87a", b"GIF89a"), "application/pdf": (b"%PDF-",),
          "application/zip": (b"PK\x03\x04", b"PK\x05\x06")}


def _check_upload(upload: Upload, settings: SupportSettings) -> Upload:
    """Size and type limits. The type is what the bytes are, not only what was claimed:
    binary types by their magic number, text types must be UTF-8 without NUL."""
    content_type = (upload.content_type or "").split(";")[0].strip().lower()
    name = "".join(ch for ch in upload.filename if ch.isprintable() and ch not in "/\\")
    name = name.strip().lstrip(".")[:200] or "attachment"
    if not upload.data:
        raise AttachmentRefused(_l("%(name)s is empty.", name=name))
    if len(upload.data) > settings.attachment_max_bytes:
        raise AttachmentRefused(_l("%(name)s is larger than %(limit)s bytes.", name=name,
                                   limit=settings.attachment_max_bytes))
    if content_type not in settings.attachment_types:
        raise AttachmentRefused(_l("%(name)s: the type %(type)s is not accepted (use one of "
                                   "%(types)s).", name=name, type=content_type or "?",
                                   types=", ".join(settings.attachment_types)))
    if content_type in _MAGIC:
        if not upload.data.startswith(_MAGIC[content_type]):
            raise AttachmentRefused(_l("%(name)s is not really %(type)s.", name=name,
                                       type=content_type))
    elif content_type.startswith("text/"):
        try:
            text = upload.data.decode("utf-8")
        except UnicodeDecodeError:
            text = "\x00"
        if "\x00" in text:
            raise AttachmentRefused(_l("%(name)s is not UTF-8 text.", name=name))
    return Upload(filename=name, content_type=content_type, data=upload.data)


def reply(*, ticket: Ticket, author: Author, body: str, channel: str = "web",
          uploads: list[Upload] | tuple[Upload, ...] = (), status: str | None = None,
          internal: bool = False, settings: SupportSettings,
          mail_message_id: str | None = None) -> TicketMessage:
    """Add a message. Staff's public reply answers what is owed; a reseller's message
    reopens a waiting or solved ticket and starts the next-response clock."""
    ticket = _lock(ticket.id)
    now = _now()
    if ticket.status == "closed" or _reopen_expired(ticket, now, settings):
        raise TicketClosed()
    if internal and not author.staff:
        raise InvalidTransition(_l("Only staff write internal notes."))
    message = _add_message(ticket, author, body, channel=channel, uploads=uploads,
                           settings=settings, internal=internal,
                           mail_message_id=mail_message_id)
    if internal:
        return message
    if author.staff:
        _answer_targets(ticket, now)
        if ticket.first_responded_at is None:
            ticket.first_responded_at = now
        target_status = status or ("open" if ticket.status == "new" else ticket.status)
        record_event(reseller_id=ticket.reseller_id, type="ticket.replied",
                     data={**event_data(ticket), "message_id": message.id,
                           "author": author.name, "body": message.body},
                     dedupe_key=f"ticket.replied:{message.id}")
        if target_status != ticket.status:
            _move(ticket, target_status, now, by_staff=True)
    else:
        if ticket.status in ("waiting_on_reseller", "solved"):
            _move(ticket, "open", now, by_staff=False)
        if ticket.first_responded_at is not None and not _pending(ticket):
            _start_target(ticket, "next", now)
    _sync_dues(ticket)
    if not author.staff:  # internal (no reseller feed): staff hear of it by mail
        record_event(reseller_id=None, type="ticket.reseller_replied",
                     data={**event_data(ticket), "reseller_id": ticket.reseller_id,
                           "assignee_id": ticket.assignee_id, "message_id": message.id,
                           "author": author.name, "body": message.body},
                     dedupe_key=f"ticket.reseller_replied:{message.id}")
    return message


def _reopen_expired(ticket: Ticket, now: datetime, settings: SupportSettings) -> bool:
    return (ticket.status == "solved" and ticket.solved_at is not None
            and now - ticket.solved_at > timedelta(days=settings.reopen_days))


def set_status(*, ticket: Ticket, status: str, by_staff: bool,
               settings: SupportSettings) -> Ticket:
    ticket = _lock(ticket.id)
    now = _now()
    if status not in STATUSES:
        raise ValidationFailed({"status": [_l("Must be one of: %(choices)s.",
                                              choices=", ".join(STATUSES))]})
    if status == ticket.status:
        return ticket
    if not by_staff and status not in RESELLER_MAY_SET:
        raise InvalidTransition(_l("You can mark a ticket solved or closed; reply to reopen "
                                   "it."))
    if ticket.status == "closed" or (status == "open" and _reopen_expired(ticket, now,
                                                                           settings)):
        raise TicketClosed()
    _move(ticket, status, now, by_staff=by_staff)
    _sync_dues(ticket)
    return ticket


def _move(ticket: Ticket, status: str, now: datetime, *, by_staff: bool) -> None:
    if status not in TRANSITIONS[ticket.status]:
        raise InvalidTransition(_l("A %(current)s ticket cannot become %(status)s.",
                                   current=ticket.status, status=status))
    previous = ticket.status
    if status == "waiting_on_reseller":
        _pause(ticket, now)
    elif previous == "waiting_on_reseller":
        _resume(ticket, now)
    if status in ("solved", "closed"):
        for target in _pending(ticket) + _paused(ticket):
            target.state = "void"  # answered by solving; not a reply to measure
    ticket.status, ticket.updated_at = status, now
    if status == "solved":
        ticket.solved_at = now
    if status == "closed":
        ticket.closed_at = now
    if status == "open":
        ticket.solved_at = None
    db.session.flush()
    record_event(reseller_id=ticket.reseller_id, type="ticket.status_changed",
                 data={**event_data(ticket), "previous_status": previous,
                       "by": "staff" if by_staff else "reseller"},
                 dedupe_key=f"ticket.status:{ticket.id}:{now.isoformat()}:{status}")


# -- SLA targets -----------------------------------------------------------------------------

def _targets(ticket: Ticket, state: str) -> list[SlaTarget]:
    return list(db.session.scalars(sa.select(SlaTarget).where(
        SlaTarget.ticket_id == ticket.id, SlaTarget.state == state).order_by(SlaTarget.id)))


def _pending(ticket: Ticket) -> list[SlaTarget]:
    return _targets(ticket, "pending") + [t for t in _targets(ticket, "breached")
                                          if t.responded_at is None]


def _paused(ticket: Ticket) -> list[SlaTarget]:
    return _targets(ticket, "paused")


def _start_target(ticket: Ticket, kind: str, now: datetime) -> SlaTarget:
    due = _calendar(ticket).add(now, _hours(ticket, kind))
    target = SlaTarget(ticket_id=ticket.id, reseller_id=ticket.reseller_id, kind=kind,
                       started_at=now, due_at=due, state="pending")
    db.session.add(target)
    db.session.flush()
    _sync_dues(ticket)
    return target


def _answer_targets(ticket: Ticket, now: datetime) -> None:
    for target in _pending(ticket) + _paused(ticket):
        target.responded_at = now
        if target.state != "breached":
            target.state = "met" if target.due_at is None or now <= target.due_at else "breached"


def _pause(ticket: Ticket, now: datetime) -> None:
    calendar = _calendar(ticket)
    for target in _targets(ticket, "pending"):
        left = calendar.between(now, target.due_at)
        target.state, target.due_at = "paused", None
        ticket.paused_remaining_seconds = int(left.total_seconds())
    ticket.paused_at = now


def _resume(ticket: Ticket, now: datetime) -> None:
    left = timedelta(seconds=ticket.paused_remaining_seconds or 0)
    for target in _paused(ticket):
        target.state, target.due_at = "pending", _calendar(ticket).add(now, left)
    ticket.paused_at, ticket.paused_remaining_seconds = None, None


def _sync_dues(ticket: Ticket) -> None:
    """Store the due times on the ticket: the first response's (kept once met, for the
    record) and the next reply owed (null when nothing is owed, or while paused)."""
    db.session.flush()
    first = db.session.scalar(sa.select(SlaTarget).where(
        SlaTarget.ticket_id == ticket.id, SlaTarget.kind == "first").order_by(SlaTarget.id))
    if first is not None and first.due_at is not None:
        ticket.first_response_due = first.due_at
    owed = [t.due_at for t in _pending(ticket) if t.due_at is not None]
    ticket.next_response_due = min(owed) if owed else None
    db.session.flush()


def due_for_warning(*, now: datetime, warn_before: timedelta) -> list[SlaTarget]:
    return list(db.session.scalars(sa.select(SlaTarget).where(
        SlaTarget.state == "pending", SlaTarget.warned_at.is_(None),
        SlaTarget.due_at <= now + warn_before).order_by(SlaTarget.due_at)))


def mark_breaches(*, now: datetime) -> list[SlaTarget]:
    """Targets whose due time passed unanswered become breached (the report counts them)."""
    found = list(db.session.scalars(sa.select(SlaTarget).where(
        SlaTarget.state == "pending", SlaTarget.due_at < now)))
    for target in found:
        target.state = "breached"
    db.session.flush()
    return found


def close_solved(*, now: datetime, settings: SupportSettings) -> int:
    """Close tickets solved longer ago than the reopen window."""
    cutoff = now - timedelta(days=settings.reopen_days)
    ids = list(db.session.scalars(sa.select(Ticket.id).where(
        Ticket.status == "solved", Ticket.solved_at < cutoff)))
    for ticket_id in ids:
        ticket = _lock(ticket_id)
        _move(ticket, "closed", now, by_staff=True)
    return len(ids)


# -- staff -----------------------------------------------------------------------------------

def staff_members() -> list[User]:
    """Operator staff who can be assigned tickets."""
    return list(db.session.scalars(sa.select(User).where(User.is_operator, User.active)
                                   .order_by(User.name, User.id)))


def assign(*, ticket_id: int, assignee_id: int | None) -> Ticket:
    ticket = _lock(ticket_id)
    ticket.assignee_id = assignee_id
    ticket.updated_at = _now()
    db.session.flush()
    return ticket


def set_priority(*, ticket_id: int, priority: str) -> Ticket:
    _check_fields("technical", priority)
    ticket = _lock(ticket_id)
    ticket.priority = priority
    db.session.flush()
    return ticket


def event_data(ticket: Ticket) -> dict[str, Any]:
    def stamp(moment: datetime | None) -> str | None:
        return moment.isoformat() if moment else None

    return {"ticket_id": ticket.id, "subject": ticket.subject, "status": ticket.status,
            "priority": ticket.priority, "category": ticket.category,
            "requester_id": ticket.requester_id,
            "first_response_due": stamp(ticket.first_response_due),
            "next_response_due": stamp(ticket.next_response_due)}
