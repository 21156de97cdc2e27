"""/metrics: who may read it, and that what it counts agrees with the database."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from celery import current_app
from django.db import OperationalError
from django.db.models import Sum
from django.utils import timezone

from billing.models import CreditEntry
from core.metrics import UNMATCHED_ROUTE
from core.models import WorkerHeartbeat
from tryon.models import Order

from .conftest import scrape, value


@pytest.fixture(autouse=True)
def no_token(settings):
    settings.METRICS_TOKEN = ""


# --- who may read it ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_without_a_token_only_loopback_clients_may_read(client, settings):
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="::1").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.7").status_code == 403
    assert client.get("/metrics", REMOTE_ADDR="10.0.0.5").status_code == 403  # private is not loopback


@pytest.mark.django_db
def test_behind_a_proxy_the_client_address_decides_not_the_proxys(client, settings):
    # The proxy runs on the same host: its own loopback address must not open the metrics to everyone.
    settings.API_TRUSTED_PROXIES = 1
    outsider = client.get("/metrics", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.7")
    assert outsider.status_code == 403
    local = client.get("/metrics", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="127.0.0.1")
    assert local.status_code == 200


@pytest.mark.django_db
def test_with_a_token_the_bearer_token_is_required_from_everywhere(client, settings):
    settings.METRICS_TOKEN = "s3cret-metrics-token"
    missing = client.get("/metrics", REMOTE_ADDR="127.0.0.1")
    assert missing.status_code == 401 and missing["WWW-Authenticate"].startswith("Bearer")
    wrong = client.get("/metrics", REMOTE_ADDR="127.0.0.1", HTTP_AUTHORIZATION="Bearer s3cret-metrics-tokeX")
    assert wrong.status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Basic s3cret-metrics-token").status_code == 401
    good = client.get("/metrics", REMOTE_ADDR="203.0.113.7", HTTP_AUTHORIZATION="Bearer s3cret-metrics-token")
    assert good.status_code == 200 and b"ftmv_queue_depth" in good.content


@pytest.mark.django_db
def test_scrapers_over_plain_http_are_not_redirected(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/metrics").status_code == 200
    assert client.get("/api/v1/account").status_code == 301  # the rest of the site still is


# --- what it counts ----------------------------------------------------------------------------------------


def test_order_and_credit_counters_match_the_database(
    api, owner, tryon_body, catalog_body, client, eager_tasks, django_capture_on_commit_callbacks
):
    before = scrape(client)
    for body in (tryon_body, catalog_body, tryon_body):
        # Each order is committed, then its task runs (in this process) and commits its outcome.
        with django_capture_on_commit_callbacks(execute=True):
            assert api.post("/api/v1/generate", body, format="json").status_code == 202
    after = scrape(client)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    orders = Order.objects.all()
    assert orders.count() == 3
    # Drawn gradients hold no person (try-on fails and is refunded) but do hold a product (the catalog completes).
    assert orders.filter(status="completed").exists() and orders.filter(status="failed").exists()
    for style in ("virtual_tryon", "product_catalog"):
        assert delta("ftmv_orders_created_total", style=style) == orders.filter(style=style).count()
        assert (
            delta("ftmv_orders_completed_total", style=style) == orders.filter(style=style, status="completed").count()
        )
        for code in orders.filter(style=style, status="failed").values_list("error_code", flat=True).distinct():
            failed = orders.filter(style=style, status="failed", error_code=code).count()
            assert delta("ftmv_orders_failed_total", style=style, error_code=code) == failed
    entries = CreditEntry.objects.filter(order__isnull=False)
    spent = -entries.filter(kind="spend").aggregate(total=Sum("amount"))["total"]
    refunded = entries.filter(kind="refund").aggregate(total=Sum("amount"))["total"]
    assert (spent, refunded) == (1 + 24 + 1, 2)
    assert delta("ftmv_credits_spent_total") == spent
    assert delta("ftmv_credits_refunded_total") == refunded
    # Stage durations of the completed catalog order, under its engine, one observation per stage.
    catalog = orders.get(style="product_catalog")
    assert delta("ftmv_stage_duration_seconds_count", engine="catalog", stage="task_total") == 1
    assert delta("ftmv_stage_duration_seconds_count", engine="catalog", stage="render") == 1
    assert delta("ftmv_stage_duration_seconds_sum", engine="catalog", stage="render") == pytest.approx(
        catalog.timings["render"], abs=0.01
    )


@pytest.mark.django_db
def test_queue_depth_counts_the_messages_waiting(client, settings):
    name = f"test-depth-{uuid.uuid4().hex[:8]}"
    settings.WEBHOOK_QUEUE = name  # a queue of this test's own: nothing else sends to or consumes it
    assert value(scrape(client), "ftmv_queue_depth", queue=name) == 0
    try:
        for _ in range(3):
            current_app.send_task("tryon.webhooks.deliver_webhook", args=(0,), queue=name)
        samples = scrape(client)
        assert value(samples, "ftmv_queue_depth", queue=name) == 3
        assert value(samples, "ftmv_broker_up") == 1
        assert ("ftmv_queue_depth", frozenset({("queue", settings.CELERY_IMAGE_QUEUE)})) in samples
    finally:
        with current_app.connection_for_write() as conn:
            conn.default_channel.queue_purge(name)


@pytest.mark.django_db
def test_an_unreachable_broker_is_reported_not_a_failed_scrape(client, settings, monkeypatch):
    from core import metrics

    def down():
        raise ConnectionRefusedError("broker down")

    monkeypatch.setattr(metrics, "queue_depths", down)
    samples = scrape(client)
    assert value(samples, "ftmv_broker_up") == 0
    assert not any(name == "ftmv_queue_depth" for name, _ in samples)


@pytest.mark.django_db
def test_an_unreachable_database_is_reported_not_a_failed_scrape(client, monkeypatch):
    from core import metrics

    def down():
        raise OperationalError("no such table: ftmv_workerheartbeat")

    monkeypatch.setattr(metrics, "heartbeats", down)
    samples = scrape(client)
    assert value(samples, "ftmv_database_up") == 0
    assert not any(name == "ftmv_workers_alive" for name, _ in samples)
    assert value(samples, "ftmv_broker_up") == 1  # the rest of the scrape is served


@pytest.mark.django_db
def test_workers_alive_are_hosts_with_a_recent_heartbeat(client):
    assert value(scrape(client), "ftmv_workers_alive") == 0
    for host in ("host-a", "host-a", "host-b", "host-gone"):
        WorkerHeartbeat.objects.create(hostname=host, pid=1)
    WorkerHeartbeat.objects.filter(hostname="host-gone").update(seen_at=timezone.now() - timedelta(minutes=10))
    samples = scrape(client)
    assert value(samples, "ftmv_workers_alive") == 2
    assert value(samples, "ftmv_database_up") == 1
    assert 0 <= value(samples, "ftmv_worker_heartbeat_age_seconds") < 60


def test_http_latency_is_labelled_by_route_never_by_path(api, owner, tryon_body, client):
    order_id = api.post("/api/v1/generate", tryon_body, format="json").json()["order_id"]
    before = scrape(client)
    assert api.get(f"/api/v1/orders/{order_id}").status_code == 200
    assert client.get("/no-such-page-918273").status_code == 404
    after = scrape(client)
    route = {"route": "api/v1/orders/<int:order_id>", "method": "GET", "status": "200"}
    name = "ftmv_http_request_duration_seconds_count"
    assert value(after, name, **route) - value(before, name, **route) == 1
    unmatched = {"route": UNMATCHED_ROUTE, "method": "GET", "status": "404"}
    assert value(after, name, **unmatched) - value(before, name, **unmatched) == 1
    routes = {v for _, series in after for k, v in series if k == "route"}
    assert "api/v1/generate" in routes
    assert not any(f"/{order_id}" in route or "918273" in route for route in routes)
