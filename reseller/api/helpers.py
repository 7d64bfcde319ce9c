"""Small request helpers shared by API views: JSON bodies, idempotency keys, list pages."""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from typing import Any

from flask import current_app, request, url_for
from flask_babel import lazy_gettext as _l
from marshmallow import Schema, fields
from werkzeug.routing import IntegerConverter

from reseller.core.errors import DomainError, ValidationFailed
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


class InvalidCharacters(DomainError):
    status = 400
    code = "invalid_characters"
    title = "The request contains a NUL character"


def reject_nul_in_fields() -> None:
    """NUL can't be stored in a text column: in the path, the query or a form field (the
    client area's too) it is a 400, not a 500. File uploads may hold any bytes."""
    if "\x00" in request.path or any("\x00" in key or "\x00" in value
                                      for key, value in request.args.items(multi=True)):
        raise InvalidCharacters()
    if request.form and any("\x00" in key or "\x00" in value
                            for key, value in request.form.items(multi=True)):
        raise InvalidCharacters()


def reject_nul_characters() -> None:
    """The API's check: the fields, and any NUL (raw or ``\\u0000``) in the body."""
    reject_nul_in_fields()
    data = request.get_data(cache=True)
    if b"\x00" in data or b"\\u0000" in data.lower():
        raise InvalidCharacters()


def check_json_body() -> None:
    """A JSON body that does not parse (malformed, invalid UTF-8, NaN, nested past the
    limit) is a 400 ``invalid_json`` before any view or hook reads it."""
    if request.is_json and request.get_data(cache=True):
        try:
            current_app.json.loads(request.get_data(cache=True))
        except ValueError as error:
            raise InvalidJson(str(error)) from error


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


class InvalidFilter(ValidationFailed):
    code = "invalid_filter"
    title = _l("A query parameter has a value it cannot have")


def choice_arg(name: str, choices: Sequence[str]) -> str | None:
    """A filter that takes one of ``choices``: anything else is a 422, not an empty list."""
    values = choice_args(name, choices)
    return values[-1] if values else None


def choice_args(name: str, choices: Sequence[str]) -> list[str]:
    """A repeatable filter (``?kind=a&kind=b``) whose every value is one of ``choices``."""
    values = [value for value in request.args.getlist(name) if value]
    if any(value not in choices for value in values):
        raise InvalidFilter({name: [_l("Must be one of: %(choices)s.",
                                       choices=", ".join(choices))]})
    return values


def bool_arg(name: str) -> bool | None:
    """A boolean query parameter: ``true`` or ``false``, nothing else."""
    value = request.args.get(name)
    if value in (None, ""):
        return None
    if value not in ("true", "false"):
        raise InvalidFilter({name: [_l("Use true or false.")]})
    return value == "true"


def choice_param(name: str, choices: Sequence[str], *, many: bool = False,
                 description: str | None = None) -> dict[str, Any]:
    """The OpenAPI query parameter for ``choice_arg``/``choice_args``."""
    schema: dict[str, Any] = {"type": "string", "enum": list(choices)}
    param: dict[str, Any] = {"name": name, "required": False,
                             "schema": {"type": "array", "items": schema} if many else schema}
    if many:
        param.update(style="form", explode=True)
    if description:
        param["description"] = description
    return param


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
