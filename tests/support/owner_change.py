"""The current registrant's side of an owner change: the e-mailed link, and answering it
on the white-label page as the registrant would."""

from __future__ import annotations

import re

from whitelabel.models import OutboxMessage

LINK = re.compile(r"https?://[^/\s]+(/go/owner-change/[A-Za-z0-9._-]+)")


def approval_mail(domain: str) -> OutboxMessage:
    found = [m for m in OutboxMessage.query.filter_by(
        template="registrant/owner_change_approval").order_by(OutboxMessage.id)
        if (m.context or {}).get("domain") == domain]
    assert found, f"no owner-change approval mail for {domain}"
    return found[-1]


def approval_path(domain: str) -> str:
    return LINK.search(approval_mail(domain).text).group(1)


def answer(client, domain: str, decision: str = "approve", *, lock_opt_out: bool = False):
    form = {"decision": decision, **({"lock_opt_out": "1"} if lock_opt_out else {})}
    response = client.post(approval_path(domain), data=form)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response
