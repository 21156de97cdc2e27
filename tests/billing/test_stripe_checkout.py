"""Checkout against a local fake of the Stripe API, with the real `stripe` library doing the talking."""

from __future__ import annotations

import pytest

from accounts.models import User
from billing.models import Purchase, StripeEvent
from billing.services import credits_balance

from .stripe_fake import SECRET_KEY, event_payload, post_webhook

pytestmark = pytest.mark.django_db


@pytest.fixture
def user(client):
    user = User.objects.create_user(email="buyer@example.com", password="pw-123456")
    client.force_login(user)
    return user


def test_checkout_sends_amount_currency_metadata_and_idempotency_key(client, user, stripe_on):
    response = client.post("/billing/buy/pro")

    purchase = Purchase.objects.get(user=user)
    [call] = stripe_on.calls("POST", "/v1/checkout/sessions")
    session = stripe_on.sessions[purchase.stripe_session_id]
    assert response.status_code == 302
    assert response["Location"] == session["url"] == f"{stripe_on.url}/pay/{purchase.stripe_session_id}"
    assert call.headers["authorization"] == f"Bearer {SECRET_KEY}"
    assert call.headers["idempotency-key"] == f"ftmv-checkout-{purchase.public_id}"
    form = call.form
    assert form["mode"] == "payment"
    assert form["line_items[0][quantity]"] == "1"
    assert form["line_items[0][price_data][unit_amount]"] == "3900"
    assert form["line_items[0][price_data][currency]"] == "usd"
    assert "500 credits" in form["line_items[0][price_data][product_data][name]"]
    assert form["client_reference_id"] == str(user.pk)
    assert form["customer_email"] == "buyer@example.com"
    expected_metadata = {
        "purchase_id": str(purchase.public_id),
        "user_id": str(user.pk),
        "pack": "pro",
        "credits": "500",
    }
    for key, value in expected_metadata.items():
        assert form[f"metadata[{key}]"] == value
        assert form[f"payment_intent_data[metadata][{key}]"] == value
    assert form["success_url"] == "http://testserver/billing/success?session_id={CHECKOUT_SESSION_ID}"
    assert form["cancel_url"] == f"http://testserver/billing/cancel?purchase={purchase.public_id}"
    # The purchase waits for the webhook: nothing is granted by starting a checkout.
    assert (purchase.status, purchase.credits, purchase.amount_cents) == ("pending", 500, 3900)
    assert purchase.currency == "usd"
    assert credits_balance(user) == 0


def test_currency_and_packs_come_from_settings(client, user, stripe_on, settings):
    settings.STRIPE_CURRENCY = "eur"
    settings.CREDIT_PACKS = [{"code": "tiny", "name": "Tiny", "credits": 7, "price_cents": 70}]
    assert client.post("/billing/buy/tiny").status_code == 302
    [call] = stripe_on.calls("POST", "/v1/checkout/sessions")
    assert call.form["line_items[0][price_data][currency]"] == "eur"
    assert call.form["line_items[0][price_data][unit_amount]"] == "70"
    assert client.post("/billing/buy/pro").status_code == 302  # no longer on sale
    assert Purchase.objects.count() == 1


def test_a_retried_request_reuses_the_idempotency_key(client, user, stripe_on):
    stripe_on.fail_next = 500  # Stripe hiccups once; the library retries with the same key
    response = client.post("/billing/buy/starter")

    calls = stripe_on.calls("POST", "/v1/checkout/sessions")
    assert len(calls) == 2
    assert calls[0].headers["idempotency-key"] == calls[1].headers["idempotency-key"]
    assert len(stripe_on.sessions) == 1
    assert response.status_code == 302
    assert Purchase.objects.get().status == "pending"


def test_stripe_refusing_the_session_fails_the_purchase_and_tells_the_user(client, user, stripe_on):
    stripe_on.fail_next = 400
    response = client.post("/billing/buy/starter", follow=True)

    assert response.redirect_chain[-1][0] == "/billing/"
    assert "could not be reached" in response.content.decode()
    purchase = Purchase.objects.get()
    assert purchase.status == "failed" and purchase.stripe_session_id is None
    assert credits_balance(user) == 0


def test_checkout_needs_login_and_post(client, stripe_on):
    assert client.post("/billing/buy/pro").status_code == 302  # to the login page
    assert not stripe_on.requests
    user = User.objects.create_user(email="x@example.com")
    client.force_login(user)
    assert client.get("/billing/buy/pro").status_code == 405
    assert client.post("/billing/buy/nope", follow=True).status_code == 200
    assert not stripe_on.requests and not Purchase.objects.exists()


def test_success_page_shows_state_without_granting(client, user, stripe_on):
    client.post("/billing/buy/pro")
    purchase = Purchase.objects.get()

    page = client.get(f"/billing/success?session_id={purchase.stripe_session_id}")
    assert page.status_code == 200
    assert 'data-status="pending"' in page.content.decode()
    assert credits_balance(user) == 0
    cancel = client.get(f"/billing/cancel?purchase={purchase.public_id}")
    assert "Checkout was canceled" in cancel.content.decode()
    # Someone else's session id or purchase: not found, nothing leaks.
    other = User.objects.create_user(email="other@example.com")
    client.force_login(other)
    assert client.get(f"/billing/success?session_id={purchase.stripe_session_id}").status_code == 404
    assert client.get(f"/billing/cancel?purchase={purchase.public_id}").status_code == 404
    assert client.get("/billing/cancel?purchase=not-a-uuid").status_code == 404


def test_receipt_link_fetches_the_charge_receipt_once(client, user, stripe_on):
    client.post("/billing/buy/starter")
    purchase = Purchase.objects.get()
    session = stripe_on.sessions[purchase.stripe_session_id]
    stripe_on.pay(session["id"])
    assert post_webhook(client, event_payload("checkout.session.completed", session)).status_code == 200

    first = client.get(f"/billing/purchases/{purchase.public_id}/receipt")
    second = client.get(f"/billing/purchases/{purchase.public_id}/receipt")
    expected = f"{stripe_on.url}/receipts/{session['payment_intent']}"
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"] == expected
    [retrieve] = stripe_on.calls("GET", f"/v1/payment_intents/{session['payment_intent']}")
    assert retrieve.query == {"expand[0]": "latest_charge"}
    assert "Receipt</a>" in client.get("/billing/").content.decode()


def test_billing_off_without_keys(client, settings, fake_stripe):
    settings.STRIPE_SECRET_KEY = ""
    settings.STRIPE_WEBHOOK_SECRET = ""
    settings.STRIPE_API_BASE = fake_stripe.url
    user = User.objects.create_user(email="free@example.com")
    client.force_login(user)

    page = client.get("/billing/").content.decode()
    assert "Billing is off" in page
    assert "disabled" in page and "/billing/buy/" not in page
    response = client.post("/billing/buy/pro", follow=True)
    assert "Billing is not enabled" in response.content.decode()
    # Even a correctly signed-looking event is refused: there is no secret to check it against.
    payload = event_payload("checkout.session.completed", {"id": "cs_x"})
    assert post_webhook(client, payload, sig="t=1,v1=00").status_code == 400
    assert not fake_stripe.requests
    assert not Purchase.objects.exists() and not StripeEvent.objects.exists()
