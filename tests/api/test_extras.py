"""Beyond the seed page: Idempotency-Key, multipart uploads, webhooks, OpenAPI, media safety, trailing slashes."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import unittest.mock
from http.server import BaseHTTPRequestHandler, HTTPServer

from billing.services import credits_balance
from tryon.lifecycle import order_fail, order_start
from tryon.models import Order
from tryon.presenters import webhook_secret
from tryon.webhooks import deliver_webhook

from .conftest import image_bytes


def test_idempotency_key_replays_and_charges_once(api, owner, tryon_body):
    user, _ = owner
    first = api.post("/api/v1/generate", tryon_body, format="json", HTTP_IDEMPOTENCY_KEY="abc-123")
    again = api.post("/api/v1/generate", tryon_body, format="json", HTTP_IDEMPOTENCY_KEY="abc-123")
    assert first.status_code == again.status_code == 202
    assert first.json()["order_id"] == again.json()["order_id"]
    assert again["Idempotent-Replayed"] == "true"
    assert Order.objects.count() == 1 and credits_balance(user) == 99
    other = api.post(
        "/api/v1/generate", {**tryon_body, "options": {"format": "png"}}, format="json", HTTP_IDEMPOTENCY_KEY="abc-123"
    )
    assert other.status_code == 422 and other.json()["error"]["code"] == "INVALID_REQUEST"


def _multipart_body() -> dict:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return {
        "person_image": SimpleUploadedFile("p.jpg", image_bytes(320, 480, seed=1), "image/jpeg"),
        "clothing_image": SimpleUploadedFile("c.png", image_bytes(300, 300, fmt="PNG"), "image/png"),
        "options": json.dumps({"quality": "standard", "format": "png"}),
    }


def test_identical_multipart_retry_is_a_replay(api, owner):
    """A retried multipart request has a new boundary but the same content: the same request."""
    first = api.post("/api/v1/generate", _multipart_body(), format="multipart", HTTP_IDEMPOTENCY_KEY="mp-1")
    again = api.post("/api/v1/generate", _multipart_body(), format="multipart", HTTP_IDEMPOTENCY_KEY="mp-1")
    assert first.status_code == again.status_code == 202, again.content
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    changed = _multipart_body()
    changed["options"] = json.dumps({"quality": "high", "format": "png"})
    other = api.post("/api/v1/generate", changed, format="multipart", HTTP_IDEMPOTENCY_KEY="mp-1")
    assert other.status_code == 422
    assert Order.objects.count() == 1


def test_replays_spend_no_quota_and_answer_the_first_response(clean_cache, tryon_body):
    from tests.api.conftest import client_for, make_user
    from tryon.lifecycle import order_fail, order_start

    user, key = make_user("replayer@example.com", credits=5, plan="free")  # 10 generate calls an hour
    api = client_for(key)
    first = api.post("/api/v1/generate", tryon_body, format="json", HTTP_IDEMPOTENCY_KEY="same")
    assert first.status_code == 202
    order_start(first.json()["order_id"])
    order_fail(first.json()["order_id"], code="NO_PERSON", message="No person found.")
    for _ in range(12):  # past the hourly limit if replays were counted
        again = api.post("/api/v1/generate", tryon_body, format="json", HTTP_IDEMPOTENCY_KEY="same")
        assert again.status_code == 202, again.content
        # The first response (pending, 1 credit), not the order's state now (failed, refunded).
        assert again.json() == first.json()
    assert int(again["X-RateLimit-Remaining"]) == 9


def test_multipart_upload(api, owner):
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = api.post(
        "/api/v1/generate",
        {
            "person_image": SimpleUploadedFile("p.jpg", image_bytes(320, 480, seed=1), "image/jpeg"),
            "clothing_image": SimpleUploadedFile("c.png", image_bytes(300, 300, fmt="PNG"), "image/png"),
            "options": json.dumps({"quality": "standard", "format": "png"}),
        },
        format="multipart",
    )
    assert response.status_code == 202, response.content
    order = Order.objects.get(pk=response.json()["order_id"])
    assert order.options == {"quality": "standard", "format": "png", "category": "auto"}
    assert {f.role for f in order.files.all()} == {"person", "clothing"}


def test_trailing_slash_accepted(api):
    assert api.get("/api/v1/account/").status_code == 200


class _Receiver(BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Receiver.received.append((dict(self.headers), body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_webhook_signed_delivery(api, owner, tryon_body, settings):
    settings.WEBHOOK_ALLOW_PRIVATE = True
    server = HTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/hook"
        order_id = api.post("/api/v1/generate", {**tryon_body, "webhook_url": url}, format="json").json()["order_id"]
        order_start(order_id)
        order_fail(order_id, code="NO_PERSON", message="No person found.")
        assert deliver_webhook.apply(args=[order_id]).get() is True
    finally:
        server.shutdown()
    headers, body = _Receiver.received[-1]
    payload = json.loads(body)
    assert payload["order"]["id"] == order_id and payload["order"]["status"] == "failed"
    t, v1 = (part.split("=", 1)[1] for part in headers["X-Ftmv-Signature"].split(","))
    expected = hmac.new(webhook_secret(owner[0]).encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(v1, expected)
    assert Order.objects.get(pk=order_id).webhook_delivered_at is not None
    # Delivered once: a repeated task sends nothing.
    assert deliver_webhook.apply(args=[order_id]).get() is False


def test_webhook_private_target_refused_in_production(api, tryon_body, settings):
    settings.WEBHOOK_ALLOW_PRIVATE = False
    refused = api.post("/api/v1/generate", {**tryon_body, "webhook_url": "http://127.0.0.1:9/x"}, format="json")
    assert refused.status_code == 400  # a literal private address: refused when the order is created
    # A name that resolves to a private address is refused at delivery.
    order_id = api.post(
        "/api/v1/generate", {**tryon_body, "webhook_url": "http://127.0.0.1.nip.invalid:9/x"}, format="json"
    ).json()["order_id"]
    order_start(order_id)
    order_fail(order_id, code="X", message="y")
    loopback = [(2, 1, 6, "", ("127.0.0.1", 9))]
    with unittest.mock.patch("socket.getaddrinfo", return_value=loopback):
        assert deliver_webhook.apply(args=[order_id]).get() is False
    assert Order.objects.get(pk=order_id).webhook_delivered_at is None


def test_openapi_schema_and_docs(client, db):
    response = client.get("/api/v1/schema", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = json.loads(response.content)
    assert schema["openapi"].startswith("3.")
    assert {"/api/v1/generate", "/api/v1/orders/{order_id}", "/api/v1/account", "/api/v1/orders"} <= set(
        schema["paths"]
    )
    assert client.get("/api/docs").status_code == 200


def test_media_only_serves_images(client, db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    (tmp_path / "a.jpg").write_bytes(image_bytes(100, 100))
    (tmp_path / "evil.html").write_text("<script>alert(1)</script>")
    ok = client.get("/media/a.jpg")
    assert ok.status_code == 200 and ok["Content-Type"] == "image/jpeg" and ok["X-Content-Type-Options"] == "nosniff"
    assert client.get("/media/evil.html").status_code == 404
    assert client.get("/media/../../etc/passwd.jpg").status_code == 404
    assert client.get("/media/missing.jpg").status_code == 404
