"""The JSON shapes of api.md, built from orders (plain functions: the hot polling path)."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime

from django.conf import settings

from .estimates import estimated_completion, estimated_time_text
from .models import Order, OrderFile

ACCEPTED_MESSAGE = "Order created successfully. Use the orders endpoint to check status."


def iso(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC with an explicit +00:00, whole seconds (as on the seed page)."""
    return moment.astimezone(UTC).isoformat(timespec="seconds") if moment else None


def base_url_for(request) -> str:
    return settings.SITE_URL or request.build_absolute_uri("/").rstrip("/")


def file_url(record: OrderFile, base_url: str) -> str:
    url = record.file.url
    return url if url.startswith(("http://", "https://")) else base_url + url


def accepted_json(order: Order) -> dict:
    return {
        "success": True,
        "order_id": order.pk,
        "status": order.status,
        "credits_used": order.credits_used,
        "message": ACCEPTED_MESSAGE,
        "estimated_time": estimated_time_text(order.style),
        "created_at": iso(order.created_at),
    }


def order_json(order: Order, base_url: str, files: list[OrderFile] | None = None) -> dict:
    """``files``: the order's files in (role, position) order when the caller already has them."""
    body: dict = {
        "id": order.pk,
        "style": order.style,
        "status": order.status,
        "credits_used": order.credits_used,
        "created_at": iso(order.created_at),
    }
    if order.status in (Order.Status.PENDING, Order.Status.IN_PROGRESS):
        body["progress"] = order.progress
        body["stage"] = order.stage or order.status
        body["estimated_completion"] = iso(estimated_completion(order))
    elif order.status == Order.Status.COMPLETED:
        if files is None:
            files = list(order.files.all())  # prefetched by list callers

        def urls(role: str) -> list[str]:
            return [file_url(f, base_url) for f in files if f.role == role]

        if order.style == Order.Style.PRODUCT_CATALOG:
            results = {
                "product_url": next(iter(urls(OrderFile.Role.PRODUCT)), None),
                "catalog_images": urls(OrderFile.Role.CATALOG),
                "quantity": order.quantity,
                "product_description": order.product_description,
            }
        else:
            results = {
                "person_url": next(iter(urls(OrderFile.Role.PERSON)), None),
                "clothing_url": next(iter(urls(OrderFile.Role.CLOTHING)), None),
                "result_url": next(iter(urls(OrderFile.Role.RESULT)), None),
            }
        body["results"] = results
        body["completed_at"] = iso(order.completed_at)
        body["processing_time"] = order.processing_seconds
    else:
        body["error"] = {"code": order.error_code, "message": order.error_message}
        body["failed_at"] = iso(order.completed_at)
    return body


def webhook_secret(user) -> str:
    """The key a user verifies webhook signatures with (derived, so nothing to store or leak at rest)."""
    digest = hmac.new(settings.SECRET_KEY.encode(), f"webhook:{user.pk}".encode(), hashlib.sha256).hexdigest()
    return f"whsec_{digest[:40]}"
