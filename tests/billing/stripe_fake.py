"""A small local stand-in for the Stripe API, for the real `stripe` library to talk to.

It speaks just enough of the API for billing: creating a Checkout Session, retrieving a
PaymentIntent with its latest charge (receipt links), and a fake hosted Checkout page
(`/pay/<session id>`) for the browser test. Every request is recorded, with its headers
and its form-decoded body, so tests can check exactly what was sent. Idempotency keys
behave as Stripe documents them: the same key returns the first response again.
"""

from __future__ import annotations

import html
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

import pytest


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    form: dict[str, str]


@dataclass
class FakeStripe:
    server: ThreadingHTTPServer
    requests: list[RecordedRequest] = field(default_factory=list)
    sessions: dict[str, dict] = field(default_factory=dict)
    payment_intents: dict[str, dict] = field(default_factory=dict)
    idempotent: dict[str, tuple[int, dict]] = field(default_factory=dict)
    fail_next: int | None = None  # an HTTP status the next API call answers with
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def calls(self, method: str, path: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.method == method and r.path == path]

    def pay(self, session_id: str) -> dict:
        """What Stripe does when the customer pays: the session completes with a PaymentIntent and a charge."""
        session = self.sessions[session_id]
        pi_id = "pi_" + secrets.token_hex(8)
        charge = {
            "id": "ch_" + secrets.token_hex(8),
            "object": "charge",
            "amount": session["amount_total"],
            "amount_refunded": 0,
            "currency": session["currency"],
            "payment_intent": pi_id,
            "paid": True,
            "refunded": False,
            "metadata": session["metadata"],
            "receipt_url": f"{self.url}/receipts/{pi_id}",
        }
        self.payment_intents[pi_id] = {
            "id": pi_id,
            "object": "payment_intent",
            "amount": session["amount_total"],
            "currency": session["currency"],
            "status": "succeeded",
            "latest_charge": charge,
            "metadata": session["metadata"],
        }
        session.update(status="complete", payment_status="paid", payment_intent=pi_id)
        return charge

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _nested_get(form: dict[str, str], prefix: str) -> dict[str, str]:
    """`metadata[a]=1&metadata[b]=2` -> {"a": "1", "b": "2"}."""
    return {k[len(prefix) + 1 : -1]: v for k, v in form.items() if k.startswith(prefix + "[") and k.endswith("]")}


def _error(status: int, message: str) -> tuple[int, dict]:
    return status, {"error": {"type": "invalid_request_error" if status < 500 else "api_error", "message": message}}


def _make_handler(fake: FakeStripe):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:  # keep test output quiet
            pass

        def _record(self) -> RecordedRequest:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode() if length else ""
            request = RecordedRequest(
                method=self.command,
                path=parts.path,
                query=dict(parse_qsl(parts.query)),
                headers={k.lower(): v for k, v in self.headers.items()},
                form=dict(parse_qsl(body, keep_blank_values=True)),
            )
            with fake.lock:
                fake.requests.append(request)
            return request

        def _send_json(self, status: int, payload: dict) -> None:
            body = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Request-Id", "req_" + secrets.token_hex(6))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            request = self._record()
            if not request.headers.get("authorization", "").startswith("Bearer sk_"):
                self._send_json(*_error(401, "Invalid API Key provided"))
                return
            key = request.headers.get("idempotency-key")
            with fake.lock:
                if key and key in fake.idempotent:
                    self._send_json(*fake.idempotent[key])
                    return
                if fake.fail_next:
                    status, fake.fail_next = fake.fail_next, None
                    self._send_json(*_error(status, "simulated failure"))
                    return
                if request.path == "/v1/checkout/sessions":
                    result = self._create_session(request.form)
                else:
                    result = _error(404, f"Unrecognized request URL (POST: {request.path})")
                if key:
                    fake.idempotent[key] = result
            self._send_json(*result)

        def _create_session(self, form: dict[str, str]) -> tuple[int, dict]:
            for required in ("mode", "success_url", "cancel_url", "line_items[0][quantity]"):
                if required not in form:
                    return _error(400, f"Missing required param: {required}.")
            session_id = "cs_test_" + secrets.token_hex(12)
            quantity = int(form["line_items[0][quantity]"])
            unit_amount = int(form["line_items[0][price_data][unit_amount]"])
            session = {
                "id": session_id,
                "object": "checkout.session",
                "mode": form["mode"],
                "status": "open",
                "payment_status": "unpaid",
                "amount_total": unit_amount * quantity,
                "currency": form["line_items[0][price_data][currency]"],
                "client_reference_id": form.get("client_reference_id"),
                "customer_email": form.get("customer_email"),
                "metadata": _nested_get(form, "metadata"),
                "payment_intent": None,
                # Stripe fills in the session id where the success URL asks for it.
                "success_url": form["success_url"].replace("{CHECKOUT_SESSION_ID}", session_id),
                "cancel_url": form["cancel_url"],
                "url": f"{fake.url}/pay/{session_id}",
                "created": int(time.time()),
                "livemode": False,
            }
            fake.sessions[session_id] = session
            return 200, session

        def do_GET(self) -> None:
            request = self._record()
            if request.path.startswith("/pay/"):
                self._checkout_page(request.path.removeprefix("/pay/"))
                return
            if request.path.startswith("/receipts/"):
                self._send_html(200, "<h1>Receipt</h1>")
                return
            if not request.headers.get("authorization", "").startswith("Bearer sk_"):
                self._send_json(*_error(401, "Invalid API Key provided"))
                return
            if request.path.startswith("/v1/payment_intents/"):
                pi = fake.payment_intents.get(request.path.rsplit("/", 1)[1])
                if pi is None:
                    self._send_json(*_error(404, "No such payment_intent"))
                    return
                expanded = "latest_charge" in request.query.values()
                self._send_json(200, pi if expanded else {**pi, "latest_charge": pi["latest_charge"]["id"]})
                return
            self._send_json(*_error(404, f"Unrecognized request URL (GET: {request.path})"))

        def _checkout_page(self, session_id: str) -> None:
            session = fake.sessions.get(session_id)
            if session is None:
                self._send_html(404, "<h1>No such session</h1>")
                return
            amount = f"{session['amount_total'] / 100:.2f} {session['currency'].upper()}"
            self._send_html(
                200,
                f"<title>Fake Checkout</title><h1>Fake Stripe Checkout</h1><p id='amount'>{html.escape(amount)}</p>"
                f"<a id='back' href='{html.escape(session['success_url'])}'>Back to the shop</a>",
            )

        def _send_html(self, status: int, text: str) -> None:
            body = text.encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


def start_fake_stripe() -> FakeStripe:
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    fake = FakeStripe(server=server)
    server.RequestHandlerClass = _make_handler(fake)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="fake-stripe", daemon=True).start()
    return fake


# --- pytest fixtures and helpers (import the fixtures into a test module to use them) ---------------

SECRET_KEY = "sk_test_fake_0123456789"
WEBHOOK_SECRET = "whsec_test_fake_0123456789"


@pytest.fixture
def fake_stripe():
    fake = start_fake_stripe()
    yield fake
    fake.close()


@pytest.fixture
def stripe_on(settings, fake_stripe) -> FakeStripe:
    """Billing configured, talking to the fake."""
    settings.STRIPE_SECRET_KEY = SECRET_KEY
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.STRIPE_API_BASE = fake_stripe.url
    settings.STRIPE_CURRENCY = "usd"
    return fake_stripe


def event_payload(event_type: str, obj: dict, event_id: str | None = None) -> str:
    return json.dumps(
        {
            "id": event_id or "evt_" + secrets.token_hex(10),
            "object": "event",
            "api_version": "2026-10-28.endive",
            "created": int(time.time()),
            "livemode": False,
            "type": event_type,
            "data": {"object": obj},
        }
    )


def signature(payload: str, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    import stripe

    return stripe.WebhookSignature.generate_signature_header(payload, secret, timestamp=timestamp)


def post_webhook(client, payload: str, sig: str | None = "sign", url: str = "/billing/webhook/stripe"):
    """POST ``payload`` to the webhook, signed with the test secret unless ``sig`` is given (None: no header)."""
    headers = {}
    if sig == "sign":
        sig = signature(payload)
    if sig is not None:
        headers["Stripe-Signature"] = sig
    return client.post(url, data=payload, content_type="application/json", headers=headers)
