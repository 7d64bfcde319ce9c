"""Time is one clock: business time follows the sandbox's time machine (periodic work
fires when it passes a cron time), and what a third party verifies uses real time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from standardwebhooks import Webhook

from reseller.core import jobs as jobs_module
from reseller.core import schedule
from reseller.core.clock import clock
from reseller.core.db import unit_of_work
from reseller.webhooks.tasks import sign

SECRET = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def test_webhook_signatures_use_real_time_under_the_time_machine(app, db_session):
    with unit_of_work():
        clock.advance(timedelta(days=45))
    headers = sign(SECRET, "msg_1", '{"a":1}')
    assert abs(int(headers["webhook-timestamp"]) - datetime.now(UTC).timestamp()) < 5
    Webhook(SECRET).verify('{"a":1}', headers)  # a receiver's tolerance is 5 minutes


def test_month_end_fires_when_the_sandbox_clock_passes_it(app, db_session, jobs):
    with unit_of_work():
        clock.set(datetime(2027, 1, 31, 22, 0, tzinfo=UTC))
    assert jobs_module.scheduler_tick() == []  # first sight: remembered, nothing fired
    jobs.jobs.clear()
    assert jobs_module.scheduler_tick() == []  # nothing due yet
    with unit_of_work():
        clock.set(datetime(2027, 2, 1, 6, 0, tzinfo=UTC))
    fired = jobs_module.scheduler_tick()
    month_end = [p for p in jobs_module.PERIODIC.values() if "month_end" in p.path]
    assert month_end and month_end[0].name in fired
    assert (month_end[0].path, ()) in jobs.jobs
    jobs.jobs.clear()
    assert month_end[0].name not in jobs_module.scheduler_tick()  # once per due time


def test_a_missed_run_fires_once_not_once_per_missed_time(app, db_session, jobs):
    every_5 = {"p": jobs_module.Periodic("p", "x.y", "*/5 * * * *", "")}
    fired: list[str] = []
    start = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
    with unit_of_work():
        schedule.fire_due(now=start, jobs=every_5, fire=fired.append)
    with unit_of_work():
        schedule.fire_due(now=start + timedelta(hours=3), jobs=every_5, fire=fired.append)
    assert fired == ["x.y"]
    assert schedule.latest_due("*/5 * * * *", start + timedelta(minutes=7)) == \
        start + timedelta(minutes=5)
