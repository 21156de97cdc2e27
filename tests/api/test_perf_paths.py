"""The polling fast paths (hand-written SQL in accounts.apikeys / tryon.selectors, the rate-limit
window memo) give exactly what the ORM gives, stay correct on revocation, and keep their query budget."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
from django.db import DEFAULT_DB_ALIAS, connections
from django.utils import timezone

from accounts.apikeys import find_api_key, forget_cached_keys
from accounts.models import ApiKey
from accounts.services import apikey_authenticate, apikey_revoke
from billing.services import credits_balance
from tryon import ratelimit
from tryon.lifecycle import order_complete, order_fail, order_start
from tryon.models import Order, OrderFile
from tryon.presenters import order_json
from tryon.selectors import account_counts, find_order
from tryon.services import order_create
from tryon.validation import validate_image

from .conftest import client_for, image_bytes, make_user


def _order(user, style: str = "virtual_tryon", **extra) -> Order:
    image = validate_image(image_bytes(200, 200, seed=5), "x")
    images = {"person": image, "clothing": image} if style == "virtual_tryon" else {"product": image}
    with mock.patch("tryon.services._enqueue"):
        order, _ = order_create(user=user, style=style, images=images, options={"format": "jpg"}, **extra)
    return order


def _complete_catalog(user) -> Order:
    order = _order(user, "product_catalog", quantity=6)
    order_start(order.pk)
    data = image_bytes(120, 120, seed=9)
    results = [("catalog", f"view_{i}", data, 120, 120) for i in range(6)]
    order_complete(order.pk, results=results)
    return order


def _orm_json(order_id: int) -> dict:
    order = Order.objects.prefetch_related("files").get(pk=order_id)
    return order_json(order, "http://testserver")


class _Queries:
    """SQL statements sent to the database, the cache table's own excluded."""

    def __init__(self) -> None:
        self.sql: list[str] = []

    def __call__(self, execute, sql, params, many, context):
        if "cache" not in sql.split("FROM")[-1].split()[0].lower():
            self.sql.append(sql)
        return execute(sql, params, many, context)


@pytest.mark.parametrize("state", ["pending", "in_progress", "completed_tryon", "completed_catalog", "failed"])
def test_order_read_matches_the_orm(owner, state):
    user = owner[0]
    if state == "completed_catalog":
        order = _complete_catalog(user)
    else:
        order = _order(user)
        if state != "pending":
            order_start(order.pk)
        if state == "completed_tryon":
            order_complete(order.pk, results=[("result", "result", image_bytes(100, 100), 100, 100)])
        elif state == "failed":
            order_fail(order.pk, code="PROCESSING_FAILED", message="boom")
    fast, files = find_order(user.pk, order.pk)
    assert order_json(fast, "http://testserver", files) == _orm_json(order.pk)
    orm = Order.objects.get(pk=order.pk)
    for field in Order._meta.concrete_fields:  # converters applied: aware datetimes, parsed JSON
        assert getattr(fast, field.attname) == getattr(orm, field.attname), field.name
    expected_files = list(OrderFile.objects.filter(order=orm)) if orm.status == Order.Status.COMPLETED else []
    assert [f.pk for f in files] == [f.pk for f in expected_files]  # OrderFile's Meta ordering


def test_order_read_is_owner_only(owner):
    order = _order(owner[0])
    outsider, _ = make_user("someone@example.com")
    assert find_order(outsider.pk, order.pk) == (None, [])
    assert find_order(owner[0].pk, order.pk + 1000) == (None, [])
    assert find_order(owner[0].pk, 2**63) == (None, [])


def test_key_lookup_matches_the_service(owner):
    user, raw = owner
    key = find_api_key(raw)
    assert key.pk == apikey_authenticate(raw).pk and key.user == user
    assert key.user.plan == user.plan and key.user.email == user.email and key.user.is_active
    assert key.created_at == ApiKey.objects.get(pk=key.pk).created_at
    assert find_api_key(raw[:-1] + ("A" if raw[-1] != "A" else "B")) is None  # same prefix, wrong key
    assert find_api_key(raw + "x") is None and find_api_key("") is None


def test_last_used_written_at_most_once_a_minute(owner):
    _, raw = owner
    find_api_key(raw)
    first = ApiKey.objects.get().last_used_at
    find_api_key(raw)
    assert ApiKey.objects.get().last_used_at == first  # no write within the resolution
    ApiKey.objects.update(last_used_at=timezone.now() - timedelta(minutes=2))
    forget_cached_keys()  # as in a process that has not seen this key yet
    find_api_key(raw)
    assert ApiKey.objects.get().last_used_at > first


def test_revoked_key_and_inactive_user_refused_on_the_next_request(owner):
    user, raw = owner
    api = client_for(raw)
    order = _order(user)
    assert api.get(f"/api/v1/orders/{order.pk}").status_code == 200
    apikey_revoke(key=ApiKey.objects.get(user=user))
    assert api.get(f"/api/v1/orders/{order.pk}").status_code == 401

    other, other_raw = make_user("second@example.com")
    other_api = client_for(other_raw)
    assert other_api.get("/api/v1/account").status_code == 200
    other.is_active = False
    other.save()
    response = other_api.get("/api/v1/account")
    assert response.status_code == 401 and response.json()["error"]["code"] == "UNAUTHORIZED"


def test_account_counts_match_the_orm(owner):
    user = owner[0]
    for _ in range(2):
        _order(user)
    old = _order(user)
    Order.objects.filter(pk=old.pk).update(created_at=datetime.now(UTC) - timedelta(days=2))
    web = _order(user)
    Order.objects.filter(pk=web.pk).update(source="web")
    _order(make_user("other@example.com")[0])
    # Both doors' orders: they count against the same limits (the dashboard shows these numbers too).
    assert account_counts(user.pk) == (credits_balance(user), 3, 4)
    nobody, _ = make_user("nobody@example.com", credits=0)
    assert account_counts(nobody.pk) == (0, 0, 0)


def test_polling_query_budget(owner):
    """GET /orders/{id} of a completed order: the key (unless remembered), then the order with its files;
    GET /account: the key (unless remembered), then balance and counts. (Counted on the default database,
    the database cache's table excluded.)"""
    user, raw = owner
    api = client_for(raw)
    order = _complete_catalog(user)
    api.get("/api/v1/account")  # last_used_at written now, not during the counted requests
    for path in (f"/api/v1/orders/{order.pk}", "/api/v1/account"):
        for remembered, budget in ((False, 2), (True, 1)):
            if not remembered:
                forget_cached_keys()
            queries = _Queries()
            with connections[DEFAULT_DB_ALIAS].execute_wrapper(queries):
                assert api.get(path).status_code == 200
            assert len(queries.sql) == budget, queries.sql


def test_rate_limit_headers_follow_posts_in_this_process(owner, tryon_body):
    user, raw = owner
    api = client_for(raw)
    limit = ratelimit.plan_limits(user)["per_hour"]
    assert api.get("/api/v1/account")["X-RateLimit-Remaining"] == str(limit)
    assert api.post("/api/v1/generate", tryon_body, format="json").status_code == 202
    # Read within the memo's second: the process that counted the POST shows it at once.
    assert api.get("/api/v1/account")["X-RateLimit-Remaining"] == str(limit - 1)
    assert api.get("/api/v1/account").json()["rate_limit"]["remaining"] == limit - 1


def test_rate_limit_memo_expires(owner, monkeypatch):
    """Another process's POST (a counter change this process did not make) shows once the memo is stale."""
    user = owner[0]
    assert ratelimit.generate_window(user).used == 0
    hour_key = ratelimit._keys(user.pk, ratelimit.time.time())[0]
    ratelimit.incr_counter(hour_key, 60, 3)  # as another process's POSTs would
    assert ratelimit.generate_window(user).used == 0  # remembered
    clock = ratelimit.time.monotonic() + ratelimit.WINDOW_MEMO_SECONDS + 0.01
    monkeypatch.setattr(ratelimit.time, "monotonic", lambda: clock)
    assert ratelimit.generate_window(user).used == 3


def test_remembered_key_is_a_copy_and_dropped_on_save(owner):
    user, raw = owner
    first = find_api_key(raw)
    first.user.plan = "changed"  # a caller's change stays its own
    assert find_api_key(raw).user.plan == user.plan
    user.plan = "free"
    user.save()  # the signal drops the remembered lookup in this process
    assert find_api_key(raw).user.plan == "free"


def test_revocation_without_signal_seen_within_the_cache_time(owner, monkeypatch):
    """Another process's revocation (or a queryset update: no signal here) is seen KEY_CACHE_SECONDS later."""
    from accounts import apikeys

    _, raw = owner
    assert find_api_key(raw) is not None
    ApiKey.objects.update(revoked_at=timezone.now())
    assert find_api_key(raw) is not None  # still remembered
    later = apikeys.time.monotonic() + apikeys.KEY_CACHE_SECONDS + 0.01
    monkeypatch.setattr(apikeys.time, "monotonic", lambda: later)
    assert find_api_key(raw) is None
