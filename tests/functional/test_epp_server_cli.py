"""``flask registry epp-server`` with no certificate makes a self-signed one in the
instance directory, says where, and serves EPP with it to the configured login."""

from __future__ import annotations

import os
import socket
import ssl
import subprocess
import sys
from pathlib import Path

from reseller.registry.epp import schema, wire
from tests.support.servers import free_port, wait_for_port

ROOT = Path(__file__).resolve().parents[2]


def test_flask_registry_epp_server_serves_with_a_self_signed_certificate(tmp_path):
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
    env = {**os.environ, "INSTANCE_DIR": str(tmp_path), "DATABASE_URL": "",
           "TUNNUS_ENV": "sandbox", "EPP_SERVER_PASSWORD": "cli-sandbox"}
    subprocess.run([*flask, "db", "upgrade", "heads"], cwd=ROOT, env=env, check=True,
                   capture_output=True, timeout=120)
    port = free_port()
    server = subprocess.Popen([*flask, "registry", "epp-server", "--port", str(port)],
                              cwd=ROOT, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True)
    try:
        wait_for_port(port, server)
        context = ssl.create_default_context(cafile=str(tmp_path / "epp" / "epp-server.pem"))
        with socket.create_connection(("127.0.0.1", port), timeout=10) as raw, \
                context.wrap_socket(raw, server_hostname="localhost") as tls:
            greeting = wire.read_frame(tls)
            wire.write_frame(tls, (
                f'<epp xmlns="{wire.NS["epp"]}"><command><login><clID>tunnus</clID>'
                f"<pw>cli-sandbox</pw><options><version>1.0</version><lang>en</lang>"
                f"</options><svcs><objURI>{wire.NS['domain']}</objURI></svcs></login>"
                f"<clTRID>CLI-LOGIN-1</clTRID></command></epp>").encode())
            answer = wire.read_frame(tls)
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=10)
    schema.assert_valid(greeting)
    schema.assert_valid(answer)
    assert b'code="1000"' in answer
    assert f"EPP server on 127.0.0.1:{port}" in output
    assert str(tmp_path / "epp" / "epp-server.pem") in output
    assert "clID tunnus password cli-sandbox" in output
