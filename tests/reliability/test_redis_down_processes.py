"""Redis unreachable, with a real gunicorn process configured for it: every /api/v1
call answers the documented JSON 503, never an HTML 500. (A poll within a second of the last one may not
need the cache at all: the polling budget is batched per process. It is then answered normally.)"""

from __future__ import annotations

import time

import pytest
import requests

from tests.api import shapes
from tests.api.conftest import make_user
from tests.reliability.conftest import free_port, gunicorn_web


@pytest.fixture
def web_with_redis_down(transactional_db, tmp_path):
    dead = free_port()  # nothing listens there: Redis is down
    with gunicorn_web(
        tmp_path / "gunicorn.log",
        REDIS_URL=f"redis://127.0.0.1:{dead}/0",
        CELERY_BROKER_URL=f"redis://127.0.0.1:{dead}/0",
    ) as base:
        yield base


def test_every_api_call_is_a_json_503_while_redis_is_down(web_with_redis_down):
    _, key = make_user("redis-down@example.com", credits=10, plan="paid")
    good = {"Authorization": f"Bearer {key}"}
    bad = {"Authorization": "Bearer ftmv_" + "n" * 59}
    calls = [
        ("get", "/api/v1/account", good),
        ("get", "/api/v1/orders", good),
        ("get", "/api/v1/orders/1", good),
        ("post", "/api/v1/generate", good),
        ("get", "/api/v1/account", bad),
    ]
    for method, path, headers in calls:
        time.sleep(1.1)  # past the polling batch: each call needs the cache
        response = requests.request(method, web_with_redis_down + path, headers=headers, json={}, timeout=30)
        assert response.status_code == 503, (path, response.status_code, response.text[:300])
        assert response.headers["Content-Type"].startswith("application/json")
        shapes.check(response.json(), shapes.error("SERVICE_UNAVAILABLE"))
    # Polls in quick succession: each answered normally or with the JSON 503, never anything else.
    for _ in range(10):
        response = requests.get(web_with_redis_down + "/api/v1/orders", headers=good, timeout=30)
        assert response.status_code in (200, 503) and response.headers["Content-Type"].startswith("application/json")
