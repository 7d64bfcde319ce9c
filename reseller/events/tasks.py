"""Periodic safety net for deferred event listeners (see ``reseller.core.events``)."""

from __future__ import annotations

from reseller.core.events import redispatch_pending
from reseller.core.jobs import periodic


@periodic("events.redispatch", "* * * * *")
def redispatch() -> None:
    """Queue deferred listeners again for events whose dispatch job was lost."""
    redispatch_pending()
