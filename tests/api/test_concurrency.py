"""N parallel POST /generate with credits for K < N orders: exactly K accepted, N-K get 402 (PostgreSQL)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from django.core.cache import cache
from django.db import connection
from django.db.models import Sum

from billing.models import CreditEntry
from billing.services import credits_balance
from tryon.models import Order

from .conftest import b64, image_bytes, make_user

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL (DATABASE_URL=postgres://...)"),
]

N, K = 8, 3


def test_race_for_the_last_credits(live_server, transactional_db, settings):
    cache.clear()
    settings.API_PLANS = {**settings.API_PLANS, "paid": {"per_hour": 100, "per_day": 1000, "concurrent": 100}}
    user, key = make_user("racer@example.com", credits=K, plan="paid")
    body = {"person_image": b64(image_bytes(320, 480, seed=1)), "clothing_image": b64(image_bytes(300, 300, seed=2))}
    headers = {"Authorization": f"Bearer {key}"}

    def post(_):
        return requests.post(f"{live_server.url}/api/v1/generate", json=body, headers=headers, timeout=60)

    with ThreadPoolExecutor(N) as pool:
        responses = list(pool.map(post, range(N)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [202] * K + [402] * (N - K), [r.text for r in responses if r.status_code not in (202, 402)]
    for response in responses:
        if response.status_code == 402:
            assert response.json()["error"]["code"] == "INSUFFICIENT_CREDITS"
    assert Order.objects.filter(user=user).count() == K
    assert credits_balance(user) == 0
    entries = CreditEntry.objects.filter(user=user)
    assert entries.aggregate(s=Sum("amount"))["s"] == 0
    assert entries.filter(kind="spend").count() == K
