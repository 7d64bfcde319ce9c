"""Base marshmallow schema and fields shared by every package's API schemas."""

from __future__ import annotations

from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate

from reseller.core.errors import ValidationFailed


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


class Amount(fields.Decimal):
    """Money amounts travel as decimal strings ("12.50"), never JSON numbers."""

    def __init__(self, **kwargs: Any) -> None:
        # Documented as what travels: a decimal string, not a JSON number.
        metadata = {"type": "string", "format": "decimal", "pattern": r"^-?\d+(\.\d+)?$",
                    "example": "12.50", **kwargs.pop("metadata", {})}
        super().__init__(places=2, as_string=True, allow_nan=False, metadata=metadata, **kwargs)
