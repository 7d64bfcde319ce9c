import os, sys, time, tempfile, subprocess
from pathlib import Path
ROOT = Path(__file__).resolve().parents[1]; sys.path.insert(0, str(ROOT))
from bench import orders as order_bench
from tests.support import servers
pg, redis = servers.start_postgres(), servers.start_redis()
inst = tempfile.mkdtemp()
try:
    os.environ.update(order_bench.environment(pg, redis, inst)); os.environ["LOG_LEVEL"]="WARNING"
    subprocess.run([str(order_bench.VENV_BIN / "flask"), "--app", "wsgi", "db", "upgrade"], cwd=ROOT, check=True, capture_output=True)
    from reseller.app import create_app
    from reseller.core.db import insert_all_unless_exist, _insert_statement, unit_of_work
    from reseller.core.extensions import db
    from reseller.core.events import Event
    from reseller.core.clock import clock
    import uuid
    app = create_app()
    with app.app_context():
        def row(): return {"reseller_id": None, "type": "x", "data": {"a": 1}, "dedupe_key": str(uuid.uuid4()), "created_at": clock.now(), "dispatched_at": None}
        st = _insert_statement(Event, "postgresql")
        def as_list():
            with unit_of_work(): list(db.session.scalars(st, [row()], execution_options={"populate_existing": True, "render_nulls": True}))
        def as_dict():
            with unit_of_work(): list(db.session.scalars(st, row(), execution_options={"populate_existing": True, "render_nulls": True}))
        def two_list():
            with unit_of_work(): list(db.session.scalars(st, [row(), row()], execution_options={"populate_existing": True, "render_nulls": True}))
        def empty():
            with unit_of_work(): db.session.scalar(__import__('sqlalchemy').text("select 1"))
        import sqlalchemy as sa
        from sqlalchemy.dialects.postgresql import insert as pgi
        core = pgi(Event.__table__).on_conflict_do_nothing().returning(*Event.__table__.c)
        def core_one():
            with unit_of_work(): db.session.execute(core, [row()]).all()
        def core_dict():
            with unit_of_work(): db.session.execute(core, row()).all()
        fs = sa.select(Event).from_statement(core).execution_options(populate_existing=True)
        def fs_one():
            with unit_of_work():
                got = list(db.session.scalars(fs, [row()]))
                assert got and got[0].id
        def fs_two():
            with unit_of_work():
                got = list(db.session.scalars(fs, [row(), row()]))
                assert len(got) == 2, got
        def two_list():
            with unit_of_work(): list(db.session.scalars(st, [row(), row()], execution_options={"populate_existing": True, "render_nulls": True}))
        for f in (as_list, fs_one, two_list, fs_two, core_one, empty)*2:
            for _ in range(100): f()
            t=time.process_time()
            for _ in range(1000): f()
            print(f.__name__, round((time.process_time()-t), 3), "ms")
finally:
    redis.stop(); pg.stop()
