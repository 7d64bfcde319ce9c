"""Periodic account work: deactivation at the end of the paid period, data deletion,
expired sign-in throttle rows."""

from reseller.accounts import closure
from reseller.core.jobs import periodic
from reseller.core.throttle import purge_expired


@periodic("accounts-deactivate", "5 * * * *")
def deactivate_closed_accounts() -> None:
    """Deactivate accounts whose closure date has come."""
    closure.deactivate_due()


@periodic("accounts-erase-personal-data", "15 3 * * *")
def erase_personal_data() -> None:
    """Delete personal data 14 days after deactivation."""
    closure.delete_personal_data_due()


@periodic("accounts-purge-throttles", "40 * * * *")
def purge_throttles() -> None:
    """Delete sign-in throttle rows whose window and lock have passed (database store)."""
    purge_expired()
