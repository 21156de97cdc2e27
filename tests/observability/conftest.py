"""Fixtures of the metrics and log tests: the API's users and bodies, Celery tasks run in-process, /metrics read
back as numbers."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

from ftmv.celery import app
from tests.api.conftest import api, catalog_body, clean_cache, owner, tryon_body  # noqa: F401 - shared fixtures
from tests.reliability.conftest import start_worker  # noqa: F401 - a shared fixture

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(client, **headers) -> Samples:
    """GET /metrics (as a loopback client) parsed with prometheus_client's own parser."""
    response = client.get("/metrics", **headers)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=")
    samples: Samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    """One sample's value; 0 when the series does not exist yet (a counter nothing has moved)."""
    return samples.get((name, frozenset(labels.items())), 0.0)


@pytest.fixture
def eager_tasks():
    """Tasks queued by the code under test run at once in this process, as a worker would run them."""
    app.conf.task_always_eager = True
    try:
        yield
    finally:
        app.conf.task_always_eager = False
