"""Typed errors: one class per API error code, each carrying the HTTP response it came from.

Every error response of the API has the body
``{"success": false, "error": {"code": ..., "message": ..., "details": {...}}}``;
:func:`error_from_response` turns it into the class registered for its ``code`` (or, for a code this
version does not know yet, the class for its HTTP status), so callers can ``except`` what they can act on.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .models import RateLimit

if TYPE_CHECKING:
    import httpx

    from .models import Order


class FtmvError(Exception):
    """Base of every error this package raises."""


class APIConnectionError(FtmvError):
    """The server could not be reached, or the connection broke (after the automatic retries)."""


class APIError(FtmvError):
    """The API answered with an error body. ``code``, ``message`` and ``details`` are the server's own."""

    status: int = 0

    def __init__(
        self,
        message: str,
        *,
        code: str,
        status: int,
        details: dict[str, Any] | None = None,
        response: httpx.Response | None = None,
    ) -> None:
        super().__init__(f"{code}: {message}" if code else message)
        self.message = message
        self.code = code
        self.status = status
        self.details: dict[str, Any] = details or {}
        self.response = response
        self.rate_limit = RateLimit.from_headers(response.headers) if response is not None else None

    @property
    def retry_after(self) -> float | None:
        """Seconds the server asked to wait (the ``Retry-After`` header), when it sent one."""
        if self.response is None:
            return None
        return _retry_after(self.response.headers.get("Retry-After"))


class ValidationError(APIError):
    """400 INVALID_REQUEST: a missing, unknown or invalid field. ``fields`` maps field names to messages."""

    @property
    def fields(self) -> dict[str, Any]:
        fields = self.details.get("fields")
        return fields if isinstance(fields, dict) else {}


class InvalidImageError(ValidationError):
    """400 INVALID_IMAGE: not base64, not an image, an unsupported format, too small or too many pixels."""


class AuthenticationError(APIError):
    """401 UNAUTHORIZED: the API key is missing, malformed, unknown or revoked."""


class PermissionDeniedError(APIError):
    """403: the key may not do this."""


class InsufficientCreditsError(APIError):
    """402 INSUFFICIENT_CREDITS: buy credits; ``credits_required`` and ``credits_available`` say how many."""

    @property
    def credits_required(self) -> int | None:
        return self.details.get("credits_required")

    @property
    def credits_available(self) -> int | None:
        return self.details.get("credits_available")


class NotFoundError(APIError):
    """404 NOT_FOUND: no such order for this key (another user's order is not found either)."""


class PayloadTooLargeError(APIError):
    """413 PAYLOAD_TOO_LARGE: the request body or one decoded image is over the server's limit."""


class RateLimitError(APIError):
    """429 RATE_LIMIT_EXCEEDED: the hourly or daily generate budget (or the polling budget) is spent.

    ``retry_after`` says when to try again; ``rate_limit`` has the X-RateLimit-* values."""


class ConcurrencyLimitError(RateLimitError):
    """429 CONCURRENCY_LIMIT_EXCEEDED: the plan's number of orders in progress at once is reached."""


class ServerError(APIError):
    """500 INTERNAL_ERROR (or another 5xx): the server failed; safe to retry later."""


class ServiceUnavailableError(ServerError):
    """503 SERVICE_UNAVAILABLE: the queue or database is unreachable; nothing was charged."""


# The API's error codes (the contract test compares this table with the server).
ERROR_CODES: dict[str, type[APIError]] = {
    "INVALID_REQUEST": ValidationError,
    "INVALID_IMAGE": InvalidImageError,
    "UNAUTHORIZED": AuthenticationError,
    "FORBIDDEN": PermissionDeniedError,
    "INSUFFICIENT_CREDITS": InsufficientCreditsError,
    "NOT_FOUND": NotFoundError,
    "PAYLOAD_TOO_LARGE": PayloadTooLargeError,
    "RATE_LIMIT_EXCEEDED": RateLimitError,
    "CONCURRENCY_LIMIT_EXCEEDED": ConcurrencyLimitError,
    "INTERNAL_ERROR": ServerError,
    "SERVICE_UNAVAILABLE": ServiceUnavailableError,
}

# For a code this SDK version does not know: the class of its HTTP status.
ERROR_STATUSES: dict[int, type[APIError]] = {
    400: ValidationError,
    401: AuthenticationError,
    402: InsufficientCreditsError,
    403: PermissionDeniedError,
    404: NotFoundError,
    413: PayloadTooLargeError,
    422: ValidationError,  # an Idempotency-Key reused with a different request
    429: RateLimitError,
    500: ServerError,
    503: ServiceUnavailableError,
}


class OrderFailedError(FtmvError):
    """:meth:`Client.wait` saw the order end as ``failed`` (its credits are refunded). ``order.error`` says why."""

    def __init__(self, order: Order) -> None:
        error = order.error
        reason = f": {error.code}: {error.message}" if error else ""
        super().__init__(f"order {order.id} failed{reason}")
        self.order = order


class WaitTimeoutError(FtmvError):
    """:meth:`Client.wait` gave up before the order ended. ``order`` is the last state seen."""

    def __init__(self, order: Order, timeout: float) -> None:
        super().__init__(f"order {order.id} still {order.status} after {timeout:g} s")
        self.order = order


class WebhookVerificationError(FtmvError):
    """A webhook's ``X-Ftmv-Signature`` is missing, malformed, too old or does not match the body."""


def error_from_response(response: httpx.Response) -> APIError:
    """The typed error for an error response (also for a non-JSON one, e.g. from a proxy)."""
    try:
        body = response.json()
        error = body["error"]
        code, message = str(error["code"]), str(error.get("message", ""))
        details = error.get("details") if isinstance(error.get("details"), dict) else {}
    except (ValueError, KeyError, TypeError):
        code, message, details = "", f"HTTP {response.status_code}: {response.text[:200]}", {}
    cls = ERROR_CODES.get(code) or ERROR_STATUSES.get(response.status_code)
    if cls is None:
        cls = ServerError if response.status_code >= 500 else APIError
    return cls(message, code=code, status=response.status_code, details=details, response=response)


def _retry_after(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:  # an HTTP date: this API sends seconds, a proxy might not
        import time
        from email.utils import parsedate_to_datetime

        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
        except (TypeError, ValueError):
            return None
