"""RQ jobs for the outbox."""

import sqlalchemy as sa

from reseller.core.extensions import db
from reseller.core.jobs import enqueue, periodic
from whitelabel import outbox
from whitelabel.models import OutboxMessage


def send_message(message_id: int) -> None:
    outbox.deliver(message_id, outbox.mailer())


@periodic("outbox-sweep", "*/10 * * * *")
def sweep_outbox() -> None:
    """Re-queue messages left queued (e.g. the worker died before sending them)."""
    ids = db.session.scalars(
        sa.select(OutboxMessage.id).where(OutboxMessage.state == "queued").limit(500)
    )
    for message_id in ids:
        enqueue("whitelabel.tasks.send_message", message_id)
