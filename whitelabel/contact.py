"""The registrant contact form behind privacy (ICANN Registration Data Policy: with the
registrant's email redacted, RDAP and WHOIS offer a web form instead): checks, limits, and
``registrant.contact_requested``, which the RDAP feature turns into an email to the
registrant through the outbox. The sender never learns the address."""

from __future__ import annotations

import re
from typing import Any

from reseller.core.events import record_event
from reseller.core.throttle import DatabaseStore, Rule, throttle_key

CONTACT_REQUESTED = "registrant.contact_requested"
CONTACT_FIELDS = ("name", "email", "message")
EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]{1,252}\.[^@\s.]{2,63}")
MESSAGE_LENGTH = (10, 3000)
# Messages, not failures, are counted: the limit-th one is sent and locks the key.
PER_SENDER = Rule(limit=3, window=3600, lock=3600)  # an address: 3 an hour
PER_NAME = Rule(limit=10, window=86400, lock=86400)  # a domain: 10 a day


def form_errors(form: dict[str, str]) -> dict[str, str]:
    """Which fields are wrong (the page shows each): a one-line name, an address, a message
    of 10–3000 characters."""
    errors = {}
    if not 1 <= len(form.get("name", "")) <= 100 or "\n" in form.get("name", ""):
        errors["name"] = "name"
    if not EMAIL.fullmatch(form.get("email", "")):
        errors["email"] = "email"
    if not MESSAGE_LENGTH[0] <= len(form.get("message", "")) <= MESSAGE_LENGTH[1]:
        errors["message"] = "message"
    return errors


def submit(*, reseller_id: int, domain: str, form: dict[str, str],
           sender_address: str) -> bool:
    """Record the message for the registrant of ``domain`` (False: over a limit). Whether
    the name is registered here is decided by the listener, so the page never tells."""
    store = DatabaseStore()
    keys = [(throttle_key("contact-sender", sender_address), PER_SENDER),
            (throttle_key("contact-sender", form["email"].lower()), PER_SENDER),
            (throttle_key("contact-domain", f"{reseller_id}:{domain}"), PER_NAME)]
    if any(store.locked_until(key) is not None for key, _rule in keys):
        return False
    for key, rule in keys:
        store.fail(key, rule)
    data: dict[str, Any] = {"domain": domain, "sender_name": form["name"],
                            "sender_email": form["email"], "message": form["message"]}
    record_event(reseller_id=reseller_id, type=CONTACT_REQUESTED, data=data)
    return True
