"""Registry adapters behind one interface (``base.Registry``), chosen by REGISTRY_ADAPTER:
``sandbox`` (the embedded default, real rules, state in our database) or ``epp`` (the
registries of ``EPP_REGISTRIES``, see ``reseller.registry.epp.router``)."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app

from reseller.registry import cli, sandbox_models  # noqa: F401  (sandbox_models: tables)
from reseller.registry.base import Registry
from reseller.registry.epp import journal  # noqa: F401  (the EPP command journal's table)


def registry_from_config(config: Any) -> Registry:
    adapter = config.get("REGISTRY_ADAPTER", "sandbox")
    # Only the adapter chosen is loaded: the EPP router brings lxml, TLS pools and the XML
    # schemas; the sandbox its registry tables and the catalogue's rules.
    if adapter == "sandbox":
        from reseller.registry.sandbox import SandboxRegistry

        return SandboxRegistry.from_config(config)
    if adapter == "epp":
        from reseller.registry.epp.router import EppRouter

        return EppRouter.from_config(config)
    raise RuntimeError(f"unknown REGISTRY_ADAPTER {adapter!r} (available: sandbox, epp)")


def init_app(app: Flask) -> None:
    """The adapter REGISTRY_ADAPTER chooses, and `flask registry`."""
    app.extensions["tunnus.registry"] = registry_from_config(app.config)
    app.cli.add_command(cli.registry_cli)


def get_registry() -> Registry:
    return current_app.extensions["tunnus.registry"]
