"""Registry adapters behind one interface (``models.Registry``), chosen by REGISTRY_ADAPTER:
``sandbox`` (the embedded default, real rules, state in our database) or ``epp`` (the
registries of ``EPP_REGISTRIES``, see ``reseller.registry.epp.router``). Other features use
``services`` (``get_registry``), ``models`` and ``errors``."""

from __future__ import annotations

from flask import Flask

from reseller.core.demo import add_demo_step
from reseller.registry import cli, demo, sandbox_models, services  # noqa: F401  (sandbox_models: tables)
from reseller.registry.epp import journal  # noqa: F401  (the EPP command journal's table)


def init_app(app: Flask) -> None:
    """The adapter REGISTRY_ADAPTER chooses, `flask registry`, and the sandbox's demo names
    (held by another registrar, to transfer in)."""
    app.extensions["tunnus.registry"] = services.registry_from_config(app.config)
    app.cli.add_command(cli.registry_cli)
    add_demo_step(app, order=30, seed=demo.seed_transferable, info=demo.info)
