"""Failed API-key attempts are throttled per client address (middleware on /api/).

Every 401 under /api/ counts against the caller's address for API_AUTH_FAILURE_WINDOW seconds;
past API_AUTH_FAILURE_LIMIT the address gets 429 RATE_LIMIT_EXCEEDED for every API call (valid
key or not, so guessing learns nothing) until the window ends. Kept out of the authentication
class so the hot polling path pays one cache read and nothing else.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache
from django.http import JsonResponse

API_PREFIX = "/api/"


def client_address(request) -> str:
    """REMOTE_ADDR, or the address the N-th trusted proxy (API_TRUSTED_PROXIES) saw in X-Forwarded-For."""
    proxies = settings.API_TRUSTED_PROXIES
    if proxies:
        hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
        if len(hops) >= proxies:
            return hops[-proxies]
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def _window(now: float) -> tuple[int, int]:
    seconds = settings.API_AUTH_FAILURE_WINDOW
    start = int(now // seconds * seconds)
    return start, start + seconds


def _key(address: str, start: int) -> str:
    return f"authfail:{address}:{start}"


def failures(address: str, now: float | None = None) -> int:
    start, _ = _window(time.time() if now is None else now)
    return cache.get(_key(address, start), 0)


def record_failure(address: str) -> int:
    start, end = _window(time.time())
    key, ttl = _key(address, start), end - start + 60
    if cache.add(key, 1, ttl):
        return 1
    # Read-modify-write with the window's own timeout (Django's generic incr would reset it to the
    # cache default); a parallel burst may be counted one short, which does not matter here.
    value = cache.get(key, 0) + 1
    cache.set(key, value, ttl)
    return value


class FailedAuthThrottleMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith(API_PREFIX):
            return self.get_response(request)
        address = client_address(request)
        now = time.time()
        if failures(address, now) >= settings.API_AUTH_FAILURE_LIMIT:
            retry = max(1, int(_window(now)[1] - now))
            response = JsonResponse(
                {
                    "success": False,
                    "error": {
                        "code": "RATE_LIMIT_EXCEEDED",
                        "message": f"Too many failed API-key attempts from your address; retry in {retry} s.",
                        "details": {"limit": settings.API_AUTH_FAILURE_LIMIT, "window": "auth_failures"},
                    },
                },
                status=429,
            )
            response["Retry-After"] = str(retry)
            return response
        response = self.get_response(request)
        if response.status_code == 401:
            record_failure(address)
        return response
