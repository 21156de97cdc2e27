"""In a real browser: a logged-in user buys a pack, is sent to the (fake) Stripe Checkout, and the
billing page, the success page and the API all show the credits once the signed webhook has arrived."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import requests
from django.test import Client

from accounts.models import User
from accounts.services import apikey_create
from billing.models import Purchase
from billing.services import credits_grant

from .stripe_fake import event_payload, signature

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
A11Y_SCRIPT = ROOT / "tests" / "web" / "a11y.js"  # the web tests' accessibility check, where present

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def browser(chromium):
    return chromium


def logged_in_page(browser, live_server, user):
    """A browser page carrying the session of ``user`` (logged in through Django's session machinery)."""
    client = Client()
    client.force_login(user)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(20_000)
    cookie = client.cookies["sessionid"]
    context.add_cookies([{"name": "sessionid", "value": cookie.value, "url": live_server.url}])
    return context.new_page()


def check_a11y(page) -> None:
    if A11Y_SCRIPT.exists():
        problems = page.evaluate(A11Y_SCRIPT.read_text())
        assert problems == [], "accessibility problems:\n" + "\n".join(problems)


def test_buy_a_pack_in_the_browser(browser, live_server, stripe_on):
    user = User.objects.create_user(email="shopper@example.com")
    credits_grant(user, 10, reason="signup")
    page = logged_in_page(browser, live_server, user)

    page.goto(f"{live_server.url}/billing/")
    assert page.locator("#plan").inner_text().strip() == "Free"
    page.click("button[data-pack='pro']")

    # Sent to Stripe's (here: the fake's) hosted Checkout page for exactly this purchase.
    page.wait_for_url(f"{stripe_on.url}/pay/*")
    purchase = Purchase.objects.get(user=user)
    assert page.url == f"{stripe_on.url}/pay/{purchase.stripe_session_id}"
    assert page.locator("#amount").inner_text() == "39.00 USD"

    # The customer pays and comes back before the webhook arrived: the page waits, granting nothing.
    session = stripe_on.sessions[purchase.stripe_session_id]
    stripe_on.pay(session["id"])
    page.click("#back")
    page.wait_for_url(f"{live_server.url}/billing/success?session_id={session['id']}")
    assert page.locator("#purchase-state").get_attribute("data-status") == "pending"
    assert page.locator("#balance").inner_text() == "10"

    # Stripe's signed webhook arrives; the success page refreshes itself and shows the credits.
    payload = event_payload("checkout.session.completed", session)
    response = requests.post(
        f"{live_server.url}/billing/webhook/stripe",
        data=payload.encode(),
        headers={"Stripe-Signature": signature(payload), "Content-Type": "application/json"},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    page.wait_for_selector("#purchase-state[data-status='paid']", timeout=15_000)
    assert page.locator("#balance").inner_text() == "510"

    page.goto(f"{live_server.url}/billing/")
    assert page.locator("#balance").inner_text().split()[0] == "510"
    assert page.locator("#plan").inner_text().strip() == "Paid"
    assert "Paid" in page.locator("#purchases").inner_text()
    check_a11y(page)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "billing-after-purchase.png"), full_page=True)

    # The API agrees.
    _, raw_key = apikey_create(user=user, name="browser-test")
    account = requests.get(
        f"{live_server.url}/api/v1/account", headers={"Authorization": f"Bearer {raw_key}"}, timeout=10
    ).json()["account"]
    assert (account["credits_remaining"], account["plan"]) == (510, "paid")


def test_billing_page_with_billing_off(browser, live_server, settings):
    settings.STRIPE_SECRET_KEY = ""
    settings.STRIPE_WEBHOOK_SECRET = ""
    user = User.objects.create_user(email="nobilling@example.com")
    page = logged_in_page(browser, live_server, user)
    page.goto(f"{live_server.url}/billing/")
    assert "Billing is off" in page.locator("#billing-off").inner_text()
    assert page.locator("button[disabled]").count() == len(settings.CREDIT_PACKS)
    check_a11y(page)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "billing-off.png"), full_page=True)
    assert os.path.getsize(SCREENSHOTS / "billing-off.png") > 0
