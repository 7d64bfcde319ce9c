"""Mail transport adapters: SMTP for production, a sandbox that only records.

Both take the finished, signed wire bytes; building and signing happen in ``outbox``.
"""

from __future__ import annotations

import smtplib
from email import message_from_bytes
from typing import Protocol


class Mailer(Protocol):
    def send(self, *, envelope_from: str, recipient: str, data: bytes) -> None: ...


class SandboxMailer:
    """The embedded default: the outbox row itself is the delivered mail (/_dev/outbox)."""

    def send(self, *, envelope_from: str, recipient: str, data: bytes) -> None:
        if message_from_bytes(data)["To"] is None:  # still parse it: malformed mail fails here
            raise ValueError("message without a To header")


class SmtpMailer:
    def __init__(self, host: str, port: int, username: str | None = None,
                 password: str | None = None, starttls: bool = False, timeout: float = 20):
        self.host, self.port, self.timeout = host, port, timeout
        self.username, self.password, self.starttls = username, password, starttls

    def send(self, *, envelope_from: str, recipient: str, data: bytes) -> None:
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            if self.starttls:
                smtp.starttls()
            if self.username:
                smtp.login(self.username, self.password or "")
            smtp.sendmail(envelope_from, [recipient], data)


def mailer_from_config(config: dict) -> Mailer:
    if config.get("MAIL_ADAPTER") == "smtp":
        return SmtpMailer(config["SMTP_HOST"], config["SMTP_PORT"], config.get("SMTP_USERNAME"),
                          config.get("SMTP_PASSWORD"), config.get("SMTP_STARTTLS", False))
    return SandboxMailer()
