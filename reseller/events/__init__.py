"""The event feed: ``GET /api/v1/events?after=CURSOR`` over the core event log."""
