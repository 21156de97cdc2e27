"""Webhook delivery: POST of the final order JSON, signed, retried with back-off (default queue).

Signature header: ``X-Ftmv-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">``
keyed with the account's webhook signing secret (GET /account -> webhook.signing_secret).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import logging
import socket
import time
from urllib.parse import urlsplit

import requests
from celery import shared_task
from django.conf import settings
from django.db.models import F
from django.utils import timezone

from .models import Order
from .presenters import order_json, webhook_secret

logger = logging.getLogger(__name__)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def target_allowed(url: str) -> bool:
    """http(s) only; private, loopback and link-local targets only where WEBHOOK_ALLOW_PRIVATE is on."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return False
    if settings.WEBHOOK_ALLOW_PRIVATE:
        return True
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(parts.hostname, parts.port or 443)}
    except OSError:
        return False
    return all(ipaddress.ip_address(str(a).split("%")[0]).is_global for a in addresses)


@shared_task(name="tryon.webhooks.deliver_webhook", bind=True, max_retries=None)
def deliver_webhook(self, order_id: int) -> bool:
    order = Order.objects.select_related("user").prefetch_related("files").filter(pk=order_id).first()
    if order is None or not order.webhook_url or order.webhook_delivered_at or not order.is_finished:
        return False
    if not target_allowed(order.webhook_url):
        logger.warning("webhook of order %s not sent: target %s not allowed", order_id, order.webhook_url)
        return False
    body = json.dumps(
        {
            "success": True,
            "event": f"order.{order.status}",
            "order": order_json(order, settings.SITE_URL or order.base_url),
        }
    ).encode()
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "ftmv-webhook/1",
        "X-Ftmv-Event": f"order.{order.status}",
        "X-Ftmv-Signature": f"t={timestamp},v1={sign(webhook_secret(order.user), timestamp, body)}",
    }
    Order.objects.filter(pk=order_id).update(webhook_attempts=F("webhook_attempts") + 1)
    try:
        response = requests.post(
            order.webhook_url, data=body, headers=headers, timeout=settings.WEBHOOK_TIMEOUT, allow_redirects=False
        )
        ok = 200 <= response.status_code < 300
        reason = f"HTTP {response.status_code}"
    except requests.RequestException as exc:
        ok, reason = False, type(exc).__name__
    if ok:
        Order.objects.filter(pk=order_id).update(webhook_delivered_at=timezone.now())
        return True
    attempt = self.request.retries + 1
    if attempt >= settings.WEBHOOK_MAX_ATTEMPTS:
        logger.warning("webhook of order %s abandoned after %s attempts (%s)", order_id, attempt, reason)
        return False
    # 10 s, 20 s, 40 s ... capped at an hour.
    raise self.retry(countdown=min(3600, 10 * 2**self.request.retries))
