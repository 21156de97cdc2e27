"""Structured logs: one JSON line per event, each with the request id (also the X-Request-ID header) and the order
id, through the web request, the worker and the webhook delivery."""

from __future__ import annotations

import io
import json
import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families
from pythonjsonlogger.json import JsonFormatter

from core.logs import TASK_HEADER, _request_id_to_task, request_id_var
from tests.api.conftest import b64, client_for, image_bytes, make_user
from tests.reliability.conftest import free_port
from tryon.models import Order

from .conftest import Samples, scrape, value


@contextmanager
def service_log_lines() -> Iterator[list[str]]:
    """The lines the service's own console handler (settings.LOGGING) writes while the block runs."""
    handler = next(h for h in logging.getLogger().handlers if isinstance(h.formatter, JsonFormatter))
    buffer = io.StringIO()
    previous = handler.setStream(buffer)
    lines: list[str] = []
    try:
        yield lines
    finally:
        handler.setStream(previous)
        lines.extend(buffer.getvalue().splitlines())


class _Receiver(BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@contextmanager
def webhook_receiver() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/hook"
    finally:
        server.shutdown()


# --- the request id ----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_every_response_carries_a_request_id(client):
    made = client.get("/healthz")["X-Request-ID"]
    assert len(made) == 32 and int(made, 16) >= 0  # a fresh uuid4
    assert client.get("/healthz")["X-Request-ID"] != made
    # A proxy's or client's own id is kept when it is sane...
    assert client.get("/healthz", HTTP_X_REQUEST_ID="lb-7f3a:0001.x_y")["X-Request-ID"] == "lb-7f3a:0001.x_y"
    # ...and replaced when it is not (it would land in every log line).
    for hostile in ("short", "a b c d e f g h", "x" * 129, 'abc"}{"level":"CRITICAL'):
        answered = client.get("/healthz", HTTP_X_REQUEST_ID=hostile)["X-Request-ID"]
        assert answered != hostile and len(answered) == 32


def test_the_request_id_travels_in_task_headers():
    headers: dict = {}
    _request_id_to_task(headers=headers)
    assert headers == {}  # queued outside a request (beat, a sweep): nothing to carry
    token = request_id_var.set("req-12345678")
    try:
        _request_id_to_task(headers=headers)
    finally:
        request_id_var.reset(token)
    assert headers == {TASK_HEADER: "req-12345678"}


# --- an order's whole life -------------------------------------------------------------------------------


def test_an_orders_life_is_json_lines_with_its_order_id_and_request_id(
    transactional_db, api, owner, tryon_body, settings, eager_tasks
):
    # Committed for real: the order's task (and then its webhook) runs when the request's transaction commits,
    # inside the request, as a worker would run it.
    settings.WEBHOOK_ALLOW_PRIVATE = True
    with webhook_receiver() as url, service_log_lines() as lines:
        response = api.post(
            "/api/v1/generate", {**tryon_body, "webhook_url": url}, format="json", HTTP_X_REQUEST_ID="trace-in-001"
        )
    assert response.status_code == 202 and response["X-Request-ID"] == "trace-in-001"
    order_id = response.json()["order_id"]
    assert Order.objects.get(pk=order_id).webhook_delivered_at is not None

    records = [json.loads(line) for line in lines]  # every line is one JSON object
    mine = [r for r in records if r.get("order_id") == order_id]
    messages = " | ".join(r["message"] for r in mine)
    for event in ("created", "started", "stage", "failed", "refunded", "webhook of order"):
        assert event in messages, messages
    assert {r["request_id"] for r in mine} == {"trace-in-001"}
    assert all({"timestamp", "level", "logger"} <= r.keys() for r in records)
    request_line = next(r for r in records if r["logger"] == "ftmv.request")
    assert (request_line["route"], request_line["status"], request_line["order_id"]) == (
        "api/v1/generate",
        202,
        order_id,
    )


@pytest.mark.worker
def test_web_worker_and_webhook_lines_share_the_ids_and_the_workers_counts_reach_metrics(
    start_worker, client, settings
):
    """A real worker process: the request id crosses the broker in the task's headers, the worker's lines are
    JSON with the order id, and what the worker counted (in its own process) shows in the web's /metrics and
    in the worker host's own exporter (WORKER_METRICS_PORT), which wants the bearer token when one is set."""
    settings.METRICS_TOKEN = ""
    port = free_port()
    worker = start_worker(WORKER_METRICS_PORT=str(port), METRICS_TOKEN="worker-host-token")
    _, key = make_user("worker-logs@example.com", credits=10, plan="paid")
    body = {
        "style": "virtual_tryon",
        "person_image": b64(image_bytes(320, 480, seed=1)),
        "clothing_image": b64(image_bytes(300, 300, seed=2)),
    }
    exporter = f"http://127.0.0.1:{port}/metrics"
    assert requests.get(exporter, timeout=10).status_code == 401
    before, before_host = scrape(client), host_samples(exporter, "worker-host-token")
    with webhook_receiver() as url, service_log_lines() as web_lines:
        response = client_for(key).post(
            "/api/v1/generate", {**body, "webhook_url": url}, format="json", HTTP_X_REQUEST_ID="trace-worker-42"
        )
        assert response.status_code == 202
        order_id = response.json()["order_id"]
        deadline = time.monotonic() + 120
        while not Order.objects.filter(pk=order_id).exclude(webhook_delivered_at=None).exists():
            assert time.monotonic() < deadline, worker.logs()[-4000:]
            time.sleep(0.3)
    order = Order.objects.get(pk=order_id)
    assert order.status == "failed"  # drawn gradients: no person

    worker_records = [json.loads(line) for line in worker.logs().splitlines() if line.startswith("{")]
    mine = [r for r in worker_records if r.get("order_id") == order_id]
    messages = " | ".join(r["message"] for r in mine)
    for event in ("started", "failed", "refunded", "webhook of order"):
        assert event in messages, messages
    assert {r.get("request_id") for r in mine} == {"trace-worker-42"}
    web = [json.loads(line) for line in web_lines]
    assert any(r.get("order_id") == order_id and r["request_id"] == "trace-worker-42" for r in web)

    code = {"style": "virtual_tryon", "error_code": order.error_code}
    for old, new in ((before, scrape(client)), (before_host, host_samples(exporter, "worker-host-token"))):
        assert value(new, "ftmv_orders_failed_total", **code) - value(old, "ftmv_orders_failed_total", **code) == 1
        assert value(new, "ftmv_credits_refunded_total") - value(old, "ftmv_credits_refunded_total") == 1


def host_samples(url: str, token: str) -> Samples:
    response = requests.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert response.status_code == 200
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }
