"""``/api/v1/webhooks``: endpoints, their delivery log, replay and test sends."""

from __future__ import annotations

from flask import Blueprint, current_app, request

from reseller.core.db import transactional
from reseller.core.web.auth import current_reseller_id, require_scope
from reseller.core.web.helpers import (
    InvalidFilter,
    choice_arg,
    choice_param,
    json_body,
    list_args,
    page_body,
    page_of,
)
from reseller.core.web.openapi import doc
from reseller.core.web.responses import secret_response
from reseller.webhooks import (
    schemas,
    services,
    tasks,  # noqa: F401  (registers the event listener)
)

bp = Blueprint("webhooks_api", __name__, url_prefix="/webhooks")
_TAGS = ["Webhooks"]
_STATUSES = ("pending", "succeeded", "failed")
_STATUS = [choice_param("status", _STATUSES)]


def _allow_private() -> bool:
    return bool(current_app.config["WEBHOOKS_ALLOW_PRIVATE"])


@bp.get("/endpoints")
@doc(summary="List webhook endpoints", tags=_TAGS, response=page_of(schemas.EndpointOut))
@require_scope("webhooks:read")
def list_endpoints():
    cursor, limit = list_args()
    page = services.endpoints_page(reseller_id=current_reseller_id(), cursor=cursor, limit=limit)
    return page_body(page, schemas.EndpointOut(many=True).dump(page.items))


@bp.post("/endpoints")
@doc(summary="Register an HTTPS endpoint and choose its events", tags=_TAGS,
     body=schemas.CreateEndpointIn, response=schemas.EndpointWithSecretOut, status=201,
     description="Deliveries are signed per Standard Webhooks with the returned `secret`. "
                 "URLs resolving to private, loopback or link-local addresses are refused.")
@require_scope("webhooks:write")
@transactional
@secret_response
def create_endpoint():
    data = schemas.CreateEndpointIn().load_or_raise(json_body())
    endpoint = services.create_endpoint(reseller_id=current_reseller_id(),
                                        allow_private=_allow_private(), **data)
    return schemas.EndpointWithSecretOut().dump(endpoint), 201


@bp.get("/endpoints/<int:endpoint_id>")
@doc(summary="One webhook endpoint, with its signing secret", tags=_TAGS,
     response=schemas.EndpointWithSecretOut)
@require_scope("webhooks:write")
@secret_response
def get_endpoint(endpoint_id: int):
    endpoint = services.get_endpoint(reseller_id=current_reseller_id(), endpoint_id=endpoint_id)
    return schemas.EndpointWithSecretOut().dump(endpoint)


@bp.patch("/endpoints/<int:endpoint_id>")
@doc(summary="Change an endpoint's URL, events or active flag", tags=_TAGS,
     body=schemas.UpdateEndpointIn, response=schemas.EndpointOut)
@require_scope("webhooks:write")
@transactional
def update_endpoint(endpoint_id: int):
    data = schemas.UpdateEndpointIn().load_or_raise(json_body())
    endpoint = services.update_endpoint(reseller_id=current_reseller_id(),
                                        endpoint_id=endpoint_id,
                                        allow_private=_allow_private(), **data)
    return schemas.EndpointOut().dump(endpoint)


@bp.delete("/endpoints/<int:endpoint_id>")
@doc(summary="Remove an endpoint (its delivery log stays)", tags=_TAGS, status=204)
@require_scope("webhooks:write")
@transactional
def delete_endpoint(endpoint_id: int):
    services.delete_endpoint(reseller_id=current_reseller_id(), endpoint_id=endpoint_id)
    return "", 204


@bp.post("/endpoints/<int:endpoint_id>/rotate-secret")
@doc(summary="Replace an endpoint's signing secret", tags=_TAGS,
     response=schemas.EndpointWithSecretOut)
@require_scope("webhooks:write")
@transactional
@secret_response
def rotate_secret(endpoint_id: int):
    endpoint = services.rotate_secret(reseller_id=current_reseller_id(), endpoint_id=endpoint_id)
    return schemas.EndpointWithSecretOut().dump(endpoint)


@bp.post("/endpoints/<int:endpoint_id>/test")
@doc(summary="Send a `webhook.test` message to an endpoint", tags=_TAGS,
     response=schemas.DeliveryOut, status=202)
@require_scope("webhooks:write")
@transactional
def send_test(endpoint_id: int):
    delivery = services.send_test(reseller_id=current_reseller_id(), endpoint_id=endpoint_id)
    return schemas.DeliveryOut().dump(delivery), 202


@bp.get("/deliveries")
@doc(summary="The delivery log, newest first", tags=_TAGS,
     response=page_of(schemas.DeliveryOut), query=[
         {"name": "endpoint_id", "required": False,
          "schema": {"type": "integer", "minimum": 0, "maximum": 2**31 - 1}}, *_STATUS,
         {"name": "cursor", "required": False, "schema": {"type": "string"}},
         {"name": "limit", "required": False,
          "schema": {"type": "integer", "minimum": 1, "maximum": 200}}],
     errors=(404,))
@require_scope("webhooks:read")
def list_deliveries():
    cursor, limit = list_args()
    endpoint_id = _optional_id(request.args.get("endpoint_id"))
    status = choice_arg("status", _STATUSES)
    page = services.deliveries_page(reseller_id=current_reseller_id(), endpoint_id=endpoint_id,
                                    cursor=cursor, limit=limit, status=status)
    return page_body(page, schemas.DeliveryOut(many=True).dump(page.items))


def _optional_id(raw: str | None) -> int | None:
    if raw in (None, ""):
        return None
    if not raw.isascii() or not raw.isdigit() or int(raw) > 2**31 - 1:
        raise InvalidFilter({"endpoint_id": ["Must be an endpoint id."]})
    return int(raw)


@bp.get("/deliveries/<int:delivery_id>")
@doc(summary="One delivery with its payload and every attempt", tags=_TAGS,
     response=schemas.DeliveryDetailOut)
@require_scope("webhooks:read")
def get_delivery(delivery_id: int):
    delivery = services.get_delivery(reseller_id=current_reseller_id(), delivery_id=delivery_id)
    return schemas.DeliveryDetailOut().dump(delivery)


@bp.post("/deliveries/<int:delivery_id>/replay")
@doc(summary="Send a delivery's message again (a new delivery)", tags=_TAGS,
     response=schemas.DeliveryOut, status=202)
@require_scope("webhooks:write")
@transactional
def replay_delivery(delivery_id: int):
    delivery = services.replay_delivery(reseller_id=current_reseller_id(),
                                        delivery_id=delivery_id)
    return schemas.DeliveryOut().dump(delivery), 202
