"""allauth adapter: failed-login back-off per client address *and* account.

allauth's default locks an account for five minutes after five wrong passwords from anywhere, so anyone
who knows an address can keep its owner out. Here failures count per (client address, account): after
LOGIN_FAILURES_FREE of them that address must wait before its next try on that account, a wait that
doubles with each further failure (1 s, 2 s, 4 s ... up to LOGIN_BACKOFF_MAX). The owner, from any other
address, is never held up; a guesser from one address is slowed exponentially, and one spread over many
addresses meets allauth's per-address limit (ACCOUNT_RATE_LIMITS) on each. A correct password clears the
address's record for that account. The client address honours TRUSTED_PROXY_COUNT.
"""

from __future__ import annotations

import hashlib
import time

from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings
from django.core.cache import cache

RECORD_TTL = 24 * 3600


def _record_key(request, credentials: dict) -> str:
    who = str(credentials.get("email") or credentials.get("username") or "").strip().lower()
    address = DefaultAccountAdapter().get_client_ip(request)
    return "loginfail:" + hashlib.sha256(f"{address}|{who}".encode()).hexdigest()


def _now() -> float:
    return time.time()


def backoff_seconds(failures: int) -> float:
    over = failures - settings.LOGIN_FAILURES_FREE
    if over < 0:
        return 0.0
    return float(min(settings.LOGIN_BACKOFF_MAX, 2**over))


class AccountAdapter(DefaultAccountAdapter):
    def pre_authenticate(self, request, **credentials) -> None:
        failures, last = cache.get(_record_key(request, credentials)) or (0, 0.0)
        if _now() < last + backoff_seconds(failures):
            raise self.validation_error("too_many_login_attempts")
        super().pre_authenticate(request, **credentials)

    def authenticate(self, request, **credentials):
        user = super().authenticate(request, **credentials)
        if user is not None:
            cache.delete(_record_key(request, credentials))
        return user

    def authentication_failed(self, request, **credentials) -> None:
        key = _record_key(request, credentials)
        failures, _ = cache.get(key) or (0, 0.0)
        cache.set(key, (failures + 1, _now()), RECORD_TTL)
        super().authentication_failed(request, **credentials)
