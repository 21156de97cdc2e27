"""Failed API-key attempts are throttled per client address and per key prefix (middleware on /api/).

Every 401 under /api/ counts, for API_AUTH_FAILURE_WINDOW seconds, against the caller's address
(API_AUTH_FAILURE_LIMIT, far above what one office's misconfigured scripts produce) and, when the
request carried something shaped like a key, against that key's lookup prefix
(API_AUTH_FAILURE_LIMIT_PER_KEY). Past either limit a *failed* attempt is answered 429
RATE_LIMIT_EXCEEDED instead of 401, with Retry-After. A request with a valid key always passes:
the limits slow a guesser down without letting one client (or one noisy neighbour behind the same
NAT or proxy) lock anyone else out. Keys are 64 random characters, so nothing is learned from a
valid key passing that a guesser could use.

The client address comes from client_address(): REMOTE_ADDR, or behind TRUSTED_PROXY_COUNT proxies
the address the outermost trusted proxy saw (README "Configuration"). Without that setting behind a
proxy every client shares the proxy's address.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.http import JsonResponse
from rest_framework.authentication import get_authorization_header

from accounts.apikeys import KEY_PREFIX, LOOKUP_LENGTH
from core.security import client_address
from tryon.ratelimit import incr_counter, read_counters  # atomic on both cache backends

from .exceptions import OUTAGES, outside_drf_response

API_PREFIX = "/api/"


def _window(now: float) -> tuple[int, int]:
    seconds = settings.API_AUTH_FAILURE_WINDOW
    start = int(now // seconds * seconds)
    return start, start + seconds


def _key(scope: str, start: int) -> str:
    return f"authfail:{scope}:{start}"


def _presented_prefix(request) -> str:
    """The lookup prefix of the key the request carried, '' when it carried nothing key-shaped."""
    parts = get_authorization_header(request).split()
    if len(parts) != 2:
        return ""
    try:
        raw = parts[1].decode("ascii")
    except UnicodeDecodeError:
        return ""
    if not raw.startswith(KEY_PREFIX) or len(raw) < LOOKUP_LENGTH:
        return ""
    return raw[:LOOKUP_LENGTH]


def failures(address: str, now: float | None = None) -> int:
    start, _ = _window(time.time() if now is None else now)
    key = _key(f"ip:{address}", start)
    return read_counters([key]).get(key, 0)


def record_failure(scope: str) -> int:
    start, end = _window(time.time())
    return incr_counter(_key(scope, start), end - start + 60)


class FailedAuthThrottleMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code != 401 or not request.path.startswith(API_PREFIX):
            return response
        try:
            over = record_failure(f"ip:{client_address(request)}") > settings.API_AUTH_FAILURE_LIMIT
            prefix = _presented_prefix(request)
            if prefix:
                over |= record_failure(f"key:{prefix}") > settings.API_AUTH_FAILURE_LIMIT_PER_KEY
        except OUTAGES as exc:
            return outside_drf_response(exc)
        if not over:
            return response
        now = time.time()
        retry = max(1, int(_window(now)[1] - now))
        throttled = JsonResponse(
            {
                "success": False,
                "error": {
                    "code": "RATE_LIMIT_EXCEEDED",
                    "message": f"Too many failed API-key attempts; retry in {retry} s.",
                    "details": {"window": "auth_failures", "reset": int(_window(now)[1])},
                },
            },
            status=429,
        )
        throttled["Retry-After"] = str(retry)
        return throttled

    def process_exception(self, request, exception):
        # Exceptions that escape an API view past DRF's handler (finalize_response's cache read while
        # the cache is down...) get the documented JSON shape too, not Django's HTML 500.
        if request.path.startswith(API_PREFIX):
            return outside_drf_response(exception)
        return None
