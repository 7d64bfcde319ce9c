"""Mail transport adapters: SMTP for production, a sandbox that only records."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Protocol

from whitelabel.models import OutboxMessage


class Mailer(Protocol):
    def send(self, message: OutboxMessage) -> None: ...


def build_email(message: OutboxMessage) -> EmailMessage:
    email = EmailMessage()
    email["From"] = message.sender
    email["To"] = message.recipient
    email["Subject"] = message.subject
    email["Date"] = formatdate(localtime=False)
    email["Message-ID"] = make_msgid(domain=message.sender.rpartition("@")[2] or None)
    email["Content-Language"] = message.language
    email.set_content(message.text)
    if message.html:
        email.add_alternative(message.html, subtype="html")
    return email


class SandboxMailer:
    """The embedded default: the row itself is the delivered mail (see /_dev/outbox)."""

    def send(self, message: OutboxMessage) -> None:
        build_email(message)  # still build it, so a malformed message fails here too


class SmtpMailer:
    def __init__(self, host: str, port: int, username: str | None = None,
                 password: str | None = None, starttls: bool = False, timeout: float = 20):
        self.host, self.port, self.timeout = host, port, timeout
        self.username, self.password, self.starttls = username, password, starttls

    def send(self, message: OutboxMessage) -> None:
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            if self.starttls:
                smtp.starttls()
            if self.username:
                smtp.login(self.username, self.password or "")
            smtp.send_message(build_email(message))


def mailer_from_config(config: dict) -> Mailer:
    if config.get("MAIL_ADAPTER") == "smtp":
        return SmtpMailer(config["SMTP_HOST"], config["SMTP_PORT"], config.get("SMTP_USERNAME"),
                          config.get("SMTP_PASSWORD"), config.get("SMTP_STARTTLS", False))
    return SandboxMailer()
