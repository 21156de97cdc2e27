"""How long an order takes: from the recent real processing times of its style."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from .models import Order

SAMPLE = 20  # most recent completed orders per style
CACHE_SECONDS = 30


def typical_seconds(style: str) -> tuple[int, int]:
    """(low, high): the lower and upper quartile of recent creation-to-completion times."""
    key = f"est:{style}"
    cached = cache.get(key)
    if cached is not None:
        return tuple(cached)
    rows = (
        Order.objects.filter(style=style, status=Order.Status.COMPLETED, completed_at__isnull=False)
        .order_by("-completed_at")
        .values_list("created_at", "completed_at")[:SAMPLE]
    )
    seconds = sorted((done - created).total_seconds() for created, done in rows)
    if seconds:
        low = seconds[len(seconds) // 4]
        high = seconds[min(len(seconds) - 1, math.ceil(len(seconds) * 3 / 4))]
    else:
        default = settings.API_DEFAULT_PROCESSING_SECONDS.get(style, 60)
        low, high = default * 0.75, default
    result = (max(1, math.floor(low)), max(2, math.ceil(high)))
    cache.set(key, list(result), CACHE_SECONDS)
    return result


def _round_up(value: int, step: int) -> int:
    return max(step, math.ceil(value / step) * step)


def estimated_time_text(style: str) -> str:
    """A human range such as "45-60 seconds" or "2-3 minutes"."""
    low, high = typical_seconds(style)
    if high <= 120:
        step = 5 if high > 20 else 1
        low_r, high_r = max(1, low // step * step), _round_up(high, step)
        if low_r >= high_r:
            high_r = low_r + step
        return f"{low_r}-{high_r} seconds"
    low_m, high_m = max(1, low // 60), math.ceil(high / 60)
    if low_m >= high_m:
        high_m = low_m + 1
    return f"{low_m}-{high_m} minutes"


def estimated_completion(order: Order, now: datetime | None = None) -> datetime:
    """When a pending or in-progress order should be done: the typical duration from its creation,
    or, once that has passed, the share of it still ahead by the reported progress."""
    now = now or timezone.now()
    _, high = typical_seconds(order.style)
    expected = order.created_at + timedelta(seconds=high)
    if expected > now:
        return expected
    remaining = max(2.0, high * (100 - order.progress) / 100)
    return now + timedelta(seconds=remaining)
