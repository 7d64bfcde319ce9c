"""``flask whois-server`` answers on its port, and demo.json tells ``make run`` users where."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.servers import free_port

ROOT = Path(__file__).resolve().parents[2]


def test_demo_json_records_the_whois_port(app, db_session):
    from reseller import demo

    info = demo.load(app.config)
    assert info["whois_port"] == app.config["WHOIS_PORT"]
    assert info["dns_zone"] == "demoagency.fi"


@pytest.mark.skipif(shutil.which("whois") is None, reason="Debian whois is not installed")
def test_flask_whois_server_answers_no_match(tmp_path):
    pytest.importorskip("reseller.domains.models")
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
    env = {**os.environ, "INSTANCE_DIR": str(tmp_path), "DATABASE_URL": "",
           "TUNNUS_ENV": "sandbox"}
    subprocess.run([*flask, "db", "upgrade", "heads"], cwd=ROOT, env=env, check=True,
                   capture_output=True, timeout=120)
    port = free_port()
    server = subprocess.Popen([*flask, "whois-server", "--port", str(port)], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                sock = socket.create_connection(("127.0.0.1", port), timeout=1)
                break
            except OSError:
                assert time.monotonic() < deadline, "whois-server did not start"
                time.sleep(0.1)
        answer = subprocess.run(["whois", "-h", "127.0.0.1", "-p", str(port), "unknown.com"],
                                capture_output=True, text=True, timeout=20).stdout
        sock.close()
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert 'No match for "UNKNOWN.COM"' in answer
