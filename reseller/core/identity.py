"""Company identifiers: EU/EEA and UK business and VAT IDs, and how VAT applies to a buyer.

Kernel vocabulary, plain values in and out: onboarding validates applications with it,
the catalogue and the invoices decide VAT with ``vat_status``. Checksums come from
python-stdnum; where a country has no business-register module there, a conservative
format check stands in.
"""

from __future__ import annotations

import importlib
import re

from stdnum.eu import vat as eu_vat
from stdnum.exceptions import ValidationError as StdnumError

EU = frozenset(
    "AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK".split()
)
EEA = EU | {"IS", "LI", "NO"}
ALLOWED_COUNTRIES = EEA | {"GB"}

# stdnum modules that check a company's registration number, by country.
_BUSINESS_ID = {
    "FI": "fi.ytunnus",
    "SE": "se.orgnr",
    "NO": "no.orgnr",
    "DK": "dk.cvr",
    "EE": "ee.registrikood",
    "FR": "fr.siren",
    "ES": "es.cif",
    "PL": "pl.regon",
    "AT": "at.businessid",
    "DE": "de.handelsregisternummer",
    "IS": "is_.kennitala",
    "LI": "li.peid",
    "IT": "it.iva",
    "NL": "nl.btw",
}
# VAT numbers outside stdnum.eu.vat (EEA non-EU and the UK).
_VAT = {"NO": "no.mva", "GB": "gb.vat", "IS": "is_.vsk"}
_GENERIC_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ./-]{2,30}$")


class InvalidIdentifier(ValueError):
    """The number fails its format or checksum; ``str()`` says which."""


def _module(path: str):
    return importlib.import_module(f"stdnum.{path}")


def normalize_business_id(country: str, value: str) -> str:
    """Validate and return the compact/formatted business ID for ``country``."""
    value = (value or "").strip()
    if not value:
        raise InvalidIdentifier("Business ID is required.")
    path = _BUSINESS_ID.get(country)
    if path is None:
        if not _GENERIC_ID.match(value):
            raise InvalidIdentifier("Not a valid business ID.")
        return value
    module = _module(path)
    try:
        compact = module.validate(value)
    except StdnumError as error:
        raise InvalidIdentifier("Not a valid business ID for the country.") from error
    return module.format(compact) if hasattr(module, "format") else compact


def normalize_vat_id(country: str, value: str) -> str:
    """Validate a VAT ID, including that it belongs to ``country``; return it compact."""
    value = (value or "").strip().upper().replace(" ", "")
    if country in EU:
        prefix = "EL" if country == "GR" else country
        if not value.startswith(prefix):
            value_country = value[:2]
            if value_country.isalpha() and value_country != prefix:
                raise InvalidIdentifier("The VAT ID belongs to another country.")
            value = prefix + value
        try:
            return eu_vat.validate(value)
        except StdnumError as error:
            raise InvalidIdentifier("Not a valid VAT ID.") from error
    path = _VAT.get(country)
    if path is None:
        if not _GENERIC_ID.match(value):
            raise InvalidIdentifier("Not a valid VAT ID.")
        return value
    module = _module(path)
    try:
        compact = module.validate(value.removeprefix(country))
    except StdnumError as error:
        raise InvalidIdentifier("Not a valid VAT ID.") from error
    return f"NO{compact}MVA" if country == "NO" else f"{country}{compact}"


def vat_status(country: str, vat_id: str | None) -> str:
    """How VAT applies to a reseller: ``domestic``, ``reverse_charge`` or ``outside_scope``."""
    if country == "FI":
        return "domestic"
    if country in EU:
        return "reverse_charge" if vat_id else "domestic"
    return "outside_scope"
