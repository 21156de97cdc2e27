"""A worker SIGKILLed in the middle of an order, with real worker processes.

FTMV_TEST_PIPELINE_DELAY (test settings only) holds an order's first attempt just after decoding,
so the test can kill the process that runs it; a retry runs the real catalog pipeline at full speed.
"""

from __future__ import annotations

import os
import signal

import pytest

from billing.services import credits_balance
from tests.api.conftest import b64, client_for, make_user
from tryon.models import Order
from tryon.services import orders_fail_stuck

from .conftest import product_png, wait_for

pytestmark = pytest.mark.worker

CATALOG_COST = 24


def _submit(key: str) -> int:
    body = {
        "style": "product_catalog",
        "quantity": 6,
        "options": {"quality": "standard", "format": "jpg"},
        "product_image": b64(product_png()),
    }
    response = client_for(key).post("/api/v1/generate", body, format="json")
    assert response.status_code == 202, response.content
    return response.json()["order_id"]


def _running(order: Order) -> bool:
    return order.status == "in_progress" and order.stage == "decoded"


def test_pool_process_killed_order_redelivered_and_completed(start_worker):
    """Only the pool process dies: Celery's parent rejects the unacknowledged message (acks_late +
    reject_on_worker_lost), the broker hands it out again, and the second attempt completes."""
    user, key = make_user("killed-child@example.com", credits=30, plan="paid")
    worker = start_worker(FTMV_TEST_PIPELINE_DELAY="120")
    order_id = _submit(key)
    wait_for(order_id, _running, what="first attempt running")
    [child] = worker.pool_children()
    os.kill(child, signal.SIGKILL)

    order = wait_for(order_id, lambda o: o.is_finished, timeout=180, what="finished")
    assert order.status == "completed", (order.error_code, worker.logs()[-3000:])
    assert order.attempts == 2
    assert order.files.filter(role="catalog").count() == 6
    assert credits_balance(user) == 30 - CATALOG_COST  # charged once
    assert "WorkerLostError" in worker.logs()


def test_whole_worker_killed_sweep_requeues_to_another_worker(start_worker, settings):
    """The whole worker dies (SIGKILL to its process group). The embedded SQLAlchemy broker never
    redelivers a message taken by a dead worker, so the stuck-order sweep puts the order back in the
    queue and a second worker completes it."""
    user, key = make_user("killed-worker@example.com", credits=30, plan="paid")
    first = start_worker(FTMV_TEST_PIPELINE_DELAY="120")
    order_id = _submit(key)
    wait_for(order_id, _running, what="first attempt running")
    first.kill()

    settings.ORDER_STUCK_AFTER = 0  # the deadline passed (production: hard time limit + 2 min)
    assert orders_fail_stuck() == 1
    assert Order.objects.get(pk=order_id).status == "pending"
    second = start_worker()
    order = wait_for(order_id, lambda o: o.is_finished, timeout=180, what="finished")
    assert order.status == "completed", (order.error_code, second.logs()[-3000:])
    assert order.attempts == 2
    assert credits_balance(user) == 30 - CATALOG_COST


def test_whole_worker_killed_out_of_attempts_failed_and_refunded(start_worker, settings):
    """No attempts left when the sweep finds the order: failed with PROCESSING_TIMEOUT and refunded once."""
    user, key = make_user("killed-last@example.com", credits=30, plan="paid")
    worker = start_worker(FTMV_TEST_PIPELINE_DELAY="120")
    order_id = _submit(key)
    wait_for(order_id, _running, what="first attempt running")
    worker.kill()

    settings.ORDER_STUCK_AFTER = 0
    settings.ORDER_MAX_ATTEMPTS = 1
    assert orders_fail_stuck() == 1
    order = Order.objects.get(pk=order_id)
    assert (order.status, order.error_code, order.credits_used) == ("failed", "PROCESSING_TIMEOUT", 0)
    assert credits_balance(user) == 30
    assert orders_fail_stuck() == 0  # resolved once: a second sweep touches nothing
    assert credits_balance(user) == 30


def test_clean_shutdown_returns_the_order_in_flight_to_the_queue(start_worker):
    """Ctrl-C of `make run`: honcho sends SIGTERM, waits 5 s, then SIGKILLs. The order being processed goes
    back to pending at once (no attempt spent) and the next worker completes it, instead of it staying
    in progress until the stuck-order sweep minutes later."""
    import time

    user, key = make_user("ctrl-c@example.com", credits=30, plan="paid")
    first = start_worker(FTMV_TEST_PIPELINE_DELAY="120")
    order_id = _submit(key)
    wait_for(order_id, _running, what="first attempt running")
    os.kill(first.pid, signal.SIGTERM)
    time.sleep(5)
    first.kill()
    order = Order.objects.get(pk=order_id)
    assert (order.status, order.attempts) == ("pending", 0), (order.status, first.logs()[-3000:])
    start_worker()
    order = wait_for(order_id, lambda o: o.is_finished, timeout=180, what="finished after the restart")
    assert order.status == "completed" and order.attempts == 1
    assert credits_balance(user) == 30 - CATALOG_COST
