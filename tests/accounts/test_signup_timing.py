"""Sign-up answers a registered e-mail as slowly as a new one: with the real
password hasher, the registered path is not measurably faster."""

from __future__ import annotations

import statistics
import time
import uuid

import pytest
from django.test import Client

from tests.api.conftest import clean_cache, make_user  # noqa: F401 - shared fixture


def _signup_seconds(email: str) -> float:
    client = Client()
    started = time.perf_counter()
    response = client.post(
        "/accounts/signup/",
        {"email": email, "password1": "a long unusual passphrase 7", "password2": "a long unusual passphrase 7"},
    )
    elapsed = time.perf_counter() - started
    assert response.status_code == 302, response.content[:300]
    return elapsed


@pytest.mark.usefixtures("clean_cache")
def test_registered_and_new_addresses_take_the_same_time(db, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]  # the real cost
    settings.ACCOUNT_RATE_LIMITS = False
    make_user("taken@example.com", credits=0)
    registered = [_signup_seconds("taken@example.com") for _ in range(3)]
    new = [_signup_seconds(f"new-{uuid.uuid4().hex[:8]}@example.com") for _ in range(3)]
    fast, slow = statistics.median(registered), statistics.median(new)
    # Before: about 20 times faster for a registered address. Now within a small factor either way.
    assert fast > slow * 0.6, (registered, new)
