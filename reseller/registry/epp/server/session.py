"""One EPP session: parse a frame, check it, log in and out, and run commands against
the logged-in registrar's sandbox registry, each in its own unit of work.

The session knows no sockets: ``respond`` takes a frame's bytes and returns the answer's
bytes (or None: close without answering), so it is tested without a network."""

from __future__ import annotations

import hmac
import logging
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from flask import Flask
from lxml import etree

from reseller.core.clock import clock
from reseller.core.db import unit_of_work
from reseller.core.extensions import db
from reseller.registry.epp import schema, wire
from reseller.registry.epp.server import contact, domain, host
from reseller.registry.epp.server.context import CommandError, Context, Handler
from reseller.registry.epp.server.frames import SERVER_EXTENSIONS, Reply, greeting, response
from reseller.registry.epp.server.poll import poll
from reseller.registry.epp.wire import NS, OBJECT_URIS
from reseller.registry.errors import RegistryRejected, RegistryTimeout, RegistryUnavailable
from reseller.registry.sandbox import SimulatedCrash

if TYPE_CHECKING:
    from reseller.registry.epp.server.listener import EppServer

log = logging.getLogger(__name__)
MAX_LOGIN_FAILURES = 3
VERBS = frozenset({"check", "create", "delete", "info", "login", "logout", "poll", "renew",
                   "transfer", "update"})


class DropConnection(Exception):
    """Close without answering: the command's answer is lost (injected, or a timeout)."""


@dataclass
class Answer:
    document: bytes | None  # None: close without answering
    close: bool = False


def _handlers() -> dict[tuple[str, str], Handler]:
    table: dict[tuple[str, str], Handler] = {}
    for module, uri in ((domain, NS["domain"]), (host, NS["host"]), (contact, NS["contact"])):
        for verb, handler in module.HANDLERS.items():
            table[(verb, uri)] = handler
    return table


class Session:
    def __init__(self, server: EppServer) -> None:
        self.server = server
        self.app: Flask = server.app
        self.client_id: str | None = None
        self.ext_uris: frozenset[str] = frozenset()
        self.failures = 0
        self.handlers = _handlers()

    def greeting(self) -> bytes:
        with self.app.app_context():  # the sandbox clock reads its offset from the database
            try:
                return greeting(self.server.server_id, clock.now())
            finally:
                db.session.remove()

    def respond(self, frame: bytes) -> Answer:
        """The answer to one frame. Unparseable input is answered 2001 and closes."""
        try:
            root = wire.parse(frame)
        except wire.FrameError as error:
            return self.refuse(str(error))
        client_trid = root.findtext("epp:command/epp:clTRID", namespaces=NS)
        if self.server.validate:
            errors = schema.validation_errors(root)
            if errors:
                return self._answer(Reply(2001, f"Command syntax error: {errors[0]}"[:250]),
                                    client_trid if client_trid and len(client_trid) <= 64
                                    else None)
        if len(root) == 1 and root[0].tag == f"{{{NS['epp']}}}hello":
            return Answer(self.greeting())
        command = root.find("epp:command", NS)
        if command is None or len(command) == 0:
            return self._answer(Reply(2000), None)
        try:
            reply = self._command(command, client_trid)
        except DropConnection:
            return Answer(None, close=True)
        return self._answer(reply, client_trid)

    def refuse(self, problem: str) -> Answer:
        """2001 for input that is not EPP at all (size, XML, DOCTYPE); then close."""
        log.info("EPP frame refused: %s", problem)
        return self._answer(Reply(2001, f"Command syntax error: {problem}"[:200], close=True),
                            None)

    def _answer(self, reply: Reply, client_trid: str | None) -> Answer:
        document = response(reply, client_trid=client_trid, server_trid=self.server_trid())
        return Answer(document, close=reply.close)

    def server_trid(self) -> str:
        return f"TN-{uuid.uuid4().hex}"

    # -- session commands -------------------------------------------------------------------
    def _command(self, command: etree._Element, client_trid: str | None) -> Reply:
        verb = etree.QName(command[0]).localname
        if verb not in VERBS or etree.QName(command[0]).namespace != NS["epp"]:
            return Reply(2000)
        if verb == "login":
            return self._login(command[0])
        if verb == "logout":
            if self.client_id is None:
                return Reply(2002, "Command use error: not logged in")
            self.client_id = None
            return Reply(1500, close=True)
        if self.client_id is None:
            return Reply(2002, "Command use error: log in first")
        return self._run(verb, command, client_trid or self.server_trid())

    def _login(self, login: etree._Element) -> Reply:
        if self.client_id is not None:
            return Reply(2002, "Command use error: already logged in")
        client_id = login.findtext("epp:clID", namespaces=NS) or ""
        password = login.findtext("epp:pw", namespaces=NS) or ""
        expected = self.server.clients.get(client_id)
        if expected is None or not hmac.compare_digest(expected.encode(), password.encode()):
            self.failures += 1
            if self.failures >= MAX_LOGIN_FAILURES:
                return Reply(2501, close=True)
            return Reply(2200)
        if login.find("epp:newPW", NS) is not None:
            return Reply(2102, "Unimplemented option: passwords are set in the configuration")
        if login.findtext("epp:options/epp:version", namespaces=NS) != "1.0":
            return Reply(2100)
        if login.findtext("epp:options/epp:lang", namespaces=NS) != "en":
            return Reply(2102, "Unimplemented option: language")
        objects = [e.text for e in login.findall("epp:svcs/epp:objURI", NS)]
        unknown = [uri for uri in objects if uri not in OBJECT_URIS]
        if unknown:
            return Reply(2307, f"Unimplemented object service: {unknown[0]}")
        extensions = [e.text for e in login.findall("epp:svcs/epp:svcExtension/epp:extURI", NS)]
        unknown = [uri for uri in extensions if uri not in SERVER_EXTENSIONS]
        if unknown:
            return Reply(2103, f"Unimplemented extension: {unknown[0]}")
        self.client_id, self.ext_uris, self.failures = client_id, frozenset(extensions), 0
        return Reply(1000)

    # -- object commands --------------------------------------------------------------------
    def _run(self, verb: str, command: etree._Element, transaction_id: str) -> Reply:
        element = command[0]
        if verb == "poll":
            handler, target = self._poll, element
        else:
            if len(element) != 1:
                return Reply(2001)
            target = element[0]
            handler = self.handlers.get((verb, etree.QName(target).namespace))
            if handler is None:
                return Reply(2101 if (verb, NS["domain"]) in self.handlers else 2000)
        extension = command.find("epp:extension", NS)
        context = Context(registry=self.server.registry(self.client_id),
                          client_id=self.client_id, transaction_id=transaction_id,
                          extensions=list(extension) if extension is not None else [],
                          ext_uris=self.ext_uris, op=element.get("op", ""))
        with self.app.app_context():
            try:
                reply = self._execute(handler, context, target)
                if context.operation and context.registry.take_drop(context.operation):
                    raise DropConnection(context.operation)
                return reply
            finally:
                db.session.remove()

    def _execute(self, handler: Handler, context: Context, target: etree._Element) -> Reply:
        try:
            with unit_of_work():
                return handler(context, target)
        except CommandError as error:
            return Reply(error.code, error.message)
        except RegistryRejected as rejected:
            return Reply(rejected.code, rejected.message)
        except RegistryUnavailable:
            return Reply(2400, "Command failed: registry unavailable")
        except (RegistryTimeout, SimulatedCrash) as lost:
            log.info("EPP answer lost on purpose: %s", lost)
            raise DropConnection(str(lost)) from lost
        except Exception:
            log.exception("EPP command failed")
            return Reply(2400)

    def _poll(self, context: Context, element: etree._Element) -> Reply:
        return poll(context, element)
