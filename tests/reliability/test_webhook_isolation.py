"""Webhooks against hostile receivers: a trickling receiver is cut off at
the total deadline; DNS rebinding cannot redirect the POST; non-public addresses in every IPv6 disguise
are refused at order creation and at delivery; a retry lost with a SIGKILLed worker is delivered by
another worker once beat's sweep runs."""

from __future__ import annotations

import http.server
import socket
import threading
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.api.conftest import b64, client_for, image_bytes, make_user
from tryon.lifecycle import order_fail, order_start
from tryon.models import Order
from tryon.netguard import address_allowed
from tryon.webhooks import deliver_webhook, resume_webhooks

from .conftest import wait_for


def catalog_body() -> dict:
    return {"style": "product_catalog", "product_image": b64(image_bytes(400, 400, seed=3)), "quantity": 6}


@pytest.fixture
def customer(clean_cache):
    user, key = make_user("hooks@example.com", credits=100, plan="paid")
    return user, client_for(key)


def _finished_order(api, url: str) -> int:
    response = api.post("/api/v1/generate", {**catalog_body(), "webhook_url": url}, format="json")
    assert response.status_code == 202, response.content
    order_id = response.json()["order_id"]
    order_start(order_id)
    order_fail(order_id, code="NO_PRODUCT", message="No product found.")
    return order_id


class _Trickler(threading.Thread):
    """Accepts one connection and answers one byte every 0.5 s for up to 30 s."""

    def __init__(self):
        super().__init__(daemon=True)
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(4)
        self.listener.settimeout(30)
        self.port = self.listener.getsockname()[1]

    def run(self):
        try:
            conn, _ = self.listener.accept()
        except OSError:
            return
        conn.recv(65536)
        deadline = time.monotonic() + 30
        try:
            for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 200:
                if time.monotonic() > deadline:
                    break
                conn.sendall(bytes([byte]))
                time.sleep(0.5)
        except OSError:
            pass
        finally:
            conn.close()


def test_trickling_receiver_is_cut_off_at_the_total_deadline(customer, settings, monkeypatch):
    settings.WEBHOOK_ALLOW_PRIVATE = True
    settings.WEBHOOK_TIMEOUT = 2  # each recv gets a byte within 0.5 s: only a total deadline stops it
    trickler = _Trickler()
    trickler.start()
    _, api = customer
    order_id = _finished_order(api, f"http://127.0.0.1:{trickler.port}/hook")
    monkeypatch.setattr(deliver_webhook, "apply_async", lambda *a, **k: None)
    started = time.monotonic()
    deliver_webhook(order_id)
    elapsed = time.monotonic() - started
    trickler.listener.close()
    assert elapsed < 4, f"the attempt took {elapsed:.1f} s"
    order = Order.objects.get(pk=order_id)
    assert order.webhook_delivered_at is None and order.webhook_attempts == 1 and order.webhook_next_at is not None


def test_dns_rebinding_cannot_redirect_the_post_to_loopback(customer, settings, monkeypatch):
    """The name resolves public on the check and 127.0.0.1 afterwards: the connection goes to the
    checked address (here stopped before any packet leaves), never to the local listener."""
    settings.WEBHOOK_ALLOW_PRIVATE = False
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    listener.settimeout(3)
    port = listener.getsockname()[1]
    _, api = customer
    order_id = _finished_order(api, f"http://rebind.example:{port}/hook")
    lookups: list[str] = []
    real_getaddrinfo = socket.getaddrinfo

    def rebinding(host, *args, **kwargs):
        if host != "rebind.example":
            return real_getaddrinfo(host, *args, **kwargs)
        address = "8.8.8.8" if not lookups else "127.0.0.1"
        lookups.append(address)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    connected: list = []

    def no_public_traffic(address, *args, **kwargs):
        connected.append(address)
        raise ConnectionRefusedError("test: no traffic leaves loopback")

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    monkeypatch.setattr(socket, "create_connection", no_public_traffic)
    monkeypatch.setattr(deliver_webhook, "apply_async", lambda *a, **k: None)
    deliver_webhook(order_id)
    try:
        conn, _ = listener.accept()
        conn.close()
        reached = True
    except OSError:
        reached = False
    listener.close()
    assert not reached, "the POST reached 127.0.0.1 after a rebinding lookup"
    assert connected == [("8.8.8.8", port)]


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hook",
        "http://127.1/hook",
        "http://2130706433/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://10.1.2.3/hook",
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://[64:ff9b::7f00:1]/hook",  # NAT64 of 127.0.0.1
        "http://[64:ff9b::a9fe:a9fe]/hook",  # NAT64 of 169.254.169.254
        "http://[2002:7f00:1::1]/hook",  # 6to4 of 127.0.0.1
        "http://[2002:c0a8:101::1]/hook",  # 6to4 of 192.168.1.1
        "http://[fe80::1]/hook",
        "http://[fd00::1]/hook",
        "http://localhost/hook",
        "http://user:pw@example.com/hook",
    ],
)
def test_non_public_webhook_urls_refused_at_order_creation(customer, settings, url):
    settings.WEBHOOK_ALLOW_PRIVATE = False
    _, api = customer
    response = api.post("/api/v1/generate", {**catalog_body(), "webhook_url": url}, format="json")
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["error"]["code"] == "INVALID_REQUEST" and "webhook_url" in body["error"]["details"]["fields"]


def test_address_policy_and_operator_allow_list(settings):
    settings.WEBHOOK_ALLOW_PRIVATE = False
    settings.WEBHOOK_ALLOWED_NETWORKS = []
    for refused in ("64:ff9b::a00:1", "2002:a00:1::", "::ffff:10.0.0.1", "0.0.0.0", "224.0.0.1", "100.64.0.1"):
        assert not address_allowed(refused), refused
    for public in ("93.184.216.34", "2606:4700::1111", "64:ff9b::5db8:d822"):
        assert address_allowed(public), public
    settings.WEBHOOK_ALLOWED_NETWORKS = ["10.20.0.0/16"]
    assert address_allowed("10.20.3.4") and not address_allowed("10.21.0.1")


class _Receiver(http.server.BaseHTTPRequestHandler):
    received: list[bytes] = []

    def do_POST(self):  # noqa: N802 - http.server's name
        _Receiver.received.append(self.rfile.read(int(self.headers["Content-Length"])))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.mark.worker
def test_retry_lost_with_a_killed_worker_is_delivered_after_the_sweep(start_worker, settings):
    """Embedded broker: the first attempt fails, its retry waits in the worker's memory; the worker is
    SIGKILLed. A new worker delivers it once beat's resume_webhooks finds it due."""
    settings.WEBHOOK_ALLOW_PRIVATE = True
    env = {"WEBHOOK_ALLOW_PRIVATE": "true"}
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # nothing listens yet: the first attempt is refused
    user, key = make_user("crash-hooks@example.com", credits=100, plan="paid")
    order_id = _finished_order(client_for(key), f"http://127.0.0.1:{port}/hook")
    first = start_worker(**env)
    wait_for(order_id, lambda o: o.webhook_attempts == 1 and o.webhook_next_at is not None, 60, "first attempt")
    time.sleep(1)  # the retry (countdown 10 s) is now held by the worker
    first.kill()
    server = http.server.HTTPServer(("127.0.0.1", port), _Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        start_worker(**env)
        # The retry was due long ago as far as the sweep is concerned (instead of waiting minutes).
        Order.objects.filter(pk=order_id).update(webhook_next_at=timezone.now() - timedelta(minutes=5))
        assert resume_webhooks.apply().get() == 1
        order = wait_for(order_id, lambda o: o.webhook_delivered_at is not None, 60, "delivery after the crash")
        assert order.webhook_attempts == 2 and len(_Receiver.received) == 1
    finally:
        server.shutdown()
        server.server_close()
