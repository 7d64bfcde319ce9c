"""Payment references and the bank barcode printed on invoices.

* Finnish reference number (viitenumero, 7-3-1 check digit) and its RF creditor
  reference (ISO 11649): built by ``wallet.references`` (python-stdnum has no Finnish
  reference module and no RF builder); RF references are checked with ``stdnum.iso11649``.
* Virtual bank barcode (pankkiviivakoodi), version 5 (RF reference) and 4 (national).
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from stdnum import iso11649

from wallet import references as _wallet_refs
from wallet.references import finnish_check_digit, is_valid_finnish_reference, normalize
from wallet.references import group as format_finnish_reference

__all__ = ["InvalidReference", "bank_barcode", "finnish_check_digit", "finnish_reference",
           "format_finnish_reference", "format_rf_reference", "is_valid_finnish_reference",
           "reference_from_rf", "rf_reference"]


class InvalidReference(ValueError):
    """Not a well-formed reference number."""


def finnish_reference(base: str | int) -> str:
    """Append the 7-3-1 check digit: ``finnish_reference("1232")`` → ``"12328"``."""
    base = normalize(str(base)).lstrip("0") or "0"
    return _wallet_refs.finnish_reference(base)


def rf_reference(reference: str) -> str:
    """The ISO 11649 creditor reference for ``reference`` (compact, e.g. ``RF18…``)."""
    result = _wallet_refs.rf_reference(reference)
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
    account = normalize(iban)
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
        national = normalize(reference)
        if not is_valid_finnish_reference(national):
            raise InvalidReference("version 4 needs a Finnish reference number")
        ref_field = "000" + national.rjust(20, "0")
    else:
        raise InvalidReference("barcode versions 4 and 5 only")
    code = f"{version}{account[2:]}{money}{ref_field}{due_text}"
    assert len(code) == 54, code
    return code
