"""Finnish reference numbers, RF creditor references and the virtual bank barcode.

The barcode vectors are the worked examples of Finanssiala's bank barcode guide
(Pankkiviivakoodi-opas); each is also checked by construction below.
"""

from datetime import date
from decimal import Decimal

import pytest
from stdnum import iso11649

from wallet.invoices import references

# (IBAN, version, amount, reference, due date or None, published barcode)
GUIDE_EXAMPLES = [
    ("FI79 4405 2020 0360 82", 4, "4883.15", "86851 62596 19897", date(2010, 6, 12),
     "479440520200360820048831500000000868516259619897100612"),
    ("FI58 1017 1000 0001 22", 4, "482.99", "55958 22432 94671", date(2012, 1, 31),
     "458101710000001220004829900000000559582243294671120131"),
    ("FI02 5000 4640 0013 02", 4, "693.80", "69 87567 20834 35364", date(2011, 7, 24),
     "402500046400013020006938000000069875672083435364110724"),
    ("FI16 8000 1400 0502 67", 4, "935.85", "78 77767 96566 28687", None,
     "416800014000502670009358500000078777679656628687000000"),
    ("FI73 3131 3001 0000 58", 4, "0.00", "8 68624", date(2013, 8, 9),
     "473313130010000580000000000000000000000000868624130809"),
    ("FI79 4405 2020 0360 82", 5, "4883.15", "RF09 8685 1625 9619 897", date(2010, 6, 12),
     "579440520200360820048831509000000868516259619897100612"),
    ("FI39 3636 3002 0924 92", 5, "1.03", "RF66 5907 3839 0", date(2023, 3, 11),
     "539363630020924920000010366000000000000590738390230311"),
]


@pytest.mark.parametrize("iban, version, amount, reference, due, expected", GUIDE_EXAMPLES)
def test_bank_barcode_matches_the_guide(iban, version, amount, reference, due, expected):
    code = references.bank_barcode(iban=iban, amount=Decimal(amount), reference=reference,
                                   due=due, version=version)
    assert code == expected


@pytest.mark.parametrize("iban, version, amount, reference, due, expected", GUIDE_EXAMPLES)
def test_barcode_fields_are_what_they_encode(iban, version, amount, reference, due, expected):
    assert len(expected) == 54 and expected[0] == str(version)
    assert expected[1:17] == iban.replace(" ", "")[2:]
    assert Decimal(expected[17:25]) / 100 == Decimal(amount)
    assert expected[48:] == (due.strftime("%y%m%d") if due else "000000")
    if version == 5:
        rf = "RF" + expected[25:27] + expected[27:48].lstrip("0")
        assert rf == iso11649.compact(reference) and iso11649.is_valid(rf)
    else:
        assert expected[25:28] == "000"
        assert references.is_valid_finnish_reference(expected[28:48].lstrip("0"))


@pytest.mark.parametrize("reference", [
    "86851 62596 19897", "55958 22432 94671", "69 87567 20834 35364",
    "78 77767 96566 28687", "8 68624", "1232 8", "12345 3"])
def test_published_finnish_references_carry_their_731_check_digit(reference):
    compact = reference.replace(" ", "")
    assert references.is_valid_finnish_reference(compact)
    assert references.finnish_reference(compact[:-1]) == compact


def test_check_digit_is_computed_by_7_3_1_weights_from_the_right():
    # 1232: 2*7 + 3*3 + 2*1 + 1*7 = 32 → 10 - 2 = 8
    assert references.finnish_check_digit("1232") == "8"
    # 0*7 + 5*3 + 5*1 = 20: a multiple of ten gives 0, not 10
    assert references.finnish_reference("550") == "5500"
    assert references.finnish_check_digit("10000") == "7"


def test_a_changed_digit_breaks_a_finnish_reference():
    assert not references.is_valid_finnish_reference("868516259619898")
    assert not references.is_valid_finnish_reference("12")
    assert not references.is_valid_finnish_reference("12a45")


@pytest.mark.parametrize("body, expected", [
    ("539007547034", "RF18539007547034"),  # the ISO 11649 standard's own example
    ("868516259619897", "RF09868516259619897"),
    ("590738390", "RF66590738390"),
])
def test_rf_reference_check_digits(body, expected):
    assert references.rf_reference(body) == expected
    assert iso11649.is_valid(expected)
    assert references.reference_from_rf(expected) == body


def test_references_are_printed_in_groups():
    assert references.format_finnish_reference("868516259619897") == "86851 62596 19897"
    assert references.format_finnish_reference("20260000011") == "2 02600 00011"
    assert references.format_rf_reference("RF09868516259619897") == "RF09 8685 1625 9619 897"


def test_barcode_encodes_amounts_too_large_for_it_as_zero():
    code = references.bank_barcode(iban="FI7944052020036082", amount=Decimal("1000000.00"),
                                   reference="RF09868516259619897", due=date(2026, 12, 1))
    assert code[17:25] == "00000000"


@pytest.mark.parametrize("kwargs", [
    {"iban": "SE4550000000058398257466"},
    {"amount": Decimal("-1")},
    {"reference": "RF00868516259619897"},
    {"version": 3},
])
def test_barcode_refuses_what_it_cannot_encode(kwargs):
    args = {"iban": "FI7944052020036082", "amount": Decimal("10"),
            "reference": "RF09868516259619897", "due": date(2026, 12, 1), **kwargs}
    with pytest.raises(references.InvalidReference):
        references.bank_barcode(**args)
