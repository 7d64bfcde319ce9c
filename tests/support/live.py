"""The embedded default (`make run`'s steps) on a free loopback port, for tests that talk
to a real server over HTTP the way an integrator does. Stopped by PID; its data lives in
the given temporary directory."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support.servers import free_port

ROOT = Path(__file__).resolve().parents[2]
FLASK = [str(Path(sys.executable).parent / "flask"), "--app", "wsgi"]
_TOKEN_SCRIPT = """
import secrets, sys
from reseller.accounts import services
from reseller.accounts.models import AccessToken, User
from reseller.app import create_app
from reseller.core.extensions import db
with create_app().app_context():
    owner = db.session.query(User).filter_by(email=sys.argv[1]).one()
    raw = services.PERSONAL_TOKEN_PREFIX + secrets.token_urlsafe(24)
    db.session.add(AccessToken(
        reseller_id=owner.reseller_id, kind="personal", user_id=owner.id, name="tests",
        prefix=raw[:12], token_hash=services.hash_token(raw),
        scopes=" ".join(sorted(services.scopes_for_role(owner.role)))))
    db.session.commit()
    print(raw)
"""


@dataclass
class LiveServer:
    base: str
    demo: dict[str, Any]
    instance: Path
    env: dict[str, str]

    def oauth_token(self, reseller: int = 0) -> str:
        """A client-credentials token for a demo reseller's API client."""
        spec = self.demo["resellers"][reseller]
        body = urllib.parse.urlencode({"grant_type": "client_credentials",
                                       "client_id": spec["client_id"],
                                       "client_secret": spec["client_secret"]}).encode()
        with urllib.request.urlopen(self.base + "/oauth/token", body, timeout=10) as answer:
            return json.load(answer)["access_token"]

    def flask(self, *args: str) -> str:
        """Run a ``flask`` CLI command against this server's instance (e.g. the clock)."""
        done = subprocess.run([*FLASK, *args], cwd=ROOT, env=self.env, check=True,
                              capture_output=True, text=True)
        return done.stdout

    def personal_token(self, reseller: int = 0) -> str:
        """A personal token of a demo reseller's owner (what the client area issues)."""
        email = self.demo["resellers"][reseller]["email"]
        done = subprocess.run([sys.executable, "-c", _TOKEN_SCRIPT, email], cwd=ROOT,
                              env=self.env, check=True, capture_output=True, text=True)
        return done.stdout.strip().splitlines()[-1]


@contextmanager
def demo_server(instance: Path, extra_env: dict[str, str] | None = None
                ) -> Iterator[LiveServer]:
    """Migrate, load the demo data and serve, as `make run` does, without the venv step.
    ``extra_env``: configuration on top of the embedded default (e.g. the registry)."""
    port = free_port()
    env = {**os.environ, "PORT": str(port), "INSTANCE_DIR": str(instance),
           "WHOIS_PORT": str(free_port()), "PYTHONPATH": str(ROOT)}
    for key in ("DATABASE_URL", "REDIS_URL", "TUNNUS_TEST_DB", "JOBS_MODE"):
        env.pop(key, None)
    env.update(extra_env or {})
    for step in (["db", "upgrade", "heads"], ["demo", "load"]):
        subprocess.run([*FLASK, *step], cwd=ROOT, env=env, check=True, capture_output=True)
    log = (instance / "serve.log").open("w")
    process = subprocess.Popen([*FLASK, "serve", "--port", str(port)], cwd=ROOT, env=env,
                               stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_serving(base, process, instance / "serve.log")
        yield LiveServer(base, json.loads((instance / "demo.json").read_text()), instance, env)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)
        log.close()


def _wait_until_serving(base: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("the server exited: " + log.read_text()[-3000:])
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("the server did not answer in time")
