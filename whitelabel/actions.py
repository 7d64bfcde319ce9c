"""What a registrant can do from an emailed link: confirm an address, decide a transfer
or an owner change.

Each action consumes its single-use token in the same transaction as its effect; the
domains package learns of a decision from the ``registrant.transfer_decision`` and
``registrant.owner_change_decision`` events.
"""

from __future__ import annotations

from datetime import datetime

from reseller.core.clock import clock
from reseller.core.events import record_event
from whitelabel import compliance, tokens
from whitelabel.models import LinkToken
from whitelabel.tokens import TokenProblem

DECISIONS = ("approve", "reject")


def open_link(token: str, *, purpose: str, secret_key: str, reseller_id: int | None = None,
              for_update: bool = False, now: datetime | None = None
              ) -> tuple[LinkToken | None, TokenProblem | None]:
    """The token's row, or why it cannot be used; on a reseller's host, only its tokens."""
    row, problem = tokens.read(token, purpose=purpose, secret_key=secret_key,
                               for_update=for_update, now=now)
    if row is not None and reseller_id is not None and row.reseller_id != reseller_id:
        return None, TokenProblem.INVALID
    return row, problem


def confirm_email(row: LinkToken, *, now: datetime | None = None) -> None:
    now = now or clock.now()
    compliance.confirm_email(reseller_id=row.reseller_id, email=row.subject, now=now)
    tokens.use(row, outcome="confirmed", now=now)


def decide_transfer(row: LinkToken, *, decision: str, now: datetime | None = None) -> None:
    """Record the registrant's approve/reject of a transfer in or out."""
    if decision not in DECISIONS:
        raise ValueError(decision)
    direction = "in" if row.purpose == "transfer_in" else "out"
    data = {k: v for k, v in row.data.items() if k != "recipient"}
    record_event(reseller_id=row.reseller_id, type="registrant.transfer_decision",
                 data={**data, "direction": direction, "decision": decision},
                 dedupe_key=f"registrant.transfer_decision:{row.id}")
    tokens.use(row, outcome=decision, now=now)


def decide_owner_change(row: LinkToken, *, decision: str, lock_opt_out: bool = False,
                        now: datetime | None = None) -> None:
    """Record the current registrant's confirm/decline of an owner change (and, where the
    TLD locks transfers after one, whether it opted out of the lock)."""
    if decision not in DECISIONS:
        raise ValueError(decision)
    record_event(reseller_id=row.reseller_id, type="registrant.owner_change_decision",
                 data={"order_id": row.data.get("order_id"), "domain": row.data.get("domain"),
                       "decision": decision,
                       "lock_opt_out": bool(lock_opt_out and row.data.get("lock_days"))},
                 dedupe_key=f"registrant.owner_change_decision:{row.id}")
    tokens.use(row, outcome=decision, now=now)
