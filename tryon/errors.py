"""The order domain's one error type: a stable code the client can act on, the HTTP status the API
answers it with, details and headers. Raised by the use cases and the request and image checks;
api.exceptions renders it as the API's error shape, web shows its message next to the form field.
"""

from __future__ import annotations

from collections.abc import Mapping


class ApiError(Exception):
    """A failure with a stable code the client can act on. Raised by services and validation."""

    status = 400
    code = "INVALID_REQUEST"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status: int | None = None,
        details: dict | None = None,
        headers: dict | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.code = code or self.code
        self.status = status or self.status
        self.details = details or {}
        self.headers = headers or {}


class InvalidRequest(ApiError):
    code = "INVALID_REQUEST"


class InvalidImage(ApiError):
    code = "INVALID_IMAGE"


class PayloadTooLarge(ApiError):
    status = 413
    code = "PAYLOAD_TOO_LARGE"


class InsufficientCreditsError(ApiError):
    status = 402
    code = "INSUFFICIENT_CREDITS"


class NotFound(ApiError):
    status = 404
    code = "NOT_FOUND"


class RateLimited(ApiError):
    status = 429
    code = "RATE_LIMIT_EXCEEDED"


class ConcurrencyLimited(ApiError):
    status = 429
    code = "CONCURRENCY_LIMIT_EXCEEDED"


class ServiceUnavailable(ApiError):
    status = 503
    code = "SERVICE_UNAVAILABLE"


class InvalidFields(InvalidRequest):
    """The request's fields break the order rules; ``fields`` maps each field to its problems."""

    def __init__(self, fields: Mapping):
        super().__init__(first_error(fields), details={"fields": fields})
        self.fields = fields


def error_body(code: str, message: str, details: dict | None = None) -> dict:
    return {"success": False, "error": {"code": code, "message": message, "details": details or {}}}


def first_error(detail: object, path: str = "") -> str:
    """'quantity: Must be 6 or 12 for product_catalog.': the first problem, named by its field."""
    if isinstance(detail, Mapping) and detail:
        key, value = next(iter(detail.items()))
        return first_error(value, path if key == "non_field_errors" else (f"{path}.{key}" if path else key))
    if isinstance(detail, list) and detail:
        return first_error(detail[0], path)
    return f"{path}: {detail}" if path else str(detail)
