"""Finnish and Swedish to the last word: every page a reseller's owner and the operator's
staff reach by following links, and every e-mail, rendered in fi and sv, shows no
catalogue message left in English, no raw enum value (prepaid, active, capture …) and no
English sentence that never went through gettext."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from reseller import demo
from reseller.accounts import notices
from reseller.accounts import services as accounts
from reseller.core.db import unit_of_work
from reseller.core.extensions import db
from reseller.core.labels import LABELS
from reseller.onboarding import services as onboarding
from reseller.onboarding.models import Application
from tests.support.crawl import crawl, english_left, visible_texts
from whitelabel.messages import (
    REGISTRANT_KINDS,
    RESELLER_KINDS,
    send_registrant_message,
    send_reseller_message,
)
from whitelabel.models import OutboxMessage

# Stored values whose word differs from the value itself: none may reach a page raw.
RAW_VALUES = {value for words in LABELS.values() for value, word in words.items()
              if str(word) != value}
EXTRA_PAGES = ("/domains/register?name=uusi-nimi.fi", "/domains/search?q=hyva,taken,a_b.fi",
               "/orders?state=failed")
CONTEXT = {
    "domain": "esimerkki.fi", "expires_at": datetime(2027, 3, 1, tzinfo=UTC),
    "email": "maija@customer.example", "domains": ["esimerkki.fi"],
    "deadline_at": datetime(2027, 1, 15, tzinfo=UTC), "date": "2027-02-01T10:00:00+00:00",
    "auth_code": "Xy7-Qp2!zz", "order": "ORD-42", "reason": "—", "balance": "12.50",
    "threshold": "50.00", "amount": "200.00", "failing": ["dkim"], "transfer_id": 7,
    "cause": "chargeback", "standing": "debt", "debt": "80.00", "ticket_id": 12,
    "subject": "DNSSEC", "author": "Maija", "body": "Kiitos!", "status_label": "—",
    "reopen_days": 7, "hours": "1.50", "plan_name": "Pro", "cycle_label": "—",
    "previous_plan_name": "Pro", "due": "10.3.2027", "target": "—", "company": "Webbi Oy",
    "sender_name": "Kalle Kysyjä", "sender_email": "kalle@kysyja.example",
    "message": "Onko nimi myynnissä?", "mark": "Esimerkki", "holder": "Esimerkki Oy",
    "names": "esimerkkl.fi, esimerkki-kauppa.fi",
    "plan": "Pro", "priority_label": "—", "category_label": "—",
    "new_holder": "Uusi Oy", "prior_holder": "Maija",
}


@pytest.fixture
def demo_data(app, db_session):
    info = demo.load(app.config)
    db_session.commit()
    return info


def _findings(pages: dict[str, str], language: str) -> list[str]:
    found = []
    for path, body in pages.items():
        left = sorted(set(english_left(visible_texts(body), language, RAW_VALUES)))
        if left:
            found.append(f"{path} [{language}]: {left}")
    return found


@pytest.mark.parametrize("language", ["fi", "sv"])
def test_client_area_and_console_have_no_english_left(client, demo_data, language):
    owner = demo_data["resellers"][0]
    client.post("/login", data={"email": owner["email"], "password": owner["password"]})
    client.post("/language", data={"language": language})
    pages = crawl(client, ["/", *EXTRA_PAGES])
    assert len(pages) > 25
    findings = _findings(pages, language)
    client.post("/logout")
    staff = demo_data["operator"]
    client.post("/login", data={"email": staff["email"], "password": staff["password"]})
    client.post("/language", data={"language": language})
    console = crawl(client, ["/console/"])
    assert len(console) > 20
    assert findings + _findings(console, language) == []


@pytest.mark.parametrize("language", ["fi", "sv"])
def test_every_email_has_no_english_left(app, factory, language):
    reseller = factory.reseller(company_name="Webbi Oy")
    user = factory.user(reseller, language=language)
    with unit_of_work():
        for audience, kinds, send in (("registrant", REGISTRANT_KINDS, send_registrant_message),
                                      ("reseller", RESELLER_KINDS, send_reseller_message)):
            for kind in kinds:
                send(reseller_id=reseller.id, kind=kind, language=language, context=CONTEXT,
                     recipient="someone@customer.example",
                     dedupe_key=f"words:{audience}:{kind}")
        application = Application(company_name="Webbi Oy", country="FI",
                                  business_id="2464491-9", website="https://webbi.example",
                                  contact_name="Maija", contact_email="maija@webbi.example",
                                  language=language, decision_note="—")
        db.session.add(application)
        db.session.flush()
        with app.test_request_context():
            accounts.send_invitation(user)
            accounts.send_password_reset(user)
            notices.send_password_changed(user)
            notices.send_email_change_link(user, "uusi@webbi.example", "token")
            notices.send_email_changed(user, "vanha@webbi.example")
            onboarding.send_rejection(application)
    messages = OutboxMessage.query.all()
    assert len(messages) >= len(REGISTRANT_KINDS) + len(RESELLER_KINDS) + 6
    findings = []
    for message in messages:
        texts = [message.subject, *message.text.splitlines(), *visible_texts(message.html)]
        left = english_left([t.strip() for t in texts if t.strip()], language, RAW_VALUES)
        if left:
            findings.append(f"{message.template}: {sorted(set(left))}")
    assert findings == []


def test_the_check_finds_english_messages_raw_values_and_sentences(app):
    texts = ["Two-factor authentication is on.", "prepaid",
             "Kaksivaiheinen tunnistautuminen on käytössä.",
             "The zone is yours and the records are set", "demoagency.fi"]
    assert english_left(texts, "fi", RAW_VALUES) == [
        "Two-factor authentication is on.", "prepaid",
        "The zone is yours and the records are set"]
