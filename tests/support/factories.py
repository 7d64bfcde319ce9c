"""Builders for test data and authenticated API calls."""

from __future__ import annotations

import itertools
import secrets
from typing import Any

from flask import Flask
from werkzeug.security import generate_password_hash

from reseller.accounts import services
from reseller.accounts.models import AccessToken, Reseller, User
from reseller.core.extensions import db
from reseller.core.permissions import SCOPES
from wallet.services import open_wallet

_seq = itertools.count(1)
# password -> the stored hash of every user made here with that password. The product's
# algorithm (services.PASSWORD_METHOD, scrypt) at a test cost: N=2**10 instead of
# werkzeug's 2**15, which takes ~0.1 s a hash and as long again at every sign-in (several
# hundred sign-ins in the suite). check_password_hash reads the cost from the stored hash,
# so signing in still verifies a real, salted scrypt hash through the product's own check.
# Users the product makes itself (sign-up, staff, password changes, the demo) keep the
# product's set_password and its full cost.
TEST_PASSWORD_METHOD = "scrypt:1024:8:1"
_password_hashes: dict[str, str] = {}


def _set_password(user: User, password: str) -> None:
    assert TEST_PASSWORD_METHOD.split(":")[0] == services.PASSWORD_METHOD
    if password not in _password_hashes:
        _password_hashes[password] = generate_password_hash(password,
                                                            method=TEST_PASSWORD_METHOD)
    user.password_hash = _password_hashes[password]


class Factory:
    def __init__(self, app: Flask) -> None:
        self.app = app

    def reseller(self, **overrides: Any) -> Reseller:
        n = next(_seq)
        fields = {
            "company_name": f"Reseller {n} Oy", "country": "FI", "business_id": "2464491-9",
            "vat_id": None, "contact_email": f"contact{n}@reseller{n}.example",
            "language": "fi", "tier": "standard",
            "status": "active",
        }
        fields.update(overrides)
        payment_mode = fields.pop("payment_mode", "prepaid")
        reseller = Reseller(**fields)
        db.session.add(reseller)
        db.session.flush()
        open_wallet(reseller_id=reseller.id, payment_mode=payment_mode)
        db.session.commit()  # a savepoint release in tests: survives a request's rollback
        return reseller

    def user(self, reseller: Reseller | None = None, *, role: str = "owner",
             password: str = "correct horse battery", **overrides: Any) -> User:
        n = next(_seq)
        reseller = reseller or self.reseller()
        user = User(reseller_id=reseller.id, email=f"user{n}@example.test", name=f"User {n}",
                    role=role, is_operator=False, **overrides)
        _set_password(user, password)
        db.session.add(user)
        db.session.commit()
        return user

    def operator(self, password: str = "operator password") -> User:
        n = next(_seq)
        user = User(email=f"staff{n}@operator.test", name="Staff", role="staff",
                    is_operator=True)
        _set_password(user, password)
        db.session.add(user)
        db.session.commit()
        return user

    def token(self, reseller: Reseller | None = None, *, scopes: list[str] | None = None,
              role: str = "owner") -> str:
        """A personal API token for a fresh user of ``reseller`` with ``scopes``."""
        user = self.user(reseller, role=role)
        raw = services.PERSONAL_TOKEN_PREFIX + secrets.token_urlsafe(24)
        db.session.add(AccessToken(
            reseller_id=user.reseller_id, kind="personal", user_id=user.id, name="test",
            prefix=raw[:12], token_hash=services.hash_token(raw),
            scopes=" ".join(scopes or sorted(services.scopes_for_role(role)))))
        db.session.commit()
        return raw

    def domain(self, reseller: Reseller, name: str, *, status: str = "active",
               nameservers: list[str] | None = None) -> Any:
        """A live domain held by ``reseller`` (stored as a completed registration would)."""
        from datetime import timedelta

        from reseller.core.clock import clock
        from reseller.domains.models import Domain
        from reseller.domains.records import reseller_contact

        now = clock.now()
        domain = Domain(reseller_id=reseller.id, name=name, live_name=name, unicode_name=name,
                        tld=name.rsplit(".", 1)[1], status=status, created_at=now,
                        expires_at=now + timedelta(days=365), nameservers=nameservers or [],
                        ds=[], registrant_id=reseller_contact(reseller.id).id)
        db.session.add(domain)
        db.session.commit()
        return domain

    def api(self, reseller: Reseller | None = None, **kwargs: Any) -> ApiClient:
        return ApiClient(self.app.test_client(), self.token(reseller, **kwargs))


class ApiClient:
    """The test client with a bearer token on every call."""

    def __init__(self, client: Any, token: str) -> None:
        self.client = client
        self.token = token

    def _headers(self, headers: dict[str, str] | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", **(headers or {})}

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.client.get(path, headers=self._headers(kwargs.pop("headers", None)), **kwargs)

    def post(self, path: str, json: Any = None, **kwargs: Any) -> Any:
        return self.client.post(path, json=json, headers=self._headers(kwargs.pop("headers", None)),
                                **kwargs)

    def put(self, path: str, json: Any = None, **kwargs: Any) -> Any:
        return self.client.put(path, json=json, headers=self._headers(kwargs.pop("headers", None)),
                               **kwargs)

    def patch(self, path: str, json: Any = None, **kwargs: Any) -> Any:
        return self.client.patch(path, json=json,
                                 headers=self._headers(kwargs.pop("headers", None)), **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Any:
        return self.client.delete(path, headers=self._headers(kwargs.pop("headers", None)),
                                  **kwargs)


ALL_SCOPES = sorted(SCOPES)
