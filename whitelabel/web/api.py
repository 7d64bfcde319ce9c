"""``/api/v1/whitelabel``: the brand and sender domain, and checking its DNS records."""

from flask import Blueprint

from reseller.core.db import transactional
from reseller.core.web.auth import current_reseller_id, require_scope
from reseller.core.web.helpers import json_body
from reseller.core.web.openapi import doc
from whitelabel.settings import current
from whitelabel.web import schemas, services

bp = Blueprint("branding_api", __name__)


@bp.get("/whitelabel")
@doc(summary="The brand, sender domain, DNS records to publish and their last check",
     tags=["White label"], response=schemas.WhitelabelOut)
@require_scope("whitelabel:read")
def get_whitelabel():
    return schemas.WhitelabelOut().dump(
        services.overview(reseller_id=current_reseller_id(), settings=current()))


@bp.put("/whitelabel")
@doc(summary="Change the brand and/or the sender domain (fields left out keep their value)",
     tags=["White label"], body=schemas.BrandIn, response=schemas.WhitelabelOut,
     errors=(409,), description="A new `sender_domain` gets a fresh DKIM key and starts "
     "unverified; `null` removes it. Mail uses the domain once `verify` passes.")
@require_scope("whitelabel:write")
@transactional
def put_whitelabel():
    data = schemas.BrandIn().load_or_raise(json_body())
    services.save(reseller_id=current_reseller_id(), data=data)
    return schemas.WhitelabelOut().dump(
        services.overview(reseller_id=current_reseller_id(), settings=current()))


@bp.post("/whitelabel/verify")
@doc(summary="Check the sender domain's DNS records now", tags=["White label"],
     response=schemas.VerifyOut, errors=(409,),
     description="Each record is reported ok, or what is wrong with it. All required "
     "records passing verifies the domain; a verified domain that fails is paused.")
@require_scope("whitelabel:write")
@transactional
def verify():
    return schemas.VerifyOut().dump(
        services.verify(reseller_id=current_reseller_id(), settings=current()))
