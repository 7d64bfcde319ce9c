"""What every WHMCS function shares: the function table, reading WHMCS's common
parameters (``sld``/``tld``, ``regperiod``, flags) and the refusals of the endpoint."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask_babel import lazy_gettext as _l

from reseller.core.errors import DomainError, ValidationFailed

FUNCTIONS: dict[str, tuple[str, Callable[..., Any]]] = {}
# WHMCS registrar functions Tunnus does not honour, and why (the module leaves them out,
# which WHMCS reports as "Registrar Function Not Supported"; the endpoint says why).
NOT_SUPPORTED = {
    "GetEmailForwarding": _l("Email forwarding is not offered; use your mail service's "
                             "forwarding and point the MX records at it."),
    "SaveEmailForwarding": _l("Email forwarding is not offered; use your mail service's "
                              "forwarding and point the MX records at it."),
    "ReleaseDomain": _l("Releasing a domain to another registrar's tag is a .uk procedure, "
                        "and .uk is not offered. Give the customer the EPP code instead."),
    "GetURLForwarding": _l("URL forwarding is managed as URL records in DNS management."),
    "SaveURLForwarding": _l("URL forwarding is managed as URL records in DNS management."),
}


class UnknownFunction(DomainError):
    status = 404
    code = "unknown_function"
    title = _l("This WHMCS function is not provided")


class FunctionNotSupported(DomainError):
    status = 404
    code = "not_supported"
    title = _l("Registrar function not supported")


def function(name: str, scope: str) -> Callable:
    """Register ``func`` as the WHMCS function ``name``, callable with ``scope``."""
    def register(func: Callable[..., Any]) -> Callable[..., Any]:
        FUNCTIONS[name] = (scope, func)
        return func

    return register


def domain_name(params: dict[str, Any]) -> str:
    """The domain WHMCS means: ``sld`` + ``tld`` (either form), else ``domainname``."""
    sld, tld = str(params.get("sld") or "").strip(), str(params.get("tld") or "").strip(". ")
    if sld and tld:
        return f"{sld}.{tld}"
    if params.get("domainname") or params.get("domain"):
        return str(params.get("domainname") or params.get("domain")).strip()
    raise ValidationFailed({"sld": [_l("Give sld and tld (or domainname).")]})


def flag(value: Any) -> bool:
    """WHMCS's booleans arrive as ``1``/``on``/``true``/``locked`` or empty."""
    return str(value).strip().lower() in {"1", "true", "on", "yes", "locked"}


def period(params: dict[str, Any]) -> int:
    try:
        return int(params.get("regperiod") or 1)
    except (TypeError, ValueError):
        raise ValidationFailed({"regperiod": [_l("Give the period in whole years.")]}) from None
