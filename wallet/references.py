"""Finnish bank reference numbers (viitenumero) and their international RF form (ISO 11649).

Each wallet gets a permanent reference for bank-transfer top-ups: ``77`` + the reseller id,
plus the Finnish check digit. The ``77`` prefix keeps them apart from invoice references.
"""

from __future__ import annotations

WALLET_PREFIX = "77"


def finnish_check_digit(base: str) -> str:
    """The 7-3-1 check digit of a Finnish reference number."""
    if not base.isdigit() or not 3 <= len(base) <= 19:
        raise ValueError("a reference base is 3-19 digits")
    weights = (7, 3, 1)
    total = sum(int(digit) * weights[i % 3] for i, digit in enumerate(reversed(base)))
    return str((10 - total % 10) % 10)


def finnish_reference(base: str) -> str:
    return base + finnish_check_digit(base)


def is_valid_finnish_reference(value: str) -> bool:
    value = normalize(value)
    return value.isdigit() and 4 <= len(value) <= 20 and \
        finnish_check_digit(value[:-1]) == value[-1]


def rf_reference(reference: str) -> str:
    """The ISO 11649 form of a reference (``RF`` + two check digits + the reference)."""
    reference = normalize(reference)
    digits = "".join(str(int(ch, 36)) for ch in reference + "RF00")
    check = 98 - int(digits) % 97
    return f"RF{check:02d}{reference}"


def from_rf(value: str) -> str | None:
    """The reference inside a valid RF reference, else None."""
    value = normalize(value)
    if not value.startswith("RF") or len(value) < 5:
        return None
    digits = "".join(str(int(ch, 36)) for ch in value[4:] + value[:4])
    return value[4:] if int(digits) % 97 == 1 else None


def normalize(value: str) -> str:
    return "".join(value.split()).upper()


def wallet_reference(reseller_id: int) -> str:
    return finnish_reference(f"{WALLET_PREFIX}{reseller_id:04d}")


def group(reference: str) -> str:
    """Printed in groups of five from the right, as Finnish banks show it."""
    reference = normalize(reference)
    head = len(reference) % 5
    parts = ([reference[:head]] if head else []) + [
        reference[i:i + 5] for i in range(head, len(reference), 5)]
    return " ".join(parts)
