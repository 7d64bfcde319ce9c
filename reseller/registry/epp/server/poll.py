"""The message queue (RFC 5730 ``<poll>``): transfer news for the logged-in registrar,
one message at a time, each with ``domain:trnData`` while the name still exists."""

from __future__ import annotations

from lxml import etree

from reseller.registry.epp.server.context import CommandError, Context
from reseller.registry.epp.server.domain import transfer_data
from reseller.registry.epp.server.frames import Reply
from reseller.registry.models import Message

TEXTS = {
    "transfer_requested": "Transfer requested by {gaining}; approve or reject it",
    "transfer_completed": "Transfer completed: {losing} to {gaining}",
    "transfer_rejected": "Transfer rejected by the sponsor",
}
STATUSES = {"transfer_requested": "pending", "transfer_rejected": "clientRejected"}


def poll(context: Context, element: etree._Element) -> Reply:
    context.operation = "poll"
    messages = context.registry.poll()
    if context.op == "ack":
        return _ack(context, messages, element.get("msgID") or "")
    if context.op != "req":
        raise CommandError(2005, "Parameter value syntax error: poll op")
    if not messages:
        return Reply(1300)
    first = messages[0]
    reply = Reply(1301, queue=(len(messages), first.id, first.queued_at, _text(first)))
    reply.res_data = _transfer(context, first)
    return reply


def _ack(context: Context, messages: list[Message], message_id: str) -> Reply:
    ids = [m.id for m in messages]
    if not message_id.isdigit() or int(message_id) not in ids:
        raise CommandError(2303, f"Object does not exist: message {message_id}")
    context.registry.ack(int(message_id))
    rest = [i for i in ids if i != int(message_id)]
    return Reply(queue_count_only=(len(rest), rest[0]) if rest else None)


def _text(message: Message) -> str:
    template = TEXTS.get(message.kind, message.kind)
    try:
        return template.format(**message.data)
    except KeyError:
        return message.kind


def _transfer(context: Context, message: Message) -> etree._Element | None:
    if not message.kind.startswith("transfer_"):
        return None
    found = context.registry.transfer_query(name=message.name)
    if found is None:
        return None
    status = STATUSES.get(message.kind)
    if status is None and not found.approved:
        status = "serverApproved"
    return transfer_data(context, found, status)
