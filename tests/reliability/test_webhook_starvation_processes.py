"""Five orders' webhooks to a receiver that trickles one byte every 2 s, with the Procfile's real
housekeeping and webhooks workers (the embedded broker, or Redis when REDIS_URL is set): housekeeping
keeps running.

The test plays beat, sending beat's own tasks through the broker at a faster cadence: while the five
trickling attempts are held, every heartbeat is written within seconds, the stuck-order sweep runs, and
another customer's well-behaved receiver gets its webhook at once; each trickling attempt is cut off at
the total deadline (WEBHOOK_TIMEOUT), though every single read gets a byte well within the socket timeout.
"""

from __future__ import annotations

import http.server
import select
import socketserver
import threading
import time
import uuid
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from core.models import WorkerHeartbeat
from core.tasks import heartbeat
from ftmv.celery import app as celery_app
from tests.api.conftest import b64, client_for, image_bytes, make_user
from tests.conftest import WorkerProcess
from tryon.lifecycle import order_fail, order_start
from tryon.maintenance import fail_stuck_orders
from tryon.models import Order

from .conftest import procfile_celery_args, wait_for

pytestmark = pytest.mark.worker

TRICKLING = 5
BYTE_EVERY = 2.0  # seconds: far inside the socket timeout, so only the total deadline ends an attempt
# Heartbeats, the sweep and a well-behaved webhook must each be through within this many seconds
# (with webhooks on the housekeeping worker they waited a whole deadline, or the whole trickle).
PROMPT = 5.0
WORKER_ENV = {"WEBHOOK_ALLOW_PRIVATE": "false", "WEBHOOK_ALLOWED_NETWORKS": "127.0.0.0/8"}


class TricklingReceivers(socketserver.ThreadingTCPServer):
    """Loopback receivers: each connection's request is read, then the answer is sent one byte every
    BYTE_EVERY seconds (a status line, then a header that never ends) until the client hangs up.
    ``connections`` records when each was opened and closed (monotonic seconds)."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        self.connections: list[dict] = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        super().__init__(("127.0.0.1", 0), _Trickle)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/hook"

    def opened(self) -> list[dict]:
        with self.lock:
            return [dict(c) for c in self.connections]

    def stop(self) -> None:
        self.stopping.set()
        self.shutdown()
        self.server_close()


class _Trickle(socketserver.BaseRequestHandler):
    server: TricklingReceivers

    def handle(self) -> None:
        record = {"opened": time.monotonic(), "closed": None, "sent": 0}
        with self.server.lock:
            self.server.connections.append(record)
        answer = b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 10_000
        sock = self.request
        try:
            while not self.server.stopping.is_set() and time.monotonic() - record["opened"] < 120:
                readable, _, _ = select.select([sock], [], [], BYTE_EVERY)
                if readable:
                    if not sock.recv(65536):  # the client hung up
                        break
                    continue  # more of the request
                sock.sendall(answer[record["sent"] : record["sent"] + 1])
                record["sent"] += 1
        except OSError:
            pass
        finally:
            with self.server.lock:
                record["closed"] = time.monotonic()


class _Prompt(http.server.BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        self.rfile.read(int(self.headers["Content-Length"]))
        self.server.received.append((self.path, time.monotonic()))  # type: ignore[attr-defined]
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


def _purge_order_queues() -> None:
    """Drop queued deliveries and order messages (this test's orders are queued for an image worker it
    does not start): order numbers start again in every test, so a message left in the broker would be
    taken for another test's order of the same number."""
    with celery_app.connection_for_write() as connection:
        for queue in (settings.WEBHOOK_QUEUE, settings.CELERY_IMAGE_QUEUE):
            connection.default_channel.queue_purge(queue)


@pytest.fixture
def procfile_workers(transactional_db, clean_cache, tmp_path):
    """The Procfile's housekeeping and webhooks workers, started together (not yet waited for)."""
    _purge_order_queues()
    workers = [
        WorkerProcess(tmp_path / f"{name}.log", extra_env=WORKER_ENV, celery_args=procfile_celery_args(name))
        for name in ("housekeeping", "webhooks")
    ]
    yield workers
    for worker in workers:
        worker.stop()
    _purge_order_queues()  # the orders' image messages, the trickling orders' retries


def _order(api, webhook_url: str = "") -> int:
    body = {"style": "product_catalog", "product_image": b64(image_bytes(400, 400, seed=3)), "quantity": 6}
    if webhook_url:
        body["webhook_url"] = webhook_url
    response = api.post("/api/v1/generate", body, format="json")
    assert response.status_code == 202, response.content
    return response.json()["order_id"]


def _finish(order_id: int) -> None:
    """The order fails (no product found): its webhook is queued when the failure commits."""
    order_start(order_id)
    order_fail(order_id, code="NO_PRODUCT", message="No product found.")


def test_trickling_receivers_do_not_starve_housekeeping(procfile_workers, settings):
    settings.WEBHOOK_ALLOW_PRIVATE = False
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]  # loopback receivers, as an operator would list them
    housekeeping, webhooks = procfile_workers
    deadline = settings.WEBHOOK_TIMEOUT
    _, key = make_user("tricklers@example.com", credits=500, plan="paid")
    api = client_for(key)
    tricklers = TricklingReceivers()
    prompt = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Prompt)
    prompt.received = []  # type: ignore[attr-defined]
    threading.Thread(target=prompt.serve_forever, daemon=True).start()
    prompt_url = f"http://127.0.0.1:{prompt.server_address[1]}"
    logs = lambda: housekeeping.logs()[-3000:] + "\n---\n" + webhooks.logs()[-3000:]  # noqa: E731
    try:
        housekeeping.wait_until_consuming()
        warm = _order(api, f"{prompt_url}/warm")
        _finish(warm)
        wait_for(warm, lambda o: o.webhook_delivered_at is not None, 90, "first webhook (webhooks worker up)")

        # An order whose worker died an hour ago, out of attempts: the sweep fails and refunds it.
        stuck = _order(api)
        order_start(stuck)
        Order.objects.filter(pk=stuck).update(
            started_at=timezone.now() - timedelta(hours=1), attempts=settings.ORDER_MAX_ATTEMPTS
        )
        well_behaved = _order(api, f"{prompt_url}/other-customer")
        trickling = []
        for _ in range(TRICKLING):
            trickling.append(_order(api, tricklers.url))
            _finish(trickling[-1])
        held_by = time.monotonic() + 15
        while not tricklers.opened() and time.monotonic() < held_by:
            time.sleep(0.1)
        assert tricklers.opened(), f"no webhook attempt reached the trickling receivers\n{logs()}"
        held_since = tricklers.opened()[0]["opened"]
        time.sleep(0.5)  # the attempts queued with it are taken too

        # Beat's tasks while the trickling attempts are held: the sweep once, a heartbeat every second,
        # and another customer's order finishes.
        sent: dict[str, float] = {}
        sweep_sent = time.time()
        fail_stuck_orders.delay()
        _finish(well_behaved)
        well_behaved_finished = time.monotonic()
        while time.monotonic() < held_since + deadline - 1:
            token = uuid.uuid4().hex
            sent[token] = time.time()
            heartbeat.delay(token)
            time.sleep(1)
        last_sent = time.monotonic()
        while time.monotonic() < last_sent + PROMPT + 1:
            if WorkerHeartbeat.objects.filter(token__in=list(sent)).count() == len(sent):
                break
            time.sleep(0.2)

        # (a) the heartbeat stays fresh: every one written within PROMPT seconds of being sent.
        seen = dict(WorkerHeartbeat.objects.filter(token__in=list(sent)).values_list("token", "seen_at"))
        lags = sorted(round(seen[t].timestamp() - s, 1) if t in seen else float("inf") for t, s in sent.items())
        assert len(lags) >= 5 and lags[-1] <= PROMPT, f"heartbeat lags {lags}\n{logs()}"
        # (b) the stuck-order sweep ran promptly.
        swept = Order.objects.get(pk=stuck)
        assert (swept.status, swept.error_code) == ("failed", "PROCESSING_TIMEOUT"), logs()
        assert swept.completed_at.timestamp() - sweep_sent <= PROMPT
        # (c) the well-behaved receiver got its webhook at once, while the tricklers were still held.
        got = [at for path, at in prompt.received if path == "/other-customer"]  # type: ignore[attr-defined]
        assert got and got[0] - well_behaved_finished <= PROMPT, f"{got}\n{logs()}"
        assert Order.objects.get(pk=well_behaved).webhook_delivered_at is not None

        # (d) each trickling attempt is cut off at the total deadline, not left to trickle on.
        while time.monotonic() < held_since + deadline + 5:
            if all(c["closed"] for c in tricklers.opened()[:TRICKLING]):
                break
            time.sleep(0.2)
        first = tricklers.opened()[:TRICKLING]
        assert len(first) == TRICKLING, f"{len(first)} of {TRICKLING} attempts started\n{logs()}"
        held = [round(c["closed"] - c["opened"], 1) if c["closed"] else None for c in first]
        assert all(h is not None and deadline - 1 <= h <= deadline + 3 for h in held), (
            f"attempts held {held} s (deadline {deadline} s)\n{logs()}"
        )
        assert all(c["sent"] >= 3 for c in first)  # bytes kept coming: no per-read timeout ended them
        for order in Order.objects.filter(pk__in=trickling):
            assert order.webhook_delivered_at is None and order.webhook_attempts >= 1
            assert order.webhook_next_at is not None  # the retry is scheduled
    finally:
        tricklers.stop()
        prompt.shutdown()
        prompt.server_close()
