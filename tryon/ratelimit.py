"""Per-plan limits kept in the shared Django cache (database cache or Redis), so every web
process sees the same counters. Fixed windows aligned to the clock hour / UTC day / minute."""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

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


def _bounds(now: float, seconds: int) -> tuple[int, int]:
    start = int(now // seconds * seconds)
    return start, start + seconds


def _keys(user_id: int, now: float) -> tuple[str, str, int, int]:
    hour, hour_end = _bounds(now, 3600)
    day, day_end = _bounds(now, 86400)
    return f"rl:gen:h:{user_id}:{hour}", f"rl:gen:d:{user_id}:{day}", hour_end, day_end


def _incr(key: str, ttl: int) -> int:
    # add() is atomic on both backends; incr() is atomic on Redis (the database cache
    # does read-modify-write, so a burst there may count one or two calls short).
    if cache.add(key, 1, ttl):
        return 1
    try:
        return cache.incr(key)
    except ValueError:  # expired between add() and incr()
        cache.add(key, 1, ttl)
        return 1


def generate_window(user, now: float | None = None) -> Window:
    """The hourly generate window, read-only (for headers and GET /account)."""
    now = time.time() if now is None else now
    hour_key, _, hour_end, _ = _keys(user.pk, now)
    return Window(plan_limits(user)["per_hour"], cache.get(hour_key, 0), hour_end)


def generate_hit(user) -> Window:
    """Count one POST /generate call, or raise 429 when the hour or day budget is spent."""
    now = time.time()
    limits = plan_limits(user)
    hour_key, day_key, hour_end, day_end = _keys(user.pk, now)
    counts = cache.get_many([hour_key, day_key])
    hour = Window(limits["per_hour"], counts.get(hour_key, 0), hour_end)
    day = Window(limits["per_day"], counts.get(day_key, 0), day_end)
    for window, name in ((hour, "hourly"), (day, "daily")):
        if window.used >= window.limit:
            raise RateLimited(
                f"The {name} limit of {window.limit} generate requests for the {user.plan} plan is reached; "
                f"retry in {window.retry_after(now)} s.",
                details={"limit": window.limit, "window": name, "reset": window.reset},
                headers={"Retry-After": str(window.retry_after(now)), **headers_for(hour)},
            )
    used = _incr(hour_key, 3600 + 60)
    _incr(day_key, 86400 + 60)
    return Window(hour.limit, used, hour_end)


def poll_hit(key_id: int) -> None:
    """Count one GET; raise 429 past API_POLL_LIMIT_PER_MINUTE for this key."""
    now = time.time()
    start, end = _bounds(now, 60)
    used = _incr(f"rl:poll:{key_id}:{start}", 120)
    limit = settings.API_POLL_LIMIT_PER_MINUTE
    if used > limit:
        raise RateLimited(
            f"More than {limit} status requests per minute with this key; poll every few seconds instead.",
            details={"limit": limit, "window": "minute", "reset": end},
            headers={"Retry-After": str(max(1, int(end - now)))},
        )


def headers_for(window: Window) -> dict[str, str]:
    return {
        "X-RateLimit-Limit": str(window.limit),
        "X-RateLimit-Remaining": str(window.remaining),
        "X-RateLimit-Reset": str(window.reset),
    }
