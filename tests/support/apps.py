"""A test-only app (tests/settings.py installs it): hooks the fault tests need inside worker processes.

A worker is another process, so a pytest monkeypatch cannot reach it; this app's ready() runs in every
process started with the test settings and patches the order task there, only when asked to.
"""

from __future__ import annotations

import time

from django.apps import AppConfig
from django.conf import settings


class TestSupportConfig(AppConfig):
    name = "tests.support"
    label = "test_support"

    def ready(self) -> None:
        seconds = settings.TEST_PIPELINE_DELAY
        if seconds:
            hold_first_attempts(seconds)


def hold_first_attempts(seconds: float) -> None:
    """Hold each order's first attempt in progress for ``seconds`` after its photos are decoded, so a test
    can kill the worker running it; the retry runs at full speed."""
    from tryon import tasks

    run = tasks.run_order_pipeline

    def held(order, inputs, progress):
        if order.attempts == 1:
            until = time.monotonic() + seconds
            while time.monotonic() < until:
                time.sleep(0.1)
        return run(order, inputs, progress)

    tasks.run_order_pipeline = held
