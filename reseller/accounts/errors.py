"""Errors raised by account services."""

from flask_babel import lazy_gettext as _l

from reseller.core.errors import Conflict, DomainError, Forbidden, NotFound


class InvalidCredentials(DomainError):
    status = 401
    code = "invalid_credentials"
    title = _l("Wrong email or password")


class InvalidTotp(DomainError):
    status = 401
    code = "invalid_totp"
    title = _l("Wrong or expired authentication code")


class InvalidToken(DomainError):
    status = 400
    code = "invalid_token"
    title = _l("The link is invalid or has expired")


class UserNotFound(NotFound):
    code = "user_not_found"
    title = _l("No such user")


class CredentialNotFound(NotFound):
    code = "credential_not_found"
    title = _l("No such credential")


class EmailTaken(Conflict):
    code = "email_taken"
    title = _l("A user with this email already exists")


class LastOwner(Conflict):
    code = "last_owner"
    title = _l("The account must keep at least one owner")


class ScopeNotAllowed(Forbidden):
    code = "scope_not_allowed"
    title = _l("Your role cannot grant this scope")


class PermissionDenied(Forbidden):
    code = "permission_denied"
    title = _l("Your role does not allow this")


class WrongPassword(InvalidCredentials):
    """Re-authentication before a change: counted like a failed sign-in."""

    code = "wrong_password"
    title = _l("The current password is wrong")


class InvalidRecoveryCode(InvalidTotp):
    code = "invalid_recovery_code"
    title = _l("Wrong or already used recovery code")
