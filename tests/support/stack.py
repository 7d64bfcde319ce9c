"""The production stack, started for the fault suite: its own PostgreSQL and Redis (so a
fault can stop them without touching the rest of the test run), gunicorn ``-w 2``, two
``flask worker`` processes, ``flask scheduler``, an SMTP sink and a webhook receiver.

Every process is started here on free loopback ports and stopped by PID. The SMTP sink
(aiosmtpd) and the webhook receiver (a stdlib HTTP server checking each request's
Standard Webhooks signature with the ``standardwebhooks`` library) keep everything they
receive, so the suite can count deliveries by Message-ID and webhook-id.
"""

from __future__ import annotations

import http.client
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from tests.support import servers

ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / ".venv" / "bin"


# -- the sinks --------------------------------------------------------------------------

class SmtpSink:
    """A real SMTP server (aiosmtpd) that can be taken down and brought back on its port."""

    def __init__(self) -> None:
        self.port = servers.free_port()
        self.lock = threading.Lock()
        self.received: list[str] = []  # Message-ID of every message accepted, repeats too
        self.controller = None

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd API)
        message_id = message_from_bytes(envelope.content)["Message-ID"] or ""
        with self.lock:
            self.received.append(message_id.strip())
        return "250 OK"

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def counts(self) -> Counter:
        with self.lock:
            return Counter(self.received)


class WebhookReceiver:
    """An HTTP endpoint that verifies every request's signature (Standard Webhooks, the
    secrets the seed printed per reseller) and keeps each verified webhook-id."""

    def __init__(self) -> None:
        self.port = servers.free_port()
        self.secrets: dict[str, str] = {}  # path -> endpoint secret
        self.lock = threading.Lock()
        self.received: list[str] = []
        self.refused: list[str] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server API)
                from standardwebhooks import Webhook

                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                secret = receiver.secrets.get(self.path)
                try:
                    Webhook(secret).verify(body, {k.lower(): v for k, v in self.headers.items()})
                    status = 204
                except Exception as error:  # refused: the sender retries, we count it
                    with receiver.lock:
                        receiver.refused.append(f"{self.path}: {error}")
                    status = 400
                else:
                    with receiver.lock:
                        receiver.received.append(self.headers["webhook-id"] or "")
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       kwargs={"poll_interval": 0.05}, daemon=True)

    def url(self, reseller_key: str) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/{reseller_key}"

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def counts(self) -> Counter:
        with self.lock:
            return Counter(self.received)


# -- seeding (run in a subprocess with the stack's environment) ---------------------------

def seed(resellers: int, hook_base: str) -> list[dict]:
    """Catalogue and ``resellers`` funded resellers, each with a contact, an API token and
    a webhook endpoint; one line of JSON per reseller."""
    import secrets as random

    from reseller.accounts import services as accounts
    from reseller.accounts.models import AccessToken, Reseller, User
    from reseller.app import create_app
    from reseller.catalog import services as catalog
    from reseller.core.db import unit_of_work
    from reseller.core.extensions import db
    from reseller.domains import contacts
    from reseller.webhooks import services as webhooks
    from wallet import services as wallet
    from wallet.money import Money

    app = create_app()
    seeded = []
    with app.app_context(), unit_of_work():
        catalog.install_defaults()
        for n in range(resellers):
            reseller = Reseller(company_name=f"Fault {n} Oy", country="FI",
                                business_id="2464491-9", contact_email=f"fault{n}@example.test",
                                language="fi", status="active", tier="standard")
            db.session.add(reseller)
            db.session.flush()
            wallet.open_wallet(reseller_id=reseller.id)
            wallet.adjust_funds(reseller_id=reseller.id, amount=Money.of("5000"),
                                reason="fault suite", actor="faults", reference=f"funds-{n}")
            contact = contacts.create_contact(
                reseller_id=reseller.id, name=f"Registrant {n}", organization=f"Asiakas {n} Oy",
                registration_number="2464491-9",
                email=f"registrant{n}@example.test", phone="+358.401234567",
                street="Katu 1", city="Helsinki", postal_code="00100", country="FI",
                language="fi")
            user = User(reseller_id=reseller.id, email=f"fault{n}@example.test",
                        name="Fault", role="owner", is_operator=False)
            db.session.add(user)
            db.session.flush()
            raw = accounts.PERSONAL_TOKEN_PREFIX + random.token_urlsafe(24)
            db.session.add(AccessToken(reseller_id=reseller.id, kind="personal", name="faults",
                                       user_id=user.id, prefix=raw[:12],
                                       token_hash=accounts.hash_token(raw),
                                       scopes="domains:read domains:write events:read"))
            path = f"/hooks/r{reseller.id}"
            endpoint = webhooks.create_endpoint(
                reseller_id=reseller.id, url=f"{hook_base}{path}",
                events=["order.completed", "order.failed",
                        "invoice.issued"], allow_private=True)
            seeded.append({"reseller_id": reseller.id, "token": raw, "contact": contact.id,
                           "hook_path": path, "secret": endpoint.secret})
    return seeded


# -- the stack ----------------------------------------------------------------------------

class Stack:
    def __init__(self, resellers: int = 3, *, settings: dict[str, str] | None = None) -> None:
        self.resellers_wanted = resellers
        self.settings = settings or {}
        self.pg: servers.Postgres | None = None
        self.redis: servers.Redis | None = None
        self.redis_port = servers.free_port()
        self.instance = Path(tempfile.mkdtemp(prefix="tunnus-faults-"))
        self.smtp = SmtpSink()
        self.hooks = WebhookReceiver()
        self.web: subprocess.Popen | None = None
        self.web_port = servers.free_port()
        self.workers: list[subprocess.Popen] = []
        self.scheduler: subprocess.Popen | None = None
        self.resellers: list[dict] = []
        self.logs: list = []
        self.notes: dict = {}

    # environment and processes
    @property
    def env(self) -> dict[str, str]:
        env = {**os.environ,
               "DATABASE_URL": self.pg.url, "REDIS_URL": f"redis://127.0.0.1:{self.redis_port}/0",
               "JOBS_MODE": "rq", "TUNNUS_ENV": "sandbox", "SECRET_KEY": "f" * 40,
               "INSTANCE_DIR": str(self.instance), "PYTHONPATH": str(ROOT),
               "BASE_URL": f"http://127.0.0.1:{self.web_port}", "SMTP_HOST": "127.0.0.1",
               "SMTP_PORT": str(self.smtp.port), "MAIL_ADAPTER": "smtp",
               "WEBHOOKS_ALLOW_PRIVATE": "true", "WEBHOOKS_TIMEOUT": "5",
               "LOG_LEVEL": "WARNING", "ACCESS_LOG": "false",
               "TRADEMARK_SANDBOX_ZONE_SIZE": "1000"}
        env.pop("TUNNUS_TEST_DB", None)
        env.update(self.settings)
        return env

    def _spawn(self, name: str, args: list[str]) -> subprocess.Popen:
        log = open(self.instance / f"{name}.log", "ab")  # noqa: SIM115 (kept open with it)
        self.logs.append(log)
        return subprocess.Popen(args, cwd=ROOT, env=self.env, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)

    def start(self) -> Stack:
        self.pg = servers.start_postgres(max_connections=100)
        self.redis = servers.start_redis(self.redis_port)
        self.smtp.start()
        self.hooks.start()
        subprocess.run([str(BIN / "flask"), "--app", "wsgi", "db", "upgrade", "heads"],
                       cwd=ROOT, env=self.env, check=True, capture_output=True)
        out = subprocess.run(
            [sys.executable, "-m", "tests.support.stack", "seed", str(self.resellers_wanted),
             f"http://127.0.0.1:{self.hooks.port}"],
            cwd=ROOT, env=self.env, capture_output=True, text=True)
        assert out.returncode == 0, out.stderr[-3000:]
        out = out.stdout
        self.resellers = json.loads(out.strip().splitlines()[-1])
        for reseller in self.resellers:
            self.hooks.secrets[reseller["hook_path"]] = reseller["secret"]
        self.web = self._spawn("gunicorn", [
            str(BIN / "gunicorn"), "-w", "2", "--threads", "4", "--timeout", "60",
            "-b", f"127.0.0.1:{self.web_port}", "--log-level", "warning", "wsgi:app"])
        for _ in range(2):
            self.workers.append(self.start_worker())
        self.scheduler = self._spawn("scheduler", [str(BIN / "flask"), "--app", "wsgi",
                                                   "scheduler"])
        self.wait_ready(180)
        return self

    def start_worker(self) -> subprocess.Popen:
        return self._spawn("worker", [str(BIN / "flask"), "--app", "wsgi", "worker"])

    def http(self, method: str, path: str, *, token: str | None = None,
             body: dict | None = None, headers: dict | None = None,
             timeout: float = 10) -> tuple[int, dict, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.web_port, timeout=timeout)
        try:
            sent = {"Content-Type": "application/json", **(headers or {})}
            if token:
                sent["Authorization"] = f"Bearer {token}"
            conn.request(method, path, body=None if body is None else json.dumps(body),
                         headers=sent)
            response = conn.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            conn.close()

    def ready(self) -> tuple[bool, dict]:
        try:
            status, _headers, raw = self.http("GET", "/readyz", timeout=5)
        except OSError as error:
            return False, {"error": str(error)}
        try:
            return status == 200, json.loads(raw)
        except ValueError:
            return False, {"status": status}

    def wait_ready(self, timeout: float) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            ok, body = self.ready()
            if ok:
                return body
            for process in [self.web, self.scheduler, *self.workers]:
                if process is not None and process.poll() is not None:
                    raise AssertionError(f"{process.args[:4]} exited: {self.tail()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"the stack is not ready: {body}\n{self.tail()}")
            time.sleep(0.5)

    def count_in_logs(self, text: str) -> int:
        return sum(path.read_text(errors="replace").count(text)
                   for path in self.instance.glob("*.log"))

    def tail(self, lines: int = 40) -> str:
        out = []
        for path in sorted(self.instance.glob("*.log")):
            text = path.read_text(errors="replace").splitlines()[-lines:]
            out.append(f"== {path.name}\n" + "\n".join(text))
        return "\n".join(out)

    # faults
    def stop_redis(self) -> None:
        self.redis.stop()
        self.redis = None

    def start_redis(self) -> None:
        self.redis = servers.start_redis(self.redis_port)

    def restart_postgres(self, down_s: float = 4.0) -> None:
        """Stop PostgreSQL (fast: sessions are cut), stay down ``down_s``, start again.
        The postmaster writes to its log file, never to pipes of ours (it outlives
        pg_ctl, and a captured pipe would keep the call waiting for it)."""
        pg_ctl = [str(servers.PGBIN / "pg_ctl"), "-D", str(self.pg.root / "data")]
        quiet = {"check": True, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL,
                 "timeout": 90}
        subprocess.run(servers._as_postgres([*pg_ctl, "-m", "fast", "-w", "stop"]), **quiet)
        time.sleep(down_s)
        # pg_ctl start takes the options again (only `restart` reuses postmaster.opts)
        words = shlex.split((self.pg.root / "data" / "postmaster.opts").read_text())[1:]
        at = words.index("-D")
        options = " ".join(words[:at] + words[at + 2:])
        subprocess.run(servers._as_postgres([*pg_ctl, "-l", str(self.pg.root / "server.log"),
                                             "-o", options, "-w", "-t", "60", "start"]),
                       **quiet)

    def kill(self, process: subprocess.Popen) -> None:
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    def stop(self) -> None:
        processes = [p for p in [self.web, self.scheduler, *self.workers] if p is not None]
        for process in processes:
            if process.poll() is None:
                os.kill(process.pid, signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.kill(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        self.smtp.stop()
        self.hooks.stop()
        if self.redis is not None:
            self.redis.stop()
        if self.pg is not None:
            self.pg.stop()
        for log in self.logs:
            log.close()
        shutil.rmtree(self.instance, ignore_errors=True)


if __name__ == "__main__" and sys.argv[1:2] == ["seed"]:
    print(json.dumps(seed(int(sys.argv[2]), sys.argv[3])))
