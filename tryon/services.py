"""Order services: every state change of an order goes through here."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from billing.services import InsufficientCredits, credits_refund, credits_spend

from .errors import ConcurrencyLimited, InsufficientCreditsError, InvalidRequest, ServiceUnavailable
from .models import Order, OrderFile
from .ratelimit import plan_limits
from .validation import ValidImage

logger = logging.getLogger(__name__)


class StorageFailed(Exception):
    """Reading an order's photos or writing its results to storage failed."""


def order_cost(style: str, quantity: int | None) -> int:
    if style == Order.Style.PRODUCT_CATALOG:
        return settings.CREDIT_COST_CATALOG[quantity]
    return settings.CREDIT_COST_TRYON


def order_find_idempotent(*, user, key: str, request_hash: str) -> Order | None:
    """The order an earlier request with this Idempotency-Key created, if still within the window."""
    if not key:
        return None
    order = Order.objects.for_user(user).filter(idempotency_key=key).first()
    if order is None:
        return None
    if order.created_at < timezone.now() - timedelta(hours=settings.IDEMPOTENCY_WINDOW_HOURS):
        # Expired: the key may be used again for a new order.
        Order.objects.filter(pk=order.pk).update(idempotency_key="")
        return None
    if order.request_hash != request_hash:
        raise InvalidRequest(
            "This Idempotency-Key was already used with a different request body.", details={"order_id": order.pk}
        )
    return order


def order_create(
    *,
    user,
    style: str,
    images: dict[str, ValidImage],
    quantity: int | None = None,
    options: dict | None = None,
    webhook_url: str = "",
    idempotency_key: str = "",
    request_hash: str = "",
    base_url: str = "",
    source: str = "api",
) -> tuple[Order, bool]:
    """Accept an order: charge its credits, store its photos and queue it, all or nothing.

    Returns (order, created); created is False when ``idempotency_key`` matched an earlier order.
    Raises InsufficientCreditsError, ConcurrencyLimited, ServiceUnavailable (queue down; nothing charged).
    """
    cost = order_cost(style, quantity)
    saved: list[str] = []
    try:
        with transaction.atomic():
            order = Order.objects.create(
                user=user,
                style=style,
                quantity=quantity,
                options=options or {},
                credits_used=cost,
                webhook_url=webhook_url,
                idempotency_key=idempotency_key,
                request_hash=request_hash,
                base_url=base_url,
                source=source,
            )
            try:
                # Locks the user's balance row: the in-flight count below is then race-free too.
                credits_spend(user, cost, order=order)
            except InsufficientCredits as exc:
                raise InsufficientCreditsError(
                    "Insufficient credits for this operation",
                    details={"credits_required": exc.required, "credits_available": exc.available},
                ) from None
            limit = plan_limits(user)["concurrent"]
            if Order.objects.for_user(user).in_flight().exclude(pk=order.pk).count() >= limit:
                raise ConcurrencyLimited(
                    f"The {user.plan} plan allows {limit} order(s) in progress at once; "
                    "wait for the current one to finish.",
                    details={"limit": limit},
                    headers={"Retry-After": "5"},
                )
            for role, image in images.items():
                record = OrderFile(order=order, role=role, width=image.width, height=image.height)
                record.file.save(f"{role}.{image.ext}", ContentFile(image.data), save=False)
                saved.append(record.file.name)
                record.save()
            transaction.on_commit(lambda: _enqueue(order.pk))
    except IntegrityError:
        _delete_files(saved)
        if idempotency_key:
            # A concurrent request with the same key won the race: answer with its order.
            existing = order_find_idempotent(user=user, key=idempotency_key, request_hash=request_hash)
            if existing is not None:
                return existing, False
        raise
    except ServiceUnavailable:
        raise  # committed, then failed and refunded: its records stay
    except BaseException:
        _delete_files(saved)
        raise
    return order, True


def _delete_files(names: list[str]) -> None:
    from django.core.files.storage import default_storage

    for name in names:
        try:
            default_storage.delete(name)
        except OSError:
            logger.warning("could not delete %s", name)


def _enqueue(order_id: int) -> None:
    from .tasks import process_order

    try:
        process_order.delay(order_id)
    except Exception as exc:
        # The order is committed and charged but will never run: undo it for the client.
        logger.exception("could not queue order %s", order_id)
        order_fail(order_id, code="SERVICE_UNAVAILABLE", message="The processing queue is unavailable.")
        # The client is told to retry: a retry with the same Idempotency-Key must create a new order.
        Order.objects.filter(pk=order_id).update(idempotency_key="")
        raise ServiceUnavailable("The processing queue is unavailable; nothing was charged. Retry later.") from exc


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
            order.stage = "starting"
            order.save(update_fields=["status", "attempts", "started_at", "progress", "stage"])
    if give_up:
        order_fail(
            order_id,
            code="PROCESSING_FAILED",
            message="Processing was interrupted repeatedly; your credits were refunded. Please retry.",
        )
        return None
    return order


def order_progress(order_id: int, stage: str, percent: int) -> None:
    """Record a pipeline stage; progress never goes backwards and stays below 100 until completion."""
    percent = max(0, min(99, int(percent)))
    Order.objects.filter(pk=order_id, status=Order.Status.IN_PROGRESS, progress__lte=percent).update(
        progress=percent, stage=stage[:40]
    )


def order_complete(
    order_id: int,
    *,
    results: list[tuple[str, str, bytes, int, int]],
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
        except OSError as exc:
            _delete_files(saved)  # the rows roll back with the transaction; the files must go too
            raise StorageFailed(f"could not store the results of order {order_id}") from exc
        except BaseException:
            _delete_files(saved)
            raise
        order.status = Order.Status.COMPLETED
        order.progress = 100
        order.stage = "done"
        order.completed_at = timezone.now()
        order.timings = timings or {}
        order.product_description = product_description
        order.save(update_fields=["status", "progress", "stage", "completed_at", "timings", "product_description"])
        _after_finish(order)
    return order


def order_fail(order_id: int, *, code: str, message: str) -> Order | None:
    """Mark the order failed and refund it (exactly once, however often this is called)."""
    with transaction.atomic():
        order = Order.objects.select_for_update().filter(pk=order_id).first()
        if order is None or order.status == Order.Status.COMPLETED:
            return None
        if order.status != Order.Status.FAILED:
            order.status = Order.Status.FAILED
            order.error_code = code[:60]
            order.error_message = message
            order.completed_at = timezone.now()
            order.stage = "failed"
        credits_refund(order)
        order.credits_used = 0  # what the client was charged in the end
        order.save(update_fields=["status", "error_code", "error_message", "completed_at", "stage", "credits_used"])
        _after_finish(order)
    return order


def _after_finish(order: Order) -> None:
    if order.webhook_url and order.webhook_delivered_at is None:
        from .webhooks import deliver_webhook

        order_id = order.pk
        transaction.on_commit(lambda: deliver_webhook.delay(order_id))


def _stuck_deadline():
    return timezone.now() - timedelta(seconds=settings.ORDER_STUCK_AFTER)


def orders_fail_stuck() -> int:
    """Resolve orders whose worker died or that nobody picked up; returns how many were touched.

    An order in progress past ORDER_STUCK_AFTER lost its worker (the hard time limit would have
    stopped a live one): it is queued again while it has attempts left (the embedded SQLAlchemy
    broker never redelivers a message whose worker died), else failed and refunded. A pending
    order nobody took within ORDER_PENDING_TIMEOUT is failed and refunded.
    """
    now = timezone.now()
    stuck = list(
        Order.objects.filter(status=Order.Status.IN_PROGRESS, started_at__lt=_stuck_deadline()).values_list(
            "pk", flat=True
        )
    )
    waiting = list(
        Order.objects.filter(
            status=Order.Status.PENDING, created_at__lt=now - timedelta(seconds=settings.ORDER_PENDING_TIMEOUT)
        ).values_list("pk", flat=True)
    )
    for order_id in stuck:
        if not _order_requeue(order_id):
            order_fail(
                order_id,
                code="PROCESSING_TIMEOUT",
                message="Processing did not finish in time; your credits were refunded. Please retry.",
            )
    for order_id in waiting:
        order_fail(
            order_id,
            code="QUEUE_TIMEOUT",
            message="No worker picked the order up in time; your credits were refunded. Please retry.",
        )
    return len(stuck) + len(waiting)


def _order_requeue(order_id: int) -> bool:
    """Put a stuck order back in the queue when it has attempts left; False when it has none."""
    from .tasks import process_order

    with transaction.atomic():
        order = Order.objects.select_for_update().filter(pk=order_id).first()
        if order is None or order.status != Order.Status.IN_PROGRESS:
            return True  # finished meanwhile: nothing to do
        if order.attempts >= settings.ORDER_MAX_ATTEMPTS:
            return False
        order.status = Order.Status.PENDING
        order.stage = "requeued"
        order.save(update_fields=["status", "stage"])
    try:
        process_order.delay(order_id)
    except Exception:
        logger.exception("could not queue order %s again", order_id)
        order_fail(
            order_id,
            code="SERVICE_UNAVAILABLE",
            message="The processing queue is unavailable; your credits were refunded. Please retry.",
        )
    logger.warning("order %s lost its worker; queued again (attempt %s next)", order_id, order.attempts + 1)
    return True


def orders_purge_media(days: int | None = None) -> int:
    """Delete the photos, results and thumbnails of orders finished more than ``days`` ago (default
    MEDIA_RETENTION_DAYS); the orders and their metadata stay. Returns how many orders were purged."""
    from .thumbnails import thumbnail_name

    days = settings.MEDIA_RETENTION_DAYS if days is None else days
    if days <= 0:
        return 0
    cutoff = timezone.now() - timedelta(days=days)
    orders = Order.objects.filter(
        status__in=[Order.Status.COMPLETED, Order.Status.FAILED], completed_at__lt=cutoff, files_purged_at=None
    ).values_list("pk", flat=True)
    purged = 0
    for order_id in list(orders.iterator()):
        files = list(OrderFile.objects.filter(order_id=order_id))
        names = [f.file.name for f in files if f.file.name]
        _delete_files(names + [thumbnail_name(f) for f in files if f.file.name])
        with transaction.atomic():
            OrderFile.objects.filter(pk__in=[f.pk for f in files]).delete()
            Order.objects.filter(pk=order_id).update(files_purged_at=timezone.now())
        purged += 1
    return purged
