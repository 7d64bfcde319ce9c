"""``/api/v1/trademarks``: protected marks, their matches, and a reseller's decision on
each match."""

from __future__ import annotations

from flask import Blueprint

from reseller.core.db import transactional
from reseller.core.web.auth import current_reseller_id, require_scope
from reseller.core.web.helpers import (
    choice_arg,
    choice_param,
    json_body,
    list_args,
    page_body,
    page_of,
)
from reseller.core.web.openapi import doc
from reseller.trademarks import schemas, services
from reseller.trademarks.matching import REASONS
from reseller.trademarks.models import MATCH_STATES, STATUSES

bp = Blueprint("trademarks_api", __name__, url_prefix="/trademarks")
_TAGS = ["Trademarks"]
_out = schemas.TrademarkOut()
_PAGING = [{"name": "cursor", "required": False, "schema": {"type": "string"}},
           {"name": "limit", "required": False,
            "schema": {"type": "integer", "minimum": 1, "maximum": 200}}]


@bp.get("")
@doc(summary="List protected marks", tags=_TAGS, response=page_of(schemas.TrademarkOut),
     query=[choice_param("status", STATUSES), *_PAGING])
@require_scope("trademarks:read")
def list_trademarks():
    cursor, limit = list_args()
    page = services.trademarks_page(reseller_id=current_reseller_id(), cursor=cursor,
                                    limit=limit, status=choice_arg("status", STATUSES))
    return page_body(page, schemas.TrademarkOut(many=True).dump(page.items))


@bp.post("")
@doc(summary="Protect a mark for a customer (its first period is charged now)", tags=_TAGS,
     body=schemas.TrademarkIn, response=schemas.TrademarkOut, status=201, errors=(402, 409),
     description="The first month or year is paid from the wallet at once and appears on "
                 "the monthly invoice; later periods renew automatically until cancelled. "
                 "From then on new registrations of look-alike names are reported as "
                 "matches, and registering one of the mark's labels anywhere here needs the "
                 "registrant's acknowledgement of a claims notice.")
@require_scope("trademarks:write")
@transactional
def create_trademark():
    data = schemas.TrademarkIn().load_or_raise(json_body())
    trademark = services.add_trademark(reseller_id=current_reseller_id(), **data)
    return _out.dump(trademark), 201


@bp.get("/<int:trademark_id>")
@doc(summary="One protected mark", tags=_TAGS, response=schemas.TrademarkOut)
@require_scope("trademarks:read")
def get_trademark(trademark_id: int):
    return _out.dump(services.get_trademark(reseller_id=current_reseller_id(),
                                            trademark_id=trademark_id))


@bp.patch("/<int:trademark_id>")
@doc(summary="Change a mark's alert contact, languages, claims variants or billing period",
     tags=_TAGS, body=schemas.TrademarkUpdateIn, response=schemas.TrademarkOut,
     errors=(409,))
@require_scope("trademarks:write")
@transactional
def update_trademark(trademark_id: int):
    data = schemas.TrademarkUpdateIn().load_or_raise(json_body())
    trademark = services.update_trademark(reseller_id=current_reseller_id(),
                                          trademark_id=trademark_id, **data)
    return _out.dump(trademark)


@bp.delete("/<int:trademark_id>")
@doc(summary="Cancel a mark's protection at the end of its paid period", tags=_TAGS,
     response=schemas.TrademarkOut,
     description="Nothing is refunded or charged again; watching and claims continue "
                 "until `current_period_end`. PATCH `cancel_at_period_end: false` takes it "
                 "back before then.")
@require_scope("trademarks:write")
@transactional
def cancel_trademark(trademark_id: int):
    trademark = services.cancel_trademark(reseller_id=current_reseller_id(),
                                          trademark_id=trademark_id)
    return _out.dump(trademark)


@bp.get("/<int:trademark_id>/matches")
@doc(summary="Names found imitating a mark, newest first", tags=_TAGS,
     response=page_of(schemas.MatchOut),
     query=[choice_param("state", MATCH_STATES), choice_param("reason", REASONS), *_PAGING])
@require_scope("trademarks:read")
def list_matches(trademark_id: int):
    cursor, limit = list_args()
    page = services.matches_page(reseller_id=current_reseller_id(), trademark_id=trademark_id,
                                 cursor=cursor, limit=limit,
                                 state=choice_arg("state", MATCH_STATES),
                                 reason=choice_arg("reason", REASONS))
    return page_body(page, schemas.MatchOut(many=True).dump(page.items))


@bp.patch("/<int:trademark_id>/matches/<int:match_id>")
@doc(summary="Dismiss a match, watch it, or act on it", tags=_TAGS, body=schemas.MatchStateIn,
     response=schemas.MatchOut)
@require_scope("trademarks:write")
@transactional
def set_match_state(trademark_id: int, match_id: int):
    data = schemas.MatchStateIn().load_or_raise(json_body())
    match = services.set_match_state(reseller_id=current_reseller_id(),
                                     trademark_id=trademark_id, match_id=match_id, **data)
    return schemas.MatchOut().dump(match)
