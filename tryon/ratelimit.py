"""The plan's generate limits, counted by tryon.services.order_submit for both doors, kept in the shared
Django cache (database cache or Redis) so every web process sees the same counters. Fixed windows aligned
to the clock hour / UTC day. (The API's polling budget, api.throttling, uses the same counters.)"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.base import BaseCache

from core.counters import counter_add, counters_get

from .errors import RateLimited

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Window:
    limit: int
    used: int
    reset: int  # Unix time the window ends

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.used)

    def retry_after(self, now: float) -> int:
        return max(1, int(self.reset - now))


def plan_limits(user) -> dict:
    return settings.API_PLANS.get(user.plan, settings.API_PLANS["free"])


def window_bounds(now: float, seconds: int) -> tuple[int, int]:
    start = int(now // seconds * seconds)
    return start, start + seconds


def _keys(user_id: int, now: float) -> tuple[str, str, int, int]:
    hour, hour_end = window_bounds(now, 3600)
    day, day_end = window_bounds(now, 86400)
    return f"rl:gen:h:{user_id}:{hour}", f"rl:gen:d:{user_id}:{day}", hour_end, day_end


# Counters are atomic on both backends: Redis INCR (which keeps the key's expiry) when the cache is
# Redis; otherwise one upsert statement on the database (core.counters), because Django's database cache
# increments by reading and writing, so parallel requests lost counts and bursts passed the limits.
def incr_counter(key: str, ttl: int, delta: int = 1) -> int:
    if not _native_incr():
        return counter_add(key, delta, ttl)
    try:
        return cache.incr(key, delta)
    except ValueError:  # not there yet (or expired)
        if cache.add(key, delta, ttl):
            return delta
        return cache.incr(key, delta)


def read_counters(keys: list[str]) -> dict[str, int]:
    if not _native_incr():
        return counters_get(keys)
    return cache.get_many(keys)


def _undo(key: str, ttl: int) -> None:
    """Take back a count this call added (refused: the counters keep counting accepted calls only)."""
    try:
        incr_counter(key, ttl, -1)
    except Exception:  # noqa: BLE001 - a count too many for the rest of the window is harmless
        logger.warning("could not take back a refused call's count on %s", key)


def _native_incr() -> bool:
    backend = caches["default"]
    return type(backend).incr is not BaseCache.incr


# The hourly count shown in X-RateLimit-* on every poll is read through a per-process memo at most
# WINDOW_MEMO_SECONDS old: a shared-cache read per poll cost as much as the order query. The process that
# counts a POST updates its memo at once; another process shows it at most that much later. Enforcement
# (generate_hit) always goes through the shared counters.
WINDOW_MEMO_SECONDS = 1.0
_WINDOW_MEMO_MAX = 10_000
_window_memo: dict[tuple[int, int], tuple[int, float]] = {}  # (user id, hour) -> (used, monotonic read time)


def _remember(user_id: int, hour_end: int, used: int) -> None:
    if len(_window_memo) >= _WINDOW_MEMO_MAX:
        _window_memo.clear()
    _window_memo[(user_id, hour_end)] = (used, time.monotonic())


def generate_window(user, now: float | None = None) -> Window:
    """The hourly generate window, read-only (for headers and GET /account)."""
    now = time.time() if now is None else now
    hour_key, _, hour_end, _ = _keys(user.pk, now)
    memo = _window_memo.get((user.pk, hour_end))
    if memo is not None and time.monotonic() - memo[1] < WINDOW_MEMO_SECONDS:
        used = memo[0]
    else:
        used = read_counters([hour_key]).get(hour_key, 0)
        _remember(user.pk, hour_end, used)
    return Window(plan_limits(user)["per_hour"], used, hour_end)


def generate_hit(user) -> Window:
    """Take one slot of the hourly and daily generate budgets, or raise 429 when either is spent.

    Counted first and checked on the value the atomic increment returned: of N parallel calls exactly the
    ones that fit the limit pass (a read, then a write, let a burst through). A refused call's counts are
    taken back. A call that then creates no order gives its slot back with :func:`generate_release`, so
    only calls that create an order use the budget."""
    now = time.time()
    limits = plan_limits(user)
    hour_key, day_key, hour_end, day_end = _keys(user.pk, now)
    hour_ttl, day_ttl = 3600 + 60, 86400 + 60
    used = incr_counter(hour_key, hour_ttl)
    refused: tuple[Window, str] | None = None
    if used > limits["per_hour"]:
        _undo(hour_key, hour_ttl)
        refused = (Window(limits["per_hour"], limits["per_hour"], hour_end), "hourly")
    else:
        day_used = incr_counter(day_key, day_ttl)
        if day_used > limits["per_day"]:
            _undo(day_key, day_ttl)
            _undo(hour_key, hour_ttl)
            used -= 1
            refused = (Window(limits["per_day"], limits["per_day"], day_end), "daily")
    hour = Window(limits["per_hour"], min(used, limits["per_hour"]), hour_end)
    _remember(user.pk, hour_end, hour.used)
    if refused is not None:
        window, name = refused
        raise RateLimited(
            f"The {name} limit of {window.limit} generate requests for the {user.plan} plan is reached; "
            f"retry in {window.retry_after(now)} s.",
            details={"limit": window.limit, "window": name, "reset": window.reset},
            headers={"Retry-After": str(window.retry_after(now)), **headers_for(hour)},
        )
    return hour


def generate_release(user) -> Window:
    """Give back the slot :func:`generate_hit` took for a call that created no order (bad input, missing
    credits, one order at a time...); returns the hourly window after it."""
    now = time.time()
    hour_key, day_key, hour_end, _ = _keys(user.pk, now)
    _undo(day_key, 86400 + 60)
    _undo(hour_key, 3600 + 60)
    _window_memo.pop((user.pk, hour_end), None)
    return generate_window(user, now)


def headers_for(window: Window) -> dict[str, str]:
    return {
        "X-RateLimit-Limit": str(window.limit),
        "X-RateLimit-Remaining": str(window.remaining),
        "X-RateLimit-Reset": str(window.reset),
    }
