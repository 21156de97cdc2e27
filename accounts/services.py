"""Account services: API keys and the sign-up credit grant."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .models import ApiKey, User

KEY_PREFIX = "ftmv_"
KEY_LENGTH = 64
LOOKUP_LENGTH = len(KEY_PREFIX) + 8
_ALPHABET = string.ascii_letters + string.digits
# last_used_at is informational: writing it on every poll would cost a write per request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def _hash_key(raw_key: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), raw_key.encode(), hashlib.sha256).hexdigest()


def apikey_create(*, user: User, name: str = "default") -> tuple[ApiKey, str]:
    """Create a key for ``user``; returns the row and the raw key, which is not stored anywhere."""
    raw = KEY_PREFIX + "".join(secrets.choice(_ALPHABET) for _ in range(KEY_LENGTH - len(KEY_PREFIX)))
    key = ApiKey.objects.create(
        user=user, name=name[:100] or "default", prefix=raw[:LOOKUP_LENGTH], hashed_key=_hash_key(raw)
    )
    return key, raw


def apikey_revoke(*, key: ApiKey) -> None:
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])


def apikey_authenticate(raw_key: str) -> ApiKey | None:
    """The active key matching ``raw_key`` (with its user loaded), or None.

    One implementation serves the API and everything else: the precompiled, briefly remembered lookup
    in accounts.authentication (imported here, late, because that module imports this one).
    """
    from .authentication import find_api_key

    return find_api_key(raw_key)


def signup_grant(*, user: User) -> None:
    """Give a new account its free credits (SIGNUP_FREE_CREDITS), once."""
    from billing.services import credits_grant

    amount = settings.SIGNUP_FREE_CREDITS
    if amount > 0:
        with transaction.atomic():
            credits_grant(user, amount, reason="signup")
