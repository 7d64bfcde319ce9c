"""White label's dashboard panel: a sender domain that is not (or no longer) verified, so
mail to the reseller's customers goes out from the neutral domain."""

from __future__ import annotations

from typing import Any

from whitelabel import sender


def sender_attention(reseller_id: int) -> dict[str, Any] | None:
    found = sender.find_sender_domain(reseller_id)
    if found is None or found.status == "verified":
        return None
    return {"sender": found}
