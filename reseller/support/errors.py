"""Refusals raised by the support package (each with an HTTP status and a stable code)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from reseller.core.errors import Conflict, DomainError, Forbidden, NotFound


class PlanNotFound(NotFound):
    code = "support_plan_not_found"
    title = _l("No such support plan")


class PlanNeedsQuote(Conflict):
    code = "support_plan_needs_quote"
    title = _l("This plan is priced by quote: ask us for one first")


class PlanUnchanged(Conflict):
    code = "support_plan_unchanged"
    title = _l("That is already your plan and cycle")


class PlanPriceMissing(Conflict):
    code = "support_plan_price_missing"
    title = _l("The plan has no price for that cycle yet")


class PlanChangeForbidden(Forbidden):
    code = "support_plan_forbidden"
    title = _l("Only the owner and users with billing permission can change the plan")


class TicketNotFound(NotFound):
    code = "ticket_not_found"
    title = _l("No such ticket in this account")


class TicketClosed(Conflict):
    code = "ticket_closed"
    title = _l("The ticket is closed; open a new one")


class InvalidTransition(Conflict):
    code = "ticket_invalid_status"
    title = _l("The ticket cannot move to that status")


class AttachmentRefused(DomainError):
    status = 422
    code = "attachment_refused"
    title = _l("The attachment is too large or of a type we do not accept")


class QuoteNotFound(NotFound):
    code = "support_quote_not_found"
    title = _l("No such quote on this ticket")


class QuoteNotOpen(Conflict):
    code = "support_quote_not_open"
    title = _l("The quote has already been decided")


class IncludedHoursUsed(Conflict):
    code = "support_included_hours_used"
    title = _l("The included hours are used up: the reseller must accept a quote first")


class MailRefused(DomainError):
    status = 422
    code = "mail_refused"
    title = _l("The message was refused")
