"""White-label rules that need no database: reminder stages, domain names, DKIM."""

from datetime import UTC, datetime, timedelta

import dkim as dkimpy
import pytest

from reseller.core.errors import ValidationFailed
from whitelabel import dkim
from whitelabel.compliance import reminder_stage
from whitelabel.sender import normalize_domain

EXPIRES = datetime(2027, 6, 30, 12, tzinfo=UTC)


@pytest.mark.parametrize(("before", "stage"), [
    (timedelta(days=45), None), (timedelta(days=30), "30"), (timedelta(days=8), "30"),
    (timedelta(days=7), "7"), (timedelta(hours=1), "7"), (timedelta(0), "after"),
    (-timedelta(days=4, hours=23), "after"), (-timedelta(days=5), None),
])
def test_reminder_stage_follows_days_to_expiry(before, stage):
    assert reminder_stage(EXPIRES, EXPIRES - before) == stage


def test_domain_names_are_normalised_to_ascii_lower_case():
    assert normalize_domain(" Posti.Yritys.FI. ") == "posti.yritys.fi"
    assert normalize_domain("posti.äijä.fi") == "posti.xn--ij-uiac.fi"


@pytest.mark.parametrize("bad", ["", "localhost", "-a.example.fi", "a..fi", "a b.fi", "1.2.3.4"])
def test_bad_domain_names_are_refused_with_a_field_error(bad):
    with pytest.raises(ValidationFailed) as refused:
        normalize_domain(bad)
    assert "sender_domain" in refused.value.errors


def test_dkim_signature_verifies_and_breaks_when_the_body_changes():
    private, public = dkim.generate_key()
    message = b"From: a@x.example\r\nTo: b@y.example\r\nSubject: hi\r\n\r\nbody\r\n"
    signed = dkim.sign(message, domain="x.example", selector="s1", private_key=private)

    def dns(name, timeout=5):
        assert name == b"s1._domainkey.x.example."
        return dkim.txt_record(public).encode()

    assert dkimpy.verify(signed, dnsfunc=dns)
    assert not dkimpy.verify(signed.replace(b"body", b"b0dy"), dnsfunc=dns)
