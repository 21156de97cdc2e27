"""Fixtures for the API tests: users with keys and credits, and images the tests draw themselves."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from django.core.cache import cache
from PIL import Image
from rest_framework.test import APIClient

from accounts.models import User
from accounts.services import apikey_create
from billing.services import credits_grant


def image_bytes(width: int = 320, height: int = 480, fmt: str = "JPEG", seed: int = 0, **save) -> bytes:
    """A drawn photo-like image: gradient plus shapes (compresses like a photo, decodes everywhere)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    rgb = np.stack(
        [(x * 255 // max(1, width - 1)), (y * 255 // max(1, height - 1)), np.full_like(x, 128)], axis=-1
    ).astype(np.uint8)
    rgb[height // 4 : height // 2, width // 4 : width // 2] = rng.integers(0, 255, 3)
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, fmt, **save)
    return buffer.getvalue()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def forget_local_counts() -> None:
    """Drop this process's unflushed polling counts and remembered hourly windows: each test starts from
    zero (per-process state of api.throttling and tryon.ratelimit that cache.clear() does not reach)."""
    from api import throttling
    from tryon import ratelimit

    with throttling._poll_lock:
        throttling._poll_local.clear()
    ratelimit._window_memo.clear()


@pytest.fixture
def clean_cache(db):
    # Rate-limit counters and estimates live in the shared cache: start every test from zero.
    cache.clear()
    forget_local_counts()
    yield
    cache.clear()
    forget_local_counts()


def make_user(email: str, credits: int = 100, plan: str = "free") -> tuple[User, str]:
    user = User.objects.create_user(email=email, plan=plan)
    if credits:
        credits_grant(user, credits, reason="test")
    _, raw = apikey_create(user=user, name="test")
    return user, raw


def client_for(raw_key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    return client


@pytest.fixture
def owner(clean_cache):
    return make_user("owner@example.com", credits=100, plan="paid")


@pytest.fixture
def api(owner) -> APIClient:
    return client_for(owner[1])


@pytest.fixture
def tryon_body() -> dict:
    return {
        "style": "virtual_tryon",
        "person_image": b64(image_bytes(320, 480, seed=1)),
        "clothing_image": b64(image_bytes(300, 300, seed=2)),
        "options": {"quality": "high", "format": "jpg"},
    }


@pytest.fixture
def catalog_body() -> dict:
    return {"style": "product_catalog", "product_image": b64(image_bytes(400, 400, seed=3)), "quantity": 6}
