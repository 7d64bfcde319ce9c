"""Roles, what each may do, and which API scopes each may hold.

One matrix, read by the API's scope checks and the client area's page guards alike.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    BILLING = "billing"
    TECHNICAL = "technical"


class Permission(StrEnum):
    VIEW_ACCOUNT = "view_account"
    MANAGE_ACCOUNT = "manage_account"  # company and contact details
    VIEW_BILLING = "view_billing"  # money: wallet, invoices, prices paid
    MANAGE_BILLING = "manage_billing"  # top-ups, withdrawals, payment methods
    MANAGE_DOMAINS = "manage_domains"
    VIEW_DOMAINS = "view_domains"
    MANAGE_USERS = "manage_users"
    MANAGE_CREDENTIALS = "manage_credentials"
    CLOSE_ACCOUNT = "close_account"
    MANAGE_BRAND = "manage_brand"


ALL = frozenset(Permission)

MATRIX: dict[Role, frozenset[Permission]] = {
    Role.OWNER: ALL,
    Role.ADMIN: ALL,
    Role.BILLING: frozenset(
        {Permission.VIEW_ACCOUNT, Permission.VIEW_BILLING, Permission.MANAGE_BILLING,
         Permission.VIEW_DOMAINS}
    ),
    Role.TECHNICAL: frozenset(
        {Permission.VIEW_ACCOUNT, Permission.VIEW_DOMAINS, Permission.MANAGE_DOMAINS,
         Permission.MANAGE_BRAND}
    ),
}

# API scopes and the permission each needs from the user who creates the credential.
SCOPES: dict[str, Permission] = {
    "account:read": Permission.VIEW_ACCOUNT,
    "account:write": Permission.MANAGE_USERS,
    "domains:read": Permission.VIEW_DOMAINS,
    "domains:write": Permission.MANAGE_DOMAINS,
    "dns:read": Permission.VIEW_DOMAINS,
    "dns:write": Permission.MANAGE_DOMAINS,
    "billing:read": Permission.VIEW_BILLING,
    "billing:write": Permission.MANAGE_BILLING,
    "whitelabel:read": Permission.VIEW_ACCOUNT,
    "whitelabel:write": Permission.MANAGE_BRAND,
    "events:read": Permission.VIEW_ACCOUNT,
    "webhooks:read": Permission.VIEW_ACCOUNT,
    "webhooks:write": Permission.MANAGE_CREDENTIALS,
    # Every user may ask for help; changing the plan needs billing:write besides.
    "support:read": Permission.VIEW_ACCOUNT,
    "support:write": Permission.VIEW_ACCOUNT,
    "trademarks:read": Permission.VIEW_DOMAINS,
    "trademarks:write": Permission.MANAGE_DOMAINS,
}


def can(role: str | Role, permission: Permission) -> bool:
    try:
        return permission in MATRIX[Role(role)]
    except ValueError:
        return False


def scopes_for_role(role: str | Role) -> frozenset[str]:
    """Scopes a user of ``role`` may put on a credential."""
    return frozenset(scope for scope, needed in SCOPES.items() if can(role, needed))
