from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from accounts.models import ApiKey, User
from accounts.services import apikey_authenticate, apikey_create, apikey_revoke
from billing.models import CreditEntry
from billing.services import credits_balance


@pytest.fixture
def user(db):
    return User.objects.create_user(email="kim@example.com")


def test_key_format_and_storage(user):
    key, raw = apikey_create(user=user, name="ci")
    assert len(raw) == 64 and raw.startswith("ftmv_")
    assert raw not in key.hashed_key and len(key.hashed_key) == 64
    stored = ApiKey.objects.get(pk=key.pk)
    assert raw.startswith(stored.prefix) and len(stored.prefix) < 16
    assert raw not in str(ApiKey.objects.filter(pk=key.pk).values().first())


def test_authenticate_revoke_and_last_used(user):
    key, raw = apikey_create(user=user, name="ci")
    found = apikey_authenticate(raw)
    assert found.pk == key.pk and found.user == user
    assert ApiKey.objects.get(pk=key.pk).last_used_at is not None
    assert apikey_authenticate(raw[:-1] + ("A" if raw[-1] != "A" else "B")) is None  # same prefix, wrong key
    assert apikey_authenticate(raw + "x") is None
    apikey_revoke(key=key)
    assert apikey_authenticate(raw) is None


def test_inactive_user_rejected(user):
    _, raw = apikey_create(user=user)
    user.is_active = False
    user.save()
    assert apikey_authenticate(raw) is None


def test_several_named_keys(user):
    _, first = apikey_create(user=user, name="laptop")
    _, second = apikey_create(user=user, name="server")
    assert first != second
    assert sorted(user.api_keys.values_list("name", flat=True)) == ["laptop", "server"]


def test_createapikey_command(user):
    out = io.StringIO()
    call_command("createapikey", "KIM@example.com", "--name", "cli", stdout=out)
    raw = out.getvalue().strip()
    assert apikey_authenticate(raw).name == "cli"


def test_grantcredits_command(user):
    call_command("grantcredits", "kim@example.com", "25", stdout=io.StringIO())
    assert credits_balance(user) == 25
    assert CreditEntry.objects.get(user=user).kind == "grant"


def test_signup_grants_free_credits(client, db, settings):
    settings.SIGNUP_FREE_CREDITS = 10
    settings.ACCOUNT_EMAIL_VERIFICATION = "none"
    response = client.post(
        "/accounts/signup/",
        {"email": "new@example.com", "password1": "a-Long-pass-1234", "password2": "a-Long-pass-1234"},
    )
    assert response.status_code in (200, 302)
    user = User.objects.get(email="new@example.com")
    assert credits_balance(user) == 10
    assert list(CreditEntry.objects.filter(user=user).values_list("kind", "amount")) == [("grant", 10)]


def test_bootstrap_prints_demo_key_once(db):
    first = io.StringIO()
    call_command("bootstrap", stdout=first)
    raw = next(word for word in first.getvalue().split() if word.startswith("ftmv_") and len(word) == 64)
    demo = apikey_authenticate(raw).user
    assert demo.email == "demo@example.com" and credits_balance(demo) > 0
    second = io.StringIO()
    call_command("bootstrap", stdout=second)
    assert "ftmv_" not in second.getvalue()
    assert demo.api_keys.count() == 1
