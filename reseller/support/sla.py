"""The SLA clock: adding and measuring working time, in business hours or around the clock.

Business hours are Monday to Friday 10:00-18:00 in Europe/Helsinki, except Finnish public
holidays (the maintained ``holidays`` package, which also lists Midsummer Eve and Christmas
Eve). Windows are built from local wall-clock times with ``zoneinfo``, so a window is 8
hours on either side of a daylight-saving change (the changes happen at 03:00/04:00 local,
outside every window). Instants are aware datetimes; results are UTC.

``add(start, duration)`` is the earliest instant at which ``duration`` of working time has
passed since ``start``; ``between(a, b)`` is the working time in ``[a, b)``. They are
inverse: ``between(s, add(s, d)) == d``, and ``add(add(s, a), b) == add(s, a + b)``.
A due time that ends exactly at a window's close stays at the close (18:00 Friday, not
10:00 Monday).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

HELSINKI = ZoneInfo("Europe/Helsinki")
ZERO = timedelta(0)


@lru_cache(maxsize=64)
def _finnish_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.Finland(years=year))


def is_finnish_holiday(day: date) -> bool:
    return day in _finnish_holidays(day.year)


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("SLA arithmetic needs timezone-aware datetimes")
    return moment


@dataclass(frozen=True)
class BusinessHours:
    """Working windows ``[opens, closes)`` on weekdays that are not Finnish holidays."""

    opens: time = time(10)
    closes: time = time(18)
    zone: ZoneInfo = field(default=HELSINKI)

    around_the_clock = False

    def is_working_day(self, day: date) -> bool:
        return day.weekday() < 5 and not is_finnish_holiday(day)

    def window(self, day: date) -> tuple[datetime, datetime] | None:
        """The day's window in UTC, or None on a weekend or holiday."""
        if not self.is_working_day(day):
            return None
        start = datetime.combine(day, self.opens, tzinfo=self.zone).astimezone(UTC)
        end = datetime.combine(day, self.closes, tzinfo=self.zone).astimezone(UTC)
        return start, end

    def is_open(self, moment: datetime) -> bool:
        window = self.window(_aware(moment).astimezone(self.zone).date())
        return window is not None and window[0] <= moment < window[1]

    def add(self, start: datetime, duration: timedelta) -> datetime:
        """The instant at which ``duration`` of business time has passed since ``start``."""
        if duration < ZERO:
            raise ValueError("duration must not be negative")
        moment = _aware(start).astimezone(UTC)
        left = duration
        day = moment.astimezone(self.zone).date()
        if not left:
            return moment
        for _ in range(3700):  # ten years of days: a bound, never reached by real targets
            window = self.window(day)
            if window is not None:
                opens = max(window[0], moment)
                if opens < window[1]:
                    available = window[1] - opens
                    if left <= available:
                        return opens + left
                    left -= available
            day += timedelta(days=1)
        raise ValueError("duration too long for the SLA clock")

    def between(self, start: datetime, end: datetime) -> timedelta:
        """Business time in ``[start, end)``; zero when ``end`` is not after ``start``."""
        start, end = _aware(start).astimezone(UTC), _aware(end).astimezone(UTC)
        if end <= start:
            return ZERO
        total = ZERO
        day = start.astimezone(self.zone).date()
        last = end.astimezone(self.zone).date()
        while day <= last:
            window = self.window(day)
            if window is not None:
                overlap = min(window[1], end) - max(window[0], start)
                if overlap > ZERO:
                    total += overlap
            day += timedelta(days=1)
        return total


@dataclass(frozen=True)
class AroundTheClock:
    """24/7: working time is elapsed time."""

    around_the_clock = True

    def is_open(self, moment: datetime) -> bool:
        return True

    def add(self, start: datetime, duration: timedelta) -> datetime:
        if duration < ZERO:
            raise ValueError("duration must not be negative")
        return _aware(start).astimezone(UTC) + duration

    def between(self, start: datetime, end: datetime) -> timedelta:
        return max(_aware(end) - _aware(start), ZERO)


BUSINESS_HOURS = BusinessHours()
AROUND_THE_CLOCK = AroundTheClock()


def calendar_for(around_the_clock: bool) -> BusinessHours | AroundTheClock:
    return AROUND_THE_CLOCK if around_the_clock else BUSINESS_HOURS


def resume(calendar: BusinessHours | AroundTheClock, *, paused_at: datetime, due: datetime,
           resumed_at: datetime) -> datetime:
    """The new due time after the clock stood still from ``paused_at`` to ``resumed_at``:
    the working time that was left at the pause, counted again from the resume."""
    return calendar.add(resumed_at, calendar.between(paused_at, due))
