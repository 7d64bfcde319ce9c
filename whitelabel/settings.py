"""The white-label settings services need, built from the app config in one place."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from flask import current_app


@dataclass(frozen=True)
class Settings:
    secret_key: str
    base_url: str
    link_scheme: str
    neutral_sender_domain: str
    neutral_link_host: str
    link_cname_target: str
    spf_include: str
    dns_resolver: str
    verification_days: int
    neutral_dkim_selector: str = "relay"
    neutral_dkim_key: str | None = None
    # The operator's brand: only on what resellers see, never on what registrants see.
    operator_brand: str = "Nimipalvelu"

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Settings:
        neutral = config["NEUTRAL_SENDER_DOMAIN"]
        link_host = config.get("NEUTRAL_LINK_HOST")
        if not link_host:
            # The sandbox serves registrant pages on its own address so demo links work.
            link_host = (urlsplit(config["BASE_URL"]).netloc if config.get("SANDBOX")
                         else f"links.{neutral}")
        key_file = config.get("NEUTRAL_DKIM_KEY_FILE")
        return cls(
            secret_key=config["SECRET_KEY"],
            base_url=config["BASE_URL"].rstrip("/"),
            link_scheme=config.get("LINK_SCHEME", "https"),
            neutral_sender_domain=neutral,
            neutral_link_host=link_host,
            link_cname_target=config.get("LINK_CNAME_TARGET") or f"links.{neutral}",
            spf_include=config.get("SPF_INCLUDE") or f"_spf.{neutral}",
            dns_resolver=config.get("DNS_RESOLVER", ""),
            verification_days=int(config.get("REGISTRANT_VERIFICATION_DAYS", 15)),
            neutral_dkim_selector=config.get("NEUTRAL_DKIM_SELECTOR", "relay"),
            neutral_dkim_key=open(key_file).read() if key_file else None,  # noqa: SIM115
            operator_brand=config.get("OPERATOR_BRAND") or "Nimipalvelu",
        )


def current() -> Settings:
    """For entry points (views, jobs, listeners); services take ``settings=`` instead."""
    cached = current_app.extensions.get("whitelabel.settings")
    if cached is None:
        cached = current_app.extensions["whitelabel.settings"] = Settings.from_config(
            current_app.config)
    return cached
