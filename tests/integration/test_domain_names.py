"""Domain names: IDNA 2008 / UTS 46, TLD label rules, host names and DS records."""

import pytest

from reseller.catalog.errors import InvalidPeriod, UnsupportedTld
from reseller.catalog.models import add_years, rules_for
from reseller.domains import names
from reseller.domains.names import InvalidName


@pytest.fixture(autouse=True)
def _context(app):
    with app.test_request_context():
        yield


def test_names_are_lower_case_without_trailing_dot():
    name = names.parse("  Esimerkki.FI. ")
    assert (name.ascii, name.unicode, name.label, name.tld) == (
        "esimerkki.fi", "esimerkki.fi", "esimerkki", "fi")


def test_unicode_and_punycode_forms_are_the_same_name():
    from_unicode = names.parse("Tähti.fi")
    from_punycode = names.parse("xn--thti-loa.fi")
    assert from_unicode == from_punycode
    assert from_unicode.unicode == "tähti.fi" and from_unicode.is_idn


def test_uts46_maps_full_width_letters():
    assert names.parse("Ｅｓｉｍｅｒｋｋｉ.fi").ascii == "esimerkki.fi"


@pytest.mark.parametrize("text, fragment", [
    ("", "empty"),
    ("-alku.fi", "hyphen"),
    ("loppu-.fi", "hyphen"),
    ("ab--cd.fi", "hyphen"),
    ("a_b.fi", "The character “_” cannot be used"),  # our words, not IDNA's "U+005F"
    ("kaksi.osaa.fi", "one dot"),
    ("x.fi", "2–63"),
    ("a" * 64 + ".com", "longer than 63 characters"),
    ("😀.fi", "“😀” cannot be used"),
])
def test_bad_names_say_why(text, fragment):
    with pytest.raises(InvalidName) as refused:
        names.parse(text)
    assert fragment in str(refused.value.detail)
    assert refused.value.status == 422


def test_unknown_tld_is_refused_with_the_supported_list():
    with pytest.raises(UnsupportedTld) as refused:
        names.parse("example.xyz")
    assert "fi" in refused.value.extra["supported"]


def test_single_letter_com_is_allowed_but_not_fi():
    assert names.parse("x.com").label == "x"
    with pytest.raises(InvalidName):
        names.parse("x.fi")


def test_periods_follow_the_tld():
    assert rules_for("fi").check_period(5) == 5
    with pytest.raises(InvalidPeriod):
        rules_for("fi").check_period(6)
    assert rules_for("com").check_period(10) == 10


def test_restore_is_offered_only_where_the_registry_has_redemption():
    assert rules_for("com").offers("restore")
    assert not rules_for("fi").offers("restore")


def test_host_names():
    assert names.is_host_name("ns1.example.fi")
    assert names.is_host_name("ns1.example.fi.")
    assert not names.is_host_name("localhost")
    assert not names.is_host_name("ns1..example.fi")
    assert not names.is_host_name("1.2.3.4")


def test_leap_day_plus_a_year_is_28_february():
    from datetime import UTC, datetime

    assert add_years(datetime(2028, 2, 29, tzinfo=UTC), 1).day == 28


def test_ds_records_are_validated():
    from reseller.core.errors import ValidationFailed
    from reseller.domains.services import validate_ds

    good = {"key_tag": 12345, "algorithm": 13, "digest_type": 2, "digest": "ab" * 32}
    assert validate_ds([good])[0]["digest"] == "AB" * 32
    with pytest.raises(ValidationFailed) as refused:
        validate_ds([{**good, "digest_type": 1, "digest": "ab" * 20},
                     {**good, "algorithm": 5}, {**good, "key_tag": 70000}])
    errors = refused.value.errors["ds"]
    assert set(errors) == {"0", "1", "2"}
