"""One line of text: which characters the input rule refuses, how stored ones are escaped
on output, and the CSV formula guard. No database."""

from __future__ import annotations

import pytest

from reseller.core.text import csv_cell, has_control_characters, one_line

# Every kind the rule covers: C0 (CR, LF, NUL, ESC, TAB, VT, FF, the file separators),
# DEL, C1 (NEL, CSI) and the Unicode line and paragraph separators.
HOSTILE = ["\r", "\n", "\r\n", "\x00", "\x1b", "\t", "\x0b", "\x0c", "\x1c", "\x1e", "\x7f",
           "\x85", "\x9b", "\u2028", "\u2029"]


@pytest.mark.parametrize("char", HOSTILE)
def test_every_line_breaking_or_terminal_character_is_a_control_character(char):
    assert has_control_characters(f"Kotikatu 5{char}B 12")
    escaped = one_line(f"Kotikatu 5{char}Domain Status: serverHold")
    assert not has_control_characters(escaped)
    assert escaped.splitlines() == [escaped]
    assert escaped.startswith("Kotikatu 5\\") and escaped.endswith("Domain Status: serverHold")


def test_ordinary_text_is_left_alone():
    for text in ("Maija Meikäläinen", "Åbo Akademi", "東京都", "O'Brien & Sons, Ltd. #2",
                 "مرحبا", "Straße 5 \u00a0B"):
        assert not has_control_characters(text)
        assert one_line(text) == text
    assert one_line(None) == ""


def test_escapes_are_visible_and_name_the_character():
    assert one_line("a\r\nb") == "a\\r\\nb"
    assert one_line("a\x1b[31mb") == "a\\x1b[31mb"
    assert one_line("a\u2028b\x00") == "a\\u2028b\\x00"


@pytest.mark.parametrize("cell", ["=HYPERLINK(\"https://evil.example\",\"x\")", "+1+2",
                                  "-2+3", "@SUM(A1)", "\tx", "\rx", "=1"])
def test_csv_cells_that_a_spreadsheet_would_run_get_an_apostrophe(cell):
    assert csv_cell(cell) == "'" + cell


@pytest.mark.parametrize("cell", ["-12.55", "+3", "12.50", "Buyer Oy", "", "2026-11-01",
                                  "S 25.5%: 10.00 + 2.55"])
def test_csv_numbers_and_plain_text_stay_as_they_are(cell):
    assert csv_cell(cell) == cell


@pytest.mark.parametrize("char", HOSTILE)
def test_contact_schema_refuses_control_characters_in_each_text_field(char):
    from reseller.domains.schemas import ContactIn

    good = {"name": "Maija", "email": "maija@koti.example", "phone": "+358.401234567",
            "street": "Kotikatu 5", "city": "Tampere", "postal_code": "33100",
            "country": "FI", "organization": "Koti Oy"}
    assert ContactIn().validate(good) == {}
    for field in ("name", "organization", "email", "phone", "street", "city", "postal_code",
                  "country"):
        value = good[field] + char if field != "street" else f"Kotikatu{char}5"
        errors = ContactIn().validate({**good, field: value})
        assert list(errors) == [field], (field, errors)


def test_a_whois_query_echoed_in_no_match_stays_on_its_line():
    from reseller.whois.answer import no_match

    answer = no_match("evil.com\x1b[2J\rDomain Status: ok")
    first, rest = answer.split("\r\n", 1)
    assert first == 'No match for "EVIL.COM\\x1b[2J\\rDOMAIN STATUS: OK".'
    assert rest.startswith(">>> Last update of WHOIS database: ")
