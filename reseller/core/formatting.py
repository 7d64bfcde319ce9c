"""The one place money and dates are formatted for people, in the page's locale (babel)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime, format_time, get_datetime_format
from babel.numbers import format_currency, format_decimal
from flask_babel import get_locale

TIMEZONE = "Europe/Helsinki"


def _locale() -> str:
    try:
        return str(get_locale() or "en")
    except RuntimeError:  # outside a request
        return "en"


def format_money(value: Any, currency: str = "EUR", locale: str | None = None) -> str:
    """Accepts ``Money`` (amount + currency) or a Decimal/decimal string."""
    if value is None:
        return ""
    amount = getattr(value, "amount", value)
    currency = getattr(value, "currency", currency)
    return format_currency(Decimal(str(amount)), currency, locale=locale or _locale())


def format_datetime_local(value: datetime | None, locale: str | None = None) -> str:
    if value is None:
        return ""
    return format_datetime(value, "medium", tzinfo=TIMEZONE, locale=locale or _locale())


def format_datetime_zoned(value: datetime | None, locale: str | None = None) -> str:
    """A moment people act on (a due time) in Helsinki time, to the minute, with the UTC
    offset in force at that moment: ``10.3.2027 16.00 UTC+02:00``, ``Jul 7, 2027, 11:00 AM
    GMT+03:00``. Stored moments are UTC (a naive one is read as UTC)."""
    if value is None:
        return ""
    locale = locale or _locale()
    moment = value if value.tzinfo else value.replace(tzinfo=UTC)
    local = moment.astimezone(ZoneInfo(TIMEZONE))
    shown = get_datetime_format("medium", locale=locale).format(
        format_time(local, "short", locale=locale), format_date(local, "medium", locale=locale))
    return f"{shown} {format_datetime(local, 'ZZZZ', locale=locale)}"


def format_date_local(value: date | datetime | None, locale: str | None = None) -> str:
    if value is None:
        return ""
    return format_date(value, "medium", locale=locale or _locale())


def format_number(value: Any, locale: str | None = None) -> str:
    """A count with the locale's grouping (``20 000``, ``20,000``)."""
    return "" if value is None else format_decimal(value, locale=locale or _locale())


def format_percent(value: Any, locale: str | None = None) -> str:
    """A rate given in percent (``Decimal("25.5")``) as ``25,5 %`` in the page's locale."""
    if value is None:
        return ""
    rate = Decimal(str(value)).normalize()
    return format_decimal(rate, format="#,##0.###", locale=locale or _locale()) + "\u00a0%"
