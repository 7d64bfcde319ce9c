"""``POST /whmcs/v1/<Function>``: what the Tunnus WHMCS registrar module calls.

Bodies are JSON or form-encoded (PHP-style nested keys such as
``contactdetails[Registrant][First Name]``); the caller authenticates with an OAuth2
client-credentials bearer token. Answers are JSON: the function's result, or
``{"error": message, "code": code}`` with a 4xx status.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from flask import Blueprint, jsonify, request
from flask_babel import lazy_gettext as _l

from reseller.core.clock import clock
from reseller.core.db import unit_of_work
from reseller.core.errors import DomainError, InsufficientScope, translate_messages
from reseller.core.web.auth import current_principal
from reseller.core.web.helpers import reject_nul_characters
from reseller.core.web.responses import no_store
from reseller.dns import services as dns
from reseller.whmcs import functions
from reseller.whmcs.params import nest

bp = Blueprint("whmcs", __name__, url_prefix="/whmcs/v1")
# Module settings WHMCS mixes into params; never needed (nor kept) here.
_DROP = {"ApiUrl", "ClientId", "ClientSecret", "TestMode", "original"}
SECRET_FUNCTIONS = {"GetEPPCode"}  # answers carry a secret: never cached


def _params() -> dict[str, Any]:
    if request.is_json:
        data = request.get_json(silent=True)
        if not isinstance(data, dict):
            raise functions.ValidationFailed({"_schema": [_l("Send a JSON object.")]})
        return {k: v for k, v in data.items() if k not in _DROP}
    return {k: v for k, v in nest(request.form).items() if k not in _DROP}


def _key(name: str, params: dict[str, Any]) -> str:
    """The Idempotency-Key header, else one derived from the call and the day: WHMCS
    retrying a call the same day never orders twice; next year's renewal is a new order."""
    given = request.headers.get("Idempotency-Key")
    if given:
        return given[:255]
    digest = hashlib.sha256(json.dumps([name, params], sort_keys=True, default=str).encode())
    return f"whmcs-{name}-{clock.today().isoformat()}-{digest.hexdigest()[:40]}"


def _message(error: DomainError) -> str:
    errors = getattr(error, "errors", None)
    if errors:
        flat = translate_messages(errors)
        return "; ".join(f"{field}: {' '.join(map(str, msgs)) if isinstance(msgs, list) else msgs}"
                         for field, msgs in flat.items())
    return str(error.detail or error.title)


@bp.post("/<name>")
def call(name: str):
    try:
        reject_nul_characters()
        scope, func = functions.FUNCTIONS.get(name) or (None, None)
        principal = current_principal()
        if func is None:
            raise functions.UnknownFunction(_l("Unknown function %(name)s.", name=name))
        if scope not in principal.scopes:
            raise InsufficientScope(_l("This needs the scope %(scope)s.", scope=scope))
        params = _params()
        with unit_of_work():
            result = func(principal.reseller_id, params, _key(name, params),
                          dns_settings=dns.dns_settings())
    except DomainError as error:
        return jsonify({"error": _message(error), "code": error.code}), error.status, \
            error.headers()
    response = jsonify(result)
    return no_store(response) if name in SECRET_FUNCTIONS else response
