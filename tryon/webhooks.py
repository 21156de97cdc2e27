"""Webhook delivery: POST of the final order JSON, signed, retried with back-off (webhooks queue).

Signature header: ``X-Ftmv-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">``
keyed with the account's webhook signing secret (GET /account -> webhook.signing_secret).

Three rules keep a hostile or broken receiver from hurting anyone else:

- Each attempt has a total deadline (WEBHOOK_TIMEOUT seconds for connect, send and response together),
  enforced by a timer that shuts the socket down: a receiver trickling one byte every few seconds never
  holds a worker longer than that. Deliveries run on their own queue (WEBHOOK_QUEUE, the Procfile's
  `webhooks` worker), so even many slow receivers never delay housekeeping (heartbeats, sweeps).
- The host name is resolved once, every address is checked (tryon.netguard), and the connection goes to
  the checked address itself (TLS still verifies the name): a name that resolves differently on the
  second lookup (DNS rebinding) cannot redirect the POST.
- The next attempt's time is stored on the order (webhook_next_at) before the retry is queued, and beat's
  resume_webhooks queues every delivery that is due and not running: a worker killed with its retries in
  memory (the embedded broker keeps countdown messages only there) loses nothing. Each attempt first
  claims the order with a conditional UPDATE, so a message and the sweep never deliver twice at once.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import http.client
import json
import logging
import socket
import ssl
import threading
import time
from datetime import timedelta
from urllib.parse import urlsplit

from celery import shared_task
from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone

from core.logs import order_context

from .models import Order
from .netguard import address_allowed, url_refusal
from .presenters import order_json, webhook_secret

logger = logging.getLogger(__name__)

# How much of the receiver's answer is read: the status line and a little of the body are all we use.
MAX_RESPONSE_BYTES = 64 * 1024


class DeliveryError(Exception):
    pass


def sign(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def resolve_allowed(url: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, checked address) for a URL whose every address is allowed; DeliveryError if not."""
    refusal = url_refusal(url)
    if refusal:
        raise DeliveryError(refusal)
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise DeliveryError(f"cannot resolve {host}") from exc
    addresses = [str(info[4][0]) for info in infos]
    # Every address must be allowed, not just the one we pick: a mixed answer is a rebinding attempt.
    if not addresses or not all(address_allowed(a) for a in addresses):
        raise DeliveryError(f"{host} resolves to an address that is not allowed")
    return parts.scheme, host, port, addresses[0]


def target_allowed(url: str) -> bool:
    try:
        resolve_allowed(url)
    except DeliveryError:
        return False
    return True


def post_pinned(url: str, body: bytes, headers: dict[str, str], deadline: float) -> int:
    """POST ``body`` to ``url`` on the address checked by resolve_allowed, within ``deadline`` seconds in
    total; returns the HTTP status. Raises DeliveryError (refused target) or OSError/HTTPException."""
    scheme, host, port, address = resolve_allowed(url)
    parts = urlsplit(url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    started = time.monotonic()
    sock = socket.create_connection((address, port), timeout=deadline)
    # The watchdog: socket timeouts bound each recv, not the sum of them; shutting the socket down from
    # another thread ends any blocked read or write at the deadline.
    timer = threading.Timer(deadline, _shutdown, args=(sock,))
    timer.daemon = True
    timer.start()
    try:
        conn: http.client.HTTPConnection
        if scheme == "https":
            context = ssl.create_default_context()
            tls = context.wrap_socket(sock, server_hostname=host)
            conn = http.client.HTTPSConnection(host, port, timeout=deadline, context=context)
            conn.sock = tls
        else:
            conn = http.client.HTTPConnection(host, port, timeout=deadline)
            conn.sock = sock
        default_port = 443 if scheme == "https" else 80
        conn.putrequest("POST", path, skip_host=True, skip_accept_encoding=True)
        name = f"[{host}]" if ":" in host else host  # an IPv6 literal goes in brackets
        conn.putheader("Host", name if port == default_port else f"{name}:{port}")
        for name, value in {**headers, "Content-Length": str(len(body)), "Connection": "close"}.items():
            conn.putheader(name, value)
        conn.endheaders(body)
        response = conn.getresponse()
        response.read(MAX_RESPONSE_BYTES)
        if time.monotonic() - started > deadline:
            raise TimeoutError("webhook deadline passed")
        return response.status
    except OSError as exc:
        if time.monotonic() - started >= deadline:
            raise TimeoutError("webhook deadline passed") from exc
        raise
    finally:
        timer.cancel()
        sock.close()


def _shutdown(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):  # already closed: the attempt ended in time
        sock.shutdown(socket.SHUT_RDWR)


def _backoff(attempts_made: int) -> int:
    # 10 s, 20 s, 40 s ... capped at an hour.
    return min(3600, 10 * 2 ** max(0, attempts_made - 1))


def _claim(order_id: int) -> bool:
    """Take the order's next attempt: only one message (or sweep) runs it, and not before it is due. The
    claim is a lease: a worker that dies mid-attempt leaves it to the sweep once the lease ends."""
    now = timezone.now()
    lease = now + timedelta(seconds=settings.WEBHOOK_TIMEOUT + 60)
    return bool(
        Order.objects.filter(pk=order_id, webhook_delivered_at=None, webhook_attempts__lt=settings.WEBHOOK_MAX_ATTEMPTS)
        .filter(Q(webhook_next_at=None) | Q(webhook_next_at__lte=now))
        .update(webhook_next_at=lease, webhook_attempts=F("webhook_attempts") + 1)
    )


@shared_task(name="tryon.webhooks.deliver_webhook")
def deliver_webhook(order_id: int) -> bool:
    with order_context(order_id):
        return _deliver(order_id)


def _deliver(order_id: int) -> bool:
    order = Order.objects.select_related("user").prefetch_related("files").filter(pk=order_id).first()
    if order is None or not order.webhook_url or order.webhook_delivered_at or not order.is_finished:
        return False
    if not _claim(order_id):
        return False
    attempt = Order.objects.values_list("webhook_attempts", flat=True).get(pk=order_id)
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
    try:
        status = post_pinned(order.webhook_url, body, headers, settings.WEBHOOK_TIMEOUT)
        ok, reason = 200 <= status < 300, f"HTTP {status}"
    except DeliveryError as exc:
        # A refused target never becomes allowed by retrying.
        logger.warning("webhook of order %s not sent: %s", order_id, exc)
        Order.objects.filter(pk=order_id).update(webhook_next_at=None, webhook_attempts=settings.WEBHOOK_MAX_ATTEMPTS)
        return False
    except (OSError, http.client.HTTPException, ValueError) as exc:
        ok, reason = False, type(exc).__name__
    if ok:
        Order.objects.filter(pk=order_id).update(webhook_delivered_at=timezone.now(), webhook_next_at=None)
        logger.info("webhook of order %s delivered (%s, attempt %s)", order_id, reason, attempt)
        return True
    logger.warning("webhook of order %s attempt %s failed (%s)", order_id, attempt, reason)
    if attempt >= settings.WEBHOOK_MAX_ATTEMPTS:
        logger.warning("webhook of order %s abandoned after %s attempts (%s)", order_id, attempt, reason)
        Order.objects.filter(pk=order_id).update(webhook_next_at=None)
        return False
    countdown = _backoff(attempt)
    # Stored before the retry is queued: if the message is lost with its worker, the sweep still has it.
    Order.objects.filter(pk=order_id).update(webhook_next_at=timezone.now() + timedelta(seconds=countdown))
    deliver_webhook.apply_async((order_id,), countdown=countdown)
    return False


def webhooks_due() -> list[int]:
    """Finished orders whose webhook is due and not being delivered: never sent (the queueing was lost),
    or a retry whose time has passed by more than a minute (its message was lost with a worker)."""
    now = timezone.now()
    grace = now - timedelta(seconds=60)
    recent = now - timedelta(days=2)  # older deliveries would be past their last back-off anyway
    return list(
        Order.objects.filter(
            status__in=[Order.Status.COMPLETED, Order.Status.FAILED],
            completed_at__gte=recent,
            webhook_delivered_at=None,
            webhook_attempts__lt=settings.WEBHOOK_MAX_ATTEMPTS,
        )
        .exclude(webhook_url="")
        .filter(Q(webhook_next_at=None, completed_at__lt=grace) | Q(webhook_next_at__lt=grace))
        .values_list("pk", flat=True)[:500]
    )


@shared_task(name="tryon.webhooks.resume_webhooks")
def resume_webhooks() -> int:
    due = webhooks_due()
    for order_id in due:
        deliver_webhook.delay(order_id)
    return len(due)
