"""Every Celery worker announces itself: a thread of the worker's main process upserts its WorkerPresence
row every PRESENCE_INTERVAL seconds, so the metrics can count live consumers per queue across hosts (the
heartbeat task only proves that the default queue's worker runs)."""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from datetime import timedelta

from django.db import DatabaseError, close_old_connections
from django.utils import timezone

from .models import WorkerPresence

logger = logging.getLogger(__name__)

PRESENCE_INTERVAL = 30.0
# Three missed refreshes: a worker busy starting up or a slow database does not flicker out of the count.
PRESENCE_STALE_AFTER = timedelta(seconds=3 * PRESENCE_INTERVAL)


def presence_write(node: str, queues: list[str]) -> None:
    WorkerPresence.objects.update_or_create(
        node=node, defaults={"queues": ",".join(sorted(queues)), "pid": os.getpid(), "seen_at": timezone.now()}
    )


def presence_leave(node: str) -> None:
    WorkerPresence.objects.filter(node=node).delete()


def workers_by_queue() -> dict[str, int]:
    """Live workers per queue (a worker consuming two queues counts in both)."""
    counts: dict[str, int] = {}
    recent = WorkerPresence.objects.filter(seen_at__gte=timezone.now() - PRESENCE_STALE_AFTER)
    for queues in recent.values_list("queues", flat=True):
        for queue in filter(None, queues.split(",")):
            counts[queue] = counts.get(queue, 0) + 1
    return counts


def presence_start(node: str, queues: list[str], stop: threading.Event) -> threading.Thread:
    """Refresh this worker's row until ``stop`` is set, then remove it."""

    def run() -> None:
        while True:
            try:
                close_old_connections()
                presence_write(node, queues)
            except DatabaseError:
                # The database is down for a while: the row goes stale and the count drops, which is the truth.
                logger.warning("worker presence of %s not written", node, exc_info=True)
            if stop.wait(PRESENCE_INTERVAL):
                break
        with contextlib.suppress(DatabaseError):  # else the row expires on its own
            presence_leave(node)

    thread = threading.Thread(target=run, name="worker-presence", daemon=True)
    thread.start()
    return thread
