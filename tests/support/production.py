"""A production-mode app for tests: every setting given a valid, non-demo value.

Built from ``tests.unit.test_config.PRODUCTION`` through ``load_config`` (the operator's
environment) with only the test's database, instance directory and job runner swapped in.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from reseller.core.config import engine_options, load_config
from tests.unit.test_config import PRODUCTION

# An EPP registry and a Knot server that are configured but never contacted.
SERVICES = {
    "EPP_REGISTRIES": json.dumps([{"name": "traficom", "tlds": ["fi"], "host": "127.0.0.1",
                                   "port": 1, "client_id": "registrar", "password": "pw"}]),
    "DNS_TSIG_NAME": "tunnus", "DNS_TSIG_SECRET": "c2VjcmV0c2VjcmV0c2VjcmV0",
}


def production_config(database_url: str, instance_dir: Path, **overrides: Any) -> dict:
    config = load_config({**PRODUCTION, **SERVICES})
    config.update({
        "TESTING": True, "RAISE_UNEXPECTED": False,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": engine_options(database_url),
        "INSTANCE_DIR": str(instance_dir), "JOBS_MODE": "collect", "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
    }, **overrides)
    return config


@contextmanager
def production_app(database_url: str, instance_dir: Path, **overrides: Any):
    """A production app; the process-wide clock is back in sandbox mode afterwards."""
    from reseller.app import create_app
    from reseller.core.clock import clock

    app = create_app(production_config(database_url, instance_dir, **overrides))
    try:
        yield app
    finally:
        clock.configure(sandbox=True)
