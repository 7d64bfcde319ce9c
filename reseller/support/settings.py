"""The support desk's settings: reopen window, SLA warning, attachment limits, mail-in.

``reseller.support.init_app`` reads them from the environment (a value the app already
has, e.g. a test's config, wins). Services take a ``SupportSettings``; entry points get
it from ``current()``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import current_app

from reseller.core.config import split_list

DEFAULT_TYPES = ("image/png", "image/jpeg", "image/gif", "application/pdf", "text/plain",
                 "text/csv", "application/zip")


def load(env: Mapping[str, str]) -> dict[str, Any]:
    return {
        "SUPPORT_REOPEN_DAYS": int(env.get("SUPPORT_REOPEN_DAYS", "7")),
        "SUPPORT_SLA_WARN_MINUTES": int(env.get("SUPPORT_SLA_WARN_MINUTES", "60")),
        "SUPPORT_ATTACHMENT_MAX_BYTES": int(env.get("SUPPORT_ATTACHMENT_MAX_BYTES",
                                                    str(5 * 1024 * 1024))),
        "SUPPORT_ATTACHMENTS_PER_MESSAGE": int(env.get("SUPPORT_ATTACHMENTS_PER_MESSAGE", "5")),
        "SUPPORT_ATTACHMENT_TYPES": tuple(split_list(env.get("SUPPORT_ATTACHMENT_TYPES"),
                                                     list(DEFAULT_TYPES))),
        "SUPPORT_MAIL_DOMAIN": env.get("SUPPORT_MAIL_DOMAIN", ""),
        "SUPPORT_STAFF_EMAIL": env.get("SUPPORT_STAFF_EMAIL", ""),
        "SUPPORT_STAFF_LANGUAGE": env.get("SUPPORT_STAFF_LANGUAGE", "fi"),
        # Production trusts mail-in only with DMARC/DKIM passing, unless told otherwise.
        "SUPPORT_MAILIN_REQUIRE_AUTH": env.get(
            "SUPPORT_MAILIN_REQUIRE_AUTH",
            "true" if env.get("TUNNUS_ENV") == "production" else "false",
        ).lower() in ("1", "true", "yes"),
    }


@dataclass(frozen=True)
class SupportSettings:
    reopen_days: int = 7
    warn_minutes: int = 60
    attachment_max_bytes: int = 5 * 1024 * 1024
    attachments_per_message: int = 5
    attachment_types: tuple[str, ...] = DEFAULT_TYPES
    mail_domain: str = "support.example"
    staff_email: str = "support@example"
    staff_language: str = "fi"
    mailin_require_auth: bool = False

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> SupportSettings:
        operator_domain = config.get("OPERATOR_DOMAIN") or "example"
        return cls(
            reopen_days=config.get("SUPPORT_REOPEN_DAYS", 7),
            warn_minutes=config.get("SUPPORT_SLA_WARN_MINUTES", 60),
            attachment_max_bytes=config.get("SUPPORT_ATTACHMENT_MAX_BYTES", 5 * 1024 * 1024),
            attachments_per_message=config.get("SUPPORT_ATTACHMENTS_PER_MESSAGE", 5),
            attachment_types=tuple(config.get("SUPPORT_ATTACHMENT_TYPES", DEFAULT_TYPES)),
            mail_domain=config.get("SUPPORT_MAIL_DOMAIN") or f"support.{operator_domain}",
            staff_email=(config.get("SUPPORT_STAFF_EMAIL") or config.get("OPERATOR_EMAIL")
                         or f"support@{operator_domain}"),
            staff_language=config.get("SUPPORT_STAFF_LANGUAGE") or "fi",
            mailin_require_auth=bool(config.get("SUPPORT_MAILIN_REQUIRE_AUTH")))

    def reply_address(self, token: str) -> str:
        return f"ticket+{token}@{self.mail_domain}"


def current() -> SupportSettings:
    """For entry points (views, jobs, listeners, the mail-in command)."""
    return SupportSettings.from_config(current_app.config)
