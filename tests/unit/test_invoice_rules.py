"""Invoice rules that need no database: months in Helsinki time, VAT groups, interest."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from wallet.invoices import vat
from wallet.invoices.lines import LineIn
from wallet.invoices.periods import Month, ended_months
from wallet.invoices.services import late_interest, vat_breakdown
from wallet.invoices.settings import Party, settings_from_config

CONFIG = {"OPERATOR_NAME": "Nimipalvelu Oy", "OPERATOR_ADDRESS": "Mannerheimintie 1, 00100 Helsinki",
          "OPERATOR_VAT_ID": "FI24644919", "OPERATOR_IBAN": "FI2112345600000785"}


def test_a_month_runs_midnight_to_midnight_in_helsinki():
    october = Month(2026, 10)  # summer time ends on 25 October
    assert october.starts_at == datetime(2026, 9, 30, 21, 0, tzinfo=UTC)
    assert october.ends_at == datetime(2026, 10, 31, 22, 0, tzinfo=UTC)
    assert Month.containing(datetime(2026, 10, 31, 21, 59, tzinfo=UTC)) == october
    assert Month.containing(datetime(2026, 10, 31, 22, 0, tzinfo=UTC)) == Month(2026, 11)
    assert (october.first_day, october.last_day) == (date(2026, 10, 1), date(2026, 10, 31))
    assert Month(2026, 12).next() == Month(2027, 1) and Month(2027, 1).previous() == Month(2026, 12)


def test_ended_months_stop_before_the_current_one():
    now = datetime(2027, 1, 1, 0, 5, tzinfo=UTC)  # 02:05 on 1 January in Helsinki
    assert ended_months(since=Month(2026, 11), now=now) == [Month(2026, 11), Month(2026, 12)]


@pytest.mark.parametrize("text", ["2026-13", "26-1", "soon"])
def test_month_keys_are_checked(text):
    with pytest.raises(ValueError):
        Month.parse(text)


def test_rate_table_is_effective_dated():
    table = vat.RateTable.parse("2013-01-01=24,2024-09-01=25.5")
    assert table.on(date(2024, 8, 31)) == Decimal("24")
    assert table.on(date(2024, 9, 1)) == Decimal("25.5")
    with pytest.raises(ValueError):
        table.on(date(2012, 12, 31))


@pytest.mark.parametrize("status, rate, category", [
    (vat.DOMESTIC, Decimal("25.5"), "S"), (vat.REVERSE_CHARGE, Decimal("0"), "AE"),
    (vat.OUTSIDE_SCOPE, Decimal("0"), "O"), (vat.DOMESTIC, Decimal("0"), "Z")])
def test_vat_category_follows_rate_and_status(status, rate, category):
    assert vat.category(rate=rate, vat_status=status) == category


def _line(net: str, rate: str = "25.5", category: str = "S") -> LineIn:
    return LineIn(kind="purchase", source_key=None, description="x", occurred_on=date(2026, 10, 1),
                  net=Decimal(net), vat_rate=Decimal(rate), vat_category=category)


def test_vat_is_rounded_once_per_rate_not_per_line():
    lines = [_line("9.90") for _ in range(30)]  # per line 2.5245 → 2.52; 30 lines 75.60
    assert vat_breakdown(lines) == [{"category": "S", "rate": "25.5", "net": "297.00",
                                     "vat": "75.74"}]


def test_vat_breakdown_has_one_group_per_category_and_rate():
    groups = vat_breakdown([_line("10.00"), _line("5.00", "24"), _line("-2.00"),
                            _line("3.00", "0", "E")])
    assert [(g["category"], g["rate"], g["net"], g["vat"]) for g in groups] == [
        ("S", "25.5", "8.00", "2.04"), ("S", "24", "5.00", "1.20"), ("E", "0", "3.00", "0.00")]


def test_late_interest_is_reference_rate_plus_eight_points_actual_per_365():
    settings = settings_from_config({**CONFIG, "LATE_INTEREST_REFERENCE_RATES":
                                     "2026-01-01=2.00,2026-07-01=3.00"})
    # due in the first half-year: 2.00 + 8 = 10 %; 30 days late on 1000.00 → 8.22
    assert late_interest(amount=Decimal("1000.00"), due_date=date(2026, 6, 20),
                         paid_on=date(2026, 7, 20), settings=settings) == Decimal("8.22")
    assert late_interest(amount=Decimal("1000.00"), due_date=date(2026, 6, 20),
                         paid_on=date(2026, 6, 20), settings=settings) == Decimal("0.00")


def test_seller_comes_from_the_operator_config():
    seller = settings_from_config(CONFIG).seller
    assert seller == Party(name="Nimipalvelu Oy", country="FI", business_id=None,
                           vat_id="FI24644919", street="Mannerheimintie 1", postal_code="00100",
                           city="Helsinki", email=None, iban="FI2112345600000785")


def test_reference_rates_are_configuration_and_a_missing_half_year_is_warned(caplog):
    config = {"OPERATOR_NAME": "Operator Oy",
              "LATE_INTEREST_REFERENCE_RATES": "2026-01-01=2.15,2026-07-01=2.0"}
    settings = settings_from_config(config)
    with caplog.at_level("WARNING", logger="tunnus.wallet"):
        # 10.00 % (2.0 + 8) on 1000.00 for 73 days: 20.00
        assert late_interest(amount=Decimal("1000.00"), due_date=date(2026, 9, 1),
                             paid_on=date(2026, 11, 13), settings=settings) == Decimal("20.00")
    assert caplog.records == []
    stale = settings_from_config({"OPERATOR_NAME": "Operator Oy",
                                  "LATE_INTEREST_REFERENCE_RATES": "2026-01-01=2.15"})
    with caplog.at_level("WARNING", logger="tunnus.wallet"):
        late_interest(amount=Decimal("1000.00"), due_date=date(2026, 9, 1),
                      paid_on=date(2026, 11, 13), settings=stale)
    assert "2026-07-01" in caplog.text
    defaults = settings_from_config({"OPERATOR_NAME": "Operator Oy"}).reference_rates
    assert defaults.on(date(2026, 1, 1)) == Decimal("2.15")  # the table reaches 2026 H1
