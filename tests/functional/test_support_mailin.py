"""`flask support mail-in`: one RFC 5322 message on standard input, as an MTA pipe gives it.
A reseller's user opens a ticket or replies (threaded by ticket+TOKEN@); strangers, other
resellers' users and unauthenticated mail (when required) are refused and create nothing."""

from email.message import EmailMessage

import pytest

from reseller.support import settings
from reseller.support.models import Ticket, TicketMessage
from tests.support.support_desk import install_plans

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16


def _mail(sender: str, to: str, subject: str = "DNS question", body: str = "Hello support",
          message_id: str | None = None, attachment: bytes | None = None, **headers) -> bytes:
    message = EmailMessage()
    message["From"] = f"Someone <{sender}>"
    message["To"] = to
    message["Subject"] = subject
    if message_id:
        message["Message-ID"] = message_id
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    if attachment is not None:
        message.add_attachment(attachment, maintype="image", subtype="png",
                               filename="screen.png")
    return message.as_bytes()


@pytest.fixture
def mail_in(app, db_session):
    runner = app.test_cli_runner()

    def deliver(raw: bytes):
        return runner.invoke(args=["support", "mail-in"], input=raw)

    return deliver


@pytest.fixture
def desk(app):
    install_plans()
    return settings.SupportSettings.from_config(app.config)


def _counts():
    return Ticket.query.count(), TicketMessage.query.count()


@pytest.mark.smoke
def test_mail_from_a_stranger_creates_nothing(factory, mail_in, desk):
    factory.user(factory.reseller())
    before = _counts()
    result = mail_in(_mail("stranger@elsewhere.example", f"support@{desk.mail_domain}"))
    assert result.exit_code == 67  # EX_NOUSER: the MTA bounces it
    assert "unknown sender" in result.output
    assert _counts() == before


def test_a_users_mail_opens_a_ticket_and_a_reply_threads_by_the_token(factory, mail_in, desk):
    reseller = factory.reseller()
    user = factory.user(reseller)
    result = mail_in(_mail(user.email.upper(), f"support@{desk.mail_domain}",
                           subject="Zone import fails", body="The import says SOA missing.",
                           message_id="<1@agency.example>", attachment=PNG))
    assert result.exit_code == 0, result.output
    ticket = Ticket.query.one()
    assert (ticket.reseller_id, ticket.subject, ticket.channel) == (
        reseller.id, "Zone import fails", "email")
    assert ticket.messages[0].attachments[0].data == PNG
    reply = _mail(user.email, desk.reply_address(ticket.reply_token), subject="Re: x",
                  body="Here is the file.\n\nOn Mon, 8 Mar 2027 Support wrote:\n> old text",
                  message_id="<2@agency.example>")
    assert mail_in(reply).exit_code == 0
    assert [m.body for m in Ticket.query.one().messages] == [
        "The import says SOA missing.", "Here is the file."]
    assert mail_in(reply).output.startswith("duplicate")  # delivered twice, taken once
    assert TicketMessage.query.count() == 2


def test_another_resellers_user_cannot_write_into_a_ticket(factory, mail_in, desk):
    owner = factory.user(factory.reseller())
    mail_in(_mail(owner.email, f"support@{desk.mail_domain}", message_id="<a@x>"))
    ticket = Ticket.query.one()
    intruder = factory.user(factory.reseller())
    before = _counts()
    result = mail_in(_mail(intruder.email, desk.reply_address(ticket.reply_token)))
    assert result.exit_code == 67 and _counts() == before


def test_auto_replies_are_dropped_quietly(factory, mail_in, desk):
    user = factory.user(factory.reseller())
    result = mail_in(_mail(user.email, f"support@{desk.mail_domain}",
                           Auto_Submitted="auto-replied"))
    assert result.exit_code == 0 and Ticket.query.count() == 0


def test_with_authentication_required_unauthenticated_mail_is_refused(
        factory, mail_in, desk, app, monkeypatch):
    monkeypatch.setitem(app.config, "SUPPORT_MAILIN_REQUIRE_AUTH", True)
    user = factory.user(factory.reseller())
    assert mail_in(_mail(user.email, f"support@{desk.mail_domain}")).exit_code == 67
    signed = _mail(user.email, f"support@{desk.mail_domain}", Authentication_Results=(
        "mx.example; dkim=pass header.d=example.test; dmarc=pass header.from=example.test"))
    assert mail_in(signed).exit_code == 0 and Ticket.query.count() == 1


def test_a_malformed_message_is_refused(mail_in, desk):
    result = mail_in(b"this is not a mail message at all")
    assert result.exit_code == 65 and Ticket.query.count() == 0
