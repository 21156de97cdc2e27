"""Storage and database failures during an order, the queue down at submit, webhooks to a dead
endpoint, and media retention: run in-process against the real services and task code."""

from __future__ import annotations

import socket
import threading
import time
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from django.core.files.storage import FileSystemStorage, default_storage
from django.db import OperationalError
from django.utils import timezone

from billing.models import CreditEntry
from billing.services import credits_balance
from tests.api import shapes
from tests.api.conftest import b64, client_for, image_bytes, make_user
from tryon import tasks
from tryon.dispatch import PipelineOutput
from tryon.lifecycle import order_fail, order_start
from tryon.maintenance import purge_old_media
from tryon.models import Order, OrderFile
from tryon.services import orders_fail_stuck
from tryon.thumbnails import ensure_thumbnail
from tryon.webhooks import deliver_webhook


def catalog_body() -> dict:
    return {"style": "product_catalog", "product_image": b64(image_bytes(400, 400, seed=3)), "quantity": 6}


@pytest.fixture(autouse=True)
def own_media_root(settings, tmp_path):
    # Order ids repeat between tests (fresh database); files on disk are counted per test.
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def fast_pipeline(monkeypatch):
    """The order task with a stand-in pipeline that returns six images at once (the faults are what is tested)."""

    def run(order, inputs, progress):
        progress("rendering", 50)
        images = [(f"v{i}", np.full((64, 64, 3), 40 * i, np.uint8)) for i in range(order.quantity or 1)]
        return PipelineOutput(images, {"render": 0.0}, "a test product")

    monkeypatch.setattr(tasks, "run_order_pipeline", run)


@pytest.fixture
def customer(clean_cache):
    user, key = make_user("faults@example.com", credits=100, plan="paid")
    return user, client_for(key)


def _order_files_on_disk(order_id: int) -> list[Path]:
    return [p for p in Path(default_storage.location).rglob(f"*_{order_id}_*") if p.is_file()]


def _refunds(order_id: int) -> int:
    return CreditEntry.objects.filter(order_id=order_id, kind="refund").count()


def test_baseline_fast_pipeline_completes(customer, fast_pipeline):
    user, api = customer
    order_id = api.post("/api/v1/generate", catalog_body(), format="json").json()["order_id"]
    tasks.process_order(order_id)
    assert Order.objects.get(pk=order_id).status == "completed"
    assert len(_order_files_on_disk(order_id)) == 7  # product + 6 results: the fault tests below compare to this


def test_storage_write_failure_fails_refunds_once_and_removes_partial_results(customer, fast_pipeline, monkeypatch):
    user, api = customer
    order_id = api.post("/api/v1/generate", catalog_body(), format="json").json()["order_id"]
    assert credits_balance(user) == 100 - 24
    real_save = FileSystemStorage._save
    calls = []

    def failing_save(self, name, content):
        calls.append(name)
        if len(calls) == 4:  # results 1-3 were written; the disk fills up on the 4th
            raise OSError(28, "No space left on device")
        return real_save(self, name, content)

    monkeypatch.setattr(FileSystemStorage, "_save", failing_save)
    tasks.process_order(order_id)
    order = Order.objects.get(pk=order_id)
    assert (order.status, order.error_code, order.credits_used) == ("failed", "STORAGE_ERROR", 0)
    assert "refunded" in order.error_message
    assert credits_balance(user) == 100 and _refunds(order_id) == 1
    # Only the uploaded product photo is left: the three written results were deleted with their rows.
    assert [p.name.split("_")[0] for p in _order_files_on_disk(order_id)] == ["product"]
    assert list(order.files.values_list("role", flat=True)) == ["product"]
    order_fail(order_id, code="X", message="again")  # a second failure report refunds nothing more
    assert credits_balance(user) == 100 and _refunds(order_id) == 1
    body = api.get(f"/api/v1/orders/{order_id}").json()
    assert body["order"]["error"]["code"] == "STORAGE_ERROR"


def test_storage_read_failure_of_an_input(customer, fast_pipeline):
    user, api = customer
    order_id = api.post("/api/v1/generate", catalog_body(), format="json").json()["order_id"]
    record = OrderFile.objects.get(order_id=order_id)
    default_storage.delete(record.file.name)  # the upload vanished from storage
    tasks.process_order(order_id)
    order = Order.objects.get(pk=order_id)
    assert (order.status, order.error_code) == ("failed", "STORAGE_ERROR")
    assert credits_balance(user) == 100


def test_database_error_during_the_pipeline(customer, fast_pipeline, monkeypatch):
    user, api = customer
    order_id = api.post("/api/v1/generate", catalog_body(), format="json").json()["order_id"]
    real_progress = tasks.order_progress

    def progress(order_id, stage, percent):
        if stage == "rendering":
            raise OperationalError("server closed the connection unexpectedly")
        real_progress(order_id, stage, percent)

    monkeypatch.setattr(tasks, "order_progress", progress)
    tasks.process_order(order_id)
    order = Order.objects.get(pk=order_id)
    assert (order.status, order.error_code, order.credits_used) == ("failed", "DATABASE_ERROR", 0)
    assert credits_balance(user) == 100 and _refunds(order_id) == 1
    assert len(_order_files_on_disk(order_id)) == 1


def test_database_error_while_saving_results_removes_written_files(customer, fast_pipeline, monkeypatch):
    user, api = customer
    order_id = api.post("/api/v1/generate", catalog_body(), format="json").json()["order_id"]
    real_save = OrderFile.save
    saves = []

    def failing_save(self, *args, **kwargs):
        if self.role == "catalog":
            saves.append(self.position)
            if len(saves) == 3:
                raise OperationalError("could not write to the database")
        return real_save(self, *args, **kwargs)

    monkeypatch.setattr(OrderFile, "save", failing_save)
    tasks.process_order(order_id)
    order = Order.objects.get(pk=order_id)
    assert (order.status, order.error_code) == ("failed", "DATABASE_ERROR")
    assert credits_balance(user) == 100
    assert [p.name.split("_")[0] for p in _order_files_on_disk(order_id)] == ["product"]


def test_database_down_until_the_sweep_resolves_it(customer, fast_pipeline, monkeypatch, settings):
    """Even recording the failure fails: the order stays in progress and the sweep queues it again later."""
    user, api = customer
    order_id = api.post("/api/v1/generate", catalog_body(), format="json").json()["order_id"]

    def down(*args, **kwargs):
        raise OperationalError("database unreachable")

    monkeypatch.setattr(tasks, "order_progress", down)
    monkeypatch.setattr(tasks, "order_fail", down)
    tasks.process_order(order_id)  # logs, does not raise
    assert Order.objects.get(pk=order_id).status == "in_progress"
    monkeypatch.undo()
    settings.ORDER_STUCK_AFTER = 0
    assert orders_fail_stuck() == 1
    assert Order.objects.get(pk=order_id).status == "pending"  # queued again, attempt 2 of 2
    tasks.process_order(order_id)  # the database is back; a fast stand-in pipeline is not needed to prove this
    order = Order.objects.get(pk=order_id)
    assert order.is_finished and order.attempts == 2


def _dead_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again when the block ends: connections are refused


def test_queue_down_at_submit_with_a_real_unreachable_broker(clean_cache, tryon_body_real_broker):
    """Broker address with nothing listening: 503 SERVICE_UNAVAILABLE, nothing charged, nothing pending.

    Behaviour chosen: the order row is committed with the charge and then failed and refunded when the
    queue refuses it, so it shows in the history as failed (SERVICE_UNAVAILABLE) and is never picked up
    later; its Idempotency-Key is released so the client's retry creates a fresh order.
    """
    user, key = make_user("brokerdown@example.com", credits=5)
    api = client_for(key)
    started = time.monotonic()
    response = api.post("/api/v1/generate", tryon_body_real_broker, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert time.monotonic() - started < 30
    assert response.status_code == 503
    shapes.check(response.json(), shapes.error("SERVICE_UNAVAILABLE"))
    assert credits_balance(user) == 5
    assert not Order.objects.for_user(user).in_flight().exists()
    failed = Order.objects.for_user(user).get()
    assert (failed.status, failed.error_code, failed.credits_used, failed.idempotency_key) == (
        "failed",
        "SERVICE_UNAVAILABLE",
        0,
        "",
    )


@pytest.fixture
def tryon_body_real_broker(monkeypatch, transactional_db):
    """Point the Celery app at a Redis address where nothing listens, for one test."""
    from ftmv.celery import app

    monkeypatch.setitem(app.conf, "broker_url", f"redis://127.0.0.1:{_dead_port()}/0")
    monkeypatch.setitem(app.conf, "broker_transport_options", {})
    app._pool = None
    app.amqp._producer_pool = None
    yield {
        "style": "virtual_tryon",
        "person_image": b64(image_bytes(320, 480, seed=1)),
        "clothing_image": b64(image_bytes(300, 300, seed=2)),
    }
    app._pool = None
    app.amqp._producer_pool = None


# --- Webhooks -------------------------------------------------------------------------------------


def test_webhook_to_a_dead_endpoint_retries_with_back_off_then_stops(customer, settings, monkeypatch):
    settings.WEBHOOK_ALLOW_PRIVATE = True
    settings.WEBHOOK_MAX_ATTEMPTS = 4
    user, api = customer
    url = f"http://127.0.0.1:{_dead_port()}/hook"
    order_id = api.post("/api/v1/generate", {**catalog_body(), "webhook_url": url}, format="json").json()["order_id"]
    order_start(order_id)
    order_fail(order_id, code="NO_PRODUCT", message="No product found.")
    countdowns: list[int] = []
    monkeypatch.setattr(deliver_webhook, "apply_async", lambda args, countdown: countdowns.append(countdown))
    for _ in range(6):
        deliver_webhook(order_id)
        # The retry is due now (as if its countdown had passed); a second run before that does nothing.
        assert deliver_webhook(order_id) is False
        Order.objects.filter(pk=order_id, webhook_next_at__isnull=False).update(webhook_next_at=timezone.now())
    order = Order.objects.get(pk=order_id)
    assert order.webhook_attempts == 4 and order.webhook_delivered_at is None and order.webhook_next_at is None
    assert countdowns == [10, 20, 40]  # doubling back-off; the 4th failure gives up


def test_webhook_is_queued_not_sent_by_the_order_task(customer, fast_pipeline, settings, monkeypatch):
    """The worker that finishes an order only queues the delivery (default queue); a hanging endpoint
    never holds the images queue."""
    from ftmv.celery import app

    settings.WEBHOOK_ALLOW_PRIVATE = True
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)  # accepts connections and never answers
    connections: list = []
    threading.Thread(target=lambda: connections.append(listener.accept()), daemon=True).start()
    queued: list[int] = []
    monkeypatch.setattr(deliver_webhook, "delay", lambda order_id: queued.append(order_id))
    user, api = customer
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/hook"
    order_id = api.post("/api/v1/generate", {**catalog_body(), "webhook_url": url}, format="json").json()["order_id"]
    with django_capture_on_commit():
        tasks.process_order(order_id)
    listener.close()
    assert Order.objects.get(pk=order_id).status == "completed"
    assert queued == [order_id] and connections == []
    # Deliveries have their own queue: slow receivers never hold up housekeeping (heartbeats, sweeps).
    assert app.amqp.router.route({}, "tryon.webhooks.deliver_webhook")["queue"].name == "webhooks"
    assert app.amqp.router.route({}, "tryon.maintenance.fail_stuck_orders")["queue"].name == "default"
    assert app.amqp.router.route({}, "tryon.tasks.process_order")["queue"].name == "images"


def django_capture_on_commit():
    from django.test import TestCase

    return TestCase.captureOnCommitCallbacks(execute=True)


# --- Retention --------------------------------------------------------------------------------------


def test_old_media_purged_orders_and_metadata_kept(customer, fast_pipeline, settings):
    settings.MEDIA_RETENTION_DAYS = 30
    user, api = customer
    old_id = api.post("/api/v1/generate", catalog_body(), format="json").json()["order_id"]
    tasks.process_order(old_id)
    new_id = api.post("/api/v1/generate", catalog_body(), format="json").json()["order_id"]
    tasks.process_order(new_id)
    old = Order.objects.get(pk=old_id)
    thumb = ensure_thumbnail(old.files.get(role="catalog", position=1))
    assert default_storage.exists(thumb)
    names = list(old.files.values_list("file", flat=True))
    Order.objects.filter(pk=old_id).update(completed_at=timezone.now() - timedelta(days=31))

    assert purge_old_media.apply().get() == 1
    assert not any(default_storage.exists(n) for n in names) and not default_storage.exists(thumb)
    old = Order.objects.get(pk=old_id)
    assert old.files_purged_at is not None and not old.files.exists()
    assert (old.status, old.quantity, old.product_description, old.credits_used) == (
        "completed",
        6,
        "a test product",
        24,
    )
    assert len(_order_files_on_disk(new_id)) == 7  # newer than the retention period: untouched
    assert purge_old_media.apply().get() == 0  # once
    assert api.get(f"/api/v1/orders/{old_id}").status_code == 200
    assert credits_balance(user) == 100 - 48


def test_retention_zero_keeps_everything(customer, fast_pipeline, settings):
    settings.MEDIA_RETENTION_DAYS = 0
    user, api = customer
    order_id = api.post("/api/v1/generate", catalog_body(), format="json").json()["order_id"]
    tasks.process_order(order_id)
    Order.objects.filter(pk=order_id).update(completed_at=timezone.now() - timedelta(days=3650))
    assert purge_old_media.apply().get() == 0
    assert len(_order_files_on_disk(order_id)) == 7
