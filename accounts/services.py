"""Account services: API keys and the sign-up credit grant."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from billing.services import credits_grant

from .apikeys import ALPHABET, KEY_LENGTH, KEY_PREFIX, LOOKUP_LENGTH, find_api_key, hash_key
from .models import ApiKey, User


def apikey_create(*, user: User, name: str = "default") -> tuple[ApiKey, str]:
    """Create a key for ``user``; returns the row and the raw key, which is not stored anywhere."""
    raw = KEY_PREFIX + "".join(secrets.choice(ALPHABET) for _ in range(KEY_LENGTH - len(KEY_PREFIX)))
    key = ApiKey.objects.create(
        user=user, name=name[:100] or "default", prefix=raw[:LOOKUP_LENGTH], hashed_key=hash_key(raw)
    )
    return key, raw


def apikey_revoke(*, key: ApiKey) -> None:
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])


def apikey_authenticate(raw_key: str) -> ApiKey | None:
    """The active key matching ``raw_key`` (with its user loaded), or None: the precompiled, briefly
    remembered lookup of accounts.apikeys, one implementation for the API and everything else."""
    return find_api_key(raw_key)


def signup_grant(*, user: User) -> None:
    """Give a new account its free credits (SIGNUP_FREE_CREDITS), once."""
    amount = settings.SIGNUP_FREE_CREDITS
    if amount > 0:
        with transaction.atomic():
            credits_grant(user, amount, reason="signup")
