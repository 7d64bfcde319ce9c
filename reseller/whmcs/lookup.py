"""WHMCS's domain lookup and TLD sync: ``CheckAvailability`` and ``GetDomainSuggestions``
(one result per TLD, each with its own status, premium names with their register and
renew cost, names in the form WHMCS sent them) and ``GetTLDPricing`` (the reseller's
cost prices with each TLD's periods, grace and redemption terms)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l

from reseller.catalog import services as catalog
from reseller.catalog.models import TLDS
from reseller.core.errors import DomainError, ValidationFailed
from reseller.domains import services as domains
from reseller.whmcs.base import function

MAX_NAMES = 50  # one registry check
SUFFIXES = ("online", "shop", "group", "web", "app")
PREFIXES = ("my", "get", "the")


def _search(params: dict[str, Any]) -> tuple[str, list[str]]:
    term = str(params.get("searchTerm") or params.get("sld") or "").strip()
    tlds = params.get("tldsToInclude") or ([params["tld"]] if params.get("tld") else [])
    if isinstance(tlds, str):
        tlds = [tlds]
    if isinstance(tlds, dict):
        tlds = list(tlds.values())
    if not term or not isinstance(tlds, list) or not tlds:
        raise ValidationFailed({"searchTerm": [_l("Give searchTerm and tldsToInclude.")]})
    return term, [str(tld).strip() for tld in tlds if str(tld).strip()][:MAX_NAMES]


def _dotted(tld: str) -> str:
    return "." + tld.lstrip(".")


def check_names(reseller_id: int, wanted: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """One result per (sld, tld) as given: ``tld_not_supported`` for a TLD we do not
    offer, ``unknown`` for a name its TLD cannot take, else what the registry says."""
    rows, by_name = [], {}
    for sld, tld in wanted:
        row: dict[str, Any] = {"sld": sld, "tld": _dotted(tld), "premium": False}
        rows.append(row)
        bare = tld.lstrip(".").lower()
        if bare not in TLDS:
            row["status"] = "tld_not_supported"
            continue
        try:
            by_name.setdefault(domains.ascii_name(f"{sld}.{bare}"), []).append(row)
        except DomainError as error:
            row["status"], row["reason"] = "unknown", str(error.detail or error.title)
    if by_name:
        for result in domains.check_availability(reseller_id=reseller_id,
                                                 names_text=list(by_name)):
            for row in by_name[result["name"]]:
                _fill(reseller_id, row, result)
    return rows


def _fill(reseller_id: int, row: dict[str, Any], result: dict[str, Any]) -> None:
    if result["available"]:
        row["status"] = "available"
    else:
        row["status"] = "reserved" if result["reason"] == "reserved" else "registered"
    if result["premium"] and result["available"]:
        # WHMCS's cost prices (our net EUR): it adds its premium markup and passes the
        # register or renew cost back as premiumCost, the most that order may charge.
        row.update(premium=True, register_price=result["price"]["net"],
                   renew_price=_premium_renewal(reseller_id, result),
                   currency=result["price"]["currency"])


def _premium_renewal(reseller_id: int, result: dict[str, Any]) -> str:
    """A premium name's one-year renewal (net EUR): the registry's yearly premium price,
    which the one-year registration quote carries."""
    tld = result["name"].rsplit(".", 1)[-1]
    quote = catalog.quote(reseller_id=reseller_id, tld=tld, operation="renew", years=1,
                          premium_fee=Decimal(result["price"]["net"]))
    return f"{quote.net:.2f}"


@function("CheckAvailability", "domains:read")
def check_availability(reseller_id: int, params: dict[str, Any], key: str | None,
                       **ctx: Any) -> dict[str, Any]:
    term, tlds = _search(params)
    return {"results": check_names(reseller_id, [(term, tld) for tld in tlds])}


def _candidates(term: str, tlds: list[str]) -> list[tuple[str, str, float]]:
    """Names like ``term`` on each TLD, most alike first (score 1.0 = the term itself)."""
    label = term.split(".")[0].strip().lower()
    variants = [(label, 0.9)]
    variants += [(f"{label}{word}", 0.8) for word in SUFFIXES]
    variants += [(f"{word}{label}", 0.7) for word in PREFIXES]
    variants += [(f"{label}-{word}", 0.6) for word in SUFFIXES]
    found = [(sld, tld, score) for sld, score in variants for tld in tlds]
    return found[:MAX_NAMES]


@function("GetDomainSuggestions", "domains:read")
def get_domain_suggestions(reseller_id: int, params: dict[str, Any], key: str | None,
                           **ctx: Any) -> dict[str, Any]:
    """Available names like the search term on the requested TLDs we offer."""
    term, tlds = _search(params)
    offered = [tld for tld in tlds if tld.lstrip(".").lower() in TLDS]
    candidates = _candidates(term, offered)
    rows = check_names(reseller_id, [(sld, tld) for sld, tld, _score in candidates])
    suggestions = []
    for row, (_sld, _tld, score) in zip(rows, candidates, strict=True):
        if row["status"] == "available":
            suggestions.append({**row, "score": score})
    return {"results": suggestions}


@function("GetTLDPricing", "domains:read")
def get_tld_pricing(reseller_id: int, params: dict[str, Any], key: str | None,
                    **ctx: Any) -> dict[str, Any]:
    """Each TLD's cost prices for its shortest period (what ``ImportItem`` takes), its
    periods, its grace days (renewal at the normal price: no grace fee) and redemption
    (the restore price where the registry restores)."""
    wanted = [(tld, operation, years) for tld, rules in TLDS.items()
              for operation, years in (("register", rules.min_period),
                                       ("renew", rules.min_period), ("transfer", 1),
                                       ("restore", 1))]
    quotes = catalog.quote_table(reseller_id=reseller_id, wanted=wanted)

    def price(tld: str, operation: str, years: int) -> str | None:
        quote = quotes.get((tld, operation, years))
        return None if quote is None else f"{quote.net:.2f}"

    pricing = []
    for tld, rules in sorted(TLDS.items()):
        register = price(tld, "register", rules.min_period)
        if register is None:
            continue  # not on this reseller's price list
        redemption = rules.redemption_days and rules.restore
        pricing.append({
            "extension": _dotted(tld), "min_years": rules.min_period,
            "max_years": rules.max_period, "years_step": 1, "register": register,
            "renew": price(tld, "renew", rules.min_period),
            "transfer": price(tld, "transfer", 1),
            "grace_days": rules.grace_days, "grace_fee": "0.00" if rules.grace_days else None,
            "redemption_days": rules.redemption_days if redemption else None,
            "redemption_fee": price(tld, "restore", 1) if redemption else None,
            "currency": "EUR", "epp_required": rules.auth_code_for_transfer})
    return {"pricing": pricing}
