"""Billing months in Finnish time: a month runs from the 1st 00:00 Europe/Helsinki."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

HELSINKI = ZoneInfo("Europe/Helsinki")


@dataclass(frozen=True, order=True)
class Month:
    year: int
    month: int

    @classmethod
    def parse(cls, key: str) -> Month:
        """``"2026-10"`` → ``Month(2026, 10)``; raises ValueError otherwise."""
        year, _, month = key.partition("-")
        result = cls(int(year), int(month))
        if not 1 <= result.month <= 12 or not 2000 <= result.year <= 2999:
            raise ValueError(f"not a month: {key!r}")
        return result

    @classmethod
    def containing(cls, moment: datetime) -> Month:
        local = moment.astimezone(HELSINKI)
        return cls(local.year, local.month)

    @property
    def key(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    def next(self) -> Month:
        return Month(self.year + self.month // 12, self.month % 12 + 1)

    def previous(self) -> Month:
        return Month(self.year - (self.month == 1), (self.month - 2) % 12 + 1)

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def last_day(self) -> date:
        return self.next().first_day - timedelta(days=1)

    @property
    def starts_at(self) -> datetime:
        """The first instant of the month in Helsinki, as UTC."""
        return datetime(self.year, self.month, 1, tzinfo=HELSINKI).astimezone(UTC)

    @property
    def ends_at(self) -> datetime:
        """The first instant after the month (exclusive end), as UTC."""
        return self.next().starts_at


def local_date(moment: datetime) -> date:
    """The calendar date in Helsinki at ``moment``."""
    return moment.astimezone(HELSINKI).date()


def ended_months(*, since: Month, now: datetime) -> list[Month]:
    """Every month from ``since`` up to the last one that has ended at ``now``."""
    current = Month.containing(now)
    months, month = [], since
    while month < current:
        months.append(month)
        month = month.next()
    return months
