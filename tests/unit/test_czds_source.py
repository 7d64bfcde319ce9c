"""The CZDS zone source against a local server speaking the CZDS API: authenticate for a
bearer token, download ``/czds/downloads/<tld>.zone`` streamed to disk, sign in again
after a 401."""

from __future__ import annotations

import gzip
import json
import threading
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from reseller.trademarks.sources import CzdsZones

ZONE = gzip.compress(b"com.\t900\tin\tsoa\ta. b. 1 2 3 4 5\nnordname.com.\t172800\tin\tns\tns1.x.\n")


class Czds(BaseHTTPRequestHandler):
    tokens: list[str] = []
    expired: set[str] = set()

    def log_message(self, *args):  # quiet
        pass

    def do_POST(self):  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if self.path != "/api/authenticate" or body != {"username": "u", "password": "p"}:
            self.send_error(401)
            return
        token = f"token-{len(self.tokens)}"
        self.tokens.append(token)
        self._send(200, json.dumps({"accessToken": token, "message": "ok"}).encode())

    def do_GET(self):  # noqa: N802
        token = self.headers.get("Authorization", "").removeprefix("Bearer ")
        if token not in self.tokens or token in self.expired:
            self.send_error(401)
        elif self.path == "/czds/downloads/com.zone":
            self._send(200, ZONE, "application/x-gzip")
        else:
            self.send_error(404)

    def _send(self, status, body, kind="application/json"):
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def server():
    Czds.tokens, Czds.expired = [], set()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Czds)
    thread = threading.Thread(target=httpd.serve_forever,
                              kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_a_zone_is_downloaded_with_a_bearer_token(server, tmp_path):
    source = CzdsZones(username="u", password="p", tlds=["com"],
                       auth_url=f"{server}/api/authenticate", api_url=server)
    path = source.fetch("com", date(2026, 11, 24), tmp_path)
    assert path.read_bytes() == ZONE
    source.fetch("com", date(2026, 11, 25), tmp_path)
    assert Czds.tokens == ["token-0"]  # the token is reused
    with pytest.raises(OSError, match="404"):
        source.fetch("net", date(2026, 11, 25), tmp_path)


def test_an_expired_token_is_replaced_on_the_next_run(server, tmp_path):
    source = CzdsZones(username="u", password="p", tlds=["com"],
                       auth_url=f"{server}/api/authenticate", api_url=server)
    source.fetch("com", date(2026, 11, 24), tmp_path)
    Czds.expired.add("token-0")
    with pytest.raises(OSError, match="401"):
        source.fetch("com", date(2026, 11, 25), tmp_path)
    assert source.fetch("com", date(2026, 11, 25), tmp_path).read_bytes() == ZONE
    assert Czds.tokens == ["token-0", "token-1"]


def test_wrong_credentials_are_an_os_error(server, tmp_path):
    source = CzdsZones(username="u", password="wrong", tlds=["com"],
                       auth_url=f"{server}/api/authenticate", api_url=server)
    with pytest.raises(OSError):
        source.fetch("com", date(2026, 11, 24), tmp_path)
