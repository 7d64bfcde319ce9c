"""`make run` with ``REGISTRY_ADAPTER=epp`` pointed at ``flask registry epp-server``: the
embedded default (SQLite, in-process jobs) registers a domain over EPP, end to end, as
docs/epp.md tells a developer to run it — two processes, two databases, TLS between."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
import urllib.request
from decimal import Decimal
from pathlib import Path

import pytest

from tests.support.live import demo_server
from tests.support.servers import free_port, wait_for_port

ROOT = Path(__file__).resolve().parents[2]
FLASK = [sys.executable, "-m", "flask", "--app", "wsgi"]


def _api(base: str, token: str, method: str, path: str, body: dict | None = None,
         headers: dict | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(
        base + path, method=method, data=json.dumps(body).encode() if body else None,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json",
                 **(headers or {})})
    with urllib.request.urlopen(request, timeout=30) as answer:
        return answer.status, json.load(answer)


@pytest.mark.slow
def test_make_run_registers_a_domain_through_the_sandbox_epp_server(tmp_path):
    registry_dir, app_dir = tmp_path / "registry", tmp_path / "app"
    registry_dir.mkdir()
    app_dir.mkdir()
    registry_db = registry_dir / "registry.db"
    server_env = {**os.environ, "INSTANCE_DIR": str(registry_dir), "TUNNUS_ENV": "sandbox",
                  "DATABASE_URL": f"sqlite:///{registry_db}",
                  "EPP_SERVER_PASSWORD": "pw-e2e-123456"}
    for key in ("REDIS_URL", "TUNNUS_TEST_DB", "JOBS_MODE"):
        server_env.pop(key, None)
    subprocess.run([*FLASK, "db", "upgrade", "heads"], cwd=ROOT, env=server_env, check=True,
                   capture_output=True, timeout=120)
    port = free_port()
    server = subprocess.Popen([*FLASK, "registry", "epp-server", "--port", str(port)],
                              cwd=ROOT, env=server_env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, server)
        registries = [{"name": "sandbox", "tlds": ["fi", "se", "nu", "com", "net", "org", "eu"],
                       "host": "127.0.0.1", "server_name": "localhost", "port": port,
                       "client_id": "tunnus", "password": "pw-e2e-123456",
                       "ca": str(registry_dir / "epp" / "epp-server.pem")}]
        with demo_server(app_dir, {"REGISTRY_ADAPTER": "epp",
                                   "EPP_REGISTRIES": json.dumps(registries)}) as live:
            token = live.oauth_token()
            _status, before = _api(live.base, token, "GET", "/api/v1/wallet")
            _status, contacts = _api(live.base, token, "GET", "/api/v1/contacts?limit=1")
            status, order = _api(live.base, token, "POST", "/api/v1/domains", {
                "name": "epp-paasta-paahan.fi", "period": 1,
                "contacts": {"registrant": contacts["items"][0]["id"]}},
                {"Idempotency-Key": "epp-e2e-1"})
            assert status == 202
            deadline = time.monotonic() + 60
            while order["state"] not in ("completed", "failed"):
                assert time.monotonic() < deadline, f"the order did not finish: {order}"
                time.sleep(0.3)
                _status, order = _api(live.base, token, "GET", f"/api/v1/orders/{order['id']}")
            assert order["state"] == "completed", order
            _status, domain = _api(live.base, token, "GET", "/api/v1/domains/epp-paasta-paahan.fi")
            assert domain["status"] == "active"
            _status, wallet = _api(live.base, token, "GET", "/api/v1/wallet")
    finally:
        server.terminate()
        server.wait(timeout=20)
    # the name is in the registry's own database, sponsored by us, expiring as we recorded
    with sqlite3.connect(registry_db) as registry:
        sponsor, expires = registry.execute(
            "SELECT sponsor, expires_at FROM sandbox_registry_domains WHERE name = ?",
            ("epp-paasta-paahan.fi",)).fetchone()
    assert sponsor == "tunnus"
    assert expires[:10] == domain["expires_at"][:10]
    assert Decimal(before["available"]) - Decimal(wallet["available"]) == \
        Decimal(order["price"]["total"])  # charged once
