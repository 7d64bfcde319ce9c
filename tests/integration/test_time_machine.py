from datetime import UTC, datetime

import pytest

from reseller.core.clock import TimeMachineDisabled, clock


@pytest.mark.smoke
def test_clock_commands_move_the_sandbox_time(app, db_session):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["clock", "set", "2027-01-31T22:00:00+00:00"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("2027-01-31T22:00")
    result = runner.invoke(args=["clock", "advance", "30d"])
    assert result.output.startswith("2027-03-02T22:00")
    result = runner.invoke(args=["clock", "show"])
    assert datetime.fromisoformat(result.output.strip()).date().isoformat() == "2027-03-02"


def test_bad_duration_is_a_usage_error(app, db_session):
    result = app.test_cli_runner().invoke(args=["clock", "advance", "soon"])
    assert result.exit_code != 0
    assert "duration" in result.output


def test_time_machine_refused_outside_sandbox(app, db_session):
    clock.configure(sandbox=False)
    with pytest.raises(TimeMachineDisabled):
        clock.set(datetime(2030, 1, 1, tzinfo=UTC))
    result = app.test_cli_runner().invoke(args=["clock", "advance", "1d"])
    assert result.exit_code != 0
