"""Rate-limit counters under bursts: atomic on the configured cache backend (the
database by default, Redis when REDIS_URL is set). Threads with their own database connections, released
together by a barrier."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from django.db import connections

from tests.api.conftest import make_user
from tryon import ratelimit
from tryon.errors import RateLimited


def _together(count: int, work):
    barrier = threading.Barrier(count)

    def run(i):
        try:
            barrier.wait(timeout=30)
            return work(i)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(run, range(count)))


def test_parallel_increments_are_never_lost(transactional_db, clean_cache):
    key = "rl:test:parallel"

    def bump(_):
        return [ratelimit.incr_counter(key, 120) for _ in range(25)]

    results = _together(8, bump)
    values = sorted(v for chunk in results for v in chunk)
    assert values == list(range(1, 201))  # every increment counted once, every value seen once
    assert ratelimit.read_counters([key])[key] == 200


def test_a_burst_passes_exactly_the_hourly_limit(transactional_db, clean_cache):
    user, _ = make_user("burst@example.com", credits=0, plan="free")  # 10 an hour
    ratelimit._window_memo.clear()

    def hit(_):
        try:
            ratelimit.generate_hit(user)
            return True
        except RateLimited:
            return False

    passed = sum(_together(24, hit))
    assert passed == ratelimit.plan_limits(user)["per_hour"]
    hour_key, day_key, _, _ = ratelimit._keys(user.pk, ratelimit.time.time())
    counts = ratelimit.read_counters([hour_key, day_key])
    assert counts[hour_key] == counts[day_key] == passed  # refused calls are taken back
