"""The wallet's web layer: API, client-area pages and console pages over ``wallet``."""

from wallet import tasks as _wallet_tasks  # noqa: F401  (registers the periodic jobs)
