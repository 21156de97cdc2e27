"""Webhook signature verification.

The server POSTs the final order JSON to the order's ``webhook_url`` with
``X-Ftmv-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">``, keyed with the
account's signing secret (``client.account().webhook.signing_secret``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

from .errors import WebhookVerificationError

SIGNATURE_HEADER = "X-Ftmv-Signature"
DEFAULT_TOLERANCE = 300  # seconds: an older signature may be a replayed delivery


def sign_webhook(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    """The header value the server would send for ``payload`` (useful to test a webhook handler)."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify_webhook(
    payload: bytes | str,
    signature: str | None,
    secret: str,
    *,
    tolerance: float | None = DEFAULT_TOLERANCE,
    now: float | None = None,
) -> dict[str, Any]:
    """Check a delivery and return its parsed JSON (``{"event": "order.completed", "order": {...}}``).

    ``payload`` must be the raw request body, byte for byte: re-serialized JSON does not verify.
    Raises :class:`WebhookVerificationError`. ``tolerance=None`` skips the age check.
    """
    if isinstance(payload, str):
        payload = payload.encode()
    if not signature:
        raise WebhookVerificationError(f"no {SIGNATURE_HEADER} header")
    timestamp: int | None = None
    candidates: list[str] = []
    for part in signature.split(","):
        name, _, value = part.strip().partition("=")
        if name == "t" and value.isdigit():
            timestamp = int(value)
        elif name == "v1" and value:
            candidates.append(value)  # several while the secret is being rotated
    if timestamp is None or not candidates:
        raise WebhookVerificationError(f"malformed {SIGNATURE_HEADER} header")
    if tolerance is not None and abs((time.time() if now is None else now) - timestamp) > tolerance:
        raise WebhookVerificationError("the signature timestamp is outside the tolerance")
    expected = sign_webhook(payload, secret, timestamp).split("v1=", 1)[1]
    # compare_digest: the time taken must not tell an attacker how much of a guess was right.
    if not any(hmac.compare_digest(expected, candidate) for candidate in candidates):
        raise WebhookVerificationError("the signature does not match the body")
    try:
        event = json.loads(payload)
    except ValueError as exc:
        raise WebhookVerificationError("the body is not JSON") from exc
    if not isinstance(event, dict):
        raise WebhookVerificationError("the body is not a JSON object")
    return event
