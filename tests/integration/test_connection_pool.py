"""Pooled PostgreSQL connections: an idle one that died is replaced before use, and a busy
pool spends no round trip on pinging (reseller.core.db.ping_idle_connections)."""

import pytest
import sqlalchemy as sa

from reseller.core.db import ping_idle_connections

pytestmark = pytest.mark.postgres_only


def _engine(postgres, after_seconds: float) -> sa.Engine:
    engine = sa.create_engine(postgres.url, pool_size=1, max_overflow=0)
    ping_idle_connections(engine, after_seconds=after_seconds)
    return engine


def _backend_pid(engine: sa.Engine) -> int:
    with engine.connect() as connection:
        return connection.scalar(sa.text("SELECT pg_backend_pid()"))


def _terminate(postgres, pid: int) -> None:
    killer = sa.create_engine(postgres.url, poolclass=sa.pool.NullPool)
    with killer.connect() as connection:
        connection.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    killer.dispose()


def test_idle_connection_killed_by_the_server_is_replaced_before_use(postgres):
    engine = _engine(postgres, after_seconds=0)
    first = _backend_pid(engine)
    _terminate(postgres, first)
    second = _backend_pid(engine)  # no error: the dead one was pinged and discarded
    assert second != first
    engine.dispose()


def _count_pings(engine: sa.Engine) -> list[int]:
    pings: list[int] = []
    real = engine.dialect.do_ping
    engine.dialect.do_ping = lambda dbapi_connection: pings.append(1) or real(dbapi_connection)
    return pings


def test_recently_used_connection_is_not_pinged(postgres):
    engine = _engine(postgres, after_seconds=3600)
    pings = _count_pings(engine)
    pid = _backend_pid(engine)
    assert _backend_pid(engine) == pid
    assert pings == []
    engine.dispose()


def test_idle_connection_is_pinged_once_per_checkout(postgres):
    engine = _engine(postgres, after_seconds=0)
    pings = _count_pings(engine)
    _backend_pid(engine)  # a new connection: nothing to ping
    _backend_pid(engine)
    assert len(pings) == 1
    engine.dispose()
