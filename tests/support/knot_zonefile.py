"""A real Knot DNS server for tests: authoritative zones in a temp dir, on a free port.

Records are published by rewriting a zone file and reloading it (``knotc zone-reload``);
the server is stopped by its PID.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.servers import free_port

KNOTD = shutil.which("knotd") or "/usr/sbin/knotd"
KNOTC = shutil.which("knotc") or "/usr/sbin/knotc"


def txt(value: str) -> str:
    """A TXT value split into quoted 255-byte strings (long DKIM keys need it)."""
    return " ".join(f'"{value[i:i + 255]}"' for i in range(0, len(value), 255))


@dataclass
class Knot:
    root: Path
    port: int
    zones: tuple[str, ...]
    process: subprocess.Popen | None = None
    serial: int = 1
    records: dict[str, list[str]] = field(default_factory=dict)

    @property
    def resolver(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _knotc(self, *args: str) -> None:
        subprocess.run([KNOTC, "-c", str(self.root / "knot.conf"), *args], check=True,
                       capture_output=True, timeout=20)

    def _write(self, zone: str) -> None:
        lines = [f"$ORIGIN {zone}.", "$TTL 60",
                 f"@ SOA ns1.{zone}. hostmaster.{zone}. {self.serial} 3600 600 86400 60",
                 f"@ NS ns1.{zone}.", "ns1 A 127.0.0.1", *self.records.get(zone, [])]
        (self.root / f"{zone}.zone").write_text("\n".join(lines) + "\n")

    def publish(self, zone: str, records: list[str]) -> None:
        """Replace the zone's records (zone-file lines, names relative to the zone)."""
        self.records[zone] = list(records)
        self.serial += 1
        self._write(zone)
        self._knotc("zone-reload", zone)
        self._wait_for_serial(zone)

    def _wait_for_serial(self, zone: str) -> None:
        import dns.message
        import dns.query

        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                reply = dns.query.udp(dns.message.make_query(zone, "SOA"), "127.0.0.1",
                                      port=self.port, timeout=0.5)
                if reply.answer and reply.answer[0][0].serial == self.serial:
                    return
            except Exception:  # noqa: BLE001 (not up yet)
                pass
            time.sleep(0.05)
        raise RuntimeError(f"knot did not load serial {self.serial} of {zone}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        shutil.rmtree(self.root, ignore_errors=True)


def start_knot(zones: tuple[str, ...]) -> Knot:
    root = Path(tempfile.mkdtemp(prefix="tunnus-knot-"))
    port = free_port()
    zone_lines = "\n".join(f"  - domain: {zone}" for zone in zones)
    (root / "knot.conf").write_text(f"""server:
  rundir: "{root}"
  listen: 127.0.0.1@{port}
database:
  storage: "{root}/db"
control:
  listen: "{root}/knot.sock"
log:
  - target: stderr
    any: warning
template:
  - id: default
    storage: "{root}"
    file: "%s.zone"
    zonefile-sync: -1
    zonefile-load: whole
    journal-content: none
zone:
{zone_lines}
""")
    knot = Knot(root, port, zones)
    for zone in zones:
        knot._write(zone)
    knot.process = subprocess.Popen([KNOTD, "-c", str(root / "knot.conf")],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for zone in zones:
            knot._wait_for_serial(zone)
    except RuntimeError:
        knot.stop()
        raise
    return knot
