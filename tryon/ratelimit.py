"""The plan's generate limits, counted by tryon.services.order_submit for both doors, kept in the shared
Django cache (database cache or Redis) so every web process sees the same counters. Fixed windows aligned
to the clock hour / UTC day. (The API's polling budget, api.throttling, uses the same counters.)"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.base import BaseCache

from .errors import RateLimited


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


# Redis increments atomically and keeps the key's expiry. Django's generic incr() (database cache)
# is get + set with the *default* timeout, which would let an hourly counter expire after 5 minutes:
# there we set with the window's own timeout instead (still read-modify-write: a burst of parallel
# calls may be counted one or two short).
def incr_counter(key: str, ttl: int, delta: int = 1) -> int:
    if _native_incr():
        try:
            return cache.incr(key, delta)
        except ValueError:  # not there yet
            if cache.add(key, delta, ttl):
                return delta
            return cache.incr(key, delta)
    value = cache.get(key)
    if value is None:
        if cache.add(key, delta, ttl):
            return delta
        value = cache.get(key, 0)
    cache.set(key, value + delta, ttl)
    return value + delta


def _native_incr() -> bool:
    backend = caches["default"]
    return type(backend).incr is not BaseCache.incr


# The hourly count shown in X-RateLimit-* on every poll is read through a per-process memo at most
# WINDOW_MEMO_SECONDS old: a shared-cache read per poll cost as much as the order query. The process that
# counts a POST updates its memo at once; another process shows it at most that much later. Enforcement
# (generate_check) always reads the shared counters.
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
        used = cache.get(hour_key, 0)
        _remember(user.pk, hour_end, used)
    return Window(plan_limits(user)["per_hour"], used, hour_end)


def generate_check(user) -> Window:
    """Raise 429 when the hour or day budget is spent (a refused call is one of the counted ones: its
    budget is full already, so it adds nothing); otherwise return the hourly window. Only a request that
    creates an order adds to the counters, by generate_count: a request refused for bad input, missing
    credits or the one-at-a-time rule costs no slot."""
    now = time.time()
    limits = plan_limits(user)
    hour_key, day_key, hour_end, day_end = _keys(user.pk, now)
    counts = cache.get_many([hour_key, day_key])
    hour = Window(limits["per_hour"], counts.get(hour_key, 0), hour_end)
    day = Window(limits["per_day"], counts.get(day_key, 0), day_end)
    _remember(user.pk, hour_end, hour.used)
    for window, name in ((hour, "hourly"), (day, "daily")):
        if window.used >= window.limit:
            raise RateLimited(
                f"The {name} limit of {window.limit} generate requests for the {user.plan} plan is reached; "
                f"retry in {window.retry_after(now)} s.",
                details={"limit": window.limit, "window": name, "reset": window.reset},
                headers={"Retry-After": str(window.retry_after(now)), **headers_for(hour)},
            )
    return hour


def generate_count(user) -> Window:
    """Count one request that created an order; returns the hourly window after it."""
    now = time.time()
    hour_key, day_key, hour_end, _ = _keys(user.pk, now)
    used = incr_counter(hour_key, 3600 + 60)
    incr_counter(day_key, 86400 + 60)
    _remember(user.pk, hour_end, used)
    return Window(plan_limits(user)["per_hour"], used, hour_end)


def generate_hit(user) -> Window:
    """Count one POST /generate call, or raise 429 when the hour or day budget is spent."""
    now = time.time()
    limits = plan_limits(user)
    hour_key, day_key, hour_end, day_end = _keys(user.pk, now)
    counts = cache.get_many([hour_key, day_key])
    hour = Window(limits["per_hour"], counts.get(hour_key, 0), hour_end)
    day = Window(limits["per_day"], counts.get(day_key, 0), day_end)
    _remember(user.pk, hour_end, hour.used)
    for window, name in ((hour, "hourly"), (day, "daily")):
        if window.used >= window.limit:
            raise RateLimited(
                f"The {name} limit of {window.limit} generate requests for the {user.plan} plan is reached; "
                f"retry in {window.retry_after(now)} s.",
                details={"limit": window.limit, "window": name, "reset": window.reset},
                headers={"Retry-After": str(window.retry_after(now)), **headers_for(hour)},
            )
    used = incr_counter(hour_key, 3600 + 60)
    incr_counter(day_key, 86400 + 60)
    _remember(user.pk, hour_end, used)
    return Window(hour.limit, used, hour_end)


def headers_for(window: Window) -> dict[str, str]:
    return {
        "X-RateLimit-Limit": str(window.limit),
        "X-RateLimit-Remaining": str(window.remaining),
        "X-RateLimit-Reset": str(window.reset),
    }
