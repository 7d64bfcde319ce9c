"""Small request helpers shared by API views: JSON bodies, idempotency keys, list pages."""

from __future__ import annotations

import re
import uuid
from typing import Any

from flask import request, url_for
from marshmallow import Schema, fields

from reseller.core.errors import DomainError
from reseller.core.pagination import Page, parse_limit

_KEY = re.compile(r"^[A-Za-z0-9_.:\-]{1,255}$")


class InvalidJson(DomainError):
    status = 400
    code = "invalid_json"
    title = "The body must be a JSON object"


class InvalidIdempotencyKey(DomainError):
    status = 400
    code = "invalid_idempotency_key"
    title = "Idempotency-Key must be 1-255 characters of A-Z a-z 0-9 _ . : -"


def json_body() -> dict[str, Any]:
    """The request's JSON object; a missing or malformed body is a 400, never a 500."""
    if not request.data:
        return {}
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise InvalidJson()
    return data


def idempotency_key() -> str:
    """The client's ``Idempotency-Key``; without one, a fresh key (no replay protection)."""
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return f"auto-{uuid.uuid4()}"
    if not _KEY.match(key):
        raise InvalidIdempotencyKey()
    return key


def list_args() -> tuple[str | None, int]:
    return request.args.get("cursor") or None, parse_limit(request.args.get("limit"))


def page_body(page: Page, items: list[Any]) -> dict[str, Any]:
    """``{"items": [...], "next": url | null}`` with the next link keeping the filters."""
    next_url = None
    if page.next_cursor:
        args = {**request.args.to_dict(), "cursor": page.next_cursor}
        next_url = url_for(request.endpoint, **(request.view_args or {}), **args, _external=True)
    return {"items": items, "next": next_url}


_PAGE_SCHEMAS: dict[str, type[Schema]] = {}


def page_of(item: type[Schema], name: str | None = None) -> type[Schema]:
    """The list envelope ``{"items": [item...], "next": url | null}`` for OpenAPI."""
    name = name or item.__name__.removesuffix("Out") + "Page"
    if name not in _PAGE_SCHEMAS:
        _PAGE_SCHEMAS[name] = Schema.from_dict({
            "items": fields.List(fields.Nested(item), required=True),
            "next": fields.String(required=True, allow_none=True, metadata={
                "description": "URL of the next page (keeps your filters); null on the last"}),
        }, name=name)
    return _PAGE_SCHEMAS[name]
