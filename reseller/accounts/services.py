"""Account services: sign-in, passwords, TOTP, users and roles, API credentials.

Module-level functions with keyword-only arguments; they flush, never commit.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import pyotp
import sqlalchemy as sa
from werkzeug.security import check_password_hash, generate_password_hash

from reseller.accounts import passwords
from reseller.accounts.errors import (
    CredentialNotFound,
    EmailTaken,
    InvalidCredentials,
    InvalidTotp,
    LastOwner,
    PermissionDenied,
    ScopeNotAllowed,
    UserNotFound,
)
from reseller.accounts.models import AccessToken, OAuthClient, Reseller, User, scope_set

# Account emails, for the pages and the console (they queue outbox rows, sent after commit).
from reseller.accounts.notices import send_invitation as send_invitation
from reseller.accounts.notices import send_password_reset as send_password_reset
from reseller.accounts.throttling import LOCK_EVENT
from reseller.core.clock import clock
from reseller.core.db import is_sqlite, keep_loaded
from reseller.core.errors import NotFound, ValidationFailed
from reseller.core.events import Event
from reseller.core.extensions import db
from reseller.core.pagination import Page, paginate
from reseller.core.permissions import Permission, Role, can, scopes_for_role
from reseller.core.web.auth import Principal

PASSWORD_METHOD = "scrypt"  # memory-hard; werkzeug's default, stated so it stays so
PERSONAL_TOKEN_PREFIX = "tun_pat_"
ACCESS_TOKEN_PREFIX = "tun_at_"
# A fixed hash to compare against when the email is unknown, so timing does not tell.
_DUMMY_HASH = generate_password_hash("not-a-password", method=PASSWORD_METHOD)

log = logging.getLogger(__name__)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def set_password(user: User, password: str) -> None:
    user.password_hash = generate_password_hash(password, method=PASSWORD_METHOD)


STAFF_PASSWORD_MIN = 12
STAFF_ROLES = ("superuser", "staff")


def create_staff(*, email: str, name: str, password: str, role: str = "superuser",
                 language: str = "en") -> User:
    """An operator staff login (the console). Refuses an e-mail already in use."""
    email = email.strip().lower()
    errors: dict[str, list[str]] = {}
    local, _at, domain = email.partition("@")
    if not local or "." not in domain or len(email) > 254 or any(c.isspace() for c in email):
        errors["email"] = ["Not a valid email address."]
    if len(password) < STAFF_PASSWORD_MIN:
        errors["password"] = [f"Use at least {STAFF_PASSWORD_MIN} characters."]
    if role not in STAFF_ROLES:
        errors["role"] = ["Must be superuser or staff."]
    if errors:
        raise ValidationFailed(errors)
    if find_user_by_email(email) is not None:
        raise EmailTaken()
    user = User(email=email, name=name.strip() or email, role=role, is_operator=True,
                language=language)
    set_password(user, password)
    db.session.add(user)
    db.session.flush()
    return user


def count_staff() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(User)
                             .where(User.is_operator, User.active)) or 0


def get_reseller(reseller_id: int) -> Reseller:
    reseller = db.session.get(Reseller, reseller_id)
    if reseller is None:
        raise NotFound()
    return reseller


def list_resellers() -> list[Reseller]:
    """Every reseller, by company name (the operator console)."""
    return list(db.session.scalars(sa.select(Reseller).order_by(Reseller.company_name)))


def recent_locks(*, limit: int) -> list[Event]:
    """The latest credential locks (``throttling``) of every reseller and of the operator,
    newest first, for the console."""
    return list(db.session.scalars(sa.select(Event).where(Event.type == LOCK_EVENT)
                                   .order_by(Event.id.desc()).limit(limit)))


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(sa.select(User).where(User.email == email.strip().lower()))


def authenticate(*, email: str, password: str) -> User:
    """Check email and password. Guessing is throttled by the caller (``throttling``),
    which counts a refusal in a unit of work of its own."""
    user = find_user_by_email(email)
    if user is None or not user.active or not user.password_hash:
        check_password_hash(_DUMMY_HASH, password)
        raise InvalidCredentials()
    if not check_password_hash(user.password_hash, password):
        raise InvalidCredentials()
    if not user.totp_enabled:
        user.last_login_at = clock.now()
    db.session.flush()
    return user


def verify_totp(*, user: User, code: str) -> None:
    """Accept a current TOTP code once (a replayed code within its window is refused)."""
    if not user.totp_secret:
        raise InvalidTotp()
    totp = pyotp.TOTP(user.totp_secret)
    now = clock.now()
    code = (code or "").strip().replace(" ", "")
    for drift in (0, -1, 1):
        step = int(now.timestamp()) // totp.interval + drift
        if hmac.compare_digest(totp.generate_otp(step), code):
            if user.totp_last_step is not None and step <= user.totp_last_step:
                break
            user.totp_last_step = step
            user.last_login_at = now
            db.session.flush()
            return
    raise InvalidTotp()


def start_totp_enrolment(*, user: User) -> str:
    """Give the user a fresh secret to add to an authenticator; enabled once confirmed."""
    user.totp_secret = pyotp.random_base32()
    user.totp_enabled = False
    db.session.flush()
    return user.totp_secret


def confirm_totp_enrolment(*, user: User, code: str) -> None:
    verify_totp(user=user, code=code)
    user.totp_enabled = True
    db.session.flush()


def disable_totp(*, user: User, code: str) -> None:
    verify_totp(user=user, code=code)
    user.totp_enabled = False
    user.totp_secret = None
    db.session.flush()


def totp_uri(user: User, issuer: str) -> str:
    return pyotp.TOTP(user.totp_secret or "").provisioning_uri(name=user.email, issuer_name=issuer)


def reset_password(*, token: str, password: str, secret_key: str) -> User:
    user = passwords.user_of_password_token(token=token, secret_key=secret_key)
    set_password(user, password)
    db.session.flush()
    return user


# Users of a reseller
def list_users(*, reseller_id: int) -> list[User]:
    return list(
        db.session.scalars(
            sa.select(User).where(User.reseller_id == reseller_id).order_by(User.id)
        )
    )


def users_page(*, reseller_id: int, cursor: str | None, limit: int) -> Page:
    return paginate(sa.select(User).where(User.reseller_id == reseller_id), key=User.id,
                    cursor=cursor, limit=limit)


def get_user(*, reseller_id: int, user_id: int) -> User:
    user = db.session.scalar(
        sa.select(User).where(User.id == user_id, User.reseller_id == reseller_id)
    )
    if user is None:
        raise UserNotFound()
    return user


def require(role: str, permission: Permission) -> None:
    if not can(role, permission):
        raise PermissionDenied()


def invite_user(*, reseller_id: int, actor_role: str, email: str, name: str, role: str) -> User:
    """Add a user without a password; they set one through the emailed link."""
    require(actor_role, Permission.MANAGE_USERS)
    if role == Role.OWNER and actor_role != Role.OWNER:
        raise PermissionDenied()
    email = email.strip().lower()
    if find_user_by_email(email):
        raise EmailTaken()
    user = User(reseller_id=reseller_id, email=email, name=name, role=role, is_operator=False)
    db.session.add(user)
    db.session.flush()
    return user


def _owners(reseller_id: int) -> int:
    return db.session.scalar(
        sa.select(sa.func.count()).where(
            User.reseller_id == reseller_id, User.role == Role.OWNER, User.active
        )
    )


def change_role(*, reseller_id: int, actor_role: str, user_id: int, role: str) -> User:
    require(actor_role, Permission.MANAGE_USERS)
    user = get_user(reseller_id=reseller_id, user_id=user_id)
    if Role.OWNER in (role, user.role) and actor_role != Role.OWNER:
        raise PermissionDenied()
    if user.role == Role.OWNER and role != Role.OWNER and _owners(reseller_id) <= 1:
        raise LastOwner()
    user.role = role
    db.session.flush()
    return user


def remove_user(*, reseller_id: int, actor_role: str, user_id: int) -> None:
    """Deactivate a user and revoke their personal tokens (history stays)."""
    require(actor_role, Permission.MANAGE_USERS)
    user = get_user(reseller_id=reseller_id, user_id=user_id)
    if user.role == Role.OWNER:
        if actor_role != Role.OWNER:
            raise PermissionDenied()
        if _owners(reseller_id) <= 1:
            raise LastOwner()
    user.active = False
    now = clock.now()
    for token in db.session.scalars(
        sa.select(AccessToken).where(AccessToken.user_id == user.id, AccessToken.revoked_at.is_(None))
    ):
        token.revoked_at = now
    db.session.flush()


def update_profile(*, user: User, name: str | None = None, language: str | None = None) -> User:
    if name is not None:
        user.name = name
    if language is not None:
        user.language = language
    db.session.flush()
    return user


# Credentials
def _check_scopes(actor_role: str, scopes: list[str]) -> str:
    require(actor_role, Permission.MANAGE_CREDENTIALS)
    allowed = scopes_for_role(actor_role)
    wanted = sorted(set(scopes))
    if not wanted or not set(wanted) <= allowed:
        raise ScopeNotAllowed(extra_scopes=sorted(set(wanted) - allowed))
    return " ".join(wanted)


def create_oauth_client(
    *, reseller_id: int, actor: User, name: str, scopes: list[str]
) -> tuple[OAuthClient, str]:
    """Create a client-credentials client; the secret is returned once, then only hashed."""
    scope_text = _check_scopes(actor.role, scopes)
    secret = secrets.token_urlsafe(32)
    client = OAuthClient(
        reseller_id=reseller_id,
        client_id="tun_" + secrets.token_hex(12),
        secret_hash=generate_password_hash(secret, method="pbkdf2:sha256:100000"),
        name=name,
        scopes=scope_text,
        created_by_id=actor.id,
    )
    db.session.add(client)
    db.session.flush()
    return client, secret


def list_oauth_clients(*, reseller_id: int) -> list[OAuthClient]:
    return list(
        db.session.scalars(
            sa.select(OAuthClient)
            .where(OAuthClient.reseller_id == reseller_id)
            .order_by(OAuthClient.id)
        )
    )


def oauth_clients_page(*, reseller_id: int, cursor: str | None, limit: int) -> Page:
    return paginate(sa.select(OAuthClient).where(OAuthClient.reseller_id == reseller_id),
                    key=OAuthClient.id, cursor=cursor, limit=limit)


def revoke_oauth_client(*, reseller_id: int, actor_role: str, client_id: int) -> None:
    require(actor_role, Permission.MANAGE_CREDENTIALS)
    client = db.session.scalar(
        sa.select(OAuthClient).where(
            OAuthClient.id == client_id, OAuthClient.reseller_id == reseller_id
        )
    )
    if client is None:
        raise CredentialNotFound()
    now = clock.now()
    client.revoked_at = client.revoked_at or now
    db.session.execute(
        sa.update(AccessToken)
        .where(AccessToken.client_id == client.id, AccessToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    db.session.flush()


def create_personal_token(
    *, reseller_id: int, actor: User, name: str, scopes: list[str], days: int | None = None
) -> tuple[AccessToken, str]:
    """A revocable API token acting with the creating user's rights (and no more)."""
    scope_text = _check_scopes(actor.role, scopes)
    raw = PERSONAL_TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = AccessToken(
        reseller_id=reseller_id,
        kind="personal",
        user_id=actor.id,
        name=name,
        prefix=raw[: len(PERSONAL_TOKEN_PREFIX) + 4],
        token_hash=hash_token(raw),
        scopes=scope_text,
        expires_at=clock.now() + timedelta(days=days) if days else None,
    )
    db.session.add(token)
    db.session.flush()
    return token, raw


def list_personal_tokens(*, reseller_id: int) -> list[AccessToken]:
    return list(
        db.session.scalars(
            sa.select(AccessToken)
            .where(AccessToken.reseller_id == reseller_id, AccessToken.kind == "personal")
            .order_by(AccessToken.id)
        )
    )


def personal_tokens_page(*, reseller_id: int, cursor: str | None, limit: int) -> Page:
    return paginate(sa.select(AccessToken).where(AccessToken.reseller_id == reseller_id,
                                                 AccessToken.kind == "personal"),
                    key=AccessToken.id, cursor=cursor, limit=limit)


def revoke_personal_token(*, reseller_id: int, actor_user_id: int | None, actor_role: str,
                          token_id: int) -> None:
    """Users may revoke their own tokens; owners and admins anyone's."""
    token = db.session.scalar(
        sa.select(AccessToken).where(
            AccessToken.id == token_id,
            AccessToken.reseller_id == reseller_id,
            AccessToken.kind == "personal",
        )
    )
    if token is None:
        raise CredentialNotFound()
    if actor_user_id is None or token.user_id != actor_user_id:
        require(actor_role, Permission.MANAGE_CREDENTIALS)
    token.revoked_at = token.revoked_at or clock.now()
    db.session.flush()


@dataclass(frozen=True)
class Bearer:
    """A live bearer token, as much of it as an API request needs: values, not rows."""

    id: int
    reseller_id: int
    kind: str  # "oauth" | "personal"
    user_id: int | None
    role: str  # the user's role (a personal token); "admin" for an OAuth client's
    last_used_at: datetime | None


# Built once: every API request runs it (see BUILT ONCE in reseller.core.db). One round
# trip: the token's values with its user's or client's, and the reseller's row, which the
# request keeps loaded (its views read it). The token, user and client are read as
# columns, not as rows: loading the four as ORM rows (two joined loads) was a sixth of
# gunicorn's CPU under bench/orders.py, every API request paying it. The user's TOTP seed
# is not read at all (loading it decrypted it on every request with a personal token).
_T, _U, _C = AccessToken, User, OAuthClient
_BEARER = (sa.select(Reseller, _T.id.label("token_id"), _T.kind, _T.user_id, _T.scopes,
                     _T.expires_at, _T.revoked_at, _T.last_used_at,
                     _U.active.label("user_active"), _U.role.label("user_role"),
                     _C.id.label("client_id"), _C.revoked_at.label("client_revoked_at"),
                     _C.scopes.label("client_scopes"))
           .select_from(_T)
           .join(Reseller, Reseller.id == _T.reseller_id)
           .outerjoin(_U, _U.id == _T.user_id)
           .outerjoin(_C, _C.id == _T.client_id)
           .where(_T.token_hash == sa.bindparam("token_hash")))


def resolve_bearer(raw: str) -> tuple[Bearer, frozenset[str]] | None:
    """Find a live token and the scopes it may use now.

    A personal token never exceeds its user's current role: a demoted or removed user's
    tokens lose those rights at once.
    """
    found = db.session.execute(_BEARER, {"token_hash": hash_token(raw)}).first()
    now = clock.now()
    if found is None:
        return None
    if found.revoked_at is not None:
        return None
    if found.expires_at is not None and found.expires_at <= now:
        return None
    scopes = scope_set(found.scopes)
    if found.kind == "personal":
        if found.user_id is None or not found.user_active:
            return None
        scopes = scopes & scopes_for_role(found.user_role)
        role = found.user_role
    else:
        if found.client_id is None or found.client_revoked_at is not None:
            return None
        scopes = scopes & scope_set(found.client_scopes)
        role = "admin"
    reseller = keep_loaded(found.Reseller)
    if reseller.status == "closed":
        return None
    return Bearer(found.token_id, reseller.id, found.kind, found.user_id, role,
                  found.last_used_at), scopes


def _note_token_use(token: Bearer, now: datetime) -> None:
    """Record when the token was last used (at most once a minute), in a transaction of its
    own on another connection: written in the request's, it gave a read-only GET a write
    transaction, and the request a transaction id held across every registry, DNS or HTTP
    call its view makes (the event feed waits for the oldest one). A lost write is only a
    less precise date, so a failure is logged, not raised. SQLite: in the request's own
    transaction (every transaction there takes the one write lock at its start, so a
    second connection would wait for this very request)."""
    touch = sa.update(AccessToken).where(AccessToken.id == token.id).values(last_used_at=now)
    if is_sqlite():
        db.session.execute(touch)
        return
    try:
        with db.engine.begin() as connection:
            connection.execute(touch)
    except sa.exc.SQLAlchemyError:
        log.warning("could not record the use of token %s", token.id, exc_info=True)


def authenticate_token(raw: str) -> Principal | None:
    """The API caller a bearer token stands for (the web shell's authenticator)."""
    found = resolve_bearer(raw)
    if found is None:
        return None
    token, scopes = found
    now = clock.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        _note_token_use(token, now)
    return Principal(token.reseller_id, scopes, token.id, token.kind, token.user_id,
                     token.role)
