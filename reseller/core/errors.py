"""Domain errors and their rendering as RFC 9457 ``application/problem+json``.

Services raise a ``DomainError`` subclass; it carries the HTTP status, a stable ``code``
that clients can switch on, and optional extra members (e.g. ``available``/``needed``).
"""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, has_app_context, json
from flask_babel import lazy_gettext

from reseller.core.library_messages import translate_text
from reseller.core.logs import current_request_id

PROBLEM_MIME = "application/problem+json"


class DomainError(Exception):
    """A refused operation. Subclasses set ``status``, ``code`` and ``title``."""

    status = 400
    code = "bad_request"
    title: Any = lazy_gettext("Bad request")

    def __init__(self, detail: Any = None, **extra: Any) -> None:
        super().__init__(detail or self.title)
        self.detail = detail
        self.extra = extra

    def to_problem(self) -> dict[str, Any]:
        problem = {
            "type": problem_type(self.code),
            "title": str(self.title),
            "status": self.status,
            "detail": str(self.detail or self.title),
            "code": self.code,
        }
        problem.update(_plain(self.extra))
        return problem

    def headers(self) -> dict[str, str]:
        """HTTP headers the refusal carries (a challenge, a Retry-After)."""
        return {}


def problem_type(code: str) -> str:
    """RFC 9457 ``type``: a URI on the operator's own site (``PROBLEM_TYPE_BASE``, by
    default ``BASE_URL/problems/``) that documents the problem (``/problems/<slug>``);
    never the platform's name."""
    slug = code.replace("_", "-")
    if not has_app_context():
        return "about:blank"
    config = current_app.config
    return f"{config.get('PROBLEM_TYPE_BASE') or config['BASE_URL'] + '/problems/'}{slug}"


def problem_kinds() -> dict[str, type[DomainError]]:
    """Every refusal the code can raise, by ``code`` (for the problem documentation)."""
    found: dict[str, type[DomainError]] = {}
    todo = [DomainError]
    while todo:
        kind = todo.pop()
        found.setdefault(kind.code, kind)
        todo.extend(kind.__subclasses__())
    return found


class TemporarilyUnavailable(DomainError):
    """The database could not be reached or dropped the connection (a restart, a
    failover): nothing was done, the same request may be sent again (with the same
    Idempotency-Key) after ``Retry-After``."""

    status = 503
    code = "temporarily_unavailable"
    title = lazy_gettext("The service is briefly unavailable; try again shortly")

    def headers(self) -> dict[str, str]:
        return {"Retry-After": "2"}


class ValidationFailed(DomainError):
    status = 422
    code = "validation_failed"
    title = lazy_gettext("The request has invalid fields")

    def __init__(self, errors: dict[str, Any], detail: Any = None) -> None:
        super().__init__(detail or lazy_gettext("Correct the fields listed in errors."))
        self.errors = errors

    def to_problem(self) -> dict[str, Any]:
        problem = super().to_problem()
        problem["errors"] = translate_messages(self.errors)
        return problem


class Unauthorized(DomainError):
    """401 with the ``WWW-Authenticate`` challenge RFC 9110 §11.6.1 requires (by default
    the API's bearer scheme, RFC 6750 §3)."""

    status = 401
    code = "unauthorized"
    title = lazy_gettext("Authentication required")

    def __init__(self, detail: Any = None, *, challenge: str = 'Bearer realm="api"',
                 **extra: Any) -> None:
        super().__init__(detail, **extra)
        self.challenge = challenge

    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": self.challenge}


class Forbidden(DomainError):
    status = 403
    code = "forbidden"
    title = lazy_gettext("Not allowed")


class InsufficientScope(Forbidden):
    code = "insufficient_scope"
    title = lazy_gettext("The credential lacks a required scope")

    def __init__(self, detail: Any = None, *, challenge: str | None = None,
                 **extra: Any) -> None:
        super().__init__(detail, **extra)
        self.challenge = challenge

    def headers(self) -> dict[str, str]:
        # RFC 6750 §3.1: a 403 for a missing scope names the scope it needs.
        return {"WWW-Authenticate": self.challenge} if self.challenge else {}


class NotFound(DomainError):
    status = 404
    code = "not_found"
    title = lazy_gettext("Not found")


class Conflict(DomainError):
    status = 409
    code = "conflict"
    title = lazy_gettext("Conflict with the current state")


class TooManyAttempts(DomainError):
    status = 429
    code = "too_many_attempts"
    title = lazy_gettext("Too many attempts")

    def __init__(self, detail: Any = None, *, retry_after: int | None = None,
                 **extra: Any) -> None:
        if retry_after is not None:
            extra["retry_after"] = retry_after
        super().__init__(detail, **extra)
        self.retry_after = retry_after

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)} if self.retry_after else {}


def translate_messages(errors: Any) -> Any:
    """Translate marshmallow-style nested error messages into the request's language."""
    if isinstance(errors, dict):
        return {str(key): translate_messages(value) for key, value in errors.items()}
    if isinstance(errors, (list, tuple)):
        return [translate_messages(item) for item in errors]
    return translate_text(errors)


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (str, int, bool)) or value is None:
        return value
    return str(value)


def problem_response(problem: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    """The problem as ``application/problem+json``, with the request id as the extension
    member ``request_id`` (the same as the ``X-Request-ID`` header) to quote to support."""
    if (request_id := current_request_id()) and "request_id" not in problem:
        problem = {**problem, "request_id": request_id}
    response = Response(json.dumps(problem), status=problem["status"], mimetype=PROBLEM_MIME)
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response
