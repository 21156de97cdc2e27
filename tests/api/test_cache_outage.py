"""The shared cache (Redis) unreachable: every /api/v1 call answers the documented JSON 503, never an
HTML 500. The cache points at a loopback port nobody listens on."""

from __future__ import annotations

import socket

import pytest

from tests.api import shapes
from tests.api.conftest import client_for, make_user


def _dead_port() -> int:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return port


@pytest.fixture
def redis_down(settings, clean_cache):
    user, key = make_user("outage@example.com", credits=10, plan="free")
    working = settings.CACHES
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{_dead_port()}/0",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    yield client_for(key)
    settings.CACHES = working  # before clean_cache's teardown clears the cache


@pytest.mark.parametrize(
    ("method", "path"),
    [("get", "/api/v1/account"), ("get", "/api/v1/orders"), ("get", "/api/v1/orders/1"), ("post", "/api/v1/generate")],
)
def test_every_api_call_is_a_json_503_while_redis_is_down(redis_down, method, path):
    response = getattr(redis_down, method)(path, {} if method == "post" else None, format="json")
    assert response.status_code == 503, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    shapes.check(response.json(), shapes.error("SERVICE_UNAVAILABLE"))


def test_failed_key_while_redis_is_down_is_json_too(redis_down):
    response = client_for("ftmv_" + "q" * 59).get("/api/v1/account")
    assert response.status_code in (401, 503) and response["Content-Type"].startswith("application/json")
