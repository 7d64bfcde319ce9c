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


@pytest.mark.postgres_only
def test_reading_the_sandbox_clock_never_waits_on_another_threads_locks(app, committed_db):
    """Found by bench/orders.py: every API request stalled for a minute. One thread held
    the clock's reload lock while the reload's autoflush waited for a row lock (an access
    token's last_used_at) that a second thread held, and the second thread was waiting
    for the clock: a deadlock PostgreSQL cannot see. The reload now neither flushes nor
    waits for another thread's reload."""
    import threading

    import sqlalchemy as sa

    from reseller.accounts.models import Reseller
    from reseller.core.db import unit_of_work

    db = committed_db
    clock.configure(sandbox=True)
    with unit_of_work():
        reseller = Reseller(company_name="Clock Oy", country="FI", business_id="2464491-9",
                            contact_email="c@example.test", language="fi")
        db.session.add(reseller)
    other = db.engine.connect()
    other.begin()
    other.execute(sa.text("UPDATE resellers SET company_name = 'Locked Oy' WHERE id = :id"),
                  {"id": reseller.id})  # another request holds the row
    try:
        # (a flush that waits would fail after 2 s instead of hanging the test)
        db.session.execute(sa.text("SET LOCAL lock_timeout = '2s'"))
        reseller.company_name = "Pending Oy"  # this request's change, not yet flushed
        clock._loaded_at = 0.0  # the cached offset is stale: now() reads it again
        finished = threading.Event()

        def read_clock():
            with app.app_context():
                clock._loaded_at = 0.0
                clock.now()
            finished.set()

        clock.now()  # in this thread: must not flush "Pending Oy" and wait on the lock
        assert db.session.is_modified(reseller)
        with clock._lock:  # a reload under way elsewhere: readers keep the cached offset
            reading = threading.Thread(target=read_clock, daemon=True)
            reading.start()
            assert finished.wait(timeout=5)
    finally:
        other.rollback()
        other.close()
        db.session.rollback()
