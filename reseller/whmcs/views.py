"""``POST /whmcs/v1/<Function>``: what the Tunnus WHMCS registrar module calls.

Bodies are JSON or form-encoded (PHP-style nested keys such as
``contactdetails[Registrant][First Name]``); the caller authenticates with an OAuth2
client-credentials bearer token. Answers are JSON: the function's result, or
``{"error": message, "code": code}`` with a 4xx status.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request
from flask_babel import lazy_gettext as _l

from reseller.core.db import unit_of_work
from reseller.core.errors import (
    DomainError,
    InsufficientScope,
    ValidationFailed,
    translate_messages,
)
from reseller.core.web.auth import current_principal
from reseller.core.web.helpers import reject_nul_characters
from reseller.core.web.responses import no_store
from reseller.dns import services as dns
from reseller.whmcs import contacts, functions, lookup, zone  # noqa: F401  (register functions)
from reseller.whmcs.base import FUNCTIONS, NOT_SUPPORTED, FunctionNotSupported, UnknownFunction
from reseller.whmcs.params import nest

bp = Blueprint("whmcs", __name__, url_prefix="/whmcs/v1")
# Module settings WHMCS mixes into params; never needed (nor kept) here.
_DROP = {"ApiUrl", "ClientId", "ClientSecret", "TestMode", "original"}
SECRET_FUNCTIONS = {"GetEPPCode"}  # answers carry a secret: never cached


def _params() -> dict[str, Any]:
    if request.is_json:
        data = request.get_json(silent=True)
        if not isinstance(data, dict):
            raise ValidationFailed({"_schema": [_l("Send a JSON object.")]})
        return {k: v for k, v in data.items() if k not in _DROP}
    return {k: v for k, v in nest(request.form).items() if k not in _DROP}


def _key() -> str | None:
    """A caller's Idempotency-Key; WHMCS sends none, and each function then derives one
    from what identifies its request (``reseller.whmcs.keys``)."""
    given = request.headers.get("Idempotency-Key")
    return given[:200] if given else None


def _flat(errors: Any, prefix: str = "") -> list[str]:
    if isinstance(errors, dict):
        return [line for field, inner in errors.items()
                for line in _flat(inner, f"{prefix}.{field}" if prefix else str(field))]
    if isinstance(errors, list) and not any(isinstance(e, (dict, list)) for e in errors):
        return [f"{prefix}: {' '.join(map(str, errors))}" if prefix else " ".join(errors)]
    if isinstance(errors, list):
        return [line for index, inner in enumerate(errors)
                for line in _flat(inner, f"{prefix}.{index}")]
    return [f"{prefix}: {errors}" if prefix else str(errors)]


def _message(error: DomainError) -> str:
    errors = getattr(error, "errors", None)
    if errors:
        return "; ".join(_flat(translate_messages(errors)))
    return str(error.detail or error.title)


@bp.post("/<name>")
def call(name: str):
    try:
        reject_nul_characters()
        scope, func = FUNCTIONS.get(name) or (None, None)
        principal = current_principal()
        if name in NOT_SUPPORTED:
            raise FunctionNotSupported(NOT_SUPPORTED[name])
        if func is None:
            raise UnknownFunction(_l("Unknown function %(name)s.", name=name))
        if scope not in principal.scopes:
            raise InsufficientScope(_l("This needs the scope %(scope)s.", scope=scope))
        params = _params()
        with unit_of_work():
            result = func(principal.reseller_id, params, _key(),
                          dns_settings=dns.dns_settings(), scopes=principal.scopes)
    except DomainError as error:
        return jsonify({"error": _message(error), "code": error.code}), error.status, \
            error.headers()
    response = jsonify(result)
    return no_store(response) if name in SECRET_FUNCTIONS else response
