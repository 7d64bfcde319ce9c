"""``POST /api/v1/applications``: public, no token needed."""

from flask import Blueprint

from reseller.core.db import transactional
from reseller.core.web.helpers import json_body
from reseller.core.web.openapi import doc
from reseller.onboarding import schemas, services

bp = Blueprint("onboarding_api", __name__)


@bp.post("/applications")
@doc(summary="Apply to become a reseller (EU/EEA or UK companies; free)", tags=["Onboarding"],
     body=schemas.ApplicationIn, response=schemas.ApplicationOut, status=201, public=True)
@transactional
def apply():
    data = schemas.ApplicationIn().load_or_raise(json_body())
    application = services.submit_application(**data)
    return schemas.ApplicationOut().dump(application), 201
