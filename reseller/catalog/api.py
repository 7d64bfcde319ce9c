"""``/api/v1/tlds`` (rules and the caller's prices) and ``/api/v1/retail-prices``."""

from __future__ import annotations

from flask import Blueprint

from reseller.catalog import schemas, services
from reseller.core.db import transactional
from reseller.core.web.auth import current_reseller_id, require_scope
from reseller.core.web.helpers import json_body
from reseller.core.web.openapi import doc

bp = Blueprint("catalog_api", __name__)


@bp.get("/tlds")
@doc(summary="TLDs with their rules, the caller's prices and its retail prices",
     tags=["Catalogue"], response=schemas.TldListOut)
@require_scope("domains:read")
def list_tlds():
    items = services.catalogue_for(reseller_id=current_reseller_id())
    return schemas.TldListOut().dump({"tlds": items})


@bp.put("/retail-prices")
@doc(summary="Set retail prices: a markup rule and/or fixed prices per TLD and operation",
     tags=["Catalogue"], body=schemas.RetailPricesIn, response=schemas.TldListOut)
@require_scope("domains:write")
@transactional
def put_retail_prices():
    data = schemas.RetailPricesIn().load_or_raise(json_body())
    services.set_retail_prices(reseller_id=current_reseller_id(), **data)
    return schemas.TldListOut().dump(
        {"tlds": services.catalogue_for(reseller_id=current_reseller_id())})
