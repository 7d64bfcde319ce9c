"""The RQ worker classes ``flask worker`` runs (imported only where RQ is used).

RQ's worker listens on a pubsub channel for commands (stop a job, shut down) in a thread
that sleeps up to 60 s between reads, and redis-py 8.2 made ``stop()`` wait for that
thread: an idle worker took up to a minute to exit on SIGTERM or at the end of a burst.
These classes read the channel every second instead, so a deploy or a test waits for
nothing.
"""

from __future__ import annotations

from rq import SimpleWorker, Worker

PUBSUB_SLEEP_S = 1


class _PromptShutdown:
    def subscribe(self) -> None:
        # rq.worker.base.BaseWorker.subscribe with a short sleep (RQ 2–3 share these names)
        self.pubsub = self.connection.pubsub()
        self.pubsub.subscribe(**{self.pubsub_channel_name: self.handle_payload})
        self.pubsub_thread = self.pubsub.run_in_thread(
            sleep_time=PUBSUB_SLEEP_S, daemon=True,
            exception_handler=self._pubsub_exception_handler)


class InProcessWorker(_PromptShutdown, SimpleWorker):
    """Runs each job in this process, in the app ``flask worker`` built once."""


class ForkingWorker(_PromptShutdown, Worker):
    """Runs each job in a forked child (``flask worker --fork``)."""
