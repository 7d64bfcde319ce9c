"""Guessing defence for credentials: sign-in, TOTP codes, password reset and the OAuth2
token endpoint count failures per credential (account, user, client id) and per client
address; too many lock the key for a while (429 with Retry-After) and tell the operator.

Each action keeps its own counters. The attempt that reaches the limit still gets its
ordinary refusal; the ones after it get 429 until the lock ends.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import current_app

from reseller.accounts.models import OAuthClient, User
from reseller.core.errors import TooManyAttempts
from reseller.core.events import record_event
from reseller.core.extensions import db
from reseller.core.throttle import Rule, ThrottleStore, seconds_until, throttle_key

LOCK_EVENT = "security.locked"
SIGN_IN, TOTP, PASSWORD_RESET, OAUTH_TOKEN = "sign_in", "totp", "password_reset", "oauth_token"
# What the credential of each action names, for the operator's event.
_SUBJECTS = {SIGN_IN: "account", TOTP: "user", PASSWORD_RESET: "account", OAUTH_TOKEN: "client"}


@dataclass(frozen=True)
class Attempt:
    action: str
    credential: str | None  # e-mail, user id or client id; None when there is none to name
    address: str

    def keys(self) -> list[tuple[str, str, str]]:
        """(store key, subject kind, subject) for each counter this attempt touches."""
        keys = [(throttle_key(f"{self.action}:address", self.address), "address", self.address)]
        if self.credential:
            subject = _SUBJECTS[self.action]
            keys.insert(0, (throttle_key(f"{self.action}:{subject}", self.credential.lower()),
                            subject, self.credential))
        return keys


class Guard:
    """The throttle of one application: a store and the limits from its config."""

    def __init__(self, store: ThrottleStore, *, per_credential: Rule, per_address: Rule) -> None:
        self.store = store
        self.rules = {"address": per_address}
        self.per_credential = per_credential

    def _rule(self, kind: str) -> Rule:
        return self.rules.get(kind, self.per_credential)

    def check(self, attempt: Attempt) -> None:
        """Refuse (429) while any of the attempt's keys is locked."""
        ends = [until for key, _, _ in attempt.keys()
                if (until := self.store.locked_until(key)) is not None]
        if ends:
            raise TooManyAttempts(retry_after=seconds_until(max(ends)))

    def failed(self, attempt: Attempt) -> None:
        """Count a failure; a key it locks is recorded as an event. Run it in a unit of
        work of its own, so the refused request's rollback does not undo it."""
        for key, kind, subject in attempt.keys():
            until = self.store.fail(key, self._rule(kind))
            if until is not None:
                record_event(
                    reseller_id=_owner(attempt.action, kind, subject), type=LOCK_EVENT,
                    dedupe_key=f"{LOCK_EVENT}:{key}:{int(until.timestamp())}",
                    data={"action": attempt.action, "subject": kind, "value": subject,
                          "address": attempt.address,
                          "failures": self._rule(kind).limit,
                          "locked_until": until.isoformat().replace("+00:00", "Z")})

    def succeeded(self, attempt: Attempt) -> None:
        """A success forgets the credential's failures (the address keeps its count)."""
        for key, kind, _ in attempt.keys():
            if kind != "address":
                self.store.clear(key)


def _owner(action: str, kind: str, subject: str) -> int | None:
    """The reseller whose credential was locked (None: an address, an unknown name, staff);
    their event feed shows the lock, and the operator sees every one."""
    if kind == "address":
        return None
    if kind == "client":
        return db.session.scalar(sa.select(OAuthClient.reseller_id)
                                 .where(OAuthClient.client_id == subject))
    user = (db.session.get(User, int(subject)) if kind == "user" and subject.isdigit()
            else db.session.scalar(sa.select(User).where(User.email == subject.strip().lower())))
    return user.reseller_id if user is not None else None


def guard_from_config(config: dict[str, Any], store: ThrottleStore) -> Guard:
    lock = config["LOGIN_LOCK_MINUTES"] * 60
    return Guard(store,
                 per_credential=Rule(config["LOGIN_MAX_FAILURES"], lock, lock),
                 per_address=Rule(config["LOGIN_MAX_FAILURES_PER_ADDRESS"], lock, lock))


def current_guard() -> Guard:
    return current_app.extensions["tunnus.guard"]
