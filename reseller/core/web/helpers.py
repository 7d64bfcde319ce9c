"""Small request helpers shared by API views: JSON bodies, idempotency keys, list pages,
entity tags and ``If-Match``."""

from __future__ import annotations

import functools
import hashlib
import json
import re
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from flask import Response, current_app, make_response, request, url_for
from flask_babel import lazy_gettext as _l
from marshmallow import Schema, fields
from werkzeug.routing import IntegerConverter

from reseller.core.errors import DomainError, NotFound, ValidationFailed
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


class PreconditionFailed(DomainError):
    status = 412
    code = "precondition_failed"
    title = "The resource has changed since you read it"


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


def reject_nul_in_fields() -> None:
    """NUL can't be stored in a text column: in the path, the query or a form field of any
    page (the client area's too) it is a 400, not a 500. The API and the WHMCS endpoint
    run their own check (``reject_nul_characters``), which names the field instead. File
    uploads may hold any bytes."""
    if request.path.startswith(("/api/", "/whmcs/")):
        return
    if "\x00" in request.path or any("\x00" in key or "\x00" in value
                                      for key, value in request.args.items(multi=True)):
        raise InvalidCharacters()
    if request.form and any("\x00" in key or "\x00" in value
                            for key, value in request.form.items(multi=True)):
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


# -- entity tags (RFC 9110 §8.8.3) and If-Match (§13.1.1) ---------------------------------

_ENTITY_TAG = re.compile(r'\s*(W/)?("[\x21\x23-\x7e\x80-\xff]*")\s*(?:,|$)')


def etag_of(body: Any) -> str:
    """A strong validator for a JSON representation: a hash of its canonical form, so it
    changes exactly when what a GET would return changes."""
    plain = json.loads(current_app.json.dumps(body))  # datetimes etc. as the response has them
    canonical = json.dumps(plain, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return '"' + hashlib.sha256(canonical.encode()).hexdigest()[:32] + '"'


def _entity_tags(header: str) -> list[tuple[bool, str]] | None:
    """``(weak, opaque tag)`` pairs of an If-Match list; None when it does not parse."""
    tags, position = [], 0
    while position < len(header):
        match = _ENTITY_TAG.match(header, position)
        if match is None:
            return None
        tags.append((bool(match.group(1)), match.group(2)))
        position = match.end()
    return tags


def if_match_holds(header: str, current: str | None) -> bool:
    """RFC 9110 §13.1.1: ``*`` holds when the resource exists; a list holds when one
    member equals the current tag by strong comparison (a weak tag never does)."""
    header = header.strip()
    if header == "*":
        return current is not None
    tags = _entity_tags(header)
    if tags is None or current is None:
        return False
    return any(not weak and tag == current for weak, tag in tags)


def versioned(current: Callable[..., Any], *, creates: bool = False) -> Callable:
    """Send an ``ETag`` with the view's JSON answer, and refuse a write whose ``If-Match``
    no longer holds with 412 ``precondition_failed`` (writes without it go ahead).

    ``current(**view_args)`` returns the resource's representation as a GET would answer
    it, locked for the rest of the transaction (so a concurrent write waits, then sees the
    new version); put ``versioned`` under ``@transactional``. Its NotFound stands (a 404
    beats a precondition, RFC 9110 §13.2.1) unless the write ``creates`` the resource:
    then ``If-Match`` fails, since there is no current version to match.
    """

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Response:
            header = request.headers.get("If-Match")
            if header is not None and request.method not in ("GET", "HEAD"):
                try:
                    body = current(**kwargs)
                except NotFound:
                    if not creates:
                        raise
                    body = None
                if not if_match_holds(header, None if body is None else etag_of(body)):
                    raise PreconditionFailed(
                        "Another change came first: GET the resource again, reapply your "
                        "change and send its new ETag in If-Match.")
            response = make_response(view(*args, **kwargs))
            if response.status_code in (200, 201) and response.is_json:
                response.headers["ETag"] = etag_of(response.get_json())
            return response

        wrapper._versioned = True  # read by the OpenAPI builder
        return wrapper

    return decorator
