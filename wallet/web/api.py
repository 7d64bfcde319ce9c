"""``/api/v1/wallet``: balances, transactions, top-ups and withdrawals."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, current_app, request, url_for

from reseller.core.db import transactional
from reseller.core.errors import ValidationFailed
from reseller.core.pagination import BIGINT_MAX, decode_position, encode_cursor, parse_limit
from reseller.core.web.auth import current_principal, current_reseller_id, require_scope
from reseller.core.web.helpers import choice_args, choice_param, idempotency_key, json_body
from reseller.core.web.openapi import doc
from wallet import credit, ledger, reports, services, topups, withdrawals
from wallet.errors import NoCardOnFile
from wallet.money import Money
from wallet.payments import provider_for
from wallet.web import cards as card_pages
from wallet.web import present, schemas

bp = Blueprint("wallet_api", __name__, url_prefix="/wallet")

_PAGE = [
    {"name": "cursor", "required": False, "schema": {"type": "string"},
     "description": "The `next` cursor of the previous page"},
    {"name": "limit", "required": False,
     "schema": {"type": "integer", "minimum": 1, "maximum": 200, "default": 50}},
]
_FILTERS = [
    choice_param("kind", ledger.TRANSFER_KINDS, many=True,
                 description="Only these kinds (repeatable)"),
    {"name": "since", "required": False, "schema": {"type": "string", "format": "date-time"}},
    {"name": "until", "required": False, "schema": {"type": "string", "format": "date-time"}},
]


def _actor() -> str:
    principal = current_principal()
    return f"user:{principal.user_id}" if principal.user_id else f"token:{principal.token_id}"


def _cursor() -> int | None:
    raw = request.args.get("cursor")
    if not raw:
        return None
    return decode_position(raw, maximum=BIGINT_MAX)  # wallet ids are BIGINT


def _next(after: int | None) -> str | None:
    if after is None:
        return None
    args = {**request.args.to_dict(flat=False), "cursor": encode_cursor(after)}
    return url_for(request.endpoint, **args, _external=True)


def _moment(name: str) -> datetime | None:
    raw = request.args.get(name)
    if not raw:
        return None
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError as error:
        raise ValidationFailed({name: ["Use an ISO 8601 date-time."]}) from error
    if moment.tzinfo is None:
        raise ValidationFailed({name: ["Include a time zone, e.g. 2026-01-01T00:00:00Z."]})
    return moment


@bp.get("")
@doc(summary="Wallet balances", tags=["Wallet"], response=schemas.WalletOut)
@require_scope("billing:read")
@transactional
def show():
    wallet = services.get_wallet(reseller_id=current_reseller_id())
    return schemas.WalletOut().dump(present.wallet_dict(wallet))


@bp.put("/settings")
@doc(summary="Set the low-balance threshold", tags=["Wallet"], body=schemas.WalletSettingsIn,
     response=schemas.WalletOut, errors=(422,),
     description="A `wallet.low_balance` event fires when available drops below it.")
@require_scope("billing:write")
@transactional
def settings():
    data = schemas.WalletSettingsIn().load_or_raise(json_body())
    threshold = data["low_balance_threshold"]
    wallet = credit.set_low_balance_threshold(
        reseller_id=current_reseller_id(), actor=_actor(),
        threshold=None if threshold is None else Money.of(threshold))
    return schemas.WalletOut().dump(present.wallet_dict(wallet))


@bp.get("/transactions")
@doc(summary="Ledger transactions (newest first)", tags=["Wallet"],
     response=schemas.TransactionPageOut, query=_PAGE + _FILTERS)
@require_scope("billing:read")
@transactional
def transactions():
    rows, after = reports.transactions(
        reseller_id=current_reseller_id(), before_id=_cursor(),
        limit=parse_limit(request.args.get("limit")),
        kinds=choice_args("kind", ledger.TRANSFER_KINDS) or None,
        since=_moment("since"), until=_moment("until"))
    return schemas.TransactionPageOut().dump({"items": [row.__dict__ for row in rows],
                                              "next": _next(after)})


@bp.post("/topups")
@doc(summary="Start a top-up", tags=["Wallet"], body=schemas.TopUpIn, response=schemas.TopUpOut,
     status=201, errors=(422,),
     description="Returns the surcharge and total to pay, and a `checkout_url` (card, "
                 "PayPal, online banking) or bank-transfer instructions with the reseller's "
                 "permanent reference number. Funds are credited when the payment arrives.")
@require_scope("billing:write")
@transactional
def create_topup():
    data = schemas.TopUpIn().load_or_raise(json_body())
    rid = current_reseller_id()
    config = current_app.config
    topup = topups.create_topup(
        reseller_id=rid, amount=Money.of(data["amount"]), method=data["method"],
        idempotency_key=idempotency_key(), surcharges=config["PAYMENT_SURCHARGES"],
        provider=provider_for(data["method"], config))
    wallet = services.get_wallet(reseller_id=rid)
    return schemas.TopUpOut().dump(present.topup_dict(topup, wallet)), 201, {
        "Location": url_for("api.wallet_api.show_topup", topup_id=topup.id)}


@bp.get("/topups")
@doc(summary="Recent top-ups", tags=["Wallet"], response=schemas.TopUpPageOut, query=_PAGE)
@require_scope("billing:read")
@transactional
def list_topups():
    rid = current_reseller_id()
    wallet = services.get_wallet(reseller_id=rid)
    limit = parse_limit(request.args.get("limit"))
    items = topups.list_topups(reseller_id=rid, before_id=_cursor(), limit=limit + 1)
    more = len(items) > limit
    items = items[:limit]
    return schemas.TopUpPageOut().dump({
        "items": [present.topup_dict(t, wallet) for t in items],
        "next": _next(items[-1].id if more and items else None)})


@bp.get("/topups/<int:topup_id>")
@doc(summary="One top-up", tags=["Wallet"], response=schemas.TopUpOut)
@require_scope("billing:read")
@transactional
def show_topup(topup_id: int):
    rid = current_reseller_id()
    topup = topups.get_topup(reseller_id=rid, topup_id=topup_id)
    return schemas.TopUpOut().dump(present.topup_dict(topup, services.get_wallet(reseller_id=rid)))


@bp.post("/withdrawals")
@doc(summary="Request a withdrawal of unused prepaid funds", tags=["Wallet"],
     body=schemas.WithdrawalIn, response=schemas.WithdrawalOut, status=201, errors=(402, 409, 422),
     description="The amount is held until the operator approves (then paid out) or the "
                 "request is cancelled. Prepaid wallets only; at most the available funds.")
@require_scope("billing:write")
@transactional
def request_withdrawal():
    data = schemas.WithdrawalIn().load_or_raise(json_body())
    withdrawal = withdrawals.request_withdrawal(
        reseller_id=current_reseller_id(), amount=Money.of(data["amount"]),
        idempotency_key=idempotency_key(), requested_by=_actor())
    return schemas.WithdrawalOut().dump(withdrawal), 201, {
        "Location": url_for("api.wallet_api.show_withdrawal", withdrawal_id=withdrawal.id)}


@bp.get("/withdrawals")
@doc(summary="Withdrawals (newest first)", tags=["Wallet"], response=schemas.WithdrawalPageOut,
     query=_PAGE)
@require_scope("billing:read")
@transactional
def list_withdrawals():
    limit = parse_limit(request.args.get("limit"))
    items = withdrawals.list_withdrawals(reseller_id=current_reseller_id(),
                                         before_id=_cursor(), limit=limit + 1)
    more = len(items) > limit
    items = items[:limit]
    return schemas.WithdrawalPageOut().dump(
        {"items": items, "next": _next(items[-1].id if more and items else None)})


@bp.get("/withdrawals/<int:withdrawal_id>")
@doc(summary="One withdrawal", tags=["Wallet"], response=schemas.WithdrawalOut)
@require_scope("billing:read")
@transactional
def show_withdrawal(withdrawal_id: int):
    return schemas.WithdrawalOut().dump(withdrawals.get_withdrawal(
        withdrawal_id=withdrawal_id, reseller_id=current_reseller_id()))


@bp.post("/withdrawals/<int:withdrawal_id>/cancel")
@doc(summary="Cancel a withdrawal not yet approved", tags=["Wallet"],
     response=schemas.WithdrawalOut, errors=(409,))
@require_scope("billing:write")
@transactional
def cancel_withdrawal(withdrawal_id: int):
    return schemas.WithdrawalOut().dump(withdrawals.cancel_withdrawal(
        withdrawal_id=withdrawal_id, reseller_id=current_reseller_id(), actor=_actor()))


@bp.get("/card")
@doc(summary="The card on file and its next charge", tags=["Wallet"],
     response=schemas.CardOut, errors=(404,),
     description="404 `no_card_on_file` when there is none. Open invoices are charged to the "
                 "card on their due date, once a day until paid.")
@require_scope("billing:read")
@transactional
def show_card():
    found = card_pages.summary(current_reseller_id())
    if found is None:
        raise NoCardOnFile()
    return schemas.CardOut().dump(found)


@bp.post("/card")
@doc(summary="Start saving a card, or replacing the one on file", tags=["Wallet"],
     response=schemas.CardSetupOut, status=201,
     description="Returns `setup_url`, the payment provider's page where the card is "
                 "entered. The card is on file once the provider confirms; the card it "
                 "replaces is then deleted at the provider.")
@require_scope("billing:write")
@transactional
def add_card():
    return schemas.CardSetupOut().dump(
        {"setup_url": card_pages.begin_setup(current_reseller_id())}), 201


@bp.delete("/card")
@doc(summary="Remove the card on file (it is deleted at the payment provider)",
     tags=["Wallet"], status=204, errors=(404,))
@require_scope("billing:write")
@transactional
def remove_card():
    card_pages.retire(current_reseller_id())
    return "", 204
