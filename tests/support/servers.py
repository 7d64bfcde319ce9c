"""Start throwaway PostgreSQL and Redis servers on free loopback ports.

Used by the test suite and the benchmarks. Each server lives in its own temporary
directory and is stopped by PID; nothing outside that directory is touched.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

PGBIN = Path(os.environ.get("PGBIN", "/usr/lib/postgresql/15/bin"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, deadline: float = 60.0) -> None:
    """Until something accepts connections on loopback ``port``; fail if ``process``
    exits first or the deadline passes."""
    end = time.monotonic() + deadline
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            assert process.poll() is None, f"{process.args[:3]} exited"
            assert time.monotonic() < end, f"nothing listened on port {port}"
            time.sleep(0.2)


def _as_postgres(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


@dataclass
class Postgres:
    root: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def url_for(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        subprocess.run([str(PGBIN / "psql"),
                        "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-q",
                        "-c", f'CREATE DATABASE "{name}"'], check=True,
                       capture_output=True)
        return self.url_for(name)

    def stop(self) -> None:
        subprocess.run(_as_postgres([str(PGBIN / "pg_ctl"), "-D", str(self.root / "data"),
                                     "-m", "immediate", "stop"]), capture_output=True)
        shutil.rmtree(self.root, ignore_errors=True)


def start_postgres(max_connections: int = 200) -> Postgres:
    root = Path(tempfile.mkdtemp(prefix="tunnus-pg-"))
    port = free_port()
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    subprocess.run(_as_postgres([str(PGBIN / "initdb"), "-D", str(root / "data"), "-U",
                                 "postgres", "--auth=trust", "-E", "UTF8",
                                 "--locale=C.UTF-8"]), check=True, capture_output=True)
    options = (f"-p {port} -c listen_addresses=127.0.0.1 -k {root} -c fsync=off "
               f"-c synchronous_commit=off -c full_page_writes=off "
               f"-c max_connections={max_connections}")
    # a benchmark's extra settings, e.g. "-c shared_preload_libraries=pg_stat_statements"
    options += " " + os.environ.get("TUNNUS_BENCH_PG_OPTIONS", "")
    subprocess.run(_as_postgres([str(PGBIN / "pg_ctl"), "-D", str(root / "data"), "-l",
                                 str(root / "server.log"), "-w", "-o", options, "start"]),
                   check=True, capture_output=True)
    return Postgres(root, port)


@dataclass
class Redis:
    root: Path
    port: int
    process: subprocess.Popen

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
        shutil.rmtree(self.root, ignore_errors=True)


def start_redis(port: int | None = None) -> Redis:
    """A fresh Redis on ``port`` (default: a free one; give the old one's to restart)."""
    server = shutil.which("redis-server")
    if server is None:
        raise RuntimeError("redis-server is missing: run `make system-deps` (apt)")
    root = Path(tempfile.mkdtemp(prefix="tunnus-redis-"))
    port = port or free_port()
    process = subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", str(root)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return Redis(root, port, process)
        except OSError:
            time.sleep(0.02)
    process.kill()
    raise RuntimeError("redis-server did not start")
