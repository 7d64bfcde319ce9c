"""The SLA clock: business hours Mon–Fri 10–18 Europe/Helsinki without Finnish public
holidays, DST-correct; around the clock; pause and resume. Examples, then properties."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from reseller.support.sla import AROUND_THE_CLOCK, BUSINESS_HOURS, is_finnish_holiday, resume

HKI = ZoneInfo("Europe/Helsinki")
H = timedelta(hours=1)


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=HKI)


def test_friday_afternoon_plus_four_hours_lands_on_monday_morning():
    # Fri 16:00 + 4 h: 2 h on Friday, 2 h on Monday from 10:00.
    assert BUSINESS_HOURS.add(local(2027, 3, 5, 16), 4 * H) == local(2027, 3, 8, 12)


def test_opened_on_saturday_counts_from_monday_ten():
    assert BUSINESS_HOURS.add(local(2027, 3, 6, 11, 30), 4 * H) == local(2027, 3, 8, 14)


def test_opened_before_hours_counts_from_ten_and_after_hours_from_the_next_day():
    assert BUSINESS_HOURS.add(local(2027, 3, 9, 7, 15), H) == local(2027, 3, 9, 11)
    assert BUSINESS_HOURS.add(local(2027, 3, 9, 19, 0), H) == local(2027, 3, 10, 11)


def test_finnish_public_holidays_are_skipped():
    assert is_finnish_holiday(local(2027, 12, 6).date())  # Independence Day (Monday)
    # Fri 3 Dec 2027 17:00 + 2 h: 1 h on Friday, Sat/Sun, Mon 6 Dec a holiday → Tue 11:00.
    assert BUSINESS_HOURS.add(local(2027, 12, 3, 17), 2 * H) == local(2027, 12, 7, 11)
    # Easter 2027: Good Friday 26 Mar and Easter Monday 29 Mar.
    assert BUSINESS_HOURS.add(local(2027, 3, 25, 17), 2 * H) == local(2027, 3, 30, 11)


def test_three_business_days_over_midsummer():
    # Midsummer Eve (Fri 25 June 2027) is a holiday too: Wed 10:00 + 24 h (three working
    # days: Wed, Thu, Mon) → Mon 28 June 18:00.
    assert BUSINESS_HOURS.add(local(2027, 6, 23, 10), 24 * H) == local(2027, 6, 28, 18)


def test_windows_follow_wall_clock_time_across_the_dst_change():
    # Summer time starts Sun 28 March 2027 (03:00 → 04:00): Thu 25 Mar 17:00 (15:00 UTC)
    # + 2 h is Tue 30 Mar 11:00 local (Easter in between), 08:00 UTC at UTC+3.
    due = BUSINESS_HOURS.add(local(2027, 3, 25, 17), 2 * H)
    assert due == local(2027, 3, 30, 11) and due.astimezone(UTC).hour == 8
    due = BUSINESS_HOURS.add(local(2027, 10, 29, 17), 2 * H)  # winter time from 31 Oct
    assert due.astimezone(HKI).hour == 11 and due.astimezone(UTC).hour == 9
    assert BUSINESS_HOURS.between(local(2027, 10, 29, 10), local(2027, 11, 1, 18)) == 16 * H


def test_ending_exactly_at_closing_time_stays_on_that_day():
    assert BUSINESS_HOURS.add(local(2027, 3, 5, 10), 8 * H) == local(2027, 3, 5, 18)


def test_between_counts_only_open_hours():
    assert BUSINESS_HOURS.between(local(2027, 3, 5, 17), local(2027, 3, 8, 11)) == 2 * H
    assert BUSINESS_HOURS.between(local(2027, 3, 8, 11), local(2027, 3, 5, 17)) == timedelta(0)


def test_around_the_clock_is_elapsed_time():
    start = local(2027, 3, 6, 23)  # Saturday night
    assert AROUND_THE_CLOCK.add(start, 4 * H) == local(2027, 3, 7, 3)
    assert AROUND_THE_CLOCK.between(start, local(2027, 3, 7, 3)) == 4 * H


def test_pause_over_a_weekend_keeps_the_time_that_was_left():
    # Due Mon 12:00; paused Fri 16:00 (4 h left: 2 on Friday, 2 on Monday); the reseller
    # answers Tue 15:00: the 4 h run again from there → Wed 11:00.
    due = local(2027, 3, 8, 12)
    assert resume(BUSINESS_HOURS, paused_at=local(2027, 3, 5, 16), due=due,
                  resumed_at=local(2027, 3, 9, 15)) == local(2027, 3, 10, 11)


# -- properties --------------------------------------------------------------------------

moments = st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2029, 12, 31),
                       timezones=st.just(UTC))
durations = st.integers(min_value=0, max_value=60 * 24 * 3).map(lambda m: timedelta(minutes=m))


@settings(max_examples=300, deadline=None)
@given(moments, durations)
def test_between_inverts_add(start, duration):
    assert BUSINESS_HOURS.between(start, BUSINESS_HOURS.add(start, duration)) == duration


@settings(max_examples=300, deadline=None)
@given(moments, durations, durations)
def test_adding_in_two_steps_is_adding_once(start, first, second):
    assert (BUSINESS_HOURS.add(BUSINESS_HOURS.add(start, first), second)
            == BUSINESS_HOURS.add(start, first + second))


@settings(max_examples=300, deadline=None)
@given(moments, durations.filter(bool))
def test_a_due_time_lies_in_business_hours(start, duration):
    due = BUSINESS_HOURS.add(start, duration).astimezone(HKI)
    assert due.weekday() < 5 and not is_finnish_holiday(due.date())
    assert time(10) < due.time() <= time(18)
    assert due > start


@settings(max_examples=300, deadline=None)
@given(moments, durations, durations)
def test_more_time_is_never_due_earlier(start, a, b):
    low, high = sorted((a, b))
    assert BUSINESS_HOURS.add(start, low) <= BUSINESS_HOURS.add(start, high)


@settings(max_examples=200, deadline=None)
@given(moments, durations, st.integers(min_value=0, max_value=60 * 24 * 10))
def test_pausing_never_loses_or_adds_working_time(opened, target, paused_minutes):
    due = BUSINESS_HOURS.add(opened, target)
    paused_at = opened + (due - opened) / 2
    resumed_at = paused_at + timedelta(minutes=paused_minutes)
    new_due = resume(BUSINESS_HOURS, paused_at=paused_at, due=due, resumed_at=resumed_at)
    worked = BUSINESS_HOURS.between(opened, paused_at) + BUSINESS_HOURS.between(resumed_at,
                                                                               new_due)
    assert worked == target
    assert new_due >= due
