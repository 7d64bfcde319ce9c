"""Transaction boundaries. This is the only module that commits.

Requests and jobs run inside ``unit_of_work``; services only ``flush()``. Side effects
(jobs, mail, webhooks) registered with ``after_commit`` run once the commit succeeded and
are dropped on rollback.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from flask import Response, make_response
from sqlalchemy import event, exc
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine

from reseller.core.extensions import db

log = logging.getLogger(__name__)


def after_commit(callback: Callable[..., Any], *args: Any) -> None:
    """Run ``callback(*args)`` once the current transaction commits; drop it on rollback."""
    db.session.info.setdefault("after_commit", []).append((callback, args))


def before_answer(callback: Callable[[Response], None]) -> None:
    """Have ``callback(response)`` see the response of the current ``@transactional`` view
    before its transaction commits (the Idempotency-Key stores it with the effect)."""
    db.session.info.setdefault("before_answer", []).append(callback)


@contextmanager
def unit_of_work(*, keep_read: bool = False) -> Iterator[None]:
    """Commit everything done inside the block, or nothing.

    What runs after the commit cannot undo it: a callback that fails (Redis down, say) is
    logged, and the caller still gets the committed result. Work that must not be lost is
    owed in the transaction itself (jobs: ``reseller.core.pending``; mail and webhooks:
    their outboxes).

    ``keep_read``: what the session has loaded stays loaded after the commit instead of
    expiring (a page that goes on to show what it read; not for work that decides on
    what it reads)."""
    session = db.session()
    expire = session.expire_on_commit
    session.expire_on_commit = expire and not keep_read
    try:
        yield
        db.session.commit()
    except BaseException:
        db.session.rollback()
        db.session.info.pop("after_commit", None)
        db.session.info.pop("before_answer", None)
        raise
    finally:
        session.expire_on_commit = expire
    for callback, args in db.session.info.pop("after_commit", []):
        try:
            callback(*args)
        except Exception:
            log.exception("after-commit %r failed; the commit stands", callback)


def end_transaction(*, keep_read: bool = False) -> None:
    """Commit what the session has done so far (often only reads, such as a job's
    ``pending_jobs`` check), and run its after-commit work, so that no transaction is open
    across the call that follows: a registry, a DNS server, an SMTP or HTTP peer. An open
    transaction with an id would hold back every reseller's event feed meanwhile.

    ``keep_read``: what was loaded stays loaded instead of expiring (a page that goes on
    to show the signed-in user it read; not for work that decides on what it reads)."""
    with unit_of_work(keep_read=keep_read):
        pass


def end_reads() -> None:
    """``end_transaction(keep_read=True)``, for a request that so far only read and next
    asks a registry or a server (an availability check, an order's questions, a page)."""
    end_transaction(keep_read=True)


@contextmanager
def shared_reads() -> Iterator[None]:
    """Let ``memo`` keep what it loads until the block ends.

    A job that does the same work for many rows in one transaction (a batch of events)
    would otherwise read the same reseller's brand, sender domain, nameservers and webhook
    endpoints once per row. Only what that work never writes is read through ``memo``."""
    started = start_shared_reads()
    try:
        yield
    finally:
        if started:
            stop_shared_reads()


def start_shared_reads() -> bool:
    """``shared_reads`` for a block that is not a ``with``: a GET request, from its first
    hook to its teardown. False when one is open already (then leave it to its owner)."""
    if "memo" in db.session.info:
        return False
    db.session.info["memo"] = {}
    return True


def stop_shared_reads() -> None:
    db.session.info.pop("memo", None)


def memo(key: tuple, load: Callable[[], Any]) -> Any:
    """``load()``, kept under ``key`` while a ``shared_reads`` block runs (else not kept)."""
    kept = db.session.info.get("memo")
    if kept is None:
        return load()
    if key not in kept:
        kept[key] = load()
    return kept[key]


def transactional(view: Callable[..., Any]) -> Callable[..., Any]:
    """Run a view in one unit of work: commit on success, roll back on any error."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with unit_of_work():
            result = view(*args, **kwargs)
            if hooks := db.session.info.pop("before_answer", None):
                result = make_response(result)
                for hook in hooks:
                    hook(result)
            return result

    return wrapper


def insert_unless_exists(model: Any, *, options: tuple = (), **values: Any) -> Any:
    """Insert one ``model`` row and return it, or None when a unique constraint says it
    already exists (``INSERT ... ON CONFLICT DO NOTHING RETURNING``); ``options``: loader
    options for the row returned (e.g. ``lazyload`` of a collection the caller fills).

    One statement instead of a savepoint, a flush and a release: no round trips spent
    on the common case, and no IntegrityError to catch when a concurrent request won."""
    inserted = insert_all_unless_exist(model, [values], options=options)
    return inserted[0] if inserted else None


def insert_all_unless_exist(model: Any, rows: list[dict[str, Any]], *,
                            options: tuple = ()) -> list[Any]:
    """``insert_unless_exists`` for several rows in one statement: the rows inserted, in
    no particular order (match them by a unique column); those already there are left out.

    The rows go as parameters (one multi-row statement), not in ``.values(rows)``: a
    statement that carries its values has no cache key, so SQLAlchemy compiled it afresh
    on every call, some 0.5 ms of CPU each time on the hottest paths (an order, its events,
    its zone, its e-mail). Rows that give different columns go as one statement each set
    (a multi-row statement has one column list). A None is NULL."""
    if not rows:
        return []
    dialect = db.session.get_bind().dialect.name
    columns = _column_keys(model)
    groups: dict[frozenset[str], list[dict[str, Any]]] = {}
    for row in rows:
        translated = row if columns is None else {columns.get(k, k): v for k, v in row.items()}
        groups.setdefault(frozenset(translated), []).append(translated)
    statement = (_insert_statement(model, dialect) if not options
                 else _build_insert_statement(model, dialect, options))
    inserted: list[Any] = []
    for group in groups.values():
        inserted.extend(db.session.scalars(statement, group))
    return inserted


# BUILT ONCE. Statements an order runs several times are built once, with bound
# parameters, and kept (here per model and dialect; elsewhere as module constants marked
# "built once"): building a statement was a third or more of a simple read's client CPU
# (0.28 ms built for the call, 0.13-0.19 ms prebuilt).
@functools.cache
def _insert_statement(model: Any, dialect: str) -> Any:
    return _build_insert_statement(model, dialect, ())


def _build_insert_statement(model: Any, dialect: str, options: tuple) -> Any:
    # A Core INSERT ... RETURNING every column, loaded as the model's rows: the ORM's bulk
    # INSERT of the same rows cost a third more client CPU per statement (its unit of
    # work's machinery, for rows that are only parameters here).
    table = model.__table__
    insert = (pg_insert if dialect == "postgresql" else sqlite_insert)(table)
    return (sa.select(model).options(*options)
            .from_statement(insert.on_conflict_do_nothing().returning(*table.c))
            .execution_options(populate_existing=True))


@functools.cache
def _column_keys(model: Any) -> dict[str, str] | None:
    """The model's attribute names that differ from their columns' (attribute -> column
    key), or None when every one is its column's (the rows need no translating)."""
    differ = {prop.key: prop.columns[0].key for prop in sa.inspect(model).column_attrs
              if prop.key != prop.columns[0].key}
    return differ or None


@functools.cache
def _lock_row_statement(model: Any, sqlite: bool) -> sa.Select:
    return for_update(sa.select(model).where(model.id == sa.bindparam("row_id")),
                      sqlite=sqlite)


def upsert(model: Any, key: tuple[str, ...], **values: Any) -> Any:
    """Insert one ``model`` row, or update the row whose unique ``key`` columns match with
    the other values; return it (``INSERT ... ON CONFLICT (key) DO UPDATE ... RETURNING``).

    One statement where a read and then an insert or an update took two, and no race
    between them. The values go as parameters of a statement built once per model, key
    and set of columns (see ``insert_all_unless_exist`` for why not ``.values()``)."""
    return upsert_all(model, key, [values])[0]


def upsert_all(model: Any, key: tuple[str, ...], rows: list[dict[str, Any]]) -> list[Any]:
    """``upsert`` for several rows (each with the same columns) in one statement; of rows
    with the same key, the last one given wins, as one upsert after another would leave
    it (one statement may not touch a row twice). The rows stored, one per key."""
    if not rows:
        return []
    last = {tuple(row[name] for name in key): row for row in rows}
    statement = _upsert_statement(model, tuple(key), tuple(sorted(rows[0])),
                                  db.session.get_bind().dialect.name)
    return list(db.session.scalars(statement, list(last.values()), execution_options={
        "populate_existing": True, "render_nulls": True}))


@functools.cache
def _upsert_statement(model: Any, key: tuple[str, ...], columns: tuple[str, ...],
                      dialect: str) -> Any:
    insert = (pg_insert if dialect == "postgresql" else sqlite_insert)(model)
    changes = {name: getattr(insert.excluded, name) for name in columns if name not in key}
    return insert.on_conflict_do_update(index_elements=list(key), set_=changes).returning(model)


def keep_loaded(row: Any) -> Any:
    """Keep ``row`` in the session's identity map until the session ends.

    The identity map holds rows weakly, so a row nobody references is forgotten and the
    next ``session.get`` queries again. The caller's reseller, read by authentication, the
    rate limiter, pricing and tax in one request, is worth keeping."""
    if row is not None:
        db.session.info.setdefault("kept_loaded", []).append(row)
    return row


LIKE_ESCAPE = "\\"


def contains(column: Any, fragment: str, *, ignore_case: bool = False) -> sa.ColumnElement[bool]:
    """``column`` contains ``fragment`` literally (``%`` and ``_`` escaped): ``LIKE`` or
    ``ILIKE '%fragment%'``, the shape a PostgreSQL trigram index serves."""
    escaped = (fragment.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2).replace("%", LIKE_ESCAPE + "%")
               .replace("_", LIKE_ESCAPE + "_"))
    pattern = f"%{escaped}%"
    if ignore_case:
        return column.ilike(pattern, escape=LIKE_ESCAPE)
    return column.like(pattern, escape=LIKE_ESCAPE)


def is_sqlite(bind: Any = None) -> bool:
    return (bind or db.engine).dialect.name == "sqlite"


def for_update(stmt: sa.Select, *, sqlite: bool | None = None) -> sa.Select:
    """``stmt`` reading fresh rows with a row lock (PostgreSQL ``FOR UPDATE``).

    On SQLite every transaction already began with ``BEGIN IMMEDIATE`` (see
    ``configure_sqlite``), which serialises writers, so a plain read is enough there.
    ``sqlite``: the dialect, when the statement is built ahead (default: the app's).
    """
    stmt = stmt.execution_options(populate_existing=True)
    return stmt if (is_sqlite() if sqlite is None else sqlite) else stmt.with_for_update()


def lock_row(model: Any, row_id: Any) -> Any:
    """Load ``model`` by id with a row lock (see ``for_update``)."""
    return db.session.scalars(_lock_row_statement(model, is_sqlite()),
                              {"row_id": row_id}).one_or_none()


def ping_idle_connections(engine: Engine, *, after_seconds: float) -> None:
    """Pessimistic disconnect handling that costs no round trip on a busy pool.

    ``pool_pre_ping`` pings on every checkout: with one checkout per unit of work that is
    a quarter of the round trips of a ledger write. A connection that went back to the pool
    a moment ago is alive; what kills pooled connections (a database restart, a failover,
    a proxy's idle timeout) finds them idle. So only a connection idle longer than
    ``after_seconds`` is pinged, and a dead one raises ``DisconnectionError``, which makes
    the pool discard it and check out another (SQLAlchemy's custom pre-ping recipe).
    """

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < after_seconds:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            raise exc.DisconnectionError(f"pooled connection is dead: {error}") from error


def configure_sqlite(engine: Engine) -> None:
    """Make SQLite safe for concurrent writers: WAL, foreign keys, ``BEGIN IMMEDIATE``.

    pysqlite's own transaction handling defers BEGIN and breaks SAVEPOINTs, so we take
    over (the recipe from SQLAlchemy's SQLite dialect documentation).
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
