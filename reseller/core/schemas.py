"""Base marshmallow schema and fields shared by every package's API schemas."""

from __future__ import annotations

from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields

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


class Amount(fields.Decimal):
    """Money amounts travel as decimal strings ("12.50"), never JSON numbers."""

    def __init__(self, **kwargs: Any) -> None:
        # Documented as what travels: a decimal string, not a JSON number.
        metadata = {"type": "string", "format": "decimal", "pattern": r"^-?\d+(\.\d+)?$",
                    "example": "12.50", **kwargs.pop("metadata", {})}
        super().__init__(places=2, as_string=True, allow_nan=False, metadata=metadata, **kwargs)
