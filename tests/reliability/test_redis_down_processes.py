"""Redis unreachable, with a real gunicorn process configured for it: every /api/v1
call answers the documented JSON 503, never an HTML 500. (A poll within a second of the last one may not
need the cache at all: the polling budget is batched per process. It is then answered normally.)"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.api import shapes
from tests.api.conftest import make_user
from tests.conftest import database_url_for_tests

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return port


@pytest.fixture
def web_with_redis_down(transactional_db, tmp_path):
    port, dead = _free_port(), _free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": database_url_for_tests(),
        "REDIS_URL": f"redis://127.0.0.1:{dead}/0",
        "CELERY_BROKER_URL": f"redis://127.0.0.1:{dead}/0",
    }
    log = (tmp_path / "gunicorn.log").open("wb")
    web = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "ftmv.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "1"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            requests.get(f"{base}/api/v1/nothing", timeout=5)
            break
        except requests.ConnectionError:
            time.sleep(0.3)
    try:
        yield base
    finally:
        os.killpg(web.pid, signal.SIGTERM)
        web.wait(timeout=20)
        log.close()


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
