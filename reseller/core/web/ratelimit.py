"""Per-tier API rate limits (flask-limiter), keyed per reseller, with IETF RateLimit headers.

One shared budget per reseller across every ``/api/v1``, ``/whmcs/v1`` and
``/acme/httpreq`` route, sized by its volume tier's ``rate_limit`` from ``RATE_LIMITS``
(standard 20,000/hour, plus and pro 60,000/hour, enterprise unlimited). Counters live in
Redis when ``REDIS_URL`` is set, in memory otherwise. Unauthenticated calls share a budget
per client address at the standard tier's size. RDAP, public, has a budget per address of
its own (``RDAP_RATE_LIMIT``). The kernel does not know the tiers: the catalogue hands
over the lookup of a reseller's rate-limit tier (``set_tier_lookup``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from flask import Flask, Response, current_app, request
from flask_limiter import Limiter
from flask_limiter.errors import RateLimitExceeded
from limits import parse_many

from reseller.core.config import DEFAULT_RATE_LIMITS
from reseller.core.errors import DomainError, problem_response, problem_type
from reseller.core.web.auth import current_principal

log = logging.getLogger(__name__)

UNLIMITED = "unlimited"
_TIER = "tunnus.rate_tier"
_TIER_LOOKUP = "tunnus.rate_tier_lookup"
RDAP_PREFIX = "/rdap/"
LIMITED_PREFIXES = ("/api/v1/", "/whmcs/v1/", "/acme/httpreq/", RDAP_PREFIX)


def set_tier_lookup(app: Flask, lookup: Callable[[int], str | None]) -> None:
    """``lookup(reseller_id)``: the reseller's rate-limit tier (None: "standard")."""
    app.extensions[_TIER_LOOKUP] = lookup


def _tier_of(reseller_id: int) -> str:
    lookup = current_app.extensions.get(_TIER_LOOKUP)
    return (lookup(reseller_id) if lookup is not None else None) or "standard"


def _caller() -> tuple[str, str]:
    """(counter key, tier) for this request, looked up once."""
    cached = request.environ.get(_TIER)
    if cached is None and request.path.startswith(RDAP_PREFIX):
        cached = request.environ[_TIER] = (f"rdap:{request.remote_addr}", "rdap")
    if cached is None:
        try:
            reseller_id = current_principal().reseller_id
        except DomainError:  # no or bad token: the view answers 401; count per address
            cached = (f"addr:{request.remote_addr}", "standard")
        else:
            cached = (f"reseller:{reseller_id}", _tier_of(reseller_id))
        request.environ[_TIER] = cached
    return cached


def _limits() -> dict[str, str]:
    return current_app.config.get("RATE_LIMITS") or DEFAULT_RATE_LIMITS


def _limit_for_tier() -> str:
    """The caller's tier limit; "" (no limit at all) for an unlimited tier."""
    tier = _caller()[1]
    if tier == "rdap":
        return current_app.config["RDAP_RATE_LIMIT"]
    limits = _limits()
    limit = limits.get(tier, limits.get("standard", DEFAULT_RATE_LIMITS["standard"]))
    return "" if limit == UNLIMITED else limit


def _exempt() -> bool:
    if not request.path.startswith(LIMITED_PREFIXES) or \
            not current_app.config.get("RATELIMIT_ENABLED", True):
        return True
    return _limit_for_tier() == ""


def _key() -> str:
    return _caller()[0]


def _add_headers(response: Response) -> Response:
    limiter: Limiter | None = current_app.extensions.get("tunnus.limiter")
    current = limiter.current_limit if limiter is not None else None
    if current is None:
        return response
    try:
        # flask-limiter reads the window from its storage (Redis) only now, after the
        # view: Redis gone since the check must not turn a committed answer into a 500
        # (the fault suite's Redis outage did). The headers are advice; leave them out.
        reset = max(0, int(current.reset_at - time.time()))
        remaining = current.remaining
    except Exception:  # any storage error: redis-py's, or limits' own
        log.warning("rate-limit headers left out: the limiter's storage is unavailable",
                    exc_info=True)
        return response
    window = current.limit.get_expiry()
    response.headers["RateLimit-Limit"] = str(current.limit.amount)
    response.headers["RateLimit-Remaining"] = str(max(0, remaining))
    response.headers["RateLimit-Reset"] = str(reset)
    response.headers["RateLimit-Policy"] = f"{current.limit.amount};w={window}"
    if response.status_code == 429:
        response.headers["Retry-After"] = str(max(1, reset))
    return response


def _too_many(error: RateLimitExceeded) -> Response:
    problem = {
        "type": problem_type("rate_limited"),
        "title": "Rate limit exceeded",
        "status": 429,
        "detail": f"Your plan allows {error.description}. Wait for Retry-After seconds.",
        "code": "rate_limited",
    }
    if request.path.startswith(RDAP_PREFIX):  # RFC 9083 §6 error fields for RDAP clients
        problem["detail"] = f"RDAP allows {error.description} per address."
        problem.update(errorCode=429, description=[problem["detail"]])
    return problem_response(problem)


def init_app(app: Flask) -> None:
    app.config.setdefault("RATE_LIMITS", dict(DEFAULT_RATE_LIMITS))
    storage = app.config.get("RATELIMIT_STORAGE_URI") or app.config.get("REDIS_URL") or "memory://"
    limiter = Limiter(
        key_func=_key,
        application_limits=[_limit_for_tier],
        application_limits_exempt_when=_exempt,
        headers_enabled=False,
        storage_uri=storage,
        strategy="fixed-window",
        key_prefix="tunnus-rl",
        swallow_errors=not app.config.get("TESTING", False),
    )
    limiter.init_app(app)
    app.extensions["tunnus.limiter"] = limiter
    app.after_request(_add_headers)
    app.register_error_handler(RateLimitExceeded, _too_many)
    app.jinja_env.globals["api_usage"] = api_usage  # the billing page's API rows


@dataclass(frozen=True)
class ApiUsage:
    """A reseller's calls in the current rate-limit window (``limit`` None: unlimited)."""

    used: int
    limit: int | None
    resets_at: datetime | None
    window_seconds: int | None
    tier: str = "standard"  # the rate-limit tier (a key of RATE_LIMITS)


def api_usage(reseller_id: int) -> ApiUsage:
    """How much of its API budget ``reseller_id`` has used in flask-limiter's current
    window: the same counter (key ``tunnus-rl/reseller:<id>/global``) the limiter hits."""
    limits = _limits()
    tier = _tier_of(reseller_id)
    text = limits.get(tier, limits.get("standard", DEFAULT_RATE_LIMITS["standard"]))
    limiter: Limiter | None = current_app.extensions.get("tunnus.limiter")
    if text == UNLIMITED or not text or limiter is None:
        return ApiUsage(used=0, limit=None, resets_at=None, window_seconds=None, tier=tier)
    item = parse_many(text)[0]
    try:
        stats = limiter.limiter.get_window_stats(item, "tunnus-rl", f"reseller:{reseller_id}",
                                                 "global")
    except Exception:  # noqa: BLE001 (counter store unreachable: show the limit, not a 500)
        return ApiUsage(used=0, limit=item.amount, resets_at=None,
                        window_seconds=item.get_expiry(), tier=tier)
    used = max(0, item.amount - stats.remaining)
    resets = datetime.fromtimestamp(stats.reset_time, tz=UTC) if used else None
    return ApiUsage(used=used, limit=item.amount, resets_at=resets,
                    window_seconds=item.get_expiry(), tier=tier)
