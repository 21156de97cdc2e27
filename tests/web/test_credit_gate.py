"""The forms show the cost and the balance before anything is uploaded, disable what the
balance cannot pay for with a way forward, keep the chosen files when the form comes back with an error;
the sign-up grant lets a new user try each style once."""

from __future__ import annotations

import pytest
from allauth.account.models import EmailAddress
from django.conf import settings as django_settings
from django.test import Client
from django.urls import reverse

from accounts.models import User
from billing.services import credits_grant

from ..conftest import wait_for_js
from .images import person_jpeg, tshirt_jpeg

PASSWORD = "Sturdy-Passw0rd-for-tests"


def user_with(email: str, credits: int) -> User:
    user = User.objects.create_user(email, PASSWORD)
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    if credits:
        credits_grant(user, credits, reason="test")
    return user


def test_signup_grant_tries_each_style_once():
    cheapest_catalog = min(django_settings.CREDIT_COST_CATALOG.values())
    assert django_settings.CREDIT_COST_TRYON + cheapest_catalog <= django_settings.SIGNUP_FREE_CREDITS


def get(user: User, name: str):
    client = Client()
    client.force_login(user)
    return client.get(reverse(name)).content.decode()


@pytest.mark.django_db
def test_forms_gate_on_the_balance_before_upload(settings):
    settings.STRIPE_SECRET_KEY = settings.STRIPE_WEBHOOK_SECRET = ""  # billing off, the default
    ten = user_with("ten@example.com", 10)
    catalog = get(ten, "catalog_new")
    assert "data-credit-gate" in catalog and "You have 10 credits; it costs at least 24." in catalog
    assert "grant you credits" in catalog  # billing off: the way forward is the administrator
    assert 'type="submit" disabled' in catalog
    tryon = get(ten, "tryon_new")  # a try-on costs 1: allowed, with cost and balance shown
    assert "data-credit-gate" not in tryon and 'type="submit" disabled' not in tryon
    assert "you have <strong>10</strong>" in tryon

    settings.STRIPE_SECRET_KEY, settings.STRIPE_WEBHOOK_SECRET = "sk_test_x", "whsec_x"
    broke = user_with("broke@example.com", 0)
    tryon = get(broke, "tryon_new")
    assert "data-credit-gate" in tryon and reverse("billing:page") in tryon and "Buy credits" in tryon
    assert 'type="submit" disabled' in tryon


@pytest.mark.browser
def test_forms_in_the_browser_gate_and_keep_files(live_server, pages, tmp_path):
    """Screenshots of both forms for a user with too few credits; a form refused with an error keeps the
    chosen files."""
    user = user_with("few@example.com", 10)
    page = pages.new_page()
    page.goto(live_server.url + "/accounts/login/")
    page.fill("#id_login", user.email)
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url("**/dashboard/")

    page.goto(live_server.url + "/catalog/new/")
    assert page.is_disabled("main button[type=submit]")
    assert page.is_disabled("input[name=quantity][value='12']") and page.is_disabled("input[name=quantity][value='6']")
    pages.capture(page, "30-catalog-form-too-few-credits")

    # The try-on form is affordable; a garment photo too small comes back with an error, files kept.
    person, small = tmp_path / "person.jpg", tmp_path / "tiny.jpg"
    person.write_bytes(person_jpeg())
    from PIL import Image

    Image.new("RGB", (40, 40), (200, 30, 40)).save(small, "JPEG")
    page.goto(live_server.url + "/tryon/new/")
    page.set_input_files("#id_person_image", str(person))
    page.set_input_files("#id_clothing_image", str(small))
    page.click("main button[type=submit]")
    page.wait_for_selector(".field-errors")
    assert "too small" in page.inner_text(".field-errors")
    wait_for_js(page, "document.querySelector('#id_person_image').files.length === 1")
    assert page.evaluate("document.querySelector('#id_clothing_image').files[0].name") == "tiny.jpg"
    # Replace the bad photo only, and send again: the kept person photo goes with it.
    good = tmp_path / "shirt.jpg"
    good.write_bytes(tshirt_jpeg())
    page.set_input_files("#id_clothing_image", str(good))
    page.click("main button[type=submit]")
    page.wait_for_url("**/orders/*/")

    # Now 9 credits: no catalog, and no credits at all for a second user's try-on.
    broke = user_with("zero@example.com", 0)
    other = pages.new_page()
    other.goto(live_server.url + "/accounts/login/")
    other.fill("#id_login", broke.email)
    other.fill("#id_password", PASSWORD)
    other.click("main button[type=submit]")
    other.wait_for_url("**/dashboard/")
    other.goto(live_server.url + "/tryon/new/")
    assert other.is_disabled("main button[type=submit]")
    pages.capture(other, "31-tryon-form-no-credits")
