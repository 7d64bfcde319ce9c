"""Every message in fi/sv/en: translated, branded, no trace of the operator, and every
link on the reseller's link host."""

import re
from datetime import UTC, datetime

import pytest

from reseller.core.db import unit_of_work
from tests.support.whitelabel import verified_domain
from whitelabel import brands
from whitelabel.messages import (
    REGISTRANT_KINDS,
    RESELLER_KINDS,
    MessageContextError,
    send_registrant_message,
    send_reseller_message,
)
from whitelabel.models import OutboxMessage

CONTEXT = {
    "domain": "esimerkki.fi", "expires_at": datetime(2027, 3, 1, tzinfo=UTC),
    "email": "maija@customer.example", "domains": ["esimerkki.fi", "toinen.fi"],
    "deadline_at": datetime(2027, 1, 15, tzinfo=UTC), "date": "2027-02-01T10:00:00+00:00",
    "auth_code": "Xy7-Qp2!zz", "order": "ORD-42", "reason": "registry said no",
    "balance": "12.50", "threshold": "50.00", "amount": "200.00", "failing": ["link", "dkim"],
    "transfer_id": 7, "cause": "chargeback", "standing": "debt", "debt": "80.00",
    # Support notices (reseller/support/mail.py); "body" is the reseller's own words.
    "ticket_id": 12, "subject": "DNSSEC", "author": "Staff", "body": "Done: DS published.",
    "status_label": "solved", "reopen_days": 7, "hours": "1.50", "plan_name": "Pro",
    "cycle_label": "monthly", "previous_plan_name": "Pro", "due": "10 Mar 2027 18:00",
    "target": "first response", "company": "Webbi Oy",
    "sender_name": "Kalle Kysyjä", "sender_email": "kalle@kysyja.example",
    "message": "Is the name for sale?",
    "mark": "Esimerkki", "holder": "Esimerkki Oy",
    "names": "esimerkkl.fi, esimerkki-kauppa.fi",
    # Staff notices (support) and the owner-change consent (domains).
    "plan": "pro", "priority_label": "high", "category_label": "domain",
    "new_holder": "Uusi Oy", "prior_holder": "Maija Meikäläinen",
}


def test_idn_names_are_shown_as_people_write_them(factory, wl_settings):
    reseller = factory.reseller()
    with unit_of_work():
        message = send_registrant_message(
            reseller_id=reseller.id, kind="domain_deleted", language="fi", recipient="a@b.fi",
            context={"domain": "xn--ij-uiac.fi", "unicode_name": "äijä.fi"},
            dedupe_key="idn", settings=wl_settings)
    assert "äijä.fi" in message.subject and "xn--" not in message.text
URL = re.compile(r"https?://[^\s\"'<>]+")


def _operator_traces(app) -> list[str]:
    config = app.config
    base_host = config["BASE_URL"].split("://")[1]
    return [config["OPERATOR_NAME"], config["OPERATOR_BRAND"], config["OPERATOR_DOMAIN"],
            base_host]


@pytest.fixture
def branded(factory, wl_knot, wl_settings):
    reseller = factory.reseller(company_name="Webbi Oy", language="fi")
    with unit_of_work():
        brands.update_brand(reseller_id=reseller.id, name="Webbi", primary_color="#0a7d32",
                            logo_url="https://cdn.webbi.example/logo.png",
                            support_email="tuki@webbi.example", support_phone="+358 9 123")
    domain = verified_domain(reseller.id, wl_knot, wl_settings)
    return reseller, domain


@pytest.mark.parametrize("language", ["fi", "sv", "en"])
def test_every_registrant_message_is_branded_with_links_only_on_the_link_host(
        app, branded, wl_settings, language):
    reseller, domain = branded
    with unit_of_work():
        for kind in REGISTRANT_KINDS:
            send_registrant_message(reseller_id=reseller.id, kind=kind, language=language,
                                    recipient="maija@customer.example", context=CONTEXT,
                                    dedupe_key=f"all:{kind}:{language}", settings=wl_settings)
    messages = OutboxMessage.query.filter_by(reseller_id=reseller.id).all()
    assert len(messages) == len(REGISTRANT_KINDS)
    for message in messages:
        assert message.language == language
        assert message.sender == f"Webbi <noreply@{domain.domain}>"
        assert message.text and message.html and "Webbi" in message.html
        everything = " ".join([message.sender, message.subject, message.text, message.html,
                               message.envelope_from or "", message.reply_to or ""])
        for trace in _operator_traces(app):
            assert trace.lower() not in everything.lower(), (message.template, trace)
        # Nor the platform's name ("verkkotunnus", a domain name, is fine).
        assert not re.search(r"\bTunnus\b", everything), message.template
        links = URL.findall(message.text) + URL.findall(message.html)
        for link in links:
            assert link.startswith(f"http://{domain.domain}/"), (message.template, link)
        # The subject names the domain; a list of trademark look-alikes names the mark.
        assert "esimerkki.fi" in message.subject or message.template.endswith(
            "email_verification") or (message.template.endswith("trademark_matches")
                                      and "Esimerkki" in message.subject)


@pytest.mark.parametrize("language", ["fi", "sv"])
def test_every_message_is_translated(branded, wl_settings, language):
    reseller, _domain = branded
    english = {}
    with unit_of_work():
        for kinds, send in ((REGISTRANT_KINDS, send_registrant_message),
                            (RESELLER_KINDS, send_reseller_message)):
            for kind in kinds:
                for lang in (language, "en"):
                    sent = send(reseller_id=reseller.id, kind=kind, language=lang,
                                context=CONTEXT, recipient="someone@customer.example",
                                dedupe_key=f"tr:{kind}:{lang}", settings=wl_settings)
                    english[kind] = sent if lang == "en" else english.get(kind)
    for message in OutboxMessage.query.filter_by(language=language):
        kind = message.template.split("/")[1]
        assert message.subject != english[kind].subject, kind
        english_lines = set(english[kind].text.splitlines()) - {""}
        shared = [line for line in message.text.splitlines() if line in english_lines
                  and not URL.search(line) and "@" not in line and line.strip() != "--"
                  and line.strip() not in ("Webbi", "Tunnus", CONTEXT["body"])]
        assert shared == [], (kind, shared)


def test_reseller_messages_come_from_the_operator_brand_never_the_platform(app, factory,
                                                                          wl_settings):
    # Issue 23 point 4: mails to resellers are the operator's (From name OPERATOR_BRAND);
    # they used to come from the platform's name, "Tunnus".
    reseller = factory.reseller()
    with unit_of_work():
        for kind in RESELLER_KINDS:
            send_reseller_message(reseller_id=reseller.id, kind=kind, language="sv",
                                  recipient="owner@x.example", context=CONTEXT,
                                  dedupe_key=f"r:{kind}", settings=wl_settings)
    for message in OutboxMessage.query.filter_by(reseller_id=reseller.id):
        everything = " ".join([message.sender, message.subject, message.text, message.html])
        assert message.sender.startswith(wl_settings.operator_brand), message.sender
        for trace in app.config["OPERATOR_NAME"], app.config["OPERATOR_DOMAIN"], "Tunnus":
            assert trace not in everything, (message.template, trace)
        assert message.text and message.html


def test_registrant_language_wins_else_the_brand_default(factory, wl_settings):
    reseller = factory.reseller(language="sv")
    with unit_of_work():
        chosen = send_registrant_message(
            reseller_id=reseller.id, kind="domain_deleted", recipient="a@b.example",
            language="fi", context=CONTEXT, dedupe_key="lang:1", settings=wl_settings)
        fallback = send_registrant_message(
            reseller_id=reseller.id, kind="domain_deleted", recipient="a@b.example",
            language=None, context=CONTEXT, dedupe_key="lang:2", settings=wl_settings)
    assert chosen.language == "fi" and "poistettu" in chosen.subject
    assert fallback.language == "sv" and "raderats" in fallback.subject


def test_unverified_reseller_mails_from_the_neutral_domain_with_its_brand(factory, wl_settings):
    reseller = factory.reseller(company_name="Webbi Oy")
    with unit_of_work():
        message = send_registrant_message(
            reseller_id=reseller.id, kind="renewal_reminder", recipient="a@b.example",
            language="en", context=CONTEXT, dedupe_key="neutral", settings=wl_settings)
    assert message.sender == f"Webbi Oy <noreply@{wl_settings.neutral_sender_domain}>"
    assert f"http://{wl_settings.neutral_link_host}/go/renewal/" in message.text


def test_a_message_without_the_values_it_needs_is_refused(factory, wl_settings):
    reseller = factory.reseller()
    with pytest.raises(MessageContextError), unit_of_work():
        send_registrant_message(reseller_id=reseller.id, kind="auth_code", recipient="a@b.c",
                                language="fi", context={"domain": "x.fi"}, dedupe_key="bad",
                                settings=wl_settings)
    assert OutboxMessage.query.count() == 0


def test_dev_outbox_json_keeps_its_shape(factory, client, wl_settings):
    reseller = factory.reseller()
    with unit_of_work():
        send_registrant_message(reseller_id=reseller.id, kind="domain_deleted", language="en",
                                recipient="a@b.example", context=CONTEXT, dedupe_key="dev",
                                settings=wl_settings)
    body = client.get("/_dev/outbox", headers={"Accept": "application/json"}).get_json()
    [message] = body["messages"]
    assert {"to", "from", "subject", "language", "text", "html", "reseller"} <= set(message)
    assert message["to"] == "a@b.example" and message["reseller"] == reseller.id


def test_dev_outbox_shows_the_html_part(factory, client, wl_settings):
    reseller = factory.reseller(company_name="Webbi Oy")
    with unit_of_work():
        message = send_registrant_message(
            reseller_id=reseller.id, kind="domain_deleted", language="fi",
            recipient="a@b.example", context=CONTEXT, dedupe_key="devhtml", settings=wl_settings)
    listing = client.get("/_dev/outbox", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert f"/_dev/outbox/{message.id}.html" in listing
    page = client.get(f"/_dev/outbox/{message.id}.html")
    assert page.mimetype == "text/html" and "Webbi Oy" in page.get_data(as_text=True)
