"""Every message Tunnus sends for a reseller: what it says, in fi/sv/en, HTML + text.

``send_registrant_message`` writes a branded message to a reseller's customer: From the
reseller's verified domain (else the neutral sender domain), every link on the
reseller's link host, in the registrant's language (else the brand's default).
``send_reseller_message`` writes to the reseller itself. Both store an outbox row in the
caller's transaction; the same ``dedupe_key`` twice sends once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from email.utils import formataddr
from typing import Any

from flask import render_template
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from reseller.core.formatting import format_date_local, format_money
from reseller.core.text import one_line
from whitelabel import brands, outbox, sender, tokens
from whitelabel.models import Brand, OutboxMessage, SenderDomain
from whitelabel.settings import Settings, current

LANGUAGES = ("fi", "sv", "en")


@dataclass(frozen=True)
class Kind:
    subject: Any
    lines: tuple[Any, ...]
    required: tuple[str, ...] = ("domain",)
    action: Any = None
    token: str | None = None  # LinkToken purpose the action link carries
    path: str | None = None  # reseller messages: the client-area page the action opens
    extra: dict[str, Any] = field(default_factory=dict)
    # Context values that pick a sentence: key → {value: text}; the chosen text, formatted
    # with the other values, is what ``%(key)s`` shows (e.g. why a payment was taken back).
    choices: dict[str, dict[str, Any]] = field(default_factory=dict)


REGISTRANT_KINDS: dict[str, Kind] = {
    "registration_confirmed": Kind(
        _l("Your domain %(domain)s is registered"),
        (_l("%(domain)s is now registered in your name. It is valid until %(expires)s."),
         _l("Thank you for choosing %(brand)s.")),
        required=("domain", "expires_at")),
    "email_verification": Kind(
        _l("Confirm your email address"),
        (_l("Please confirm that %(email)s is the right email address for the owner of "
            "%(domains)s."),
         _l("Confirm it by %(deadline)s. The rules for domain names require a confirmed "
            "address: if it is not confirmed in time, the domain is suspended until it is.")),
        required=("email", "domains", "deadline_at"),
        action=_l("Confirm my email address"), token="confirm_email"),
    "transfer_in_approval": Kind(
        _l("Approve the transfer of %(domain)s"),
        (_l("%(brand)s has been asked to take care of the domain %(domain)s."),
         _l("Approve or reject the transfer from the link below. If you did not ask for "
            "this, reject it.")),
        action=_l("Approve or reject the transfer"), token="transfer_in"),
    "transfer_out_notice": Kind(
        _l("%(domain)s is being transferred away"),
        (_l("A transfer of %(domain)s to another provider has been requested. It completes "
            "on %(date)s unless you stop it."),
         _l("If you did not ask for this, stop the transfer from the link below.")),
        required=("domain", "date"),
        action=_l("Stop the transfer"), token="transfer_out"),
    "owner_change_approval": Kind(
        _l("Confirm the change of owner of %(domain)s"),
        (_l("%(brand)s has been asked to change the owner (registrant) of %(domain)s to "
            "%(new_holder)s."),
         _l("The change is made only if you confirm it by %(deadline)s. If you did not ask "
            "for it, decline it or ignore this message: nothing changes.")),
        required=("domain", "new_holder", "deadline_at"),
        action=_l("Confirm or decline the change"), token="owner_change"),
    "owner_change_completed": Kind(
        _l("The owner of %(domain)s has changed"),
        (_l("%(domain)s is now held by %(new_holder)s; the previous owner was "
            "%(prior_holder)s."),
         _l("If this change was not agreed, contact %(brand)s at once.")),
        required=("domain", "new_holder", "prior_holder")),
    "auth_code": Kind(
        _l("The transfer code for %(domain)s"),
        (_l("The transfer code (auth code) for %(domain)s is: %(auth_code)s"),
         _l("Give it only to the provider you are moving the domain to.")),
        required=("domain", "auth_code")),
    "renewal_reminder": Kind(
        _l("%(domain)s expires on %(expires)s"),
        (_l("%(domain)s expires on %(expires)s. Renew it in good time so that your website "
            "and email keep working."),),
        required=("domain", "expires_at"),
        action=_l("Renewal information"), token="renewal"),
    "renewal_overdue": Kind(
        _l("%(domain)s has expired: renew it now"),
        (_l("%(domain)s expired on %(expires)s. It can still be renewed for a short time; "
            "after that it may be lost."),),
        required=("domain", "expires_at"),
        action=_l("Renewal information"), token="renewal"),
    "domain_expired": Kind(
        _l("%(domain)s has expired"),
        (_l("%(domain)s expired on %(expires)s and no longer works."),
         _l("Contact %(brand)s to restore it while that is still possible.")),
        required=("domain", "expires_at"),
        action=_l("Renewal information"), token="renewal"),
    "domain_deleted": Kind(
        _l("%(domain)s has been deleted"),
        (_l("%(domain)s has been deleted and is no longer registered in your name."),
         _l("If this is a mistake, contact %(brand)s at once."))),
    # Privacy on: someone used the contact form RDAP and WHOIS point to instead of the
    # registrant's address (ICANN Registration Data Policy). Replies go to the sender.
    "registrant_contact": Kind(
        _l("A message about %(domain)s"),
        (_l("%(sender_name)s (%(sender_email)s) sent you this message about %(domain)s "
            "through the contact form of %(brand)s. Your email address was not shown to "
            "them: it is revealed only if you reply."),
         _l("Their message: %(message)s")),
        required=("domain", "sender_name", "sender_email", "message")),
    "contact_change": Kind(
        _l("The contact details of %(domain)s were changed"),
        (_l("The owner contact details of %(domain)s were changed on %(date)s."),
         _l("If you did not make this change, contact %(brand)s at once.")),
        required=("domain", "date")),
    "trademark_matches": Kind(
        _l("New domain names resemble your mark %(mark)s"),
        (_l("We watch new domain name registrations for names that imitate your mark "
            "%(mark)s. These were registered recently: %(names)s"),
         _l("Contact %(brand)s if you want to act on any of them.")),
        required=("mark", "names")),
    "trademark_claim": Kind(
        _l("%(domain)s was registered despite a notice about your mark %(mark)s"),
        (_l("%(domain)s has been registered. Before registering it, the registrant was shown "
            "a notice that the name matches your protected mark %(mark)s and acknowledged it."),
         _l("Contact %(brand)s if you want to act on it.")),
        required=("domain", "mark")),
}

RESELLER_KINDS: dict[str, Kind] = {
    "low_balance": Kind(
        _l("Your balance is low: %(balance)s"),
        (_l("Your prepaid balance is %(balance)s, below your warning limit of "
            "%(threshold)s."),
         _l("Top up so that registrations and renewals are not delayed.")),
        required=("balance", "threshold"), action=_l("Open the client area"), path="/"),
    "topup_received": Kind(
        _l("Top-up received: %(amount)s"),
        (_l("We have received your top-up of %(amount)s. It is now available for "
            "registrations and renewals."),),
        required=("amount",), action=_l("Open the client area"), path="/"),
    "order_failed": Kind(
        _l("Order failed: %(domain)s"),
        (_l("Your order %(order)s for %(domain)s failed: %(reason)s"),
         _l("Nothing was charged for it; any funds held for it are released.")),
        required=("domain", "order", "reason"), action=_l("Open the client area"), path="/"),
    "payment_reversed": Kind(
        _l("A payment of %(amount)s was taken back"),
        (_l("A payment of %(amount)s to your account has been taken back: %(cause)s."),
         "%(standing)s",
         _l("If you think this is a mistake, contact the payment provider or your bank "
            "first, then us.")),
        required=("amount", "cause", "standing"), action=_l("Open the client area"),
        path="/wallet",
        choices={
            "cause": {
                "refund": _l("it was refunded at the payment provider"),
                "chargeback": _l("the card payment was disputed (a chargeback)"),
                "returned": _l("the bank returned the transfer"),
                "": _l("the payment provider reversed it"),
            },
            "standing": {
                "invoice": _l("It had paid invoice %(invoice)s, which is open again."),
                "debt": _l("The money had already been used, so %(debt)s is now owed. New "
                           "orders wait until a top-up or bank transfer has paid it; money "
                           "that arrives pays it first."),
                "balance": _l("It has been taken from your balance, which is now "
                              "%(balance)s."),
            },
        }),
    "sender_domain_paused": Kind(
        _l("Your sender domain %(domain)s is paused"),
        (_l("The DNS records of %(domain)s no longer check out (%(failing)s). Until they are "
            "fixed, email to your customers is sent from a neutral address."),),
        required=("domain", "failing"), action=_l("Check the DNS records"),
        path="/settings/brand"),
    "trademark_matches": Kind(
        _l("New domain names resemble the mark %(mark)s"),
        (_l("The watch for %(mark)s (%(holder)s) found these new domain names: %(names)s"),
         _l("The mark has no customer contact to alert; decide on each match in the client "
            "area.")),
        required=("mark", "holder", "names"), action=_l("Open the client area"),
        path="/trademarks"),
}



def register_reseller_kinds(kinds: dict[str, Kind]) -> None:
    """Add a feature's notices to the reseller catalogue (its ``init_app`` calls this); the
    feature's own catalogue translates them."""
    RESELLER_KINDS.update(kinds)


DATE_KEYS = {"expires_at": "expires", "deadline_at": "deadline", "date": "date"}
MONEY_KEYS = ("amount", "balance", "threshold", "debt")


class MessageContextError(ValueError):
    """A message was asked for without the values its text needs (a programming error)."""


def _check_context(kind: str, spec: Kind, context: dict[str, Any]) -> None:
    missing = [key for key in spec.required if context.get(key) in (None, "", [])]
    if missing:
        raise MessageContextError(f"{kind} needs {missing}")


def _display(kind: str, spec: Kind, context: dict[str, Any], language: str,
             brand: Brand) -> dict[str, Any]:
    _check_context(kind, spec, context)
    values = {key: value for key, value in context.items() if isinstance(value, str | int)}
    values["brand"] = brand.name
    if context.get("unicode_name"):  # people read the name as typed, not its punycode
        values["domain"] = context["unicode_name"]
    for key, name in DATE_KEYS.items():
        if context.get(key):
            moment = context[key]
            moment = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
            values[name] = format_date_local(moment, locale=language)
    for key in MONEY_KEYS:
        if context.get(key) is not None:
            values[key] = format_money(str(context[key]), context.get("currency", "EUR"),
                                       locale=language)
    if isinstance(context.get("domains"), list):
        values["domains"] = ", ".join(context["domains"])
    if isinstance(context.get("failing"), list):
        values["failing"] = ", ".join(context["failing"])
    for key, texts in spec.choices.items():
        chosen = texts.get(str(context.get(key) or ""), texts.get(""))
        values[key] = str(chosen) % values if chosen is not None else str(context.get(key))
    return values


def _jsonable(context: dict[str, Any]) -> dict[str, Any]:
    """The context as stored on the outbox row and link token: JSON values only."""
    def plain(value: Any) -> Any:
        if isinstance(value, datetime):
            return value.isoformat()
        if isinstance(value, dict):
            return {str(k): plain(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [plain(v) for v in value]
        return value if isinstance(value, str | int | float | bool) or value is None \
            else str(value)
    return plain(dict(context))


def link_base(reseller_id: int, settings: Settings) -> str:
    """Scheme and host of the reseller's links: its verified link host, else the neutral."""
    return _link_base(sender.usable_domain(reseller_id), settings)


def _link_base(domain: SenderDomain | None, settings: Settings) -> str:
    host = domain.domain if domain is not None else settings.neutral_link_host
    return f"{settings.link_scheme}://{host}"


def _sender_addresses(domain: SenderDomain | None, brand: Brand,
                      settings: Settings) -> tuple[str, str]:
    """(From header, envelope sender): the verified domain's, else the neutral domain's."""
    name = domain.domain if domain is not None else settings.neutral_sender_domain
    bounce = f"bounces@bounce.{name}" if domain is not None else f"bounces@{name}"
    return formataddr((one_line(brand.name), f"noreply@{name}")), bounce


def render(kind: str, *, language: str, brand: Brand, context: dict[str, Any],
           base: str, action_url: str | None = None, audience: str = "registrant"
           ) -> tuple[str, str, str]:
    """(subject, text, html) of one message in ``language``."""
    spec = (REGISTRANT_KINDS if audience == "registrant" else RESELLER_KINDS)[kind]
    with force_locale(language):
        values = _display(kind, spec, context, language, brand)
        subject = str(spec.subject) % values
        lines = [str(line) % values for line in spec.lines]
        logo_url = (f"{base}/go/logo/{brand.reseller_id}"
                    if brand.logo_url and brand.reseller_id else None)
        page = {"subject": subject, "lines": lines, "brand": brand, "base": base,
                "logo_url": logo_url,
                "action": str(spec.action) if spec.action and action_url else None,
                "action_url": action_url, "audience": audience, "language": language}
        text = render_template("emails/whitelabel/message.txt", **page)
        html = render_template("emails/whitelabel/message.html", **page)
    return subject, text, html


def send_registrant_message(*, reseller_id: int, kind: str, recipient: str,
                            language: str | None, context: dict[str, Any], dedupe_key: str,
                            settings: Settings | None = None,
                            reply_to: str | None = None) -> OutboxMessage:
    """Queue a branded message to a reseller's customer (once per ``dedupe_key``);
    replies go to the brand's support address unless ``reply_to`` says otherwise."""
    [queued] = send_registrant_messages([{
        "reseller_id": reseller_id, "kind": kind, "recipient": recipient,
        "language": language, "context": context, "dedupe_key": dedupe_key,
        "reply_to": reply_to}], settings=settings)
    if isinstance(queued, MessageContextError):
        raise queued
    return queued


def send_registrant_messages(requests: list[dict[str, Any]], *,
                             settings: Settings | None = None
                             ) -> list[OutboxMessage | MessageContextError]:
    """``send_registrant_message`` for several messages (each a dict of its arguments), the
    new rows stored in one statement (a batch of registrations' mails, a chunk of renewal
    reminders). In the order given: each message's row, or the ``MessageContextError``
    that kept it from being written (its kind unknown, its context short), the others
    written all the same.

    A batch costs the same few statements however many messages it holds: the rows of
    link kinds queued before (a repeat must not issue a second link) are read in one, and
    the links of the rest are issued in one (``tokens.issue_many``)."""
    settings = settings or current()
    linked = {request["dedupe_key"] for request in requests
              if (spec := REGISTRANT_KINDS.get(request["kind"])) is not None and spec.token}
    queued = outbox.find_many(sorted(linked))
    answers: list[OutboxMessage | MessageContextError | _Draft] = []
    for request in requests:
        if (row := queued.get(request["dedupe_key"])) is not None:
            answers.append(row)
            continue
        try:
            answers.append(_draft_registrant(settings=settings, **request))
        except MessageContextError as error:
            answers.append(error)
    drafts = [answer for answer in answers if isinstance(answer, _Draft)]
    needing = [draft for draft in drafts if draft.link is not None]
    for draft, token in zip(needing, tokens.issue_many(
            [draft.link for draft in needing], secret_key=settings.secret_key), strict=True):
        draft.action_url = f"{draft.base}/go/{draft.link['purpose'].replace('_', '-')}/{token}"
    stored = iter(outbox.queue_messages([draft.row() for draft in drafts]))
    return [next(stored) if isinstance(answer, _Draft) else answer for answer in answers]


@dataclass
class _Draft:
    """A registrant message composed but for its link (issued for the batch at once)."""
    kind: str
    language: str
    brand: Brand
    context: dict[str, Any]
    base: str
    fields: dict[str, Any]  # the outbox row's other arguments
    link: dict[str, Any] | None  # the LinkToken to issue for the action link
    action_url: str | None = None

    def row(self) -> dict[str, Any]:
        subject, text, html = render(self.kind, language=self.language, brand=self.brand,
                                     context=self.context, base=self.base,
                                     action_url=self.action_url)
        return {**self.fields, "subject": subject, "text": text, "html": html}


def _draft_registrant(*, reseller_id: int, kind: str, recipient: str,
                      language: str | None, context: dict[str, Any], dedupe_key: str,
                      settings: Settings, reply_to: str | None = None) -> _Draft:
    """The message's outbox row but for its link and rendering (``_Draft``)."""
    if kind not in REGISTRANT_KINDS:
        raise MessageContextError(f"unknown registrant message {kind!r}")
    spec = REGISTRANT_KINDS[kind]
    context = _jsonable(context)
    brand = brands.get_brand(reseller_id=reseller_id)
    language = language if language in LANGUAGES else brand.default_language
    domain = sender.usable_domain(reseller_id)  # read once: links and sender both use it
    link = None
    if spec.token:
        link = {"reseller_id": reseller_id, "purpose": spec.token,
                "subject": context.get("email") or context.get("domain") or recipient,
                "language": language, "data": {**context, "recipient": recipient}}
    _check_context(kind, spec, context)  # before a link is issued for it
    from_header, envelope = _sender_addresses(domain, brand, settings)
    return _Draft(kind, language, brand, context, _link_base(domain, settings), link=link,
                  fields={"dedupe_key": dedupe_key, "recipient": recipient,
                          "sender": from_header, "language": language,
                          "template": f"registrant/{kind}", "reseller_id": reseller_id,
                          "context": context, "envelope_from": envelope,
                          "reply_to": reply_to or brand.support_email})


def send_reseller_message(*, reseller_id: int, kind: str, recipient: str,
                          language: str | None, context: dict[str, Any], dedupe_key: str,
                          settings: Settings | None = None, reply_to: str | None = None,
                          action_path: str | None = None) -> OutboxMessage:
    """Queue a platform notice to the reseller itself (low balance, failed order …).

    ``action_path`` replaces the kind's client-area page (e.g. one ticket's); ``reply_to``
    is where replies go (e.g. a support ticket's own address)."""
    if kind not in RESELLER_KINDS:
        raise MessageContextError(f"unknown reseller message {kind!r}")
    if existing := outbox.find(dedupe_key):
        return existing
    context = _jsonable(context)
    settings = settings or current()
    language = language if language in LANGUAGES else "en"
    spec = RESELLER_KINDS[kind]
    # Resellers hear from the operator, under the operator's brand (never the platform's).
    platform = Brand(name=settings.operator_brand, primary_color="#1f5f8b",
                     accent_color="#f2f5f8")
    path = action_path or spec.path
    subject, text, html = render(kind, language=language, brand=platform, context=context,
                                 base=settings.base_url, audience="reseller",
                                 action_url=settings.base_url + path if path else None)
    return outbox.queue_message(
        dedupe_key=dedupe_key, recipient=recipient,
        sender=formataddr((settings.operator_brand,
                           f"notifications@{settings.neutral_sender_domain}")),
        envelope_from=f"bounces@{settings.neutral_sender_domain}", language=language,
        template=f"reseller/{kind}", subject=subject, text=text, html=html,
        reseller_id=reseller_id, context=context, reply_to=reply_to)
