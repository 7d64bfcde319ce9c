"""A throwaway Knot DNS server on a free loopback port, in its own temporary directory.

The TSIG key has ``update`` and ``transfer`` rights (update alone makes AXFR fail with
BADKEY). Zones are added at runtime by the application (``knotc conf-*``); the server is
stopped by PID.
"""

from __future__ import annotations

import base64
import os
import secrets
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from tests.support.servers import free_port

KEY_NAME = "tunnus-test"


@dataclass
class Knot:
    root: Path
    port: int
    key_name: str
    key_secret: str
    process: subprocess.Popen

    @property
    def conf(self) -> Path:
        return self.root / "knot.conf"

    @property
    def storage(self) -> Path:
        return self.root / "zones"

    def config(self) -> dict:
        """The application settings that point the ``knot`` adapter at this server."""
        return {
            "DNS_ADAPTER": "knot",
            "DNS_SERVER": f"127.0.0.1:{self.port}",
            "DNS_TSIG_NAME": self.key_name,
            "DNS_TSIG_SECRET": self.key_secret,
            "KNOT_CONF": str(self.conf),
            "KNOT_ZONE_DIR": str(self.storage),
            "KNOT_ACL": "tunnus",
        }

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        shutil.rmtree(self.root, ignore_errors=True)


def start_knot() -> Knot:
    knotd = shutil.which("knotd") or "/usr/sbin/knotd"
    if not os.path.exists(knotd):
        raise RuntimeError("knotd is missing: run `make system-deps` (apt install knot)")
    root = Path(tempfile.mkdtemp(prefix="tunnus-knot-"))
    (root / "zones").mkdir()
    (root / "db").mkdir()
    port = free_port()
    secret = base64.b64encode(secrets.token_bytes(32)).decode()
    (root / "knot.conf").write_text(f"""\
server:
    rundir: "{root}"
    listen: 127.0.0.1@{port}
    pidfile: "{root}/knot.pid"
control:
    listen: "{root}/knot.sock"
database:
    storage: "{root}/db"
log:
  - target: "{root}/knot.log"
    any: info
key:
  - id: {KEY_NAME}
    algorithm: hmac-sha256
    secret: {secret}
acl:
  - id: tunnus
    address: 127.0.0.1
    key: {KEY_NAME}
    action: [update, transfer]
template:
  - id: default
    storage: "{root}/zones"
    file: "%s.zone"
    semantic-checks: on
    zonefile-sync: -1
    zonefile-load: difference-no-serial
    journal-content: all
""")
    process = subprocess.Popen([knotd, "-c", str(root / "knot.conf")],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        status = subprocess.run(["knotc", "-c", str(root / "knot.conf"), "status"],
                                capture_output=True)
        if status.returncode == 0:
            return Knot(root, port, KEY_NAME, secret, process)
        time.sleep(0.05)
    process.kill()
    raise RuntimeError("knotd did not start: " + (root / "knot.log").read_text()[-2000:])
