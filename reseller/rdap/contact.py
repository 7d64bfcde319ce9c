"""The registrant behind privacy, reachable without its address: the contact form's URL
that RDAP and WHOIS show instead of the redacted email (on the reseller's link host), and
the forwarding of a message sent through it to the registrant by email (outbox), with
replies going to the sender."""

from __future__ import annotations

from urllib.parse import quote

from flask import current_app

from reseller.core.events import Event, on_event
from reseller.domains import services as domains
from whitelabel.messages import link_base, send_registrant_message
from whitelabel.settings import current


def contact_url(*, reseller_id: int, name: str) -> str:
    """The web form through which the registrant of ``name`` can be contacted."""
    return f"{link_base(reseller_id, current())}/go/contact/{reseller_id}/{quote(name)}"


@on_event("registrant.contact_requested")  # whitelabel.contact.CONTACT_REQUESTED
def forward_to_registrant(event: Event) -> None:
    """Send the message to the registrant of a live domain of the reseller whose form it
    came through; anything else is dropped (the form says the same either way)."""
    domain = domains.find_live_domain(str(event.data.get("domain") or ""))
    if domain is None or domain.reseller_id != event.reseller_id:
        current_app.logger.info("contact form message for a name not ours dropped")
        return
    registrant = domain.registrant
    send_registrant_message(
        reseller_id=domain.reseller_id, kind="registrant_contact",
        recipient=registrant.email, language=registrant.language,
        context={"domain": domain.name, "unicode_name": domain.unicode_name,
                 "sender_name": event.data["sender_name"],
                 "sender_email": event.data["sender_email"],
                 "message": event.data["message"]},
        dedupe_key=f"event:{event.id}:registrant_contact",
        reply_to=event.data["sender_email"])
