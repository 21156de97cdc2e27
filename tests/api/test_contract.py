"""Golden JSON for every documented response shape and each error code."""

from __future__ import annotations

import io

import pytest
from django.db import transaction
from kombu.exceptions import OperationalError as KombuOperationalError
from PIL import Image

from billing.services import credits_balance
from tryon.lifecycle import order_complete, order_fail, order_progress, order_start
from tryon.models import Order

from . import shapes
from .conftest import b64, client_for, image_bytes, make_user


def create(api, body) -> int:
    response = api.post("/api/v1/generate", body, format="json")
    assert response.status_code == 202, response.content
    return response.json()["order_id"]


def test_accepted_202(api, tryon_body):
    response = api.post("/api/v1/generate", tryon_body, format="json")
    assert response.status_code == 202
    body = response.json()
    shapes.check(body, shapes.ACCEPTED)
    assert body["credits_used"] == 1
    assert body["message"] == "Order created successfully. Use the orders endpoint to check status."
    assert body["estimated_time"].endswith("seconds") or body["estimated_time"].endswith("minutes")
    for header in ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"):
        assert response.headers[header].isdigit()


def test_pending_and_in_progress(api, tryon_body):
    order_id = create(api, tryon_body)
    body = api.get(f"/api/v1/orders/{order_id}").json()
    shapes.check(body, shapes.IN_FLIGHT)
    assert body["order"]["status"] == "pending" and body["order"]["progress"] == 0

    order_start(order_id)
    order_progress(order_id, "warp", 65)
    body = api.get(f"/api/v1/orders/{order_id}").json()
    shapes.check(body, shapes.IN_FLIGHT)
    assert body["order"]["status"] == "in_progress"
    assert body["order"]["progress"] == 65 and body["order"]["stage"] == "warp"


def _jpeg(w=200, h=300):
    return image_bytes(w, h, seed=9)


def test_completed_tryon(api, tryon_body):
    order_id = create(api, tryon_body)
    order_start(order_id)
    order_complete(order_id, results=[("result", "result", _jpeg(), 200, 300)], timings={"total": 1.0})
    response = api.get(f"/api/v1/orders/{order_id}")
    body = response.json()
    shapes.check(body, shapes.COMPLETED_TRYON)
    assert body["order"]["status"] == "completed" and body["order"]["credits_used"] == 1
    results = body["order"]["results"]
    assert results["result_url"].startswith("http://testserver/media/orders/")
    assert f"result_{order_id}_" in results["result_url"]
    # Results are fetchable, served as images.
    for url in results.values():
        fetched = api.get(url.removeprefix("http://testserver"))
        assert fetched.status_code == 200
        assert fetched["Content-Type"] == "image/jpeg" and fetched["X-Content-Type-Options"] == "nosniff"
        Image.open(io.BytesIO(b"".join(fetched.streaming_content))).verify()


def test_completed_catalog(api, catalog_body):
    order_id = create(api, catalog_body)
    assert Order.objects.get(pk=order_id).credits_used == 24
    order_start(order_id)
    results = [("catalog", f"variant_{i}", _jpeg(), 200, 300) for i in range(6)]
    order_complete(order_id, results=results, product_description="Blue mug on white")
    body = api.get(f"/api/v1/orders/{order_id}").json()
    shapes.check(body, shapes.COMPLETED_CATALOG)
    results = body["order"]["results"]
    assert len(results["catalog_images"]) == results["quantity"] == 6
    assert len(set(results["catalog_images"])) == 6
    assert results["product_description"] == "Blue mug on white"
    assert body["order"]["credits_used"] == 24


def test_failed_refunds(api, owner, tryon_body):
    user, _ = owner
    before = credits_balance(user)
    order_id = create(api, tryon_body)
    assert credits_balance(user) == before - 1
    order_start(order_id)
    order_fail(order_id, code="NO_PERSON", message="No person found in the photo: send a photo of one person.")
    order_fail(order_id, code="NO_PERSON", message="again")  # a second failure refunds nothing more
    body = api.get(f"/api/v1/orders/{order_id}").json()
    shapes.check(body, shapes.FAILED)
    assert body["order"]["error"] == {
        "code": "NO_PERSON",
        "message": "No person found in the photo: send a photo of one person.",
    }
    assert body["order"]["credits_used"] == 0
    assert credits_balance(user) == before


def test_account(api, owner, tryon_body):
    create(api, tryon_body)
    response = api.get("/api/v1/account")
    body = response.json()
    shapes.check(body, shapes.ACCOUNT)
    assert body["account"] == {
        "user_id": owner[0].pk,
        "credits_remaining": 99,
        "api_calls_today": 1,
        "api_calls_total": 1,
        "plan": "paid",
    }
    assert body["rate_limit"]["limit"] == 100 and body["rate_limit"]["remaining"] == 99
    assert body["rate_limit"]["reset"] == int(response.headers["X-RateLimit-Reset"])


def test_order_list_newest_first(api, owner, catalog_body, tryon_body):
    first = create(api, tryon_body)
    second = create(api, catalog_body)
    body = api.get("/api/v1/orders?page_size=1").json()
    assert [o["id"] for o in body["orders"]] == [second]
    assert body["pagination"]["total"] == 2 and body["pagination"]["next"].endswith("page=2&page_size=1")
    body = api.get("/api/v1/orders?page=2&page_size=1").json()
    assert [o["id"] for o in body["orders"]] == [first]
    for order in body["orders"]:
        shapes.check({"success": True, "order": order}, shapes.IN_FLIGHT)


# --- errors ------------------------------------------------------------------------------------


def test_400_invalid_request(api):
    response = api.post("/api/v1/generate", {"style": "virtual_tryon"}, format="json")
    assert response.status_code == 400
    shapes.check(response.json(), shapes.error("INVALID_REQUEST"))
    assert "person_image" in response.json()["error"]["message"]


def test_400_invalid_image(api, tryon_body):
    response = api.post("/api/v1/generate", {**tryon_body, "person_image": b64(b"hello, not an image")}, format="json")
    assert response.status_code == 400
    shapes.check(response.json(), shapes.error("INVALID_IMAGE"))


@pytest.mark.parametrize("header", [None, "Bearer nope", "Token abc", "Bearer " + "ftmv_" + "x" * 59])
def test_401(db, header):
    from rest_framework.test import APIClient

    client = APIClient()
    if header:
        client.credentials(HTTP_AUTHORIZATION=header)
    for path in ("/api/v1/account", "/api/v1/orders/1", "/api/v1/orders"):
        response = client.get(path)
        assert response.status_code == 401
        shapes.check(response.json(), shapes.error("UNAUTHORIZED"))
    response = client.post("/api/v1/generate", {}, format="json")
    assert response.status_code == 401


def test_402(clean_cache, tryon_body):
    user, key = make_user("poor@example.com", credits=0)
    response = client_for(key).post("/api/v1/generate", tryon_body, format="json")
    assert response.status_code == 402
    body = response.json()
    shapes.check(
        body,
        {
            "success": (False,),
            "error": {
                "code": ("INSUFFICIENT_CREDITS",),
                "message": str,
                "details": {"credits_required": int, "credits_available": int},
            },
        },
    )
    assert body["error"]["details"] == {"credits_required": 1, "credits_available": 0}
    assert body["error"]["message"] == "Insufficient credits for this operation"
    assert not Order.objects.exists()


def test_404_unknown_order_and_path(api):
    for path in (
        "/api/v1/orders/999999",
        "/api/v1/orders/abc",
        "/api/v1/orders/99999999999999999999999",
        "/api/v1/nothing/here",
        "/api/v1/",
    ):
        response = api.get(path)
        assert response.status_code == 404, path
        shapes.check(response.json(), shapes.error("NOT_FOUND"))


def test_405(api):
    response = api.delete("/api/v1/account")
    assert response.status_code == 405
    shapes.check(response.json(), shapes.error("METHOD_NOT_ALLOWED"))
    response = api.get("/api/v1/generate")
    assert response.status_code == 405
    shapes.check(response.json(), shapes.error("METHOD_NOT_ALLOWED"))


def test_413(api, tryon_body, settings):
    settings.API_MAX_REQUEST_BYTES = 10_000
    response = api.post("/api/v1/generate", tryon_body, format="json")
    assert response.status_code == 413
    shapes.check(response.json(), shapes.error("PAYLOAD_TOO_LARGE"))


def test_429_rate_limit(clean_cache, tryon_body, settings):
    settings.API_PLANS = {**settings.API_PLANS, "free": {"per_hour": 2, "per_day": 50, "concurrent": 10}}
    user, key = make_user("busy@example.com", credits=10)
    api = client_for(key)
    for _ in range(2):
        assert api.post("/api/v1/generate", tryon_body, format="json").status_code == 202
    response = api.post("/api/v1/generate", tryon_body, format="json")
    assert response.status_code == 429
    shapes.check(response.json(), shapes.error("RATE_LIMIT_EXCEEDED"))
    assert 1 <= int(response["Retry-After"]) <= 3600
    assert response["X-RateLimit-Remaining"] == "0" and response["X-RateLimit-Limit"] == "2"
    assert Order.objects.count() == 2 and credits_balance(user) == 8
    # Polling is not limited by the generate budget.
    assert api.get("/api/v1/account").status_code == 200


def test_429_concurrency(clean_cache, tryon_body):
    user, key = make_user("one-at-a-time@example.com", credits=10)  # free plan: 1 in flight
    api = client_for(key)
    assert api.post("/api/v1/generate", tryon_body, format="json").status_code == 202
    response = api.post("/api/v1/generate", tryon_body, format="json")
    assert response.status_code == 429
    shapes.check(response.json(), shapes.error("CONCURRENCY_LIMIT_EXCEEDED"))
    assert response["Retry-After"].isdigit()
    assert Order.objects.count() == 1 and credits_balance(user) == 9


def test_429_polling_limit(api, settings):
    settings.API_POLL_LIMIT_PER_MINUTE = 3
    statuses = [api.get("/api/v1/account").status_code for _ in range(5)]
    assert statuses[:3] == [200, 200, 200] and statuses[3:] == [429, 429]


def test_500_without_internals(api, monkeypatch):
    def explode(user_id):
        raise RuntimeError("secret internals /etc/passwd")

    monkeypatch.setattr("api.views.account_counts", explode)
    response = api.get("/api/v1/account")
    assert response.status_code == 500
    shapes.check(response.json(), shapes.error("INTERNAL_ERROR"))
    assert b"secret" not in response.content and b"Traceback" not in response.content


@pytest.mark.django_db(transaction=True)
def test_503_queue_down_charges_nothing(tryon_body, monkeypatch):
    from django.core.cache import cache

    cache.clear()
    user, key = make_user("queue@example.com", credits=5)

    def down(*args, **kwargs):
        raise KombuOperationalError("broker unreachable")

    monkeypatch.setattr("tryon.tasks.process_order.delay", down)
    response = client_for(key).post("/api/v1/generate", tryon_body, format="json")
    assert response.status_code == 503
    shapes.check(response.json(), shapes.error("SERVICE_UNAVAILABLE"))
    assert credits_balance(user) == 5
    assert not Order.objects.filter(status__in=["pending", "in_progress"]).exists()
    assert transaction.get_autocommit()


def test_hourly_counter_outlives_the_cache_default_timeout(clean_cache, monkeypatch):
    """Django's generic cache incr() re-sets a key with the default timeout; the hourly window must not."""
    import time as _time

    from django.core.cache import cache

    from tryon import ratelimit

    user, _ = make_user("counter@example.com")
    monkeypatch.setattr(cache, "default_timeout", 1)
    ratelimit.generate_hit(user)
    ratelimit.generate_hit(user)
    _time.sleep(1.5)
    assert ratelimit.generate_window(user).used == 2
