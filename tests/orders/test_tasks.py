"""The order task and lifecycle services, run in-process (the live test runs them in a real worker)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from billing.services import credits_balance
from tryon.lifecycle import order_start
from tryon.models import Order
from tryon.services import orders_fail_stuck
from tryon.tasks import process_order


def test_pipeline_error_fails_and_refunds(api, owner, tryon_body):
    user, _ = owner
    order_id = api.post("/api/v1/generate", tryon_body, format="json").json()["order_id"]
    assert credits_balance(user) == 99
    process_order(order_id)  # drawn gradients: no person in the "person" photo
    order = Order.objects.get(pk=order_id)
    assert order.status == "failed" and order.credits_used == 0
    assert order.error_code and order.error_code.isupper() and len(order.error_message) > 10
    assert credits_balance(user) == 100
    body = api.get(f"/api/v1/orders/{order_id}").json()["order"]
    assert body["error"]["code"] == order.error_code
    process_order(order_id)  # a redelivered task does nothing to a finished order
    assert credits_balance(user) == 100


def test_finished_order_is_not_restarted(api, owner, tryon_body):
    order_id = api.post("/api/v1/generate", tryon_body, format="json").json()["order_id"]
    Order.objects.filter(pk=order_id).update(status="completed")
    assert order_start(order_id) is None


def test_retried_too_often_is_failed_and_refunded(api, owner, tryon_body, settings):
    user, _ = owner
    order_id = api.post("/api/v1/generate", tryon_body, format="json").json()["order_id"]
    Order.objects.filter(pk=order_id).update(attempts=settings.ORDER_MAX_ATTEMPTS, status="in_progress")
    assert order_start(order_id) is None
    assert Order.objects.get(pk=order_id).status == "failed" and credits_balance(user) == 100


def test_stuck_orders_are_failed_and_refunded(api, owner, tryon_body, catalog_body, settings):
    user, _ = owner
    stuck = api.post("/api/v1/generate", tryon_body, format="json").json()["order_id"]
    fresh = api.post("/api/v1/generate", catalog_body, format="json").json()["order_id"]
    order_start(stuck)
    order_start(fresh)
    Order.objects.filter(pk=stuck).update(started_at=timezone.now() - timedelta(seconds=settings.ORDER_STUCK_AFTER + 5))
    # Attempts left: queued again (the embedded broker never redelivers a dead worker's message).
    assert orders_fail_stuck() == 1
    assert Order.objects.get(pk=stuck).status == "pending"
    # Out of attempts: failed and refunded.
    Order.objects.filter(pk=stuck).update(
        status="in_progress",
        attempts=settings.ORDER_MAX_ATTEMPTS,
        started_at=timezone.now() - timedelta(seconds=settings.ORDER_STUCK_AFTER + 5),
    )
    assert orders_fail_stuck() == 1
    assert Order.objects.get(pk=stuck).error_code == "PROCESSING_TIMEOUT"
    assert Order.objects.get(pk=fresh).status == "in_progress"
    assert credits_balance(user) == 100 - 24


def test_unfixable_pipeline_failure_has_its_own_code_refunds_and_logs(
    api, owner, tryon_body, monkeypatch, caplog, settings
):
    """ "SVD did not converge" was answered PROCESSING_FAILED "Please retry", and retries failed
    the same way. The engine turns a numerical breakdown into CANNOT_PROCESS_IMAGES; the task refunds it,
    never says retry, and logs what reproduces it."""
    import numpy as np

    import imaging.tryon.classical.engine as engine

    def broken(*args, **kwargs):
        raise np.linalg.LinAlgError("SVD did not converge")

    monkeypatch.setattr(engine, "analyze_person", broken)
    settings.TRYON_ENGINE = "classical"
    user, _ = owner
    order_id = api.post("/api/v1/generate", tryon_body, format="json").json()["order_id"]
    with caplog.at_level("ERROR", logger="tryon.tasks"):
        process_order(order_id)
    order = Order.objects.get(pk=order_id)
    assert order.status == "failed" and order.error_code == "CANNOT_PROCESS_IMAGES"
    assert "retry" not in order.error_message.lower() and "same way" in order.error_message
    assert credits_balance(user) == 100
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert f"order {order_id}" in logged and "SVD did not converge" in logged
    assert "'person': (" in logged and "'clothing': (" in logged  # the stored inputs, with their sizes
