"""What an EPP command handler works with: its ``Context`` (the registrar's registry and
the command's ids), ``CommandError`` for a refusal before the registry sees the command,
and the element helpers. The handlers (domain, host, contact, poll) and the session that
dispatches to them both import this module."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from lxml import etree

from reseller.registry.epp.server.frames import Reply
from reseller.registry.epp.wire import NS
from reseller.registry.sandbox import SandboxRegistry

T = TypeVar("T", bound=Any)


class CommandError(Exception):
    """A command the server refuses before the registry sees it (EPP 2xxx)."""

    def __init__(self, code: int, message: str | None = None) -> None:
        super().__init__(code, message)
        self.code = code
        self.message = message


@dataclass
class Context:
    """What a command handler gets: the registrar's registry and the command's ids."""

    registry: SandboxRegistry
    client_id: str
    transaction_id: str  # the clTRID, or our svTRID when the client sent none
    extensions: list[etree._Element]  # the command's <extension> children
    ext_uris: frozenset[str]  # extensions negotiated at login
    op: str = ""  # the <transfer op="..."> or <poll op="...">
    operation: str = ""  # the sandbox operation a ``drop`` fault is matched against

    def extension(self, prefix: str, local: str, uri: str | None = None) -> etree._Element | None:
        tag = f"{{{uri or NS[prefix]}}}{local}"
        return next((e for e in self.extensions if e.tag == tag), None)


Handler = Callable[[Context, etree._Element], Reply]


def required(element: etree._Element, path: str) -> str:
    """The text at ``path`` (``prefix:name/...``), or 2003 when it is missing or empty."""
    value = (element.findtext(path, namespaces=NS) or "").strip()
    if not value:
        raise CommandError(2003, f"Required parameter missing: {path.rpartition(':')[2]}")
    return value


def texts(element: etree._Element, path: str) -> list[str]:
    return [(e.text or "").strip() for e in element.findall(path, NS)]


def existing(row: T | None, client_id: str, *, ours: bool = False) -> T:
    """A host or contact row that must exist (2303) and, with ``ours``, be sponsored by
    the logged-in registrar (2201)."""
    if row is None:
        raise CommandError(2303, "Object does not exist")
    if ours and row.sponsor != client_id:
        raise CommandError(2201, "Authorization error")
    return row
