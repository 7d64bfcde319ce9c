"""``GET /api/v1/events``: the reseller's event feed, for those who poll instead of webhooks."""

from __future__ import annotations

from flask import Blueprint, request, url_for

from reseller.core.pagination import parse_limit
from reseller.core.web.auth import current_reseller_id, require_scope
from reseller.core.web.helpers import choice_args, choice_param
from reseller.core.web.openapi import doc
from reseller.events import schemas, services

bp = Blueprint("events_api", __name__)

_QUERY = [
    {"name": "after", "required": False, "schema": {"type": "string"},
     "description": "Cursor from the previous response's `next`; omit to start at the oldest"},
    choice_param("type", services.EVENT_TYPES, many=True,
                 description="Only these event types (repeatable)"),
    {"name": "limit", "required": False,
     "schema": {"type": "integer", "minimum": 1, "maximum": 200, "default": 50}},
]


@bp.get("/events")
@doc(summary="Events after a cursor (oldest first)", tags=["Events"],
     response=schemas.EventFeedOut, query=_QUERY,
     description="Poll `next` to receive new events in order; `has_more` says whether to "
                 "fetch again at once. Events are kept for the life of the account.")
@require_scope("events:read")
def feed():
    types = choice_args("type", services.EVENT_TYPES)
    page, poll = services.events_after(reseller_id=current_reseller_id(),
                                       after=request.args.get("after") or None,
                                       limit=parse_limit(request.args.get("limit")),
                                       types=types)
    args = {"after": poll}
    if types:
        args["type"] = types
    if request.args.get("limit"):
        args["limit"] = request.args["limit"]
    return {
        "items": schemas.EventOut(many=True).dump(page.items),
        "next": url_for("api.events_api.feed", **args, _external=True),
        "has_more": page.next_cursor is not None,
    }
