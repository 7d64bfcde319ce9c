"""Mail-in: one RFC 5322 message, as an MTA pipe delivers it, becomes a ticket or a reply.

A reply is threaded by the token in the address it was sent to (``ticket+TOKEN@`` the
support mail domain, the Reply-To of every ticket notice). A message without a token opens
a ticket. Only a reseller's active user may write: mail from anyone else — a stranger, an
operator address, a user of another reseller than the ticket's — is refused and creates
nothing. With ``SUPPORT_MAILIN_REQUIRE_AUTH`` the receiving MTA's Authentication-Results
(RFC 8601) must show DMARC, or DKIM aligned with the From domain, passing. Auto-replies
(RFC 3834 ``Auto-Submitted``) are dropped quietly so that two robots cannot loop. The same
Message-ID delivered twice is taken once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses, parseaddr
from html.parser import HTMLParser

import sqlalchemy as sa

from reseller.accounts.models import User
from reseller.core.extensions import db
from reseller.support import tickets
from reseller.support.errors import AttachmentRefused, MailRefused
from reseller.support.settings import SupportSettings

MAX_BYTES = 25 * 1024 * 1024
_QUOTE_HEADER = re.compile(r"^(On |Le |Am |\d{1,2}[./]).{0,200}(wrote|kirjoitti|skrev|schrieb|a écrit)\s*:\s*$",
                           re.IGNORECASE)
_ADDRESS_HEADERS = ("To", "Cc", "Delivered-To", "X-Original-To", "Envelope-To")


@dataclass(frozen=True)
class Outcome:
    action: str  # created | replied | duplicate | ignored
    ticket_id: int | None = None


class UnknownSender(MailRefused):
    code = "mail_unknown_sender"


def parse(raw: bytes) -> EmailMessage:
    if len(raw) > MAX_BYTES:
        raise MailRefused(f"message larger than {MAX_BYTES} bytes")
    message = BytesParser(policy=policy.default).parsebytes(raw)
    if not message.get("From"):
        raise MailRefused("no From header: not an RFC 5322 message")
    return message


def _token(message: EmailMessage, settings: SupportSettings) -> str | None:
    pattern = re.compile(r"^ticket\+([0-9a-f]{32})@" + re.escape(settings.mail_domain) + "$",
                         re.IGNORECASE)
    values = [str(value) for header in _ADDRESS_HEADERS
              for value in (message.get_all(header) or [])]
    for _name, address in getaddresses(values):
        if match := pattern.match(address.strip()):
            return match.group(1).lower()
    return None


def _sender(message: EmailMessage) -> str:
    return parseaddr(str(message.get("From", "")))[1].strip().lower()


def _authenticated(message: EmailMessage, sender: str) -> bool:
    domain = sender.rpartition("@")[2]
    for header in message.get_all("Authentication-Results") or []:
        text = str(header).lower()
        if "dmarc=pass" in text:
            return True
        if re.search(r"dkim=pass[^;]*header\.d=" + re.escape(domain) + r"\b", text):
            return True
    return False


def _user(sender: str) -> User | None:
    user = db.session.scalar(sa.select(User).where(sa.func.lower(User.email) == sender))
    if user is None or not user.active or user.is_operator or user.reseller is None:
        return None
    return user if user.reseller.status == "active" else None


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def _body(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        text = part.get_content()
    except (LookupError, UnicodeError):
        text = part.get_payload(decode=True).decode("utf-8", "replace")
    if part.get_content_type() == "text/html":
        parser = _Text()
        parser.feed(text)
        text = "".join(parser.parts)
    return _strip_quote(text.replace("\x00", ""))


def _strip_quote(text: str) -> str:
    """The new text only: stop at the quoted previous message."""
    kept = []
    for line in text.splitlines():
        if line.startswith(">") or _QUOTE_HEADER.match(line.strip()):
            break
        kept.append(line.rstrip())
    return "\n".join(kept).strip()


def _uploads(message: EmailMessage) -> list[tickets.Upload]:
    found = []
    for part in message.iter_attachments():
        data = part.get_payload(decode=True) or b""
        found.append(tickets.Upload(filename=part.get_filename() or "attachment",
                                    content_type=part.get_content_type(), data=data))
    return found


def _acceptable(uploads: list[tickets.Upload], settings: SupportSettings
                ) -> tuple[list[tickets.Upload], list[str]]:
    """Attachments within the limits, and a note for each one left out."""
    kept, notes = [], []
    for upload in uploads:
        try:
            tickets._check_upload(upload, settings)
        except AttachmentRefused as refused:
            notes.append(f"[{refused.detail}]")
            continue
        if len(kept) < settings.attachments_per_message:
            kept.append(upload)
    return kept, notes


def receive(raw: bytes, *, settings: SupportSettings) -> Outcome:
    """Turn one message into a ticket or a reply, or refuse it (``MailRefused``)."""
    message = parse(raw)
    if str(message.get("Auto-Submitted", "no")).strip().lower() != "no":
        return Outcome("ignored")
    sender = _sender(message)
    user = _user(sender) if sender else None
    if user is None:
        raise UnknownSender(f"unknown sender {sender or '(none)'}: only a reseller's users "
                            "can write to support")
    if settings.mailin_require_auth and not _authenticated(message, sender):
        raise UnknownSender(f"mail from {sender} is not authenticated (DMARC/DKIM)")
    mail_id = str(message.get("Message-ID", "")).strip()[:300] or None
    if mail_id and (seen := tickets.message_by_mail_id(reseller_id=user.reseller_id,
                                                        mail_message_id=mail_id)):
        return Outcome("duplicate", seen.ticket_id)
    kept, notes = _acceptable(_uploads(message), settings)
    body = "\n\n".join(filter(None, [_body(message), *notes])) or "(no text)"
    author = tickets.Author(user_id=user.id, name=user.name or user.email)
    token = _token(message, settings)
    if token is not None:
        ticket = tickets.ticket_by_token(token)
        if ticket is None or ticket.reseller_id != user.reseller_id:
            raise UnknownSender(f"{sender} cannot write to that ticket")
        tickets.reply(ticket=ticket, author=author, body=body, channel="email", uploads=kept,
                      settings=settings, mail_message_id=mail_id)
        return Outcome("replied", ticket.id)
    subject = " ".join("".join(ch if ch.isprintable() else " "
                               for ch in str(message.get("Subject", ""))).split())[:200]
    ticket = tickets.open_ticket(
        reseller_id=user.reseller_id, author=author,
        subject=subject if len(subject) >= 3 else "Email to support", category="technical",
        body=body, channel="email", uploads=kept, settings=settings,
        mail_message_id=mail_id)
    return Outcome("created", ticket.id)
