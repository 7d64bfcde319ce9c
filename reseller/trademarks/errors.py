"""Refusals raised by the trademarks package (each with an HTTP status and a stable code)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from reseller.core.errors import Conflict, NotFound


class TrademarkNotFound(NotFound):
    code = "trademark_not_found"
    title = _l("No such trademark in this account")


class MatchNotFound(NotFound):
    code = "trademark_match_not_found"
    title = _l("No such match for this trademark")


class TrademarkPriceMissing(Conflict):
    code = "trademark_price_missing"
    title = _l("No price is set for trademark protection")


class TrademarkEnded(Conflict):
    code = "trademark_ended"
    title = _l("The protection of this mark has ended")


class ClaimsNoticeRequired(Conflict):
    """409: the name matches a protected mark; the order needs ``claims_ack`` set to the
    ``notice.id`` this problem carries (after showing the notice to the registrant)."""

    code = "claims_notice_required"
    title = _l("The name matches a protected mark: acknowledge the claims notice")
