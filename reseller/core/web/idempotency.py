"""Idempotency-Key for every POST under ``/api/v1``, applied centrally to the blueprint.

A POST carrying ``Idempotency-Key`` claims the key (a row unique per reseller) inside the
request's own transaction, so the claim commits together with whatever the view created.
On PostgreSQL the claim is a transaction-scoped advisory lock until that commit, and the
row is written with the answer (or at the view's first commit): a view that asks the
registry or a provider before it writes holds no transaction id meanwhile, so it holds
back no reseller's event feed (which shows only what no running transaction precedes).
A successful (2xx/3xx) answer is stored in that same transaction (``before_answer``), so
the effect and its answer commit together: a replay always gets the first answer (status,
body, Content-Type, Location), even when something after the commit failed. A concurrent
request with the same key does not wait on the first one's row: it looks for the committed
answer every 50 ms for at most ``IDEMPOTENCY_WAIT_SECONDS`` (2), then gets 409
``idempotency_key_in_use`` with ``Retry-After``. A refused request (4xx/5xx) rolls its
claim back with everything else, so a retry is judged afresh (a view that committed its
claim before asking the registry or a provider has the claim's row deleted when it is
refused after that), and a request that dies before committing takes its claim with it.
A claim committed without its answer yet, younger than ``IDEMPOTENCY_IN_USE_SECONDS``
(300), is a request still waiting on such a call: a retry meanwhile waits as above, then
gets ``idempotency_key_in_use``; an older one is ``idempotency_key_unanswered`` (the
request died before answering; the console lists it).
A view that asks the registry a read-only question before it writes (placing an order:
is the name free, is it premium) is ``claims_late``: the key is replayed or refused as
above before the view runs, but claimed by the view itself (``claim``) once the registry
has answered, so no transaction is open across the question and a request that dies
during it leaves no key behind.
The same key with a different method, path or body is a 422 ``idempotency_key_reused``.
A response carrying a secret (``Cache-Control: no-store``) is stored encrypted and replayed
with the same header. Rows are kept ``IDEMPOTENCY_TTL_HOURS`` (at least 24) and then purged by a periodic job.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import Response, current_app, request
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, Session, mapped_column

from reseller.core.clock import clock
from reseller.core.crypto import keyring
from reseller.core.db import before_answer, end_reads, insert_unless_exists, is_sqlite, unit_of_work
from reseller.core.errors import Conflict, DomainError, Unauthorized
from reseller.core.extensions import db
from reseller.core.jobs import periodic
from reseller.core.types import UTCDateTime
from reseller.core.web.auth import current_principal
from reseller.core.web.helpers import _KEY, InvalidIdempotencyKey

log = logging.getLogger(__name__)

HEADER = "Idempotency-Key"
_CLAIM = "tunnus.idempotency"
_LATE = "tunnus.idempotency.late"  # request.environ: a claims_late view's claim to make
_UNWRITTEN = "tunnus.idempotency.unwritten"  # session.info: a claim whose row is not written
_OPEN = "tunnus.idempotency.open"  # session.info: this session's claim, not answered yet
_COMMITTED = "tunnus.idempotency.committed"  # session.info: ... and committed unanswered
_REPLAYED_HEADERS = ("Content-Type", "Location", "Cache-Control", "Pragma")
_LOCK_SPACE = 0x1D3  # advisory-lock namespace of Idempotency-Keys (pg_try_advisory_xact_lock)


class IdempotencyRecord(db.Model):
    """One claimed key: who used it for what, and the response that was given."""

    __tablename__ = "idempotency_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    reseller_id: Mapped[int] = mapped_column(sa.ForeignKey("resellers.id"))
    key: Mapped[str] = mapped_column(sa.String(255))
    token_id: Mapped[int | None] = mapped_column(sa.Integer)
    method: Mapped[str] = mapped_column(sa.String(10))
    path: Mapped[str] = mapped_column(sa.String(500))
    body_hash: Mapped[str] = mapped_column(sa.String(64))
    response_status: Mapped[int | None] = mapped_column(sa.Integer)
    response_body: Mapped[str | None] = mapped_column(sa.Text)
    response_headers: Mapped[dict | None] = mapped_column(sa.JSON)
    # Real time, not the business clock: a key protects a client's retries, which happen in
    # real time; the sandbox time machine moving the clock a month on must not make a key
    # used a second ago forgettable (the fault suite's month-end phase saw one purged).
    created_at: Mapped[datetime] = mapped_column(UTCDateTime,
                                                 default=lambda: clock.real_now(), index=True)

    __table_args__ = (sa.UniqueConstraint("reseller_id", "key"),)


class IdempotencyKeyReused(DomainError):
    status = 422
    code = "idempotency_key_reused"
    title = _l("This Idempotency-Key was already used for a different request")


class IdempotencyKeyInUse(Conflict):
    code = "idempotency_key_in_use"
    title = _l("A request with this Idempotency-Key is still being processed")

    def __init__(self, detail: Any = None, *, retry_after: int = 1) -> None:
        super().__init__(detail, retry_after=retry_after)
        self.retry_after = retry_after

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class IdempotencyKeyUnanswered(Conflict):
    code = "idempotency_key_unanswered"
    title = _l("The first request with this Idempotency-Key was interrupted after it took "
               "effect")


def exempt(view: Callable) -> Callable:
    """Mark a POST view that creates and moves nothing (e.g. a bulk check) as exempt."""
    view._idempotency_exempt = True
    return view


def claims_late(view: Callable) -> Callable:
    """Mark a POST view that asks the registry a read-only question before it writes (is the
    name free, is it premium): ``before_post`` replays an answered key as usual but claims
    nothing and ends the request's reads, the view asks with no transaction open, then
    claims the key itself (``claim``) before its first write. The claim is an advisory lock
    of the transaction that writes; claimed before the question, it would have to be
    committed first, and a request dying during the question would leave the key in use."""
    view._idempotency_late = True
    return view


def claim() -> Response | None:
    """The claim of a ``claims_late`` view: call it after the registry's answer and before
    anything is written; a Response (the key was answered meanwhile: return it as the
    view's answer) or None (claimed, or no key: go on)."""
    pending = request.environ.pop(_LATE, None)
    if pending is None:
        return None
    return _claim_or_replay(*pending)


def body_fingerprint(method: str, path: str, raw: bytes) -> str:
    """SHA-256 over method, path and the body (JSON canonicalised: key order is free)."""
    try:
        canonical = json.dumps(json.loads(raw), sort_keys=True, separators=(",", ":"))
        body = canonical.encode()
    except (ValueError, UnicodeDecodeError):
        body = raw
    digest = hashlib.sha256()
    for part in (method.encode(), b"\0", path.encode(), b"\0", body):
        digest.update(part)
    return digest.hexdigest()


def _applies() -> bool:
    if request.method != "POST" or HEADER not in request.headers:
        return False
    view = current_app.view_functions.get(request.endpoint or "")
    return view is not None and not getattr(view, "_idempotency_exempt", False)


# Built once: every write with a key reads it twice (see BUILT ONCE in reseller.core.db)
_FIND = (sa.select(IdempotencyRecord)
         .where(IdempotencyRecord.reseller_id == sa.bindparam("reseller_id"),
                IdempotencyRecord.key == sa.bindparam("key"))
         .execution_options(populate_existing=True))


_TRY_LOCK = sa.select(sa.func.pg_try_advisory_xact_lock(
    sa.literal(_LOCK_SPACE), sa.func.hashtext(sa.bindparam("lock_key", type_=sa.String))))


def _find(reseller_id: int, key: str) -> IdempotencyRecord | None:
    return db.session.scalar(_FIND, {"reseller_id": reseller_id, "key": key})


def _replay(record: IdempotencyRecord) -> Response:
    # decrypt() passes a body that was stored in the clear (no secret in it) through.
    response = Response(keyring().decrypt(record.response_body or ""),
                        status=record.response_status)
    for name, value in (record.response_headers or {}).items():
        response.headers[name] = value
    response.headers["Idempotent-Replayed"] = "true"
    return response


def _claim(principal: Any, key: str, fingerprint: str) -> bool:
    """Claim the key in this request's transaction; False if it is taken.

    On PostgreSQL the claim first takes a transaction-scoped advisory lock on the key
    without waiting (``pg_try_advisory_xact_lock``): while another request holds the key
    uncommitted, this one gets False at once instead of waiting for as long as that
    request runs. Holding the lock, a key with no committed row is ours: its row is
    inserted by the first commit (``_insert_claim``), with the answer when the view is
    ``@transactional``; until then the claim writes nothing. A crashed request's lock
    vanishes with its connection, so its key is free again at once."""
    values = {"reseller_id": principal.reseller_id, "key": key,
              "token_id": principal.token_id, "method": request.method,
              "path": request.path[:500], "body_hash": fingerprint, "created_at": clock.real_now()}
    if is_sqlite():  # one writer at a time: nothing to wait for
        claimed = insert_unless_exists(IdempotencyRecord, **values) is not None
        if claimed:
            db.session.info[_OPEN] = True
        return claimed
    if not db.session.scalar(_TRY_LOCK, {"lock_key": f"{principal.reseller_id}:{key}"}):
        return False
    if _find(principal.reseller_id, key) is not None:
        return False  # used before: ``_settled`` replays it (or refuses it)
    db.session.info[_UNWRITTEN] = values
    db.session.info[_OPEN] = True
    return True


# Built once (reseller.core.db), Core, the values as parameters: a statement that carries
# its values in ``.values()`` has no cache key and was compiled afresh for every answer.
_INSERT_RECORD = sa.insert(IdempotencyRecord.__table__)


def _insert_claim(session: Any) -> None:
    """Before a commit: write the claim's row, if this transaction holds an unwritten one."""
    values = session.info.pop(_UNWRITTEN, None)
    if values is not None:
        session.execute(_INSERT_RECORD, values)
    if session.info.get(_OPEN):  # committed before its answer: a refusal must delete it
        session.info[_COMMITTED] = True


def _drop_claim(session: Any) -> None:
    """A rollback ends the advisory lock, and with it an unwritten claim (a claim
    committed already stays, to be answered or deleted)."""
    session.info.pop(_UNWRITTEN, None)
    if not session.info.get(_COMMITTED):
        session.info.pop(_OPEN, None)


def listen_for_commits() -> None:
    """Write unwritten claims at commit, drop them at rollback (every session)."""
    if not sa.event.contains(Session, "before_commit", _insert_claim):
        sa.event.listen(Session, "before_commit", _insert_claim)
        sa.event.listen(Session, "after_rollback", _drop_claim)


def _settled(reseller_id: int, key: str, fingerprint: str) -> Response | None:
    """The committed answer under this key, if there is one (else None: keep waiting)."""
    db.session.rollback()  # a fresh snapshot each look (and no open transaction)
    return _judged(_find(reseller_id, key), fingerprint)


def _judged(record: IdempotencyRecord | None, fingerprint: str) -> Response | None:
    """The replay of ``record``'s answer; None while there is none to give yet; a refusal
    when the key was used for another request or its first request was interrupted."""
    if record is None:
        return None
    if record.body_hash != fingerprint:
        raise IdempotencyKeyReused(_l("Use a new Idempotency-Key for a different request."))
    if record.response_status is not None:
        return _replay(record)
    # Committed without an answer: a request that commits before it asks the registry or
    # a provider (a domain command journaled first, a payment's checkout) while it waits
    # for the answer; or one that died between that commit and storing the answer (the
    # console lists those). A claim younger than IDEMPOTENCY_IN_USE_SECONDS is the former.
    if record.created_at > clock.real_now() - _in_use_window():
        return None
    raise IdempotencyKeyUnanswered()


def before_post() -> Response | None:
    """Claim the key in the request's transaction, or replay/refuse a used one.

    Waiting for a concurrent request with the same key is bounded
    (``IDEMPOTENCY_WAIT_SECONDS``): then 409 ``idempotency_key_in_use`` with
    ``Retry-After``, so a retry storm never pins the web workers."""
    if not _applies():
        return None
    key = request.headers[HEADER]
    if not _KEY.match(key):
        raise InvalidIdempotencyKey()
    try:
        principal = current_principal()
    except Unauthorized:  # a public endpoint (e.g. applying): no tenant to keep keys for
        return None
    fingerprint = body_fingerprint(request.method, request.path, request.get_data())
    view = current_app.view_functions.get(request.endpoint or "")
    if getattr(view, "_idempotency_late", False):
        if (replay := _judged(_find(principal.reseller_id, key), fingerprint)) is not None:
            return replay
        request.environ[_LATE] = (principal, key, fingerprint)
        end_reads()
        return None
    return _claim_or_replay(principal, key, fingerprint)


def _claim_or_replay(principal: Any, key: str, fingerprint: str) -> Response | None:
    deadline = time.monotonic() + current_app.config.get("IDEMPOTENCY_WAIT_SECONDS", 2)
    while True:
        if _claim(principal, key, fingerprint):
            request.environ[_CLAIM] = (principal.reseller_id, key)
            before_answer(_store_answer)
            return None
        if (replay := _settled(principal.reseller_id, key, fingerprint)) is not None:
            return replay
        if time.monotonic() > deadline:
            raise IdempotencyKeyInUse(retry_after=1)
        time.sleep(0.05)


def _answer(response: Response) -> dict[str, Any]:
    headers = {name: response.headers[name]
               for name in _REPLAYED_HEADERS if name in response.headers}
    body = response.get_data(as_text=True)
    if "no-store" in response.headers.get("Cache-Control", ""):
        body = keyring().encrypt(body)
    return {"response_status": response.status_code, "response_body": body,
            "response_headers": headers}


def _store_answer(response: Response) -> None:
    """In the view's own transaction: the answer commits with the effect, or neither does.
    A refusal returned (not raised) drops the claim, so a corrected retry runs afresh."""
    claim = request.environ.pop(_CLAIM, None)
    if claim is None:
        return
    db.session.info.pop(_OPEN, None)
    db.session.info.pop(_COMMITTED, None)
    _write_answer(claim, response)


def _write_answer(claim: tuple[int, str], response: Response) -> None:
    """Store ``response`` under the claimed key (its row written now if it was not yet);
    a refusal drops the claim."""
    unwritten = db.session.info.pop(_UNWRITTEN, None)
    if response.status_code >= 400:
        if unwritten is None:  # written at an earlier commit of this request
            _delete_unanswered(claim)
        return
    if unwritten is not None:
        db.session.execute(_INSERT_RECORD, {**unwritten, **_answer(response)})
        return
    reseller_id, key = claim
    # One UPDATE, no read first: no row means the view's transaction rolled back but
    # still answered 2xx, and there is nothing to store.
    db.session.execute(
        sa.update(IdempotencyRecord)
        .where(IdempotencyRecord.reseller_id == reseller_id, IdempotencyRecord.key == key)
        .values(**_answer(response)).execution_options(synchronize_session=False))


def _forget_claim(claim: tuple[int, str]) -> None:
    """A refusal raised after the view committed its claim (it asked the registry or a
    provider with no transaction open): the claim's unanswered row is deleted, so a retry
    is judged afresh. The key was ours until now, so an unanswered row under it is ours."""
    reseller_id, key = claim
    try:
        with unit_of_work():
            _delete_unanswered(claim)
    except sa.exc.DBAPIError:  # the database gone: the key stays in use, then unanswered
        log.warning("Idempotency-Key %s of reseller %s: refused, but its claim could not "
                    "be deleted", key, reseller_id, exc_info=True)


def _delete_unanswered(claim: tuple[int, str]) -> None:
    """Delete the claim's row, committed without an answer by a request now refused."""
    reseller_id, key = claim
    db.session.execute(sa.delete(IdempotencyRecord).where(
        IdempotencyRecord.reseller_id == reseller_id, IdempotencyRecord.key == key,
        IdempotencyRecord.response_status.is_(None))
        .execution_options(synchronize_session=False))


def _in_use_window() -> timedelta:
    """How long a claim committed without its answer counts as a request still waiting."""
    return timedelta(seconds=current_app.config.get("IDEMPOTENCY_IN_USE_SECONDS", 300))


def after_post(response: Response) -> Response:
    """A view outside ``@transactional`` left its claim unanswered: store its answer now
    (or drop the claim on a refusal)."""
    db.session.info.pop("before_answer", None)
    claim = request.environ.pop(_CLAIM, None)
    db.session.info.pop(_OPEN, None)
    committed = db.session.info.pop(_COMMITTED, False)
    if claim is None:
        return response
    if response.status_code >= 400:
        db.session.rollback()  # a claim not committed yet goes with the rest
        if committed:
            _forget_claim(claim)
        return response
    with unit_of_work():
        _write_answer(claim, response)
    return response


@periodic("purge_idempotency_keys", "23 * * * *",
          "Forget Idempotency-Keys older than IDEMPOTENCY_TTL_HOURS (default 24)")
def purge_idempotency_keys(ttl_hours: int | None = None) -> int:
    hours = max(24, ttl_hours or current_app.config.get("IDEMPOTENCY_TTL_HOURS", 24))
    cutoff = clock.real_now() - timedelta(hours=hours)
    result = db.session.execute(
        sa.delete(IdempotencyRecord).where(IdempotencyRecord.created_at < cutoff))
    return result.rowcount or 0


def unanswered_keys(*, older_than: timedelta | None = None,
                    limit: int = 100) -> list[IdempotencyRecord]:
    """Keys committed without an answer (a request that died between its commit and
    storing the answer): their retries get 409. Younger than ``older_than`` (default
    ``IDEMPOTENCY_IN_USE_SECONDS``) a request may still be waiting on its call."""
    if older_than is None:
        older_than = _in_use_window()
    return list(db.session.scalars(
        sa.select(IdempotencyRecord)
        .where(IdempotencyRecord.response_status.is_(None),
               IdempotencyRecord.created_at <= clock.real_now() - older_than)
        .order_by(IdempotencyRecord.created_at).limit(limit)))


def forget_key(record_id: int) -> bool:
    """The operator checked the effect and lets the key be used again (a retry then runs
    afresh: only after making sure it should)."""
    record = db.session.get(IdempotencyRecord, record_id)
    if record is None or record.response_status is not None:
        return False
    db.session.delete(record)
    return True


def stored_count(reseller_id: int) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(IdempotencyRecord)
                             .where(IdempotencyRecord.reseller_id == reseller_id)) or 0


__all__: list[Any] = ["IdempotencyRecord", "IdempotencyKeyReused", "exempt",
                      "purge_idempotency_keys"]
