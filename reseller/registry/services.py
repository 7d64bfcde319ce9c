"""The registry for the other features: the adapter REGISTRY_ADAPTER chooses (``sandbox``,
the embedded default with real rules and state in our database, or ``epp``, the
registries of ``EPP_REGISTRIES``, see ``reseller.registry.epp.router``), and the sandbox
registry's demo rows. The interface is ``reseller.registry.models.Registry``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import current_app

from reseller.core.extensions import db
from reseller.registry.models import Registry
from reseller.registry.sandbox_models import SandboxContact, SandboxDomain
from reseller.registry.sandbox_state import new_roid


def registry_from_config(config: Any) -> Registry:
    adapter = config.get("REGISTRY_ADAPTER", "sandbox")
    # Only the adapter chosen is loaded: the EPP router brings lxml, TLS pools and the XML
    # schemas; the sandbox its registry state.
    if adapter == "sandbox":
        from reseller.registry.sandbox import SandboxRegistry

        return SandboxRegistry.from_config(config)
    if adapter == "epp":
        from reseller.registry.epp.router import EppRouter

        return EppRouter.from_config(config)
    raise RuntimeError(f"unknown REGISTRY_ADAPTER {adapter!r} (available: sandbox, epp)")


def get_registry() -> Registry:
    return current_app.extensions["tunnus.registry"]


# -- demo data (the embedded default: the sandbox registry's own rows) ---------------------

def add_sandbox_domain(*, name: str, sponsor: str, auth_code: str, created_at: datetime,
                       expires_at: datetime, nameservers: list[str],
                       registrant: str | None = None) -> None:
    """A name the sandbox registry holds for ``sponsor`` (idempotent; caller commits)."""
    if db.session.get(SandboxDomain, name) is None:
        db.session.add(SandboxDomain(name=name, sponsor=sponsor, auth_code=auth_code,
                                     created_at=created_at, expires_at=expires_at,
                                     roid=new_roid(), server_statuses=[],
                                     registrant=registrant, nameservers=nameservers, ds=[]))
        db.session.flush()


def add_sandbox_contact(*, handle: str, sponsor: str, data: dict[str, Any]) -> None:
    """A contact object the sandbox registry holds for ``sponsor`` (idempotent)."""
    if db.session.get(SandboxContact, handle) is None:
        db.session.add(SandboxContact(handle=handle, sponsor=sponsor, data=data))
        db.session.flush()
