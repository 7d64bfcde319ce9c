"""RQ jobs: sending the outbox, the daily sender-domain re-check, compliance runs."""

from reseller.core.jobs import batch_form, enqueue, periodic
from whitelabel import compliance, outbox, sender
from whitelabel.settings import current


def send_message(message_id: int) -> None:
    settings = current()
    outbox.deliver(message_id, outbox.mailer(), neutral_key=settings.neutral_dkim_key,
                   neutral_selector=settings.neutral_dkim_selector)


@batch_form("whitelabel.tasks.send_message")
def send_messages(args_list: list[tuple]) -> None:
    """``send_message`` for the mails a batch of events queued, claimed and recorded together."""
    settings = current()
    outbox.deliver_many([message_id for (message_id,) in args_list], outbox.mailer(),
                        neutral_key=settings.neutral_dkim_key,
                        neutral_selector=settings.neutral_dkim_selector)


@periodic("outbox-sweep", "*/5 * * * *")
def sweep_outbox() -> None:
    """Queue sends that are due: retries, and messages whose job was lost."""
    outbox.requeue_due()


@periodic("sender-domain-recheck", "17 4 * * *")
def recheck_sender_domains() -> None:
    """Re-check every sender domain's DNS; a broken one is paused and its reseller told."""
    settings = current()
    sender.recheck_all(settings=settings, resolver=sender.resolver_for(settings))


@periodic("registrant-compliance", "7 * * * *")
def registrant_compliance() -> None:
    """Verification deadlines (suspend/unsuspend) and renewal reminders, by the clock."""
    compliance.enforce_verification_deadlines()
    compliance.send_renewal_reminders_in_chunks()


def send_renewal_reminder_chunk(watch_ids: list[int]) -> None:
    """One chunk of renewal reminders by watch id (jobs queued before lanes existed)."""
    compliance.send_reminders_for(watch_ids)


def send_renewal_reminder_lane(after_id: int, upto_id: int) -> None:
    """The next chunk of a lane of scheduled renewal reminders, in its own unit of work;
    the lane's next chunk is queued with it (after its commit)."""
    _sent, more = compliance.send_reminders_after(after_id, upto_id)
    if more is not None:
        enqueue(compliance.REMINDER_LANE_JOB, more, upto_id)
