"""Which domains follow the change feed: the one list of feed consumers (``feed_consumers``).

Order matters only through ``FeedConsumer.needs``; a consumer that reads another's derived state
names it there. To subscribe a new domain, add its consumer here.
"""

from __future__ import annotations

from sqlalchemy import Engine

from .alerts.raising import ALERTS
from .duplicates.backlog import PROPOSALS
from .feed_consumers import FeedConsumer, ensure_current
from .reports.projection import PROJECTION
from .tasks.review_requests import REVIEW_TASKS

CONSUMERS: tuple[FeedConsumer, ...] = (PROJECTION, ALERTS, PROPOSALS, REVIEW_TASKS)
# Caught up before every API request opens its transaction: nothing may read them behind.
READERS_WAIT: tuple[FeedConsumer, ...] = tuple(c for c in CONSUMERS if c.readers_wait)
SOON: tuple[FeedConsumer, ...] = tuple(c for c in CONSUMERS if c.timing == "soon")
AFTER_PAUSE: tuple[FeedConsumer, ...] = tuple(c for c in CONSUMERS if c.timing == "after_pause")
# The app's feed workers (``app.state`` names): poked by every commit that appended.
FEED_WORKERS = ("feed_worker", "proposal_worker")


def catch_up_readers(engine: Engine) -> None:
    """Before reading derived state outside an API request (CLI, streamed export): catch it up."""
    ensure_current(engine, *READERS_WAIT)
