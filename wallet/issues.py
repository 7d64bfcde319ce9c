"""The operator's queue of provider payments (``wallet_payment_issues``): staff read each
issue, add notes as they settle it at the provider, and resolve it (or open it again).

Issues are written by ``wallet.topups`` (money refused, taken back or disputed); nothing in
them was converted or credited. Notes are appended, never rewritten: each says who and
when, so the queue is its own audit trail.
"""

from __future__ import annotations

import sqlalchemy as sa

from reseller.core.clock import clock
from reseller.core.extensions import db
from wallet.errors import IssueNoteInvalid, PaymentIssueNotFound, PaymentIssueState
from wallet.models import PaymentIssue

STATES = ("open", "resolved")
KINDS = ("currency", "amount", "refund", "chargeback", "reinstated", "dispute",
         "unknown_payment")
MAX_NOTE = 2000


def list_issues(*, state: str | None = "open", kind: str | None = None,
                reseller_id: int | None = None, before_id: int | None = None,
                limit: int = 50) -> tuple[list[PaymentIssue], int | None]:
    """Newest first; the page and the id to continue before (or None)."""
    stmt = sa.select(PaymentIssue).order_by(PaymentIssue.id.desc()).limit(limit + 1)
    if state in STATES:
        stmt = stmt.where(PaymentIssue.state == state)
    if kind in KINDS:
        stmt = stmt.where(PaymentIssue.kind == kind)
    if reseller_id is not None:
        stmt = stmt.where(PaymentIssue.reseller_id == reseller_id)
    if before_id is not None:
        stmt = stmt.where(PaymentIssue.id < before_id)
    rows = list(db.session.scalars(stmt))
    return rows[:limit], (rows[limit - 1].id if len(rows) > limit else None)


def count_open() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(PaymentIssue)
                             .where(PaymentIssue.state == "open")) or 0


def get_issue(*, issue_id: int, lock: bool = False) -> PaymentIssue:
    stmt = sa.select(PaymentIssue).where(PaymentIssue.id == issue_id).execution_options(
        populate_existing=True)
    issue = db.session.scalar(stmt.with_for_update() if lock else stmt)
    if issue is None:
        raise PaymentIssueNotFound()
    return issue


def _append(issue: PaymentIssue, note: str, actor: str, action: str | None = None) -> None:
    text = note.strip()
    if not text and action is None:
        raise IssueNoteInvalid()
    line = f"{clock.now():%Y-%m-%d %H:%M} UTC {actor}{f' [{action}]' if action else ''}"
    if text:
        line = f"{line}: {text}"
    issue.note = f"{issue.note}\n{line}" if issue.note else line
    issue.note = issue.note[-20000:]


def annotate_issue(*, issue_id: int, note: str, actor: str) -> PaymentIssue:
    """Add a note (what was done at the provider, who was contacted)."""
    if len(note) > MAX_NOTE:
        raise IssueNoteInvalid()
    issue = get_issue(issue_id=issue_id, lock=True)
    _append(issue, note, actor)
    db.session.flush()
    return issue


def resolve_issue(*, issue_id: int, note: str, actor: str) -> PaymentIssue:
    """Close an open issue, saying how it was settled (a note is required)."""
    if not note.strip() or len(note) > MAX_NOTE:
        raise IssueNoteInvalid()
    issue = get_issue(issue_id=issue_id, lock=True)
    if issue.state != "open":
        raise PaymentIssueState(state=issue.state)
    _append(issue, note, actor, action="resolved")
    issue.state, issue.resolved_at, issue.resolved_by = "resolved", clock.now(), actor
    db.session.flush()
    return issue


def reopen_issue(*, issue_id: int, note: str, actor: str) -> PaymentIssue:
    """Open a resolved issue again (it was not settled after all)."""
    if len(note) > MAX_NOTE:
        raise IssueNoteInvalid()
    issue = get_issue(issue_id=issue_id, lock=True)
    if issue.state != "resolved":
        raise PaymentIssueState(state=issue.state)
    _append(issue, note, actor, action="reopened")
    issue.state, issue.resolved_at, issue.resolved_by = "open", None, None
    db.session.flush()
    return issue
