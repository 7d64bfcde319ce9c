"""Fixtures for EPP tests: a throwaway PKI, the sandbox registry's EPP server on a free
loopback port, and a raw EPP connection that checks every frame it reads against the
XSDs.

Database: the server's threads open their own connections, so they cannot see a test's
rolled-back transaction. ``epp_server`` therefore depends on ``committed_db``: everything
commits for real (seed data too, e.g. ``epp.seed_foreign``) and every table is emptied
after the test, as in the concurrency tests.

    def test_something(epp_server):
        with epp_server.connect() as epp:          # TLS with the client certificate, logged in
            result = epp.command(epp_check("example.fi"))
            assert result.code == 1000
        epp_server.inject("create", "drop")        # faults for the logged-in clID's registry
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from reseller.core.db import unit_of_work
from reseller.registry.epp import schema, wire
from reseller.registry.epp.server import Authority, EppServer, server_context
from reseller.registry.epp.server.frames import FEE_URI
from reseller.registry.epp.wire import NS as WIRE_NS
from reseller.registry.epp.wire import OBJECT_URIS
from reseller.registry.sandbox import OTHER_REGISTRAR, SandboxRegistry

CLIENT_ID, PASSWORD = "tunnus", "sandbox-pw1"
OTHER_ID, OTHER_PASSWORD = OTHER_REGISTRAR, "other-pw22"
NS = {**WIRE_NS, "fee": FEE_URI}
NAMESPACES = " ".join(f'xmlns:{p}="{u}"' for p, u in NS.items() if p != "epp")


@dataclass(frozen=True)
class Pki:
    """A CA, the server's certificate (localhost, 127.0.0.1) and a client certificate it
    signed, plus a client certificate from another CA (for refusal tests)."""

    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path
    stranger_cert: Path
    stranger_key: Path


def make_pki(directory: Path) -> Pki:
    authority = Authority(directory / "ca")
    server = authority.issue("server", "localhost", server=True)
    client = authority.issue("client", CLIENT_ID, server=False)
    stranger = Authority(directory / "other-ca", "Someone else").issue(
        "stranger", CLIENT_ID, server=False)
    return Pki(authority.cert, server.cert, server.key, client.cert, client.key,
               stranger.cert, stranger.key)


@dataclass
class Result:
    """One response: its result code and message, and lookups in the document."""

    root: etree._Element

    @property
    def code(self) -> int:
        return int(self.root.find("epp:response/epp:result", NS).get("code"))

    @property
    def message(self) -> str:
        return self.root.findtext("epp:response/epp:result/epp:msg", namespaces=NS)

    def find(self, path: str) -> etree._Element | None:
        return self.root.find(f".//{path}", NS)

    def text(self, path: str) -> str | None:
        return self.root.findtext(f".//{path}", namespaces=NS)

    def texts(self, path: str) -> list[str]:
        return [e.text for e in self.root.findall(f".//{path}", NS)]


class EppConnection:
    """A raw EPP client for tests: frames in and out, every response XSD-validated."""

    def __init__(self, sock: ssl.SSLSocket) -> None:
        self.sock = sock
        self.counter = 0
        self.greeting = self.read()

    def read(self) -> etree._Element:
        document = wire.read_frame(self.sock)
        schema.assert_valid(document)
        return wire.parse(document)

    def send_raw(self, document: bytes) -> None:
        wire.write_frame(self.sock, document)

    def command(self, body: str, *, cltrid: str | None = None, extension: str = "") -> Result:
        """Send ``<command>{body}<extension>…</extension><clTRID/></command>``."""
        self.counter += 1
        cltrid = cltrid or f"TEST-{id(self):x}-{self.counter}"
        ext = f"<extension>{extension}</extension>" if extension else ""
        document = (f'<?xml version="1.0" encoding="UTF-8"?><epp xmlns="{NS["epp"]}" '
                    f'{NAMESPACES}><command>{body}{ext}<clTRID>{cltrid}</clTRID></command>'
                    f'</epp>').encode()
        schema.assert_valid(document)
        self.send_raw(document)
        return Result(self.read())

    def hello(self) -> etree._Element:
        self.send_raw(f'<epp xmlns="{NS["epp"]}"><hello/></epp>'.encode())
        return self.read()

    def login(self, client_id: str = CLIENT_ID, password: str = PASSWORD, *,
              objects: tuple[str, ...] = OBJECT_URIS, extensions: tuple[str, ...] = ()
              ) -> Result:
        services = "".join(f"<objURI>{uri}</objURI>" for uri in objects)
        if extensions:
            services += "<svcExtension>" + "".join(
                f"<extURI>{uri}</extURI>" for uri in extensions) + "</svcExtension>"
        return self.command(f"<login><clID>{client_id}</clID><pw>{password}</pw><options>"
                            f"<version>1.0</version><lang>en</lang></options>"
                            f"<svcs>{services}</svcs></login>")

    def logout(self) -> Result:
        return self.command("<logout/>")

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> EppConnection:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


@dataclass
class EppServerHandle:
    """What ``epp_server`` yields: where the server listens and how to log in."""

    server: EppServer
    pki: Pki
    app: Any
    host: str = "127.0.0.1"
    client_id: str = CLIENT_ID
    password: str = PASSWORD
    other_client_id: str = OTHER_ID
    other_password: str = OTHER_PASSWORD
    connections: list[EppConnection] = field(default_factory=list)

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def ca(self) -> Path:
        return self.pki.ca

    @property
    def client_cert(self) -> Path:
        return self.pki.client_cert

    @property
    def client_key(self) -> Path:
        return self.pki.client_key

    def registry(self, client_id: str | None = None) -> SandboxRegistry:
        """The sandbox registry the server uses for ``client_id`` (default ours)."""
        return self.server.registry(client_id or self.client_id)

    def inject(self, operation: str, kind: str, times: int = 1, *,
               client_id: str | None = None) -> None:
        """A fault for the next ``times`` ``operation`` commands of ``client_id``:
        the sandbox's kinds, or ``drop`` (carried out, then the connection closes)."""
        self.registry(client_id).inject(operation, kind, times)

    def seed_foreign(self, name: str, auth_code: str) -> None:
        """Commit ``name`` as registered by the other registrar with ``auth_code``."""
        with self.app.app_context(), unit_of_work():
            self.registry().seed_foreign(name=name, auth_code=auth_code)

    def client_context(self, *, cert: Path | None = None, key: Path | None = None,
                       present_certificate: bool = True) -> ssl.SSLContext:
        context = ssl.create_default_context(cafile=str(self.ca))
        if present_certificate:
            context.load_cert_chain(str(cert or self.client_cert), str(key or self.client_key))
        return context

    def open(self, **tls: Any) -> EppConnection:
        """A TLS connection that has read the greeting (not logged in)."""
        raw = socket.create_connection((self.host, self.port), timeout=10)
        sock = self.client_context(**tls).wrap_socket(raw, server_hostname="localhost")
        connection = EppConnection(sock)
        self.connections.append(connection)
        return connection

    def connect(self, client_id: str | None = None, password: str | None = None,
                extensions: tuple[str, ...] = ()) -> EppConnection:
        """A connection logged in as ``client_id`` (default ours)."""
        connection = self.open()
        client_id = client_id or self.client_id
        password = password or (self.password if client_id == self.client_id
                                else self.other_password)
        result = connection.login(client_id, password, extensions=extensions)
        assert result.code == 1000, result.message
        return connection


@pytest.fixture(scope="session")
def epp_pki(tmp_path_factory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("epp-pki"))


@pytest.fixture
def epp_server_factory(app, committed_db, epp_pki) -> Iterator:
    """``epp_server_factory(client_ca=True, idle_timeout=None, validate=None,
    max_connections=None)`` starts another server for this test."""
    handles: list[EppServerHandle] = []

    def start(*, client_ca: bool = True, **options: Any) -> EppServerHandle:
        context = server_context(epp_pki.server_cert, epp_pki.server_key,
                                 epp_pki.ca if client_ca else None)
        server = EppServer(app, ssl_context=context, host="127.0.0.1", port=0,
                           clients={CLIENT_ID: PASSWORD, OTHER_ID: OTHER_PASSWORD},
                           **{"poll_interval": 0.05, **options}).start()
        handles.append(EppServerHandle(server=server, pki=epp_pki, app=app))
        return handles[-1]

    yield start
    for handle in handles:
        for connection in handle.connections:
            connection.close()
        handle.server.stop()


@pytest.fixture
def epp_server(epp_server_factory) -> EppServerHandle:
    """The sandbox EPP server with mutual TLS, on a committed database (see above)."""
    return epp_server_factory()


def client_registries(handle: EppServerHandle, *, tlds: tuple[str, ...] = ("fi", "com", "se"),
                      profile: str = "generic", **extra: Any) -> str:
    """``EPP_REGISTRIES`` for our EPP client pointed at ``handle``'s server."""
    import json

    return json.dumps([{"name": "sandbox", "tlds": list(tlds), "host": "127.0.0.1",
                        "server_name": "localhost", "port": handle.port,
                        "client_id": handle.client_id, "password": handle.password,
                        "cert": str(handle.client_cert), "key": str(handle.client_key),
                        "ca": str(handle.ca), "profile": profile, "pool_size": 2,
                        "timeout": 5, **extra}])


def epp_router(handle: EppServerHandle, **options: Any):
    """Our ``REGISTRY_ADAPTER=epp`` registry, logged in to ``handle``'s server."""
    from reseller.registry.services import registry_from_config

    return registry_from_config({"REGISTRY_ADAPTER": "epp",
                                 "REGISTRY_CLIENT_ID": handle.client_id,
                                 "EPP_REGISTRIES": client_registries(handle, **options)})


def transfer_request_frame(name: str, auth_code: str) -> str:
    """The body of a domain transfer request, for ``EppConnection.command``."""
    return (f'<transfer op="request"><domain:transfer><domain:name>{name}</domain:name>'
            f"<domain:authInfo><domain:pw>{auth_code}</domain:pw></domain:authInfo>"
            "</domain:transfer></transfer>")
