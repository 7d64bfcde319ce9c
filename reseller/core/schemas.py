"""Base marshmallow schema and fields shared by every package's API schemas."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext
from flask_babel import lazy_gettext as _l
from marshmallow import RAISE, Schema, ValidationError, fields, validate

from reseller.core.errors import ValidationFailed
from reseller.core.text import has_control_characters


class BaseSchema(Schema):
    """Strict input: unknown fields are an error, so typos never pass silently."""

    class Meta:
        unknown = RAISE
        ordered = True

    def load_or_raise(self, data: Any, **kwargs: Any) -> Any:
        """Load, turning marshmallow's ValidationError into our 422 problem."""
        if not isinstance(data, dict) and not kwargs.get("many"):
            raise ValidationFailed({"_schema": ["Invalid input type."]})
        try:
            return self.load(data, **kwargs)
        except ValidationError as error:
            raise ValidationFailed(error.normalized_messages()) from error


DATABASE_ID_MAX = 2**31 - 1


class Id(fields.Integer):
    """A reference to a row by id: a strict integer an INTEGER column can hold, so an id
    out of range is a 422 naming the field, never a database overflow."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(strict=True, validate=validate.Range(min=1, max=DATABASE_ID_MAX),
                         **kwargs)


# -- Strict input (issue 22.3): a field accepts what the document says and nothing else --

AMOUNT_PATTERN = r"^-?[0-9]{1,13}(\.[0-9]{1,2})?$"
_AMOUNT = re.compile(AMOUNT_PATTERN)


class Amount(fields.Decimal):
    """Money amounts travel as decimal strings ("12.50"), never JSON numbers: ASCII digits,
    an optional minus and at most two decimals. No exponent ("1e2"), no spaces or plus
    sign, no other scripts' digits (which ``Decimal`` would read)."""

    def __init__(self, **kwargs: Any) -> None:
        # Documented as what travels: a decimal string, not a JSON number.
        metadata = {"type": "string", "format": "decimal", "pattern": AMOUNT_PATTERN,
                    "example": "12.50", **kwargs.pop("metadata", {})}
        super().__init__(places=2, as_string=True, allow_nan=False, metadata=metadata, **kwargs)

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Any:
        if not isinstance(value, str) or not _AMOUNT.fullmatch(value):
            raise ValidationError(_l('Send the amount as a decimal string with at most two '
                                     'decimals, e.g. "12.50".'))
        return super()._deserialize(value, attr, data, **kwargs)


def amount_from_text(text: str) -> Decimal | None:
    """An amount typed into a form: spaces dropped and a decimal comma read as a point,
    then the same format as the API's ``Amount``; None when it is not one."""
    raw = text.strip().replace(",", ".").replace(" ", "")
    return Decimal(raw) if _AMOUNT.fullmatch(raw) else None


class StrictBoolean(fields.Boolean):
    """JSON ``true`` or ``false`` only: not "true", 1, "yes" or "on"."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> bool:
        if value is True or value is False:
            return value
        raise ValidationError(_l("Use true or false."))


class StrictInteger(fields.Integer):
    """A JSON integer (not "5", 5.0 or true) within [``minimum``, ``maximum``]; by default
    what an INTEGER column holds, so no number reaches the database as an overflow."""

    def __init__(self, *, minimum: int = -DATABASE_ID_MAX - 1, maximum: int = DATABASE_ID_MAX,
                 **kwargs: Any) -> None:
        validators = [validate.Range(min=minimum, max=maximum), *_as_list(kwargs.pop(
            "validate", None))]
        super().__init__(strict=True, validate=validators, **kwargs)


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


# -- Single-line text ------------------------------------------------------------------------
# Names, addresses, brand names and host names are printed one per line in WHOIS, jCard,
# mail headers and CSV; a control character in one could start a line of its own there.

SINGLE_LINE_ERROR = lazy_gettext("Use one line of text without control characters "
                                 "(line breaks, tabs, NUL, ESC).")


class SingleLine(validate.Validator):
    """Refuses control characters (C0, DEL, C1) and the U+2028/U+2029 line separators."""

    error = SINGLE_LINE_ERROR

    def __call__(self, value: Any) -> Any:
        if isinstance(value, str) and has_control_characters(value):
            raise ValidationError([self.error])  # a list: marshmallow would iterate a lazy string
        return value


class Line(fields.String):
    """A one-line string: a control character in it is a 422 naming the field."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.validators.insert(0, SingleLine())


class LineEmail(fields.Email):
    """An e-mail address on one line (marshmallow's own check lets U+2028 through)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.validators.insert(0, SingleLine())
