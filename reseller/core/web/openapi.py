"""The OpenAPI 3.1 document, generated from the routes and their marshmallow schemas.

Views declare what they take and return with ``@doc``; scopes come from
``require_scope``. Every ``/api/v1`` route must carry ``@doc`` (a test checks).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Flask
from marshmallow import Schema
from werkzeug.routing import IntegerConverter

from reseller.core.permissions import SCOPES

_CONVERTER = re.compile(r"<(?:[a-z]+:)?([a-zA-Z_]+)>")

STANDARD_ERRORS = {
    400: "Malformed request (bad JSON, cursor, limit or Idempotency-Key)",
    401: "Missing, unknown or expired token",
    402: "Not enough funds or credit",
    403: "The token lacks a scope, or the role forbids this",
    404: "Not found (or belongs to another reseller)",
    405: "Method not allowed on this path",
    409: "Conflicts with the current state (or the Idempotency-Key is still in use)",
    412: "`If-Match` names a version that is no longer current: GET it again",
    413: "Request body too large",
    415: "Unsupported media type",
    422: "Invalid fields (see `errors`), or an Idempotency-Key reused with a different body",
    429: "Rate limit exceeded; wait Retry-After seconds",
    503: "A dependency (registry, payment provider) is unavailable; retry later",
}

ERROR_EXAMPLES = {
    401: {"type": "about:blank", "title": "Authentication required", "status": 401,
          "detail": "Send 'Authorization: Bearer <token>'.", "code": "unauthorized"},
    404: {"type": "https://portal.registrar.example/problems/not-found", "title": "Not found", "status": 404,
          "detail": "Not found", "code": "not_found"},
    422: {"type": "https://portal.registrar.example/problems/validation-failed",
          "title": "The request has invalid fields", "status": 422,
          "detail": "Correct the fields listed in errors.", "code": "validation_failed",
          "errors": {"name": ["Missing data for required field."]}},
    429: {"type": "https://portal.registrar.example/problems/rate-limited", "title": "Rate limit exceeded",
          "status": 429, "detail": "Your plan allows 20000 per 1 hour.", "code": "rate_limited"},
}

_INT = {"schema": {"type": "integer"}}
RATE_LIMIT_HEADERS = {
    "RateLimit-Limit": {"description": "Calls allowed in the current window", **_INT},
    "RateLimit-Remaining": {"description": "Calls left in the current window", **_INT},
    "RateLimit-Reset": {"description": "Seconds until the window resets", **_INT},
    "RateLimit-Policy": {"description": "The quota policy, e.g. `20000;w=3600`",
                         "schema": {"type": "string"}},
}
ETAG_HEADER = {"ETag": {"description": "The version of the resource (a strong entity tag); "
                       "send it back in `If-Match` to update only that version",
                       "schema": {"type": "string"}}}
NO_STORE_HEADER = {"Cache-Control": {"description": "`no-store`: the body carries a secret",
                                     "schema": {"type": "string", "const": "no-store"}}}
IF_MATCH = {
    "in": "header", "name": "If-Match", "required": False, "schema": {"type": "string"},
    "description": "An `ETag` from an earlier answer (or `*`): change the resource only if "
                   "it is still that version, else 412 `precondition_failed` (RFC 9110 "
                   "§13.1.1). Without it the change is made regardless.",
}
CHALLENGE_HEADER = {"WWW-Authenticate": {
    "description": 'The challenge (RFC 6750 §3): `Bearer realm="api"`, with '
                   '`error="invalid_token"` when a token was sent but is not valid',
    "schema": {"type": "string"}}}
PAGE_PARAMETERS = [
    {"in": "query", "name": "cursor", "required": False, "schema": {"type": "string"},
     "description": "Opaque cursor from the previous page's `next` link"},
    {"in": "query", "name": "limit", "required": False,
     "schema": {"type": "integer", "minimum": 1, "maximum": 200, "default": 50}},
]


def doc(*, summary: str, tags: list[str], body: type[Schema] | Schema | None = None,
        response: type[Schema] | Schema | None = None, status: int | tuple[int, ...] = 200,
        query: list[dict[str, Any]] | None = None, errors: tuple[int, ...] = (),
        description: str | None = None, public: bool = False,
        example: dict[str, Any] | None = None, content_type: str = "application/json",
        body_types: tuple[str, ...] = (),
        problems: dict[int, dict[str, Any]] | None = None) -> Callable:
    """Attach OpenAPI metadata to a view (the view itself is unchanged).

    ``status`` lists every success status the view answers (e.g. ``(200, 201)`` for an
    upsert); ``body_types`` names the media types of a raw (non-JSON) request body;
    ``problems`` documents an error status more precisely than the standard Problem
    (``description``, ``schema``, ``example``).
    """

    def decorator(view: Callable) -> Callable:
        view._openapi = {
            "summary": summary, "tags": tags, "body": body, "response": response,
            "statuses": (status,) if isinstance(status, int) else tuple(status),
            "query": query or [], "errors": errors, "description": description,
            "public": public, "example": example, "content_type": content_type,
            "body_types": body_types, "problems": problems or {},
        }
        return view

    return decorator


class _NameResolver:
    """Component names from class names; two classes with one name (e.g. ``RecordOut`` of
    DNS and of branding) are told apart by their package."""

    def __init__(self) -> None:
        self.taken: dict[str, type] = {}

    def __call__(self, schema: Any) -> str | None:
        from apispec.ext.marshmallow.common import resolve_schema_cls

        cls = resolve_schema_cls(schema)
        if isinstance(schema, Schema) and (schema.only or schema.exclude or schema.partial):
            return None  # a modified schema is inlined rather than named
        name = cls.__name__.removesuffix("Schema")
        if self.taken.setdefault(name, cls) is not cls:
            package = cls.__module__.split(".")[-2] if "." in cls.__module__ else cls.__module__
            name = package.title() + name
            self.taken.setdefault(name, cls)
        return name


def _schema_ref(schema: Any) -> Any:
    if schema is None:
        return None
    return schema if isinstance(schema, Schema) else schema()


def build_spec(app: Flask) -> dict[str, Any]:
    spec = APISpec(
        title=f"{app.config['OPERATOR_BRAND']} reseller API",
        version="1.0.0",
        openapi_version="3.1.0",
        plugins=[MarshmallowPlugin(schema_name_resolver=_NameResolver())],
        info={"description": "Register and manage domains for your customers. Amounts are "
              "decimal strings in EUR. Every POST takes an `Idempotency-Key` header."},
        servers=[{"url": app.config["BASE_URL"]}],
    )
    spec.components.security_scheme("oauth2", {
        "type": "oauth2",
        "flows": {"clientCredentials": {"tokenUrl": "/oauth/token",
                                        "scopes": {s: s for s in sorted(SCOPES)}}},
    })
    spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer"})
    spec.components.schema("Problem", {
        "type": "object",
        "required": ["type", "title", "status", "detail", "code"],
        "properties": {
            "type": {"type": "string"}, "title": {"type": "string"},
            "status": {"type": "integer"}, "detail": {"type": "string"},
            "code": {"type": "string"},
            "errors": {"type": "object", "additionalProperties": True},
            "request_id": {"type": "string",
                           "description": "This request's id, as in `X-Request-ID`"},
        },
        "additionalProperties": True,
    })
    paths: dict[str, dict[str, Any]] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.rule.startswith("/api/v1") or rule.endpoint == "static":
            continue
        view = app.view_functions[rule.endpoint]
        meta = getattr(view, "_openapi", None)
        if meta is None:
            continue
        path = _CONVERTER.sub(r"{\1}", rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            paths.setdefault(path, {})[method.lower()] = _operation(spec, rule, view, meta,
                                                                    method)
    for path, operations in paths.items():
        spec.path(path=path, operations=operations)
    return spec.to_dict()


def _operation(spec: APISpec, rule: Any, view: Callable, meta: dict[str, Any],
               method: str) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "summary": meta["summary"],
        "tags": meta["tags"],
        "operationId": rule.endpoint.replace(".", "_")
        + ("" if method == "GET" else f"_{method.lower()}"),
        "parameters": _parameters(rule, meta, method),
        "responses": {},
    }
    if meta["description"]:
        operation["description"] = meta["description"]
    body = _request_body(meta)
    if body is not None:
        operation["requestBody"] = body
    versioned = getattr(view, "_versioned", False)
    for status in meta["statuses"]:
        success = operation["responses"][str(status)] = _success(meta, status)
        if versioned and status != 204:
            success["headers"].update(ETAG_HEADER)
        if getattr(view, "_secret", False):
            success["headers"].update(NO_STORE_HEADER)
    if versioned and method in {"PUT", "PATCH"}:
        operation["parameters"].append(dict(IF_MATCH))
    if meta["public"]:
        operation["security"] = []
    else:
        operation["security"] = [{"oauth2": getattr(view, "_scopes", [])}, {"bearerAuth": []}]
    codes = error_statuses(rule, meta, method, has_body=body is not None)
    if versioned and method in {"PUT", "PATCH"}:
        codes.add(412)
    for code in sorted(codes):
        operation["responses"][str(code)] = _error(spec, code, meta["problems"].get(code))
    return operation


def error_statuses(rule: Any, meta: dict[str, Any], method: str, *, has_body: bool) -> set[int]:
    """Every error status an operation can answer, from what it takes and who may call it.

    400 (malformed query, cursor, NUL bytes), 422 (invalid fields) and 429 (rate limit)
    can happen anywhere; the rest follow from the operation's shape; ``errors`` adds what
    only its services know (402 funds, 409 state, 503 registry).
    """
    codes = set(meta["errors"]) | {400, 422, 429}
    if method == "POST":
        codes.add(409)  # the Idempotency-Key is still in use by a concurrent request
    if has_body or method in {"POST", "PUT", "PATCH"}:
        codes.add(413)  # MAX_CONTENT_LENGTH
    if not meta["public"]:
        codes |= {401, 403}
    if rule.arguments:
        codes.add(404)
    return codes


def _parameters(rule: Any, meta: dict[str, Any], method: str) -> list[dict[str, Any]]:
    parameters: list[dict[str, Any]] = []
    for name in rule.arguments:
        schema: dict[str, Any] = {"type": "string"}
        if isinstance(rule._converters.get(name), IntegerConverter):
            schema = {"type": "integer", "minimum": 0}
        parameters.append({"in": "path", "name": name, "required": True, "schema": schema})
    parameters.extend({"in": "query", **q} for q in meta["query"])
    named = {q.get("name") for q in meta["query"]}
    if method == "GET" and _is_page(_schema_ref(meta["response"])) \
            and not named & {"cursor", "after"}:
        parameters.extend(dict(p) for p in PAGE_PARAMETERS)
    if method == "POST":
        parameters.append({
            "in": "header", "name": "Idempotency-Key", "required": False,
            "schema": {"type": "string", "pattern": "^[A-Za-z0-9_.:\\-]{1,255}$"},
            "description": "Same key and body replays the first response.",
        })
    return parameters


def _request_body(meta: dict[str, Any]) -> dict[str, Any] | None:
    body = _schema_ref(meta["body"])
    if body is not None:
        return {"required": True, "content": {"application/json": {"schema": body}}}
    if meta["body_types"]:
        return {"required": True,
                "content": {kind: {"schema": {"type": "string"}} for kind in meta["body_types"]}}
    return None


def _success(meta: dict[str, Any], status: int) -> dict[str, Any]:
    """A success response: JSON with its schema, a download with its media type, or (204)
    no body at all."""
    ok: dict[str, Any] = {"description": "Success", "headers": dict(RATE_LIMIT_HEADERS)}
    if status == 204:
        return ok
    response = _schema_ref(meta["response"])
    if response is not None:
        content: dict[str, Any] = {"schema": response}
        if meta["example"] is not None:
            content["example"] = meta["example"]
        ok["content"] = {meta["content_type"]: content}
    elif meta["content_type"] != "application/json":
        ok["content"] = {meta["content_type"]: {"schema": _raw_schema(meta["content_type"])}}
    return ok


def _raw_schema(media_type: str) -> dict[str, Any]:
    if media_type.startswith("text/") or media_type.endswith("xml"):
        return {"type": "string"}
    return {"type": "string", "format": "binary"}


def _error(spec: APISpec, code: int, special: dict[str, Any] | None = None) -> dict[str, Any]:
    """A problem+json response: the standard Problem, or a named extension of it
    (``special["component"]`` with ``special["schema"]``, an ``allOf`` over Problem)."""
    special = special or {}
    name = special.get("component", "Problem")
    if name != "Problem" and name not in spec.components.schemas:
        spec.components.schema(name, special["schema"])
    content: dict[str, Any] = {"schema": {"$ref": f"#/components/schemas/{name}"}}
    if "example" in special or code in ERROR_EXAMPLES:
        content["example"] = special.get("example") or ERROR_EXAMPLES[code]
    error: dict[str, Any] = {
        "description": special.get("description") or STANDARD_ERRORS.get(code, "Refused"),
        "content": {"application/problem+json": content}}
    if code == 429:
        error["headers"] = {"Retry-After": {"description": "Seconds to wait", **_INT},
                            **RATE_LIMIT_HEADERS}
    if code in (401, 403):
        error["headers"] = dict(CHALLENGE_HEADER)
    return error


def _is_page(schema: Any) -> bool:
    return isinstance(schema, Schema) and {"items", "next"} <= set(schema.fields) \
        and not getattr(schema, "many", False)
