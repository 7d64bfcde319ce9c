"""Payment references and the bank barcode printed on invoices.

* Finnish reference number (viitenumero): digits + a 7-3-1 weighted check digit.
* RF creditor reference (ISO 11649): ``RF`` + two ISO 7064 mod 97-10 check digits + the
  reference. python-stdnum validates RF references (``stdnum.iso11649``) but has no
  Finnish reference module and no RF builder, so both are built here on its mod 97-10.
* Virtual bank barcode (pankkiviivakoodi), version 5 (RF reference) and 4 (national).
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from stdnum import iso11649
from stdnum.iso7064 import mod_97_10

_WEIGHTS = (7, 3, 1)


class InvalidReference(ValueError):
    """Not a well-formed reference number."""


def _digits(text: str) -> str:
    return re.sub(r"\s+", "", text or "")


def finnish_check_digit(base: str) -> str:
    """The 7-3-1 check digit of ``base`` (3-19 digits), weights applied from the right."""
    base = _digits(base)
    if not base.isdigit() or not 3 <= len(base) <= 19:
        raise InvalidReference("a reference base is 3 to 19 digits")
    total = sum(int(digit) * _WEIGHTS[i % 3] for i, digit in enumerate(reversed(base)))
    return str((10 - total % 10) % 10)


def finnish_reference(base: str | int) -> str:
    """Append the check digit: ``finnish_reference("1232")`` → ``"12323"``."""
    base = _digits(str(base)).lstrip("0") or "0"
    return base + finnish_check_digit(base)


def is_valid_finnish_reference(reference: str) -> bool:
    reference = _digits(reference)
    if not reference.isdigit() or not 4 <= len(reference) <= 20:
        return False
    return finnish_check_digit(reference[:-1]) == reference[-1]


def format_finnish_reference(reference: str) -> str:
    """Groups of five digits from the right, as printed on Finnish invoices."""
    reference = _digits(reference)
    head = len(reference) % 5
    groups = ([reference[:head]] if head else []) + [
        reference[i:i + 5] for i in range(head, len(reference), 5)]
    return " ".join(groups)


def rf_reference(reference: str) -> str:
    """The ISO 11649 creditor reference for ``reference`` (compact, e.g. ``RF18…``)."""
    body = _digits(reference).upper()
    if not body.isalnum() or not 1 <= len(body) <= 21:
        raise InvalidReference("an RF reference body is 1 to 21 letters or digits")
    check = mod_97_10.calc_check_digits(body + "RF")
    result = "RF" + check + body
    iso11649.validate(result)  # stdnum's independent check of what we built
    return result


def format_rf_reference(reference: str) -> str:
    return iso11649.format(reference)


def reference_from_rf(rf: str) -> str:
    """The national reference inside an RF reference built from one (``RF…`` → digits)."""
    return iso11649.compact(rf)[4:]


def bank_barcode(*, iban: str, amount: Decimal, reference: str, due: date | None,
                 version: int = 5) -> str:
    """The 54-digit virtual bank barcode (Pankkiviivakoodi-opas, Finanssiala).

    Version 5 carries the RF reference (its check digits and the body padded to 21
    digits), version 4 the national reference padded to 20 digits. Amounts over
    999 999.99 and unknown due dates are encoded as zeros, as the guide prescribes.
    """
    account = _digits(iban).upper()
    if not re.fullmatch(r"FI\d{16}", account):
        raise InvalidReference("the barcode takes a Finnish IBAN (FI + 16 digits)")
    if amount < 0:
        raise InvalidReference("the barcode takes no negative amounts")
    cents = int((amount * 100).to_integral_value())
    money = f"{cents:08d}" if cents <= 99_999_999 else "0" * 8
    due_text = due.strftime("%y%m%d") if due else "000000"
    if version == 5:
        rf = iso11649.compact(reference)
        if not iso11649.is_valid(rf) or not rf[4:].isdigit():
            raise InvalidReference("version 5 needs a numeric RF reference")
        ref_field = rf[2:4] + rf[4:].rjust(21, "0")
    elif version == 4:
        national = _digits(reference)
        if not is_valid_finnish_reference(national):
            raise InvalidReference("version 4 needs a Finnish reference number")
        ref_field = "000" + national.rjust(20, "0")
    else:
        raise InvalidReference("barcode versions 4 and 5 only")
    code = f"{version}{account[2:]}{money}{ref_field}{due_text}"
    assert len(code) == 54, code
    return code
