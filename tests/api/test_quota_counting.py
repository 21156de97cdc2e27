"""Only requests that create an order (or are refused by the quota itself) count against
the plan's hourly limit; bad input, missing credits and the one-at-a-time rule cost no slot, through either
door. The dashboard and GET /account show the same counts."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

from billing.services import credits_grant
from tryon.models import Order

from .conftest import client_for, make_user


def test_refused_requests_do_not_use_the_hourly_quota(clean_cache, tryon_body, settings):
    settings.API_PLANS = {**settings.API_PLANS, "free": {"per_hour": 3, "per_day": 50, "concurrent": 1}}
    user, key = make_user("new@example.com", credits=2)
    api = client_for(key)

    def post(body):
        return api.post("/api/v1/generate", body, format="json")

    for _ in range(4):  # bad input
        assert post({**tryon_body, "style": "cartoon"}).status_code == 400
    assert post(tryon_body).status_code == 202  # order 1
    for _ in range(4):  # one at a time
        assert post(tryon_body).status_code == 429
    Order.objects.update(status="completed")
    assert post(tryon_body).status_code == 202  # order 2: credits spent
    Order.objects.update(status="completed")
    for _ in range(4):  # no credits
        assert post(tryon_body).status_code == 402
    # Web door: a bad upload costs no slot either.
    web = Client()
    web.force_login(user)
    assert web.post(reverse("tryon_new"), {"quality": "high"}).status_code in (200, 400)

    account = api.get("/api/v1/account").json()
    assert account["rate_limit"]["remaining"] == 1, account  # 3 - 2 orders
    assert account["account"]["api_calls_today"] == 2 and account["account"]["api_calls_total"] == 2

    # The dashboard shows the same numbers.
    page = web.get(reverse("dashboard"))
    assert page.context["hour_used"] == 2 and page.context["hour_remaining"] == 1
    assert page.context["orders_today"] == 2 and page.context["orders_total"] == 2
    assert page.context["credits"] == account["account"]["credits_remaining"] == 0

    # Refused by the quota itself: still refused once it is spent.
    credits_grant(user, 10, reason="test")
    assert post(tryon_body).status_code == 202
    Order.objects.update(status="completed")
    refused = post(tryon_body)
    assert refused.status_code == 429 and refused.json()["error"]["code"] == "RATE_LIMIT_EXCEEDED"
