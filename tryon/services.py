"""Accepting orders, and the sweeps that resolve orders nobody finishes.

``order_submit`` is the one use case behind both front doors (POST /api/v1/generate and the web upload
forms): the same rules in the same order, counted the same way. ``order_create`` is its last step: charge,
store, queue, all or nothing. What happens to an order once a worker has it is tryon.lifecycle.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from billing.services import InsufficientCredits, credits_spend
from core.logs import order_id_var, request_id_var
from core.metrics import ORDERS_CREATED, after_commit
from core.storage import STORAGE_ERRORS

from .archives import catalog_records, catalog_zip_name
from .errors import ConcurrencyLimited, InsufficientCreditsError, InvalidFields, InvalidRequest, ServiceUnavailable
from .lifecycle import delete_files, order_fail
from .models import Order, OrderFile
from .order_request import IMAGE_ROLES, GenerateRequestSerializer
from .presenters import accepted_json
from .ratelimit import Window, generate_hit, generate_release, generate_window, plan_limits
from .tasks import process_order
from .thumbnails import thumbnail_name
from .validation import ValidImage, image_input_bytes, validate_image

logger = logging.getLogger(__name__)

IDEMPOTENCY_KEY_MAX = 255
# Pillow releases the GIL while decoding: an order's photos are checked side by side.
_VALIDATORS = ThreadPoolExecutor(max_workers=4, thread_name_prefix="validate")


@dataclass(frozen=True)
class Submitted:
    order: Order
    created: bool  # False: an earlier request with the same Idempotency-Key made this order
    window: Window  # the hourly generate window after this call was counted
    response: dict  # the 202 body: for a replay, the first response's, not the order's current state
    warnings: tuple[str, ...] = ()  # what the request asked for that was ignored (the 202 body's warnings)


def order_submit(
    *,
    user,
    read_fields: Callable[[], object],
    idempotency_key: str = "",
    base_url: str = "",
    source: str = "api",
) -> Submitted:
    """Accept an order request from either door, checking in this order (the first failure answers):

    1. the Idempotency-Key (API), as Stripe documents it: the same key with the same request (compared by
       content, so a multipart retry with a new boundary is the same request) answers the first response
       and is not a new call (no quota spent); the same key with a different request is refused with 422;
    2. the plan's hourly and daily generate limits: a spent budget refuses the call; otherwise a slot is
       taken atomically (bursts cannot pass the limit) and given back unless the call creates an order, so
       bad input, missing credits or the one-at-a-time rule cost no slot, through either door;
    3. the fields (``read_fields()``): style, the images that style needs, quantity, options
       (tryon.order_request); what does not apply to the style is ignored and listed as a warning;
    4. the images, in field order: decoded, then checked (format, size, pixels, damage);
    5. credits, orders in flight, storage and the queue (``order_create``).

    Raises the ApiError subclasses of tryon.errors.
    """
    if len(idempotency_key) > IDEMPOTENCY_KEY_MAX:
        raise InvalidRequest(f"The Idempotency-Key header is longer than {IDEMPOTENCY_KEY_MAX} characters.")
    request_hash = ""
    data: object = _UNREAD
    if idempotency_key:
        try:
            data = read_fields()
        except Exception as exc:  # noqa: BLE001 - a body that does not parse: counted below, then raised
            data = exc
        else:
            request_hash = request_fingerprint(data)
            replay = order_find_idempotent(user=user, key=idempotency_key, request_hash=request_hash)
            if replay is not None:
                return Submitted(replay, False, generate_window(user), first_response(replay))
    window = generate_hit(user)
    try:
        if isinstance(data, BaseException):
            raise data
        serializer = GenerateRequestSerializer(data=read_fields() if data is _UNREAD else data)
        if not serializer.is_valid():
            raise InvalidFields(serializer.errors)
        fields = serializer.validated_data
        raw = {
            role: (name, image_input_bytes(fields[name], name)) for name, role in IMAGE_ROLES.items() if name in fields
        }
        checks = {role: _VALIDATORS.submit(validate_image, data, name) for role, (name, data) in raw.items()}
        images = {role: future.result() for role, future in checks.items()}

        order, created = order_create(
            user=user,
            style=fields["style"],
            images=images,
            quantity=fields["quantity"],
            options=dict(fields["options"]),
            webhook_url=fields.get("webhook_url", ""),
            idempotency_key=idempotency_key,
            request_hash=request_hash,
            base_url=base_url,
            source=source,
        )
    except BaseException:
        generate_release(user)  # refused: no order, no slot used
        raise
    if not created:  # a parallel request with the same key made the order: this one is its replay
        window = generate_release(user)
    warnings = tuple(serializer.warnings)
    response = accepted_json(order)
    if warnings:
        response["warnings"] = list(warnings)
    if idempotency_key and created:
        cache.set(_first_response_key(order.pk), response, settings.IDEMPOTENCY_WINDOW_HOURS * 3600)
    return Submitted(order, created, window, response if created else first_response(order), warnings)


_UNREAD = object()


def request_fingerprint(data: object) -> str:
    """SHA-256 of a request's content, independent of its encoding: fields in name order, JSON values
    canonical, uploaded files by their bytes (a multipart retry has a new boundary but the same content)."""
    digest = hashlib.sha256()
    if hasattr(data, "lists"):  # QueryDict (multipart, form): every value of every field
        items = [(str(name), list(values)) for name, values in data.lists()]
    elif isinstance(data, dict):
        items = [(str(name), [value]) for name, value in data.items()]
    else:
        items = [("", [data])]
    for name, values in sorted(items, key=lambda item: item[0]):
        digest.update(json.dumps(name).encode() + b"=")
        for one in values:
            if isinstance(one, UploadedFile):
                content = hashlib.sha256()
                for chunk in one.chunks():
                    content.update(chunk)
                one.seek(0)  # read again when the order is created
                digest.update(b"file:" + content.hexdigest().encode())
            else:
                digest.update(json.dumps(one, sort_keys=True, default=str).encode())
            digest.update(b";")
    return digest.hexdigest()


def _first_response_key(order_id: int) -> str:
    return f"idem:first:{order_id}"


def first_response(order: Order) -> dict:
    """The 202 body the order's first request got (stored for the idempotency window); rebuilt as it was
    (pending, charged its cost) if the cache lost it."""
    stored = cache.get(_first_response_key(order.pk))
    if stored is not None:
        return stored
    return {
        **accepted_json(order),
        "status": Order.Status.PENDING,
        "credits_used": order_cost(order.style, order.quantity),
    }


def order_cost(style: str, quantity: int | None) -> int:
    if style == Order.Style.PRODUCT_CATALOG:
        assert quantity is not None  # a catalog order always has one (tryon.order_request)
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
            "This Idempotency-Key was already used with a different request body.",
            status=422,  # Stripe's answer: the request is well-formed but conflicts with the key's first use
            details={"order_id": order.pk},
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
    Raises InsufficientCreditsError, ConcurrencyLimited, ServiceUnavailable (queue or media storage down;
    nothing charged).
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
            try:
                for role, image in images.items():
                    record = OrderFile(order=order, role=role, width=image.width, height=image.height)
                    record.file.save(f"{role}.{image.ext}", ContentFile(image.data), save=False)
                    saved.append(record.file.name)
                    record.save()
            except STORAGE_ERRORS as exc:
                # The media storage (a local disk or an S3 bucket) is down: the transaction rolls the charge
                # back; the photos written so far go too.
                delete_files(saved)
                logger.exception("order %s: could not store its photos", order.pk)
                raise ServiceUnavailable("The image storage is unavailable; nothing was charged. Retry later.") from exc
            after_commit(lambda: ORDERS_CREATED.labels(style).inc())
            transaction.on_commit(lambda: _enqueue(order.pk))
    except IntegrityError:
        delete_files(saved)
        if idempotency_key:
            # A concurrent request with the same key won the race: answer with its order.
            existing = order_find_idempotent(user=user, key=idempotency_key, request_hash=request_hash)
            if existing is not None:
                return existing, False
        raise
    except ServiceUnavailable:
        # The queue was down after the commit (the order failed and was refunded: its records stay), or the
        # storage was down before it (rolled back, its photos deleted above).
        raise
    except BaseException:
        delete_files(saved)
        raise
    if request_id_var.get() is not None:
        # In a request (core.logs resets both at its end): the request's remaining lines belong to this order.
        order_id_var.set(order.pk)
    logger.info(
        "order %s created: %s, %s credits",
        order.pk,
        style,
        cost,
        extra={"order_id": order.pk, "style": style, "credits": cost, "source": source},
    )
    return order, True


def order_cancel(order_id: int, *, by: str) -> Order | None:
    """Staff cancel an order not finished yet: failed with code CANCELLED and refunded through the ledger
    (tryon.lifecycle.order_fail). None when it had finished already (nothing to cancel)."""
    order = Order.objects.filter(pk=order_id).first()
    if order is None or order.is_finished:
        return None
    logger.info("order %s cancelled by %s", order_id, by)
    return order_fail(
        order_id, code="CANCELLED", message="The order was cancelled by the site's staff; your credits were refunded."
    )


def order_retry(order: Order, *, by: str) -> Order:
    """Staff retry a failed order: a new order with the same photos and options, charged through the ledger
    like any order (the failed one stays failed and refunded). Raises ApiError subclasses
    (InsufficientCreditsError, ConcurrencyLimited, InvalidRequest when its photos are gone)."""
    if order.status != Order.Status.FAILED:
        raise InvalidRequest(f"Order {order.pk} has not failed; only failed orders are retried.")
    images: dict[str, ValidImage] = {}
    for record in order.files.filter(role__in=list(IMAGE_ROLES.values())):
        try:
            with record.file.open("rb") as f:
                data = f.read()
        except (*STORAGE_ERRORS, ValueError):
            raise InvalidRequest(f"The photos of order {order.pk} are no longer stored.") from None
        images[record.role] = ValidImage(data, record.file.name.rsplit(".", 1)[-1], record.width, record.height)
    if not images:
        raise InvalidRequest(f"The photos of order {order.pk} are no longer stored.")
    logger.info("order %s retried by %s", order.pk, by)
    new, _ = order_create(
        user=order.user,
        style=order.style,
        images=images,
        quantity=order.quantity,
        options=dict(order.options),
        webhook_url=order.webhook_url,
        base_url=order.base_url,
        source="admin",
    )
    return new


def _enqueue(order_id: int) -> None:
    try:
        process_order.delay(order_id)
    except Exception as exc:
        # The order is committed and charged but will never run: undo it for the client.
        logger.exception("could not queue order %s", order_id)
        order_fail(order_id, code="SERVICE_UNAVAILABLE", message="The processing queue is unavailable.")
        # The client is told to retry: a retry with the same Idempotency-Key must create a new order.
        Order.objects.filter(pk=order_id).update(idempotency_key="")
        raise ServiceUnavailable("The processing queue is unavailable; nothing was charged. Retry later.") from exc


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
    with transaction.atomic():
        order = Order.objects.select_for_update().filter(pk=order_id).first()
        if order is None or order.status != Order.Status.IN_PROGRESS:
            return True  # finished meanwhile: nothing to do
        if order.attempts >= settings.ORDER_MAX_ATTEMPTS:
            return False
        order.status = Order.Status.PENDING
        order.stage = "requeued"  # not a pipeline stage: the page shows it as "Requeued"
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
    """Delete the photos, results, thumbnails and catalog zips of orders finished more than ``days`` ago (default
    MEDIA_RETENTION_DAYS); the orders and their metadata stay. Returns how many orders were purged."""
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
        stored = [f for f in files if f.file.name]
        names = [f.file.name for f in stored] + [thumbnail_name(f) for f in stored]
        catalog = catalog_records(stored)
        if catalog:
            names.append(catalog_zip_name(catalog))
        delete_files(names)
        with transaction.atomic():
            OrderFile.objects.filter(pk__in=[f.pk for f in files]).delete()
            Order.objects.filter(pk=order_id).update(files_purged_at=timezone.now())
        purged += 1
    return purged
