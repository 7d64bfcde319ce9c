"""Small request helpers shared by API views: JSON bodies, idempotency keys, list pages."""

from __future__ import annotations

import re
import uuid
from typing import Any

from flask import request, url_for
from marshmallow import Schema, fields
from werkzeug.routing import IntegerConverter

from reseller.core.errors import DomainError, ValidationFailed
from reseller.core.pagination import Page, parse_limit
from reseller.core.schemas import SINGLE_LINE_ERROR

_KEY = re.compile(r"^[A-Za-z0-9_.:\-]{1,255}$")


class InvalidJson(DomainError):
    status = 400
    code = "invalid_json"
    title = "The body must be a JSON object"


class InvalidIdempotencyKey(DomainError):
    status = 400
    code = "invalid_idempotency_key"
    title = "Idempotency-Key must be 1-255 characters of A-Z a-z 0-9 _ . : -"


class InvalidCharacters(DomainError):
    status = 400
    code = "invalid_characters"
    title = "The request contains a NUL character"


def reject_nul_characters() -> None:
    """NUL can't be stored in a text column; refuse it up front, never a 500. In a field
    of the body it is a 422 naming that field; in the path or query string a 400."""
    if "\x00" in request.path or any("\x00" in key or "\x00" in value
                                      for key, value in request.args.items(multi=True)):
        raise InvalidCharacters()
    data = request.get_data(cache=True)
    if b"\x00" in data or b"\\u0000" in data.lower():
        field = _nul_field(request.get_json(silent=True)) if request.is_json else None
        if field is None or "_" in field:  # not inside a member: no field to name
            raise InvalidCharacters()
        raise ValidationFailed(field)
    if request.form:
        for key, value in request.form.items(multi=True):
            if "\x00" in key:
                raise InvalidCharacters()
            if "\x00" in value:
                raise ValidationFailed({key: [SINGLE_LINE_ERROR]})


def _nul_field(value: Any) -> dict[str, Any] | None:
    """Marshmallow-style errors naming the first JSON member whose text holds a NUL."""
    if isinstance(value, str):
        return {"_": [SINGLE_LINE_ERROR]} if "\x00" in value else None
    items = (value.items() if isinstance(value, dict)
             else enumerate(value) if isinstance(value, list) else ())
    for key, item in items:
        if isinstance(key, str) and "\x00" in key:
            return None  # a NUL in a member name: no field to name, the 400 says it
        found = _nul_field(item)
        if found is not None:
            return {str(key): found.get("_", found)}
    return None


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


class DatabaseIdConverter(IntegerConverter):
    """``<int:id>`` for INTEGER columns: an id beyond the column's range can name no row,
    so it becomes 0 (which no row has) and the view answers 404, not a database error."""

    MAX = 2**31 - 1

    def to_python(self, value: str) -> int:
        number = int(value)
        return number if number <= self.MAX else 0
