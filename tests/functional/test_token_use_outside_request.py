"""An API request's own transaction stays read-only: the token's last use is written apart.

Written in the request's transaction, the once-a-minute ``last_used_at`` gave a GET a write
transaction and the request a transaction id for its whole length — across the registry,
DNS and HTTP calls its view makes — and the event feed of every reseller waits for the
oldest transaction id (issue 31)."""

from __future__ import annotations

import flask
import pytest
import sqlalchemy as sa

from reseller.accounts.models import AccessToken
from tests.support.factories import Factory


@pytest.mark.postgres_only
def test_a_request_records_its_tokens_use_without_a_transaction_id_of_its_own(app,
                                                                             committed_db):
    db = committed_db
    raw = Factory(app).token()
    seen: list[object] = []

    def inspect(sender, response, **extra) -> None:  # the view has run; nothing committed
        seen.append(db.session.scalar(sa.text("SELECT txid_current_if_assigned()")))

    flask.request_finished.connect(inspect, app)
    try:
        answer = app.test_client().get("/api/v1/domains",
                                       headers={"Authorization": f"Bearer {raw}"})
    finally:
        flask.request_finished.disconnect(inspect, app)
    assert answer.status_code == 200
    assert seen == [None]  # the request wrote nothing in its own transaction
    db.session.remove()
    token = db.session.scalar(sa.select(AccessToken))
    assert token.last_used_at is not None  # and the use is recorded all the same
