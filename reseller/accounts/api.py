"""``/api/v1/account``, ``/users``, ``/tokens`` and ``/oauth-clients``."""

from flask import Blueprint

from reseller.accounts import closure, schemas, services
from reseller.accounts.errors import PermissionDenied
from reseller.accounts.models import User
from reseller.core.db import transactional
from reseller.core.extensions import db
from reseller.core.web.auth import current_principal, current_reseller_id, require_scope
from reseller.core.web.helpers import json_body, list_args, page_body, page_of
from reseller.core.web.openapi import doc
from reseller.core.web.responses import secret_response

bp = Blueprint("accounts_api", __name__)


@bp.get("/account")
@doc(summary="The caller's reseller account", tags=["Account"], response=schemas.AccountOut)
@require_scope("account:read")
def account():
    return schemas.AccountOut().dump(services.get_reseller(current_reseller_id()))


@bp.post("/account/close")
@doc(summary="Close the account (usable to the end of the paid period; funds refunded)",
     tags=["Account"], body=schemas.CloseAccountIn, response=schemas.AccountOut,
     errors=(409,))
@require_scope("account:write")
@transactional
def close_account():
    data = schemas.CloseAccountIn().load_or_raise(json_body())
    principal = current_principal()
    reseller = closure.request_closure(reseller_id=principal.reseller_id,
                                       actor_role=principal.role,
                                       actor_user_id=principal.user_id, reason=data["reason"])
    return schemas.AccountOut().dump(reseller)


@bp.post("/account/reopen")
@doc(summary="Cancel a closure (until 14 days after deactivation)", tags=["Account"],
     response=schemas.AccountOut, errors=(409,))
@require_scope("account:write")
@transactional
def reopen_account():
    principal = current_principal()
    reseller = closure.reopen(reseller_id=principal.reseller_id, actor_role=principal.role)
    return schemas.AccountOut().dump(reseller)


@bp.get("/users")
@doc(summary="List the account's users", tags=["Users"], response=page_of(schemas.UserOut))
@require_scope("account:read")
def list_users():
    cursor, limit = list_args()
    page = services.users_page(reseller_id=current_reseller_id(), cursor=cursor, limit=limit)
    return page_body(page, schemas.UserOut(many=True).dump(page.items))


@bp.get("/users/<int:user_id>")
@doc(summary="One user", tags=["Users"], response=schemas.UserOut)
@require_scope("account:read")
def get_user(user_id: int):
    user = services.get_user(reseller_id=current_reseller_id(), user_id=user_id)
    return schemas.UserOut().dump(user)


@bp.post("/users")
@doc(summary="Invite a user (they set a password from the emailed link)", tags=["Users"],
     body=schemas.InviteUserIn, response=schemas.UserOut, status=201, errors=(409,))
@require_scope("account:write")
@transactional
def invite_user():
    data = schemas.InviteUserIn().load_or_raise(json_body())
    user = services.invite_user(reseller_id=current_reseller_id(),
                                actor_role=current_principal().role, **data)
    services.send_invitation(user)
    return schemas.UserOut().dump(user), 201


@bp.patch("/users/<int:user_id>")
@doc(summary="Change a user's role", tags=["Users"], body=schemas.ChangeUserIn,
     response=schemas.UserOut, errors=(409,))
@require_scope("account:write")
@transactional
def change_user(user_id: int):
    data = schemas.ChangeUserIn().load_or_raise(json_body())
    user = services.change_role(reseller_id=current_reseller_id(),
                                actor_role=current_principal().role, user_id=user_id, **data)
    return schemas.UserOut().dump(user)


@bp.delete("/users/<int:user_id>")
@doc(summary="Remove a user (their personal tokens are revoked)", tags=["Users"], status=204,
     errors=(409,))
@require_scope("account:write")
@transactional
def remove_user(user_id: int):
    services.remove_user(reseller_id=current_reseller_id(), actor_role=current_principal().role,
                         user_id=user_id)
    return "", 204


@bp.get("/tokens")
@doc(summary="List personal API tokens", tags=["Credentials"],
     response=page_of(schemas.TokenOut))
@require_scope("account:read")
def list_tokens():
    cursor, limit = list_args()
    page = services.personal_tokens_page(reseller_id=current_reseller_id(), cursor=cursor,
                                         limit=limit)
    return page_body(page, schemas.TokenOut(many=True).dump(page.items))


@bp.post("/tokens")
@doc(summary="Create a personal API token (shown once)", tags=["Credentials"],
     body=schemas.CreateTokenIn, response=schemas.TokenOut, status=201)
@require_scope("account:write")
@transactional
@secret_response
def create_token():
    data = schemas.CreateTokenIn().load_or_raise(json_body())
    principal = current_principal()
    if principal.user_id is None:
        raise PermissionDenied("Personal tokens belong to a user; use a user's token.")
    actor = db.session.get(User, principal.user_id)
    token, raw = services.create_personal_token(
        reseller_id=current_reseller_id(), actor=actor, name=data["name"],
        scopes=data["scopes"], days=data["expires_in_days"])
    body = schemas.TokenOut().dump(token)
    body["token"] = raw
    return body, 201


@bp.delete("/tokens/<int:token_id>")
@doc(summary="Revoke a personal API token", tags=["Credentials"], status=204)
@require_scope("account:write")
@transactional
def revoke_token(token_id: int):
    principal = current_principal()
    services.revoke_personal_token(reseller_id=current_reseller_id(),
                                   actor_user_id=principal.user_id, actor_role=principal.role,
                                   token_id=token_id)
    return "", 204


@bp.get("/oauth-clients")
@doc(summary="List OAuth2 clients", tags=["Credentials"], response=page_of(schemas.ClientOut))
@require_scope("account:read")
def list_clients():
    cursor, limit = list_args()
    page = services.oauth_clients_page(reseller_id=current_reseller_id(), cursor=cursor,
                                       limit=limit)
    return page_body(page, schemas.ClientOut(many=True).dump(page.items))


@bp.delete("/oauth-clients/<int:client_id>")
@doc(summary="Revoke an OAuth2 client and its tokens", tags=["Credentials"], status=204)
@require_scope("account:write")
@transactional
def revoke_client(client_id: int):
    services.revoke_oauth_client(reseller_id=current_reseller_id(),
                                 actor_role=current_principal().role, client_id=client_id)
    return "", 204

