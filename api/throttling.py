"""The API's polling budget: every GET under /api/v1 counts against API_POLL_LIMIT_PER_MINUTE per key,
in the shared cache (tryon.ratelimit's counters), far above a 5 s poll loop."""

from __future__ import annotations

import threading
import time

from django.conf import settings

from tryon.errors import RateLimited
from tryon.ratelimit import incr_counter, window_bounds

# Polling counts are batched per process: each process adds its count to the shared counter at most
# once per POLL_FLUSH_SECONDS, so a poll costs a cache write only now and then. The limit is then
# enforced across processes with at most that lag, which is fine for a limit this generous.
POLL_FLUSH_SECONDS = 1.0
_poll_lock = threading.Lock()
_poll_local: dict[tuple[int, int], list[float]] = {}  # (key id, window) -> [unflushed, last flush, shared seen]


def poll_hit(key_id: int) -> None:
    """Count one GET; raise 429 past API_POLL_LIMIT_PER_MINUTE for this key."""
    now = time.time()
    start, end = window_bounds(now, 60)
    slot = (key_id, start)
    with _poll_lock:
        entry = _poll_local.get(slot)
        if entry is None:
            for old in [k for k in _poll_local if k[1] < start]:
                del _poll_local[old]
            entry = _poll_local[slot] = [0, 0.0, 0]
        entry[0] += 1
        delta = 0
        if time.monotonic() - entry[1] >= POLL_FLUSH_SECONDS:
            delta, entry[0], entry[1] = int(entry[0]), 0, time.monotonic()
    if delta:
        entry[2] = incr_counter(f"rl:poll:{key_id}:{start}", 120, delta)
    used = entry[2] + entry[0]
    limit = settings.API_POLL_LIMIT_PER_MINUTE
    if used > limit:
        raise RateLimited(
            f"More than {limit} status requests per minute with this key; poll every few seconds instead.",
            details={"limit": limit, "window": "minute", "reset": end},
            headers={"Retry-After": str(max(1, int(end - now)))},
        )
