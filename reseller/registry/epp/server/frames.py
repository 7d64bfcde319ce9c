"""The EPP server's documents: the greeting, responses with their result codes, and the
element makers its command handlers build ``resData`` and extensions with."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from lxml import etree
from lxml.builder import ElementMaker

from reseller.registry.epp.elements import (  # noqa: F401  (re-exported for handlers)
    CONTACT,
    DOMAIN,
    EPP,
    FEE,
    FEE_URI,
    HOST,
    RGP,
    SECDNS,
)
from reseller.registry.epp.iis import IIS_URI
from reseller.registry.epp.wire import NS, OBJECT_URIS, serialize

SERVER_EXTENSIONS = (NS["secDNS"], NS["rgp"], FEE_URI, IIS_URI)

RESULTS = {
    1000: "Command completed successfully",
    1001: "Command completed successfully; action pending",
    1300: "Command completed successfully; no messages",
    1301: "Command completed successfully; ack to dequeue",
    1500: "Command completed successfully; ending session",
    2000: "Unknown command",
    2001: "Command syntax error",
    2002: "Command use error",
    2003: "Required parameter missing",
    2004: "Parameter value range error",
    2005: "Parameter value syntax error",
    2100: "Unimplemented protocol version",
    2101: "Unimplemented command",
    2102: "Unimplemented option",
    2103: "Unimplemented extension",
    2200: "Authentication error",
    2201: "Authorization error",
    2202: "Invalid authorization information",
    2300: "Object pending transfer",
    2301: "Object not pending transfer",
    2302: "Object exists",
    2303: "Object does not exist",
    2304: "Object status prohibits operation",
    2305: "Object association prohibits operation",
    2306: "Parameter value policy error",
    2307: "Unimplemented object service",
    2400: "Command failed",
    2500: "Command failed; server closing connection",
    2501: "Authentication error; server closing connection",
    2502: "Session limit exceeded; server closing connection",
}


def timestamp(moment: datetime) -> str:
    """xs:dateTime in UTC with a Z, as EPP servers conventionally write it."""
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass
class Reply:
    """One response before rendering: result, optional queue, data and extensions."""

    code: int = 1000
    message: str | None = None
    res_data: etree._Element | None = None
    extensions: list[etree._Element] = field(default_factory=list)
    queue: tuple[int, int, datetime | None, str] | None = None  # count, id, qDate, msg
    queue_count_only: tuple[int, int] | None = None  # count, next id (after an ack)
    close: bool = False


def availability(maker: ElementMaker, tag: str, keys: list[str],
                 taken: Callable[[str], bool]) -> etree._Element:
    """``chkData`` for objects that are simply free or in use (hosts, contacts)."""
    rows = []
    for key in keys:
        used = taken(key)
        row = maker.cd(maker(tag, key, avail="0" if used else "1"))
        if used:
            row.append(maker.reason("In use"))
        rows.append(row)
    return maker.chkData(*rows)


def greeting(server_id: str, now: datetime) -> bytes:
    services = [EPP.objURI(uri) for uri in OBJECT_URIS]
    extensions = EPP.svcExtension(*[EPP.extURI(uri) for uri in SERVER_EXTENSIONS])
    dcp = EPP.dcp(
        EPP.access(EPP.all()),
        EPP.statement(EPP.purpose(EPP.admin(), EPP.prov()),
                      EPP.recipient(EPP.ours(), EPP.public()),
                      EPP.retention(EPP.stated())))
    root = EPP.epp(EPP.greeting(
        EPP.svID(server_id), EPP.svDate(timestamp(now)),
        EPP.svcMenu(EPP.version("1.0"), EPP.lang("en"), *services, extensions), dcp))
    return serialize(root)


def response(reply: Reply, *, client_trid: str | None, server_trid: str) -> bytes:
    result = EPP.result(EPP.msg(reply.message or RESULTS.get(reply.code, "Command failed")),
                        code=str(reply.code))
    children: list[etree._Element] = [result]
    if reply.queue is not None:
        count, message_id, queued_at, text = reply.queue
        queue = EPP.msgQ(count=str(count), id=str(message_id))
        if queued_at is not None:
            queue.append(EPP.qDate(timestamp(queued_at)))
        queue.append(EPP.msg(text))
        children.append(queue)
    elif reply.queue_count_only is not None:
        count, message_id = reply.queue_count_only
        children.append(EPP.msgQ(count=str(count), id=str(message_id)))
    if reply.res_data is not None:
        children.append(EPP.resData(reply.res_data))
    if reply.extensions:
        children.append(EPP.extension(*reply.extensions))
    trid = EPP.trID(*([EPP.clTRID(client_trid)] if client_trid else []),
                    EPP.svTRID(server_trid))
    return serialize(EPP.epp(EPP.response(*children, trid)))
