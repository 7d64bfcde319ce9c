"""Each TLD's registry rules (periods, label lengths, IDN, lifecycle windows, locks).

Rules are code, not data: they describe what the registries allow, change rarely, and
every process must agree on them. Prices, which do change, live in the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import lazy_gettext as _l

from reseller.core.errors import DomainError

OPERATIONS = ("register", "renew", "transfer", "restore", "owner_change")
# Operations priced per year of the period; the others are one-off fees.
PER_YEAR = frozenset({"register", "renew", "transfer"})


class UnsupportedTld(DomainError):
    status = 422
    code = "unsupported_tld"
    title = _l("We do not offer this top-level domain")


class InvalidPeriod(DomainError):
    status = 422
    code = "invalid_period"
    title = _l("The period is not allowed for this top-level domain")


class OperationNotOffered(DomainError):
    status = 409
    code = "operation_not_offered"
    title = _l("This top-level domain does not allow the operation")


@dataclass(frozen=True)
class TldRules:
    tld: str
    registry: str
    min_period: int
    max_period: int
    min_label: int
    max_label: int
    idn: bool
    auth_code_for_transfer: bool
    grace_days: int  # after expiry: still renewable at the normal price
    redemption_days: int  # after grace: only a restore brings it back
    restore: bool
    transfer_lock_days: int  # after registration or owner change, no transfer out
    delete_allowed: bool
    transfer_adds_year: bool
    operations: tuple[str, ...] = field(default=OPERATIONS)

    @property
    def max_total_years(self) -> int:
        return self.max_period

    def offers(self, operation: str) -> bool:
        if operation == "restore" and not self.restore:
            return False
        return operation in self.operations

    def check_period(self, years: int) -> int:
        if not isinstance(years, int) or not self.min_period <= years <= self.max_period:
            raise InvalidPeriod(
                _l("Period for .%(tld)s must be %(low)s–%(high)s years.", tld=self.tld,
                   low=self.min_period, high=self.max_period),
                min_period=self.min_period, max_period=self.max_period)
        return years

    def require(self, operation: str) -> None:
        if not self.offers(operation):
            raise OperationNotOffered(
                _l(".%(tld)s does not allow %(operation)s.", tld=self.tld,
                   operation=operation.replace("_", " ")), operation=operation)


_GTLD = dict(min_period=1, max_period=10, min_label=1, max_label=63, idn=True,
             auth_code_for_transfer=True, grace_days=45, redemption_days=30, restore=True,
             transfer_lock_days=60, delete_allowed=True, transfer_adds_year=True)

TLDS: dict[str, TldRules] = {
    "fi": TldRules("fi", "Traficom", min_period=1, max_period=5, min_label=2, max_label=63,
                   idn=True, auth_code_for_transfer=True, grace_days=30, redemption_days=0,
                   restore=False, transfer_lock_days=0, delete_allowed=True,
                   transfer_adds_year=False),
    "se": TldRules("se", "Internetstiftelsen", min_period=1, max_period=10, min_label=2,
                   max_label=63, idn=True, auth_code_for_transfer=True, grace_days=60,
                   redemption_days=0, restore=False, transfer_lock_days=0,
                   delete_allowed=True, transfer_adds_year=False),
    "nu": TldRules("nu", "Internetstiftelsen", min_period=1, max_period=10, min_label=2,
                   max_label=63, idn=True, auth_code_for_transfer=True, grace_days=60,
                   redemption_days=0, restore=False, transfer_lock_days=0,
                   delete_allowed=True, transfer_adds_year=False),
    "com": TldRules("com", "Verisign", **_GTLD),
    "net": TldRules("net", "Verisign", **_GTLD),
    "org": TldRules("org", "Public Interest Registry", **{**_GTLD, "min_label": 2}),
    "eu": TldRules("eu", "EURid", min_period=1, max_period=10, min_label=2, max_label=63,
                   idn=True, auth_code_for_transfer=True, grace_days=0, redemption_days=40,
                   restore=True, transfer_lock_days=0, delete_allowed=True,
                   transfer_adds_year=True),
}


def rules_for(tld: str) -> TldRules:
    try:
        return TLDS[tld.lower().lstrip(".")]
    except KeyError:
        raise UnsupportedTld(_l("We do not offer .%(tld)s.", tld=tld),
                             supported=sorted(TLDS)) from None


def add_years(moment: datetime, years: int) -> datetime:
    """The same date ``years`` later (29 February becomes 28 February)."""
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:
        return moment.replace(year=moment.year + years, day=28)
