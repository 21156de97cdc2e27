"""The API's exception handler: every error, whatever raised it, as

{"success": false, "error": {"code": ..., "message": ..., "details": {...}}}
"""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import Http404, JsonResponse
from rest_framework import exceptions
from rest_framework.response import Response

from tryon.errors import ApiError, error_body, first_error

try:  # the redis client is installed with the requirements, but the cache may be the database one
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    _REDIS_OUTAGES: tuple[type[BaseException], ...] = (RedisConnectionError, RedisTimeoutError)
except ImportError:  # pragma: no cover
    _REDIS_OUTAGES = ()
from kombu.exceptions import OperationalError as BrokerOperationalError

# A backend the request depends on is down (database, cache/rate-limit store, broker): the documented
# 503 SERVICE_UNAVAILABLE, never a 500, so clients retry and operators see the cause in the log.
OUTAGES: tuple[type[BaseException], ...] = (OperationalError, InterfaceError, BrokerOperationalError, *_REDIS_OUTAGES)

logger = logging.getLogger("tryon.api")  # the name operators' log filters already use


def _from_drf(exc: exceptions.APIException) -> tuple[int, str, str, dict]:
    if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
        return 401, "UNAUTHORIZED", str(exc.detail), {}
    if isinstance(exc, exceptions.NotFound):
        return 404, "NOT_FOUND", "Not found.", {}
    if isinstance(exc, exceptions.MethodNotAllowed):
        return 405, "METHOD_NOT_ALLOWED", str(exc.detail), {}
    if isinstance(exc, exceptions.ParseError):
        return 400, "INVALID_REQUEST", f"The request body is not valid JSON: {exc.detail}", {}
    if isinstance(exc, exceptions.UnsupportedMediaType):
        return 400, "INVALID_REQUEST", "Send a JSON body (Content-Type: application/json) or multipart/form-data.", {}
    if isinstance(exc, exceptions.ValidationError):
        return 400, "INVALID_REQUEST", first_error(exc.detail), {"fields": exc.detail}
    if isinstance(exc, exceptions.Throttled):
        return 429, "RATE_LIMIT_EXCEEDED", str(exc.detail), {}
    if isinstance(exc, exceptions.PermissionDenied):
        return 403, "FORBIDDEN", str(exc.detail), {}
    return exc.status_code, str(exc.default_code).upper(), str(exc.detail), {}


def api_exception_handler(exc: Exception, context: dict) -> Response:
    """DRF's EXCEPTION_HANDLER for the API views: never lets an exception out as HTML."""
    headers: dict = {}
    if isinstance(exc, ApiError):
        status, code, message, details, headers = exc.status, exc.code, exc.message, exc.details, exc.headers
    elif isinstance(exc, exceptions.APIException):
        status, code, message, details = _from_drf(exc)
        wait = getattr(exc, "wait", None)  # Throttled's
        if wait:
            headers["Retry-After"] = str(int(wait))
    elif isinstance(exc, Http404):
        status, code, message, details = 404, "NOT_FOUND", "Not found.", {}
    elif isinstance(exc, PermissionDenied):
        status, code, message, details = 403, "FORBIDDEN", "Forbidden.", {}
    elif isinstance(exc, RequestDataTooBig):
        status, code, message, details = 413, "PAYLOAD_TOO_LARGE", "The request body is too large.", {}
    elif isinstance(exc, OUTAGES):
        logger.error("backend unavailable: %s", type(exc).__name__, exc_info=exc)
        status, code, message, details = 503, "SERVICE_UNAVAILABLE", "The service is temporarily unavailable.", {}
    else:
        # No stack trace or exception text reaches the client; the log has it.
        view = context.get("view")
        logger.error("unhandled API error in %s", type(view).__name__ if view else "?", exc_info=exc)
        status, code, message, details = 500, "INTERNAL_ERROR", "An internal error occurred. Please retry later.", {}
    response = Response(error_body(code, message, details), status=status)
    for name, value in headers.items():
        response[name] = value
    return response


def outside_drf_response(exc: BaseException) -> JsonResponse:
    """The JSON error for an exception that escaped DRF's handler under /api/ (a middleware's cache
    call, finalize_response): 503 for a backend outage, else 500; never Django's HTML page."""
    if isinstance(exc, OUTAGES):
        logger.error("backend unavailable: %s", type(exc).__name__, exc_info=exc)
        body = error_body("SERVICE_UNAVAILABLE", "The service is temporarily unavailable. Please retry later.", {})
        response = JsonResponse(body, status=503)
        response["Retry-After"] = "5"
        return response
    logger.error("unhandled API error outside the view", exc_info=exc)
    return JsonResponse(error_body("INTERNAL_ERROR", "An internal error occurred. Please retry later.", {}), status=500)
