"""``/api/v1/support``: the support plan (read, preview a change, change it) and tickets."""

from __future__ import annotations

from flask import Blueprint

from reseller.core.db import transactional
from reseller.core.permissions import Permission, can
from reseller.core.web.auth import current_principal, current_reseller_id, require_scope
from reseller.core.web.helpers import (
    choice_arg,
    choice_param,
    idempotency_key,
    json_body,
    list_args,
    page_body,
    page_of,
)
from reseller.core.web.openapi import doc
from reseller.support import present, schemas, services, settings
from reseller.support.errors import PlanChangeForbidden
from reseller.support.models import STATUSES

bp = Blueprint("support_api", __name__, url_prefix="/support")
_PLAN = ["Support plan"]
_TICKETS = ["Support tickets"]


def _author() -> services.Author:
    principal = current_principal()
    return present.api_author(principal.user_id, principal.kind)


# -- the plan --------------------------------------------------------------------------------

@bp.get("/plan")
@doc(summary="The current support plan, its next renewal and the plans on offer", tags=_PLAN,
     response=schemas.SubscriptionOut)
@require_scope("support:read")
def get_plan():
    return schemas.SubscriptionOut().dump(present.subscription(current_reseller_id()))


@bp.post("/plan/preview")
@doc(summary="What changing the plan would cost: credit, amount due, next renewal",
     tags=_PLAN, body=schemas.PlanIn, response=schemas.PreviewOut, errors=(404, 409),
     description="Nothing changes. Prorated to the day (Europe/Helsinki); the change "
                 "takes effect on the day it is made.")
@require_scope("support:read", "billing:read")
def preview_plan():
    data = schemas.PlanIn().load_or_raise(json_body())
    preview = services.preview_change(reseller_id=current_reseller_id(), **data)
    return schemas.PreviewOut().dump(present.preview(preview))


@bp.put("/plan")
@doc(summary="Change the support plan now (upgrade or downgrade)", tags=_PLAN,
     body=schemas.PlanIn, response=schemas.ChangeOut, errors=(402, 404, 409),
     description="Owner and billing users (and API clients with `billing:write`) only. "
                 "Send `Idempotency-Key`: a repeated request with the same key returns "
                 "the first change and charges nothing again. The difference is charged "
                 "through the wallet (prepaid funds or postpaid credit); a downgrade's "
                 "unused value is credited on the month's invoice.")
@require_scope("billing:write")
@transactional
def change_plan():
    principal = current_principal()
    if not can(principal.role, Permission.MANAGE_BILLING):
        raise PlanChangeForbidden()
    data = schemas.PlanIn().load_or_raise(json_body())
    change = services.change_plan(reseller_id=principal.reseller_id,
                                  idempotency_key=idempotency_key(),
                                  actor_role=principal.role,
                                  actor=present.actor_label(principal.user_id, principal.kind),
                                  **data)
    return schemas.ChangeOut().dump(present.change(change))


# -- tickets ---------------------------------------------------------------------------------

@bp.get("/tickets")
@doc(summary="Your tickets, newest first", tags=_TICKETS,
     response=page_of(schemas.TicketOut), query=[
         choice_param("status", STATUSES),
         {"name": "cursor", "required": False, "schema": {"type": "string"}},
         {"name": "limit", "required": False,
          "schema": {"type": "integer", "minimum": 1, "maximum": 200}}])
@require_scope("support:read")
def list_tickets():
    cursor, limit = list_args()
    page = services.tickets_page(reseller_id=current_reseller_id(), cursor=cursor,
                                 limit=limit, status=choice_arg("status", STATUSES))
    return page_body(page, schemas.TicketOut(many=True).dump(page.items))


@bp.post("/tickets")
@doc(summary="Open a ticket", tags=_TICKETS, body=schemas.TicketIn,
     response=schemas.TicketDetailOut, status=201, errors=(422,))
@require_scope("support:write")
@transactional
def open_ticket():
    data = schemas.TicketIn().load_or_raise(json_body())
    uploads = present.uploads(data.pop("attachments"))
    ticket = services.open_ticket(reseller_id=current_reseller_id(), author=_author(),
                                  uploads=uploads, settings=settings.current(), **data)
    return schemas.TicketDetailOut().dump(present.ticket_detail(ticket)), 201


@bp.get("/tickets/<int:ticket_id>")
@doc(summary="One ticket with its conversation and quotes", tags=_TICKETS,
     response=schemas.TicketDetailOut)
@require_scope("support:read")
def get_ticket(ticket_id: int):
    ticket = services.get_ticket(reseller_id=current_reseller_id(), ticket_id=ticket_id,
                                 with_messages=True)
    return schemas.TicketDetailOut().dump(present.ticket_detail(ticket))


@bp.get("/tickets/<int:ticket_id>/messages")
@doc(summary="A ticket's messages, oldest first", tags=_TICKETS,
     response=page_of(schemas.MessageOut), query=[
         {"name": "cursor", "required": False, "schema": {"type": "string"}},
         {"name": "limit", "required": False,
          "schema": {"type": "integer", "minimum": 1, "maximum": 200}}])
@require_scope("support:read")
def list_messages(ticket_id: int):
    cursor, limit = list_args()
    page = services.messages_page(reseller_id=current_reseller_id(), ticket_id=ticket_id,
                                  cursor=cursor, limit=limit)
    return page_body(page, schemas.MessageOut(many=True).dump(page.items))


@bp.post("/tickets/<int:ticket_id>/messages")
@doc(summary="Reply on a ticket (reopens it if it was waiting on you or solved)",
     tags=_TICKETS, body=schemas.MessageIn, response=schemas.MessageOut, status=201,
     errors=(409, 422))
@require_scope("support:write")
@transactional
def post_message(ticket_id: int):
    data = schemas.MessageIn().load_or_raise(json_body())
    ticket = services.get_ticket(reseller_id=current_reseller_id(), ticket_id=ticket_id)
    message = services.reply(ticket=ticket, author=_author(), body=data["body"],
                             uploads=present.uploads(data["attachments"]),
                             settings=settings.current())
    if data.get("status"):
        services.set_status(ticket=ticket, status=data["status"], by_staff=False,
                            settings=settings.current())
    return schemas.MessageOut().dump(message), 201


@bp.get("/tickets/<int:ticket_id>/attachments/<int:attachment_id>")
@doc(summary="Download an attachment", tags=_TICKETS, content_type="application/octet-stream")
@require_scope("support:read")
def get_attachment(ticket_id: int, attachment_id: int):
    found = services.get_attachment(reseller_id=current_reseller_id(), ticket_id=ticket_id,
                                    attachment_id=attachment_id)
    return present.download(found)


@bp.post("/tickets/<int:ticket_id>/quotes/<int:quote_id>/decision")
@doc(summary="Accept or decline a quote for work beyond the included hours", tags=_TICKETS,
     body=schemas.QuoteDecisionIn, response=schemas.QuoteOut, errors=(402, 409),
     description="Accepting charges the quote (hours × the plan's hourly rate) through the "
                 "wallet now; it is a line on the month's invoice. Owner and billing only.")
@require_scope("support:write", "billing:write")
@transactional
def decide_quote(ticket_id: int, quote_id: int):
    principal = current_principal()
    if not can(principal.role, Permission.MANAGE_BILLING):
        raise PlanChangeForbidden()
    data = schemas.QuoteDecisionIn().load_or_raise(json_body())
    quote = services.decide_quote(reseller_id=principal.reseller_id, ticket_id=ticket_id,
                                  quote_id=quote_id, accept=data["accept"],
                                  actor=present.actor_label(principal.user_id, principal.kind))
    return schemas.QuoteOut().dump(quote)
