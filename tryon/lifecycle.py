"""An order's life in the worker: started, its progress, completed with its results, or failed and
refunded. Every state change after acceptance goes through here (accepting one is tryon.services)."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from billing.services import credits_refund
from core.metrics import ORDERS_COMPLETED, ORDERS_FAILED, after_commit
from core.storage import STORAGE_ERRORS
from imaging.stages import Stage

from .models import Order, OrderFile
from .webhooks import deliver_webhook

logger = logging.getLogger(__name__)


class StorageFailed(Exception):
    """Reading an order's photos or writing its results to storage failed."""


def order_start(order_id: int) -> Order | None:
    """A worker takes the order. None when it is finished already (a redelivered task) or retried too often."""
    with transaction.atomic():
        order = Order.objects.select_for_update().filter(pk=order_id).first()
        if order is None or order.is_finished:
            return None
        if order.attempts >= settings.ORDER_MAX_ATTEMPTS:
            give_up = True
        else:
            give_up = False
            order.status = Order.Status.IN_PROGRESS
            order.attempts += 1
            order.started_at = timezone.now()
            order.progress = max(order.progress, 1)
            order.stage = Stage.STARTING
            order.save(update_fields=["status", "attempts", "started_at", "progress", "stage"])
    if give_up:
        logger.warning("order %s interrupted %s times: given up", order_id, settings.ORDER_MAX_ATTEMPTS)
        order_fail(
            order_id,
            code="PROCESSING_FAILED",
            message="Processing was interrupted repeatedly; your credits were refunded. Please retry.",
        )
        return None
    logger.info("order %s started (attempt %s)", order_id, order.attempts, extra={"style": order.style})
    return order


def order_return_to_queue(order_id: int) -> bool:
    """An attempt interrupted by a clean shutdown (Ctrl-C of `make run`, a deploy's SIGTERM): the order goes
    back to pending without spending an attempt, so the next worker runs it at once instead of the stuck
    sweep failing it minutes later. False when it is not in progress (finished meanwhile)."""
    with transaction.atomic():
        order = Order.objects.select_for_update().filter(pk=order_id).first()
        if order is None or order.status != Order.Status.IN_PROGRESS:
            return False
        order.status = Order.Status.PENDING
        order.stage = "requeued"  # not a pipeline stage: the page shows it as "Requeued"
        order.attempts = max(0, order.attempts - 1)
        order.save(update_fields=["status", "stage", "attempts"])
    return True


def order_progress(order_id: int, stage: str, percent: int) -> None:
    """Record a pipeline stage; progress never goes backwards and stays below 100 until completion."""
    percent = max(0, min(99, int(percent)))
    Order.objects.filter(pk=order_id, status=Order.Status.IN_PROGRESS, progress__lte=percent).update(
        progress=percent, stage=stage[:40]
    )


def order_complete(
    order_id: int,
    *,
    results: Sequence[tuple[str, str, bytes, int, int]],
    timings: dict | None = None,
    product_description: str = "",
) -> Order | None:
    """Store the results [(role, name, bytes, width, height)...] and mark the order completed."""
    with transaction.atomic():
        order = Order.objects.select_for_update().filter(pk=order_id).first()
        if order is None or order.is_finished:
            return None
        ext = order.options.get("format", "jpg")
        saved: list[str] = []
        try:
            for position, (role, name, data, width, height) in enumerate(results, start=1):
                record = OrderFile(
                    order=order, role=role, position=position, name=name[:100], width=width, height=height
                )
                record.file.save(f"{role}.{ext}", ContentFile(data), save=False)
                saved.append(record.file.name)
                record.save()
        except STORAGE_ERRORS as exc:
            delete_files(saved)  # the rows roll back with the transaction; the files must go too
            raise StorageFailed(f"could not store the results of order {order_id}") from exc
        except BaseException:
            delete_files(saved)
            raise
        order.status = Order.Status.COMPLETED
        order.progress = 100
        order.stage = Stage.DONE
        order.completed_at = timezone.now()
        order.timings = timings or {}
        order.product_description = product_description
        order.save(update_fields=["status", "progress", "stage", "completed_at", "timings", "product_description"])
        style = order.style
        after_commit(lambda: ORDERS_COMPLETED.labels(style).inc())
        _after_finish(order)
    logger.info("order %s completed", order_id, extra={"style": order.style, "timings": order.timings})
    return order


def order_fail(order_id: int, *, code: str, message: str) -> Order | None:
    """Mark the order failed and refund it (exactly once, however often this is called)."""
    with transaction.atomic():
        order = Order.objects.select_for_update().filter(pk=order_id).first()
        if order is None or order.status == Order.Status.COMPLETED:
            return None
        newly_failed = order.status != Order.Status.FAILED
        if newly_failed:
            order.status = Order.Status.FAILED
            order.error_code = code[:60]
            order.error_message = message
            order.completed_at = timezone.now()
            order.stage = Stage.FAILED
            style, error_code = order.style, order.error_code
            after_commit(lambda: ORDERS_FAILED.labels(style, error_code).inc())
        refund = credits_refund(order)
        order.credits_used = 0  # what the client was charged in the end
        order.save(update_fields=["status", "error_code", "error_message", "completed_at", "stage", "credits_used"])
        _after_finish(order)
    if newly_failed:
        logger.warning(
            "order %s failed: %s",
            order_id,
            order.error_code,
            extra={"style": order.style, "error_code": order.error_code},
        )
    if refund is not None:
        logger.info("order %s refunded %s credits", order_id, refund.amount, extra={"credits": refund.amount})
    return order


def _after_finish(order: Order) -> None:
    if order.webhook_url and order.webhook_delivered_at is None:
        order_id = order.pk
        transaction.on_commit(lambda: deliver_webhook.delay(order_id))


def delete_files(names: list[str]) -> None:
    """Remove stored files (best effort: a leftover file is logged, never an error for the caller)."""
    for name in names:
        try:
            default_storage.delete(name)
        except STORAGE_ERRORS:
            logger.warning("could not delete %s", name)
