"""Fixtures for the fault tests: workers started on demand (several per test if needed), a product photo."""

from __future__ import annotations

import io
import os
import re
import shlex
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import cv2
import numpy as np
import pytest
import requests
from django.core.cache import cache
from PIL import Image

from bench.hosts import free_port
from tests.api.conftest import clean_cache  # noqa: F401 - shared fixture
from tests.conftest import ROOT, WorkerProcess, database_url_for_tests
from tryon.models import Order


def procfile_celery_args(process: str) -> list[str]:
    """The arguments after `celery` in the Procfile's line for ``process`` (``${VAR:-default}`` expanded
    from the environment), with a node name of its own: the worker exactly as `make run` starts it."""
    for line in (ROOT / "Procfile").read_text().splitlines():
        name, _, command = line.partition(":")
        if name.strip() != process:
            continue
        expanded = re.sub(r"\$\{(\w+):-([^}]*)\}", lambda m: os.environ.get(m[1]) or m[2], command)
        words = shlex.split(expanded)
        args = words[next(i for i, word in enumerate(words) if word.endswith("/celery")) + 1 :]
        node = args.index("-n") + 1
        args[node] = f"{process}-{uuid.uuid4().hex[:8]}@%h"
        return args
    raise LookupError(f"no {process!r} line in the Procfile")


@contextmanager
def gunicorn_web(log_path: Path, **env: str) -> Iterator[str]:
    """A real gunicorn (one worker) on the test database with ``env`` added; yields its base URL once it
    answers, and stops it after."""
    port = free_port()
    full_env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": database_url_for_tests(),
        **env,
    }
    log = log_path.open("wb")
    web = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "ftmv.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "1"],
        cwd=ROOT,
        env=full_env,
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


@pytest.fixture
def start_worker(transactional_db, tmp_path_factory):
    """start_worker(**env) -> a consuming WorkerProcess; every one is stopped after the test."""
    workers: list[WorkerProcess] = []

    def start(**env: str) -> WorkerProcess:
        worker = WorkerProcess(tmp_path_factory.mktemp("worker") / "worker.log", extra_env=env)
        workers.append(worker)
        worker.wait_until_consuming()
        return worker

    cache.clear()
    yield start
    for worker in workers:
        worker.stop()


def product_png() -> bytes:
    """A drawn mug on a plain background: the real catalog pipeline completes on it."""
    product = np.full((500, 500, 3), 250, np.uint8)
    cv2.rectangle(product, (170, 140), (330, 380), (40, 90, 170), -1)
    cv2.ellipse(product, (330, 260), (60, 70), 0, -90, 90, (40, 90, 170), 18)
    buffer = io.BytesIO()
    Image.fromarray(product).save(buffer, "PNG")
    return buffer.getvalue()


def wait_for(order_id: int, predicate, timeout: float = 120, what: str = "") -> Order:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        order = Order.objects.get(pk=order_id)
        if predicate(order):
            return order
        time.sleep(0.2)
    raise AssertionError(f"order {order_id}: {what or 'condition'} not reached in {timeout}s: {order.__dict__}")
